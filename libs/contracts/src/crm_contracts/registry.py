"""Which event types travel on which topic: the source of the JSON Schema
snapshots and of the AsyncAPI document. Add a new contract module here."""

from crm_contracts import topics
from crm_contracts.associations import v1 as associations_v1
from crm_contracts.envelope import EventData
from crm_contracts.exports import v1 as exports_v1
from crm_contracts.healthscores import v1 as healthscores_v1
from crm_contracts.identity import v1 as identity_v1
from crm_contracts.lists import v1 as lists_v1
from crm_contracts.notifications import v1 as notifications_v1
from crm_contracts.properties import v1 as properties_v1
from crm_contracts.records import v1 as records_v1
from crm_contracts.workspace import v1 as workspace_v1

EVENTS_BY_TOPIC: dict[str, tuple[type[EventData], ...]] = {
    topics.RECORDS.name: records_v1.EVENTS,
    topics.ASSOCIATIONS.name: associations_v1.EVENTS,
    topics.IDENTITY.name: identity_v1.EVENTS,
    topics.PROPERTIES.name: properties_v1.EVENTS,
    topics.EXPORTS.name: exports_v1.EVENTS,
    topics.NOTIFICATIONS.name: notifications_v1.EVENTS,
    topics.WORKSPACE.name: workspace_v1.EVENTS,
    topics.HEALTHSCORES.name: healthscores_v1.EVENTS,
    topics.LISTS.name: lists_v1.EVENTS,
}


def all_events() -> list[tuple[str, type[EventData]]]:
    return [(topic, event) for topic, events in EVENTS_BY_TOPIC.items() for event in events]


def event_class(event_type: str) -> type[EventData] | None:
    return next((e for _, e in all_events() if e.EVENT_TYPE == event_type), None)
