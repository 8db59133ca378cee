"""From Authorization header to Principal, and the cached PostgreSQL directory's reads
(R-AUTH-1, R-AUTH-2)."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_platform.identity.errors import Unauthenticated
from crm_platform.identity.memory import InMemoryIdentityDirectory
from crm_platform.identity.pg_directory import PgIdentityDirectory, TtlCache
from crm_platform.identity.principal import EXPORT, AccessProfile, ObjectScope
from crm_platform.identity.resolve import authenticate, bearer_token
from crm_platform.identity.tokens import issue_token

SECRET = "resolve-test-key"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

ALICE = AccessProfile(
    account_id=7,
    user_id=1,
    team_ids=frozenset({10}),
    service_seat=True,
    permissions=frozenset({EXPORT}),
    object_scopes={"contacts": ObjectScope("team", "owned")},
    account_tier="enterprise",
)
BOB = AccessProfile(account_id=7, user_id=2, team_ids=frozenset({10, 11}))
CAROL = AccessProfile(account_id=7, user_id=3, team_ids=frozenset({11}))
GONE = AccessProfile(account_id=7, user_id=4, team_ids=frozenset({10}), active=False)
OTHER_ACCOUNT_USER = AccessProfile(account_id=8, user_id=5, team_ids=frozenset({10}))


def directory() -> InMemoryIdentityDirectory:
    return InMemoryIdentityDirectory([ALICE, BOB, CAROL, GONE, OTHER_ACCOUNT_USER])


def header_for(account_id: int, user_id: int, ttl=timedelta(hours=1)) -> str:
    token, _ = issue_token(SECRET, account_id, user_id, ttl, NOW)
    return f"Bearer {token}"


async def refused(header, users=None, secret=SECRET, now=NOW) -> str:
    with pytest.raises(Unauthenticated) as error:
        await authenticate(header, secret, users or directory(), now)
    assert error.value.status_code == 401
    return error.value.reason


async def test_principal_carries_account_user_teams_and_permissions():
    # R-AUTH-1, R-AUTH-2
    p = await authenticate(header_for(7, 1), SECRET, directory(), NOW)
    assert (p.account_id, p.user_id) == (7, 1)
    assert p.team_ids == {10}
    # Team mates: active members of team 10 in account 7 only (not GONE, not account 8).
    assert p.team_member_ids == {1, 2}
    assert p.service_seat and p.permissions == {EXPORT}
    assert p.scope_for("contacts") == ObjectScope("team", "owned")
    assert p.account_tier == "enterprise"


async def test_lowercase_bearer_scheme_and_spaces_are_accepted():
    token = header_for(7, 2).split(" ", 1)[1]
    p = await authenticate(f"  bearer   {token} ", SECRET, directory(), NOW)
    assert p.user_id == 2 and p.team_member_ids == {1, 2, 3}


async def test_missing_or_non_bearer_header_is_unauthenticated():
    assert await refused(None) == "missing_token"
    assert await refused("") == "missing_token"
    assert await refused("Bearer ") == "missing_token"
    assert await refused("Basic dXNlcjpwYXNz") == "not_bearer"


async def test_invalid_or_expired_token_is_unauthenticated():
    assert await refused("Bearer not-a-token") == "invalid_token"
    assert await refused(header_for(7, 1), secret="another-key") == "invalid_token"
    assert await refused(header_for(7, 1), now=NOW + timedelta(hours=2)) == "expired_token"


async def test_revoked_token_is_unauthenticated():
    users = directory()
    token, claims = issue_token(SECRET, 7, 1, timedelta(hours=1), NOW)
    assert (await authenticate(f"Bearer {token}", SECRET, users, NOW)).token_id == claims.token_id
    users.revoke(claims.token_id)
    assert await refused(f"Bearer {token}", users) == "revoked_token"


async def test_unknown_or_deactivated_user_is_unauthenticated():
    assert await refused(header_for(7, 99)) == "unknown_user"
    assert await refused(header_for(7, 4)) == "deactivated_user"
    # R-AUTH-1: a user id is only known within its own account.
    assert await refused(header_for(7, 5)) == "unknown_user"


async def test_permission_change_applies_to_an_existing_token():
    users = directory()
    header = header_for(7, 1)
    assert EXPORT in (await authenticate(header, SECRET, users, NOW)).permissions
    users.put_user(AccessProfile(account_id=7, user_id=1, team_ids=frozenset({10})))
    assert (await authenticate(header, SECRET, users, NOW)).permissions == frozenset()


def test_bearer_token_extracts_the_token():
    assert bearer_token("Bearer abc") == "abc"


def test_access_profile_json_round_trip():
    assert AccessProfile.from_json(ALICE.to_json()) == ALICE


# ---- the PostgreSQL directory's cache, on a fake pool (its SQL needs a real
# PostgreSQL and is not proven by these unit tests) ------------------------------------


class CountingPool:
    """Answers the directory's three queries from fixed data and counts them."""

    def __init__(self) -> None:
        self.queries = 0
        self.revoked = False
        self.profile_json: str | None = None

    async def fetchval(self, sql, *args):
        self.queries += 1
        if "identity_revoked_tokens" in sql:
            return self.revoked
        return self.profile_json

    async def fetch(self, sql, *args):
        self.queries += 1
        return [{"user_id": 1}, {"user_id": 2}]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_pg_directory_caches_reads_for_its_ttl_only():
    import json

    pool, clock = CountingPool(), Clock()
    directory = PgIdentityDirectory(pool, cache_ttl=1.0, clock=clock)
    pool.profile_json = json.dumps(ALICE.to_json())

    assert await directory.get_user(7, 1) == ALICE
    assert await directory.team_members(7, 10) == {1, 2}
    assert await directory.is_revoked("t1") is False
    assert pool.queries == 3
    # Within the TTL nothing is asked again...
    pool.revoked = True
    clock.now += 0.9
    assert await directory.is_revoked("t1") is False
    assert await directory.get_user(7, 1) == ALICE
    assert pool.queries == 3
    # ...and once it has passed, a revocation is seen.
    clock.now += 0.2
    assert await directory.is_revoked("t1") is True
    assert pool.queries == 4


async def test_pg_directory_caches_unknown_users_too():
    pool, clock = CountingPool(), Clock()
    directory = PgIdentityDirectory(pool, cache_ttl=1.0, clock=clock)
    assert await directory.get_user(7, 1) is None
    assert await directory.get_user(7, 1) is None
    assert pool.queries == 1


def test_pg_directory_refuses_a_cache_longer_than_two_seconds():
    # Revocation must take effect within seconds.
    with pytest.raises(ValueError):
        PgIdentityDirectory(CountingPool(), cache_ttl=5)


def test_ttl_cache_is_bounded():
    clock = Clock()
    cache = TtlCache(ttl=1.0, max_entries=3, clock=clock)
    for key in range(3):
        cache.put(key, key)
    cache.put("fourth", 4)
    assert cache.get(0, None) is None
    assert cache.get("fourth") == 4
