"""Custom object schemas (R-REC-1): what a schema holds and when it is valid. Pure.

A schema names a new object type ("cars", objectTypeId "2-<n>", fully
qualified "p_cars"), its labels, its own properties (on top of
`standard_properties.custom_object_base_properties`), which of them is the
primary display property, which are required on create and which the free-text
search looks at. The name is fixed once made (its records are stored under
it); labels and the property roles may change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crm_records.domain.errors import DomainError
from crm_records.domain.object_types import (
    STANDARD_OBJECT_TYPES,
    ObjectType,
    custom_object_type,
)
from crm_records.domain.properties import PropertyDefinition

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_TAKEN_NAMES = frozenset(
    name for t in STANDARD_OBJECT_TYPES for name in (t.name, t.singular)) | {
    "objects", "schemas", "properties", "owners", "pipelines", "associations", "lists"}


class InvalidSchema(DomainError):
    def __init__(self, name: str, reasons: Sequence[str]) -> None:
        self.name = name
        self.reasons = list(reasons)
        super().__init__(f"Invalid object schema {name!r}: {'; '.join(self.reasons)}")


@dataclass(frozen=True)
class ObjectSchema:
    object_type_id: str  # "2-1001"
    name: str  # "cars": the records' object type
    singular_label: str
    plural_label: str
    primary_display_property: str
    secondary_display_properties: tuple[str, ...] = ()
    searchable_properties: tuple[str, ...] = ()
    required_properties: tuple[str, ...] = ()
    associated_objects: tuple[str, ...] = ()  # as given: "CONTACT", "0-2", "companies"
    description: str = ""

    @property
    def fully_qualified_name(self) -> str:
        return f"p_{self.name}"

    def object_type(self) -> ObjectType:
        """The type as domain.object_types resolves it (path segments, bodies)."""
        return custom_object_type(
            self.object_type_id, self.name, self.singular_label.lower().replace(" ", "_"),
            primary_display_property=self.primary_display_property,
            searchable=self.searchable_properties or (self.primary_display_property,))


def normalise_name(name: str) -> str:
    return name.strip().lower()


def check_schema(schema: ObjectSchema, property_names: Iterable[str]) -> None:
    """Raise InvalidSchema naming every problem. `property_names` are every property
    the type will have (base ones and the schema's own)."""
    names = set(property_names)
    reasons = []
    if not _NAME.match(schema.name):
        reasons.append("name must start with a letter and hold only a-z, 0-9 and _"
                       " (at most 100)")
    if schema.name in _TAKEN_NAMES:
        reasons.append(f"name {schema.name!r} is taken by a standard object type")
    if not schema.singular_label.strip() or not schema.plural_label.strip():
        reasons.append("labels.singular and labels.plural must not be blank")
    roles = {"primaryDisplayProperty": (schema.primary_display_property,),
             "secondaryDisplayProperties": schema.secondary_display_properties,
             "searchableProperties": schema.searchable_properties,
             "requiredProperties": schema.required_properties}
    for role, named in roles.items():
        unknown = [n for n in named if n not in names]
        if unknown:
            reasons.append(f"{role} names properties the schema does not have: "
                           f"{', '.join(unknown)}")
    if reasons:
        raise InvalidSchema(schema.name, reasons)


def check_own_properties(schema_name: str, own: Sequence[PropertyDefinition],
                         base_names: Iterable[str]) -> None:
    """The schema's own properties: each name once, none shadowing a base property."""
    seen: set[str] = set()
    base = set(base_names)
    reasons = []
    for definition in own:
        if definition.name in seen:
            reasons.append(f"property {definition.name!r} is defined twice")
        if definition.name in base:
            reasons.append(f"property {definition.name!r} is a built-in property of every"
                           " custom object")
        seen.add(definition.name)
    if reasons:
        raise InvalidSchema(schema_name, reasons)

