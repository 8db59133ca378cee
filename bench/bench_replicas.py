"""Replicas: write throughput and search index lag with one replica of records
and search, then with two behind the gateway, in one run.

Each phase is the write path of bench_write_path (batch creates of 100 through
nginx, 8 clients, until every event is on Kafka) with its own account, then the
index lag of its contacts from the search store. The second replica of each
is started for the second phase (deploy/local/services.sh, <SVC>_REPLICAS=2)
and stopped after it, with the gateway back on one.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from bench_write_path import contact, end_to_end, index_lags
from figures import Figure, percentile

ROOT = Path(__file__).resolve().parents[1]
TOTAL = int(os.environ.get("BENCH_REPLICA_CONTACTS", "5000"))
CORES = os.cpu_count() or 1


def local(script: str, *args: str, replicas: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_REPLICAS")}
    if replicas == 2:
        env.update(RECORDS_REPLICAS="2", SEARCH_REPLICAS="2")
    subprocess.run(["bash", str(ROOT / "deploy/local" / script), *args], check=True, env=env,
                   cwd=ROOT, stdout=subprocess.DEVNULL)


def stop_second_replicas() -> None:
    for name in ("records-2", "search-2"):
        pidfile = ROOT / ".local/run/services" / f"{name}.pid"
        if pidfile.exists():
            subprocess.run(["bash", "-c", f'source deploy/local/lib.sh && stop_pid "{pidfile}" 30'],
                           check=True, cwd=ROOT)


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def phase(replicas: int) -> list[Figure]:
    payloads = [contact(i, uuid.uuid4().hex[:6]) for i in range(TOTAL)]
    busy_before, total_before = cpu_times()
    stored_rate, published_rate, account_id = await end_to_end(payloads)
    busy_after, total_after = cpu_times()
    lags = await index_lags(account_id, TOTAL)
    label = f"{replicas} replica{'s' if replicas > 1 else ''}"
    return [
        Figure(f"{label}: contacts stored and published", published_rate, "rec/s",
               f"{TOTAL:,} in batches of 100"),
        Figure(f"{label}: search index lag p50", percentile(lags, .5) * 1000, "ms"),
        Figure(f"{label}: search index lag p99", percentile(lags, .99) * 1000, "ms"),
        Figure(f"{label}: machine CPU busy while writing",
               100 * (busy_after - busy_before) / (total_after - total_before), "%",
               f"all {CORES} cores, every process (the bound when near 100)"),
    ]


async def run() -> list[Figure]:
    one = await phase(1)
    local("services.sh", "up", "records", "search", replicas=2)
    local("stack.sh", "up", "nginx", replicas=2)
    try:
        two = await phase(2)
    finally:
        local("stack.sh", "up", "nginx", replicas=1)
        stop_second_replicas()
    ratio = two[0].value / one[0].value
    return one + two + [Figure(
        "two replicas / one, write throughput", ratio, "x",
        f"one records process is one Python thread (at most one core); a second one can use "
        f"the other of {CORES} cores, but both share them with PostgreSQL, Kafka, nginx, "
        "search and this client: with 'CPU busy' at 100 % the bound is the machine's CPU "
        "(one relay, the lock holder, publishes for both)")]
