"""Why is this record not shown? (R-SRCH-4) The use case behind POST /search/v1/explain.

Looks the record up in the index and answers, in order of what a reader can
act on: the index has not applied the record (or not the version the caller
knows of); the record is archived or deleted; the caller's view scope hides
it; which filter of which group excludes it; the free-text query misses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from crm_platform.identity.access import can_view
from crm_platform.identity.principal import Principal
from crm_search.adapters.association_store import associations_of
from crm_search.domain.explain import Reason, ReasonKind, Visibility, explain_exclusion
from crm_search.domain.query import SearchQuery
from crm_search.domain.typing import search_terms


@dataclass(frozen=True)
class Explanation:
    object_type: str
    record_id: int
    indexed_version: int | None
    reasons: list[Reason]

    @property
    def shown(self) -> bool:
        return not self.reasons


async def explain_record(conn: asyncpg.Connection, caller: Principal, object_type: str,
                         record_id: int, query: SearchQuery, property_types: Mapping[str, str],
                         wanted_version: int | None = None,
                         table: str = "search_documents") -> Explanation:
    """wanted_version: the version the caller knows the record has (from a write's
    answer or its consistency token); an older indexed version is "not yet indexed"."""
    row = await conn.fetchrow(
        "SELECT version, archived, deleted, owner_id, properties,"
        " ($4::text IS NOT NULL AND search_text @@ to_tsquery('simple', $4)) AS text_matches"
        f" FROM {table} WHERE account_id = $1 AND object_type = $2 AND record_id = $3",
        caller.account_id, object_type, record_id, _tsquery(query))
    if row is None:
        return Explanation(object_type, record_id, None,
                           [Reason.not_indexed(object_type, record_id)])
    reasons: list[Reason] = []
    if wanted_version is not None and row["version"] < wanted_version:
        reasons.append(Reason(
            ReasonKind.NOT_INDEXED,
            f"The index holds version {row['version']} of {object_type} {record_id}; "
            f"version {wanted_version} is not applied yet."))
    if row["deleted"]:
        reasons.append(Reason(ReasonKind.ARCHIVED,
                              "The record was permanently deleted or merged into another."))
        return Explanation(object_type, record_id, row["version"], reasons)
    properties = {"hs_object_id": str(record_id), **row["properties"]}
    associations = await associations_of(conn, caller.account_id, object_type, record_id)
    reasons.extend(explain_exclusion(properties, row["archived"], query, property_types,
                                     _visibility(caller, object_type, row["owner_id"]),
                                     associations))
    if query.query and search_terms(query.query) and not row["text_matches"]:
        reasons.append(Reason(ReasonKind.FILTER,
                              f"Excluded by the free-text query {query.query!r}: no searchable "
                              "property of the record starts with each of its words."))
    return Explanation(object_type, record_id, row["version"], reasons)


def _visibility(caller: Principal, object_type: str, owner_id: int | None) -> Visibility:
    if can_view(caller, object_type, owner_id, account_id=caller.account_id):
        return Visibility(True)
    scope = caller.scope_for(object_type).view
    owner = f"owned by user {owner_id}" if owner_id is not None else "without an owner"
    return Visibility(False, f"Your view scope on {object_type} is {scope!r}; the record is "
                             f"{owner}, outside it.")


def _tsquery(query: SearchQuery) -> str | None:
    terms = search_terms(query.query)
    return " & ".join(f"'{term}':*" for term in terms) if terms else None
