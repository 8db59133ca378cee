"""Workspace settings and their checks (R-CSW-2).

Customers: the object that represents accounts (contacts, companies, or a
custom object on Enterprise), the user-type property naming the CSM, an
optional renewal date. Services: the services object (it must be active) or
a custom object on Enterprise, with CSM property, renewal date, visible
pipelines, default pipeline and layout. Revenue: one or two objects among
deals and custom objects, the default one, and the same per-object fields.

`check_settings` is pure: the caller hands it what the records service says
about each chosen object (its property definitions and pipelines) and gets
back every problem at once, each naming the field and the property.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STANDARD_OBJECT_TYPES = frozenset({
    "contacts", "companies", "deals", "tickets", "services",
    "tasks", "calls", "notes", "emails", "meetings"})
LAYOUTS = ("board", "table")
DATE_TYPES = ("date", "datetime")
MAX_REVENUE_OBJECTS = 2


def is_custom_object(object_type: str) -> bool:
    return object_type not in STANDARD_OBJECT_TYPES


@dataclass(frozen=True)
class PropertyFacts:
    """What the settings check needs of one property definition."""

    type: str
    user_type: bool = False  # values are the account's users (referencedObjectType OWNER)


@dataclass(frozen=True)
class ObjectFacts:
    """What the records service says about one object type of the account."""

    properties: Mapping[str, PropertyFacts]
    pipeline_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ObjectSettings:
    object_type: str
    csm_property: str = "hubspot_owner_id"
    renewal_date_property: str | None = None
    pipelines: tuple[str, ...] = ()  # visible pipelines; empty means all
    default_pipeline: str | None = None
    default_layout: str = "board"


@dataclass(frozen=True)
class WorkspaceSettings:
    customers: ObjectSettings = ObjectSettings("companies")
    services: ObjectSettings = ObjectSettings("services")
    revenue: tuple[ObjectSettings, ...] = (ObjectSettings("deals"),)
    revenue_default: str = "deals"

    def revenue_for(self, object_type: str) -> ObjectSettings | None:
        return next((o for o in self.revenue if o.object_type == object_type), None)

    def to_json(self) -> dict[str, Any]:
        def one(o: ObjectSettings) -> dict[str, Any]:
            return {"objectType": o.object_type, "csmProperty": o.csm_property,
                    "renewalDateProperty": o.renewal_date_property,
                    "pipelines": list(o.pipelines), "defaultPipeline": o.default_pipeline,
                    "defaultLayout": o.default_layout}

        customers = one(self.customers)
        for key in ("pipelines", "defaultPipeline", "defaultLayout"):
            customers.pop(key)
        return {"customers": customers, "services": one(self.services),
                "revenue": {"objects": [one(o) for o in self.revenue],
                            "defaultObjectType": self.revenue_default}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkspaceSettings:
        def one(d: Mapping[str, Any], default_type: str) -> ObjectSettings:
            return ObjectSettings(
                object_type=d.get("objectType") or default_type,
                csm_property=d.get("csmProperty") or "hubspot_owner_id",
                renewal_date_property=d.get("renewalDateProperty") or None,
                pipelines=tuple(d.get("pipelines") or ()),
                default_pipeline=d.get("defaultPipeline") or None,
                default_layout=d.get("defaultLayout") or "board")

        revenue = data.get("revenue") or {}
        objects = tuple(one(o, "deals") for o in revenue.get("objects") or [{}])
        return cls(customers=one(data.get("customers") or {}, "companies"),
                   services=one(data.get("services") or {}, "services"),
                   revenue=objects,
                   revenue_default=revenue.get("defaultObjectType") or objects[0].object_type)


@dataclass
class Problems:
    """Every problem found, each with the field it is about (a 400 lists them all)."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append({"in": where, "message": f"{where}: {message}"})

    def __bool__(self) -> bool:
        return bool(self.items)


def object_types_to_check(settings: WorkspaceSettings) -> list[str]:
    """The object types whose definitions the check needs, each once."""
    chosen = [settings.customers.object_type, settings.services.object_type,
              *(o.object_type for o in settings.revenue)]
    return list(dict.fromkeys(chosen))


def check_settings(settings: WorkspaceSettings, facts: Mapping[str, ObjectFacts | None], *,
                   enterprise: bool) -> list[dict[str, str]]:
    """Every problem of `settings`; `facts[type]` is None for a type the account
    does not have (or has not activated)."""
    problems = Problems()
    customers = settings.customers
    if customers.object_type not in ("contacts", "companies") and not (
            enterprise and is_custom_object(customers.object_type)):
        problems.add("customers.objectType", _allowed("contacts or companies", enterprise))
    _check_object("customers", customers, facts, problems, with_pipelines=False)

    services = settings.services
    if services.object_type != "services" and not (
            enterprise and is_custom_object(services.object_type)):
        problems.add("services.objectType", _allowed("services", enterprise))
    _check_object("services", services, facts, problems, with_pipelines=True)

    if not 1 <= len(settings.revenue) <= MAX_REVENUE_OBJECTS:
        problems.add("revenue.objects", f"choose one or two objects, not {len(settings.revenue)}")
    seen: set[str] = set()
    for index, revenue in enumerate(settings.revenue):
        where = f"revenue.objects[{index}]"
        if revenue.object_type in seen:
            problems.add(f"{where}.objectType", f"'{revenue.object_type}' is chosen twice")
        seen.add(revenue.object_type)
        if revenue.object_type != "deals" and not (
                enterprise and is_custom_object(revenue.object_type)):
            problems.add(f"{where}.objectType", _allowed("deals", enterprise))
        _check_object(where, revenue, facts, problems, with_pipelines=True)
    if settings.revenue_default not in seen:
        problems.add("revenue.defaultObjectType",
                     f"'{settings.revenue_default}' is not one of the chosen revenue objects")
    return problems.items


def _allowed(standard: str, enterprise: bool) -> str:
    return f"must be {standard}" + (" or a custom object" if enterprise else
                                    " (custom objects need Enterprise)")


def _check_object(where: str, chosen: ObjectSettings, facts: Mapping[str, ObjectFacts | None],
                  problems: Problems, *, with_pipelines: bool) -> None:
    known = facts.get(chosen.object_type)
    if known is None:
        problems.add(f"{where}.objectType",
                     f"'{chosen.object_type}' does not exist or is not activated in this account")
        return
    csm = known.properties.get(chosen.csm_property)
    if csm is None:
        problems.add(f"{where}.csmProperty",
                     f"'{chosen.csm_property}' is not a property of {chosen.object_type}")
    elif not csm.user_type:
        problems.add(f"{where}.csmProperty",
                     f"'{chosen.csm_property}' is not a user-type property (it is {csm.type})")
    if chosen.renewal_date_property:
        renewal = known.properties.get(chosen.renewal_date_property)
        if renewal is None:
            problems.add(f"{where}.renewalDateProperty",
                         f"'{chosen.renewal_date_property}' is not a property of "
                         f"{chosen.object_type}")
        elif renewal.type not in DATE_TYPES:
            problems.add(f"{where}.renewalDateProperty",
                         f"'{chosen.renewal_date_property}' is not a date property "
                         f"(it is {renewal.type})")
    if not with_pipelines:
        return
    for pipeline in chosen.pipelines:
        if pipeline not in known.pipeline_ids:
            problems.add(f"{where}.pipelines",
                         f"pipeline '{pipeline}' does not exist on {chosen.object_type}")
    if chosen.default_pipeline:
        visible = chosen.pipelines or tuple(known.pipeline_ids)
        if chosen.default_pipeline not in visible:
            problems.add(f"{where}.defaultPipeline",
                         f"pipeline '{chosen.default_pipeline}' is not among the visible "
                         f"pipelines")
    if chosen.default_layout not in LAYOUTS:
        problems.add(f"{where}.defaultLayout", "must be board or table")
