"""A service's own identity copy on the real PostgreSQL: the directory and the
identity consumer (R-AUTH-1, R-AUTH-2, R-BUS-3)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from crm_contracts.envelope import CloudEvent
from crm_contracts.identity import v1
from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL, Delivered
from crm_platform.db import create_pool, ensure_database
from crm_platform.identity.consumer import apply_identity_events, identity_consumer
from crm_platform.identity.pg_directory import (
    IDENTITY_TABLES_SQL,
    PgIdentityDirectory,
    apply_token_revoked,
    apply_user_event,
)
from crm_platform.identity.principal import AccessProfile, ObjectScope
from crm_platform.testing import drop_database, throwaway_database_url

pytestmark = pytest.mark.integration
BASE_DB = os.environ.get("RECORDS_DATABASE_URL",
                         "postgresql://postgres@127.0.0.1:15432/crm_records")
ACCOUNT = 42


@pytest.fixture
async def pool():
    url = throwaway_database_url(BASE_DB, "identity")
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    await conn.execute(IDENTITY_TABLES_SQL + PROCESSED_EVENTS_TABLE_SQL)
    await conn.close()
    pool = await create_pool(url)
    try:
        yield pool
    finally:
        await pool.close()
        await drop_database(url)


def profile(user_id: int, **fields: object) -> AccessProfile:
    return AccessProfile(account_id=ACCOUNT, user_id=user_id, **fields)


async def test_the_newer_version_of_a_user_wins(pool):  # R-AUTH-2, R-BUS-3
    directory = PgIdentityDirectory(pool, cache_ttl=0)
    assert await apply_user_event(pool, profile(1, super_admin=True), 2)
    assert not await apply_user_event(pool, profile(1, super_admin=False), 1)  # late, older
    assert not await apply_user_event(pool, profile(1, super_admin=False), 2)  # replayed
    assert (await directory.get_user(ACCOUNT, 1)).super_admin is True
    assert await apply_user_event(pool, profile(1, active=False), 3)
    assert (await directory.get_user(ACCOUNT, 1)).active is False
    assert await directory.get_user(ACCOUNT + 1, 1) is None  # another account's user


async def test_a_revocation_is_seen_within_the_cache_ttl(pool):  # R-AUTH-1
    now = [1000.0]  # the cache's clock, moved by hand rather than slept through
    directory = PgIdentityDirectory(pool, cache_ttl=0.5, clock=lambda: now[0])
    assert await directory.is_revoked("t-1") is False  # now cached as not revoked
    await apply_token_revoked(pool, "t-1", datetime.now(UTC) + timedelta(hours=1))
    now[0] += 0.49
    assert await directory.is_revoked("t-1") is False  # still the cached answer
    now[0] += 0.01
    assert await directory.is_revoked("t-1") is True  # the TTL is up: read again


async def test_team_members_are_the_active_users_holding_the_team(pool):  # R-AUTH-2
    directory = PgIdentityDirectory(pool, cache_ttl=0)
    await apply_user_event(pool, profile(1, team_ids=frozenset({7})), 1)
    await apply_user_event(pool, profile(2, team_ids=frozenset({7, 8})), 1)
    await apply_user_event(pool, profile(3, team_ids=frozenset({7}), active=False), 1)
    await apply_user_event(pool, profile(4, team_ids=frozenset({8})), 1)
    await apply_user_event(pool, AccessProfile(account_id=ACCOUNT + 1, user_id=5,
                                               team_ids=frozenset({7})), 1)
    assert await directory.team_members(ACCOUNT, 7) == {1, 2}
    assert await directory.team_members(ACCOUNT, 8) == {2, 4}


def upserted(user_id: int, version: int, **fields: object) -> CloudEvent:
    data = v1.UserUpserted(
        profile=v1.AccessProfile.model_validate(profile(user_id, **fields).to_json()),
        version=version)
    return CloudEvent.of(data, source="/test", subject=f"users/{user_id}", account_id=ACCOUNT)


def delivered(event: CloudEvent, offset: int) -> Delivered:
    return Delivered("crm.identity.v1", 0, offset, b"k", event.value(), tuple(event.headers()))


async def test_the_consumer_skips_repeats_and_older_versions(pool):  # R-BUS-3, R-AUTH-2
    parked: list[str] = []

    async def dead_letter(topic, key, value, headers):
        parked.append(headers["dlq_error"])

    consumer = identity_consumer(pool, "test", dead_letter)
    v2 = upserted(1, 2, service_seat=True,
                  object_scopes={"contacts": ObjectScope("owned", "owned")})
    v1_late = upserted(1, 1, service_seat=False)
    revoked = CloudEvent.of(
        v1.TokenRevoked(account_id=ACCOUNT, token_id="t-9",
                        expires_at=datetime.now(UTC) + timedelta(days=1)),
        source="/test", subject="users/1", account_id=ACCOUNT)
    created = CloudEvent.of(
        v1.AccountCreated(account_id=ACCOUNT, name="x", tier="standard",
                          created_at=datetime.now(UTC)),
        source="/test", subject="users/1", account_id=ACCOUNT)
    await consumer.consume([delivered(created, 0), delivered(v2, 1), delivered(v2, 2),
                            delivered(v1_late, 3), delivered(revoked, 4)])
    await consumer.consume([delivered(v2, 5), delivered(revoked, 6)])  # redelivered batch

    directory = PgIdentityDirectory(pool, cache_ttl=0)
    user = await directory.get_user(ACCOUNT, 1)
    assert user.service_seat is True
    assert user.object_scopes["contacts"] == ObjectScope("owned", "owned")
    assert await pool.fetchval("SELECT version FROM identity_users") == 2
    assert await directory.is_revoked("t-9")
    applied = await pool.fetchval("SELECT count(*) FROM processed_events")
    assert applied == 4  # four distinct event ids, each applied once
    assert parked == []


async def test_apply_identity_events_ignores_what_a_directory_does_not_keep(pool):  # R-BUS-3
    future = CloudEvent(type="crm.identity.something.new.v1", source="/test",
                        subject="users/1", account_id=ACCOUNT, data={"any": 1})
    async with pool.acquire() as conn:
        await apply_identity_events(conn, [future])
    assert await pool.fetchval("SELECT count(*) FROM identity_users") == 0
