"""Public analytics endpoints (R-MKT-2), called from visitors' browsers without
a bearer token, and the authenticated read of a contact's page-view roll-ups.

    POST /tracking/v1/{portalId}/pageviews  {"hutk", "url", "title"?, "at"?}
    POST /tracking/v1/{portalId}/identify   {"email", "hutk"}
    GET  /tracking/v1/{portalId}/contacts/{contactId}   (bearer token of that portal)

Public endpoints are rate limited per portal and per client address (the
gateway's X-Forwarded-For), and refuse oversized or malformed bodies with a
400 naming what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from crm_platform.identity.principal import Principal
from crm_platform.identity.ratelimit import RateLimiter, rate_limit_headers
from crm_platform.problem import ApiError
from crm_records.adapters.marketing_pg import MarketingUnitOfWork
from crm_records.api.deps import principal
from crm_records.domain import tracking as rules
from crm_records.domain.properties import format_datetime, parse_datetime
from crm_records.handlers.marketing import NotFound
from crm_records.handlers.tracking import TrackingHandler

router = APIRouter(prefix="/tracking/v1", tags=["tracking"])
Caller = Annotated[Principal, Depends(principal)]


@dataclass(frozen=True)
class PublicLimits:
    """Requests per 10 s a portal, and one client address, may send to the public
    endpoints; a test app may set `app.state.public_limits` before the first request."""

    per_portal: int = 2000
    per_client: int = 200


def _cached(request: Request, name: str, build: Any) -> Any:
    state = request.app.state
    if not hasattr(state, name):
        setattr(state, name, build())
    return getattr(state, name)


def marketing_unit_of_work(request: Request) -> MarketingUnitOfWork:
    return _cached(request, "marketing_uow",
                   lambda: MarketingUnitOfWork(request.app.state.container.pool))


def tracking_handler(request: Request) -> TrackingHandler:
    return _cached(request, "tracking_handler",
                   lambda: TrackingHandler(marketing_unit_of_work(request)))


def client_address(request: Request) -> str:
    """The address the gateway saw (it appends it last to X-Forwarded-For); earlier
    entries are whatever the client claimed, so they are not trusted."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"


async def check_public_limits(request: Request, portal_id: int) -> None:
    limits = _cached(request, "public_limits", PublicLimits)
    redis = request.app.state.runtime.redis
    limiters = _cached(request, "public_limiters", lambda: (
        RateLimiter(redis, limits.per_portal, key_prefix="crm:ratelimit:public:portal:"),
        RateLimiter(redis, limits.per_client, key_prefix="crm:ratelimit:public:client:")))
    for limiter, key in zip(limiters, (str(portal_id), client_address(request)), strict=True):
        decision = await limiter.hit(key)
        if not decision.allowed:
            raise ApiError(429, "Too many requests: try again after the Retry-After seconds",
                           category="RATE_LIMITS", headers=rate_limit_headers(decision))


async def json_body(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why not."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(400, f"Payload too large: at most {max_bytes} bytes")
    raw = await request.body()
    if len(raw) > max_bytes:
        raise ApiError(400, f"Payload too large: at most {max_bytes} bytes")
    try:
        body = json.loads(raw)
    except ValueError as bad:
        raise ApiError(400, f"Malformed JSON body: {bad}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object")
    return body


def invalid_payload(bad: rules.InvalidTrackingPayload) -> ApiError:
    return ApiError(400, bad.message, [{"message": p, "code": "INVALID_PAYLOAD"}
                                       for p in bad.problems])


def not_found(missing: NotFound) -> ApiError:
    return ApiError(404, f"{missing.what.capitalize()} not found: {missing.identifier}",
                    category="OBJECT_NOT_FOUND")


def _time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except (ValueError, OverflowError, OSError):
        raise ApiError(400, f"{name} must be ISO-8601 or epoch milliseconds") from None


@router.post("/{portal_id}/pageviews")
async def page_view(portal_id: int, request: Request) -> JSONResponse:
    await check_public_limits(request, portal_id)
    body = await json_body(request, rules.MAX_BODY_BYTES)
    try:
        await tracking_handler(request).page_view(
            portal_id, body.get("hutk"), body.get("url"), body.get("title"),
            _time(body.get("at"), "at"))
    except rules.InvalidTrackingPayload as bad:
        raise invalid_payload(bad) from None
    except NotFound as missing:
        raise not_found(missing) from None
    return JSONResponse({"status": "recorded"}, status_code=202)


@router.post("/{portal_id}/identify")
async def identify(portal_id: int, request: Request) -> dict[str, Any]:
    await check_public_limits(request, portal_id)
    body = await json_body(request, rules.MAX_BODY_BYTES)
    try:
        found = await tracking_handler(request).identify(portal_id, body.get("email"),
                                                         body.get("hutk"))
    except rules.InvalidTrackingPayload as bad:
        raise invalid_payload(bad) from None
    except NotFound as missing:
        raise not_found(missing) from None
    return {"contactId": str(found.contact_id), "created": found.created}


def _when(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


@router.get("/{portal_id}/contacts/{contact_id}")
async def contact_analytics(portal_id: int, contact_id: int, caller: Caller,
                            request: Request) -> dict[str, Any]:
    """The roll-ups under the hosted property names, and `updatedAt`: when they
    were last brought up to date (R-ROLL-2's explicit delay)."""
    if portal_id != caller.account_id:  # another account's data answers 404 (R-AUTH-1)
        raise ApiError(404, f"Contact not found: {contact_id}", category="OBJECT_NOT_FOUND")
    try:
        summary, updated_at = await tracking_handler(request).analytics(portal_id, contact_id)
    except NotFound as missing:
        raise not_found(missing) from None
    return {
        "contactId": str(contact_id),
        "properties": {
            "hs_analytics_num_page_views": str(summary.page_views),
            "hs_analytics_first_url": summary.first_url,
            "hs_analytics_first_timestamp": _when(summary.first_seen_at),
            "hs_analytics_last_url": summary.last_url,
            "hs_analytics_last_timestamp": _when(summary.last_seen_at),
        },
        "updatedAt": _when(updated_at),
    }
