"""Association events to the pairs association filters look up (R-SRCH-1).

The records service publishes each direction of an association as its own
event keyed by its `from` record, so one direction's changes arrive in order.
A pair is kept with whether it is associated now and when that was decided;
a removal leaves the pair marked not associated (a tombstone), so an older
`added` delivered late cannot bring it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ADDED = "crm.association.added.v1"
REMOVED = "crm.association.removed.v1"


@dataclass(frozen=True)
class AssociationState:
    account_id: int
    from_type: str
    from_id: int
    to_type: str
    to_id: int
    associated: bool
    changed_at: datetime

    @property
    def key(self) -> tuple[int, str, int, str, int]:
        return (self.account_id, self.from_type, self.from_id, self.to_type, self.to_id)


def association_from_event(event_type: str, data: Mapping[str, Any]) -> AssociationState | None:
    if event_type == ADDED:
        associated = True
    elif event_type == REMOVED:
        # Removing one label (e.g. "primary") leaves the records associated.
        associated = bool(data.get("remaining_types"))
    else:
        return None
    return AssociationState(int(data["account_id"]), str(data["from_object_type"]),
                            int(data["from_record_id"]), str(data["to_object_type"]),
                            int(data["to_record_id"]), associated, _time(data["changed_at"]))


def latest_per_pair(states: Iterable[AssociationState]) -> list[AssociationState]:
    """Of several changes to one pair, the last decided (ties: the later delivered)."""
    latest: dict[tuple[int, str, int, str, int], AssociationState] = {}
    for state in states:
        if state.key not in latest or state.changed_at >= latest[state.key].changed_at:
            latest[state.key] = state
    return list(latest.values())


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
