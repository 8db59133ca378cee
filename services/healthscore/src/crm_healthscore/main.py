"""The health score service: create_app(settings) and the `crm-healthscore` command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI

from crm_healthscore import subscriptions
from crm_healthscore.api import profiles, scores
from crm_healthscore.bootstrap import Container
from crm_healthscore.handlers.clock import run_clock
from crm_healthscore.settings import Settings
from crm_platform.http import base_app
from crm_platform.identity.pg_directory import PgIdentityDirectory
from crm_platform.identity.ratelimit import RateLimiter
from crm_platform.lifecycle import Runtime, start_runtime
from crm_platform.runner import run_service

SERVICE = "healthscore"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def create_app(settings: Settings, container_overrides: dict | None = None) -> FastAPI:
    """`container_overrides` replaces parts of the container (a test's clock)."""
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
            operator_key=settings.operator_key.get_secret_value()
            if settings.operator_key else None,
            alert_days=settings.alert_days, **(container_overrides or {}))
        app.state.container = container
        if settings.run_consumers:
            # The clock is read through the container, so an override reaches consumers.
            subscriptions.register(runtime.broker, runtime.pool, lambda: container.clock(),
                                   settings.consumer_group_prefix, settings.alert_days)
        await runtime.start_broker()
        clock_task = None
        if settings.run_clock:
            clock_task = asyncio.create_task(run_clock(
                runtime.pool, lambda: container.clock(), settings.clock_interval_seconds,
                settings.alert_days), name="healthscore-clock")
        yield
        if clock_task:
            clock_task.cancel()
            with suppress(asyncio.CancelledError):
                await clock_task
        await runtime.stop()

    app = base_app(service=SERVICE, title="CRM health scores", lifespan=lifespan,
                   checks=lambda: runtime.checks() if runtime else {})
    app.include_router(profiles.router)
    app.include_router(scores.router)
    return app


def run() -> None:
    run_service(service=SERVICE, settings_factory=Settings, app_factory=create_app,
                versions_dir=MIGRATIONS)
