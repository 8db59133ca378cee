"""Composition root of the health score service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from crm_healthscore.handlers.clock import system_clock
from crm_platform.identity.directory import IdentityDirectory


@dataclass
class Container:
    pool: asyncpg.Pool
    directory: IdentityDirectory
    limiter: Any
    token_secret: str
    operator_key: str | None
    alert_days: int = 14
    # Every "now" of the service comes from here: tests inject their own.
    clock: Callable[[], datetime] = system_clock
