"""Why a request is refused, as exceptions the HTTP layer maps to responses.

crm_platform.problem turns these into the hosted-CRM error shape or
problem+json. Each carries its status, the hosted CRM's error category and
the headers the response must have:

- `Unauthenticated` -> 401 with `WWW-Authenticate: Bearer` (no, bad, expired
  or revoked token; unknown or deactivated user).
- `Forbidden` -> 403 (authenticated, but lacks a permission or seat).
  Records the user may not see are not Forbidden: they answer 404 (R-AUTH-3).
- `RateLimited` -> 429 with `Retry-After` and the rate limit headers (R-AUTH-4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept out at run time so pure code importing errors never imports redis
    from crm_platform.identity.ratelimit import RateDecision


class InvalidToken(Exception):
    """A bearer token that is malformed, wrongly signed or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityError(Exception):
    status_code: int = 500
    category: str = "ERROR"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def headers(self) -> dict[str, str]:
        return {}


class Unauthenticated(IdentityError):
    status_code = 401
    category = "INVALID_AUTHENTICATION"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(IdentityError):
    status_code = 403
    category = "MISSING_SCOPES"

    def __init__(self, reason: str, missing: str | None = None) -> None:
        super().__init__(reason)
        self.missing = missing


class RateLimited(IdentityError):
    status_code = 429
    category = "RATE_LIMITS"

    def __init__(self, decision: RateDecision) -> None:
        super().__init__(
            f"You have reached your burst limit of {decision.limit} requests "
            f"per {decision.window_ms // 1000} seconds."
        )
        self.decision = decision

    @property
    def headers(self) -> dict[str, str]:
        from crm_platform.identity.ratelimit import rate_limit_headers

        return rate_limit_headers(self.decision)
