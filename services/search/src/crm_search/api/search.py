"""POST /crm/v3/objects/{objectType}/search in the hosted CRM's shape.

Visibility (R-AUTH-3) is a predicate inside the query, so paging and totals
count only what the caller may see. A caller that passes the consistency
token a write returned (header X-CRM-Consistency-Token) gets an answer only
once the index holds those record versions, or, past the wait bound, an
answer marked `X-CRM-Index-Consistency: timed-out` (R-SRCH-2).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Body, Depends, Header, Request, Response

from crm_platform.identity.access import visibility_sql
from crm_platform.identity.fastapi import principal_dependency
from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_search.adapters.query_sql import CompiledQuery, compile_search
from crm_search.api.schemas import NextPage, Paging, SearchHit, SearchResponse
from crm_search.domain.query import SearchRequestInvalid, parse_search_request
from crm_search.handlers.consistency import ConsistencyTokenInvalid, wait_for_token

router = APIRouter(tags=["search"])

principal = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)
ALWAYS_RETURNED = ("hs_object_id", "createdate", "lastmodifieddate")
DEFAULT_PROPERTIES = {
    "contacts": ("firstname", "lastname", "email"),
    "companies": ("name", "domain"),
    "deals": ("dealname", "amount", "dealstage", "pipeline", "closedate"),
    "tickets": ("subject", "content", "hs_pipeline", "hs_pipeline_stage"),
}
OBJECT_TYPE_ALIASES = {
    "contact": "contacts", "0-1": "contacts", "company": "companies", "0-2": "companies",
    "deal": "deals", "0-3": "deals", "ticket": "tickets", "0-5": "tickets",
    "service": "services", "0-162": "services", "task": "tasks", "0-27": "tasks",
    "call": "calls", "0-48": "calls", "note": "notes", "0-46": "notes",
    "email": "emails", "0-49": "emails", "meeting": "meetings", "0-47": "meetings",
}


def canonical_type(reference: str) -> str:
    name = reference.strip().lower()
    return OBJECT_TYPE_ALIASES.get(name, name)


@router.post("/crm/v3/objects/{objectType}/search", response_model=SearchResponse,
             response_model_exclude_none=True)
async def search(objectType: str, request: Request, response: Response,
                 caller: Annotated[Principal, Depends(principal)],
                 body: Annotated[dict[str, Any], Body()],
                 x_crm_consistency_token: Annotated[str | None, Header()] = None,
                 ) -> SearchResponse:
    container = request.app.state.container
    object_type = canonical_type(objectType)
    property_types = await container.property_types(caller.account_id, object_type)
    table = await container.live_table.get()
    try:
        query = parse_search_request(body)
        visibility = visibility_sql(caller, object_type, owner_column="d.owner_id")
        compiled = compile_search(caller.account_id, object_type, query, property_types,
                                  visibility, table)
    except SearchRequestInvalid as invalid:
        raise ApiError(400, str(invalid), invalid.hosted_errors()) from None
    if x_crm_consistency_token:
        try:
            caught_up = await wait_for_token(container.pool, caller.account_id,
                                             x_crm_consistency_token,
                                             container.consistency_wait_seconds, table)
        except ConsistencyTokenInvalid as invalid:
            raise ApiError(400, str(invalid), [{"message": str(invalid),
                                                "in": "X-CRM-Consistency-Token"}]) from None
        response.headers["X-CRM-Index-Consistency"] = "applied" if caught_up else "timed-out"
    rows, total = await _page_and_total(container.pool, compiled)
    chosen = query.properties or DEFAULT_PROPERTIES.get(object_type, ())
    results = [_hit(row, chosen) for row in rows]
    next_after = query.next_after(total)
    return SearchResponse(total=total, results=results,
                          paging=Paging(next=NextPage(after=next_after)) if next_after else None)


async def _page_and_total(pool: asyncpg.Pool, compiled: CompiledQuery) -> tuple[list[Any], int]:
    """The page and the capped total at once, on two connections: the total often
    reads more rows than the page (which may stop early along a sort index)."""
    async def page() -> list[Any]:
        async with pool.acquire() as conn:
            return await conn.fetch(compiled.sql, *compiled.params)

    async def total() -> int:
        async with pool.acquire() as conn:
            return await conn.fetchval(compiled.count_sql, *compiled.count_params)

    return await asyncio.gather(page(), total())


def _hit(row: Any, chosen: tuple[str, ...]) -> SearchHit:
    stored = row["properties"]
    names = (*ALWAYS_RETURNED, *chosen) if chosen else tuple(stored)
    return SearchHit(id=str(row["record_id"]), properties={n: stored.get(n) for n in names},
                     createdAt=row["created_at"], updatedAt=row["updated_at"])
