"""An in-memory RecordStore and unit of work for handler tests (no I/O).

Each unit of work sees a copy of the state and commits it only when the block
ends without an error, like the PostgreSQL transaction it stands for."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent
from crm_records.domain.properties import PropertyDefinition, PropertyGroup
from crm_records.domain.record import Record
from crm_records.handlers.pipelines import StoredPipeline
from crm_records.handlers.properties import StoredProperty
from crm_records.handlers.visibility import may_view


@dataclass
class State:
    next_id: int = 1001
    records: dict[tuple[int, str, int], Record] = field(default_factory=dict)
    history: list[tuple] = field(default_factory=list)
    events: list[OutgoingEvent] = field(default_factory=list)
    catalogs: dict[tuple[int, str], dict[str, StoredProperty]] = field(default_factory=dict)
    groups: dict[tuple[int, str], dict[str, PropertyGroup]] = field(default_factory=dict)
    users: dict[int, set[int]] = field(default_factory=dict)
    unique: dict[tuple[int, str, str, str], int] = field(default_factory=dict)
    pipelines: dict[tuple[int, str], list[StoredPipeline]] = field(default_factory=dict)


class FakeStore:
    def __init__(self, state: State) -> None:
        self.state = state

    async def allocate_ids(self, count: int) -> list[int]:
        first = self.state.next_id
        self.state.next_id += count
        return list(range(first, first + count))

    async def insert(self, records: Sequence[Record]) -> None:
        for r in records:
            self.state.records[(r.account_id, r.object_type, r.record_id)] = r

    async def save(self, records: Sequence[Record]) -> None:
        await self.insert(records)

    async def get_many(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                       for_update: bool = False) -> dict[int, Record]:
        return {i: self.state.records[(account_id, object_type, i)] for i in record_ids
                if (account_id, object_type, i) in self.state.records}

    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool, viewer: Principal | None = None) -> list[Record]:
        found = sorted((r for (a, t, i), r in self.state.records.items()
                        if a == account_id and t == object_type and i > after
                        and r.archived == archived and r.merged_into is None
                        and may_view(viewer, r)), key=lambda r: r.record_id)
        return found[:limit]

    async def append_history(self, records: Sequence[Record], *, source: str,
                             source_id: str | None, user_id: int | None, at: datetime,
                             source_ids: Mapping[int, str] | None = None) -> None:
        self.state.history.extend(
            (r.record_id, c.name, c.new_value, at, source,
             source_ids[r.record_id] if source_ids else source_id, user_id)
            for r in records for c in r.changes)

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        self.state.events.extend(events)

    async def property_rows(self, account_id: int, object_type: str) -> list[StoredProperty]:
        return list(self.state.catalogs.get((account_id, object_type), {}).values())

    async def seed_catalog(self, account_id: int, object_type: str,
                           definitions: Sequence[PropertyDefinition],
                           groups: Sequence[PropertyGroup], at: datetime) -> bool:
        if (account_id, object_type) in self.state.catalogs:
            return False
        self.state.catalogs[(account_id, object_type)] = {
            d.name: StoredProperty(d, at, at) for d in definitions}
        self.state.groups[(account_id, object_type)] = {g.name: g for g in groups}
        return True

    async def save_property(self, account_id: int, object_type: str, stored: StoredProperty,
                            user_id: int | None) -> None:
        self.state.catalogs[(account_id, object_type)][stored.definition.name] = stored

    async def property_groups(self, account_id: int, object_type: str) -> list[PropertyGroup]:
        return list(self.state.groups.get((account_id, object_type), {}).values())

    async def save_group(self, account_id: int, object_type: str, group: PropertyGroup,
                         archived: bool = False) -> None:
        groups = self.state.groups.setdefault((account_id, object_type), {})
        if archived:
            groups.pop(group.name, None)
        else:
            groups[group.name] = group

    async def existing_user_ids(self, account_id: int, user_ids: Sequence[int]) -> set[int]:
        return set(user_ids) & self.state.users.get(account_id, set())

    async def claim_unique(self, account_id: int, object_type: str,
                           claims: Sequence[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
        conflicts = []
        for name, value, record_id in claims:
            key = (account_id, object_type, name, value)
            if key in self.state.unique:
                conflicts.append((name, value, self.state.unique[key]))
            else:
                self.state.unique[key] = record_id
        return conflicts

    async def release_unique(self, account_id: int, object_type: str,
                             releases: Sequence[tuple[str, str, int]]) -> None:
        for name, value, record_id in releases:
            key = (account_id, object_type, name, value)
            if self.state.unique.get(key) == record_id:
                del self.state.unique[key]


    async def pipeline_rows(self, account_id: int, object_type: str) -> list[StoredPipeline]:
        return list(self.state.pipelines.get((account_id, object_type), []))

    async def save_pipelines(self, account_id: int, object_type: str,
                             rows: Sequence[StoredPipeline]) -> None:
        self.state.pipelines[(account_id, object_type)] = list(rows)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.state = State()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[FakeStore]:
        working = copy.deepcopy(self.state)
        yield FakeStore(working)
        self.state = working  # committed only when the block raised nothing

    def events_of(self, event_type: str) -> list[OutgoingEvent]:
        return [e for e in self.state.events if e.event.type == event_type]


import pytest  # noqa: E402


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()
