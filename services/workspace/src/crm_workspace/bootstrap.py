"""Composition root of the workspace service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from crm_platform.identity.directory import IdentityDirectory
from crm_workspace.adapters.crm_api import CrmApi


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    pool: asyncpg.Pool
    directory: IdentityDirectory
    limiter: Any
    token_secret: str
    api: CrmApi
    clock: Callable[[], datetime] = utc_now
    # Bulk jobs running in this process (kept so they are not garbage collected).
    jobs: set[asyncio.Task[None]] = field(default_factory=set)
