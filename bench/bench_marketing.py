"""Marketing: form submissions per second end to end, and active-list membership lag (issue 11).

Everything runs against a throwaway copy of the records service started by this bench
(`crm-records serve`, one worker, its own database, the per-token API limit lifted), whose
consumer groups are committed at the end of their topics before it starts: it serves only
this bench's traffic and replays none of the backlog the shared topics hold.

Forms: PORTALS accounts with a form of email + first name; FORM_CLIENTS visitors post to
the public `POST /submissions/v3/integration/submit/{portal}/{form}` for FORM_SECONDS, each
with a new address (each submission stores a new contact with its history, the submission
row and the outbox events in one transaction). The public limits (2,000 per portal and 200
per client address per 10 s) are kept: the visitors come from SOURCES loopback addresses
(127.0.0.10..), so the limits allow min(PORTALS x 200, SOURCES x 20) per second. Beside it:
the same submissions through the handler in-process (no HTTP), with the SQL statements each
costs, and the raw PostgreSQL rate of one transaction per submission inserting its payload.

Active lists: an account with LIST_CONTACTS contacts and three active lists (city = J1, J2,
J3 of this run). The contacts are updated to J1, then J2, then J3 (batch updates of 100),
paced at LIST_RATE writes per second: every write makes its contact leave one list and join
the next. Lag = `changed_at` of the membership event the records-list-membership consumer
stored (the moment it applied the change; read back from crm.lists.v1) minus the moment the
batch update's response arrived (this machine's clock for both). Beside it: the membership
consumer's handler in-process on batches of 500 snapshots (events/s, SQL statements per
batch) and the raw Kafka fetch rate of the same number of record events.

Sizes: BENCH_FORM_SECONDS (15), BENCH_LIST_CONTACTS (10,000: 30,000 writes, 30 s at the
default BENCH_LIST_RATE of 1,000/s). BENCH_MARKETING_CONSUMERS: own (default: the relay and
consumers in a worker process) or shared (one process, a replica's default).

Also printed: the worker's CPU per write (the relay, the consumers and the membership
events; the steadier figure on a shared box). BENCH_PROFILE=FILE runs py-spy (raw format)
on the worker during the writes.

Quiet box, 2026-11-23 19:22 UTC (other deployed services stopped, load 2-3), this code:
  forms end to end 153 sub/s (p50 195 ms, p99 536 ms), 4.03 ms records CPU each;
  in-process 366 sub/s, 14 statements each; raw PostgreSQL 5,118 tx/s
  1,000 writes/s for 30 s: membership lag p50 30 ms / p99 71 ms (goal p99 < 1 s: met),
  relay oldest unpublished p50 61 ms / max 133 ms, 1,671 changes/s, worker 0.23 ms CPU
  a write; handler alone 8,992 events/s; raw Kafka fetch 181,490 msg/s.
Measured 2026-11-23 17:59-18:02 UTC (load average 5-10 on the 2 cores from other runs),
after the list-membership and relay changes of that afternoon, full size:
  forms end to end                 51.8 sub/s (p50 523 ms at 32 visitors), 8.8 ms records CPU each
  forms in-process / raw PG        143 sub/s, 14 statements each / 923 tx/s
  list writes reached              755 writes/s for 40 s (own worker)
  worker CPU per write             0.22 ms (a core would keep up with 4,525 writes/s)
  membership lag p50 / p99         2.75 s / 6.7 s; outbox relay oldest unpublished p50 1.9 s
  changes applied                  1,141 /s
  handler in-process               2,518 snapshots/s, 7 statements per batch of 500
  raw Kafka fetch                  49,050 msg/s
The same code at 5,000 contacts (17:57-17:59, load 4-7): 696 writes/s, 0.29 ms worker CPU
per write, lag p50 2.9 s / p99 6.3 s. The code before (17:27-17:28, load 6-8, 5,000
contacts): 664 writes/s, 0.37 ms worker CPU per write, lag p50 7.5 s / p99 13.8 s, 871
changes/s, handler 3,856 snapshots/s with 9 statements a batch, raw Kafka 79,639 msg/s.
Earlier (15:28-15:33 UTC, load 11-12, full size, before the records engineer's outbox
changes): forms 27.7 sub/s e2e; 868 writes/s for 35 s (own worker), lag p50 13.6 s / p99
22.1 s; 512 writes/s (shared), lag 23.1 s / 34.8 s; handler 1,871 snapshots/s.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from bench_rollups import CONCURRENCY, paced
from faststream.kafka import KafkaBroker
from figures import Figure, percentile
from service_copy import free_port
from topic_tail import TopicTail

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.records import v1 as records_v1
from crm_platform.broker import subscriptions_of
from crm_platform.db import init_connection
from crm_platform.testing import (
    commit_group_at_end,
    drop_database,
    throwaway_database_url,
    unique_group_prefix,
)
from crm_records import subscriptions
from crm_records.adapters.marketing_pg import MarketingUnitOfWork, list_membership_events
from crm_records.handlers.forms import FormsHandler

ROOT = Path(__file__).resolve().parents[1]
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
RECORDS_DB = os.environ.get("RECORDS_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:15432/crm_records")
FORM_SECONDS = float(os.environ.get("BENCH_FORM_SECONDS", "15"))
PORTALS = 4
SOURCES = 32  # client addresses 127.0.0.10 .. 127.0.0.41
FORM_CLIENTS = 32
IN_PROCESS_SUBMISSIONS = 1000
LIST_CONTACTS = int(os.environ.get("BENCH_LIST_CONTACTS", "10000"))
LIST_RATE = float(os.environ.get("BENCH_LIST_RATE", "1000"))
ROUNDS = 3
CONSUMER_BATCH = 500
# "own": the outbox relay and the consumers in a worker process of their own (a replica
# that serves no traffic); "shared": all in the HTTP process, one replica's default.
CONSUMERS_APART = os.environ.get("BENCH_MARKETING_CONSUMERS", "own") == "own"
SETTLE_TIMEOUT = 120.0
TOPICS = {t.name: t for t in topics.ALL_TOPICS}


# ---- the records copy ---------------------------------------------------------------------


class CountingConnection(asyncpg.Connection):  # type: ignore[misc]
    """Counts the statements sent, so a figure can say how many one operation costs."""

    statements = 0

    async def _execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingConnection.statements += 1
        return await super()._execute(*args, **kwargs)

    async def _executemany(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingConnection.statements += 1
        return await super()._executemany(*args, **kwargs)

    async def execute(self, query: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not args:  # the simple-query path (BEGIN, COMMIT) does not go through _execute
            CountingConnection.statements += 1
        return await super().execute(query, *args, **kwargs)

    async def _copy_in_records(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingConnection.statements += 1
        return await super()._copy_in_records(*args, **kwargs)


async def commit_groups_at_end(prefix: str) -> None:
    """Every consumer group the copy registers starts where its topics end now."""
    broker = KafkaBroker(KAFKA)
    subscriptions.register(broker, None, prefix)  # type: ignore[arg-type]  # only the names
    for group, group_topics in subscriptions_of(broker).items():
        await commit_group_at_end(KAFKA, group, *(TOPICS[name] for name in group_topics))


def process_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU clock ticks used) of every process now."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return stats


class RecordsCopy:
    """`crm-records serve` as child processes of this bench on a throwaway database,
    stopped and dropped after. With CONSUMERS_APART: one process serving HTTP only, and
    a worker (a replica that serves no traffic) running the outbox relay and the
    consumers; otherwise one process running all three, as one replica does by default."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = throwaway_database_url(RECORDS_DB, "benchmkt")
        self.prefix = unique_group_prefix("bench-marketing")
        self.log = ROOT / ".local" / "run" / "bench-marketing.log"
        self.processes: list[asyncio.subprocess.Process] = []
        self.worker_url = self.url  # the process running the outbox relay and consumers

    async def _start(self, port: int, **settings: str) -> None:
        env = {**os.environ, "RECORDS_PORT": str(port), "RECORDS_WORKERS": "1",
               "RECORDS_DATABASE_URL": self.database_url,
               "RECORDS_CONSUMER_GROUP_PREFIX": self.prefix,
               "RECORDS_RATE_LIMIT_PER_10S": "100000000",
               **{f"RECORDS_{k.upper()}": v for k, v in settings.items()}}
        with self.log.open("a") as log:
            process = await asyncio.create_subprocess_exec(
                "uv", "run", "--package", "crm-records", "crm-records", "serve",
                cwd=ROOT, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True)
        self.processes.append(process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for _ in range(240):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.5)
        raise RuntimeError(f"a records copy did not start; see {self.log}")

    async def __aenter__(self) -> RecordsCopy:
        await commit_groups_at_end(self.prefix)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text("")
        try:
            if CONSUMERS_APART:
                await self._start(self.port, run_consumers="false", run_outbox_relay="false")
                self.worker_url = f"http://127.0.0.1:{free_port()}"
                await self._start(int(self.worker_url.rsplit(":", 1)[1]))
            else:
                await self._start(self.port)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: uv and the service
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    os.killpg(process.pid, signal.SIGKILL)
                    await process.wait()
        await drop_database(self.database_url)

    def worker_pid(self) -> int:
        """The process running the outbox relay and the consumers (its `uv run`)."""
        return self.processes[-1].pid

    def cpu_seconds(self, only_worker: bool = False) -> float:
        """CPU time (user + system) the copies' processes (or only the worker's) have used
        so far."""
        stats = process_stats()
        tree = {self.worker_pid()} if only_worker else {p.pid for p in self.processes}
        for pid, (parent, _) in sorted(stats.items()):  # children have higher pids here
            if parent in tree:
                tree.add(pid)
        total = sum(stats[pid][1] for pid in tree if pid in stats)
        return total / os.sysconf("SC_CLK_TCK")

    async def new_account(self, client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
        answer = await client.post(f"{self.url}/identity/v1/accounts", json={"name": "bench"},
                                   headers={"X-Operator-Key": os.environ["RECORDS_OPERATOR_KEY"]})
        answer.raise_for_status()
        return answer.json()["accountId"], {"Authorization": f"Bearer {answer.json()['token']}"}

    async def pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(self.database_url, min_size=2, max_size=16,
                                         init=init_connection,
                                         connection_class=CountingConnection)


# ---- form submissions ---------------------------------------------------------------------


FORM_FIELDS = [{"name": "email", "fieldType": "email", "required": True},
               {"name": "firstname", "fieldType": "text"}]


async def portal_with_form(copy: RecordsCopy, client: httpx.AsyncClient) -> tuple[int, str]:
    account_id, headers = await copy.new_account(client)
    form = await client.post(f"{copy.url}/crm/v3/forms", headers=headers,
                             json={"name": "Bench sign-up", "fields": FORM_FIELDS})
    form.raise_for_status()
    return account_id, form.json()["id"]


async def submit_for(copy: RecordsCopy, seconds: float, targets: list[tuple[int, str]],
                     clients: list[httpx.AsyncClient]) -> tuple[int, int, float, list[float]]:
    """FORM_CLIENTS visitors for `seconds`, each on its own (client address, portal):
    (accepted, refused with 429, elapsed, latencies). A 429 is not retried."""
    accepted = refused = 0
    latencies: list[float] = []
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()

    async def visitor(number: int) -> None:
        nonlocal accepted, refused
        client = clients[number % len(clients)]
        portal, form = targets[number % len(targets)]
        sent = 0
        while time.monotonic() - started < seconds:
            sent += 1
            began = time.monotonic()
            answer = await client.post(
                f"{copy.url}/submissions/v3/integration/submit/{portal}/{form}",
                json={"fields": [{"name": "email", "value": f"f-{run}-{number}-{sent}@example.com"},
                                 {"name": "firstname", "value": "Bench"}],
                      "context": {"pageUri": "https://example.com/sign-up"}})
            if answer.status_code == 429:
                refused += 1
                await asyncio.sleep(0.05)  # a browser's visitor does not hammer either
            else:
                answer.raise_for_status()
                accepted += 1
                latencies.append(time.monotonic() - began)

    await asyncio.gather(*[visitor(n) for n in range(FORM_CLIENTS)])
    return accepted, refused, time.monotonic() - started, latencies


async def in_process_submissions(pool: asyncpg.Pool, portal: int, form: str
                                 ) -> tuple[float, float]:
    """(submissions/s, SQL statements per submission) through FormsHandler, no HTTP."""
    handler = FormsHandler(MarketingUnitOfWork(pool))
    run = uuid.uuid4().hex[:8]
    queue = list(range(IN_PROCESS_SUBMISSIONS))

    async def worker() -> None:
        while queue:
            n = queue.pop()
            await handler.submit(portal, form, [("email", f"p-{run}-{n}@example.com"),
                                                ("firstname", "Bench")],
                                 page_uri="https://example.com/sign-up")

    CountingConnection.statements = 0
    started = time.monotonic()
    await asyncio.gather(*[worker() for _ in range(16)])
    elapsed = time.monotonic() - started
    return IN_PROCESS_SUBMISSIONS / elapsed, CountingConnection.statements / IN_PROCESS_SUBMISSIONS


async def raw_transactions(pool: asyncpg.Pool) -> float:
    """One transaction per submission inserting its payload: PostgreSQL's own pace."""
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY,"
                           " properties jsonb NOT NULL)")
    queue = list(range(IN_PROCESS_SUBMISSIONS))

    async def worker() -> None:
        while queue:
            n = queue.pop()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("INSERT INTO bench_raw (properties) VALUES ($1)",
                                   {"email": f"raw-{n}@example.com", "firstname": "Bench"})

    started = time.monotonic()
    await asyncio.gather(*[worker() for _ in range(16)])
    return IN_PROCESS_SUBMISSIONS / (time.monotonic() - started)


async def form_rates(copy: RecordsCopy, pool: asyncpg.Pool) -> list[Figure]:
    async with httpx.AsyncClient(timeout=60) as client:
        targets = [await portal_with_form(copy, client) for _ in range(PORTALS)]
    clients = [httpx.AsyncClient(timeout=60, transport=httpx.AsyncHTTPTransport(
        local_address=f"127.0.0.{10 + i}")) for i in range(SOURCES)]
    try:
        cpu_before = copy.cpu_seconds()
        accepted, refused, elapsed, latencies = await submit_for(copy, FORM_SECONDS, targets,
                                                                 clients)
        cpu = copy.cpu_seconds() - cpu_before
    finally:
        for c in clients:
            await c.aclose()
    handler_rate, statements = await in_process_submissions(pool, *targets[0])
    raw_rate = await raw_transactions(pool)
    allowed = min(PORTALS * 200, SOURCES * 20)
    end_to_end = accepted / elapsed
    return [
        Figure(f"form submissions end to end, {PORTALS} portals x {SOURCES} addresses",
               end_to_end, "sub/s",
               f"{accepted:,} new contacts in {elapsed:.0f} s, {refused:,} 429s "
               f"(the public limits allow {allowed:.0f}/s here); p50 "
               f"{percentile(latencies, .5) * 1000:.0f} ms, p99 "
               f"{percentile(latencies, .99) * 1000:.0f} ms"),
        Figure("records service CPU per submission", cpu / max(accepted, 1) * 1000, "ms",
               f"{cpu / elapsed * 100:.0f} % of one core during the run (HTTP, the write, "
               "the outbox relay, its consumers)"),
        Figure("form submissions in-process (FormsHandler, no HTTP)", handler_rate, "sub/s",
               f"{statements:.1f} SQL statements per submission (BEGIN/COMMIT included)"),
        Figure("raw PostgreSQL: a transaction inserting the payload", raw_rate, "tx/s",
               "16 connections, one INSERT per transaction"),
        Figure("forms end to end / raw transactions", end_to_end / raw_rate, "x"),
    ]


# ---- active list membership lag --------------------------------------------------------


class MembershipEvents(TopicTail):
    """The list-membership events of one account, read from the end of crm.lists.v1:
    (kind, list id, record id) -> changed_at in epoch seconds."""

    def __init__(self, account_id: int) -> None:
        super().__init__(topics.LISTS)
        self.account_id = account_id
        self.seen: dict[tuple[str, int, int], float] = {}

    def take(self, kind: str, message: ConsumerRecord) -> None:
        if not kind.startswith("crm.list.membership."):
            return
        data = json.loads(message.value)
        if data["account_id"] == self.account_id:
            changed = datetime.fromisoformat(data["changed_at"]).timestamp()
            self.seen[(kind.split(".")[3], data["list_id"], data["record_id"])] = changed


async def create_contacts(copy: RecordsCopy, client: httpx.AsyncClient,
                          headers: dict[str, str], run: str) -> list[int]:
    ids: list[int] = []

    async def create(start: int) -> None:
        answer = await client.post(f"{copy.url}/crm/v3/objects/contacts/batch/create",
                                   headers=headers, json={"inputs": [
                                       {"properties": {"email": f"l-{run}-{i}@example.com",
                                                       "city": "Start"}}
                                       for i in range(start, min(LIST_CONTACTS, start + 100))]})
        answer.raise_for_status()
        ids.extend(int(r["id"]) for r in answer.json()["results"])

    starts = list(range(0, LIST_CONTACTS, 100))
    for i in range(0, len(starts), 8):
        await asyncio.gather(*[create(s) for s in starts[i:i + 8]])
    return sorted(ids)


async def consumer_in_process(pool: asyncpg.Pool, account_id: int, contacts: list[int],
                              city: str) -> tuple[float, float]:
    """(snapshots/s, SQL statements per batch of CONSUMER_BATCH) through the membership
    consumer's handler on its own transaction, without Kafka: every snapshot moves its
    contact into one more list (and out of another)."""
    now = datetime.now(UTC)
    events = [CloudEvent.of(records_v1.RecordUpdated(
        account_id=account_id, object_type="contacts", record_id=c, version=1_000_000,
        properties={"email": f"x{c}@example.com", "city": city}, created_at=now,
        updated_at=now, changes=[]), source="/bench", account_id=account_id,
        subject=f"contacts/{c}") for c in contacts]
    CountingConnection.statements = 0
    started = time.monotonic()
    for i in range(0, len(events), CONSUMER_BATCH):
        async with pool.acquire() as conn, conn.transaction():
            await list_membership_events(conn, events[i:i + CONSUMER_BATCH])
    elapsed = time.monotonic() - started
    batches = -(-len(events) // CONSUMER_BATCH)
    return len(events) / elapsed, CountingConnection.statements / batches


async def raw_kafka_fetch(count: int) -> float:
    """Fetch the last `count` record events of crm.records.v1, as a consumer would."""
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topics.RECORDS.name, p) for p in range(topics.RECORDS.partitions)]
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        for part in parts:
            consumer.seek(part, max(0, ends[part] - count // len(parts)))
        started, read = time.monotonic(), 0
        while read < count // len(parts) * len(parts) and time.monotonic() - started < 30:
            for messages in (await consumer.getmany(timeout_ms=500, max_records=500)).values():
                read += len(messages)
        return read / (time.monotonic() - started)
    finally:
        await consumer.stop()


async def watch_outbox(copy: RecordsCopy, client: httpx.AsyncClient,
                       ages: list[float]) -> None:
    """Sample the copy's crm_outbox_oldest_age_seconds once a second."""
    while True:
        try:
            answer = await client.get(f"{copy.worker_url}/metrics")
            ages += [float(line.rsplit(" ", 1)[1]) for line in answer.text.splitlines()
                     if line.startswith("crm_outbox_oldest_age_seconds{")]
        except httpx.HTTPError:
            pass
        await asyncio.sleep(1)


async def start_profiler(copy: RecordsCopy) -> asyncio.subprocess.Process | None:
    """With BENCH_PROFILE=FILE: py-spy records the worker during the writes (raw format,
    stopped once every change is applied), to see where its CPU goes."""
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        return None
    worker = next(pid for pid, (parent, _) in process_stats().items()
                  if parent == copy.worker_pid())  # the service under `uv run`
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(ROOT / ".venv" / "bin"))
    if py_spy is None:
        raise RuntimeError("BENCH_PROFILE needs py-spy (`uv tool install py-spy`)")
    return await asyncio.create_subprocess_exec(
        py_spy, "record", "--pid", str(worker), "--format",
        "raw", "--nonblocking", "-o", target, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)


async def list_lags(copy: RecordsCopy, pool: asyncpg.Pool) -> list[Figure]:
    run = uuid.uuid4().hex[:8]
    cities = [f"J{r + 1} {run}" for r in range(ROUNDS)]
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(
            max_connections=CONCURRENCY)) as client:
        account_id, headers = await copy.new_account(client)
        contacts = await create_contacts(copy, client, headers, run)
        list_ids = []
        for city in cities:
            created = await client.post(f"{copy.url}/crm/v3/lists", headers=headers, json={
                "name": f"Bench {city}", "objectTypeId": "0-1", "processingType": "DYNAMIC",
                "filterGroups": [{"filters": [
                    {"propertyName": "city", "operator": "EQ", "value": city}]}]})
            created.raise_for_status()
            list_ids.append(int(created.json()["list"]["listId"]))
        batches = [(r, contacts[i:i + 100]) for r in range(ROUNDS)
                   for i in range(0, len(contacts), 100)]
        answered: dict[tuple[int, int], float] = {}  # (round, contact) -> response
        events = MembershipEvents(account_id)
        await events.start()

        per_round = len(batches) // ROUNDS
        done = [asyncio.Event() for _ in batches]

        async def update(index: int) -> None:
            round_, ids = batches[index]
            if round_:  # a contact's writes in order: its previous one has answered
                await done[index - per_round].wait()
            answer = await client.post(
                f"{copy.url}/crm/v3/objects/contacts/batch/update", headers=headers,
                json={"inputs": [{"id": str(c), "properties": {"city": cities[round_]}}
                                 for c in ids]})
            answer.raise_for_status()
            now = time.time()
            answered.update({(round_, c): now for c in ids})
            done[index].set()

        def reflected(round_: int, contact: int) -> float | None:
            """When the consumer applied this write or a newer one of the same contact (a
            batch holding two snapshots of a contact applies only the newest)."""
            joins = [events.seen.get(("joined", list_ids[r], contact))
                     for r in range(round_, ROUNDS)]
            return min((at for at in joins if at is not None), default=None)

        outbox_ages: list[float] = []
        watcher = asyncio.create_task(watch_outbox(copy, client, outbox_ages))
        profiler = None
        try:
            profiler = await start_profiler(copy)
            cpu_before = copy.cpu_seconds()
            worker_cpu_before = copy.cpu_seconds(only_worker=True)
            elapsed = await paced(len(batches), LIST_RATE / 100, update)
            deadline = time.monotonic() + SETTLE_TIMEOUT
            while time.monotonic() < deadline and any(
                    reflected(r, c) is None for r, c in answered):
                await asyncio.sleep(0.5)
            settled = time.monotonic() - deadline + SETTLE_TIMEOUT
            cpu = copy.cpu_seconds() - cpu_before  # until every change is applied
            worker_cpu = copy.cpu_seconds(only_worker=True) - worker_cpu_before
        finally:
            watcher.cancel()
            await events.stop()
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                await profiler.wait()
    applied_at = {key: reflected(*key) for key in answered}
    lags = [at - answered[key] for key, at in applied_at.items() if at is not None]
    superseded = sum(("joined", list_ids[r], c) not in events.seen for r, c in answered)
    applied = sorted(events.seen.values())
    pace = (len(applied) - 1) / (applied[-1] - applied[0]) if len(applied) > 1 else 0.0
    handler_rate, statements = await consumer_in_process(pool, account_id, contacts,
                                                         f"J1 {run}")
    fetch_rate = await raw_kafka_fetch(len(contacts))
    return [
        Figure("contacts updated, each joining one active list and leaving another",
               len(answered) / elapsed, "writes/s",
               f"{len(answered):,} in {elapsed:.0f} s, batches of 100, target "
               f"{LIST_RATE:.0f}/s; 3 active lists; consumers in "
               f"{'their own process' if CONSUMERS_APART else 'the HTTP process'}; the "
               f"records processes used {cpu / (elapsed + settled) * 100:.0f} % of one "
               f"core until the last change was applied, {settled:.1f} s after the last "
               "write"),
        Figure("worker CPU per write (relay, the consumers, membership events)",
               worker_cpu / len(answered) * 1000, "ms",
               f"{worker_cpu:.1f} CPU s for {len(answered):,} writes: a core keeps up with "
               f"{len(answered) / max(worker_cpu, 1e-9):,.0f} writes/s"
               + ("" if CONSUMERS_APART else " (the HTTP requests included)")),
        Figure("active list membership lag p50", percentile(lags, .5) * 1000, "ms",
               "batch update response -> the consumer applied its join and leave"),
        Figure("active list membership lag p99", percentile(lags, .99) * 1000, "ms",
               f"{len(answered) - len(lags)} of {len(answered):,} writes not applied within "
               f"{SETTLE_TIMEOUT:.0f} s; {superseded} applied with a newer one in its batch"),
        Figure("outbox relay: oldest unpublished event, p50 / max", percentile(
            outbox_ages, .5) * 1000, "ms", f"max {max(outbox_ages, default=0) * 1000:,.0f} ms "
            "(sampled each second): the part of the lag before the event is on Kafka"),
        Figure("membership changes applied per second", pace, "chg/s",
               "first to last change: the consumer's pace under this load"),
        Figure("membership consumer handler in-process", handler_rate, "events/s",
               f"batches of {CONSUMER_BATCH}, {statements:.0f} SQL statements per batch"),
        Figure("raw Kafka fetch of as many record events", fetch_rate, "msg/s"),
    ]


async def run() -> list[Figure]:
    async with RecordsCopy() as copy:
        pool = await copy.pool()
        try:
            return await form_rates(copy, pool) + await list_lags(copy, pool)
        finally:
            await pool.close()


if __name__ == "__main__":
    for figure in asyncio.run(run()):
        print(f"  {figure.name:<66} {figure.render():>16}  {figure.note}")
