"""Accounts, users and tokens: the records service owns them and publishes
every change on crm.identity.v1, so other services keep their own directory.

Tokens are signed (crm_platform.identity.tokens) and carry no permissions;
the directory row written here in the same transaction is what every request
is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, EventData, record_key
from crm_contracts.identity import v1
from crm_platform.identity.pg_directory import apply_user_event
from crm_platform.identity.principal import (
    ANY_OBJECT_TYPE,
    FULL_ACCESS,
    PERMISSIONS,
    AccessProfile,
)
from crm_platform.identity.tokens import issue_token
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_records.adapters.postgres import OUTBOX_CHANNEL

SOURCE = "/crm/identity"
DEFAULT_TOKEN_TTL = timedelta(days=30)


@dataclass(frozen=True)
class NewAccount:
    account_id: int
    user_id: int
    token: str
    expires_at: datetime


def _identity_event(account_id: int, user_id: int, data: EventData) -> OutgoingEvent:
    event = CloudEvent.of(data, source=SOURCE, account_id=account_id, subject=f"users/{user_id}")
    return OutgoingEvent(topics.IDENTITY.name, record_key(account_id, "users", user_id), event)


def super_admin_profile(account_id: int, user_id: int, email: str, tier: str) -> AccessProfile:
    return AccessProfile(account_id=account_id, user_id=user_id, super_admin=True,
                         service_seat=True, permissions=PERMISSIONS,
                         object_scopes={ANY_OBJECT_TYPE: FULL_ACCESS}, account_tier=tier,
                         email=email)


class IdentityHandler:
    def __init__(self, pool: asyncpg.Pool, token_secret: str) -> None:
        self.pool = pool
        self.token_secret = token_secret

    async def create_account(self, name: str, tier: str, admin_email: str,
                             first_name: str | None = None,
                             last_name: str | None = None) -> NewAccount:
        now = datetime.now(UTC)
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
            await apply_user_event(conn, profile, 1)
            token, claims = issue_token(self.token_secret, account_id, user_id,
                                        DEFAULT_TOKEN_TTL, now)
            await conn.execute(
                "INSERT INTO tokens (token_id, account_id, user_id, issued_at, expires_at)"
                " VALUES ($1, $2, $3, $4, $5)", claims.token_id, account_id, user_id,
                claims.issued_at, claims.expires_at)
            await enqueue(conn, [
                _identity_event(account_id, user_id, v1.AccountCreated(
                    account_id=account_id, name=name, tier=tier, created_at=now)),
                _identity_event(account_id, user_id, v1.UserUpserted(
                    profile=v1.AccessProfile.model_validate(profile.to_json()), version=1,
                    first_name=first_name, last_name=last_name)),
            ], channel=OUTBOX_CHANNEL)
        return NewAccount(account_id, user_id, token, claims.expires_at)
