"""Property definitions per account (R-REC-2, R-REC-3): the catalogue every
write is validated against, and the /crm/v3/properties use cases.

An account's catalogue of one object type is seeded from the standard
definitions (domain.standard_properties) the first time anything touches that
type, in the toucher's transaction, and each seeded definition is published
(PropertyDefined) so search learns the types. Custom definitions and changes
to standard ones are stored and published the same way.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, record_key
from crm_contracts.properties import v1
from crm_platform.outbox import OutgoingEvent
from crm_records.domain.errors import (
    DomainError,
    InvalidPropertyDefinition,
    InvalidPropertyValues,
    PropertyError,
)
from crm_records.domain.properties import (
    PropertyDefinition,
    PropertyGroup,
    validate_definition,
    validate_property_name,
    validate_values,
)
from crm_records.domain.standard_properties import (
    STANDARD_GROUPS,
    STANDARD_PROPERTIES,
    custom_object_base_properties,
)

SOURCE = "/crm/properties"
Catalog = Mapping[str, PropertyDefinition]


class PropertyNotFound(DomainError):
    category = "OBJECT_NOT_FOUND"

    def __init__(self, object_type: str, name: str, what: str = "Property") -> None:
        super().__init__(f"{what} {name} does not exist for {object_type}")
        self.name = name


class PropertyConflict(DomainError):
    category = "CONFLICT"


@dataclass(frozen=True)
class StoredProperty:
    definition: PropertyDefinition
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


class CatalogStore(Protocol):
    async def property_rows(self, account_id: int, object_type: str) -> list[StoredProperty]: ...
    async def seed_catalog(self, account_id: int, object_type: str,
                           definitions: Sequence[PropertyDefinition],
                           groups: Sequence[PropertyGroup], at: datetime) -> bool: ...
    async def save_property(self, account_id: int, object_type: str, stored: StoredProperty,
                            user_id: int | None) -> None: ...
    async def property_groups(self, account_id: int, object_type: str) -> list[PropertyGroup]: ...
    async def save_group(self, account_id: int, object_type: str, group: PropertyGroup,
                         archived: bool = False) -> None: ...
    async def existing_user_ids(self, account_id: int, user_ids: Sequence[int]) -> set[int]: ...
    async def publish(self, events: Sequence[OutgoingEvent]) -> None: ...


def standard_catalog(object_type: str) -> tuple[list[PropertyDefinition], list[PropertyGroup]]:
    """What a new account's catalogue of `object_type` starts with."""
    if object_type in STANDARD_PROPERTIES:
        return list(STANDARD_PROPERTIES[object_type].values()), list(STANDARD_GROUPS[object_type])
    return list(custom_object_base_properties().values()), [PropertyGroup("custom", "Custom", 0)]


def property_event(kind: type[v1.PropertyDefinition], account_id: int, object_type: str,
                   definition: PropertyDefinition) -> OutgoingEvent:
    data = kind(
        account_id=account_id, object_type=object_type, name=definition.name,
        label=definition.label, type=definition.type, field_type=definition.field_type,
        group_name=definition.group_name,
        options=[v1.PropertyOption(label=o.label, value=o.value, display_order=o.display_order,
                                   hidden=o.hidden) for o in definition.options],
        has_unique_value=definition.has_unique_value, read_only=definition.read_only,
        calculated=definition.calculated, hubspot_defined=definition.hubspot_defined,
        user_type=definition.user_type, external_options=definition.external_options,
        archived=definition.archived)
    event = CloudEvent.of(data, source=SOURCE, account_id=account_id,
                          subject=f"{object_type}/properties/{definition.name}")
    return OutgoingEvent(topics.PROPERTIES.name,
                         record_key(account_id, object_type, definition.name), event)


async def stored_properties(store: CatalogStore, account_id: int, object_type: str,
                            now: datetime) -> list[StoredProperty]:
    """The account's definitions of the type (archived ones too), seeding them on first use."""
    rows = await store.property_rows(account_id, object_type)
    if rows:
        return rows
    definitions, groups = standard_catalog(object_type)
    if await store.seed_catalog(account_id, object_type, definitions, groups, now):
        await store.publish([property_event(v1.PropertyDefined, account_id, object_type, d)
                             for d in definitions])
    return await store.property_rows(account_id, object_type)


async def load_catalog(store: CatalogStore, account_id: int, object_type: str,
                       now: datetime) -> dict[str, PropertyDefinition]:
    return {row.definition.name: row.definition
            for row in await stored_properties(store, account_id, object_type, now)}


def _user_ids_named(catalog: Catalog, inputs: Sequence[Mapping[str, Any]]) -> list[int]:
    named: set[int] = set()
    for values in inputs:
        for name, value in values.items():
            definition = catalog.get(name)
            if definition is not None and definition.user_type and value is not None:
                named.update(int(part) for part in str(value).replace(",", ";").split(";")
                             if part.strip().isdigit())
    return sorted(named)


async def validate_inputs(store: CatalogStore, catalog: Catalog, account_id: int,
                          inputs: Sequence[Mapping[str, Any]], *,
                          allow_read_only: bool = False) -> list[dict[str, str | None]]:
    """Every input normalised, or one InvalidPropertyValues naming every bad property.

    User-type properties (the owner and custom `user` ones, R-REC-3) must name a
    user of the account; only the named users are looked up."""
    users = await store.existing_user_ids(account_id, _user_ids_named(catalog, inputs))
    user_ids = {str(u) for u in users}
    validated, errors = [], []
    for values in inputs:
        try:
            validated.append(validate_values(catalog, values, user_ids=user_ids,
                                             allow_read_only=allow_read_only))
        except InvalidPropertyValues as invalid:
            errors.extend(invalid.errors)
    if errors:
        raise InvalidPropertyValues(_first_per_property(errors))
    return validated


def _first_per_property(errors: list[PropertyError]) -> list[PropertyError]:
    seen: dict[tuple[str, str], PropertyError] = {}
    for error in errors:
        seen.setdefault((error.name, error.code), error)
    return list(seen.values())


# ---------------------------------------------------------------- the API's use cases

_UPDATABLE = ("label", "type", "field_type", "group_name", "description", "options",
              "display_order", "hidden", "form_field")
_STANDARD_UPDATABLE = ("label", "description", "options", "display_order", "group_name")


class PropertiesHandler:
    def __init__(self, unit_of_work: Callable[[], Any],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def list(self, account_id: int, object_type: str, *,
                   archived: bool = False) -> list[StoredProperty]:
        async with self.unit_of_work() as store:
            rows = await stored_properties(store, account_id, object_type, self.clock())
        return [r for r in rows if r.definition.archived == archived]

    async def get(self, account_id: int, object_type: str, name: str, *,
                  archived: bool = False) -> StoredProperty:
        for row in await self.list(account_id, object_type, archived=archived):
            if row.definition.name == name:
                return row
        raise PropertyNotFound(object_type, name)

    async def create(self, account_id: int, user_id: int | None, object_type: str,
                     definition: PropertyDefinition) -> StoredProperty:
        now = self.clock()
        async with self.unit_of_work() as store:
            rows = await stored_properties(store, account_id, object_type, now)
            existing = {r.definition.name: r for r in rows}
            if definition.name in existing and not existing[definition.name].definition.archived:
                raise PropertyConflict(
                    f"A property named '{definition.name}' already exists.")
            validate_property_name(definition.name)
            validate_definition(definition)
            await self._require_group(store, account_id, object_type, definition)
            stored = StoredProperty(definition, now, now)
            await store.save_property(account_id, object_type, stored, user_id)
            await store.publish([property_event(v1.PropertyDefined, account_id, object_type,
                                                definition)])
        return stored

    async def update(self, account_id: int, user_id: int | None, object_type: str, name: str,
                     changes: Mapping[str, Any]) -> StoredProperty:
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await self._current(store, account_id, object_type, name, now)
            allowed = (_STANDARD_UPDATABLE if current.definition.hubspot_defined
                       else _UPDATABLE)
            refused = sorted(set(changes) - set(allowed))
            if refused:
                raise InvalidPropertyDefinition(
                    name, [f"{', '.join(refused)} cannot be changed on this property"])
            definition = replace(current.definition, **changes)
            validate_definition(definition)
            await self._require_group(store, account_id, object_type, definition)
            stored = replace(current, definition=definition, updated_at=now)
            await store.save_property(account_id, object_type, stored, user_id)
            await store.publish([property_event(v1.PropertyChanged, account_id, object_type,
                                                definition)])
        return stored

    async def archive(self, account_id: int, user_id: int | None, object_type: str,
                      name: str) -> None:
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await self._current(store, account_id, object_type, name, now)
            if current.definition.hubspot_defined:
                raise InvalidPropertyDefinition(
                    name, ["standard properties cannot be archived"])
            definition = replace(current.definition, archived=True)
            await store.save_property(account_id, object_type,
                                      replace(current, definition=definition, updated_at=now,
                                              archived_at=now), user_id)
            await store.publish([property_event(v1.PropertyArchived, account_id, object_type,
                                                definition)])

    # builtins.list: inside this class, `list` is the method above.
    async def groups(self, account_id: int, object_type: str) -> builtins.list[PropertyGroup]:
        async with self.unit_of_work() as store:
            await stored_properties(store, account_id, object_type, self.clock())
            return await store.property_groups(account_id, object_type)

    async def save_group(self, account_id: int, object_type: str, group: PropertyGroup, *,
                         create: bool) -> PropertyGroup:
        async with self.unit_of_work() as store:
            await stored_properties(store, account_id, object_type, self.clock())
            names = {g.name for g in await store.property_groups(account_id, object_type)}
            if create:
                validate_property_name(group.name)
                if group.name in names:
                    raise PropertyConflict(f"A group named '{group.name}' already exists.")
            elif group.name not in names:
                raise PropertyNotFound(object_type, group.name, "Property group")
            await store.save_group(account_id, object_type, group)
        return group

    async def archive_group(self, account_id: int, object_type: str, name: str) -> None:
        async with self.unit_of_work() as store:
            rows = await stored_properties(store, account_id, object_type, self.clock())
            groups = {g.name: g for g in await store.property_groups(account_id, object_type)}
            if name not in groups:
                raise PropertyNotFound(object_type, name, "Property group")
            if any(r.definition.group_name == name and not r.definition.archived for r in rows):
                raise InvalidPropertyDefinition(name, ["the group still holds properties"])
            await store.save_group(account_id, object_type, groups[name], archived=True)

    async def _current(self, store: CatalogStore, account_id: int, object_type: str,
                       name: str, now: datetime) -> StoredProperty:
        for row in await stored_properties(store, account_id, object_type, now):
            if row.definition.name == name and not row.definition.archived:
                return row
        raise PropertyNotFound(object_type, name)

    async def _require_group(self, store: CatalogStore, account_id: int, object_type: str,
                             definition: PropertyDefinition) -> None:
        groups = {g.name for g in await store.property_groups(account_id, object_type)}
        if definition.group_name not in groups:
            raise InvalidPropertyDefinition(
                definition.name, [f"group {definition.group_name!r} does not exist"])
