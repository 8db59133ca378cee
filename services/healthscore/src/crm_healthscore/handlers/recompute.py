"""Recompute customers' scores and publish what moved (R-HLTH-2, R-HLTH-3, R-HLTH-4).

For each customer and each live profile of its account: score the stored facts at
`now`, keep the result (with its explanation and next_change_at), and when score or
band moved, keep the change with its cause and publish HealthScoreChanged through the
outbox, in the caller's transaction (R-BUS-2). A change of band also stores an alert for
the customer's CSM, expiring after `alert_days`, and publishes HealthAlertRaised.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores import v1
from crm_healthscore.adapters import store
from crm_healthscore.domain.changes import ScoreChange, StoredScore, diff, is_alert
from crm_healthscore.domain.facts import CustomerFacts
from crm_healthscore.domain.scoring import Scorer, event_horizons
from crm_healthscore.domain.segments import segments_of
from crm_platform.outbox import OutgoingEvent, enqueue

OUTBOX_CHANNEL = "outbox_healthscore"
SOURCE = "/healthscores"


def csm_user_id(properties: Mapping[str, str | None] | None, csm_property: str) -> int | None:
    """The CSM named by the customer's user-type property (owner ids are user ids here)."""
    raw = (properties or {}).get(csm_property)
    return int(raw) if raw and raw.strip().isdigit() else None


BATCH_SIZE = 1_000  # customers read and written per round of queries
# Processes that score the batches of a recompute of more than one batch (publishing a
# profile: every customer of the account); this machine has two cores.
SCORING_PROCESSES = 2


@dataclass
class _BatchOutcome:
    """What scoring one batch decided, for one round of writes."""

    to_save: list[store.ScoreRow] = field(default_factory=list)
    to_delete: list[tuple[str, int]] = field(default_factory=list)
    changes: list[ScoreChange] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    outgoing: list[OutgoingEvent] = field(default_factory=list)


_gc_pauses = 0  # recomputes under way in this process (the consumer, clock, publishing)
_gc_resume = False


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a recompute runs. A batch allocates hundreds
    of thousands of small containers that live until its writes (results, changes,
    events); each time enough of them pile up CPython rescans the heap, which cost a
    third of a recompute's CPU (bench_healthscore, issue 8). They hold no cycles, so
    reference counting frees them anyway; collection resumes when the last recompute
    of the process ends (cycles made meanwhile elsewhere wait until then)."""
    global _gc_pauses, _gc_resume
    if _gc_pauses == 0:
        _gc_resume = gc.isenabled()
        gc.disable()
    _gc_pauses += 1
    try:
        yield
    finally:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_resume:
            gc.enable()


_pool: ProcessPoolExecutor | None = None


def _scoring_pool() -> ProcessPoolExecutor:
    """The scoring processes, started on the first recompute that needs them and kept
    (spawned, not forked: the service runs threads and open sockets)."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(SCORING_PROCESSES,
                                    mp_context=multiprocessing.get_context("spawn"))
    return _pool


def start_scoring_processes() -> None:
    """Start the scoring processes now and wait until each has imported this module
    (~2 s), rather than in the first recompute that needs them."""
    list(_scoring_pool().map(_ready, range(SCORING_PROCESSES)))


def _ready(_: int) -> None:
    """Nothing: runs in a scoring process once it has started."""


def _discard_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def recompute(conn: asyncpg.Connection, account_id: int, customer_type: str,
                    causes: Mapping[int, str], now: datetime, *,
                    alert_days: int = 14) -> list[ScoreChange]:
    """`causes` maps each customer id to what made it worth recomputing. Customers go in
    batches of BATCH_SIZE: a batch's facts and stored scores are read with one query
    each, scored in Python, and its scores, changes and events written with one
    statement each, so the cost per customer is scoring, not round trips (issue 8).

    One batch (an event's customers, a clock tick) is scored in this process. More
    (publishing) are scored by SCORING_PROCESSES processes, two batches at a time,
    while this one reads the next batch and writes the finished ones, in order, on the
    caller's connection and transaction: the same statements as one batch after the
    other, so the same outcome, with scoring on both cores beside PostgreSQL."""
    with _cyclic_gc_paused():
        return await _recompute(conn, account_id, customer_type, causes, now, alert_days)


async def _recompute(conn: asyncpg.Connection, account_id: int, customer_type: str,
                     causes: Mapping[int, str], now: datetime,
                     alert_days: int) -> list[ScoreChange]:
    settings_type, csm_property = await store.customer_settings(conn, account_id)
    if customer_type != settings_type:
        return []  # not the object that represents customers in this account
    profiles = await store.live_profiles(conn, account_id)
    if not profiles:
        return []
    # Its batch queries are estimated dear enough to be JIT-compiled, which costs more
    # than they run (tens of ms per batch); in the caller's transaction only.
    await conn.execute("SET LOCAL jit = off")
    horizons = event_horizons([live.profile for live in profiles], now)
    ordered = sorted(causes)
    batches = [ordered[start:start + BATCH_SIZE]
               for start in range(0, len(ordered), BATCH_SIZE)]
    pool = _scoring_pool() if len(batches) > 1 else None
    loop = asyncio.get_running_loop()
    changes: list[ScoreChange] = []
    scoring: deque[asyncio.Future[_BatchOutcome]] = deque()

    async def write_oldest() -> None:
        done = await scoring.popleft()
        await _write(conn, account_id, customer_type, done)
        changes.extend(done.changes)

    try:
        for ids in batches:
            rows = await store.facts_rows(conn, account_id, customer_type, ids, horizons)
            previous = await store.stored_scores(conn, account_id, customer_type, ids)
            job = (account_id, customer_type, csm_property, profiles,
                   {i: causes[i] for i in ids}, rows, previous, now, alert_days)
            if pool is None:
                done = _score_batch(*job)
                await _write(conn, account_id, customer_type, done)
                changes.extend(done.changes)
                continue
            scoring.append(loop.run_in_executor(pool, _score_batch, *job))
            if len(scoring) > SCORING_PROCESSES:
                await write_oldest()
        while scoring:
            await write_oldest()
    except BrokenProcessPool:
        _discard_pool()  # a scoring process died (killed, out of memory): the next
        raise  # recompute starts new ones; this one fails and its caller rolls back
    finally:
        for pending in scoring:  # failed: nothing more is written, the caller rolls back
            pending.cancel()
    return changes


def _score_batch(account_id: int, customer_type: str, csm_property: str,
                 profiles: list[store.LiveProfile], causes: dict[int, str],
                 rows: store.FactsRows, previous_scores: dict[tuple[str, int], StoredScore],
                 now: datetime, alert_days: int) -> _BatchOutcome:
    """Score one batch: facts decoded, every live profile's score, and the changes,
    alerts and events they make. Pure CPU and picklable both ways, so it runs in a
    scoring process as well as here."""
    with _cyclic_gc_paused():
        all_facts = store.facts_from_rows(list(causes), *rows)
        scorers = [(live, Scorer(live.profile)) for live in profiles]
        out = _BatchOutcome()
        for customer_id, cause in causes.items():
            _score_customer(out, account_id, customer_type, csm_property, scorers,
                            customer_id, cause, all_facts[customer_id], previous_scores,
                            now, alert_days)
        return out


def _score_customer(out: _BatchOutcome, account_id: int, customer_type: str,
                    csm_property: str, scorers: list[tuple[store.LiveProfile, Scorer]],
                    customer_id: int, cause: str, stored: store.StoredFacts,
                    previous_scores: dict[tuple[str, int], StoredScore], now: datetime,
                    alert_days: int) -> None:
    for live, scorer in scorers:
        profile = live.profile
        previous = previous_scores.get((profile.id, customer_id))
        current = None
        if stored.properties is not None and segments_of(
                stored.properties, live.segments, profile.property_types):
            facts = CustomerFacts(str(customer_id), stored.properties, stored.events)
            current = scorer.score(facts, now)
            out.to_save.append(store.score_row(current))
        elif previous is not None:
            out.to_delete.append((profile.id, customer_id))
        change = diff(previous, current, cause, now)
        if change is None:
            continue
        out.changes.append(change)
        key = v1.customer_key(account_id, customer_type, customer_id)
        subject = f"{customer_type}/{customer_id}"
        changed = CloudEvent.of(
            v1.HealthScoreChanged(
                account_id=account_id, profile_id=profile.id, profile_name=profile.name,
                customer_object_type=customer_type, customer_id=customer_id,
                old_score=change.old_score, new_score=change.new_score,
                old_band=change.old_band, new_band=change.new_band, cause=cause,
                changed_at=now),
            source=SOURCE, subject=subject, account_id=account_id)
        changed.value()  # serialised here, where the scoring runs
        out.outgoing.append(OutgoingEvent(topics.HEALTHSCORES.name, key, changed))
        if is_alert(change):
            alert: dict[str, Any] = {
                "alert_id": str(uuid.uuid4()), "account_id": account_id,
                "user_id": csm_user_id(stored.properties, csm_property),
                "profile_id": profile.id, "customer_type": customer_type,
                "customer_id": customer_id, "old_band": change.old_band,
                "new_band": change.new_band, "score": change.new_score, "cause": cause,
                "fired_at": now, "expires_at": now + timedelta(days=alert_days)}
            out.alerts.append(alert)
            out.outgoing.append(OutgoingEvent(topics.HEALTHSCORES.name, key, CloudEvent.of(
                v1.HealthAlertRaised(profile_name=profile.name,
                                     customer_object_type=customer_type, **{
                                         k: v for k, v in alert.items()
                                         if k != "customer_type"}),
                source=SOURCE, subject=subject, account_id=account_id)))


async def _write(conn: asyncpg.Connection, account_id: int, customer_type: str,
                 out: _BatchOutcome) -> None:
    await store.save_scores(conn, account_id, customer_type, out.to_save)
    await store.delete_scores(conn, account_id, customer_type, out.to_delete)
    await store.insert_changes(conn, account_id, customer_type, out.changes)
    for alert in out.alerts:  # a change of band: rare next to the scores themselves
        await store.insert_alert(conn, alert)
    await enqueue(conn, out.outgoing, channel=OUTBOX_CHANNEL)
