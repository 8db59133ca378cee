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

from collections.abc import Sequence
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
    async def mark_rollups(self, account_id: int, object_type: str, record_id: int,
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

async def apply_rollup_events(session: AutomationSession, events: Sequence[CloudEvent],
                              now: datetime) -> None:
    for event in events:
        data: dict[str, Any] = event.data
        if event.type in RECORD_WRITES and _is_engagement(data.get("object_type", "")):
            engagement_type, properties = data["object_type"], data["properties"]
            targets = [t for t in await session.store.associated_ids(
                event.account_id, engagement_type, data["record_id"])
                if not _is_engagement(t[0])]
        elif (event.type == ADDED and _is_engagement(data["from_object_type"])
              and not _is_engagement(data["to_object_type"])):
            engagement = await _live(session, event.account_id, data["from_object_type"],
                                     data["from_record_id"])
            if engagement is None:
                continue
            engagement_type, properties = engagement.object_type, engagement.properties
            targets = [(data["to_object_type"], data["to_record_id"])]
        else:
            continue
        for target_type, target_id in targets:
            await _advance(session, event, target_type, target_id, engagement_type,
                           properties, now)


async def _advance(session: AutomationSession, event: CloudEvent, target_type: str,
                   target_id: int, engagement_type: str, properties: dict[str, str | None],
                   now: datetime) -> None:
    target = await _live(session, event.account_id, target_type, target_id)
    if target is None:
        return
    changes = rollups.apply_engagement(target.properties, engagement_type, properties)
    if changes:
        await session.records.update(automation_actor(event.account_id, event, "rollup"),
                                     target_type, [(target_id, changes)])
    await session.store.mark_rollups(event.account_id, target_type, target_id,
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
