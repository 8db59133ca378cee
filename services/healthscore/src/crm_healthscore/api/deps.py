"""Route dependencies: the caller, what they may do, and domain errors as answers."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request

from crm_healthscore.adapters import store
from crm_healthscore.bootstrap import Container
from crm_healthscore.domain.limits import LimitReached
from crm_healthscore.domain.profile import ProfileInvalid
from crm_healthscore.handlers.profiles import CustomerNotFound, NothingToPublish, ProfileNotFound
from crm_platform.identity.access import (
    can_edit_health_scores,
    can_manage_cs_settings,
    can_view,
    can_view_cs_summary,
    require,
)
from crm_platform.identity.fastapi import principal_dependency, requires
from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError

principal = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)
# R-HLTH-5: a Service seat and super admin or cs_settings_manage create, edit, publish.
Editor = Annotated[Principal, Depends(requires(principal, can_edit_health_scores))]
# Everyone with workspace access reads; a super admin without a seat sees the Summary
# (R-CSW-1), whose health overview and alerts come from here.
Reader = Annotated[Principal, Depends(requires(principal, can_view_cs_summary))]


def container(request: Request) -> Container:
    return request.app.state.container


App = Annotated[Container, Depends(container)]


def require_other_user_allowed(caller: Principal, user_id: int) -> None:
    """R-CSW-3: a super admin or settings manager may open another user's alerts."""
    if user_id != caller.user_id:
        require(can_manage_cs_settings(caller))


async def require_visible_customer(conn: asyncpg.Connection, caller: Principal,
                                   customer_id: int) -> str:
    """R-AUTH-3: a customer the caller may not see answers 404, as an unknown one does.
    Returns the customer object type."""
    customer_type, _ = await store.customer_settings(conn, caller.account_id)
    stored = await store.load_facts(conn, caller.account_id, customer_type, customer_id)
    owner = (stored.properties or {}).get("hubspot_owner_id")
    if stored.properties is None or not can_view(
            caller, customer_type, int(owner) if owner and owner.isdigit() else None,
            account_id=caller.account_id):
        raise ApiError(404, f"customer {customer_id} not found")
    return customer_type


def require_operator(request: Request,
                     x_operator_key: Annotated[str | None, Header()] = None) -> None:
    expected = request.app.state.container.operator_key
    if not expected:
        raise ApiError(403, "The operator API is disabled: HEALTHSCORE_OPERATOR_KEY is not set.")
    if not x_operator_key or not hmac.compare_digest(x_operator_key, expected):
        raise ApiError(401, "A valid X-Operator-Key header is required.")


@asynccontextmanager
async def answers() -> AsyncIterator[None]:
    """Domain errors as problem+json naming what is wrong."""
    try:
        yield
    except ProfileInvalid as invalid:
        raise ApiError(400, f"Invalid score profile: {invalid}", [
            {"in": path, "message": message} for path, message in invalid.errors]) from None
    except LimitReached as limit:
        raise ApiError(400, f"Limit reached: {limit}", [
            {"in": limit.limit, "message": str(limit), "limit": limit.allowed}]) from None
    except NothingToPublish as nothing:
        raise ApiError(400, str(nothing)) from None
    except (ProfileNotFound, CustomerNotFound) as missing:
        raise ApiError(404, str(missing)) from None
