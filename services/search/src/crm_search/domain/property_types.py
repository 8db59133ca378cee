"""Property definitions as search needs them: (account, object type, name) -> type.

The records service publishes every definition whole (crm.properties.v1), so
each event maps to the complete row; of several rows for one property, the
one defined latest wins. An archived property keeps its type: records may
still hold values of it, and they keep comparing the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PROPERTY_EVENTS = frozenset({
    "crm.property.defined.v1", "crm.property.changed.v1", "crm.property.archived.v1",
})


@dataclass(frozen=True)
class PropertyType:
    account_id: int
    object_type: str
    name: str
    type: str
    archived: bool
    defined_at: datetime

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.account_id, self.object_type, self.name)


def property_type_from_event(event_type: str, data: Mapping[str, Any],
                             occurred_at: datetime) -> PropertyType | None:
    if event_type not in PROPERTY_EVENTS:
        return None
    return PropertyType(int(data["account_id"]), str(data["object_type"]), str(data["name"]),
                        str(data["type"]), bool(data.get("archived", False)), occurred_at)


def latest_per_property(rows: Iterable[PropertyType]) -> list[PropertyType]:
    latest: dict[tuple[int, str, str], PropertyType] = {}
    for row in rows:
        if row.key not in latest or row.defined_at >= latest[row.key].defined_at:
            latest[row.key] = row
    return list(latest.values())
