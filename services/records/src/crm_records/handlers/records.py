"""Record use cases: create, update, archive, restore, read, list.

Each write runs in one transaction that stores the records, their property
history and their events (the outbox), so an event exists if and only if its
change was stored (R-BUS-2). Routes only translate HTTP to these calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, EventData, record_key
from crm_contracts.records import v1
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent
from crm_records.domain import lifecycle
from crm_records.domain import record as rules
from crm_records.domain.errors import UniqueValueConflict
from crm_records.domain.object_types import resolve_object_type
from crm_records.domain.pipelines import stage_values
from crm_records.domain.properties import PropertyDefinition
from crm_records.domain.record import Record
from crm_records.handlers.pipelines import PipelineStore, active_pipelines
from crm_records.handlers.properties import CatalogStore, load_catalog, validate_inputs
from crm_records.handlers.visibility import require_editable, visible

SOURCE = "/crm/records"
Values = dict[str, str | None]


class RecordNotFound(Exception):
    def __init__(self, object_type: str, record_ids: Sequence[int]) -> None:
        super().__init__(f"{object_type} {', '.join(map(str, record_ids))} not found")
        self.object_type = object_type
        self.record_ids = list(record_ids)


class RecordStore(CatalogStore, PipelineStore, Protocol):
    async def allocate_ids(self, count: int) -> list[int]: ...
    async def insert(self, records: Sequence[Record]) -> None: ...
    async def save(self, records: Sequence[Record]) -> None: ...
    async def get_many(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                       for_update: bool = False) -> dict[int, Record]: ...
    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool, viewer: Principal | None = None) -> list[Record]: ...
    async def append_history(self, records: Sequence[Record], *, source: str,
                             source_id: str | None, user_id: int | None, at: datetime,
                             source_ids: Mapping[int, str] | None = None) -> None:
        """source_ids: per record id, in place of source_id."""
    async def claim_unique(self, account_id: int, object_type: str,
                           claims: Sequence[tuple[str, str, int]]
                           ) -> list[tuple[str, str, int]]: ...
    async def release_unique(self, account_id: int, object_type: str,
                             releases: Sequence[tuple[str, str, int]]) -> None: ...


UnitOfWork = Callable[[], AbstractAsyncContextManager[RecordStore]]
RawValues = Mapping[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who writes, and through what (R-REC-4 history source)."""

    account_id: int
    user_id: int | None
    source: str = "API"
    source_id: str | None = None
    # The platform's own writers (automation, roll-ups, merge) may set read-only properties.
    trusted: bool = False
    # The caller's access (R-AUTH-3): None for the platform's own writers, which see all.
    viewer: Principal | None = None


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


def _unique_names(catalog: Mapping[str, PropertyDefinition]) -> set[str]:
    return {name for name, d in catalog.items() if d.has_unique_value and not d.archived}


async def reserve_unique_values(store: RecordStore, catalog: Mapping[str, PropertyDefinition],
                                records: Sequence[Record], *, releasing: bool = False,
                                whole: bool = False) -> None:
    """Keep `unique_values` in step with the records' changes (or, `whole`, with all their
    values): a value another record holds is refused (R-REC-2), even under concurrency,
    since the table's primary key decides."""
    names = _unique_names(catalog)
    if not names or not records:
        return
    account_id, object_type = records[0].account_id, records[0].object_type
    if whole:
        pairs = [(n, value, r.record_id) for r in records for n in names
                 if (value := r.properties.get(n)) is not None]
        if releasing:
            await store.release_unique(account_id, object_type, pairs)
            return
        releases: list[tuple[str, str, int]] = []
        claims = pairs
    else:
        releases = [(c.name, old, r.record_id) for r in records for c in r.changes
                    if c.name in names and (old := c.old_value) is not None]
        claims = [(c.name, new, r.record_id) for r in records for c in r.changes
                  if c.name in names and (new := c.new_value) is not None]
    seen: set[tuple[str, str]] = set()
    for name, value, _ in claims:
        if (name, value) in seen:
            raise UniqueValueConflict(name, value, None)
        seen.add((name, value))
    if releases:
        await store.release_unique(account_id, object_type, releases)
    conflicts = await store.claim_unique(account_id, object_type, claims)
    if conflicts:
        raise UniqueValueConflict(*conflicts[0])


# R-LIFE-1/2: the types whose lifecyclestage only moves forward.
LIFECYCLE_TYPES = frozenset({"contacts", "companies"})


def _has_pipelines(object_type: str) -> bool:
    try:
        return resolve_object_type(object_type).has_pipelines
    except Exception:  # a custom type: every custom object has pipelines (R-PIPE-1)
        return True


def _merge_in_order(updates: Sequence[tuple[int, Values]]) -> dict[int, list[Values]]:
    """Inputs per record in request order (a batch may name a record twice: R-LIFE-2)."""
    grouped: dict[int, list[Values]] = {}
    for record_id, values in updates:
        grouped.setdefault(record_id, []).append(values)
    return grouped


class RecordsHandler:
    def __init__(self, unit_of_work: UnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def create(self, actor: Actor, object_type: str,
                     inputs: Sequence[RawValues]) -> list[Record]:
        now = self.clock()
        async with self.unit_of_work() as store:
            catalog = await load_catalog(store, actor.account_id, object_type, now)
            values = await validate_inputs(store, catalog, actor.account_id, inputs,
                                           allow_read_only=actor.trusted)
            if object_type == "contacts":  # R-LIFE-3: the initial stage follows the source
                values = [{**v, lifecycle.LIFECYCLE_PROPERTY: lifecycle.stage_on_create(
                    actor.source, v.get(lifecycle.LIFECYCLE_PROPERTY))} for v in values]
            if _has_pipelines(object_type):
                pipelines = await active_pipelines(store, actor.account_id, object_type)
                values = [stage_values(object_type, pipelines, {}, v) for v in values]
            ids = await store.allocate_ids(len(values))
            records = [rules.new_record(actor.account_id, object_type, record_id, v, now)
                       for record_id, v in zip(ids, values, strict=True)]
            await reserve_unique_values(store, catalog, records)
            await store.insert(records)
            await store.append_history(records, source=actor.source, source_id=actor.source_id,
                                       user_id=actor.user_id, at=now)
            await store.publish([created_event(r, actor) for r in records])
        return records

    async def update(self, actor: Actor, object_type: str,
                     updates: Sequence[tuple[int, RawValues]], *,
                     source_ids: Mapping[int, str] | None = None) -> list[Record]:
        """source_ids: per record id, the history source id in place of the actor's (a
        consumer writing many records in one batch names each one's own cause)."""
        now = self.clock()
        async with self.unit_of_work() as store:
            catalog = await load_catalog(store, actor.account_id, object_type, now)
            checked = await validate_inputs(store, catalog, actor.account_id,
                                            [v for _, v in updates],
                                            allow_read_only=actor.trusted)
            grouped = _merge_in_order([(i, v) for (i, _), v in zip(updates, checked,
                                                                    strict=True)])
            current = await store.get_many(actor.account_id, object_type, list(grouped),
                                           for_update=True)
            current = visible(actor.viewer, current)
            missing = [i for i in grouped if i not in current or current[i].archived]
            if missing:
                raise RecordNotFound(object_type, missing)
            require_editable(actor.viewer, object_type, current.values())
            pipelines = (await active_pipelines(store, actor.account_id, object_type)
                         if _has_pipelines(object_type) else ())
            results = []
            for record_id, inputs in grouped.items():
                before = current[record_id].properties
                values = self._combined(object_type, before, inputs)
                values = stage_values(object_type, pipelines, before, values)
                current[record_id] = rules.apply_values(current[record_id], values, now)
                results.append(current[record_id])
            changed = [r for r in results if r.changes]
            await reserve_unique_values(store, catalog, changed)
            await store.save(changed)
            await store.append_history(changed, source=actor.source, source_id=actor.source_id,
                                       user_id=actor.user_id, at=now, source_ids=source_ids)
            await store.publish([updated_event(r, dataclasses.replace(
                actor, source_id=source_ids[r.record_id]) if source_ids else actor)
                for r in changed])
        return results

    @staticmethod
    def _combined(object_type: str, before: Values, inputs: list[Values]) -> Values:
        """One record's inputs as one set of values; the lifecycle stage goes through
        every value the request gave it, in order (R-LIFE-2: forward only, unless
        cleared first, in this request or an earlier one)."""
        values: Values = {}
        for one in inputs:
            values.update(one)
        if object_type in LIFECYCLE_TYPES:
            requested = [one[lifecycle.LIFECYCLE_PROPERTY] for one in inputs
                         if lifecycle.LIFECYCLE_PROPERTY in one]
            if requested:
                values[lifecycle.LIFECYCLE_PROPERTY] = lifecycle.apply_lifecycle_change(
                    before.get(lifecycle.LIFECYCLE_PROPERTY), *requested)
        return values

    async def archive(self, actor: Actor, object_type: str, record_ids: Sequence[int]) -> None:
        """Archiving what is already archived or absent changes nothing (hosted: 204)."""
        now = self.clock()
        async with self.unit_of_work() as store:
            current = visible(actor.viewer, await store.get_many(
                actor.account_id, object_type, record_ids, for_update=True))
            require_editable(actor.viewer, object_type, current.values())
            archived = [rules.archive(r, now) for r in current.values() if not r.archived]
            # An archived record gives its unique values back (hosted: the email is free again).
            catalog = await load_catalog(store, actor.account_id, object_type, now)
            await reserve_unique_values(store, catalog, archived, releasing=True, whole=True)
            await store.save(archived)
            await store.publish([_outgoing(r, v1.RecordArchived(**_snapshot(r)))
                                 for r in archived])

    async def restore(self, actor: Actor, object_type: str, record_ids: Sequence[int]) -> None:
        now = self.clock()
        async with self.unit_of_work() as store:
            current = visible(actor.viewer, await store.get_many(
                actor.account_id, object_type, record_ids, for_update=True))
            missing = [i for i in record_ids if i not in current]
            if missing:
                raise RecordNotFound(object_type, missing)
            require_editable(actor.viewer, object_type, current.values())
            restored = [rules.restore(r, now) for r in current.values() if r.archived]
            catalog = await load_catalog(store, actor.account_id, object_type, now)
            await reserve_unique_values(store, catalog, restored, whole=True)
            await store.save(restored)
            await store.publish([_outgoing(r, v1.RecordRestored(**_snapshot(r)))
                                 for r in restored])

    async def read(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                   archived: bool = False, viewer: Principal | None = None) -> dict[int, Record]:
        """The records by id that the viewer may see (R-AUTH-3); the rest are absent."""
        async with self.unit_of_work() as store:
            found = await store.get_many(account_id, object_type, record_ids)
            # R-REC-10: a merged-away id answers with the record it was merged into.
            forwarded = {i: r.merged_into for i, r in found.items() if r.merged_into}
            if forwarded:
                primaries = await store.get_many(account_id, object_type,
                                                 sorted(set(forwarded.values())))
                found.update({i: primaries[p] for i, p in forwarded.items() if p in primaries})
        return {i: r for i, r in visible(viewer, found).items() if r.archived == archived}

    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool = False, viewer: Principal | None = None) -> list[Record]:
        """One page of what the viewer may see, filtered in the query so paging holds."""
        async with self.unit_of_work() as store:
            return await store.page(account_id, object_type, after=after, limit=limit,
                                    archived=archived, viewer=viewer)
