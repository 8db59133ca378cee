"""Property definition events, version 1 (topic crm.properties.v1,
key {account}:{objectType}:{propertyName}).

Each event carries the whole definition, so a consumer (search compares typed
values with it: numbers as numbers, dates as dates) keeps only the newest.
Standard definitions are published when an account first uses an object type.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crm_contracts.envelope import EventData


class PropertyOption(BaseModel):
    model_config = ConfigDict(frozen=True)
    label: str
    value: str
    display_order: int = 0
    hidden: bool = False


class PropertyDefinition(EventData):
    account_id: int
    object_type: str
    name: str
    label: str
    type: str  # string, number, date, datetime, enumeration, bool
    field_type: str
    group_name: str
    options: list[PropertyOption] = []
    has_unique_value: bool = False
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = False
    user_type: bool = False  # options are the account's users
    external_options: bool = False  # options are pipelines / stages
    archived: bool = False


class PropertyDefined(PropertyDefinition):
    EVENT_TYPE: ClassVar[str] = "crm.property.defined.v1"


class PropertyChanged(PropertyDefinition):
    EVENT_TYPE: ClassVar[str] = "crm.property.changed.v1"


class PropertyArchived(PropertyDefinition):
    EVENT_TYPE: ClassVar[str] = "crm.property.archived.v1"


EVENTS: tuple[type[EventData], ...] = (PropertyDefined, PropertyChanged, PropertyArchived)
