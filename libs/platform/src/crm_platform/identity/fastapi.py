"""FastAPI glue: a route dependency that yields the caller's Principal.

    principal = principal_dependency(
        get_secret=lambda request: request.app.state.settings.token_secret.get_secret_value(),
        get_directory=lambda request: request.app.state.identity_directory,
        get_limiter=lambda request: request.app.state.rate_limiter,
    )

    @router.get("/crm/v3/objects/{object_type}")
    async def list_objects(object_type: str, caller: Principal = Depends(principal)): ...

    @router.post("/crm/v3/exports/export/async")
    async def start_export(caller: Principal = Depends(requires(principal, can_export))): ...

The dependency raises Unauthenticated (401), RateLimited (429 with
Retry-After) and `requires` raises Forbidden (403); crm_platform.problem
maps them to responses (each carries status_code, category and headers).
Every authenticated response carries the hosted CRM's rate limit headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from fastapi import Depends, Request, Response

from crm_platform.identity.access import AccessDecision, require
from crm_platform.identity.directory import IdentityDirectory
from crm_platform.identity.errors import RateLimited
from crm_platform.identity.principal import Principal
from crm_platform.identity.ratelimit import RateDecision, rate_limit_headers
from crm_platform.identity.resolve import resolve_principal, verify_bearer


class Limiter(Protocol):
    async def hit(self, token_id: str) -> RateDecision: ...


PrincipalDependency = Callable[[Request, Response], Awaitable[Principal]]


def principal_dependency(
    get_secret: Callable[[Request], str],
    get_directory: Callable[[Request], IdentityDirectory],
    get_limiter: Callable[[Request], Limiter | None],
    clock: Callable[[], datetime] | None = None,
) -> PrincipalDependency:
    """A dependency authenticating the request, then counting it against its token's limit.

    The token is verified first (no I/O), then rate limited by its id, then
    looked up in the directory, so a flood with one token costs no database
    reads. `get_limiter` may return None to switch limiting off.
    """

    async def current_principal(request: Request, response: Response) -> Principal:
        claims = verify_bearer(
            request.headers.get("authorization"),
            get_secret(request),
            clock() if clock else None,
        )
        limiter = get_limiter(request)
        if limiter is not None:
            decision = await limiter.hit(claims.token_id)
            if not decision.allowed:
                raise RateLimited(decision)
            response.headers.update(rate_limit_headers(decision))
        principal = await resolve_principal(claims, get_directory(request))
        # For logs and handlers that run outside the route (account id in every log line).
        request.state.principal = principal
        return principal

    return current_principal


def requires(
    principal: PrincipalDependency, check: Callable[[Principal], AccessDecision]
) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency yielding the Principal only if `check` allows it, else Forbidden (403)."""

    async def allowed_principal(caller: Principal = Depends(principal)) -> Principal:
        require(check(caller))
        return caller

    return allowed_principal
