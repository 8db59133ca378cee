"""Event reactions of the exports service (batch handlers for IdempotentConsumer)."""

from __future__ import annotations

from typing import Any

from crm_contracts.envelope import CloudEvent
from crm_contracts.exports import v1 as exports_v1
from crm_contracts.properties import v1 as properties_v1
from crm_exports.adapters.jobs import accept_requested


async def accept_export_requests(conn: Any, events: list[CloudEvent]) -> None:
    """ExportRequested -> the job may run. Finished and failed events (ours too) pass by."""
    requested = [int(e.data["export_id"]) for e in events
                 if e.type == exports_v1.ExportRequested.EVENT_TYPE]
    if requested:
        await accept_requested(conn, requested)


async def keep_property_definitions(conn: Any, events: list[CloudEvent]) -> None:
    """Labels and types of each account's properties, newest event wins (one partition)."""
    for event in events:
        if event.type not in {e.EVENT_TYPE for e in properties_v1.EVENTS}:
            continue
        definition = properties_v1.PropertyDefinition.model_validate(event.data)
        archived = definition.archived or event.type == properties_v1.PropertyArchived.EVENT_TYPE
        await conn.execute(
            "INSERT INTO export_properties (account_id, object_type, name, label, type, archived)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, object_type, name)"
            " DO UPDATE SET label = EXCLUDED.label, type = EXCLUDED.type,"
            " archived = EXCLUDED.archived",
            definition.account_id, definition.object_type, definition.name, definition.label,
            definition.type, archived)
