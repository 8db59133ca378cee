"""The facts consumer (R-HLTH-2): record, association, property and workspace events
in; the facts each customer's score needs out, and that customer's score recomputed.

Every handler is a BatchHandler `async (conn, events)`, run by an IdempotentConsumer in
one transaction with the ids of the events it applied (a repeated event changes
nothing). Record events carry the full snapshot and the record's version: a snapshot
older than the stored one is ignored, so out-of-order deliveries leave facts exact.
Within a batch each customer is recomputed once, caused by the last event that changed
one of its facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import asyncpg

from crm_contracts.associations import v1 as associations_v1
from crm_contracts.envelope import CloudEvent
from crm_contracts.properties import v1 as properties_v1
from crm_contracts.records import v1 as records_v1
from crm_contracts.workspace import v1 as workspace_v1
from crm_healthscore.adapters import store
from crm_healthscore.domain.activities import ACTIVITY_TYPES, event_from_record
from crm_healthscore.domain.changes import event_cause
from crm_healthscore.domain.snapshots import Snapshot
from crm_healthscore.handlers.recompute import recompute

CUSTOMER_TYPES = frozenset({"companies", "contacts"})
SNAPSHOT_TYPES = {e.EVENT_TYPE for e in (
    records_v1.RecordCreated, records_v1.RecordUpdated, records_v1.RecordArchived,
    records_v1.RecordRestored, records_v1.RecordMerged)}

ASSOCIATION_TYPES = {e.EVENT_TYPE for e in associations_v1.EVENTS}

Clock = Callable[[], datetime]
# (account, customer type) -> {customer id: cause}
Touched = dict[tuple[int, str], dict[int, str]]


def record_handler(clock: Clock, alert_days: int = 14):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
        await store.lock_activities(conn, [
            (e.data["account_id"], e.data["object_type"], e.data["record_id"]) for e in events
            if e.data.get("object_type") in ACTIVITY_TYPES and "record_id" in e.data])
        read = _ReadSnapshots()
        for position, event in enumerate(events):
            read.add(position, event)
        # The batch's customers in one read and one write, its activities in one write and
        # one read of their links (statements per event made ~5 per engagement logged).
        touches: list[tuple[int, tuple[int, str], int, str]] = []
        for index in await store.apply_customer_snapshots(conn, read.customers):
            account_id, customer_type, customer_id = read.customers[index].key
            position, cause = read.customer_causes[index]
            touches.append((position, (account_id, customer_type), customer_id, cause))
        applied = await store.apply_activity_snapshots(conn, read.activities)
        linked = await store.customers_linked_to_many(
            conn, [read.activities[index][0] for index in applied])
        for index in applied:
            key = read.activities[index][0]
            position, cause = read.activity_causes[index]
            touches += [(position, (key[0], customer_type), customer_id, cause)
                        for customer_type, customer_id in linked.get(key, [])]
        touched: Touched = defaultdict(dict)
        for _, group, customer_id, cause in sorted(touches, key=lambda touch: touch[0]):
            touched[group][customer_id] = cause  # the last event to move a customer names it
        await _recompute_touched(conn, touched, clock(), alert_days)

    return handle


class _ReadSnapshots:
    """A batch's record events as customer and activity snapshots, each with its place
    in the batch and its cause."""

    def __init__(self) -> None:
        self.customers: list[Snapshot] = []
        self.customer_causes: list[tuple[int, str]] = []
        self.activities: list[store.ActivitySnapshot] = []
        self.activity_causes: list[tuple[int, str]] = []

    def add(self, position: int, event: CloudEvent) -> None:
        data = event.data
        object_type = data.get("object_type")
        if object_type not in CUSTOMER_TYPES and object_type not in ACTIVITY_TYPES:
            return
        account_id, record_id, version = data["account_id"], data["record_id"], data["version"]
        cause = (position, event_cause(event.id))
        if event.type == records_v1.RecordDeleted.EVENT_TYPE:
            gone, properties, snapshot = True, {}, None
        elif event.type in SNAPSHOT_TYPES:
            snapshot = records_v1.RecordSnapshot.model_validate(data)
            gone, properties = snapshot.archived, snapshot.properties
        else:
            return  # a type added later within v1 that carries no snapshot
        if object_type in CUSTOMER_TYPES:
            self.customers.append(Snapshot((account_id, object_type, record_id), version, gone,
                                           properties))
            self.customer_causes.append(cause)
            merged_away = data.get("merged_record_id")
            if merged_away is not None:
                self.customers.append(Snapshot((account_id, object_type, merged_away), version,
                                               True, {}))
                self.customer_causes.append(cause)
            return
        fact = None
        if not gone and snapshot is not None:
            fact = event_from_record(object_type, record_id, properties, snapshot.created_at)
        self.activities.append(((account_id, object_type, record_id), version, fact))
        self.activity_causes.append(cause)


def association_handler(clock: Clock, alert_days: int = 14):  # type: ignore[no-untyped-def]
    """Which engagements and tickets belong to which customer (R-REC-7). Each pair is
    published in both directions; the one from the engagement or ticket is used, so a
    pair's adds and removes are read in the order of that record's partition."""

    async def handle(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
        touched: Touched = defaultdict(dict)
        changes = [(event, associations_v1.AssociationChanged.model_validate(event.data))
                   for event in events if event.type in ASSOCIATION_TYPES]
        changes = [(event, change) for event, change in changes
                   if change.from_object_type in ACTIVITY_TYPES
                   and change.to_object_type in CUSTOMER_TYPES]
        await store.lock_activities(conn, [
            (change.account_id, change.from_object_type, change.from_record_id)
            for _, change in changes])
        links: dict[store.LinkKey, bool] = {}  # a pair's last event decides
        for event, change in changes:
            links[(change.account_id, change.from_object_type, change.from_record_id,
                   change.to_object_type, change.to_record_id)] = (
                event.type == associations_v1.AssociationAdded.EVENT_TYPE
                or bool(event.data.get("remaining_types")))
            touched[(change.account_id, change.to_object_type)][change.to_record_id] = \
                event_cause(event.id)
        await store.set_links(conn, links)
        await _recompute_touched(conn, touched, clock(), alert_days)

    return handle


async def _recompute_touched(conn: asyncpg.Connection, touched: Touched, now: datetime,
                             alert_days: int) -> None:
    for (account_id, customer_type), causes in touched.items():
        await recompute(conn, account_id, customer_type, causes, now, alert_days=alert_days)


async def apply_property_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """Property definitions give the types profiles are validated against (R-REC-2)."""
    for event in events:
        if event.type not in {e.EVENT_TYPE for e in properties_v1.EVENTS}:
            continue
        definition = properties_v1.PropertyDefinition.model_validate(event.data)
        await store.apply_property_definition(
            conn, definition.account_id, definition.object_type, definition.name,
            definition.type,
            definition.archived or event.type == properties_v1.PropertyArchived.EVENT_TYPE)


async def apply_workspace_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """Which object represents customers and which property names their CSM (R-CSW-2)."""
    for event in events:
        if event.type != workspace_v1.WorkspaceSettingsChanged.EVENT_TYPE:
            continue
        changed = workspace_v1.WorkspaceSettingsChanged.model_validate(event.data)
        customers = changed.settings.get("customers") or {}
        await store.apply_settings(
            conn, changed.account_id, customers.get("objectType") or store.DEFAULT_CUSTOMER_TYPE,
            customers.get("csmProperty") or store.DEFAULT_CSM_PROPERTY, changed.version)
