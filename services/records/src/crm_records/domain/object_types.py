"""Object types under the hosted CRM's names and objectTypeIds (R-REC-1).

A path or body may name a type by plural name ("contacts"), singular name
("contact"), objectTypeId ("0-1"), or, for a custom object, its
objectTypeId ("2-123"), its name, or its fully qualified name ("p_cars", or
"p<portal>_cars" as the hosted CRM spells it). `resolve_object_type` accepts
all of them; custom types come from the account's schemas, which the caller
loads and passes in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from crm_records.domain.errors import UnknownObjectType


@dataclass(frozen=True)
class ObjectType:
    name: str  # plural API name: "contacts"
    singular: str  # "contact"
    object_type_id: str  # "0-1"; custom objects "2-<n>"
    is_engagement: bool = False
    has_pipelines: bool = False
    primary_display_property: str = "hs_object_id"
    # Free-text search (R-SRCH-1) looks only at these properties.
    default_searchable: tuple[str, ...] = ()
    fully_qualified_name: str | None = None  # custom objects only: "p_cars"

    @property
    def is_custom(self) -> bool:
        return self.object_type_id.startswith("2-")


def _standard(name: str, singular: str, type_id: str, display: str, searchable: tuple[str, ...],
              *, engagement: bool = False, pipelines: bool = False) -> ObjectType:
    return ObjectType(name, singular, type_id, engagement, pipelines, display, searchable)


CONTACTS = _standard(
    "contacts", "contact", "0-1", "email",
    ("firstname", "lastname", "email", "phone", "hs_additional_emails", "fax", "mobilephone",
     "company"),
)
COMPANIES = _standard("companies", "company", "0-2", "name",
                      ("name", "domain", "website", "phone", "hs_additional_domains"))
DEALS = _standard("deals", "deal", "0-3", "dealname",
                  ("dealname", "pipeline", "dealstage", "description", "dealtype"), pipelines=True)
TICKETS = _standard("tickets", "ticket", "0-5", "subject",
                    ("subject", "content", "hs_pipeline_stage", "hs_ticket_category",
                     "hs_object_id"), pipelines=True)
SERVICES = _standard("services", "service", "0-162", "hs_name",
                     ("hs_name", "hs_description"), pipelines=True)
TASKS = _standard("tasks", "task", "0-27", "hs_task_subject",
                  ("hs_task_subject", "hs_task_body"), engagement=True)
CALLS = _standard("calls", "call", "0-48", "hs_call_title",
                  ("hs_call_title", "hs_call_body"), engagement=True)
NOTES = _standard("notes", "note", "0-46", "hs_note_body", ("hs_note_body",), engagement=True)
EMAILS = _standard("emails", "email", "0-49", "hs_email_subject",
                   ("hs_email_subject", "hs_email_text"), engagement=True)
MEETINGS = _standard("meetings", "meeting", "0-47", "hs_meeting_title",
                     ("hs_meeting_title", "hs_meeting_body"), engagement=True)

STANDARD_OBJECT_TYPES: tuple[ObjectType, ...] = (
    CONTACTS, COMPANIES, DEALS, TICKETS, SERVICES, TASKS, CALLS, NOTES, EMAILS, MEETINGS,
)
ENGAGEMENT_TYPES: frozenset[str] = frozenset(
    t.name for t in STANDARD_OBJECT_TYPES if t.is_engagement)

_CUSTOM_ID = re.compile(r"^2-\d+$")
_FULLY_QUALIFIED = re.compile(r"^p\d*_(?P<name>[a-z][a-z0-9_]*)$")


def custom_object_type(object_type_id: str, name: str, singular: str, *,
                       primary_display_property: str = "hs_object_id",
                       searchable: tuple[str, ...] = (), has_pipelines: bool = True) -> ObjectType:
    """A custom object type from an account's schema (`2-<n>`, name like "cars")."""
    if not _CUSTOM_ID.match(object_type_id):
        raise UnknownObjectType(object_type_id)
    name = name.lower()
    return ObjectType(name, singular.lower(), object_type_id, False, has_pipelines,
                      primary_display_property, searchable, f"p_{name}")


def resolve_object_type(reference: str, custom_types: Iterable[ObjectType] = ()) -> ObjectType:
    """The type a path segment or body field names; raises UnknownObjectType."""
    wanted = reference.strip().lower()
    fully_qualified = _FULLY_QUALIFIED.match(wanted)
    for object_type in (*STANDARD_OBJECT_TYPES, *custom_types):
        if wanted in (object_type.name, object_type.singular, object_type.object_type_id):
            return object_type
        if (object_type.is_custom and fully_qualified
                and fully_qualified["name"] == object_type.name):
            return object_type
    raise UnknownObjectType(reference)
