"""The route dependency: 401, 403, 429 with Retry-After, and rate limit headers
(R-AUTH-1, R-AUTH-4, R-EXP-1). In-process ASGI calls, a fake limiter, no I/O."""

from datetime import UTC, datetime, timedelta

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from crm_platform.identity.access import can_export
from crm_platform.identity.errors import IdentityError
from crm_platform.identity.fastapi import principal_dependency, requires
from crm_platform.identity.memory import InMemoryIdentityDirectory
from crm_platform.identity.principal import EXPORT, AccessProfile, Principal
from crm_platform.identity.ratelimit import decide
from crm_platform.identity.tokens import issue_token

SECRET = "fastapi-test-key"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class CountingLimiter:
    """Counts per token in a dictionary, as the Redis limiter does per window."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[str, int] = {}

    async def hit(self, token_id: str):
        self.counts[token_id] = self.counts.get(token_id, 0) + 1
        return decide(self.counts[token_id], 7_500, self.limit, 10_000)


def make_app(limit: int = 3) -> tuple[FastAPI, CountingLimiter]:
    users = InMemoryIdentityDirectory(
        [
            AccessProfile(account_id=7, user_id=1, permissions=frozenset({EXPORT})),
            AccessProfile(account_id=7, user_id=2),
        ]
    )
    limiter = CountingLimiter(limit)
    principal = principal_dependency(
        get_secret=lambda request: SECRET,
        get_directory=lambda request: users,
        get_limiter=lambda request: limiter,
        clock=lambda: NOW,
    )
    app = FastAPI()

    # Stands in for crm_platform.problem's mapping, which the lead owns.
    @app.exception_handler(IdentityError)
    async def identity_error(request: Request, error: IdentityError):
        return JSONResponse(
            {"category": error.category, "message": error.reason},
            status_code=error.status_code,
            headers=error.headers,
        )

    @app.get("/me")
    async def me(caller: Principal = Depends(principal)):
        return {"account": caller.account_id, "user": caller.user_id}

    @app.post("/export")
    async def export(caller: Principal = Depends(requires(principal, can_export))):
        return {"user": caller.user_id}

    return app, limiter


def bearer(user_id: int) -> dict[str, str]:
    token, _ = issue_token(SECRET, 7, user_id, timedelta(hours=1), NOW)
    return {"Authorization": f"Bearer {token}"}


def test_authenticated_request_gets_its_principal_and_rate_limit_headers():
    app, _ = make_app()
    response = TestClient(app).get("/me", headers=bearer(1))
    assert response.status_code == 200
    assert response.json() == {"account": 7, "user": 1}
    assert response.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert response.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


def test_no_or_bad_token_answers_401():
    # R-AUTH-1
    app, limiter = make_app()
    client = TestClient(app)
    missing = client.get("/me")
    assert missing.status_code == 401 and missing.json()["message"] == "missing_token"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/me", headers={"Authorization": "Bearer junk"}).status_code == 401
    # A token that fails verification is never counted against a limit.
    assert limiter.counts == {}


def test_past_the_burst_limit_answers_429_with_retry_after():
    # R-AUTH-4
    app, _ = make_app(limit=3)
    client = TestClient(app)
    headers = bearer(1)
    assert [client.get("/me", headers=headers).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/me", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "8"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert refused.json()["category"] == "RATE_LIMITS"
    # The limit is per token: another token of the same user is not refused.
    assert client.get("/me", headers=bearer(1)).status_code == 200


def test_missing_permission_answers_403_with_the_reason():
    # R-EXP-1
    app, _ = make_app()
    client = TestClient(app)
    assert client.post("/export", headers=bearer(1)).json() == {"user": 1}
    refused = client.post("/export", headers=bearer(2))
    assert refused.status_code == 403
    assert "export" in refused.json()["message"]
