"""The workspace service: create_app(settings) and the `crm-workspace` command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from crm_platform.http import base_app
from crm_platform.identity.pg_directory import PgIdentityDirectory
from crm_platform.identity.ratelimit import RateLimiter
from crm_platform.lifecycle import Runtime, start_runtime
from crm_platform.runner import run_service
from crm_workspace import subscriptions
from crm_workspace.adapters.crm_api import CrmApi
from crm_workspace.api import (
    actions,
    boards,
    dashboards,
    errors,
    feed,
    preview,
    schedule,
    settings_api,
    summary,
    views,
)
from crm_workspace.bootstrap import Container
from crm_workspace.handlers.jobs import interrupt_orphaned_jobs
from crm_workspace.settings import Settings

SERVICE = "workspace"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def create_app(settings: Settings) -> FastAPI:
    runtime: Runtime | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal runtime
        runtime = await start_runtime(SERVICE, settings, MIGRATIONS)
        app.state.runtime = runtime
        container = Container(
            pool=runtime.pool, directory=PgIdentityDirectory(runtime.pool),
            limiter=RateLimiter(runtime.redis, settings.rate_limit_per_10s),
            token_secret=settings.token_secret.get_secret_value(),
            api=CrmApi(settings.records_url, settings.search_url,
                       settings.upstream_timeout_seconds))
        app.state.container = container
        await interrupt_orphaned_jobs(runtime.pool)
        if settings.run_consumers:
            subscriptions.register(runtime.broker, runtime.pool, settings.consumer_group_prefix)
        await runtime.start_broker()
        yield
        for job in list(container.jobs):
            job.cancel()
        await container.api.close()
        await runtime.stop()

    app = base_app(service=SERVICE, title="CRM customer success workspace", lifespan=lifespan,
                   checks=lambda: runtime.checks() if runtime else {})
    errors.install(app)
    for module in (settings_api, views, actions, summary, schedule, boards, preview,
                   dashboards, feed):
        app.include_router(module.router)
    return app


def run() -> None:
    run_service(service=SERVICE, settings_factory=Settings, app_factory=create_app,
                versions_dir=MIGRATIONS)
