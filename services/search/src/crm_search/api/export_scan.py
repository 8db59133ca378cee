"""POST /search/v1/export-scan/{objectType}: an export's rows, big pages, with their
associated records' names, in record id order (R-EXP-4, R-AUTH-3).

The exports service reads whole views through this, as the requesting user
(a bearer token it mints for that user). It differs from the hosted search in
three ways, all for exports of up to millions of rows:
- pages of up to 10,000 records, cut by keyset (`after` is the last record
  id seen, not an offset), so there is no 10,000-result cap and each page is
  a primary-key range scan;
- per requested associated type, each record's associated records of that
  type (the first `limit` by id, or all with `limit: null`), with the
  properties that name them, from this index's own `search_associations` and
  documents: the exporter needs no call per page to records;
- it needs the `export` permission (R-EXP-1) and is counted against a rate
  budget of its own per token (`crm:ratelimit:export-scan:`), so an export's
  calls never spend the caller's search budget.

Visibility stays inside the query: the caller's view scope of the exported
type filters the rows, and the scope of each associated type filters the
associated records (an associated record the user may not see is neither
named nor listed). Filters and free text are the hosted search's
(`parse_search_request`, `compile_search`); sorts are not taken.

Body: {filterGroups, query, properties, after: "<last id>", limit: 1..10000
(default 1000), associations: [{toObjectType, properties: [...], limit:
1..10000 or null (all), default 1000}]}. Answer: {results: [{id, properties,
associations: {<type>: [ids]}}], associatedRecords: {<type>: {<id>: properties}}
(each associated record of the page once, however many rows share it),
paging.next.after when the page was full}. PostgreSQL builds the JSON, so
this process only joins text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from crm_platform.identity.access import can_export, visibility_sql
from crm_platform.identity.fastapi import principal_dependency, requires
from crm_platform.identity.principal import Principal
from crm_platform.identity.ratelimit import RateLimiter
from crm_platform.problem import ApiError
from crm_search.adapters.query_sql import compile_search
from crm_search.api.search import canonical_type
from crm_search.domain.query import SearchRequestInvalid, parse_search_request

router = APIRouter(tags=["export scan"])

MAX_SCAN_LIMIT = 10_000
DEFAULT_SCAN_LIMIT = 1_000
DEFAULT_ASSOCIATION_LIMIT = 1_000
MAX_ASSOCIATION_TYPES = 10
MAX_PROPERTIES = 1_000
RATE_KEY_PREFIX = "crm:ratelimit:export-scan:"
ID_ORDER = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]


def _scan_limiter(request: Request) -> RateLimiter:
    """The scan's own budget, as large as the service's per-token limit."""
    state = request.app.state
    if getattr(state, "export_scan_limiter", None) is None:
        state.export_scan_limiter = RateLimiter(
            state.runtime.redis, state.container.limiter.limit, key_prefix=RATE_KEY_PREFIX)
    return state.export_scan_limiter


exporter = requires(principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=_scan_limiter,
), can_export)


@dataclass(frozen=True)
class AssociatedScan:
    to_type: str
    properties: tuple[str, ...]
    limit: int | None  # None: every associated record


@dataclass(frozen=True)
class ScanRequest:
    search_body: dict[str, Any]  # what parse_search_request checks
    after_id: int
    limit: int
    associations: tuple[AssociatedScan, ...]


def parse_scan_request(body: Any) -> ScanRequest:
    """The scan body checked; ApiError 400 naming the field otherwise."""
    if not isinstance(body, dict):
        raise _invalid("the body must be a JSON object", "body")
    if "sorts" in body:
        raise _invalid("an export scan is always in record id order; sorts are not taken",
                       "sorts")
    after_id = _whole_number(body.get("after", 0), "after", 0, 2**63 - 1)
    limit = _whole_number(body.get("limit", DEFAULT_SCAN_LIMIT), "limit", 1, MAX_SCAN_LIMIT)
    raw_associations = body.get("associations") or []
    if not isinstance(raw_associations, list) or len(raw_associations) > MAX_ASSOCIATION_TYPES:
        raise _invalid(f"associations must be a list of at most {MAX_ASSOCIATION_TYPES}",
                       "associations")
    associations = tuple(_association(item, f"associations[{n}]")
                         for n, item in enumerate(raw_associations))
    if len({a.to_type for a in associations}) < len(associations):
        raise _invalid("each associated type may be asked for once", "associations")
    search_body = {key: body[key] for key in ("filterGroups", "query", "properties")
                   if key in body}
    search_body.update(sorts=ID_ORDER, limit=1, after=0)
    return ScanRequest(search_body, after_id, limit, associations)


def _association(item: Any, where: str) -> AssociatedScan:
    if not isinstance(item, dict) or not isinstance(item.get("toObjectType"), str):
        raise _invalid("an association needs toObjectType", f"{where}.toObjectType")
    properties = item.get("properties") or []
    if (not isinstance(properties, list) or len(properties) > MAX_PROPERTIES
            or not all(isinstance(p, str) and p for p in properties)):
        raise _invalid("properties must be a list of property names", f"{where}.properties")
    limit = item.get("limit", DEFAULT_ASSOCIATION_LIMIT)
    if limit is not None:
        limit = _whole_number(limit, f"{where}.limit", 1, MAX_SCAN_LIMIT)
    return AssociatedScan(canonical_type(item["toObjectType"]), tuple(properties), limit)


def _whole_number(value: Any, where: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"{where} must be a whole number", where) from None
    if isinstance(value, bool) or not low <= number <= high:
        raise _invalid(f"{where} must be between {low} and {high}", where)
    return number


def _invalid(message: str, where: str) -> ApiError:
    return ApiError(400, message, [{"message": message, "in": where, "code": "INVALID_VALUE"}])


def compile_scan(caller: Principal, object_type: str, scan: ScanRequest,
                 property_types: Mapping[str, str], table: str) -> tuple[str, list[Any]]:
    """One SQL statement answering one page: per hit a row (`record_id`, `hit` JSON
    text); the first row also carries `associated` (JSON text of the page's
    associated records by type and id, or NULL without associations).

    The page itself is compile_search's query (filters, free text, the
    caller's view scope), sorted by record id, with `record_id > after` ANDed
    in beside the scope. Raises SearchRequestInvalid like a search.
    """
    query = replace(parse_search_request(scan.search_body), limit=scan.limit, after=0)
    scope = visibility_sql(caller, object_type, owner_column="d.owner_id", first_param=2)
    keyset = "d.record_id > $1::bigint"
    where = (keyset, [scan.after_id]) if scope is None else (
        f"{keyset} AND ({scope[0]})", [scan.after_id, *scope[1]])
    compiled = compile_search(caller.account_id, object_type, query, property_types, where,
                              table)
    params = list(compiled.params)

    def add(value: Any, sql_type: str) -> str:
        params.append(value)
        return f"${len(params)}::{sql_type}"

    page_properties = _properties_json("p", query.properties, add)
    ctes, joins, cells, records = [f"p AS ({compiled.sql})"], [], [], []
    if scan.associations:  # PostgreSQL refuses a parameter the statement does not use
        account, from_type = add(caller.account_id, "bigint"), add(object_type, "text")
        ctes.append("span AS (SELECT min(record_id) AS low, max(record_id) AS high FROM p)")
    for n, wanted in enumerate(scan.associations):
        pairs = _visible_pairs_sql(caller, wanted, account, from_type, table, params, add)
        ctes.append(f"v{n} AS ({pairs})")
        ctes.append(f"a{n} AS (SELECT id, json_agg(other::text ORDER BY other) AS ids"
                    f" FROM v{n} GROUP BY id)")
        properties = _properties_json("v", wanted.properties, add)
        ctes.append(f"r{n} AS (SELECT coalesce(json_object_agg(other::text, properties),"
                    f" '{{}}'::json) AS byid FROM (SELECT DISTINCT ON (v.other) v.other,"
                    f" {properties} AS properties FROM v{n} AS v) AS v)")
        joins.append(f" LEFT JOIN a{n} ON a{n}.id = p.record_id")
        key = add(wanted.to_type, "text")
        cells.append(f"{key}, coalesce(a{n}.ids, '[]'::json)")
        records.append(f"{key}, (SELECT byid FROM r{n})")
    hit = (f"json_build_object('id', p.record_id::text, 'properties', {page_properties}, "
           f"'associations', json_build_object({', '.join(cells)}))::text")
    associated = "NULL::text"
    if records:  # computed once (an InitPlan), sent once
        associated = (f"CASE WHEN p.record_id = (SELECT low FROM span) THEN"
                      f" json_build_object({', '.join(records)})::text END")
    sql = (f"WITH {', '.join(ctes)} SELECT p.record_id, {hit} AS hit, {associated} AS associated"
           f" FROM p{''.join(joins)} ORDER BY p.record_id")
    return sql, params


def _properties_json(alias: str, names: Sequence[str], add: Callable[[Any, str], str]) -> str:
    """The named properties of a document as a JSON object of strings (null when absent),
    as the hosted search answers them; all of them when none are named.

    json_object(keys, values) writes JSON text directly: no jsonb is built per row
    (this runs for every row). Values are text, which is what the index stores (the
    hosted API's string values)."""
    if not names:
        return f"{alias}.properties::json"
    keys = add(list(names), "text[]")
    values = ", ".join(f"{alias}.properties ->> {add(name, 'text')}" for name in names)
    return f"json_object({keys}, ARRAY[{values}]::text[])"


def _visible_pairs_sql(caller: Principal, wanted: AssociatedScan, account: str,
                       from_type: str, table: str, params: list[Any],
                       add: Callable[[Any, str], str]) -> str:
    """(id, other, properties): the page's records and their visible associated records of
    one type, the first `limit` of each record by id, with the associated documents.

    Set-based, not one subquery per row: the pairs of the page's id span are one
    range scan of an index per direction (the page's rows are a range of ids, so
    this reads no more of the index than the page query reads of the documents),
    then their documents by a join. Measured on 5,000-row pages: 5,000 index
    probes per direction cost more than the rest of the page together. Pairs are
    looked up both ways round (the index keeps one row per direction; a
    half-delivered pair still counts, as in the search filter).
    The caller's scope of the associated type is applied before the cap, so the
    cap counts visible records only.
    """
    to_type = add(wanted.to_type, "text")
    limit = add(wanted.limit, "bigint")
    scope = visibility_sql(caller, wanted.to_type, owner_column="c.owner_id",
                           first_param=len(params) + 1)
    scope_sql = ""
    if scope is not None:
        scope_sql = f" AND ({scope[0]})"
        params.extend(scope[1])
    pairs = (
        f"SELECT a.from_id AS id, a.to_id AS other FROM search_associations AS a, span"
        f" WHERE a.account_id = {account} AND a.from_type = {from_type}"
        f" AND a.from_id BETWEEN span.low AND span.high AND a.to_type = {to_type}"
        f" AND a.associated"
        f" UNION SELECT a.to_id, a.from_id FROM search_associations AS a, span"
        f" WHERE a.account_id = {account} AND a.to_type = {from_type}"
        f" AND a.to_id BETWEEN span.low AND span.high AND a.from_type = {to_type}"
        f" AND a.associated")
    visible = (
        "SELECT l.id, c.record_id AS other, c.properties,"
        " row_number() OVER (PARTITION BY l.id ORDER BY c.record_id) AS position"
        f" FROM (SELECT * FROM ({pairs}) AS span_pairs OFFSET 0) AS l"
        " JOIN p ON p.record_id = l.id"
        f" JOIN {table} AS c ON c.account_id = {account}"
        f" AND c.object_type = {to_type} AND c.record_id = l.other"
        f" WHERE NOT c.archived{scope_sql}")
    return (f"SELECT id, other, properties FROM ({visible}) AS v"
            f" WHERE {limit} IS NULL OR position <= {limit}")


async def fetch_scan(conn: Any, sql: str, params: list[Any]) -> list[Any]:
    """Run a compiled scan. Without JIT: the many per-row subplans make PostgreSQL's
    cost estimate cross jit_above_cost, and compiling them costs more (~50 ms a
    page, measured) than the page's rows take to read."""
    async with conn.transaction(readonly=True):
        await conn.execute("SET LOCAL jit = off")
        return await conn.fetch(sql, *params)


@router.post("/search/v1/export-scan/{objectType}")
async def export_scan(objectType: str, request: Request,
                      caller: Annotated[Principal, Depends(exporter)],
                      body: Annotated[dict[str, Any], Body()]) -> Response:
    container = request.app.state.container
    object_type = canonical_type(objectType)
    scan = parse_scan_request(body)
    property_types = await container.property_types(caller.account_id, object_type)
    table = await container.live_table.get()
    try:
        sql, params = compile_scan(caller, object_type, scan, property_types, table)
    except SearchRequestInvalid as invalid:
        raise ApiError(400, str(invalid), invalid.hosted_errors()) from None
    async with container.pool.acquire() as conn:
        rows = await fetch_scan(conn, sql, params)
    extra = ""
    if rows and rows[0]["associated"] is not None:
        extra += f',"associatedRecords":{rows[0]["associated"]}'
    if len(rows) == scan.limit:  # maybe more: the next page starts after the last id
        extra += f',"paging":{{"next":{{"after":"{rows[-1]["record_id"]}"}}}}'
    hits = ",".join(row["hit"] for row in rows)
    return Response(f'{{"results":[{hits}]{extra}}}', media_type="application/json")
