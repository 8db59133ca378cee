"""Composition root of the search service."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from crm_platform.identity.directory import IdentityDirectory
from crm_search.adapters.live_table import LiveTableCache
from crm_search.adapters.property_store import load_property_types
from crm_search.domain.lag import RecentLag

# Entries kept before the whole cache is dropped (a bound, not an eviction policy).
MAX_CACHED_TYPE_MAPS = 10_000


@dataclass
class Container:
    pool: asyncpg.Pool
    directory: IdentityDirectory
    limiter: Any
    token_secret: str
    consistency_wait_seconds: float
    # A property defined a moment ago compares as a string for at most this long.
    property_types_cache_seconds: float = 2.0
    recent_lag: RecentLag = field(default_factory=RecentLag)
    index_group: str = "search-index"
    # X-Operator-Key for the operator's paths (rebuilds); None switches them to super admins only.
    operator_key: str | None = None
    live_table: LiveTableCache = field(init=False)
    _property_types: dict[tuple[int, str], tuple[float, Mapping[str, str]]] = field(
        default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.live_table = LiveTableCache(self.pool)

    async def property_types(self, account_id: int, object_type: str) -> Mapping[str, str]:
        """Declared property types of one object type, from the property events."""
        key = (account_id, object_type)
        now = time.monotonic()
        cached = self._property_types.get(key)
        if cached and cached[0] > now:
            return cached[1]
        async with self.pool.acquire() as conn:
            types = await load_property_types(conn, account_id, object_type)
        if len(self._property_types) >= MAX_CACHED_TYPE_MAPS:
            self._property_types.clear()
        self._property_types[key] = (now + self.property_types_cache_seconds, types)
        return types
