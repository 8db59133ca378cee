"""The records service's reactions to its own events (eventually consistent, on purpose).

Roll-ups (R-ROLL-1, R-ROLL-2): an engagement created or updated, or an
engagement newly associated to a record, may advance the record's
`notes_last_contacted` / `notes_last_updated`. The new value is the max of
the stored one and the engagement's time, so a late or repeated event never
moves a date back or counts twice (and the consumer skips event ids it has
applied). Every record the consumer looked at gets its `rollup_progress`
stamped, which the record read returns (when each roll-up was last brought up
to date).

Deal automation (R-LIFE-4..6): a deal created or changed, or a deal newly
associated to a contact or company, lifts the associated contacts and
companies: an open deal to at least `opportunity`, a closed-won deal to
`customer`; a closed-lost deal demotes no one, and a record with another
closed-won deal stays `customer`. Decisions read the deal's *current* stored
state, not the event's snapshot, so events applied late or out of order
converge on the same stages.

Both write through RecordsHandler.update as trusted AUTOMATION writes, in the
consumer's transaction: history, `crm.record.updated.v1` events and lifecycle
rules follow as for any other write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from crm_contracts.associations import v1 as associations_v1
from crm_contracts.envelope import CloudEvent
from crm_contracts.records import v1 as records_v1
from crm_records.domain import lifecycle, rollups
from crm_records.domain.object_types import ENGAGEMENT_TYPES
from crm_records.domain.record import Record
from crm_records.handlers.records import Actor, RecordsHandler

RECORD_WRITES = (records_v1.RecordCreated.EVENT_TYPE, records_v1.RecordUpdated.EVENT_TYPE,
                 records_v1.RecordRestored.EVENT_TYPE)
ADDED = associations_v1.AssociationAdded.EVENT_TYPE
LIFECYCLE_TYPES = ("contacts", "companies")
# Deal properties whose change can move an associated record's stage.
DEAL_STATE = frozenset({"dealstage", "pipeline", "hs_is_closed", "hs_is_closed_won"})


class AutomationStore(Protocol):
    async def get_records(self, account_id: int, object_type: str,
                          record_ids: Sequence[int]) -> dict[int, Record]: ...
    async def associated_ids(self, account_id: int, from_type: str, from_id: int,
                             to_types: Sequence[str] | None = None
                             ) -> list[tuple[str, int]]: ...
    async def associated_ids_of(self, account_id: int, from_type: str,
                                from_ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
        """associated_ids of many records at once (every type), by record id."""
    async def mark_rollups(self, account_id: int, object_type: str, record_ids: Sequence[int],
                           rollups: Sequence[str], at: datetime) -> None: ...


@dataclass
class AutomationSession:
    store: AutomationStore
    records: RecordsHandler  # writes in the consumer's transaction


def automation_actor(account_id: int, event: CloudEvent, what: str) -> Actor:
    return Actor(account_id=account_id, user_id=None, source="AUTOMATION",
                 source_id=f"{what}:{event.id}", trusted=True)


def _is_engagement(object_type: str) -> bool:
    return object_type in ENGAGEMENT_TYPES


async def _live(session: AutomationSession, account_id: int, object_type: str,
                record_id: int) -> Record | None:
    found = (await session.store.get_records(account_id, object_type, [record_id])).get(
        record_id)
    return None if found is None or found.archived or found.merged_into else found


# ---------------------------------------------------------------- roll-ups

RecordKey = tuple[int, str, int]  # account, object type, record id


async def _live_many(session: AutomationSession, keys: Iterable[RecordKey]
                     ) -> dict[RecordKey, Record]:
    """The live records among `keys`: one read per account and object type."""
    wanted: dict[tuple[int, str], set[int]] = {}
    for account_id, object_type, record_id in keys:
        wanted.setdefault((account_id, object_type), set()).add(record_id)
    found = {}
    for (account_id, object_type), ids in wanted.items():
        for record_id, record in (await session.store.get_records(
                account_id, object_type, sorted(ids))).items():
            if not record.archived and not record.merged_into:
                found[(account_id, object_type, record_id)] = record
    return found


async def apply_rollup_events(session: AutomationSession, events: Sequence[CloudEvent],
                              now: datetime) -> None:
    """A batch of events at once: the reads are one query per account and object type
    (not per event), and each record gets one write with the max of everything the
    batch says about it, its history naming the event that moved it last. A consumer
    that did the same per event fell ~20 s behind 75 calls/s (bench_rollups)."""
    written = [e for e in events if e.type in RECORD_WRITES
               and _is_engagement(e.data.get("object_type", ""))]
    added = [e for e in events if e.type == ADDED and _is_engagement(e.data["from_object_type"])
             and not _is_engagement(e.data["to_object_type"])]
    # What each event says: (event, engagement type, its properties, the records it is on).
    said: list[tuple[CloudEvent, str, Mapping[str, str | None], list[RecordKey]]] = []
    by_engagement: dict[tuple[int, str], list[CloudEvent]] = {}
    for event in written:
        by_engagement.setdefault((event.account_id, event.data["object_type"]), []).append(event)
    for (account_id, engagement_type), group in by_engagement.items():
        links = await session.store.associated_ids_of(
            account_id, engagement_type, sorted({e.data["record_id"] for e in group}))
        said += [(e, engagement_type, e.data["properties"],
                  [(account_id, t, i) for t, i in links.get(e.data["record_id"], [])
                   if not _is_engagement(t)]) for e in group]
    engagements = await _live_many(session, [
        (e.account_id, e.data["from_object_type"], e.data["from_record_id"]) for e in added])
    for event in added:
        engagement = engagements.get(
            (event.account_id, event.data["from_object_type"], event.data["from_record_id"]))
        if engagement is not None:
            said.append((event, engagement.object_type, engagement.properties,
                         [(event.account_id, event.data["to_object_type"],
                           event.data["to_record_id"])]))
    # Fold everything said about each record into its roll-up values, in event order.
    order = {id(e): n for n, e in enumerate(events)}
    said.sort(key=lambda item: order[id(item[0])])
    targets = await _live_many(session, [key for *_, keys in said for key in keys])
    values = {key: dict(record.properties) for key, record in targets.items()}
    changes: dict[RecordKey, dict[str, str]] = {}
    cause: dict[RecordKey, CloudEvent] = {}
    for event, engagement_type, properties, keys in said:
        for key in keys:
            if key not in targets:
                continue
            moved = rollups.apply_engagement(values[key], engagement_type, properties)
            if moved:
                values[key].update(moved)
                changes.setdefault(key, {}).update(moved)
                cause[key] = event
    await _write_rollups(session, targets, changes, cause, now)


async def _write_rollups(session: AutomationSession, targets: Mapping[RecordKey, Record],
                         changes: Mapping[RecordKey, dict[str, str]],
                         cause: Mapping[RecordKey, CloudEvent], now: datetime) -> None:
    """One trusted AUTOMATION write and one progress stamp per account and object type."""
    groups: dict[tuple[int, str], list[int]] = {}
    for account_id, object_type, record_id in sorted(targets):
        groups.setdefault((account_id, object_type), []).append(record_id)
    for (account_id, object_type), record_ids in groups.items():
        moved = [(i, changes[(account_id, object_type, i)]) for i in record_ids
                 if (account_id, object_type, i) in changes]
        if moved:
            await session.records.update(
                Actor(account_id=account_id, user_id=None, source="AUTOMATION", trusted=True),
                object_type, moved, source_ids={
                    i: f"rollup:{cause[(account_id, object_type, i)].id}" for i, _ in moved})
        await session.store.mark_rollups(account_id, object_type, record_ids,
                                         rollups.ROLLUP_PROPERTIES, now)


# ---------------------------------------------------------------- deal automation

def stage_for(current: str | None, deal: Record, has_other_won_deal: bool) -> str | None:
    """The stage an associated contact or company should have because of `deal`."""
    closed = deal.properties.get("hs_is_closed") == "true"
    won = deal.properties.get("hs_is_closed_won") == "true"
    if won:  # R-LIFE-4
        return lifecycle.stage_after_deal_closed_won(current)
    if closed:  # R-LIFE-5
        return lifecycle.stage_after_deal_closed_lost(current, has_other_won_deal)
    if deal.properties.get("dealstage"):  # R-LIFE-6: an open deal
        return lifecycle.stage_after_open_deal(current)
    return current


async def apply_deal_events(session: AutomationSession, events: Sequence[CloudEvent]) -> None:
    for event in events:
        data: dict[str, Any] = event.data
        if event.type in RECORD_WRITES and data.get("object_type") == "deals":
            if event.type == records_v1.RecordUpdated.EVENT_TYPE and not any(
                    c["name"] in DEAL_STATE for c in data.get("changes", [])):
                continue
            deal_id = data["record_id"]
            targets = await session.store.associated_ids(event.account_id, "deals", deal_id,
                                                         LIFECYCLE_TYPES)
        elif (event.type == ADDED and data["from_object_type"] == "deals"
              and data["to_object_type"] in LIFECYCLE_TYPES):
            deal_id = data["from_record_id"]
            targets = [(data["to_object_type"], data["to_record_id"])]
        else:
            continue
        deal = await _live(session, event.account_id, "deals", deal_id)
        if deal is None:
            continue
        for target_type, target_id in targets:
            await _lift(session, event, deal, target_type, target_id)


async def _lift(session: AutomationSession, event: CloudEvent, deal: Record,
                target_type: str, target_id: int) -> None:
    target = await _live(session, event.account_id, target_type, target_id)
    if target is None:
        return
    other_deal_ids = [i for t, i in await session.store.associated_ids(
        event.account_id, target_type, target_id, ["deals"]) if i != deal.record_id]
    other_deals = await session.store.get_records(event.account_id, "deals", other_deal_ids)
    has_other_won = any(d.properties.get("hs_is_closed_won") == "true" and not d.archived
                        for d in other_deals.values())
    current = target.properties.get(lifecycle.LIFECYCLE_PROPERTY)
    wanted = stage_for(current, deal, has_other_won)
    if wanted and wanted != current:
        await session.records.update(automation_actor(event.account_id, event, "deal"),
                                     target_type,
                                     [(target_id, {lifecycle.LIFECYCLE_PROPERTY: wanted})])
