"""A record created with its associations (POST /crm/v3/objects/{type} with
associations[]) on an in-memory association store (no I/O): R-REC-6."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from crm_records.handlers.associations import (
    AssociationSession,
    AssociationsHandler,
    NewAssociation,
    TypeSpec,
)
from crm_records.handlers.records import Actor, RecordsHandler

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
API = Actor(account_id=7, user_id=70)
DEFAULT, PRIMARY = TypeSpec("HUBSPOT_DEFINED", 279), TypeSpec("HUBSPOT_DEFINED", 1)


class FakeAssociationStore:
    """Just what a create with associations uses; counts the reads of a pair."""

    def __init__(self, companies: set[int]) -> None:
        self.companies = companies
        self.rows: set[tuple[str, int, str, int, int]] = set()
        self.pair_reads = 0
        self.events: list = []

    async def existing_ids(self, account_id, object_type, record_ids, *, viewer=None):
        return {i for i in record_ids if object_type == "companies" and i in self.companies}

    async def account_types(self, account_id):
        return []

    async def types_between(self, account_id, from_type, from_id, to_type, to_id):
        self.pair_reads += 1
        return {t for f, fi, tt, ti, t in self.rows if (f, fi, tt, ti) ==
                (from_type, from_id, to_type, to_id)}

    async def primary_of(self, account_id, owner_type, owner_id, primary_type_id):
        return next((ti for f, fi, tt, ti, t in self.rows if (f, fi, tt, t) ==
                     (owner_type, owner_id, "companies", primary_type_id)), None)

    async def insert(self, account_id, rows: Sequence, at) -> None:
        self.rows |= set(rows)

    async def delete(self, account_id, rows: Sequence) -> None:
        self.rows -= set(rows)

    async def publish(self, events) -> None:
        self.events += events


def handler(uow, store: FakeAssociationStore) -> AssociationsHandler:
    async def session():
        yield AssociationSession(store, RecordsHandler(uow, clock=lambda: NOW))

    return AssociationsHandler(asynccontextmanager(session), clock=lambda: NOW)


def added(store: FakeAssociationStore, from_type: str) -> list[tuple[int, list[int]]]:
    return [(e.event.data["to_record_id"], [t["type_id"] for t in e.event.data["types"]])
            for e in store.events if e.event.type == "crm.association.added.v1"
            and e.event.data["from_object_type"] == from_type]


async def test_a_new_records_pairs_are_not_read_back_unless_named_twice(uow):
    # R-REC-6: the record is new, so its first association to a company holds nothing
    # yet; a company named again in the same body is read, and only what is new is added.
    store = FakeAssociationStore({11, 12})
    created = await handler(uow, store).create_records(API, "contacts", [(
        {"email": "twice@x.io"},
        [NewAssociation(11, [DEFAULT]), NewAssociation(11, [PRIMARY]),
         NewAssociation(12, [DEFAULT])])])
    [contact] = created.records
    assert store.pair_reads == 1  # the second naming of company 11 only
    assert added(store, "contacts") == [(11, [279]), (11, [1]), (12, [279])]
    assert {(ti, t) for f, fi, _, ti, t in store.rows if fi == contact.record_id} == \
        {(11, 279), (11, 1), (12, 279)}


async def test_the_primary_moves_between_companies_named_in_one_body(uow):
    # R-REC-6: one primary company per contact, also within one create body
    store = FakeAssociationStore({11, 12})
    created = await handler(uow, store).create_records(API, "contacts", [(
        {"email": "moves@x.io"},
        [NewAssociation(11, [PRIMARY]), NewAssociation(12, [PRIMARY])])])
    [contact] = created.records
    assert {(ti, t) for f, fi, _, ti, t in store.rows if fi == contact.record_id} == \
        {(11, 279), (12, 279), (12, 1)}
