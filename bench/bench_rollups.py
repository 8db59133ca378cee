"""Roll-ups and deal automation: lag from a write to its effect under a steady load (issue 3).

Load: calls logged through the gateway (`POST /crm/v3/objects/calls` with an
association to one of the account's contacts, type 194) at BENCH_ROLLUP_RATE per
second for BENCH_ROLLUP_SECONDS, paced open loop (each call has its send time; a
client that falls behind sends late, and the achieved rate is reported). Meanwhile
one open deal a second (each associated to its own contact, so that contact is an
`opportunity`) is moved to `closedwon`.

Roll-up lag of a call = the first `changed_at` in records' property_history of
`notes_last_contacted` on its contact with a value at or after the call's
`hs_timestamp` (the consumer keeps the max, so a later call of the same contact in the
same batch covers it) minus the moment the create's response arrived. Deal
automation lag = `changed_at` of the contact's `lifecyclestage` -> `customer` minus
the PATCH's response. Both clocks are this machine's.

The API limits each token to RECORDS_RATE_LIMIT_PER_10S (190 by default) requests
per 10 s, so the load is spread over tokens issued through `POST /identity/v1/tokens`
(one per 15 requests/s); 429s that remain are retried after Retry-After and counted.

Measured 2026-11-23 on the 2-core machine shared with other engineers' runs.
Before (13:22 UTC, defaults, load ~9; and 14:57, load ~1):
  calls logged                      19 / 74 req/s (target 150)
  roll-up lag p50 / p99             51.6 s / 73.0 s; 18.4 s / 27.4 s
  deal automation lag p50 / p99     4.5 s / 10.0 s; 0.12 s / 1.76 s
After batching the roll-up consumer and giving the consumers their own pool
(15:45 UTC, load ~5):
  defaults: 41 req/s reached; roll-up 0.36 s / 0.70 s; deal automation 0.21 s / 0.71 s
  BENCH_ROLLUP_RATE=30 (kept up): roll-up 0.05 s / 0.30 s; deal automation 0.03 s / 2.2 s
  (the p99 of 30 deals is their maximum: one slow transaction)
What bounds the call rate is the records service's CPU for a single create with an
association (a full HTTP write), not the consumers.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import asyncpg
import httpx
from bench_write_path import GATEWAY, RECORDS_DB
from figures import Figure, percentile

RATE = float(os.environ.get("BENCH_ROLLUP_RATE", "150"))
SECONDS = float(os.environ.get("BENCH_ROLLUP_SECONDS", "30"))
CONTACTS = 1_000
DEALS = int(SECONDS)  # one closed won a second
CONCURRENCY = 48
SETTLE_TIMEOUT = 180.0  # the most we wait for effects after the load
CALL_TO_CONTACT = 194
DEAL_TO_CONTACT = 3


def iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Tokens:
    """Round-robin over tokens of one user, each with its own rate limit."""

    def __init__(self, headers: list[dict[str, str]]) -> None:
        self.headers = headers
        self.next = 0

    def take(self) -> dict[str, str]:
        self.next = (self.next + 1) % len(self.headers)
        return self.headers[self.next]


async def account_with_tokens(client: httpx.AsyncClient, requests_per_second: float
                              ) -> tuple[int, Tokens]:
    """A new account and enough tokens of its super admin for this request rate."""
    answer = await client.post("/identity/v1/accounts", json={"name": "bench"},
                               headers={"X-Operator-Key": os.environ["RECORDS_OPERATOR_KEY"]})
    answer.raise_for_status()
    account_id, user_id = answer.json()["accountId"], answer.json()["userId"]
    admin = {"Authorization": f"Bearer {answer.json()['token']}"}
    headers = [admin]
    for _ in range(int(requests_per_second // 15)):
        issued = await client.post("/identity/v1/tokens", headers=admin,
                                   json={"userId": user_id, "ttlSeconds": 3600})
        issued.raise_for_status()
        headers.append({"Authorization": f"Bearer {issued.json()['token']}"})
    await asyncio.sleep(1)  # let the other services learn the new user
    return account_id, Tokens(headers)


UNAVAILABLE = frozenset({502, 503, 504})


async def send(client: httpx.AsyncClient, method: str, url: str, tokens: Tokens,
               body: dict, throttled: list[int]) -> httpx.Response:
    """One request, retried for at most 2 minutes: after Retry-After while rate limited (429,
    counted in `throttled` as 429) and after a second while the gateway has no service
    (502-504: other engineers restart services on this shared machine; counted as 5xx)."""
    give_up = time.monotonic() + 120
    while True:
        answer = await client.request(method, url, headers=tokens.take(), json=body)
        if time.monotonic() > give_up:
            break
        if answer.status_code == 429:
            throttled.append(429)
            await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
        elif answer.status_code in UNAVAILABLE:
            throttled.append(answer.status_code)
            await asyncio.sleep(1)
        else:
            break
    answer.raise_for_status()
    return answer


def retried(throttled: list[int]) -> str:
    limited = sum(code == 429 for code in throttled)
    return f"{limited} 429s and {len(throttled) - limited} 502-504s retried"


async def create_contacts(client: httpx.AsyncClient, tokens: Tokens, count: int, label: str,
                          throttled: list[int]) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, 100):
        answer = await send(client, "POST", "/crm/v3/objects/contacts/batch/create", tokens, {
            "inputs": [{"properties": {"email": f"{label}-{i}@example.com",
                                       "lifecyclestage": "lead"}}
                       for i in range(start, min(count, start + 100))]}, throttled)
        ids += [int(r["id"]) for r in answer.json()["results"]]
    return ids


def association(to_id: int, type_id: int) -> list[dict]:
    return [{"to": {"id": str(to_id)},
             "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}]


async def paced(count: int, rate: float, act,  # type: ignore[no-untyped-def]
                late: list[float] | None = None) -> float:
    """Run act(i) for i < count, the i-th at start + i/rate (never earlier), with at most
    CONCURRENCY in flight; returns the seconds it took. `late` gets each call's start
    minus its scheduled start (seconds): near zero while the platform keeps up."""
    started = time.monotonic()
    next_index = 0
    deadline = started + count / rate + 60  # bounded even when the platform stalls

    async def worker() -> None:
        nonlocal next_index
        while next_index < count and time.monotonic() < deadline:
            index = next_index
            next_index += 1
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            if late is not None:
                late.append(time.monotonic() - (started + index / rate))
            await act(index)

    await asyncio.gather(*[worker() for _ in range(CONCURRENCY)])
    return time.monotonic() - started


async def first_changes(conn: asyncpg.Connection, account_id: int, prop: str,
                        ids: list[int]) -> dict[int, list[tuple[str, float]]]:
    """(value, changed_at epoch) of `prop` per contact, in the order they were stored."""
    rows = await conn.fetch(
        "SELECT record_id, value, extract(epoch FROM changed_at) AS at FROM property_history"
        " WHERE account_id = $1 AND object_type = 'contacts' AND property = $2"
        " AND record_id = ANY($3::bigint[]) ORDER BY seq", account_id, prop, ids)
    found: dict[int, list[tuple[str, float]]] = {}
    for row in rows:
        found.setdefault(row["record_id"], []).append((row["value"] or "", float(row["at"])))
    return found


def rollup_lags(calls: list[tuple[int, str, float]],
                history: dict[int, list[tuple[str, float]]]) -> tuple[list[float], int]:
    """Per call (contact, hs_timestamp, response epoch): first stored value >= its time
    (ISO strings of one format compare as times) minus the response; and how many are
    not covered yet."""
    lags, missing = [], 0
    for contact_id, stamp, answered in calls:
        stored = [at for value, at in history.get(contact_id, []) if value >= stamp]
        if stored:
            lags.append(min(stored) - answered)
        else:
            missing += 1
    return lags, missing


async def run() -> list[Figure]:
    label = f"rollup-{time.time_ns()}"
    throttled: list[int] = []
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=60, limits=limits) as client:
        account_id, tokens = await account_with_tokens(client, RATE + 2)
        contacts = await create_contacts(client, tokens, CONTACTS, label, throttled)
        deal_contacts = await create_contacts(client, tokens, DEALS, label + "-deal", throttled)
        deals = []
        for contact_id in deal_contacts:
            answer = await send(client, "POST", "/crm/v3/objects/deals", tokens, {
                "properties": {"dealname": "bench", "pipeline": "default",
                               "dealstage": "appointmentscheduled"},
                "associations": association(contact_id, DEAL_TO_CONTACT)}, throttled)
            deals.append(int(answer.json()["id"]))

        total = int(RATE * SECONDS)
        calls: list[tuple[int, str, float]] = []
        last_ms = 0

        async def log_call(index: int) -> None:
            nonlocal last_ms
            # Strictly increasing times, so each call can move its contact's roll-up.
            last_ms = max(time.time_ns() // 1_000_000, last_ms + 1)
            stamp = iso_ms(datetime.fromtimestamp(last_ms / 1000, UTC))
            contact_id = contacts[index % len(contacts)]
            await send(client, "POST", "/crm/v3/objects/calls", tokens, {
                "properties": {"hs_timestamp": stamp, "hs_call_status": "COMPLETED",
                               "hs_call_title": "bench call", "hs_call_duration": "60000"},
                "associations": association(contact_id, CALL_TO_CONTACT)}, throttled)
            calls.append((contact_id, stamp, time.time()))

        closed: list[tuple[int, float]] = []

        async def close_deal(index: int) -> None:
            await send(client, "PATCH", f"/crm/v3/objects/deals/{deals[index]}", tokens,
                       {"properties": {"dealstage": "closedwon"}}, throttled)
            closed.append((deal_contacts[index], time.time()))

        elapsed, _ = await asyncio.gather(paced(total, RATE, log_call),
                                          paced(len(deals), len(deals) / SECONDS, close_deal))

    conn = await asyncpg.connect(RECORDS_DB)
    try:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            history = await first_changes(conn, account_id, "notes_last_contacted", contacts)
            lags, missing = rollup_lags(calls, history)
            stages = await first_changes(conn, account_id, "lifecyclestage", deal_contacts)
            won = {c: min(at for value, at in stages.get(c, []) if value == "customer")
                   for c, _ in closed if any(v == "customer" for v, _ in stages.get(c, []))}
            if (missing == 0 and len(won) == len(closed)) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await conn.close()
    deal_lags = [won[c] - answered for c, answered in closed if c in won]
    return [
        Figure("calls logged (with a contact association)", len(calls) / elapsed, "req/s",
               f"{len(calls):,} in {elapsed:.0f} s, target {RATE:.0f}/s; {retried(throttled)}"),
        Figure("roll-up lag p50 (call -> notes_last_contacted)", percentile(lags, .5) * 1000,
               "ms", "response -> property_history.changed_at"),
        Figure("roll-up lag p99", percentile(lags, .99) * 1000, "ms",
               f"{missing} of {len(calls):,} not rolled up within {SETTLE_TIMEOUT:.0f} s"
               " after the load"),
        Figure("deal automation lag p50 (closedwon -> customer)",
               percentile(deal_lags, .5) * 1000, "ms", f"{len(closed)} deals, one a second"),
        Figure("deal automation lag p99", percentile(deal_lags, .99) * 1000, "ms",
               f"{len(closed) - len(deal_lags)} contacts not customer in time"),
    ]
