"""Search: index lag at a steady 1,000 record writes/s for a minute (issue 5, R-SRCH-2).

What the search index consumes is the record events on `crm.records.v1`, so the
writes here are those events: this process publishes RecordCreated events for
new contacts of one account at BENCH_LAG_RATE per second (default 1,000) for
BENCH_LAG_SECONDS (60), each stamped with its CloudEvent time, exactly as the
records outbox relay would. (The records write path has its own bench,
bench_write_path, and on this 2-core machine it does not sustain 1,000/s beside
a search service; this bench measures the index, not records.)

The search service runs as its own process (`crm-search serve`) over a throwaway
database, with a consumer group of its own that starts at the topic's current
end (not at the backlog earlier runs left). Lag of an event = the moment its
document was stored (`indexed_at`, PostgreSQL's clock) minus its event time
(this process's clock; same machine). Beside it: the raw produce rate of the
same events in one burst, and the index's own catch-up rate on a burst of them.
(`indexed_at` is the indexing transaction's start; its commit follows within
the batch's few milliseconds.)

Measured on the 2-core dev machine, 2026-11-23, load average ~4 from other work:
    record events published (steady)        993 events/s  (60,000 over 60.4 s)
    index lag p50 / p99 / max               7 ms / 256 ms / 345 ms   (goal p99 < 1 s)
    raw produce, same events, one burst     17,794 events/s
    index catch-up on a burst of 20,000     4,906 events/s   (steady load: 0.20x of it)
Under load average 10-12 (five engineers' test runs) the same run gave p50 7.5 s,
p99 12.8 s: the indexer then got under a fifth of a core and fell behind.
After search migration 0009 (number terms in filter_terms), 18:57 UTC, the deployed
services stopped, load average ~1:
    record events published (steady)        993 events/s  (60,000 over 60.4 s)
    index lag p50 / p99 / max               5.9 ms / 190 ms / 242 ms
    raw produce, same events, one burst     35,960 events/s
    index catch-up on a burst of 20,000     6,498 events/s   (steady load: 0.15x of it)
(At load ~7, 18:16, with helpers' benches: p50 10.9 s, p99 18.4 s, catch-up 1,332/s.)
After search migration 0010 (GIN indexes written directly, no pending list), 20:06
UTC, the deployed services stopped, load average ~1:
    record events published (steady)        994 events/s  (60,000 over 60.3 s)
    index lag p50 / p99 / max               5.0 ms / 194 ms / 271 ms
    raw produce, same events, one burst     38,252 events/s
    index catch-up on a burst of 20,000     7,708 events/s   (steady load: 0.13x of it)
With the platform's consumer linger (SEARCH_CONSUMER_LINGER_MS, 100 ms once caught up),
22:18 UTC, only records deployed, load ~1-2; then the same with the linger at 0, 22:20:
    index lag p50 / p99 / max               38 ms / 230 ms / 513 ms    39 ms / 208 ms
    raw produce, same events, one burst     21,142 events/s            20,685 events/s
    index catch-up on a burst of 20,000     3,637 events/s             3,920 events/s
(The raw produce rate was half that of 20:06: the box itself was slower that hour.)
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from figures import Figure, percentile
from service_copy import KAFKA, ServiceCopy

from crm_contracts.envelope import CloudEvent, record_key
from crm_contracts.records.v1 import RecordCreated
from crm_contracts.topics import RECORDS

RATE = int(os.environ.get("BENCH_LAG_RATE", "1000"))
SECONDS = int(os.environ.get("BENCH_LAG_SECONDS", "60"))
BURST = int(os.environ.get("BENCH_LAG_BURST", "20000"))
SEARCH_DB = os.environ.get("SEARCH_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:15432/crm_search")
ACCOUNT_ID = 7_700_000 + int(time.time()) % 100_000
TICK_SECONDS = 0.01  # publish in 10 ms slices: a steady rate, not bursts


def contact_event(record_id: int) -> CloudEvent:
    now = datetime.now(UTC)
    data = RecordCreated(
        account_id=ACCOUNT_ID, object_type="contacts", record_id=record_id, version=1,
        properties={"email": f"lag{record_id}@example.com", "firstname": f"Lag{record_id}",
                    "lastname": "Bench", "lifecyclestage": "lead",
                    "createdate": now.isoformat(timespec="milliseconds").replace("+00:00", "Z")},
        created_at=now, updated_at=now, source="INTEGRATION")
    return CloudEvent.of(data, source="/crm/records", subject=f"contacts/{record_id}",
                         account_id=ACCOUNT_ID, time=now)


async def send(producer: AIOKafkaProducer, event: CloudEvent, record_id: int) -> asyncio.Future:
    return await producer.send(RECORDS.name, value=event.value(), headers=event.headers(),
                               key=record_key(ACCOUNT_ID, "contacts", record_id).encode())


async def steady(producer: AIOKafkaProducer, first_id: int) -> tuple[int, float]:
    """RATE events a second for SECONDS; (events sent, seconds taken)."""
    total = RATE * SECONDS
    started = time.perf_counter()
    sent = 0
    pending = []
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * RATE) + 1)
        while sent < due:
            pending.append(await send(producer, contact_event(first_id + sent), first_id + sent))
            sent += 1
        await asyncio.sleep(TICK_SECONDS)
    await asyncio.gather(*pending)
    return sent, time.perf_counter() - started


async def burst(producer: AIOKafkaProducer, first_id: int) -> float:
    """Raw produce rate of the same events, all at once (events/s)."""
    started = time.perf_counter()
    futures = [await send(producer, contact_event(i), i) for i in range(first_id, first_id + BURST)]
    await asyncio.gather(*futures)
    return BURST / (time.perf_counter() - started)


async def indexed(conn: asyncpg.Connection, first_id: int, count: int) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM search_documents WHERE account_id = $1 AND object_type = 'contacts'"
        " AND record_id >= $2 AND record_id < $3", ACCOUNT_ID, first_id, first_id + count)


async def wait_indexed(conn: asyncpg.Connection, first_id: int, count: int,
                       timeout: float = 600) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while await indexed(conn, first_id, count) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {await indexed(conn, first_id, count)} of {count} indexed")
        await asyncio.sleep(0.2)


async def lags(conn: asyncpg.Connection, first_id: int, count: int) -> list[float]:
    """Seconds from each event's time (the createdate it carries) to its document stored."""
    rows = await conn.fetch(
        "SELECT extract(epoch FROM indexed_at) * 1000 - ms_createdate AS lag_ms"
        " FROM search_documents WHERE account_id = $1 AND object_type = 'contacts'"
        " AND record_id >= $2 AND record_id < $3", ACCOUNT_ID, first_id, first_id + count)
    return [float(row["lag_ms"]) / 1000 for row in rows]


async def run() -> list[Figure]:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all",
                                linger_ms=2, max_batch_size=256 * 1024)
    await producer.start()
    try:
        async with ServiceCopy("search", SEARCH_DB, [("search-index", RECORDS)],
                               {"SEARCH_RATE_LIMIT_PER_10S": str(10**9)}) as search:
            conn = await asyncpg.connect(search.database_url)
            try:
                await send(producer, contact_event(1), 1)  # warm: the group joins, plans cache
                await wait_indexed(conn, 1, 1, timeout=300)

                first = 1_000
                sent, took = await steady(producer, first)
                await wait_indexed(conn, first, sent)
                steady_lags = await lags(conn, first, sent)

                burst_first = first + sent + 1_000
                started = time.perf_counter()
                produce_rate = await burst(producer, burst_first)
                await wait_indexed(conn, burst_first, BURST)
                catch_up = BURST / (time.perf_counter() - started)
            finally:
                await conn.close()
    finally:
        await producer.stop()
    note = f"{sent:,} RecordCreated over {took:.1f} s"
    return [
        Figure("record events published (steady)", sent / took, "events/s", note),
        Figure("index lag p50", percentile(steady_lags, .5) * 1000, "ms",
               "event time -> document stored (goal p99 < 1 s; hosted: up to 30 min)"),
        Figure("index lag p99", percentile(steady_lags, .99) * 1000, "ms"),
        Figure("index lag max", max(steady_lags) * 1000, "ms"),
        Figure("raw produce, same events in one burst", produce_rate, "events/s",
               f"{BURST:,} events, acks=all"),
        Figure("index catch-up on that burst", catch_up, "events/s",
               "burst produced -> all documents stored"),
        Figure("steady rate / index catch-up rate", (sent / took) / catch_up, "x",
               "share of the index's capacity the steady load uses"),
    ]

