"""Per-request CPU of the platform's HTTP stack (crm_platform.http.base_app: error
handlers, probes, Prometheus metrics middleware, OpenTelemetry server spans) and of
releasing a pooled PostgreSQL connection, beside the raw parts.

Every service answers through `base_app`, so its per-request cost is paid on every
call of every service. The apps are driven in this process through ASGI (no socket,
no HTTP parser: a minimal scope/receive/send, as uvicorn hands them), one request at
a time, BENCH_HTTP_REQUESTS times per variant after a warm-up; CPU is
`time.process_time()` of this whole process (every thread: the span processor's
export thread included) over the requests. Tracing is on, as under `make up`: a
TracerProvider with a BatchSpanProcessor whose exporter counts spans and drops them
(the cost of encoding and posting to Zipkin is not included).

Variants, each printed as us of CPU per request:
  raw: a bare ASGI app answering the same JSON bytes (the driver's own cost);
  raw: a bare FastAPI app with the same routes (no platform middleware, no tracing,
       FastAPI's built-in telemetry off);
  base_app: the platform app with the same routes.
Two routes: GET /bench/ping (no I/O) and GET /bench/items/{id} (one `SELECT $1::int`
on a pooled connection). For the pool: the raw part (acquire + query + release with
the platform pool), the same with asyncpg's default release reset
(`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`), and the wall
time and the PostgreSQL backend's CPU (/proc) per call of each (the reset is also a
round trip and server work).

Measured 2026-11-23 18:23 (load ~1.5), full size, one run before and one after the
change of the platform's middleware, tracing set-up and pool release:
  bare ASGI 1.6 us; bare FastAPI ping 31 / 32 us;
  base_app ping 401 -> 171 us (spans per request: 3 internal + 1 server -> 1 server);
  acquire + query + release 64 -> 47 us CPU, 101 -> 61 us wall, PostgreSQL backend
  30 -> 10 us (asyncpg's default reset in the same run: 64 / 69 us, 30 us backend);
  base_app item 692 -> 321 us (bare FastAPI item with the default reset 148 / 160 us).
The pool release without reset measured here was reverted the same day (a connection
broken by a PostgreSQL outage must be dropped by the reset's round trip: docs/DEVELOPING.md),
so the platform pool is asyncpg's default again and the two pool rows read the same.

BENCH_HTTP_DSN: any database (only `SELECT $1::int` runs; default the local server's
`postgres` database). BENCH_HTTP_REQUESTS: requests per variant (default 3000).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Figure  # noqa: E402

from crm_platform.db import create_pool, init_connection  # noqa: E402
from crm_platform.http import base_app  # noqa: E402

DSN = os.environ.get("BENCH_HTTP_DSN", "postgresql://postgres@127.0.0.1:15432/postgres")
REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "3000"))
WARMUP = 200
ROUNDS = 5

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]],
                   Awaitable[None]]


class CountingExporter(SpanExporter):
    """Keeps only counts, so the figure is span creation and processing, not I/O."""

    def __init__(self) -> None:
        self.by_kind: dict[str, int] = {}

    def export(self, spans: Any) -> SpanExportResult:
        for span in spans:
            kind = span.kind.name
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


async def request(app: ASGIApp, path: str) -> int:
    """One GET through the app as an ASGI server hands it over; returns the status.
    A second receive() waits for the response to finish, then reports the disconnect
    (what uvicorn does), so middleware that listens for it behaves as in production."""
    done = asyncio.Event()
    status = 0
    first = True

    async def receive() -> dict:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
             "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"bench"), (b"user-agent", b"bench")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    await app(scope, receive, send)
    return status


async def measure(variants: dict[str, Callable[[int], Awaitable[object]]],
                  settle: Callable[[], object] = lambda: None
                  ) -> dict[str, tuple[float, float]]:
    """(us of CPU, us of wall time) per call of each variant: the median of ROUNDS rounds,
    each running every variant in turn, so a burst of load on the shared box falls on
    all variants alike instead of on whichever ran then. `settle` runs inside each timed
    round (the span processor's flush), so a variant's spans are processed in its own
    round, not in the next variant's."""
    for call in variants.values():
        for i in range(WARMUP):
            await call(i)
    per_round = REQUESTS // ROUNDS
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, call in variants.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(per_round):
                await call(i)
            settle()
            samples[name].append(((time.process_time() - cpu) / per_round * 1e6,
                                  (time.perf_counter() - wall) / per_round * 1e6))
    return {name: (statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs))
            for name, runs in samples.items()}


def backend_cpu_seconds(pid: int) -> float:
    """utime + stime of a PostgreSQL backend on this machine (/proc, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_cpu_per_call(pools: dict[str, asyncpg.Pool],
                               call: Callable[[asyncpg.Pool, int], Awaitable[object]]
                               ) -> dict[str, float]:
    """us of the server backend's CPU per call, the variants interleaved in rounds and
    summed (a clock tick is 10 ms, too coarse for one round)."""
    pids = {}
    for name, pool in pools.items():
        async with pool.acquire() as conn:
            pids[name] = await conn.fetchval("SELECT pg_backend_pid()")
    used = dict.fromkeys(pools, 0.0)
    per_round = REQUESTS // ROUNDS
    for _ in range(ROUNDS):
        for name, pool in pools.items():
            before = backend_cpu_seconds(pids[name])
            for i in range(per_round):
                await call(pool, i)
            used[name] += backend_cpu_seconds(pids[name]) - before
    return {name: seconds / (per_round * ROUNDS) * 1e6 for name, seconds in used.items()}


def add_routes(app: FastAPI) -> None:
    @app.get("/bench/ping")
    async def ping() -> dict:
        return {"ok": True}

    @app.get("/bench/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict:
        async with request.app.state.pool.acquire() as conn:
            return {"id": await conn.fetchval("SELECT $1::int", item_id)}


async def bare_asgi(scope: dict, receive: Any, send: Any) -> None:
    body = b'{"ok":true}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def platform_app(pool: asyncpg.Pool) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        yield

    app = base_app(service="bench", title="bench", lifespan=lifespan, checks=dict)
    app.state.pool = pool
    add_routes(app)
    return app


def bare_app(pool: asyncpg.Pool) -> FastAPI:
    # FastAPI's own telemetry off too: with a tracer provider set, it would make a
    # server span and spans per dependency, endpoint and serialization itself.
    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.pool = pool
    add_routes(app)
    return app


async def run() -> list[Figure]:
    exporter = CountingExporter()
    provider = TracerProvider()
    processor = BatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    platform_pool = await create_pool(DSN, min_size=1, max_size=1)
    full_reset_pool = await asyncpg.create_pool(DSN, min_size=1, max_size=1,
                                                init=init_connection)
    try:
        platform, bare = platform_app(platform_pool), bare_app(full_reset_pool)
        for app in (platform, bare):
            assert await request(app, "/bench/ping") == 200
            assert await request(app, "/bench/items/7") == 200

        async def raw_query(pool: asyncpg.Pool, i: int) -> object:
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT $1::int", i)

        processor.force_flush()
        spans_before = dict(exporter.by_kind)
        await measure({"probe": lambda i: request(platform, "/bench/ping")})
        processor.force_flush()
        spans = {k: (v - spans_before.get(k, 0)) / (WARMUP + REQUESTS // ROUNDS * ROUNDS)
                 for k, v in exporter.by_kind.items()}
        ping = await measure({
            "driver": lambda i: request(bare_asgi, "/bench/ping"),
            "bare": lambda i: request(bare, "/bench/ping"),
            "platform": lambda i: request(platform, "/bench/ping")}, processor.force_flush)
        query = await measure({
            "full": lambda i: raw_query(full_reset_pool, i),
            "platform": lambda i: raw_query(platform_pool, i)})
        server = await backend_cpu_per_call(
            {"full": full_reset_pool, "platform": platform_pool}, raw_query)
        item = await measure({
            "bare": lambda i: request(bare, f"/bench/items/{i}"),
            "platform": lambda i: request(platform, f"/bench/items/{i}")}, processor.force_flush)
        processor.force_flush()
    finally:
        await platform_pool.close()
        await full_reset_pool.close()
    span_note = ", ".join(f"{kind.lower()} {count:.2f}" for kind, count in sorted(spans.items()))
    return [
        Figure("raw: bare ASGI app (the driver), CPU/request", ping["driver"][0], "us"),
        Figure("raw: bare FastAPI GET /bench/ping, CPU/request", ping["bare"][0], "us"),
        Figure("base_app GET /bench/ping, CPU/request", ping["platform"][0], "us",
               f"spans per request: {span_note}"),
        Figure("  base_app / bare FastAPI (ping)", ping["platform"][0] / ping["bare"][0], "x"),
        Figure("  platform stack's own CPU (ping)", ping["platform"][0] - ping["bare"][0], "us"),
        Figure("raw: acquire+query+release, asyncpg default reset, CPU", query["full"][0], "us",
               f"wall {query['full'][1]:.0f} us, server backend {server['full']:.0f} us"),
        Figure("raw: acquire+query+release, platform pool, CPU", query["platform"][0], "us",
               f"wall {query['platform'][1]:.0f} us, server backend {server['platform']:.0f} us"),
        Figure("  platform pool / default reset (CPU)",
               query["platform"][0] / query["full"][0], "x"),
        Figure("  platform pool / default reset (wall)",
               query["platform"][1] / query["full"][1], "x"),
        Figure("raw: bare FastAPI GET /bench/items/{id} (default reset), CPU",
               item["bare"][0], "us", f"wall {item['bare'][1]:.0f} us"),
        Figure("base_app GET /bench/items/{id} (platform pool), CPU", item["platform"][0], "us",
               f"wall {item['platform'][1]:.0f} us"),
        Figure("  base_app item / bare FastAPI item", item["platform"][0] / item["bare"][0], "x"),
        Figure("  base_app item / (bare ping + raw default-reset query)",
               item["platform"][0] / (ping["bare"][0] + query["full"][0]), "x"),
    ]

if __name__ == "__main__":
    for figure in asyncio.run(run()):
        print(f"  {figure.name:<58} {figure.render():>12}  {figure.note}")
