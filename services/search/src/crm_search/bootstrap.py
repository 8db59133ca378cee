"""Composition root of the search service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from crm_platform.identity.directory import IdentityDirectory


@dataclass
class Container:
    pool: asyncpg.Pool
    directory: IdentityDirectory
    limiter: Any
    token_secret: str
    consistency_wait_seconds: float

    def property_types(self, account_id: int, object_type: str) -> Mapping[str, str]:
        """Property types for typed comparison. Until property definition events
        are consumed, every property compares as a string."""
        return {}
