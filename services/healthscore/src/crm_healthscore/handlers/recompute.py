"""Recompute customers' scores and publish what moved (R-HLTH-2, R-HLTH-3, R-HLTH-4).

For each customer and each live profile of its account: score the stored facts at
`now`, keep the result (with its explanation and next_change_at), and when score or
band moved, keep the change with its cause and publish HealthScoreChanged through the
outbox, in the caller's transaction (R-BUS-2). A change of band also stores an alert for
the customer's CSM, expiring after `alert_days`, and publishes HealthAlertRaised.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores import v1
from crm_healthscore.adapters import store
from crm_healthscore.domain.changes import ScoreChange, diff, is_alert
from crm_healthscore.domain.facts import CustomerFacts
from crm_healthscore.domain.scoring import Scorer, ScoreResult, event_horizons
from crm_healthscore.domain.segments import segments_of
from crm_platform.outbox import OutgoingEvent, enqueue

OUTBOX_CHANNEL = "outbox_healthscore"
SOURCE = "/healthscores"


def csm_user_id(properties: Mapping[str, str | None] | None, csm_property: str) -> int | None:
    """The CSM named by the customer's user-type property (owner ids are user ids here)."""
    raw = (properties or {}).get(csm_property)
    return int(raw) if raw and raw.strip().isdigit() else None


BATCH_SIZE = 1_000  # customers read and written per round of queries


async def recompute(conn: asyncpg.Connection, account_id: int, customer_type: str,
                    causes: Mapping[int, str], now: datetime, *,
                    alert_days: int = 14) -> list[ScoreChange]:
    """`causes` maps each customer id to what made it worth recomputing. Customers go in
    batches of BATCH_SIZE: a batch's facts and stored scores are read with one query
    each, scored in Python, and its scores, changes and events written with one
    statement each, so the cost per customer is scoring, not round trips (issue 8)."""
    settings_type, csm_property = await store.customer_settings(conn, account_id)
    if customer_type != settings_type:
        return []  # not the object that represents customers in this account
    profiles = await store.live_profiles(conn, account_id)
    if not profiles:
        return []
    # Its batch queries are estimated dear enough to be JIT-compiled, which costs more
    # than they run (tens of ms per batch); in the caller's transaction only.
    await conn.execute("SET LOCAL jit = off")
    scorers = [(live, Scorer(live.profile)) for live in profiles]
    horizons = event_horizons([live.profile for live in profiles], now)
    ordered = sorted(causes)
    changes: list[ScoreChange] = []
    for start in range(0, len(ordered), BATCH_SIZE):
        batch = {customer_id: causes[customer_id]
                 for customer_id in ordered[start:start + BATCH_SIZE]}
        changes += await _recompute_batch(conn, account_id, customer_type, csm_property,
                                          scorers, horizons, batch, now, alert_days)
    return changes


async def _recompute_batch(conn: asyncpg.Connection, account_id: int, customer_type: str,
                           csm_property: str, scorers: list[tuple[store.LiveProfile, Scorer]],
                           horizons: dict[str, datetime | None], causes: dict[int, str],
                           now: datetime, alert_days: int) -> list[ScoreChange]:
    ids = list(causes)
    all_facts = await store.load_facts_many(conn, account_id, customer_type, ids, horizons)
    previous_scores = await store.stored_scores(conn, account_id, customer_type, ids)
    to_save: list[ScoreResult] = []
    to_delete: list[tuple[str, int]] = []
    changes: list[ScoreChange] = []
    alerts: list[dict] = []
    outgoing: list[OutgoingEvent] = []
    for customer_id, cause in causes.items():
        stored = all_facts[customer_id]
        for live, scorer in scorers:
            profile = live.profile
            previous = previous_scores.get((profile.id, customer_id))
            current = None
            if stored.properties is not None and segments_of(
                    stored.properties, live.segments, profile.property_types):
                facts = CustomerFacts(str(customer_id), stored.properties, stored.events)
                current = scorer.score(facts, now)
                to_save.append(current)
            elif previous is not None:
                to_delete.append((profile.id, customer_id))
            change = diff(previous, current, cause, now)
            if change is None:
                continue
            changes.append(change)
            key = v1.customer_key(account_id, customer_type, customer_id)
            subject = f"{customer_type}/{customer_id}"
            outgoing.append(OutgoingEvent(topics.HEALTHSCORES.name, key, CloudEvent.of(
                v1.HealthScoreChanged(
                    account_id=account_id, profile_id=profile.id, profile_name=profile.name,
                    customer_object_type=customer_type, customer_id=customer_id,
                    old_score=change.old_score, new_score=change.new_score,
                    old_band=change.old_band, new_band=change.new_band, cause=cause,
                    changed_at=now),
                source=SOURCE, subject=subject, account_id=account_id)))
            if is_alert(change):
                alert = {
                    "alert_id": str(uuid.uuid4()), "account_id": account_id,
                    "user_id": csm_user_id(stored.properties, csm_property),
                    "profile_id": profile.id, "customer_type": customer_type,
                    "customer_id": customer_id, "old_band": change.old_band,
                    "new_band": change.new_band, "score": change.new_score, "cause": cause,
                    "fired_at": now, "expires_at": now + timedelta(days=alert_days)}
                alerts.append(alert)
                outgoing.append(OutgoingEvent(topics.HEALTHSCORES.name, key, CloudEvent.of(
                    v1.HealthAlertRaised(profile_name=profile.name,
                                         customer_object_type=customer_type, **{
                                             k: v for k, v in alert.items()
                                             if k != "customer_type"}),
                    source=SOURCE, subject=subject, account_id=account_id)))
    await store.save_scores(conn, account_id, customer_type, to_save)
    await store.delete_scores(conn, account_id, customer_type, to_delete)
    await store.insert_changes(conn, account_id, customer_type, changes)
    for alert in alerts:  # a change of band: rare next to the scores themselves
        await store.insert_alert(conn, alert)
    await enqueue(conn, outgoing, channel=OUTBOX_CHANNEL)
    return changes
