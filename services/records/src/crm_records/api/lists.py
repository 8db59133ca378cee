"""Lists (R-MKT-3) in the hosted /crm/v3/lists shape, contacts only (0-1):

    POST   /crm/v3/lists                       {name, objectTypeId, processingType,
                                                filterGroups?}   -> {"list": {...}}
    GET    /crm/v3/lists | /crm/v3/lists/{id}
    DELETE /crm/v3/lists/{id}
    PUT    /crm/v3/lists/{id}/memberships/add | /remove   [recordId, ...]
    GET    /crm/v3/lists/{id}/memberships?after=&limit=
    POST   /crm/v3/lists/{id}/emails           {subject, html, text?, from, sendId?}
    POST   /crm/v3/lists/suppressions          {emailAddress, reason}

Where the hosted API takes a `filterBranch`, an active (DYNAMIC) list here
takes `filterGroups` in the search API's shape. Sending an email to a list,
and the suppressions it honours, are our additions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.api.deps import principal
from crm_records.api.tracking import _cached, marketing_unit_of_work, not_found
from crm_records.domain import lists as rules
from crm_records.domain.errors import InvalidEmailAddress
from crm_records.domain.properties import normalise_email
from crm_records.handlers.lists import ListRuleBroken, ListsHandler, SendReport
from crm_records.handlers.marketing import NotFound, StoredList

# Ids are PostgreSQL bigints: a larger number names nothing and is refused as input.
MAX_ID = 2**63 - 1
ListId = Annotated[int, Path(ge=1, le=MAX_ID)]
RecordIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Body()]

router = APIRouter(prefix="/crm/v3/lists", tags=["lists"])
Caller = Annotated[Principal, Depends(principal)]


def lists_handler(request: Request) -> ListsHandler:
    return _cached(request, "lists_handler",
                   lambda: ListsHandler(marketing_unit_of_work(request)))


class ListInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    objectTypeId: str = rules.CONTACTS_OBJECT_TYPE_ID
    processingType: str
    filterGroups: list[Any] | None = None


class ListModel(BaseModel):
    listId: str
    name: str
    objectTypeId: str
    processingType: str
    size: int
    filterGroups: list[Any] | None = None
    createdAt: datetime
    updatedAt: datetime


class EmailInput(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    subject: str = Field(min_length=1, max_length=998)
    html: str = Field(max_length=512 * 1024)
    text: str | None = Field(default=None, max_length=512 * 1024)
    from_address: str = Field(alias="from")
    sendId: str | None = Field(default=None, max_length=200)


class SuppressionInput(BaseModel):
    emailAddress: str
    reason: str


def _present(stored: StoredList) -> ListModel:
    return ListModel(listId=str(stored.list_id), name=stored.name,
                     objectTypeId=stored.object_type_id, processingType=stored.processing_type,
                     size=stored.size, filterGroups=stored.filter_groups,
                     createdAt=stored.created_at, updatedAt=stored.updated_at)


def _invalid(bad: rules.InvalidListDefinition) -> ApiError:
    return ApiError(400, bad.message, [{"message": p, "code": "INVALID_LIST"}
                                       for p in bad.problems])


@router.post("")
async def create_list(body: ListInput, caller: Caller, request: Request) -> dict[str, Any]:
    try:
        created = await lists_handler(request).create(
            caller.account_id, body.name, body.processingType, body.filterGroups,
            body.objectTypeId)
    except rules.InvalidListDefinition as bad:
        raise _invalid(bad) from None
    return {"list": _present(created).model_dump(mode="json")}


@router.get("")
async def all_lists(caller: Caller, request: Request) -> dict[str, Any]:
    found = await lists_handler(request).all(caller.account_id)
    return {"lists": [_present(s).model_dump(mode="json") for s in found],
            "total": len(found), "hasMore": False}


@router.post("/suppressions", status_code=204)
async def suppress(body: SuppressionInput, caller: Caller, request: Request) -> Response:
    """An address that unsubscribed or hard-bounced: list emails skip it from now on."""
    try:
        address = normalise_email(body.emailAddress)
        await lists_handler(request).suppress(caller.account_id, address, body.reason)
    except InvalidEmailAddress:
        raise ApiError(400, "emailAddress is not an email address") from None
    except rules.InvalidListDefinition as bad:
        raise _invalid(bad) from None
    return Response(status_code=204)


@router.get("/{list_id}")
async def get_list(list_id: ListId, caller: Caller, request: Request) -> dict[str, Any]:
    try:
        found = await lists_handler(request).get(caller.account_id, list_id)
    except NotFound as missing:
        raise not_found(missing) from None
    return {"list": _present(found).model_dump(mode="json")}


@router.delete("/{list_id}", status_code=204)
async def delete_list(list_id: ListId, caller: Caller, request: Request) -> Response:
    try:
        await lists_handler(request).archive(caller.account_id, list_id)
    except NotFound as missing:
        raise not_found(missing) from None
    return Response(status_code=204)


@router.get("/{list_id}/memberships")
async def memberships(list_id: ListId, caller: Caller, request: Request,
                      after: Annotated[int, Query(ge=0)] = 0,
                      limit: Annotated[int, Query(ge=1, le=250)] = 100) -> dict[str, Any]:
    try:
        ids = await lists_handler(request).members(caller.account_id, list_id, after=after,
                                                   limit=limit + 1, viewer=caller)  # R-AUTH-3
    except NotFound as missing:
        raise not_found(missing) from None
    ids, more = ids[:limit], len(ids) > limit  # one extra: a next page only when there is one
    answer: dict[str, Any] = {"results": [{"recordId": str(i)} for i in ids]}
    if more:
        answer["paging"] = {"next": {"after": str(ids[-1])}}
    return answer


async def _change(request: Request, caller: Principal, list_id: int, ids: list[int],
                  add: bool) -> dict[str, Any]:
    if len(ids) > 100_000:
        raise ApiError(400, "at most 100000 record ids per request")
    try:
        changed, missing = await lists_handler(request).change_members(
            caller.account_id, list_id, ids, add=add)
    except NotFound as gone:
        raise not_found(gone) from None
    except ListRuleBroken as broken:
        raise ApiError(400, broken.message) from None
    key = "recordIdsAdded" if add else "recordIdsRemoved"
    return {key: [str(i) for i in changed], "recordIdsMissing": [str(i) for i in missing]}


@router.put("/{list_id}/memberships/add")
async def add_members(list_id: ListId, caller: Caller, request: Request,
                      ids: RecordIds) -> dict[str, Any]:
    return await _change(request, caller, list_id, ids, True)


@router.put("/{list_id}/memberships/remove")
async def remove_members(list_id: ListId, caller: Caller, request: Request,
                         ids: RecordIds) -> dict[str, Any]:
    return await _change(request, caller, list_id, ids, False)


def _report(report: SendReport) -> dict[str, Any]:
    return {
        "sendId": report.send_id, "listId": str(report.list_id),
        "sent": len(report.sent), "skipped": len(report.skipped), "failed": len(report.failed),
        "results": {
            "sent": [{"contactId": str(c), "address": a, "emailId": str(e) if e else None}
                     for c, a, e in report.sent],
            "skipped": [{"contactId": str(c), "reason": r} for c, r in report.skipped],
            "failed": [{"contactId": str(c), "reason": r} for c, r in report.failed],
        },
    }


@router.post("/{list_id}/emails")
async def send_email(list_id: ListId, body: EmailInput, caller: Caller, request: Request,
                     idempotency_key: Annotated[str | None, Header(max_length=200)] = None
                     ) -> dict[str, Any]:
    """Send to every reachable member; the same sendId (or Idempotency-Key) again
    returns the report and mails nobody twice."""
    try:
        from_address = normalise_email(body.from_address)
    except InvalidEmailAddress:
        raise ApiError(400, "from is not an email address") from None
    try:
        report = await lists_handler(request).send_email(
            caller.account_id, caller.user_id, list_id, subject=body.subject, html=body.html,
            text=body.text, from_address=from_address,
            send_id=body.sendId or idempotency_key)
    except NotFound as missing:
        raise not_found(missing) from None
    return _report(report)
