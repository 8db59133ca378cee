"""The records service: create_app(settings) and the `crm-records` command."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from crm_platform.db import create_pool
from crm_platform.http import base_app
from crm_platform.identity.pg_directory import PgIdentityDirectory
from crm_platform.identity.ratelimit import RateLimiter
from crm_platform.lifecycle import Runtime, start_runtime
from crm_platform.runner import run_service
from crm_records import bootstrap, subscriptions
from crm_records.api import (
    associations,
    errors,
    forms,
    header,
    identity,
    lists,
    objects,
    owners,
    pipelines,
    properties,
    record_ops,
    schemas_api,
    timeline,
    tracking,
    upsert,
)
from crm_records.settings import Settings

SERVICE = "records"
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def create_app(settings: Settings) -> FastAPI:
    runtime: Runtime | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal runtime
        runtime = await start_runtime(SERVICE, settings, MIGRATIONS)
        app.state.runtime = runtime
        app.state.container = bootstrap.build(
            runtime.pool, PgIdentityDirectory(runtime.pool),
            RateLimiter(runtime.redis, settings.rate_limit_per_10s),
            settings.token_secret.get_secret_value(),
            settings.operator_key.get_secret_value() if settings.operator_key else None)
        consumer_pool = None
        if settings.run_consumers:
            consumer_pool = await create_pool(settings.database_url, min_size=1,
                                              max_size=settings.consumer_pool_max)
            subscriptions.register(runtime.broker, consumer_pool, settings.consumer_group_prefix)
        await runtime.start_broker()
        # What start-up built (modules, models, routes, pools) lives as long as the
        # process: kept out of the cyclic GC's scans, which otherwise rescan it at every
        # full collection the consumers' and requests' short-lived objects trigger.
        gc.freeze()
        yield
        await runtime.stop()  # consumers first, so their pool is idle when it closes
        if consumer_pool is not None:
            await consumer_pool.close()

    app = base_app(service=SERVICE, title="CRM records", lifespan=lifespan,
                   checks=lambda: runtime.checks() if runtime else {})
    errors.install(app)
    app.include_router(timeline.router)  # before objects: .../{id}/timeline
    app.include_router(header.router)
    app.include_router(upsert.router)
    app.include_router(objects.router)
    app.include_router(associations.router)
    app.include_router(properties.router)
    app.include_router(schemas_api.router)
    app.include_router(pipelines.router)
    app.include_router(identity.router)
    app.include_router(owners.router)
    record_ops.install(app, settings.restore_window_days)
    app.include_router(forms.router)
    app.include_router(tracking.router)
    app.include_router(lists.router)
    return app


def run() -> None:
    run_service(service=SERVICE, settings_factory=Settings, app_factory=create_app,
                versions_dir=MIGRATIONS)
