"""Merging two records of one type (R-REC-10): the property values.

The primary keeps its id and every value it has; each blank one is filled
from the secondary. Exceptions, as the hosted CRM documents them:
- `email` / `domain`: the primary keeps its own; the secondary's (and its
  additional ones) join `hs_additional_emails` / `hs_additional_domains`.
- `createdate` / `hs_createdate`: the older one is kept (the newer is never taken).
- `lifecyclestage`: the stage furthest down the funnel is kept.
- roll-ups (`notes_last_contacted`, `notes_last_updated`): the newer is kept,
  since the timelines are united.
- `hs_merged_object_ids` gains the secondary's id and its earlier merges.
- ids and modification stamps belong to the primary and the store.

Associations, timelines and history are the handler's part; this is values only.
"""

from __future__ import annotations

from collections.abc import Mapping

from crm_records.domain.lifecycle import LIFECYCLE_PROPERTY, stage_rank
from crm_records.domain.properties import is_blank, parse_datetime
from crm_records.domain.rollups import ROLLUP_PROPERTIES

NEVER_FROM_SECONDARY = frozenset({"hs_object_id", "hs_lastmodifieddate", "lastmodifieddate"})
OLDEST_WINS = frozenset({"createdate", "hs_createdate"})
NEWEST_WINS = frozenset(ROLLUP_PROPERTIES)
ADDITIONAL_VALUES_OF = {"email": "hs_additional_emails", "domain": "hs_additional_domains"}
MERGED_IDS = "hs_merged_object_ids"
LIST_SEPARATOR = ";"


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(LIST_SEPARATOR) if part.strip()]


def _join_unique(parts: list[str], excluding: str | None = None) -> str | None:
    """Parts once each (case-insensitively), without `excluding`; None when nothing is left."""
    kept, seen = [], {(excluding or "").lower()}
    for part in parts:
        if part.lower() not in seen:
            seen.add(part.lower())
            kept.append(part)
    return LIST_SEPARATOR.join(kept) or None


def _pick(name: str, mine: str | None, theirs: str | None) -> str | None:
    if is_blank(theirs) or name in NEVER_FROM_SECONDARY:
        return mine
    if is_blank(mine):
        return theirs
    assert mine is not None and theirs is not None
    if name in OLDEST_WINS:
        return theirs if parse_datetime(theirs) < parse_datetime(mine) else mine
    if name in NEWEST_WINS:
        return theirs if parse_datetime(theirs) > parse_datetime(mine) else mine
    if name == LIFECYCLE_PROPERTY:
        return theirs if stage_rank(theirs) > stage_rank(mine) else mine
    return mine


def merge_properties(
    primary: Mapping[str, str | None], secondary: Mapping[str, str | None],
) -> tuple[dict[str, str | None], list[str]]:
    """(merged values, names whose value now differs from the primary's), names sorted."""
    merged: dict[str, str | None] = dict(primary)
    special = set(ADDITIONAL_VALUES_OF.values()) | {MERGED_IDS}
    for name in set(primary) | set(secondary):
        value = _pick(name, primary.get(name), secondary.get(name))
        if name not in special and (name in primary or value is not None):
            merged[name] = value

    for main, additional in ADDITIONAL_VALUES_OF.items():
        if main not in primary and main not in secondary:
            continue
        candidates = [*_split(primary.get(additional)), *_split(secondary.get(additional))]
        if secondary.get(main) and merged.get(main) != secondary.get(main):
            candidates.append(secondary[main] or "")
        joined = _join_unique(candidates, excluding=merged.get(main))
        if joined is not None or additional in primary:
            merged[additional] = joined

    merged_ids = [*_split(primary.get(MERGED_IDS)), *_split(secondary.get("hs_object_id")),
                  *_split(secondary.get(MERGED_IDS))]
    joined_ids = _join_unique(merged_ids, excluding=primary.get("hs_object_id"))
    if joined_ids is not None or MERGED_IDS in primary:
        merged[MERGED_IDS] = joined_ids

    filled = sorted(name for name, value in merged.items() if value != primary.get(name))
    return merged, filled
