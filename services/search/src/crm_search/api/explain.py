"""POST /search/v1/explain: why a record is not in a search's results (R-SRCH-4).

Body: {"objectType": "contacts", "recordId": "123", "version": 7 (optional),
"filterGroups": [...], "query": "..."} — the filter part exactly as a search.
A consistency token (X-CRM-Consistency-Token) naming the record works as `version`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_search.api.search import canonical_type, principal
from crm_search.domain.query import SearchRequestInvalid, parse_search_request
from crm_search.handlers.consistency import ConsistencyTokenInvalid, parse_token
from crm_search.handlers.explain import explain_record

router = APIRouter(prefix="/search/v1", tags=["index"])
OWN_FIELDS = ("objectType", "recordId", "version")


class ReasonOut(BaseModel):
    kind: str
    message: str
    groupIndex: int | None = None
    filterIndex: int | None = None
    propertyName: str | None = None
    operator: str | None = None


class ExplanationOut(BaseModel):
    objectType: str
    recordId: str
    shown: bool
    indexedVersion: int | None
    reasons: list[ReasonOut]


@router.post("/explain", response_model=ExplanationOut)
async def explain(request: Request, caller: Annotated[Principal, Depends(principal)],
                  body: Annotated[dict[str, Any], Body()],
                  x_crm_consistency_token: Annotated[str | None, Header()] = None,
                  ) -> ExplanationOut:
    container = request.app.state.container
    object_type, record_id, version = _own_fields(body)
    if x_crm_consistency_token:
        try:
            token_version = parse_token(x_crm_consistency_token).get((object_type, record_id))
        except ConsistencyTokenInvalid as invalid:
            raise ApiError(400, str(invalid)) from None
        if token_version is not None:
            version = max(version or 0, token_version)
    property_types = await container.property_types(caller.account_id, object_type)
    try:
        query = parse_search_request({k: v for k, v in body.items() if k not in OWN_FIELDS})
        table = await container.live_table.get()
        async with container.pool.acquire() as conn:
            found = await explain_record(conn, caller, object_type, record_id, query,
                                         property_types, version, table)
    except SearchRequestInvalid as invalid:
        raise ApiError(400, str(invalid), invalid.hosted_errors()) from None
    return ExplanationOut(
        objectType=object_type, recordId=str(record_id), shown=found.shown,
        indexedVersion=found.indexed_version,
        reasons=[ReasonOut(kind=r.kind.value, message=r.message, groupIndex=r.group_index,
                           filterIndex=r.filter_index, propertyName=r.property_name,
                           operator=r.operator) for r in found.reasons])


def _own_fields(body: dict[str, Any]) -> tuple[str, int, int | None]:
    object_type, record_id, version = (body.get(k) for k in OWN_FIELDS)
    errors = []
    if not isinstance(object_type, str) or not object_type.strip():
        errors.append({"message": "objectType is required.", "in": "objectType"})
    if not str(record_id or "").isdigit():
        errors.append({"message": "recordId must be a record id.", "in": "recordId"})
    if version is not None and (isinstance(version, bool) or not str(version).isdigit()):
        errors.append({"message": "version must be a non-negative integer.", "in": "version"})
    if errors:
        raise ApiError(400, "; ".join(e["message"] for e in errors), errors)
    return canonical_type(str(object_type)), int(str(record_id)), \
        None if version is None else int(str(version))
