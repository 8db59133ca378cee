"""Authorization on a record read: GET by id with and without the caller's principal.

One in-process records app (no gateway, no consumers, no relay) on the running
PostgreSQL and Redis answers the same GET /crm/v3/objects/contacts/{id} in
three ways, interleaved so that the machine's noise falls on all of them:
without authorization (the principal dependency replaced by a fixed Principal),
with it as deployed (token check, Redis rate limit, identity directory behind
its short cache: cache hits), and with it on a directory whose cache is off
(every request reads the identity tables). The token check alone is timed
too (pure CPU). Record-level visibility (R-AUTH-3) stays in every variant: it
is part of the read, not of the principal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable

import httpx
from figures import Figure, percentile

from crm_platform.identity.pg_directory import PgIdentityDirectory
from crm_platform.identity.principal import Principal
from crm_platform.identity.resolve import resolve_principal, verify_bearer
from crm_platform.testing import running, service_env
from crm_records.api import deps
from crm_records.main import create_app
from crm_records.settings import Settings

ROUNDS = int(os.environ.get("BENCH_AUTH_ROUNDS", "400"))


async def _timed(call: Callable[[], Awaitable[httpx.Response]]) -> float:
    started = time.perf_counter()
    answer = await call()
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return elapsed * 1000


async def run() -> list[Figure]:
    settings = Settings(**service_env("RECORDS_", run_consumers=False, run_outbox_relay=False,
                                      rate_limit_per_10s=100_000_000))
    app = create_app(settings)
    async with running(app) as client:
        account = await client.post("/identity/v1/accounts", json={"name": "bench-auth"},
                                    headers={"X-Operator-Key": os.environ[
                                        "RECORDS_OPERATOR_KEY"]})
        account.raise_for_status()
        token = account.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post("/crm/v3/objects/contacts", headers=headers,
                                    json={"properties": {"email": "auth@example.com"}})
        created.raise_for_status()
        path = f"/crm/v3/objects/contacts/{created.json()['id']}"
        container = app.state.container
        cached_directory = container.directory
        uncached_directory = PgIdentityDirectory(app.state.runtime.pool, cache_ttl=0)
        async def without_auth() -> httpx.Response:
            return await client.get(path)

        async def with_auth() -> httpx.Response:
            container.directory = cached_directory
            return await client.get(path, headers=headers)

        async def with_auth_uncached() -> httpx.Response:
            container.directory = uncached_directory
            try:
                return await client.get(path, headers=headers)
            finally:
                container.directory = cached_directory

        # The very Principal the real dependency resolves, handed over when it is skipped.
        fixed = await resolve_principal(verify_bearer(f"Bearer {token}", container.token_secret),
                                        cached_directory)

        async def fixed_principal() -> Principal:
            return fixed

        variants = {"without": without_auth, "cached": with_auth,
                    "uncached": with_auth_uncached}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(20):  # warm every path first
            await with_auth()
        for _ in range(ROUNDS):
            for name, call in variants.items():
                if name == "without":  # the route's principal dependency, replaced
                    app.dependency_overrides[deps.principal] = fixed_principal
                try:
                    times[name].append(await _timed(call))
                finally:
                    app.dependency_overrides.clear()
        check = []
        for _ in range(ROUNDS * 5):
            started = time.perf_counter()
            verify_bearer(f"Bearer {token}", container.token_secret)
            check.append((time.perf_counter() - started) * 1000)

    def p(name: str, fraction: float) -> float:
        return percentile(times[name], fraction)

    note = f"{ROUNDS} GETs each, interleaved, in-process"
    return [
        Figure("GET record without authorization p50", p("without", .5), "ms", note),
        Figure("GET record without authorization p99", p("without", .99), "ms"),
        Figure("GET record with authorization p50 (directory cache hit)", p("cached", .5),
               "ms", "token check + Redis rate limit + cached identity"),
        Figure("GET record with authorization p99 (directory cache hit)", p("cached", .99),
               "ms"),
        Figure("GET record with authorization p50 (directory read)", p("uncached", .5), "ms",
               "identity tables read on every request"),
        Figure("GET record with authorization p99 (directory read)", p("uncached", .99), "ms"),
        Figure("authorization cost p50 (cache hit - without)",
               p("cached", .5) - p("without", .5), "ms"),
        Figure("authorization cost p50 (directory read - without)",
               p("uncached", .5) - p("without", .5), "ms"),
        Figure("token signature and expiry check p50", percentile(check, .5) * 1000, "us",
               "no I/O"),
    ]
