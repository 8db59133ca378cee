"""Batch upsert (R-REC-1): create or update records by a unique property.

Each input names a unique-value property (`idProperty`, e.g. `email`) and a
value (`id`). The record holding that value is updated; when none holds it,
a record is created with that value. The whole batch runs in one transaction
(records, history, events: R-BUS-2), and the values it names are locked until
commit, so two concurrent upserts of a new value make one record, not a
unique-value conflict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from crm_records.domain.errors import (
    DomainError,
    InvalidPropertyValues,
    PropertyError,
)
from crm_records.domain.record import Record
from crm_records.handlers.properties import load_catalog, validate_inputs
from crm_records.handlers.records import Actor, RecordsHandler, RecordStore, UnitOfWork
from crm_records.handlers.visibility import may_view


class UpsertStore(RecordStore, Protocol):
    async def lock_unique_values(self, account_id: int, object_type: str,
                                 pairs: Sequence[tuple[str, str]]) -> None: ...
    async def unique_holders(self, account_id: int, object_type: str,
                             pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]: ...


@dataclass(frozen=True)
class UpsertInput:
    id_property: str
    id_value: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Upserted:
    record: Record
    new: bool


class DuplicateUpsertIds(DomainError):
    def __init__(self, duplicates: Sequence[tuple[str, str]]) -> None:
        self.duplicates = list(duplicates)
        named = ", ".join(f"{name}={value}" for name, value in self.duplicates)
        super().__init__(f"Duplicate ids in the upsert inputs: {named}")


class HeldOutOfView(DomainError):
    """The value belongs to a record the caller may not see: neither it nor its id is
    shown (R-AUTH-3), and a second holder cannot be made (R-REC-2)."""

    category = "CONFLICT"

    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"A record with {name} {value!r} already exists.")
        self.name = name
        self.value = value


def _id_property_errors(catalog: Mapping[str, Any], inputs: Sequence[UpsertInput]
                        ) -> list[PropertyError]:
    errors = {}
    for one in inputs:
        definition = catalog.get(one.id_property)
        if definition is None or definition.archived or not definition.has_unique_value:
            errors[one.id_property] = PropertyError(
                one.id_property, one.id_value, "INVALID_ID_PROPERTY",
                f"idProperty {one.id_property!r} is not a unique-value property of this type")
    return list(errors.values())


class UpsertHandler:
    def __init__(self, unit_of_work: UnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[tuple[UpsertStore, RecordsHandler]]:
        """The store and a RecordsHandler writing in the same transaction."""
        async with self.unit_of_work() as store:
            @asynccontextmanager
            async def same_transaction() -> AsyncIterator[RecordStore]:
                yield store

            yield store, RecordsHandler(same_transaction, self.clock)  # type: ignore[misc]

    async def upsert(self, actor: Actor, object_type: str,
                     inputs: Sequence[UpsertInput]) -> list[Upserted]:
        """One result per input, in input order; `new` tells a created record."""
        if not inputs:
            return []
        async with self._session() as (store, records):
            catalog = await load_catalog(store, actor.account_id, object_type, self.clock())
            errors = _id_property_errors(catalog, inputs)
            if errors:
                raise InvalidPropertyValues(errors)
            # The id in its stored form (emails lower-case, numbers normalised).
            normalised = await validate_inputs(
                store, catalog, actor.account_id,
                [{one.id_property: one.id_value} for one in inputs], allow_read_only=True)
            keys = [(one.id_property, values[one.id_property])
                    for one, values in zip(inputs, normalised, strict=True)]
            if any(value is None for _, value in keys):
                raise InvalidPropertyValues([PropertyError(
                    name, None, "INVALID_ID", f"id for {name} must not be blank")
                    for name, value in keys if value is None])
            pairs: list[tuple[str, str]] = keys  # type: ignore[assignment]
            duplicates = sorted({key for key in pairs if pairs.count(key) > 1})
            if duplicates:
                raise DuplicateUpsertIds(duplicates)
            await store.lock_unique_values(actor.account_id, object_type, sorted(pairs))
            holders = await store.unique_holders(actor.account_id, object_type, pairs)
            held = await store.get_many(actor.account_id, object_type,
                                        sorted(set(holders.values())))
            for key, record_id in holders.items():
                if record_id in held and not may_view(actor.viewer, held[record_id]):
                    raise HeldOutOfView(*key)
            updates = [(holders[key], dict(one.properties))
                       for one, key in zip(inputs, pairs, strict=True) if key in holders]
            creates = [{**one.properties, key[0]: key[1]}
                       for one, key in zip(inputs, pairs, strict=True) if key not in holders]
            # Two inputs may name one record by two unique properties: one result each.
            updated = {r.record_id: r for r in (await records.update(actor, object_type, updates)
                                                if updates else [])}
            created = iter(await records.create(actor, object_type, creates)
                           if creates else [])
            return [Upserted(updated[holders[key]], False) if key in holders
                    else Upserted(next(created), True) for key in pairs]
