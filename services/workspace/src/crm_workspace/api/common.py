"""Small helpers the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from crm_platform.identity.access import require
from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.domain.access import can_open_summary_of
from crm_workspace.domain.calendar import UnknownTimeZone, zone


def time_zone(name: str):  # type: ignore[no-untyped-def]
    try:
        return zone(name)
    except UnknownTimeZone as unknown:
        raise ApiError(400, str(unknown), [{"message": str(unknown), "in": "timeZone"}]
                       ) from None


def subject_user(caller: Principal, user_id: int | None) -> int:
    """Whose workspace is shown: the caller's, or another user's when allowed (R-CSW-3)."""
    chosen = caller.user_id if user_id is None else user_id
    require(can_open_summary_of(caller, chosen))
    return chosen


async def ensure_user_in_account(pool, account_id: int, user_id: int) -> None:  # type: ignore[no-untyped-def]
    """Another account's user id answers 404, never 403 (R-AUTH-1)."""
    found = await pool.fetchval("SELECT 1 FROM identity_users WHERE account_id = $1 AND "
                                "user_id = $2", account_id, user_id)
    if not found:
        raise ApiError(404, f"User {user_id} not found")


def storable_text(value: str) -> str:
    """PostgreSQL text takes neither NUL nor lone surrogates: refuse them as bad input."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# Whose workspace to show (R-CSW-3); ids are PostgreSQL bigints.
UserIdQuery = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
