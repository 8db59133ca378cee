"""From an Authorization header to a Principal, or Unauthenticated (401).

Two steps, so the HTTP glue can rate limit by token id between them without
touching the database for a token that is already over its limit:
`verify_bearer` checks the signature and expiry (no I/O), `resolve_principal`
asks the directory about revocation, the user and their teams.
`authenticate` does both.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from crm_platform.identity.directory import IdentityDirectory
from crm_platform.identity.errors import InvalidToken, Unauthenticated
from crm_platform.identity.principal import AccessProfile, Principal
from crm_platform.identity.tokens import EXPIRED, TokenClaims, verify_token

# Reasons carried by Unauthenticated; safe to show to the caller.
MISSING_TOKEN = "missing_token"
NOT_BEARER = "not_bearer"
INVALID_TOKEN = "invalid_token"
EXPIRED_TOKEN = "expired_token"
REVOKED_TOKEN = "revoked_token"
UNKNOWN_USER = "unknown_user"
DEACTIVATED_USER = "deactivated_user"


def bearer_token(authorization_header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization_header or not authorization_header.strip():
        raise Unauthenticated(MISSING_TOKEN)
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated(NOT_BEARER)
    if not token.strip():
        raise Unauthenticated(MISSING_TOKEN)
    return token.strip()


def verify_bearer(
    authorization_header: str | None, secret: str, now: datetime | None = None
) -> TokenClaims:
    try:
        return verify_token(secret, bearer_token(authorization_header), now)
    except InvalidToken as error:
        raise Unauthenticated(EXPIRED_TOKEN if error.reason == EXPIRED else INVALID_TOKEN) from None


async def resolve_principal(claims: TokenClaims, directory: IdentityDirectory) -> Principal:
    if await directory.is_revoked(claims.token_id):
        raise Unauthenticated(REVOKED_TOKEN)
    profile = await directory.get_user(claims.account_id, claims.user_id)
    if profile is None:
        profile = await _wait_for_new_user(claims, directory)
    if not profile.active:
        raise Unauthenticated(DEACTIVATED_USER)
    # One team at a time: a directory may sit on a single connection.
    team_member_ids: set[int] = set()
    for team_id in sorted(profile.team_ids):
        team_member_ids |= await directory.team_members(claims.account_id, team_id)
    return Principal.from_profile(profile, claims.token_id, team_member_ids)


# A token carries a valid signature, so its user was created: a directory that
# does not know them yet is a moment behind the identity events. Wait that
# moment rather than refuse a user's first request to a service.
NEW_USER_GRACE_SECONDS = 3.0


async def _wait_for_new_user(claims: TokenClaims, directory: IdentityDirectory) -> AccessProfile:
    deadline = time.monotonic() + NEW_USER_GRACE_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        refresh = getattr(directory, "clear_cache", None)
        if refresh:
            refresh()
        profile = await directory.get_user(claims.account_id, claims.user_id)
        if profile is not None:
            return profile
    raise Unauthenticated(UNKNOWN_USER)


async def authenticate(
    authorization_header: str | None,
    secret: str,
    directory: IdentityDirectory,
    now: datetime | None = None,
) -> Principal:
    """The caller of a request; Unauthenticated (401) when there is none."""
    claims = verify_bearer(authorization_header, secret, now)
    return await resolve_principal(claims, directory)
