"""Merging two records of one type (R-REC-10) and permanent (GDPR) deletion and
restore within the window (R-REC-11): the record operations beyond plain writes.

Merge, in one transaction: the primary keeps its id and gains the secondary's
values where blank (domain.merge.merge_properties), recorded in history with
source MERGE and the secondary's id as source id; the secondary becomes a
tombstone (archived, `merged_into` = primary) so reads of its id answer the
primary, earlier merges into it are forwarded too; its unique values are
released before the primary claims its new ones; its associations (and so its
timeline, which is its engagement associations) move to the primary. One
RecordMerged for the primary tells every read model to drop the secondary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from crm_contracts.records import v1
from crm_records.domain import record as rules
from crm_records.domain.errors import DomainError
from crm_records.domain.merge import merge_properties
from crm_records.domain.record import Record
from crm_records.handlers.properties import load_catalog
from crm_records.handlers.records import (
    Actor,
    RecordNotFound,
    RecordStore,
    _outgoing,
    _snapshot,
    reserve_unique_values,
)
from crm_records.handlers.visibility import require_editable, visible

MERGE_SOURCE = "MERGE"
DEFAULT_RESTORE_WINDOW = timedelta(days=90)


class RecordOpsStore(RecordStore, Protocol):
    async def move_associations(self, account_id: int, object_type: str, from_id: int,
                                to_id: int) -> int: ...
    async def forward_merged(self, account_id: int, object_type: str, from_id: int,
                             to_id: int) -> None: ...
    async def find_ids_by_property(self, account_id: int, object_type: str, name: str,
                                   value: str) -> list[int]: ...
    async def erase(self, account_id: int, object_type: str, record_ids: Sequence[int]) -> None: ...


UnitOfWork = Callable[[], AbstractAsyncContextManager[RecordOpsStore]]


class InvalidMerge(DomainError):
    pass


class RestoreWindowPassed(DomainError):
    category = "GONE"

    def __init__(self, record_id: int, window: timedelta) -> None:
        super().__init__(f"Record {record_id} was archived more than {window.days} days ago;"
                         " the restore window has passed.")


def within_restore_window(record: Record, now: datetime, window: timedelta) -> bool:
    """R-REC-11: an archived record may come back until `window` after its archiving."""
    return record.archived_at is None or now - record.archived_at <= window


class RecordOpsHandler:
    def __init__(self, unit_of_work: UnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 restore_window: timedelta = DEFAULT_RESTORE_WINDOW) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.restore_window = restore_window

    async def merge(self, actor: Actor, object_type: str, primary_id: int,
                    secondary_id: int) -> Record:
        if primary_id == secondary_id:
            raise InvalidMerge("A record cannot be merged into itself.")
        now = self.clock()
        async with self.unit_of_work() as store:
            current = visible(actor.viewer, await store.get_many(
                actor.account_id, object_type, [primary_id, secondary_id], for_update=True))
            missing = [i for i in (primary_id, secondary_id)
                       if i not in current or current[i].archived]
            if missing:
                raise RecordNotFound(object_type, missing)
            require_editable(actor.viewer, object_type, current.values())
            primary, secondary = current[primary_id], current[secondary_id]
            merged, filled = merge_properties(primary.properties, secondary.properties)
            catalog = await load_catalog(store, actor.account_id, object_type, now)
            # The secondary's unique values (its email) are free before the primary claims.
            await reserve_unique_values(store, catalog, [secondary], releasing=True, whole=True)
            tombstone = replace(rules.archive(secondary, now), merged_into=primary_id)
            after = rules.apply_values(primary, {n: merged.get(n) for n in filled}, now)
            await reserve_unique_values(store, catalog, [after])
            await store.save([after, tombstone])
            await store.forward_merged(actor.account_id, object_type, secondary_id, primary_id)
            await store.move_associations(actor.account_id, object_type, secondary_id,
                                          primary_id)
            await store.append_history([after], source=MERGE_SOURCE, source_id=str(secondary_id),
                                       user_id=actor.user_id, at=now)
            await store.publish([_outgoing(after, v1.RecordMerged(
                **_snapshot(after), merged_record_id=secondary_id))])
        return after

    async def restore(self, actor: Actor, object_type: str, record_ids: Sequence[int]) -> None:
        """Restore archived records still within the window; a merged-away one is gone."""
        now = self.clock()
        async with self.unit_of_work() as store:
            current = visible(actor.viewer, await store.get_many(
                actor.account_id, object_type, record_ids, for_update=True))
            missing = [i for i in record_ids if i not in current or current[i].merged_into]
            if missing:
                raise RecordNotFound(object_type, missing)
            require_editable(actor.viewer, object_type, current.values())
            for record in current.values():
                if record.archived and not within_restore_window(record, now,
                                                                 self.restore_window):
                    raise RestoreWindowPassed(record.record_id, self.restore_window)
            restored = [rules.restore(r, now) for r in current.values() if r.archived]
            catalog = await load_catalog(store, actor.account_id, object_type, now)
            await reserve_unique_values(store, catalog, restored, whole=True)
            await store.save(restored)
            await store.publish([_outgoing(r, v1.RecordRestored(**_snapshot(r)))
                                 for r in restored])

    async def gdpr_delete(self, actor: Actor, object_type: str, object_id: str,
                          id_property: str | None = None) -> int:
        """Erase the record, its history, unique values and associations for good, and
        publish RecordDeleted so search, exports and every read model forget it."""
        now = self.clock()
        async with self.unit_of_work() as store:
            if id_property and id_property != "hs_object_id":
                ids = await store.find_ids_by_property(actor.account_id, object_type,
                                                       id_property, object_id.strip().lower()
                                                       if id_property == "email" else object_id)
            else:
                ids = [int(object_id)] if object_id.isdigit() else []
            current = visible(actor.viewer, await store.get_many(
                actor.account_id, object_type, ids, for_update=True))
            live = [r for r in current.values() if r.merged_into is None]
            if not live:
                raise RecordNotFound(object_type, ids or [0])
            require_editable(actor.viewer, object_type, live)
            record = live[0]
            # Records merged into it are the same person: they go too.
            forwarded = await store.find_ids_by_property(actor.account_id, object_type,
                                                         "@merged_into", str(record.record_id))
            gone = [record.record_id, *forwarded]
            await store.erase(actor.account_id, object_type, gone)
            await store.publish([_outgoing(replace(record, record_id=i), v1.RecordDeleted(
                account_id=actor.account_id, object_type=object_type, record_id=i,
                version=record.version + 1, deleted_at=now)) for i in gone])
        return record.record_id
