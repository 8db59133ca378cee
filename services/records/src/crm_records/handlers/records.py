"""Record use cases: create, update, archive, restore, read, list.

Each write runs in one transaction that stores the records, their property
history and their events (the outbox), so an event exists if and only if its
change was stored (R-BUS-2). Routes only translate HTTP to these calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, EventData, record_key
from crm_contracts.records import v1
from crm_platform.outbox import OutgoingEvent
from crm_records.domain import record as rules
from crm_records.domain.record import Record

SOURCE = "/crm/records"
Values = dict[str, str | None]


class RecordNotFound(Exception):
    def __init__(self, object_type: str, record_ids: Sequence[int]) -> None:
        super().__init__(f"{object_type} {', '.join(map(str, record_ids))} not found")
        self.object_type = object_type
        self.record_ids = list(record_ids)


class RecordStore(Protocol):
    async def allocate_ids(self, count: int) -> list[int]: ...
    async def insert(self, records: Sequence[Record]) -> None: ...
    async def save(self, records: Sequence[Record]) -> None: ...
    async def get_many(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                       for_update: bool = False) -> dict[int, Record]: ...
    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool) -> list[Record]: ...
    async def append_history(self, records: Sequence[Record], *, source: str,
                             source_id: str | None, user_id: int | None,
                             at: datetime) -> None: ...
    async def publish(self, events: Sequence[OutgoingEvent]) -> None: ...


UnitOfWork = Callable[[], AbstractAsyncContextManager[RecordStore]]
Validator = Callable[[int, str, Values], Awaitable[Values]]


@dataclass(frozen=True)
class Actor:
    """Who writes, and through what (R-REC-4 history source)."""

    account_id: int
    user_id: int | None
    source: str = "API"
    source_id: str | None = None


def _snapshot(record: Record) -> dict:
    return dict(account_id=record.account_id, object_type=record.object_type,
                record_id=record.record_id, version=record.version,
                properties=record.properties, archived=record.archived,
                created_at=record.created_at, updated_at=record.updated_at)


def _outgoing(record: Record, data: EventData) -> OutgoingEvent:
    event = CloudEvent.of(data, source=SOURCE, account_id=record.account_id,
                          subject=f"{record.object_type}/{record.record_id}")
    return OutgoingEvent(topics.RECORDS.name,
                         record_key(record.account_id, record.object_type, record.record_id),
                         event)


def created_event(record: Record, actor: Actor) -> OutgoingEvent:
    return _outgoing(record, v1.RecordCreated(**_snapshot(record), source=actor.source,
                                              source_id=actor.source_id, user_id=actor.user_id))


def updated_event(record: Record, actor: Actor) -> OutgoingEvent:
    changes = [v1.PropertyChange(name=c.name, old_value=c.old_value, new_value=c.new_value,
                                 source=actor.source, source_id=actor.source_id,
                                 user_id=actor.user_id) for c in record.changes]
    return _outgoing(record, v1.RecordUpdated(**_snapshot(record), changes=changes))


class RecordsHandler:
    def __init__(self, unit_of_work: UnitOfWork, validate: Validator,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.validate = validate
        self.clock = clock

    async def create(self, actor: Actor, object_type: str,
                     inputs: Sequence[Values]) -> list[Record]:
        values = [await self.validate(actor.account_id, object_type, v) for v in inputs]
        now = self.clock()
        async with self.unit_of_work() as store:
            ids = await store.allocate_ids(len(values))
            records = [rules.new_record(actor.account_id, object_type, record_id, v, now)
                       for record_id, v in zip(ids, values, strict=True)]
            await store.insert(records)
            await store.append_history(records, source=actor.source, source_id=actor.source_id,
                                       user_id=actor.user_id, at=now)
            await store.publish([created_event(r, actor) for r in records])
        return records

    async def update(self, actor: Actor, object_type: str,
                     updates: Sequence[tuple[int, Values]]) -> list[Record]:
        validated = [(record_id, await self.validate(actor.account_id, object_type, v))
                     for record_id, v in updates]
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await store.get_many(actor.account_id, object_type,
                                           [i for i, _ in validated], for_update=True)
            missing = [i for i, _ in validated if i not in current or current[i].archived]
            if missing:
                raise RecordNotFound(object_type, missing)
            results = []
            for record_id, values in validated:
                current[record_id] = rules.apply_values(current[record_id], values, now)
                results.append(current[record_id])
            changed = [r for r in current.values() if r.changes]
            await store.save(changed)
            await store.append_history(changed, source=actor.source, source_id=actor.source_id,
                                       user_id=actor.user_id, at=now)
            await store.publish([updated_event(r, actor) for r in changed])
        return results

    async def archive(self, actor: Actor, object_type: str, record_ids: Sequence[int]) -> None:
        """Archiving what is already archived or absent changes nothing (hosted: 204)."""
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await store.get_many(actor.account_id, object_type, record_ids,
                                           for_update=True)
            archived = [rules.archive(r, now) for r in current.values() if not r.archived]
            await store.save(archived)
            await store.publish([_outgoing(r, v1.RecordArchived(**_snapshot(r)))
                                 for r in archived])

    async def restore(self, actor: Actor, object_type: str, record_ids: Sequence[int]) -> None:
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await store.get_many(actor.account_id, object_type, record_ids,
                                           for_update=True)
            missing = [i for i in record_ids if i not in current]
            if missing:
                raise RecordNotFound(object_type, missing)
            restored = [rules.restore(r, now) for r in current.values() if r.archived]
            await store.save(restored)
            await store.publish([_outgoing(r, v1.RecordRestored(**_snapshot(r)))
                                 for r in restored])

    async def read(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                   archived: bool = False) -> dict[int, Record]:
        async with self.unit_of_work() as store:
            found = await store.get_many(account_id, object_type, record_ids)
        return {i: r for i, r in found.items() if r.archived == archived}

    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool = False) -> list[Record]:
        async with self.unit_of_work() as store:
            return await store.page(account_id, object_type, after=after, limit=limit,
                                    archived=archived)
