"""Association events, version 1 (topic crm.associations.v1, key {account}:{fromType}:{fromId}).

Associations are stored in both directions, and each direction is published as
its own event keyed by its `from` record, so every record's association changes
stay in order with its other events on one partition (R-BUS-4).

- `AssociationAdded`: the `types` listed were added between the two records
  (a labelled association also carries the pair's default, unlabelled type).
- `AssociationRemoved`: the `types` listed were removed; `remaining_types` is
  what is left (empty: the records are no longer associated). Moving a
  contact's primary company removes only the primary type from the old pair.

`primary` says whether the pair is the contact's primary company after the
change (R-REC-6). Type ids are the hosted CRM's (279 contact_to_company, 1 its
primary, ...); user-defined labels have ids of their own per account.

Within v1 only optional fields may be added (tests compare the JSON Schemas
with the snapshots under libs/contracts/schemas).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crm_contracts.envelope import EventData


class AssociationType(BaseModel):
    model_config = ConfigDict(frozen=True)
    category: str  # HUBSPOT_DEFINED or USER_DEFINED
    type_id: int
    label: str | None = None


class AssociationChanged(EventData):
    account_id: int
    from_object_type: str
    from_record_id: int
    to_object_type: str
    to_record_id: int
    types: list[AssociationType]
    primary: bool = False
    changed_at: datetime
    user_id: int | None = None
    source: str = "API"


class AssociationAdded(AssociationChanged):
    EVENT_TYPE: ClassVar[str] = "crm.association.added.v1"


class AssociationRemoved(AssociationChanged):
    EVENT_TYPE: ClassVar[str] = "crm.association.removed.v1"
    remaining_types: list[AssociationType] = []


EVENTS: tuple[type[EventData], ...] = (AssociationAdded, AssociationRemoved)
