"""Health scores onto the customer record (R-HLTH-2, R-CSW-3 reads them from records).

A consumer of `crm.healthscore.changed.v1` (topic crm.healthscores.v1) writes
`health_score` and `health_status` (read-only properties, bands at_risk /
neutral / healthy) on the customer record as a trusted AUTOMATION write
through RecordsHandler.update, in the consumer's transaction: history rows
and `crm.record.updated.v1` follow as for any write.

Ordering: per record the time of the newest score change applied is kept;
an event not newer than it changes nothing, so a late or repeated score
never overwrites a newer one (the consumer also skips event ids it applied).
With several live profiles scoring one customer, the record shows the most
recent change of any of them. A record that is gone, archived or merged away,
or a type without the health properties, is passed over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores.v1 import HealthScoreChanged
from crm_records.domain.errors import UnknownObjectType
from crm_records.domain.object_types import resolve_object_type
from crm_records.domain.record import Record
from crm_records.handlers.records import Actor, RecordsHandler

SCORE_PROPERTY = "health_score"
STATUS_PROPERTY = "health_status"


class HealthStore(Protocol):
    async def get_records(self, account_id: int, object_type: str,
                          record_ids: Sequence[int]) -> dict[int, Record]: ...
    async def has_properties(self, account_id: int, object_type: str,
                             names: Sequence[str]) -> bool: ...
    async def advance_health_stamp(self, account_id: int, object_type: str, record_id: int,
                                   changed_at: datetime) -> bool:
        """True when `changed_at` is newer than the last applied (and is now stored)."""
        ...


@dataclass
class HealthSession:
    store: HealthStore
    records: RecordsHandler  # writes in the consumer's transaction


def record_type(reference: str) -> str:
    """The records' type name of the event's customer type ("0-2" -> "companies")."""
    try:
        return resolve_object_type(reference).name
    except UnknownObjectType:
        return reference  # a custom type: events name it as its records are stored


def health_values(change: HealthScoreChanged) -> dict[str, str | None]:
    return {SCORE_PROPERTY: None if change.new_score is None else str(change.new_score),
            STATUS_PROPERTY: change.new_band}


async def apply_health_events(session: HealthSession, events: Sequence[CloudEvent]) -> None:
    for event in events:
        if event.type != HealthScoreChanged.EVENT_TYPE:
            continue
        change = HealthScoreChanged.model_validate(event.data)
        object_type = record_type(change.customer_object_type)
        account_id = change.account_id
        found = (await session.store.get_records(account_id, object_type,
                                                 [change.customer_id])).get(change.customer_id)
        if found is None or found.archived or found.merged_into:
            continue
        if not await session.store.has_properties(account_id, object_type,
                                                  (SCORE_PROPERTY, STATUS_PROPERTY)):
            continue
        if not await session.store.advance_health_stamp(account_id, object_type,
                                                        change.customer_id, change.changed_at):
            continue  # late or repeated: a newer score is already on the record
        actor = Actor(account_id=account_id, user_id=None, source="AUTOMATION",
                      source_id=f"healthscore:{event.id}", trusted=True)
        await session.records.update(actor, object_type,
                                     [(change.customer_id, health_values(change))])
