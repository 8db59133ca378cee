"""Association use cases (R-REC-6, R-REC-7): associate with labels or by default,
remove, list, labels, and records created with their associations.

Each call runs in one transaction that writes both directions of every pair
and queues one `crm.association.*.v1` event per direction (outbox, R-BUS-2).
An id this account does not hold answers as not found (R-AUTH-1: 404).
The contact's `company` property is never touched here (R-REC-6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from crm_contracts import topics
from crm_contracts.associations import v1
from crm_contracts.envelope import CloudEvent, record_key
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent
from crm_records.domain import associations as rules
from crm_records.domain.associations import AssociationType, InvalidAssociation
from crm_records.domain.engagements import MAX_ENGAGEMENTS_PER_RECORD, can_associate_engagement
from crm_records.domain.errors import DomainError
from crm_records.domain.object_types import ENGAGEMENT_TYPES
from crm_records.domain.record import Record
from crm_records.handlers.records import SOURCE, Actor, RawValues, RecordNotFound, RecordsHandler

Row = tuple[str, int, str, int, int]  # from_type, from_id, to_type, to_id, type_id


class EngagementLimitReached(DomainError):
    """R-REC-7: the record already holds the most engagements it may."""

    def __init__(self, object_type: str, record_id: int) -> None:
        super().__init__(f"{object_type} {record_id} already has {MAX_ENGAGEMENTS_PER_RECORD} "
                         "associated engagements; this one is not associated to it")
        self.object_type = object_type
        self.record_id = record_id


class AssociationStore(Protocol):
    async def existing_ids(self, account_id: int, object_type: str,
                           record_ids: Sequence[int], *,
                           viewer: Principal | None = None) -> set[int]: ...
    async def account_types(self, account_id: int) -> list[AssociationType]: ...
    async def allocate_type_ids(self, count: int) -> list[int]: ...
    async def add_account_types(self, account_id: int,
                                types: Sequence[AssociationType]) -> None: ...
    async def types_between(self, account_id: int, from_type: str, from_id: int,
                            to_type: str, to_id: int) -> set[int]: ...
    async def insert(self, account_id: int, rows: Sequence[Row], at: datetime) -> None: ...
    async def delete(self, account_id: int, rows: Sequence[Row]) -> None: ...
    async def associated(self, account_id: int, from_type: str, from_ids: Sequence[int],
                         to_type: str, *, after: int = 0, limit: int | None = None,
                         viewer: Principal | None = None
                         ) -> dict[int, dict[int, set[int]]]: ...
    async def primary_of(self, account_id: int, owner_type: str, owner_id: int,
                         primary_type_id: int) -> int | None: ...
    async def engagement_count(self, account_id: int, object_type: str,
                               record_id: int) -> int: ...
    async def lock_record(self, account_id: int, object_type: str, record_id: int) -> None: ...
    async def publish(self, events: Sequence[OutgoingEvent]) -> None: ...


@dataclass
class AssociationSession:
    store: AssociationStore
    records: RecordsHandler  # record writes in the same transaction


SessionFactory = Callable[[], AbstractAsyncContextManager[AssociationSession]]


@dataclass(frozen=True)
class TypeSpec:
    """What a client names: {associationCategory, associationTypeId}."""

    category: str
    type_id: int


@dataclass(frozen=True)
class PairLabels:
    """The hosted LabelsBetweenObjectPair: what the pair holds after the call."""

    from_type: str
    from_id: int
    to_type: str
    to_id: int
    labels: list[str]


@dataclass(frozen=True)
class NewAssociation:
    """One entry of a create body's associations[]: to.id with types[]."""

    to_id: int
    types: list[TypeSpec]


@dataclass
class Created:
    records: list[Record]
    # R-REC-7: (record index, to type, to id) of associations left out, and why.
    unassociated: list[tuple[int, str, int, str]] = field(default_factory=list)


class TypeCatalog:
    """The hosted types plus the account's own (labels, custom pairs' defaults)."""

    def __init__(self, account_types: Sequence[AssociationType]) -> None:
        self.by_id: dict[int, AssociationType] = {**rules.STANDARD_TYPES,
                                                  **{t.type_id: t for t in account_types}}

    def get(self, type_id: int) -> AssociationType | None:
        return self.by_id.get(type_id)

    def default(self, from_type: str, to_type: str) -> AssociationType | None:
        return rules.DEFAULT_TYPE_BY_PAIR.get((from_type, to_type)) or next(
            (t for t in self.by_id.values() if t.from_type == from_type
             and t.to_type == to_type and t.is_default), None)

    def between(self, from_type: str, to_type: str) -> list[AssociationType]:
        return sorted((t for t in self.by_id.values()
                       if t.from_type == from_type and t.to_type == to_type),
                      key=lambda t: t.type_id)

    def named(self, type_ids: Sequence[int]) -> list[AssociationType]:
        return [self.by_id[i] for i in sorted(type_ids) if i in self.by_id]


def _labels(types: Sequence[AssociationType]) -> list[str]:
    return [t.label for t in types if t.label is not None]


def _event_types(types: Sequence[AssociationType]) -> list[v1.AssociationType]:
    return [v1.AssociationType(category=t.category, type_id=t.type_id, label=t.label)
            for t in types]


class AssociationsHandler:
    def __init__(self, unit_of_work: SessionFactory,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    # ------------------------------------------------------------------ reads

    async def types(self, account_id: int, from_type: str, to_type: str
                    ) -> list[AssociationType]:
        """Every type joining from_type to to_type (GET .../labels)."""
        async with self.unit_of_work() as session:
            catalog = await self._catalog(session, account_id, from_type, to_type)
        return catalog.between(from_type, to_type)

    async def associated(self, account_id: int, from_type: str, from_ids: Sequence[int],
                         to_type: str, *, after: int = 0, limit: int | None = None,
                         viewer: Principal | None = None
                         ) -> dict[int, list[tuple[int, list[AssociationType]]]]:
        """Per existing from id, its associated to ids (ascending) with their types;
        ids this account does not hold are absent. R-AUTH-3: so are from ids `viewer`
        may not see, and associated records they may not see are left out (None:
        the platform, which sees all)."""
        async with self.unit_of_work() as session:
            existing = await session.store.existing_ids(account_id, from_type, from_ids,
                                                        viewer=viewer)
            catalog = await self._catalog(session, account_id, from_type, to_type)
            found = await session.store.associated(account_id, from_type, sorted(existing),
                                                   to_type, after=after, limit=limit,
                                                   viewer=viewer)
        return {i: [(to_id, catalog.named(list(type_ids)))
                    for to_id, type_ids in sorted(found.get(i, {}).items())]
                for i in existing}

    # ------------------------------------------------------------------ writes

    async def associate(self, actor: Actor, from_type: str, from_id: int, to_type: str,
                        to_id: int, specs: Sequence[TypeSpec] | None = None) -> PairLabels:
        """PUT .../associations/{toType}/{toId} (specs) or .../default/... (None)."""
        [result] = await self.associate_many(actor, from_type, to_type,
                                             [(from_id, to_id, specs)])
        if isinstance(result, Exception):
            raise result
        return result

    async def associate_many(self, actor: Actor, from_type: str, to_type: str,
                             pairs: Sequence[tuple[int, int, Sequence[TypeSpec] | None]]
                             ) -> list[PairLabels | Exception]:
        """Batch create: one result per pair, in order; a pair that cannot be made
        (a missing record, a wrong type, a full record) is its exception, and the
        others still go through."""
        now = self.clock()
        async with self.unit_of_work() as session:
            catalog = await self._catalog(session, actor.account_id, from_type, to_type)
            from_ids = await session.store.existing_ids(actor.account_id, from_type,
                                                        [p[0] for p in pairs])
            to_ids = await session.store.existing_ids(actor.account_id, to_type,
                                                      [p[1] for p in pairs])
            results: list[PairLabels | Exception] = []
            for from_id, to_id, specs in pairs:
                missing = [(t, i) for t, i, ok in ((from_type, from_id, from_id in from_ids),
                                                   (to_type, to_id, to_id in to_ids)) if not ok]
                if missing:
                    results.append(RecordNotFound(missing[0][0], [missing[0][1]]))
                    continue
                try:
                    types = self._requested(catalog, from_type, to_type, specs)
                    results.append(await self._associate(session, actor, now, catalog,
                                                         from_type, from_id, to_type, to_id,
                                                         types))
                except DomainError as error:
                    results.append(error)
        return results

    async def remove_many(self, actor: Actor, from_type: str, to_type: str,
                          pairs: Sequence[tuple[int, int]],
                          only_types: Sequence[TypeSpec] | None = None) -> None:
        """DELETE / batch archive (every type of each pair, both directions) or, with
        `only_types`, batch labels archive (just those). Absent pairs change nothing."""
        now = self.clock()
        async with self.unit_of_work() as session:
            catalog = await self._catalog(session, actor.account_id, from_type, to_type)
            for from_id, to_id in pairs:
                current = await session.store.types_between(actor.account_id, from_type,
                                                             from_id, to_type, to_id)
                gone = set(current) if only_types is None else \
                    current & {s.type_id for s in only_types}
                await self._remove(session, actor, now, catalog, from_type, from_id,
                                   to_type, to_id, catalog.named(list(gone)),
                                   catalog.named(list(current - gone)))

    async def create_label(self, actor: Actor, from_type: str, to_type: str, label: str,
                           name: str | None = None, inverse_label: str | None = None
                           ) -> list[AssociationType]:
        """POST .../labels: a user-defined type and its inverse (same label unless
        `inverse_label`)."""
        label = label.strip()
        if not label:
            raise InvalidAssociation("label must not be blank")
        async with self.unit_of_work() as session:
            type_id, inverse_id = await session.store.allocate_type_ids(2)
            forward = AssociationType(type_id, from_type, to_type, inverse_id,
                                      rules.USER_DEFINED, label, name=name)
            backward = AssociationType(inverse_id, to_type, from_type, type_id,
                                       rules.USER_DEFINED, (inverse_label or label).strip(),
                                       name=name)
            await session.store.add_account_types(actor.account_id, [forward, backward])
        return [forward] if from_type == to_type and not inverse_label else [forward, backward]

    async def create_records(self, actor: Actor, object_type: str,
                             inputs: Sequence[tuple[RawValues, Sequence[NewAssociation]]]
                             ) -> Created:
        """POST /crm/v3/objects/{type} with associations[]: the records and their
        associations in one transaction. An association past a record's engagement
        cap is left out and reported (R-REC-7); the record is still created."""
        now = self.clock()
        async with self.unit_of_work() as session:
            records = await session.records.create(actor, object_type, [v for v, _ in inputs])
            created = Created(records)
            catalog = TypeCatalog(await session.store.account_types(actor.account_id))
            # A record made by this call holds no association yet: a pair's first
            # association needs no read of what it holds (a repeated pair reads it).
            seen: set[tuple[int, str, int]] = set()
            for index, (record, (_, wanted)) in enumerate(zip(records, inputs, strict=True)):
                for association in wanted:
                    types = [catalog.get(s.type_id) for s in association.types]
                    if not types or None in types:
                        raise InvalidAssociation(
                            f"unknown association type in {[s.type_id for s in association.types]}")
                    to_type = types[0].to_type  # type: ignore[union-attr]
                    rules.check_types(object_type, to_type, types)  # type: ignore[arg-type]
                    if not await session.store.existing_ids(actor.account_id, to_type,
                                                            [association.to_id]):
                        raise RecordNotFound(to_type, [association.to_id])
                    catalog = await self._catalog(session, actor.account_id, object_type,
                                                  to_type, catalog)
                    pair = (record.record_id, to_type, association.to_id)
                    try:
                        await self._associate(
                            session, actor, now, catalog, object_type, record.record_id,
                            to_type, association.to_id, types,  # type: ignore[arg-type]
                            current=None if pair in seen else frozenset())
                    except EngagementLimitReached as full:
                        created.unassociated.append((index, to_type, association.to_id,
                                                     full.message))
                    seen.add(pair)
        return created

    # ------------------------------------------------------------------ inside

    async def _catalog(self, session: AssociationSession, account_id: int, from_type: str,
                       to_type: str, known: TypeCatalog | None = None) -> TypeCatalog:
        """The account's catalogue (`known`: already read in this transaction), with a
        default type for a pair the hosted table lacks (custom objects, services) made
        at first use."""
        catalog = known or TypeCatalog(await session.store.account_types(account_id))
        if catalog.default(from_type, to_type) is None:
            type_id, inverse_id = (await session.store.allocate_type_ids(2)
                                   if from_type != to_type else
                                   [(await session.store.allocate_type_ids(1))[0]] * 2)
            await session.store.add_account_types(account_id, [
                AssociationType(type_id, from_type, to_type, inverse_id, rules.USER_DEFINED),
                AssociationType(inverse_id, to_type, from_type, type_id, rules.USER_DEFINED)])
            catalog = TypeCatalog(await session.store.account_types(account_id))
        return catalog

    @staticmethod
    def _requested(catalog: TypeCatalog, from_type: str, to_type: str,
                   specs: Sequence[TypeSpec] | None) -> list[AssociationType]:
        types = []
        for spec in specs or ():
            found = catalog.get(spec.type_id)
            if found is None:
                raise InvalidAssociation(f"unknown association type {spec.type_id}")
            types.append(found)
        rules.check_types(from_type, to_type, types)
        return types

    async def _associate(self, session: AssociationSession, actor: Actor, now: datetime,
                         catalog: TypeCatalog, from_type: str, from_id: int, to_type: str,
                         to_id: int, requested: Sequence[AssociationType], *,
                         current: frozenset[int] | None = None) -> PairLabels:
        """current: the pair's type ids when the caller knows them (a record it made)."""
        store = session.store
        default = catalog.default(from_type, to_type)
        assert default is not None
        wanted = rules.with_default(default, requested)
        if current is None:
            current = frozenset(await store.types_between(actor.account_id, from_type,
                                                          from_id, to_type, to_id))
        if not current and rules.is_engagement_pair(from_type, to_type):
            record_type, record_id = ((to_type, to_id) if from_type in ENGAGEMENT_TYPES
                                      else (from_type, from_id))
            await store.lock_record(actor.account_id, record_type, record_id)
            count = await store.engagement_count(actor.account_id, record_type, record_id)
            if not can_associate_engagement(count):  # R-REC-7
                raise EngagementLimitReached(record_type, record_id)
        added = [t for t in wanted if t.type_id not in current]
        for t in added:
            if t.primary:
                await self._move_primary(session, actor, now, catalog, t, from_type, from_id,
                                         to_id)
        if added:
            await store.insert(actor.account_id, [
                row for t in added for row in ((from_type, from_id, to_type, to_id, t.type_id),
                                               (to_type, to_id, from_type, from_id, t.inverse_id))
            ], now)
            inverse = [catalog.get(t.inverse_id) or t for t in added]
            after = catalog.named(list(current | {t.type_id for t in added}))
            primary = any(t.primary for t in after)
            await store.publish([
                _event(v1.AssociationAdded, actor, now, from_type, from_id, to_type, to_id,
                       added, primary),
                _event(v1.AssociationAdded, actor, now, to_type, to_id, from_type, from_id,
                       inverse, primary)])
        held = catalog.named(list(current | {t.type_id for t in added}))
        return PairLabels(from_type, from_id, to_type, to_id, _labels(held))

    async def _move_primary(self, session: AssociationSession, actor: Actor, now: datetime,
                            catalog: TypeCatalog, primary: AssociationType, from_type: str,
                            from_id: int, to_id: int) -> None:
        """R-REC-6: the record (contact, deal, ticket) keeps one primary company."""
        if primary.from_type == "companies":  # company_to_contact primary: owner is 'to'
            owner_type, owner_id, company_id = primary.to_type, to_id, from_id
            owner_primary = catalog.get(primary.inverse_id)
        else:
            owner_type, owner_id, company_id = from_type, from_id, to_id
            owner_primary = primary
        assert owner_primary is not None
        current = await session.store.primary_of(actor.account_id, owner_type, owner_id,
                                                 owner_primary.type_id)
        loser = rules.primary_moves(current, company_id)
        if loser is None:
            return
        left = await session.store.types_between(actor.account_id, owner_type, owner_id,
                                                 "companies", loser)
        await self._remove(session, actor, now, catalog, owner_type, owner_id,
                           "companies", loser, [owner_primary],
                           catalog.named(list(left - {owner_primary.type_id})))

    async def _remove(self, session: AssociationSession, actor: Actor, now: datetime,
                      catalog: TypeCatalog, from_type: str, from_id: int, to_type: str,
                      to_id: int, gone: Sequence[AssociationType],
                      remaining: Sequence[AssociationType]) -> None:
        if not gone:
            return
        await session.store.delete(actor.account_id, [
            row for t in gone for row in ((from_type, from_id, to_type, to_id, t.type_id),
                                          (to_type, to_id, from_type, from_id, t.inverse_id))])
        inverse = [catalog.get(t.inverse_id) or t for t in gone]
        inverse_remaining = [catalog.get(t.inverse_id) or t for t in remaining]
        primary = any(t.primary for t in remaining)
        await session.store.publish([
            _event(v1.AssociationRemoved, actor, now, from_type, from_id, to_type, to_id,
                   gone, primary, remaining),
            _event(v1.AssociationRemoved, actor, now, to_type, to_id, from_type, from_id,
                   inverse, primary, inverse_remaining)])


def _event(kind: type[v1.AssociationChanged], actor: Actor, now: datetime, from_type: str,
           from_id: int, to_type: str, to_id: int, types: Sequence[AssociationType],
           primary: bool, remaining: Sequence[AssociationType] | None = None) -> OutgoingEvent:
    extra = {} if remaining is None else {"remaining_types": _event_types(remaining)}
    data = kind(account_id=actor.account_id, from_object_type=from_type,
                from_record_id=from_id, to_object_type=to_type, to_record_id=to_id,
                types=_event_types(types), primary=primary, changed_at=now,
                user_id=actor.user_id, source=actor.source, **extra)
    event = CloudEvent.of(data, source=SOURCE, account_id=actor.account_id,
                          subject=f"{from_type}/{from_id}/associations/{to_type}/{to_id}")
    return OutgoingEvent(topics.ASSOCIATIONS.name,
                         record_key(actor.account_id, from_type, from_id), event)
