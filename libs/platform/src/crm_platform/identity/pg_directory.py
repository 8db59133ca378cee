"""Each service's own copy of the identity data, in its own PostgreSQL database.

The records service owns users and teams and publishes them on
crm.identity.v1 (R-BUS-1: no service reads another's database). Every
service's identity consumer applies those events with `apply_user_event`
and `apply_token_revoked`, and its API reads them through
`PgIdentityDirectory`. Each service's first migration runs
`IDENTITY_TABLES_SQL` (e.g. `op.execute(IDENTITY_TABLES_SQL)`).

Reads pass through a per-process cache of at most MAX_CACHE_TTL seconds:
it spares the database a query per request, and keeps the delay before a
revocation or permission change takes effect to about a second plus the
consumer's lag.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from crm_platform.identity.principal import AccessProfile

# team_ids repeats profile.team_ids as an array so team membership is a
# plain indexed-row query; both are written together by apply_user_event.
# Plain DDL without '::' or ':name' so Alembic's op.execute takes it as is.
IDENTITY_TABLES_SQL = """
CREATE TABLE IF NOT EXISTS identity_users (
    account_id bigint NOT NULL,
    user_id bigint NOT NULL,
    profile jsonb NOT NULL,
    team_ids bigint[] NOT NULL DEFAULT '{}',
    active boolean NOT NULL,
    version bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, user_id)
);
CREATE TABLE IF NOT EXISTS identity_revoked_tokens (
    token_id text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS identity_revoked_tokens_expires_at
    ON identity_revoked_tokens (expires_at);
"""

IDENTITY_TABLES_DROP_SQL = """
DROP TABLE IF EXISTS identity_revoked_tokens;
DROP TABLE IF EXISTS identity_users;
"""

MAX_CACHE_TTL = 2.0
_MISSING = object()

# Both functions take an asyncpg Connection (inside the consumer's transaction) or Pool.


async def apply_user_event(conn: Any, profile: AccessProfile, version: int) -> bool:
    """Store a user's profile unless a newer or equal version is already stored.

    Returns whether it was applied; a replayed or late event changes nothing
    (R-BUS-3). A removed user is a profile with active=False.
    """
    applied = await conn.fetchval(
        """
        INSERT INTO identity_users (account_id, user_id, profile, team_ids, active, version)
        VALUES ($1, $2, $3::text::jsonb, $4::bigint[], $5, $6)
        ON CONFLICT (account_id, user_id) DO UPDATE
            SET profile = EXCLUDED.profile, team_ids = EXCLUDED.team_ids,
                active = EXCLUDED.active, version = EXCLUDED.version, updated_at = now()
            WHERE identity_users.version < EXCLUDED.version
        RETURNING true
        """,
        profile.account_id,
        profile.user_id,
        json.dumps(profile.to_json()),
        sorted(profile.team_ids),
        profile.active,
        version,
    )
    return bool(applied)


async def apply_token_revoked(conn: Any, token_id: str, expires_at: datetime) -> None:
    """Remember a revoked token until it would have expired anyway."""
    await conn.execute(
        """
        INSERT INTO identity_revoked_tokens (token_id, expires_at) VALUES ($1, $2)
        ON CONFLICT (token_id) DO NOTHING
        """,
        token_id,
        expires_at,
    )


async def purge_expired_revocations(conn: Any, now: datetime) -> int:
    """Forget revocations of tokens that have expired: verification refuses those anyway."""
    status = await conn.execute("DELETE FROM identity_revoked_tokens WHERE expires_at <= $1", now)
    return int(status.split()[-1])


class TtlCache:
    """A small dictionary whose entries live `ttl` seconds; emptied when it grows too big."""

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable, default: Any = _MISSING) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            self._entries.pop(key, None)
            return default
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (self._clock() + self._ttl, value)

    def clear(self) -> None:
        self._entries.clear()


class PgIdentityDirectory:
    """IdentityDirectory over the service's identity tables, with a short cache."""

    def __init__(
        self,
        pool: Any,
        cache_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= cache_ttl <= MAX_CACHE_TTL:
            raise ValueError(f"cache_ttl must be between 0 and {MAX_CACHE_TTL} seconds")
        self._pool = pool  # asyncpg Pool or Connection
        self._cache = TtlCache(cache_ttl, clock=clock)

    async def get_user(self, account_id: int, user_id: int) -> AccessProfile | None:
        key = ("user", account_id, user_id)
        cached = self._cache.get(key)
        if cached is not _MISSING:
            return cached
        text = await self._pool.fetchval(
            "SELECT profile::text FROM identity_users WHERE account_id = $1 AND user_id = $2",
            account_id,
            user_id,
        )
        profile = AccessProfile.from_json(json.loads(text)) if text is not None else None
        self._cache.put(key, profile)
        return profile

    async def is_revoked(self, token_id: str) -> bool:
        key = ("revoked", token_id)
        cached = self._cache.get(key)
        if cached is not _MISSING:
            return cached
        revoked = bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM identity_revoked_tokens WHERE token_id = $1)",
                token_id,
            )
        )
        self._cache.put(key, revoked)
        return revoked

    async def team_members(self, account_id: int, team_id: int) -> frozenset[int]:
        key = ("team", account_id, team_id)
        cached = self._cache.get(key)
        if cached is not _MISSING:
            return cached
        rows = await self._pool.fetch(
            """
            SELECT user_id FROM identity_users
            WHERE account_id = $1 AND active AND team_ids @> ARRAY[$2::bigint]
            """,
            account_id,
            team_id,
        )
        members = frozenset(row["user_id"] for row in rows)
        self._cache.put(key, members)
        return members

    def clear_cache(self) -> None:
        self._cache.clear()
