"""The exports service: create_app(settings) and the `crm-exports` command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from crm_exports import bootstrap, subscriptions
from crm_exports.api import exports
from crm_exports.settings import Settings
from crm_platform.http import base_app
from crm_platform.identity.pg_directory import PgIdentityDirectory
from crm_platform.identity.ratelimit import RateLimiter
from crm_platform.lifecycle import Runtime, start_runtime
from crm_platform.runner import run_service

SERVICE = "exports"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def create_app(settings: Settings) -> FastAPI:
    runtime: Runtime | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal runtime
        runtime = await start_runtime(SERVICE, settings, MIGRATIONS)
        app.state.runtime = runtime
        container = bootstrap.build(settings, runtime.pool, PgIdentityDirectory(runtime.pool),
                                    RateLimiter(runtime.redis, settings.rate_limit_per_10s))
        app.state.container = container
        if settings.run_consumers:
            subscriptions.register(runtime.broker, runtime.pool, settings.consumer_group_prefix)
            container.runner.start()
        await runtime.start_broker()
        yield
        await container.runner.stop()
        await runtime.stop()
        await container.http.aclose()

    app = base_app(service=SERVICE, title="CRM exports", lifespan=lifespan,
                   checks=lambda: runtime.checks() if runtime else {})
    app.include_router(exports.router)
    return app


def run() -> None:
    run_service(service=SERVICE, settings_factory=Settings, app_factory=create_app,
                versions_dir=MIGRATIONS)
