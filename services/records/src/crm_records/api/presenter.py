"""Between the hosted CRM's JSON and our records: ids, values, paging, tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any

from crm_platform.problem import ApiError
from crm_records.api.schemas import NextPage, Paging, SimplePublicObject, ValueWithHistory
from crm_records.domain.record import Record

# Returned by every write; a search that passes it waits until the index has
# applied these record versions (read-your-writes, R-SRCH-2).
CONSISTENCY_HEADER = "X-CRM-Consistency-Token"
MAX_ID = 2**63 - 1


def object_not_found(object_id: str) -> ApiError:
    return ApiError(404, f"Object not found.  objectId are usually numeric. (got {object_id!r})",
                    category="OBJECT_NOT_FOUND")


def parse_id(object_id: str) -> int:
    """Ids are positive integers; anything else names no record (404, as hosted)."""
    if not object_id.isascii() or not object_id.isdigit() or not 0 < int(object_id) <= MAX_ID:
        raise object_not_found(object_id)
    return int(object_id)


def parse_after(after: str | None) -> int:
    if after in (None, ""):
        return 0
    if not after.isascii() or not after.isdigit() or int(after) > MAX_ID:
        raise ApiError(400, f"Invalid paging cursor 'after': {after!r}",
                       [{"message": "after must be the cursor of a previous page", "in": "after"}])
    return int(after)


def split_names(values: Iterable[str] | None) -> list[str]:
    """`properties=a,b&properties=c` -> [a, b, c] (both forms are in use)."""
    return [name.strip() for value in values or () for name in value.split(",") if name.strip()]


def values_in(properties: dict[str, Any]) -> dict[str, str | None]:
    """JSON values to the hosted CRM's string form (true -> "true", 12.0 -> "12")."""
    out: dict[str, str | None] = {}
    for name, value in properties.items():
        if value is None:
            out[name] = None
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            out[name] = str(int(value))
        else:
            out[name] = str(value)
    return out


def simple_object(record: Record, chosen: Sequence[str] | None = None,
                  history: dict[str, list[Any]] | None = None,
                  history_names: Sequence[str] = ()) -> SimplePublicObject:
    if chosen:
        always = ("hs_object_id", "createdate", "lastmodifieddate")
        properties = {n: record.properties.get(n) for n in (*always, *chosen)}
    else:
        properties = dict(record.properties)
    with_history = None
    if history_names:
        with_history = {
            name: [ValueWithHistory(value=h["value"] or "", timestamp=h["changed_at"],
                                    sourceType=h["source_type"], sourceId=h["source_id"],
                                    updatedByUserId=h["user_id"])
                   for h in (history or {}).get(name, [])]
            for name in history_names}
    return SimplePublicObject(id=str(record.record_id), properties=properties,
                              propertiesWithHistory=with_history, createdAt=record.created_at,
                              updatedAt=record.updated_at, archived=record.archived,
                              archivedAt=record.archived_at)


def paging(last_id: int) -> Paging:
    return Paging(next=NextPage(after=str(last_id)))


def missing_ids_error(ids: Sequence[str]) -> dict[str, Any]:
    return {"status": "error", "category": "OBJECT_NOT_FOUND",
            "message": f"Could not get some objects, they may be deleted or not exist. "
                       f"Check that ids are valid: {', '.join(ids)}",
            "context": {"ids": list(ids)}}


def consistency_token(records: Sequence[Record]) -> str:
    pairs = [[r.object_type, r.record_id, r.version] for r in records]
    return base64.urlsafe_b64encode(json.dumps(pairs, separators=(",", ":")).encode()).decode()
