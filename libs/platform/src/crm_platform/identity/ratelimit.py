"""Per-token burst limit shared by every replica, held in Redis (R-AUTH-4).

The hosted CRM allows a private app a burst of requests per 10-second
interval (190 on Pro) and answers 429 past it. We count the same way:

A fixed window per token, counted by a Lua script (INCR, and PEXPIRE on the
first hit) so that the count and its expiry are one atomic step on the Redis
server. Why fixed rather than a sliding log in a sorted set: one small key
per token instead of one entry per request (190 per token per window), O(1)
work per request, the window is timed by Redis' own clock so replicas with
skewed clocks agree, and it is how the hosted CRM describes its own limit
(an interval with a maximum and a remaining count). The cost: a client can
fit up to twice the limit across a window boundary, which a burst guard can
live with.

If Redis cannot be reached the limiter lets the request through and logs
it (fail open): an outage of the limiter must not take every API down.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

DEFAULT_LIMIT = 190
DEFAULT_WINDOW_SECONDS = 10
KEY_PREFIX = "crm:ratelimit:"

log = logging.getLogger(__name__)

# KEYS[1] the token's counter; ARGV[1] the window in milliseconds.
# Returns the count including this request and the milliseconds left in the window.
_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- a counter left without expiry would block the token for good: repair it
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    window_ms: int
    retry_after: int  # whole seconds until the window resets; 0 when allowed


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    """The hosted CRM's rate limit headers, with Retry-After on a refusal."""
    headers = {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(decision.window_ms),
        "X-HubSpot-RateLimit-Max": str(decision.limit),
        "X-HubSpot-RateLimit-Remaining": str(decision.remaining),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers


def decide(count: int, ms_left: int, limit: int, window_ms: int) -> RateDecision:
    """The decision for the `count`-th request of a window with `ms_left` to run."""
    allowed = count <= limit
    return RateDecision(
        allowed=allowed,
        limit=limit,
        remaining=max(0, limit - count),
        window_ms=window_ms,
        retry_after=0 if allowed else max(1, math.ceil(ms_left / 1000)),
    )


class RateLimiter:
    def __init__(
        self,
        redis_client: Redis,
        limit: int = DEFAULT_LIMIT,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window_ms = int(window_seconds * 1000)
        self._key_prefix = key_prefix
        self._count_hit = redis_client.register_script(_COUNT_HIT)
        self._last_warning = 0.0

    async def hit(self, token_id: str) -> RateDecision:
        """Count one request of this token and say whether it may go on."""
        try:
            count, ms_left = await self._count_hit(
                keys=[self._key_prefix + token_id], args=[self.window_ms]
            )
        except (TimeoutError, RedisError, OSError):  # fail open, see the module doc
            self._warn_unavailable()
            return decide(0, self.window_ms, self.limit, self.window_ms)
        return decide(int(count), int(ms_left), self.limit, self.window_ms)

    def _warn_unavailable(self) -> None:
        # At most one line every 10 s: a Redis outage must not flood the logs.
        now = time.monotonic()
        if now - self._last_warning >= 10:
            self._last_warning = now
            log.warning("rate limiter unavailable, letting requests through", exc_info=True)
