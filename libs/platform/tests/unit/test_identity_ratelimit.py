"""Rate limit decisions and headers, without Redis (R-AUTH-4).

The shared count itself is proven against a real Redis in
tests/integration/test_ratelimit_redis.py.
"""

from redis.exceptions import ConnectionError as RedisConnectionError

from crm_platform.identity.errors import RateLimited
from crm_platform.identity.ratelimit import RateLimiter, decide, rate_limit_headers


def test_requests_up_to_the_limit_are_allowed_and_count_down():
    first = decide(count=1, ms_left=10_000, limit=190, window_ms=10_000)
    last = decide(count=190, ms_left=2_000, limit=190, window_ms=10_000)
    assert first.allowed and first.remaining == 189 and first.retry_after == 0
    assert last.allowed and last.remaining == 0


def test_past_the_limit_is_refused_until_the_window_ends():
    # R-AUTH-4: retry after the rest of the window, rounded up to whole seconds.
    refused = decide(count=191, ms_left=2_300, limit=190, window_ms=10_000)
    assert not refused.allowed and refused.remaining == 0 and refused.retry_after == 3
    almost_over = decide(count=500, ms_left=1, limit=190, window_ms=10_000)
    assert almost_over.retry_after == 1


def test_headers_follow_the_hosted_crm():
    allowed = decide(count=10, ms_left=5_000, limit=190, window_ms=10_000)
    assert rate_limit_headers(allowed) == {
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": "190",
        "X-HubSpot-RateLimit-Remaining": "180",
    }
    refused = decide(count=191, ms_left=4_200, limit=190, window_ms=10_000)
    assert rate_limit_headers(refused)["Retry-After"] == "5"
    assert rate_limit_headers(refused)["X-HubSpot-RateLimit-Remaining"] == "0"


def test_rate_limited_error_is_a_429_with_retry_after():
    error = RateLimited(decide(count=191, ms_left=4_200, limit=190, window_ms=10_000))
    assert error.status_code == 429
    assert error.headers["Retry-After"] == "5"
    assert "190" in error.reason


class UnreachableRedis:
    def register_script(self, script):
        async def run(keys, args):
            raise RedisConnectionError("connection refused")

        return run


async def test_limiter_lets_requests_through_when_redis_is_down():
    limiter = RateLimiter(UnreachableRedis(), limit=5, window_seconds=10)
    decision = await limiter.hit("token")
    assert decision.allowed and decision.limit == 5 and decision.remaining == 5
