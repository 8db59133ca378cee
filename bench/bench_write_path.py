"""Write path: contacts stored and published per second, beside raw Kafka and PostgreSQL.

End to end = batch creates of 100 through the nginx gateway into the records
service (stored with history and outbox rows in one transaction), until the
relay has published every event. Raw rates use the same ~0.6 KB payloads:
an idempotent aiokafka producer with pipelined sends, and asyncpg COPY into a
jsonb table in batches of 1,000. Index lag = when the search service indexed
a contact minus when records stored it, from the search store. Records CPU per
contact = the records process's process_cpu_seconds_total over the run (its own
consumers of these events included) divided by the contacts: on this shared box
the rates move with other engineers' load, this figure much less.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from figures import Figure, percentile

from crm_contracts.topics import RECORDS

GATEWAY = os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")
RECORDS_URL = os.environ.get("RECORDS_URL", "http://127.0.0.1:8001")
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
RECORDS_DB = os.environ.get("RECORDS_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:15432/crm_records")
SEARCH_DB = os.environ.get("SEARCH_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:15432/crm_search")
TOTAL = int(os.environ.get("BENCH_CONTACTS", "20000"))
BATCH = 100
CONCURRENCY = 8


def contact(i: int, run: str) -> dict[str, str]:
    return {"email": f"bench-{run}-{i}@example.com", "firstname": f"First{i}",
            "lastname": f"Last{i}", "jobtitle": "Customer success manager",
            "company": "Example Holdings International", "phone": "+31 20 123 4567",
            "city": "Amsterdam", "lifecyclestage": "lead"}


async def raw_postgres_rate(payloads: list[dict]) -> float:
    conn = await asyncpg.connect(RECORDS_DB.rsplit("/", 1)[0] + "/postgres")
    name = f"crm_bench_raw_{uuid.uuid4().hex[:6]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    conn = await asyncpg.connect(RECORDS_DB.rsplit("/", 1)[0] + "/" + name)
    try:
        await conn.execute("CREATE TABLE raw (id bigint PRIMARY KEY, properties jsonb NOT NULL)")
        rows = [(i, json.dumps(p)) for i, p in enumerate(payloads)]
        started = time.perf_counter()
        for start in range(0, len(rows), 1000):
            async with conn.transaction():
                await conn.copy_records_to_table("raw", records=rows[start:start + 1000],
                                                 columns=["id", "properties"])
        return len(rows) / (time.perf_counter() - started)
    finally:
        await conn.close()
        conn = await asyncpg.connect(RECORDS_DB.rsplit("/", 1)[0] + "/postgres")
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


async def raw_kafka_rate(payloads: list[dict]) -> float:
    topic = f"bench.raw.{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=RECORDS.partitions,
                                        replication_factor=1)])
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all",
                                linger_ms=2, max_batch_size=256 * 1024)
    await producer.start()
    try:
        headers = [("ce_id", b"x" * 36), ("ce_type", b"crm.record.created.v1"),
                   ("traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01")]
        values = [json.dumps(p).encode() for p in payloads]
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=str(i).encode(), headers=headers)
                   for i, v in enumerate(values)]
        await asyncio.gather(*futures)
        return len(values) / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await admin.delete_topics([topic])
        await admin.close()


class EndOffsets:
    """The sum of the records topic's end offsets: how many events it holds."""

    def __init__(self) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
        self.partitions: list[TopicPartition] = []

    async def __aenter__(self) -> EndOffsets:
        await self.consumer.start()
        self.partitions = [TopicPartition(RECORDS.name, p) for p in range(RECORDS.partitions)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def total(self) -> int:
        return sum((await self.consumer.end_offsets(self.partitions)).values())


async def records_cpu_seconds() -> float | None:
    """The records process's CPU time so far, or None when unreadable (e.g.
    RECORDS_WORKERS=2: each scrape answers for one worker only)."""
    return await process_cpu(RECORDS_URL)


async def process_cpu(base_url: str) -> float | None:
    """process_cpu_seconds_total of the service at base_url (its /metrics)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        try:
            answer = await client.get("/metrics")
        except httpx.HTTPError:
            return None
    for line in answer.text.splitlines():
        if line.startswith("process_cpu_seconds_total "):
            return float(line.split()[1])
    return None


async def new_account(client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    answer = await client.post("/identity/v1/accounts", json={"name": "bench"},
                               headers={"X-Operator-Key": os.environ["RECORDS_OPERATOR_KEY"]})
    answer.raise_for_status()
    return answer.json()["accountId"], {"Authorization": f"Bearer {answer.json()['token']}"}


async def end_to_end(payloads: list[dict]) -> tuple[float, float, int, float | None]:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=60, limits=limits) as client, \
            EndOffsets() as offsets:
        account_id, headers = await new_account(client)
        await asyncio.sleep(1)  # let the other services learn the new user
        offsets_before = await offsets.total()
        batches = [payloads[i:i + BATCH] for i in range(0, len(payloads), BATCH)]
        queue: asyncio.Queue[list[dict]] = asyncio.Queue()
        throttled: list[int] = []
        for b in batches:
            queue.put_nowait(b)

        async def worker() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                while True:
                    answer = await client.post(
                        "/crm/v3/objects/contacts/batch/create", headers=headers,
                        json={"inputs": [{"properties": p} for p in batch]})
                    if answer.status_code != 429:
                        break
                    throttled.append(1)  # a real client honours Retry-After too
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                answer.raise_for_status()

        cpu_before = await records_cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(CONCURRENCY)])
        stored = time.perf_counter() - started
        while await offsets.total() - offsets_before < len(payloads):
            await asyncio.sleep(0.02)
        published = time.perf_counter() - started
        await asyncio.sleep(1)  # the service's own consumers of these events finish
        cpu_after = await records_cpu_seconds()
    cpu = (cpu_after - cpu_before if cpu_before is not None and cpu_after is not None
           else None)
    if throttled:
        print(f"  note: {len(throttled)} batches were rate limited (429); run the services with "
              "RECORDS_RATE_LIMIT_PER_10S raised, as `make bench` does, to measure the platform")
    return len(payloads) / stored, len(payloads) / published, account_id, cpu


async def index_lags(account_id: int, expected: int) -> list[float]:
    conn = await asyncpg.connect(SEARCH_DB)
    try:
        deadline = time.monotonic() + 300
        while await conn.fetchval("SELECT count(*) FROM search_documents WHERE account_id = $1",
                                  account_id) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        rows = await conn.fetch(
            "SELECT extract(epoch FROM indexed_at - updated_at) AS lag FROM search_documents"
            " WHERE account_id = $1", account_id)
        return [float(r["lag"]) for r in rows]
    finally:
        await conn.close()


async def run() -> list[Figure]:
    run_id = uuid.uuid4().hex[:6]
    payloads = [contact(i, run_id) for i in range(TOTAL)]
    pg_rate = await raw_postgres_rate(payloads)
    kafka_rate = await raw_kafka_rate(payloads)
    stored_rate, published_rate, account_id, cpu = await end_to_end(payloads)
    lags = await index_lags(account_id, TOTAL)
    return [
        Figure(f"contacts stored, end to end ({TOTAL:,} in batches of 100)", stored_rate,
               "rec/s", "HTTP via nginx, history + outbox in one tx"),
        Figure("contacts stored and published, end to end", published_rate, "rec/s",
               "until every event is on Kafka"),
        Figure("raw PostgreSQL COPY, same payloads", pg_rate, "rows/s", "asyncpg, 1,000/tx"),
        Figure("raw Kafka produce, same payloads", kafka_rate, "msg/s",
               "idempotent, pipelined"),
        Figure("records CPU per contact (its own consumers included)",
               cpu / TOTAL * 1000 if cpu is not None else float("nan"), "ms",
               "process_cpu_seconds_total; load-independent, unlike the rates"),
        Figure("end to end / raw PostgreSQL", published_rate / pg_rate, "x"),
        Figure("end to end / raw Kafka", published_rate / kafka_rate, "x"),
        Figure("search index lag p50 (burst of the batch writes)", percentile(lags, .5) * 1000,
               "ms", "indexed_at - stored_at"),
        Figure("search index lag p99 (burst of the batch writes)", percentile(lags, .99) * 1000,
               "ms"),
    ]
