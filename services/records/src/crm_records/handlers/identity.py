"""Accounts, users, teams and tokens: the records service owns them and publishes
every change on crm.identity.v1, so other services keep their own directory
(R-AUTH-1, R-AUTH-2).

Tokens are signed (crm_platform.identity.tokens) and carry no permissions;
the directory row written here in the same transaction is what every request
is checked against. Every change of a user bumps their version, rewrites
their directory row and queues a UserUpserted in the outbox, all in one
transaction; a revoked token is written to the directory and queued as
TokenRevoked the same way. Consumers keep the newest version, so replays and
late events change nothing.

Every write locks its account's row first: identity writes are rare, and
one writer per account at a time is what keeps "the last super admin cannot
be removed" true under concurrent requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, EventData, record_key
from crm_contracts.identity import v1
from crm_platform.identity.errors import Forbidden
from crm_platform.identity.pg_directory import apply_token_revoked, apply_user_event
from crm_platform.identity.principal import (
    ANY_OBJECT_TYPE,
    FULL_ACCESS,
    PERMISSIONS,
    AccessProfile,
    AccountTier,
    ObjectScope,
    Principal,
)
from crm_platform.identity.tokens import issue_token
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_records.adapters.postgres import OUTBOX_CHANNEL
from crm_records.domain.errors import UnknownObjectType
from crm_records.domain.object_types import resolve_object_type

SOURCE = "/crm/identity"
DEFAULT_TOKEN_TTL = timedelta(days=30)
MAX_TOKEN_TTL = timedelta(days=730)


# ---- errors the API turns into 404 / 409 / 400 ------------------------------


class IdentityNotFound(Exception):
    """An id this account does not have (another account's ids included: R-AUTH-1)."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what, self.ident = what, ident


class IdentityConflict(Exception):
    """The change contradicts what is stored (a taken email, the last super admin)."""


class IdentityInvalid(Exception):
    """Input the HTTP schema cannot refuse by itself."""


# ---- values -----------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    account_id: int
    user_id: int
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Team:
    team_id: int
    name: str
    member_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class User:
    profile: AccessProfile
    email: str
    first_name: str | None
    last_name: str | None
    primary_team_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    teams: tuple[Team, ...] = ()  # id and name of each of profile.team_ids

    @property
    def user_id(self) -> int:
        return self.profile.user_id


@dataclass(frozen=True)
class UserSpec:
    """A new user. The first of `team_ids` becomes the primary team."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    team_ids: tuple[int, ...] = ()
    super_admin: bool = False
    service_seat: bool = False
    permissions: frozenset[str] = frozenset()
    object_scopes: Mapping[str, ObjectScope] = field(default_factory=dict)


@dataclass(frozen=True)
class UserChanges:
    """A partial change: None leaves a field as it is ("" clears a name)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    team_ids: tuple[int, ...] | None = None
    primary_team_id: int | None = None
    super_admin: bool | None = None
    service_seat: bool | None = None
    permissions: frozenset[str] | None = None
    object_scopes: Mapping[str, ObjectScope] | None = None
    active: bool | None = None


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    user_id: int
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    info: TokenInfo
    token: str


# ---- pure rules -------------------------------------------------------------


def super_admin_profile(account_id: int, user_id: int, email: str,
                        tier: AccountTier) -> AccessProfile:
    return AccessProfile(account_id=account_id, user_id=user_id, super_admin=True,
                         service_seat=True, permissions=PERMISSIONS,
                         object_scopes={ANY_OBJECT_TYPE: FULL_ACCESS}, account_tier=tier,
                         email=email)


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or " " in email:
        raise IdentityInvalid(f"'{email}' is not an email address.")
    return email


def normalize_scopes(scopes: Mapping[str, ObjectScope]) -> dict[str, ObjectScope]:
    """Object types by their canonical name ('contact', '0-1' -> 'contacts'), so the
    scope a service looks up by name is found; custom and future types stay as given."""
    out: dict[str, ObjectScope] = {}
    for reference, scope in scopes.items():
        name = reference.strip().lower()
        if name != ANY_OBJECT_TYPE:
            try:
                name = resolve_object_type(name).name
            except UnknownObjectType:
                pass
        out[name] = scope
    return out


def primary_team(team_ids: Sequence[int], wanted: int | None, current: int | None) -> int | None:
    """The primary team among `team_ids`: the one asked for, else the current one if
    still held, else the first."""
    for choice in (wanted, current):
        if choice is not None and choice in team_ids:
            return choice
    return team_ids[0] if team_ids else None


def _clean_name(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _ordered_unique(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


# ---- the handler ------------------------------------------------------------


def _identity_event(account_id: int, user_id: int, data: EventData) -> OutgoingEvent:
    event = CloudEvent.of(data, source=SOURCE, account_id=account_id, subject=f"users/{user_id}")
    # Keyed by user: one user's upserts and revocations stay in order on one partition.
    return OutgoingEvent(topics.IDENTITY.name, record_key(account_id, "users", user_id), event)


_USER_COLUMNS = ("user_id, email, first_name, last_name, profile, primary_team_id, version,"
                 " created_at, updated_at")


def _user_from_row(row: Mapping[str, Any], team_names: Mapping[int, str]) -> User:
    profile = AccessProfile.from_json(row["profile"])
    teams = tuple(Team(t, team_names.get(t, "")) for t in sorted(profile.team_ids))
    return User(profile=profile, email=row["email"], first_name=row["first_name"],
                last_name=row["last_name"], primary_team_id=row["primary_team_id"],
                version=row["version"], created_at=row["created_at"],
                updated_at=row["updated_at"], teams=teams)


class IdentityHandler:
    def __init__(self, pool: asyncpg.Pool, token_secret: str) -> None:
        self.pool = pool
        self.token_secret = token_secret

    # -- accounts (operator) --

    async def create_account(self, name: str, tier: AccountTier, admin_email: str,
                             first_name: str | None = None,
                             last_name: str | None = None) -> NewAccount:
        now = datetime.now(UTC)
        admin_email = normalize_email(admin_email)
        async with self.pool.acquire() as conn, conn.transaction():
            account_id = await conn.fetchval(
                "INSERT INTO accounts (name, tier, created_at) VALUES ($1, $2, $3)"
                " RETURNING account_id", name, tier, now)
            user_id = await conn.fetchval("SELECT nextval('user_ids')")
            profile = super_admin_profile(account_id, user_id, admin_email, tier)
            await conn.execute(
                "INSERT INTO users (account_id, user_id, email, first_name, last_name, profile)"
                " VALUES ($1, $2, $3, $4, $5, $6)", account_id, user_id, admin_email,
                first_name, last_name, profile.to_json())
            await enqueue(conn, [_identity_event(account_id, user_id, v1.AccountCreated(
                account_id=account_id, name=name, tier=tier, created_at=now))],
                channel=OUTBOX_CHANNEL)
            await self._publish_user(conn, profile, 1, first_name, last_name)
            issued = await self._issue(conn, account_id, user_id, DEFAULT_TOKEN_TTL, now)
        return NewAccount(account_id, user_id, issued.token, issued.info.expires_at)

    # -- users --

    async def add_user(self, account_id: int, spec: UserSpec) -> User:
        email = normalize_email(spec.email)
        team_ids = _ordered_unique(spec.team_ids)
        async with self.pool.acquire() as conn, conn.transaction():
            tier = await self._lock_account(conn, account_id)
            await self._require_teams(conn, account_id, team_ids)
            user_id = await conn.fetchval("SELECT nextval('user_ids')")
            profile = AccessProfile(
                account_id=account_id, user_id=user_id, team_ids=frozenset(team_ids),
                super_admin=spec.super_admin, service_seat=spec.service_seat,
                permissions=spec.permissions, object_scopes=normalize_scopes(spec.object_scopes),
                account_tier=tier, email=email)
            first, last = _clean_name(spec.first_name), _clean_name(spec.last_name)
            try:
                await conn.execute(
                    "INSERT INTO users (account_id, user_id, email, first_name, last_name,"
                    " profile, primary_team_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    account_id, user_id, email, first, last, profile.to_json(),
                    primary_team(team_ids, None, None))
            except asyncpg.UniqueViolationError:
                raise IdentityConflict(f"A user with email {email} already exists.") from None
            await self._publish_user(conn, profile, 1, first, last)
            return await self._read_user(conn, account_id, user_id)

    async def change_user(self, account_id: int, user_id: int, changes: UserChanges) -> User:
        async with self.pool.acquire() as conn, conn.transaction():
            tier = await self._lock_account(conn, account_id)
            current = await self._read_user(conn, account_id, user_id)
            old = current.profile
            team_ids = (_ordered_unique(changes.team_ids) if changes.team_ids is not None
                        else tuple(sorted(old.team_ids)))
            if changes.team_ids is not None:
                await self._require_teams(conn, account_id, team_ids)
            if changes.primary_team_id is not None and changes.primary_team_id not in team_ids:
                raise IdentityInvalid(
                    f"primaryTeamId {changes.primary_team_id} is not one of the user's teams.")
            email = normalize_email(changes.email) if changes.email is not None else current.email
            profile = replace(
                old,
                active=old.active if changes.active is None else changes.active,
                team_ids=frozenset(team_ids),
                super_admin=old.super_admin if changes.super_admin is None
                else changes.super_admin,
                service_seat=old.service_seat if changes.service_seat is None
                else changes.service_seat,
                permissions=old.permissions if changes.permissions is None
                else changes.permissions,
                object_scopes=old.object_scopes if changes.object_scopes is None
                else normalize_scopes(changes.object_scopes),
                account_tier=tier, email=email)
            first = current.first_name if changes.first_name is None else _clean_name(
                changes.first_name)
            last = current.last_name if changes.last_name is None else _clean_name(
                changes.last_name)
            await self._keep_a_super_admin(conn, old, profile)
            primary = primary_team(team_ids, changes.primary_team_id, current.primary_team_id)
            await self._save_user(conn, profile, email, first, last, primary)
            return await self._read_user(conn, account_id, user_id)

    async def deactivate_user(self, account_id: int, user_id: int) -> User:
        """The user keeps their records and history; their tokens stop working at once
        (the directory says inactive) and they leave the owners list."""
        return await self.change_user(account_id, user_id, UserChanges(active=False))

    async def get_user(self, account_id: int, user_id: int) -> User:
        async with self.pool.acquire() as conn:
            return await self._read_user(conn, account_id, user_id)

    async def list_users(self, account_id: int, *, after: int = 0, limit: int = 100,
                         email: str | None = None, active: bool | None = None) -> list[User]:
        """Users by id after `after`; `active` None means active and deactivated alike."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_USER_COLUMNS} FROM users WHERE account_id = $1 AND user_id > $2"
                " AND ($3::text IS NULL OR lower(email) = lower($3))"
                " AND ($4::boolean IS NULL OR active = $4)"
                " ORDER BY user_id LIMIT $5", account_id, after, email, active, limit)
            names = await self._team_names(
                conn, account_id, {t for r in rows for t in r["profile"].get("team_ids", ())})
        return [_user_from_row(row, names) for row in rows]

    # -- teams --

    async def create_team(self, account_id: int, name: str,
                          member_ids: Sequence[int] = ()) -> Team:
        name = name.strip()
        if not name:
            raise IdentityInvalid("A team needs a name.")
        async with self.pool.acquire() as conn, conn.transaction():
            await self._lock_account(conn, account_id)
            team_id = await conn.fetchval("SELECT nextval('team_ids')")
            try:
                await conn.execute("INSERT INTO teams (account_id, team_id, name)"
                                   " VALUES ($1, $2, $3)", account_id, team_id, name)
            except asyncpg.UniqueViolationError:
                raise IdentityConflict(f"A team named {name!r} already exists.") from None
            await self._set_members(conn, account_id, team_id, member_ids)
            return await self._read_team(conn, account_id, team_id)

    async def rename_team(self, account_id: int, team_id: int, name: str) -> Team:
        name = name.strip()
        if not name:
            raise IdentityInvalid("A team needs a name.")
        async with self.pool.acquire() as conn, conn.transaction():
            await self._lock_account(conn, account_id)
            try:
                renamed = await conn.fetchval(
                    "UPDATE teams SET name = $3, updated_at = now()"
                    " WHERE account_id = $1 AND team_id = $2 RETURNING team_id",
                    account_id, team_id, name)
            except asyncpg.UniqueViolationError:
                raise IdentityConflict(f"A team named {name!r} already exists.") from None
            if renamed is None:
                raise IdentityNotFound("Team", team_id)
            return await self._read_team(conn, account_id, team_id)

    async def set_team_members(self, account_id: int, team_id: int,
                               member_ids: Sequence[int]) -> Team:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._lock_account(conn, account_id)
            await self._read_team(conn, account_id, team_id)
            await self._set_members(conn, account_id, team_id, member_ids)
            return await self._read_team(conn, account_id, team_id)

    async def delete_team(self, account_id: int, team_id: int) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._lock_account(conn, account_id)
            await self._read_team(conn, account_id, team_id)
            await self._set_members(conn, account_id, team_id, ())
            await conn.execute("DELETE FROM teams WHERE account_id = $1 AND team_id = $2",
                               account_id, team_id)

    async def get_team(self, account_id: int, team_id: int) -> Team:
        async with self.pool.acquire() as conn:
            return await self._read_team(conn, account_id, team_id)

    async def list_teams(self, account_id: int) -> list[Team]:
        async with self.pool.acquire() as conn:
            ids = await conn.fetch("SELECT team_id FROM teams WHERE account_id = $1"
                                   " ORDER BY team_id", account_id)
            return [await self._read_team(conn, account_id, r["team_id"]) for r in ids]

    # -- tokens --

    async def issue_user_token(self, account_id: int, user_id: int,
                               ttl: timedelta = DEFAULT_TOKEN_TTL) -> IssuedToken:
        if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
            raise IdentityInvalid(f"A token lives between 1 second and {MAX_TOKEN_TTL.days} days.")
        async with self.pool.acquire() as conn, conn.transaction():
            user = await self._read_user(conn, account_id, user_id)
            if not user.profile.active:
                raise IdentityConflict(f"User {user_id} is deactivated; reactivate them first.")
            return await self._issue(conn, account_id, user_id, ttl, datetime.now(UTC))

    async def list_tokens(self, account_id: int, user_id: int | None = None) -> list[TokenInfo]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT token_id, user_id, issued_at, expires_at, revoked_at FROM tokens"
                " WHERE account_id = $1 AND ($2::bigint IS NULL OR user_id = $2)"
                " ORDER BY issued_at, token_id", account_id, user_id)
        return [TokenInfo(**dict(r)) for r in rows]

    async def revoke_token(self, caller: Principal, token_id: str) -> TokenInfo:
        """A super admin revokes any token of the account; a user their own. Revoking
        twice is not an error and publishes nothing the second time."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT token_id, user_id, issued_at, expires_at, revoked_at FROM tokens"
                " WHERE account_id = $1 AND token_id = $2 FOR UPDATE",
                caller.account_id, token_id)
            if row is None:
                raise IdentityNotFound("Token", token_id)
            info = TokenInfo(**dict(row))
            if not caller.super_admin and info.user_id != caller.user_id:
                raise Forbidden("Revoking another user's token needs super admin.",
                                missing="super_admin")
            if info.revoked_at is not None:
                return info
            now = datetime.now(UTC)
            await conn.execute("UPDATE tokens SET revoked_at = $2 WHERE token_id = $1",
                               token_id, now)
            await apply_token_revoked(conn, token_id, info.expires_at)
            await enqueue(conn, [_identity_event(caller.account_id, info.user_id,
                                                 v1.TokenRevoked(account_id=caller.account_id,
                                                                 token_id=token_id,
                                                                 expires_at=info.expires_at))],
                          channel=OUTBOX_CHANNEL)
            return replace(info, revoked_at=now)

    # -- inside a transaction --

    async def _lock_account(self, conn: asyncpg.Connection, account_id: int) -> AccountTier:
        tier = await conn.fetchval(
            "SELECT tier FROM accounts WHERE account_id = $1 FOR UPDATE", account_id)
        if tier is None:
            raise IdentityNotFound("Account", account_id)
        return cast(AccountTier, tier)

    async def _read_user(self, conn: asyncpg.Connection, account_id: int, user_id: int) -> User:
        row = await conn.fetchrow(
            f"SELECT {_USER_COLUMNS} FROM users WHERE account_id = $1 AND user_id = $2",
            account_id, user_id)
        if row is None:
            raise IdentityNotFound("User", user_id)
        names = await self._team_names(conn, account_id, row["profile"].get("team_ids", ()))
        return _user_from_row(row, names)

    async def _read_team(self, conn: asyncpg.Connection, account_id: int, team_id: int) -> Team:
        name = await conn.fetchval(
            "SELECT name FROM teams WHERE account_id = $1 AND team_id = $2", account_id, team_id)
        if name is None:
            raise IdentityNotFound("Team", team_id)
        members = await conn.fetch(
            "SELECT user_id FROM users WHERE account_id = $1"
            " AND profile->'team_ids' @> jsonb_build_array($2::bigint) ORDER BY user_id",
            account_id, team_id)
        return Team(team_id, name, tuple(r["user_id"] for r in members))

    async def _team_names(self, conn: asyncpg.Connection, account_id: int,
                          team_ids: Iterable[int]) -> dict[int, str]:
        rows = await conn.fetch(
            "SELECT team_id, name FROM teams WHERE account_id = $1 AND team_id = ANY($2)",
            account_id, list(set(team_ids)))
        return {r["team_id"]: r["name"] for r in rows}

    async def _require_teams(self, conn: asyncpg.Connection, account_id: int,
                             team_ids: Sequence[int]) -> None:
        known = await self._team_names(conn, account_id, team_ids)
        for team_id in team_ids:
            if team_id not in known:
                raise IdentityNotFound("Team", team_id)

    async def _set_members(self, conn: asyncpg.Connection, account_id: int, team_id: int,
                           member_ids: Sequence[int]) -> None:
        """Make exactly `member_ids` the team's members, changing only users whose
        membership changes (each such change is a new version of that user)."""
        wanted = set(member_ids)
        rows = await conn.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE account_id = $1"
            " AND (user_id = ANY($2) OR profile->'team_ids' @> jsonb_build_array($3::bigint))"
            " ORDER BY user_id", account_id, sorted(wanted), team_id)
        users = [_user_from_row(r, {}) for r in rows]
        missing = sorted(wanted - {u.user_id for u in users})
        if missing:
            raise IdentityNotFound("User", missing[0])
        for user in users:
            held = user.profile.team_ids
            if (team_id in held) == (user.user_id in wanted):
                continue
            team_ids = tuple(sorted(held | {team_id} if user.user_id in wanted
                                    else held - {team_id}))
            profile = replace(user.profile, team_ids=frozenset(team_ids))
            await self._save_user(conn, profile, user.email, user.first_name, user.last_name,
                                  primary_team(team_ids, None, user.primary_team_id))

    async def _keep_a_super_admin(self, conn: asyncpg.Connection, old: AccessProfile,
                                  new: AccessProfile) -> None:
        if not (old.super_admin and old.active) or (new.super_admin and new.active):
            return
        others = await conn.fetchval(
            "SELECT count(*) FROM users WHERE account_id = $1 AND user_id <> $2 AND active"
            " AND (profile->>'super_admin')::boolean", old.account_id, old.user_id)
        if not others:
            raise IdentityConflict(
                "This is the account's last active super admin; make another user super admin "
                "first.")

    async def _save_user(self, conn: asyncpg.Connection, profile: AccessProfile, email: str,
                         first_name: str | None, last_name: str | None,
                         primary_team_id: int | None) -> None:
        try:
            version = await conn.fetchval(
                "UPDATE users SET email = $3, first_name = $4, last_name = $5, profile = $6,"
                " active = $7, primary_team_id = $8, version = version + 1, updated_at = now()"
                " WHERE account_id = $1 AND user_id = $2 RETURNING version",
                profile.account_id, profile.user_id, email, first_name, last_name,
                profile.to_json(), profile.active, primary_team_id)
        except asyncpg.UniqueViolationError:
            raise IdentityConflict(f"A user with email {email} already exists.") from None
        await self._publish_user(conn, profile, version, first_name, last_name)

    async def _publish_user(self, conn: asyncpg.Connection, profile: AccessProfile,
                            version: int, first_name: str | None,
                            last_name: str | None) -> None:
        """The records service's own directory row, and the event for everyone else's."""
        await apply_user_event(conn, profile, version)
        await enqueue(conn, [_identity_event(profile.account_id, profile.user_id, v1.UserUpserted(
            profile=v1.AccessProfile.model_validate(profile.to_json()), version=version,
            first_name=first_name, last_name=last_name))], channel=OUTBOX_CHANNEL)

    async def _issue(self, conn: asyncpg.Connection, account_id: int, user_id: int,
                     ttl: timedelta, now: datetime) -> IssuedToken:
        token, claims = issue_token(self.token_secret, account_id, user_id, ttl, now)
        await conn.execute(
            "INSERT INTO tokens (token_id, account_id, user_id, issued_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5)", claims.token_id, account_id, user_id,
            claims.issued_at, claims.expires_at)
        return IssuedToken(TokenInfo(claims.token_id, user_id, claims.issued_at,
                                     claims.expires_at, None), token)
