"""Association types and the rules on them (R-REC-6, R-REC-7): pure, no I/O.

Type ids are the hosted CRM's HUBSPOT_DEFINED ones, so a client that sends
`associationTypeId: 279` means the same thing here. Every association is
stored in both directions: a type from A to B has an inverse from B to A
(279 contact_to_company <-> 280 company_to_contact; 1 <-> 2 for the primary
company). User-defined labels get ids of their own per account (a pair, one
per direction), stored beside these.

A pair of records always holds its default (unlabelled) type once associated;
labels and the primary flag come on top. A contact has at most one primary
company: setting a new one moves it (`primary_moves`). The contact's free-text
`company` property is never read or written here: associations and that
property are independent (R-REC-6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crm_records.domain.errors import DomainError
from crm_records.domain.object_types import ENGAGEMENT_TYPES, resolve_object_type

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
USER_DEFINED = "USER_DEFINED"
PRIMARY_LABEL = "Primary"


@dataclass(frozen=True)
class AssociationType:
    type_id: int
    from_type: str  # plural object type names: "contacts"
    to_type: str
    inverse_id: int
    category: str = HUBSPOT_DEFINED
    label: str | None = None  # None: the pair's default, unlabelled type
    primary: bool = False
    name: str | None = None  # a user label's internal name

    @property
    def is_default(self) -> bool:
        return self.label is None and not self.primary


def _pairs() -> list[tuple[str, str, int, int]]:
    """(from, to, type id, inverse id) of the hosted CRM's default types."""
    pairs = [
        ("contacts", "companies", 279, 280), ("deals", "contacts", 3, 4),
        ("deals", "companies", 341, 342), ("contacts", "tickets", 15, 16),
        ("tickets", "companies", 339, 340), ("deals", "tickets", 27, 28),
        ("contacts", "contacts", 449, 449), ("companies", "companies", 450, 450),
        ("deals", "deals", 451, 451), ("tickets", "tickets", 452, 452),
    ]
    # Engagements: record_to_engagement, engagement_to_record (odd, even).
    engagement_ids = {
        "companies": {"calls": 181, "emails": 185, "meetings": 187, "notes": 189, "tasks": 191},
        "contacts": {"calls": 193, "emails": 197, "meetings": 199, "notes": 201, "tasks": 203},
        "deals": {"calls": 205, "emails": 209, "meetings": 211, "notes": 213, "tasks": 215},
        "tickets": {"calls": 219, "emails": 223, "meetings": 225, "notes": 227, "tasks": 229},
    }
    for record_type, by_engagement in engagement_ids.items():
        for engagement_type, type_id in by_engagement.items():
            pairs.append((record_type, engagement_type, type_id, type_id + 1))
    return pairs


def _standard_types() -> dict[int, AssociationType]:
    types: dict[int, AssociationType] = {}
    for from_type, to_type, type_id, inverse_id in _pairs():
        types[type_id] = AssociationType(type_id, from_type, to_type, inverse_id)
        types[inverse_id] = AssociationType(inverse_id, to_type, from_type, type_id)
    # The primary company of a contact (1/2), a deal (5/6) and a ticket (26/25).
    for from_type, to_type, type_id, inverse_id in (("contacts", "companies", 1, 2),
                                                    ("deals", "companies", 5, 6),
                                                    ("tickets", "companies", 26, 25)):
        types[type_id] = AssociationType(type_id, from_type, to_type, inverse_id,
                                         label=PRIMARY_LABEL, primary=True)
        types[inverse_id] = AssociationType(inverse_id, to_type, from_type, type_id,
                                            label=PRIMARY_LABEL, primary=True)
    return types


STANDARD_TYPES: Mapping[int, AssociationType] = _standard_types()
DEFAULT_TYPE_BY_PAIR: Mapping[tuple[str, str], AssociationType] = {
    (t.from_type, t.to_type): t for t in STANDARD_TYPES.values() if t.is_default}
# Custom objects and pairs the hosted CRM has no fixed id for get a per-account
# default type at first use; user labels too. Ids from here up are ours.
FIRST_ACCOUNT_TYPE_ID = 100_000


class InvalidAssociation(DomainError):
    """A type id that does not join these two object types (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def object_type_id(object_type: str) -> str:
    """The hosted objectTypeId ("0-1") of a type name; a custom type's name as is."""
    try:
        return resolve_object_type(object_type).object_type_id
    except DomainError:
        return object_type


def singular(object_type: str) -> str:
    try:
        return resolve_object_type(object_type).singular
    except DomainError:
        return object_type


def type_name(association_type: AssociationType) -> str:
    """The hosted v3 `type` of an associated id: contact_to_company (primary),
    contact_to_company_unlabeled (default, when the pair has a primary), a label's name."""
    base = f"{singular(association_type.from_type)}_to_{singular(association_type.to_type)}"
    if association_type.primary:
        return base
    if association_type.label is not None:
        return association_type.name or association_type.label.lower().replace(" ", "_")
    has_primary = any(t.primary and t.from_type == association_type.from_type
                      and t.to_type == association_type.to_type for t in STANDARD_TYPES.values())
    return f"{base}_unlabeled" if has_primary else base


def check_types(from_type: str, to_type: str, requested: Iterable[AssociationType]) -> None:
    """Every requested type must join from_type to to_type."""
    for t in requested:
        if (t.from_type, t.to_type) != (from_type, to_type):
            raise InvalidAssociation(
                f"association type {t.type_id} joins {t.from_type} to {t.to_type}, "
                f"not {from_type} to {to_type}")


def with_default(default: AssociationType,
                 requested: Iterable[AssociationType]) -> list[AssociationType]:
    """The requested types plus the pair's default one: an association always has it."""
    chosen = {default.type_id: default}
    for t in requested:
        chosen.setdefault(t.type_id, t)
    return list(chosen.values())


def primary_moves(current_primary: int | None, new_primary: int) -> int | None:
    """R-REC-6: the company that loses the primary flag when `new_primary` takes it
    (None when it was not set or is the same company)."""
    if current_primary is None or current_primary == new_primary:
        return None
    return current_primary


def is_engagement_pair(from_type: str, to_type: str) -> bool:
    """A record (not an engagement) and an engagement: the pair R-REC-7 caps."""
    return (from_type in ENGAGEMENT_TYPES) != (to_type in ENGAGEMENT_TYPES)
