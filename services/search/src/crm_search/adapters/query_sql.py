"""Compile a search into parameterised PostgreSQL over `search_documents` (R-SRCH-1).

Every value and every property name is a parameter ($1, $2, ... in asyncpg
style); the SQL text holds only code. Comparisons follow the rules written in
`crm_search.domain.typing`, which the Python evaluator (`domain.explain`)
follows too; the integration test runs both on the same records.

Choices, for the record:
- typed values come from guarded expressions that never raise on a bad stored
  value: a regex check before `::numeric`; dates by the SQL function
  `search_epoch_millis` (migration 0007: a capture-free shape check, then
  integer arithmetic on the fields, never a cast that would raise on
  "2023-02-30"), or the stored `ms_<name>` column for the dates in DATE_COLUMNS.
- EQ and IN on text, enumeration and bool properties are
  `filter_terms && search_filter_terms_of(name, operands, case_insensitive)`:
  a GIN index answers them exactly, and the planner estimates them from the
  column's statistics. Operands longer than TERM_MAX_LENGTH (not stored as
  terms) and unusual property names use the typed comparison instead.
- GT, GTE, LT, LTE and BETWEEN on numbers with whole operands are
  `filter_terms && <terms>` too (`domain.number_terms`, migration 0009): digit
  counts and prefixes of the floor, exact, so a total counts from the index.
- property names that are plain identifiers are written into the SQL as
  literals (any other name stays a parameter), so the planner sees the same
  expression as an index or a generated column.
- CONTAINS_TOKEN: tokens are the stored text lower-cased, split on ASCII
  whitespace and trimmed of punctuation; `*` in the filter becomes LIKE's `%`.
  Word boundaries, not tsvector lexemes, so "*@example.com" works on emails.
- free text: `search_text @@ to_tsquery('simple', "'w1':* & 'w2':*")`, every
  word of the query a prefix of an indexed word, all words required.
- order: the requested sorts, typed (numbers numerically, dates as instants,
  strings case-insensitively by code point), records without the value last;
  without sorts, oldest record first (created_at). Ties break on record_id
  ascending, so paging by offset is stable.
- total: `count_sql` counts at most 10,000 matches, the most a search pages to.
- hs_object_id is the record id: its filters (integral operands) and sorts use
  the `record_id` column of the primary key, never the jsonb value, so a
  keyset page (hs_object_id GT last, sorted by it) is an index range scan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_search.domain.number_terms import range_terms
from crm_search.domain.query import MAX_RESULTS, Operator, SearchQuery, SortDirection
from crm_search.domain.typing import (
    MULTI_SELECT_SEPARATOR,
    NUMBER_PATTERN,
    TOKEN_SEPARATOR_PATTERN,
    TOKEN_TRIM_CHARS,
    PropertyType,
    TypedFilter,
    TypedSort,
    type_query,
)

RECORD_ID_PROPERTY = "hs_object_id"
# Dates stored as epoch-ms columns by migration 0007 (kept in step with it).
DATE_COLUMNS = {
    "createdate": "ms_createdate",
    "lastmodifieddate": "ms_lastmodifieddate",
    "hs_lastmodifieddate": "ms_hs_lastmodifieddate",
    "closedate": "ms_closedate",
    "hs_timestamp": "ms_hs_timestamp",
}
TERM_MAX_LENGTH = 200  # longer values are not in filter_terms (migration 0007)
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
BIGINT_MAX = 2**63 - 1
SELECT_COLUMNS = "d.record_id, d.version, d.owner_id, d.properties, d.created_at, d.updated_at"


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: list[Any]
    count_sql: str
    count_params: list[Any]


def compile_search(
    account_id: int,
    object_type: str,
    query: SearchQuery,
    property_types: Mapping[str, str],
    visibility_sql: tuple[str, Sequence[Any]] | None = None,
    table: str = "search_documents",
) -> CompiledQuery:
    """The page query and the capped count query for one search.

    visibility_sql: a boolean SQL fragment over the alias `d` (e.g.
    "d.owner_id = ANY($1::text[])") with its own $1.. numbering; it is
    renumbered after this query's parameters. Raises SearchRequestInvalid when a
    filter value does not fit its property's type.
    """
    typed = type_query(query, property_types)
    params = _Params()
    conditions = [
        f"d.account_id = {params.add(account_id, 'bigint')}",
        f"d.object_type = {params.add(object_type, 'text')}",
        "d.archived = false",
    ]
    if typed.groups:
        conditions.append(_groups_sql(typed.groups, params))
    if typed.search_terms:
        tsquery = " & ".join(f"'{term}':*" for term in typed.search_terms)
        conditions.append(f"d.search_text @@ to_tsquery('simple', {params.add(tsquery, 'text')})")
    if visibility_sql is not None:
        fragment, fragment_params = visibility_sql
        conditions.append(f"({_renumber(fragment, len(fragment_params), len(params.values))})")
        params.values.extend(fragment_params)
    where = " AND ".join(conditions)
    # The count references exactly the WHERE parameters: PostgreSQL refuses a
    # parameter it cannot see, so sort and paging parameters come after.
    count_params = list(params.values)
    order_by = _order_by(typed.sorts, params)
    limit = params.add(query.limit, "bigint")
    offset = params.add(query.after, "bigint")
    sql = (
        f"SELECT {SELECT_COLUMNS} FROM {table} AS d WHERE {where} "
        f"ORDER BY {order_by} LIMIT {limit} OFFSET {offset}"
    )
    count_sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {table} AS d WHERE {where} "
        f"LIMIT {MAX_RESULTS}) AS capped"
    )
    return CompiledQuery(sql, params.values, count_sql, count_params)


class _Params:
    def __init__(self) -> None:
        self.values: list[Any] = []
        self._property_refs: dict[str, str] = {}

    def add(self, value: Any, sql_type: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{sql_type}"

    def name(self, property_name: str) -> str:
        """A property name in SQL: a literal when it is a plain identifier."""
        if property_name not in self._property_refs:
            self._property_refs[property_name] = (
                _literal(property_name) if PLAIN_NAME.fullmatch(property_name)
                else self.add(property_name, "text"))
        return self._property_refs[property_name]

    def stored_text(self, property_name: str) -> str:
        """The stored value of a property, NULL when missing or empty."""
        return f"NULLIF(d.properties ->> {self.name(property_name)}, '')"


def _renumber(fragment: str, count: int, offset: int) -> str:
    used = {int(n) for n in re.findall(r"\$(\d+)", fragment)}
    if used != set(range(1, count + 1)):
        raise ValueError(
            f"visibility fragment uses parameters {sorted(used)} but has {count} values"
        )
    return re.sub(r"\$(\d+)", lambda m: f"${int(m[1]) + offset}", fragment)


def _groups_sql(groups: tuple[tuple[TypedFilter, ...], ...], params: _Params) -> str:
    ored = []
    for group in groups:
        anded = [f"({_filter_sql(f, params)})" for f in group]
        ored.append("(" + (" AND ".join(anded) or "TRUE") + ")")
    return "(" + " OR ".join(ored) + ")"


def _filter_sql(typed: TypedFilter, params: _Params) -> str:
    positive = _positive_sql(typed, params)
    if typed.negated:
        # NULL (no value, unparsable value) counts as "does not match".
        return f"NOT coalesce(({positive}), false)"
    return positive


def _positive_sql(typed: TypedFilter, params: _Params) -> str:
    operator = typed.positive_operator
    if typed.kind is None:
        return _association_sql(typed, operator, params)
    if _on_record_id(typed):
        return _record_id_sql(typed, operator, params)
    text = params.stored_text(typed.filter.property_name)
    if operator is Operator.HAS_PROPERTY:
        return f"{text} IS NOT NULL"
    if operator is Operator.CONTAINS_TOKEN:
        patterns = params.add([_like_pattern(p) for p in typed.operands], "text[]")
        return (
            f"NOT EXISTS (SELECT 1 FROM unnest({patterns}) AS wanted(pattern) "
            f"WHERE NOT EXISTS (SELECT 1 FROM regexp_split_to_table(lower({text}), "
            f"{_literal(TOKEN_SEPARATOR_PATTERN)}) AS piece(token) "
            f"WHERE btrim(piece.token, {_literal(TOKEN_TRIM_CHARS)}) "
            "LIKE wanted.pattern ESCAPE '\\'))"
        )

    if operator in (Operator.EQ, Operator.IN) and typed.kind in _TERM_KINDS:
        terms = _terms_sql(typed, params)
        if terms is not None:
            return terms
    if typed.kind is PropertyType.NUMBER and PLAIN_NAME.fullmatch(typed.filter.property_name):
        ranges = range_terms(typed.filter.property_name, operator, typed.operands)
        if ranges is not None:
            return f"d.filter_terms && {params.add(ranges, 'text[]')}"
    return _exact_sql(typed, operator, params)


_TERM_KINDS = (PropertyType.STRING, PropertyType.ENUMERATION, PropertyType.BOOL)


def _terms_sql(typed: TypedFilter, params: _Params) -> str | None:
    """EQ/IN as a lookup in the GIN-indexed `filter_terms` (migration 0007).

    Exactly the typed comparison: text and bool case-insensitively (the stored
    value or its lower-cased form), enumerations exactly (the whole value or one
    of its options). None when the terms cannot answer: a name that is not a
    plain identifier, or an operand longer than any stored term.
    """
    name = typed.filter.property_name
    operands = [str(o).lower() if isinstance(o, bool) else o for o in typed.operands]
    if not PLAIN_NAME.fullmatch(name) or any(
            len(o) > TERM_MAX_LENGTH or not o for o in operands):
        return None
    case_insensitive = "false" if typed.kind is PropertyType.ENUMERATION else "true"
    return (f"d.filter_terms && search_filter_terms_of({params.name(name)},"
            f" {params.add(operands, 'text[]')}, {case_insensitive})")


def _exact_sql(typed: TypedFilter, operator: Operator, params: _Params) -> str:
    """The typed comparison itself (module docstring of domain.typing)."""
    kind = typed.kind
    assert kind is not None  # association filters are compiled elsewhere
    value = _typed_value(kind, typed.filter.property_name, params)
    sql_type = _SQL_TYPES[kind]
    text = params.stored_text(typed.filter.property_name)
    if kind is PropertyType.ENUMERATION and operator is Operator.EQ:
        wanted = params.add(typed.operands[0], "text")
        options = f"string_to_array({text}, {_literal(MULTI_SELECT_SEPARATOR)})"
        return f"({text} = {wanted} OR {wanted} = ANY({options}))"
    if kind is PropertyType.ENUMERATION and operator is Operator.IN:
        wanted = params.add(list(typed.operands), "text[]")
        options = f"string_to_array({text}, {_literal(MULTI_SELECT_SEPARATOR)})"
        return f"({text} = ANY({wanted}) OR {options} && {wanted})"
    if operator is Operator.IN:
        return f"{value} = ANY({params.add(list(typed.operands), sql_type + '[]')})"
    if kind in (PropertyType.STRING, PropertyType.ENUMERATION):
        value = f'{value} COLLATE "C"'  # order by code point, as Python does
    if operator is Operator.BETWEEN:
        low = params.add(typed.operands[0], sql_type)
        high = params.add(typed.operands[1], sql_type)
        return f"{value} BETWEEN {low} AND {high}"
    return f"{value} {_COMPARISONS[operator]} {params.add(typed.operands[0], sql_type)}"


_COMPARISONS = {
    Operator.EQ: "=",
    Operator.LT: "<",
    Operator.LTE: "<=",
    Operator.GT: ">",
    Operator.GTE: ">=",
}
_SQL_TYPES = {
    PropertyType.STRING: "text",
    PropertyType.ENUMERATION: "text",
    PropertyType.NUMBER: "numeric",
    PropertyType.DATE: "bigint",  # epoch milliseconds
    PropertyType.DATETIME: "bigint",
    PropertyType.BOOL: "boolean",
}


def _on_record_id(typed: TypedFilter) -> bool:
    """hs_object_id compared with whole numbers: the same as comparing record_id."""
    return (typed.filter.property_name == RECORD_ID_PROPERTY
            and typed.kind is PropertyType.NUMBER
            and typed.positive_operator is not Operator.CONTAINS_TOKEN
            and all(o == o.to_integral_value() and abs(o) <= BIGINT_MAX
                    for o in typed.operands))


def _record_id_sql(typed: TypedFilter, operator: Operator, params: _Params) -> str:
    if operator is Operator.HAS_PROPERTY:
        return "TRUE"
    ids = [int(o) for o in typed.operands]
    if operator is Operator.IN:
        return f"d.record_id = ANY({params.add(ids, 'bigint[]')})"
    if operator is Operator.BETWEEN:
        low, high = params.add(ids[0], "bigint"), params.add(ids[1], "bigint")
        return f"d.record_id BETWEEN {low} AND {high}"
    return f"d.record_id {_COMPARISONS[operator]} {params.add(ids[0], 'bigint')}"


def _typed_value(kind: PropertyType, property_name: str, params: _Params) -> str:
    """SQL for the stored value in its comparison form; NULL when it has none."""
    if kind in (PropertyType.DATE, PropertyType.DATETIME):
        if property_name in DATE_COLUMNS:
            return f"d.{DATE_COLUMNS[property_name]}"
        return f"search_epoch_millis(d.properties ->> {params.name(property_name)})"
    text = params.stored_text(property_name)
    if kind is PropertyType.NUMBER:
        return f"(CASE WHEN {text} ~ {_anchored(NUMBER_PATTERN)} THEN ({text})::numeric END)"
    if kind is PropertyType.BOOL:
        return f"(CASE lower({text}) WHEN 'true' THEN true WHEN 'false' THEN false END)"
    if kind is PropertyType.ENUMERATION:
        return text
    return f"lower({text})"


def _association_sql(typed: TypedFilter, operator: Operator, params: _Params) -> str:
    """Associations are undirected: the pair may be stored either way round."""
    other_type = params.add(typed.filter.association_type, "text")
    if operator is Operator.HAS_PROPERTY:
        outgoing_ids = incoming_ids = ""
    else:
        ids = params.add(list(typed.operands), "bigint[]")
        outgoing_ids = f" AND a.to_id = ANY({ids})"
        incoming_ids = f" AND a.from_id = ANY({ids})"
    return (
        "EXISTS (SELECT 1 FROM search_associations AS a WHERE a.account_id = d.account_id"
        " AND a.associated AND ("
        "(a.from_type = d.object_type AND a.from_id = d.record_id "
        f"AND a.to_type = {other_type}{outgoing_ids}) OR "
        f"(a.from_type = {other_type}{incoming_ids} "
        "AND a.to_type = d.object_type AND a.to_id = d.record_id)))"
    )


def _order_by(sorts: tuple[TypedSort, ...], params: _Params) -> str:
    terms = []
    for sort in sorts:
        direction = "DESC" if sort.direction is SortDirection.DESCENDING else "ASC"
        if sort.property_name == RECORD_ID_PROPERTY and sort.kind is PropertyType.NUMBER:
            terms.append(f"d.record_id {direction}")
            break  # record ids are unique: any later term never decides
        value = _typed_value(sort.kind, sort.property_name, params)
        if sort.kind in (PropertyType.STRING, PropertyType.ENUMERATION):
            value = f'{value} COLLATE "C"'
        terms.append(f"{value} {direction} NULLS LAST")
    if not terms:
        terms.append("d.created_at ASC")
    if not terms[-1].startswith("d.record_id"):
        terms.append("d.record_id ASC")
    return ", ".join(terms)


def _like_pattern(token_pattern: str) -> str:
    """A CONTAINS_TOKEN pattern as LIKE: `*` is any run, everything else literal."""
    escaped = token_pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _anchored(pattern: str) -> str:
    return _literal(f"^(?:{pattern})$")


def _literal(constant: str) -> str:
    """A SQL string literal for one of this module's own constants (never user input)."""
    return "'" + constant.replace("'", "''") + "'"
