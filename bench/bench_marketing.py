"""Marketing: form submissions per second end to end, and active-list membership lag (issue 11).

Form submissions go to the public `POST /submissions/v3/integration/submit/{portal}/{form}`
through the gateway, each with a new address (so each stores a new contact with its
history, the submission row and the outbox events in one transaction). The public
endpoints allow 2,000 per portal and 200 per client address per 10 s (429 past them;
the address is the one the gateway appends to X-Forwarded-For), so the figures are:
- with the limits: one portal, one client address, 16 clients for FORM_SECONDS; the
  accepted rate is bounded by 20/s per address by design, and the 429s are counted;
- the platform's rate: PORTALS accounts (portals) and SOURCES client addresses
  (127.0.0.10.. on the loopback, each a visitor of its own), so the limits allow
  min(PORTALS x 200, SOURCES x 20) per second and the rest is the platform.

Active lists: an active list of contacts with `city = <this run's value>`, then
BENCH_LIST_WRITES contacts (created before, elsewhere) updated to that city through
batch updates of 100, paced at BENCH_LIST_RATE writes per second. Lag per contact =
its `list_memberships.added_at` (stored by the records-list-membership consumer)
minus the moment the batch update's response arrived (this machine's clock for both).

Measured 2026-11-23 13:37 and 13:39 UTC, defaults, on the 2-core machine shared with
other engineers' test runs (load average ~9), two runs:
  one portal, one address           20.5 / 25.0 sub/s (588 / 0 refused with 429: a run of
                                    10 s can straddle two of the limiter's windows)
  4 portals x 16 addresses          35.3 / 27.8 sub/s, no 429 (the limits allow 320/s):
                                    the platform, not the limit, is the bound here, so
                                    one address's 20/s is close to what it serves anyway
  active list writes                672 / 528 writes/s achieved (target 1,000/s)
  membership lag p50 / p99          30.6 s / 46.9 s, then 33.4 s / 50.6 s (all joined)
  memberships stored                156 /s (second run): the membership consumer stores
                                    about a quarter of the write rate, so the lag grows
                                    for as long as the writes last
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg
import httpx
from bench_rollups import account_with_tokens, paced, retried, send
from bench_write_path import GATEWAY, RECORDS_DB
from figures import Figure, percentile

FORM_SECONDS = float(os.environ.get("BENCH_FORM_SECONDS", "20"))
PORTALS = 4
SOURCES = 16  # client addresses 127.0.0.10 .. 127.0.0.25
FORM_CLIENTS = 32
LIST_WRITES = int(os.environ.get("BENCH_LIST_WRITES", "10000"))
LIST_RATE = float(os.environ.get("BENCH_LIST_RATE", "1000"))
SETTLE_TIMEOUT = 180.0


# ---- form submissions ---------------------------------------------------------------------


async def portal_with_form(client: httpx.AsyncClient) -> tuple[int, str]:
    """A new account (its id is the portal id) with a form of email and first name."""
    account_id, tokens = await account_with_tokens(client, 0)
    form = await client.post("/crm/v3/forms", headers=tokens.headers[0], json={
        "name": "Bench sign-up", "fields": [
            {"name": "email", "fieldType": "email", "required": True},
            {"name": "firstname", "fieldType": "text"}]})
    form.raise_for_status()
    return account_id, form.json()["id"]


async def submit_for(seconds: float, targets: list[tuple[int, str]],
                     clients: list[httpx.AsyncClient]) -> tuple[int, int, float]:
    """FORM_CLIENTS loops for `seconds`, each on its own (client address, portal):
    (accepted, refused with 429, elapsed). A 429 is not retried: that visitor was refused."""
    accepted = refused = 0
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()

    async def visitor(number: int) -> None:
        nonlocal accepted, refused
        client = clients[number % len(clients)]
        portal, form = targets[number % len(targets)]
        sent = 0
        while time.monotonic() - started < seconds:
            sent += 1
            answer = await client.post(
                f"{GATEWAY}/submissions/v3/integration/submit/{portal}/{form}",
                json={"fields": [{"name": "email", "value": f"f-{run}-{number}-{sent}@example.com"},
                                 {"name": "firstname", "value": "Bench"}],
                      "context": {"pageUri": "https://example.com/sign-up"}})
            if answer.status_code == 429:
                refused += 1
                await asyncio.sleep(0.05)  # a browser's visitor does not hammer either
            else:
                answer.raise_for_status()
                accepted += 1

    await asyncio.gather(*[visitor(n) for n in range(FORM_CLIENTS)])
    return accepted, refused, time.monotonic() - started


async def form_rates() -> list[Figure]:
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=60) as client:
        targets = [await portal_with_form(client) for _ in range(PORTALS)]
    one = [httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=FORM_CLIENTS))]
    many = [httpx.AsyncClient(timeout=60, transport=httpx.AsyncHTTPTransport(
        local_address=f"127.0.0.{10 + i}")) for i in range(SOURCES)]
    try:
        limited, limited_429, limited_s = await submit_for(min(FORM_SECONDS, 10), targets[:1],
                                                           one)
        accepted, refused, elapsed = await submit_for(FORM_SECONDS, targets, many)
    finally:
        for c in one + many:
            await c.aclose()
    allowed = min(PORTALS * 200, SOURCES * 20)
    return [
        Figure("form submissions, one portal and one address", limited / limited_s, "sub/s",
               f"{limited_429:,} refused (429): the limit is 200 per address per 10 s"),
        Figure(f"form submissions, {PORTALS} portals x {SOURCES} addresses", accepted / elapsed,
               "sub/s", f"{accepted:,} new contacts in {elapsed:.0f} s, {refused:,} 429s; "
               f"the limits allow {allowed}/s here"),
    ]


# ---- active list membership lag --------------------------------------------------------


async def list_lags() -> list[Figure]:
    joined_city = f"Joined {uuid.uuid4().hex[:8]}"
    throttled: list[int] = []
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=60) as client:
        account_id, tokens = await account_with_tokens(client, LIST_RATE / 100 + 2)
        contacts: list[int] = []
        for start in range(0, LIST_WRITES, 100):
            answer = await send(client, "POST", "/crm/v3/objects/contacts/batch/create",
                                tokens, {"inputs": [
                                    {"properties": {"email": f"l-{joined_city[7:]}-{i}@example.com",
                                                    "city": "Amsterdam"}}
                                    for i in range(start, min(LIST_WRITES, start + 100))]},
                                throttled)
            contacts += [int(r["id"]) for r in answer.json()["results"]]
        created = await send(client, "POST", "/crm/v3/lists", tokens, {
            "name": "Bench joined", "objectTypeId": "0-1", "processingType": "DYNAMIC",
            "filterGroups": [{"filters": [
                {"propertyName": "city", "operator": "EQ", "value": joined_city}]}]}, throttled)
        list_id = int(created.json()["list"]["listId"])
        batches = [contacts[i:i + 100] for i in range(0, len(contacts), 100)]
        answered: dict[int, float] = {}

        async def update(index: int) -> None:
            await send(client, "POST", "/crm/v3/objects/contacts/batch/update", tokens, {
                "inputs": [{"id": str(c), "properties": {"city": joined_city}}
                           for c in batches[index]]}, throttled)
            now = time.time()
            answered.update(dict.fromkeys(batches[index], now))

        elapsed = await paced(len(batches), LIST_RATE / 100, update)

    conn = await asyncpg.connect(RECORDS_DB)
    try:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            rows = await conn.fetch(
                "SELECT record_id, extract(epoch FROM added_at) AS at FROM list_memberships"
                " WHERE account_id = $1 AND list_id = $2", account_id, list_id)
            if len(rows) >= len(answered) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await conn.close()
    lags = [float(r["at"]) - answered[r["record_id"]] for r in rows
            if r["record_id"] in answered]
    stored = sorted(float(r["at"]) for r in rows)
    consumer_rate = (len(stored) - 1) / (stored[-1] - stored[0]) if len(stored) > 1 else 0.0
    return [
        Figure("contacts updated into an active list", len(answered) / elapsed, "writes/s",
               f"{len(answered):,} in batches of 100, target {LIST_RATE:.0f}/s; "
               f"{retried(throttled)}"),
        Figure("active list membership lag p50", percentile(lags, .5) * 1000, "ms",
               "batch response -> list_memberships.added_at"),
        Figure("active list membership lag p99", percentile(lags, .99) * 1000, "ms",
               f"{len(answered) - len(lags)} not members within {SETTLE_TIMEOUT:.0f} s"),
        Figure("memberships stored per second", consumer_rate, "rec/s",
               "first to last added_at: the membership consumer's pace under this load"),
    ]


async def run() -> list[Figure]:
    return await form_rates() + await list_lags()
