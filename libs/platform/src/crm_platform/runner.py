"""`crm-<svc> serve|migrate`: the console entry point of every service."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

import uvicorn

from crm_platform.db import migrate_async
from crm_platform.logs import setup_logging
from crm_platform.settings import PlatformSettings


def run_service(*, service: str, settings_factory: Callable[[], PlatformSettings],
                app_factory: Callable[[PlatformSettings], object], versions_dir: Path) -> None:
    parser = argparse.ArgumentParser(prog=f"crm-{service}")
    parser.add_argument("command", choices=["serve", "migrate"], nargs="?", default="serve")
    args = parser.parse_args()
    settings = settings_factory()
    setup_logging(service, settings.log_level)
    if args.command == "migrate":
        asyncio.run(migrate_async(settings.database_url, versions_dir))
        return
    uvicorn.run(app_factory(settings), host=settings.host, port=settings.port,
                log_config=None, timeout_graceful_shutdown=20, access_log=False)
