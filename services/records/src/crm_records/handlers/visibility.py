"""Record-level visibility and edit scope (R-AUTH-1, R-AUTH-3) for the records use cases.

A record's owner is its `hubspot_owner_id` (a user id, R-REC-3); the rules of
who sees and changes what are crm_platform.identity.access's, applied here to
our records. A viewer of None is the platform itself (consumers, automation):
it sees everything of the account it works for.

Answers: a record the caller may not see does not exist for them (404, also
in batches, where it is reported as not found); one they may see but not
change answers 403 naming the scope that refused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crm_platform.identity.access import can_edit, can_view, visibility_sql
from crm_platform.identity.errors import Forbidden
from crm_platform.identity.principal import Principal
from crm_records.domain.record import Record

OWNER_PROPERTY = "hubspot_owner_id"
# records.owner_id: a stored generated column (migration 0040) holding the owner
# property as a bigint (NULL when blank or not a number), indexed for lists.
OWNER_COLUMN = "owner_id"
MAX_OWNER_ID = 2**63 - 1


def owner_of(record: Record) -> int | None:
    """The owner's user id, or None when the record has none (then only 'all' sees it)."""
    value = record.properties.get(OWNER_PROPERTY)
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def may_view(viewer: Principal | None, record: Record) -> bool:
    if viewer is None:
        return True
    return can_view(viewer, record.object_type, owner_of(record), account_id=record.account_id)


def visible(viewer: Principal | None, records: Mapping[int, Record]) -> dict[int, Record]:
    """Only the records the viewer may see; the others are as if they did not exist."""
    return {i: r for i, r in records.items() if may_view(viewer, r)}


class RecordNotEditable(Forbidden):
    """The caller sees the record but their edit scope does not cover it (403)."""

    def __init__(self, object_type: str, scope: str, record_ids: Iterable[int]) -> None:
        ids = ", ".join(map(str, record_ids))
        super().__init__(
            f"Your edit scope on {object_type} is '{scope}'"
            f" ({SCOPE_MEANING.get(scope, scope)}): you may not change {ids}.",
            missing=f"{object_type}:edit:{scope}")
        self.scope = scope


SCOPE_MEANING = {"owned": "records you own", "team": "records owned by you or a team mate",
                 "none": "no records", "all": "every record"}


def require_editable(viewer: Principal | None, object_type: str,
                     records: Iterable[Record]) -> None:
    """Raise RecordNotEditable for records the viewer sees but may not change.

    Callers first drop (or report as not found) the records the viewer cannot see."""
    if viewer is None:
        return
    refused = [r.record_id for r in records
               if may_view(viewer, r) and not can_edit(viewer, object_type, owner_of(r),
                                                       account_id=r.account_id)]
    if refused:
        raise RecordNotEditable(object_type, viewer.scope_for(object_type).edit, refused)


def list_predicate(viewer: Principal | None, object_type: str, first_param: int,
                   records_alias: str | None = None) -> tuple[str, list] | None:
    """The view scope as an SQL predicate on records.owner_id (None: no restriction).

    `records_alias` qualifies the column when the query joins records to other
    tables (associations, list memberships)."""
    if viewer is None:
        return None
    column = f"{records_alias}.{OWNER_COLUMN}" if records_alias else OWNER_COLUMN
    return visibility_sql(viewer, object_type, column, first_param)
