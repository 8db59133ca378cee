"""`crm-<svc> serve|migrate`: the console entry point of every service.

`<SVC>_WORKERS=2` serves HTTP from two processes (one core each). Each worker
builds its own app from the environment: its own pool and broker; the outbox
relay leads in one process only (the advisory-lock lease) and the consumers of
one group split the partitions between the processes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import uvicorn

from crm_platform.db import migrate_async
from crm_platform.logs import setup_logging
from crm_platform.settings import PlatformSettings

# How a worker process finds the service's factories: "module:settings module:app service".
_FACTORIES_ENV = "CRM_SERVICE_FACTORIES"


def _import_path(factory: Callable[..., object]) -> str:
    return f"{factory.__module__}:{factory.__qualname__}"


def _imported(path: str) -> Callable[..., object]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def app_from_environment() -> object:
    """uvicorn calls this in each worker process (it starts workers by import path)."""
    settings_path, app_path, service = os.environ[_FACTORIES_ENV].split()
    settings = _imported(settings_path)()
    setup_logging(service, settings.log_level)  # type: ignore[attr-defined]
    return _imported(app_path)(settings)


ServiceSettings = TypeVar("ServiceSettings", bound=PlatformSettings)


def run_service(*, service: str, settings_factory: Callable[[], ServiceSettings],
                app_factory: Callable[[ServiceSettings], object], versions_dir: Path) -> None:
    parser = argparse.ArgumentParser(prog=f"crm-{service}")
    parser.add_argument("command", choices=["serve", "migrate"], nargs="?", default="serve")
    args = parser.parse_args()
    settings = settings_factory()
    setup_logging(service, settings.log_level)
    if args.command == "migrate":
        asyncio.run(migrate_async(settings.database_url, versions_dir))
        return
    options = dict(host=settings.host, port=settings.port, log_config=None,
                   timeout_graceful_shutdown=20, access_log=False)
    if settings.workers > 1:
        os.environ[_FACTORIES_ENV] = " ".join(
            (_import_path(settings_factory), _import_path(app_factory), service))
        # A worker answers the supervisor's ping from a thread; building the app's
        # schemas holds the GIL for seconds on a loaded node, and the 5 s default
        # then kills every worker before it serves.
        uvicorn.run(f"{__name__}:app_from_environment", factory=True,
                    workers=settings.workers, timeout_worker_healthcheck=30,
                    **options)  # type: ignore[arg-type]
    else:
        uvicorn.run(app_factory(settings), **options)  # type: ignore[arg-type]
