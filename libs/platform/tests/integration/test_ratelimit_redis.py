"""The per-token burst limit against the real Redis (R-AUTH-4).

Uses REDIS_URL (default: the local stack's Redis). Each test counts under
its own key prefix and deletes its keys afterwards.
"""

import asyncio
import os
import uuid

import pytest
from redis.asyncio import Redis

from crm_platform.identity.ratelimit import RateLimiter

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:16379/0")


@pytest.fixture
async def redis_clients():
    """Two clients, as two replicas of a service would each have their own."""
    clients = [Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)]
    prefix = f"test:ratelimit:{uuid.uuid4().hex}:"
    yield clients, prefix
    keys = [key async for key in clients[0].scan_iter(match=prefix + "*")]
    if keys:
        await clients[0].delete(*keys)
    for client in clients:
        await client.aclose()


async def test_burst_past_the_limit_is_refused_with_retry_after(redis_clients):
    # R-AUTH-4
    (client, _), prefix = redis_clients
    limiter = RateLimiter(client, limit=5, window_seconds=10, key_prefix=prefix)
    decisions = [await limiter.hit("token-a") for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    assert refused.limit == 5 and refused.remaining == 0
    assert 0 < refused.retry_after <= 10
    # Another token has its own count.
    assert (await limiter.hit("token-b")).remaining == 4


async def test_two_replicas_share_one_count(redis_clients):
    # R-AUTH-4: the window is held in Redis, so replicas cannot each grant a full burst.
    (first_client, second_client), prefix = redis_clients
    replica_one = RateLimiter(first_client, limit=10, window_seconds=10, key_prefix=prefix)
    replica_two = RateLimiter(second_client, limit=10, window_seconds=10, key_prefix=prefix)
    # Concurrent hits from both replicas: the Lua script counts each exactly once.
    decisions = await asyncio.gather(
        *(replica.hit("shared") for replica in (replica_one, replica_two) for _ in range(8))
    )
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))
    assert not (await replica_one.hit("shared")).allowed
    assert not (await replica_two.hit("shared")).allowed


async def test_the_window_resets(redis_clients):
    # R-AUTH-4: once the window is over the token may burst again.
    (client, _), prefix = redis_clients
    limiter = RateLimiter(client, limit=2, window_seconds=0.5, key_prefix=prefix)
    assert [(await limiter.hit("t")).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.6)
    after = await limiter.hit("t")
    assert after.allowed and after.remaining == 1


async def test_a_counter_left_without_expiry_is_repaired(redis_clients):
    # A key that lost its expiry (e.g. restored from a snapshot) must not block a token forever.
    (client, _), prefix = redis_clients
    await client.set(prefix + "stuck", 100)
    limiter = RateLimiter(client, limit=2, window_seconds=10, key_prefix=prefix)
    refused = await limiter.hit("stuck")
    assert not refused.allowed and refused.retry_after == 10
    assert 0 < await client.pttl(prefix + "stuck") <= 10_000
