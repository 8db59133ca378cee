"""The search service: create_app(settings) and the `crm-search` command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from crm_platform.broker import dead_letter_sink
from crm_platform.http import base_app
from crm_platform.identity.pg_directory import PgIdentityDirectory
from crm_platform.identity.ratelimit import RateLimiter
from crm_platform.lifecycle import Runtime, start_runtime
from crm_platform.runner import run_service
from crm_search import subscriptions
from crm_search.adapters.rebuild_store import mark_interrupted
from crm_search.api import explain, export_scan, lag, rebuilds, search
from crm_search.bootstrap import Container
from crm_search.handlers.rebuild import Rebuilds
from crm_search.settings import Settings

SERVICE = "search"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def create_app(settings: Settings) -> FastAPI:
    runtime: Runtime | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal runtime
        runtime = await start_runtime(SERVICE, settings, MIGRATIONS)
        app.state.runtime = runtime
        index_group = f"{settings.consumer_group_prefix}{subscriptions.INDEX_GROUP}"
        app.state.container = container = Container(
            pool=runtime.pool, directory=PgIdentityDirectory(runtime.pool),
            limiter=RateLimiter(runtime.redis, settings.rate_limit_per_10s),
            token_secret=settings.token_secret.get_secret_value(),
            consistency_wait_seconds=settings.consistency_wait_seconds,
            property_types_cache_seconds=settings.property_types_cache_seconds,
            index_group=index_group,
            operator_key=settings.operator_key.get_secret_value()
            if settings.operator_key else None)
        app.state.rebuilds = None
        if settings.run_consumers:
            subscriptions.register(runtime.broker, runtime.pool, container.recent_lag,
                                   settings.consumer_group_prefix)
            async with runtime.pool.acquire() as conn:
                await mark_interrupted(conn)
            app.state.rebuilds = Rebuilds(runtime.pool, settings.kafka_bootstrap_servers,
                                          settings.consumer_group_prefix,
                                          dead_letter_sink(runtime.broker))
        await runtime.start_broker()
        yield
        if app.state.rebuilds:
            await app.state.rebuilds.stop()
        await runtime.stop()

    app = base_app(service=SERVICE, title="CRM search", lifespan=lifespan,
                   checks=lambda: runtime.checks() if runtime else {})
    app.include_router(search.router)
    app.include_router(lag.router)
    app.include_router(explain.router)
    app.include_router(rebuilds.router)
    app.include_router(export_scan.router)
    return app


def run() -> None:
    run_service(service=SERVICE, settings_factory=Settings, app_factory=create_app,
                versions_dir=MIGRATIONS)
