"""The feed (R-CSW-9): GET /workspace/v1/feed, hiding an item for oneself, and
follow-ups (call, email, task, note, meeting) created through the records API
as the caller, associated to the contact."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import read_model
from crm_workspace.api.common import (
    UserIdQuery,
    ensure_user_in_account,
    storable_text,
    subject_user,
)
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.feed import (
    ENGAGEMENT_TYPES,
    BadFeedQuery,
    feed_query,
    follow_up_body,
    next_cursor,
)
from crm_workspace.domain.tasks import stamp

router = APIRouter(prefix="/workspace/v1/feed", tags=["feed"])
Caller = Annotated[Principal, Depends(area(Area.FEED))]
App = Annotated[Container, Depends(container)]
Text = Annotated[str, AfterValidator(storable_text)]
EngagementType = Literal["calls", "emails", "meetings", "notes", "tasks"]


class Feed(BaseModel):
    results: list[dict[str, Any]]
    paging: dict[str, Any] | None = None


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: EngagementType
    contactId: Annotated[str, Field(pattern=r"^[0-9]{1,18}$")]
    properties: dict[Text, Text | None] = Field(default_factory=dict, max_length=50)


def _bad(error: BadFeedQuery) -> ApiError:
    return ApiError(400, str(error), [{"message": str(error), "in": error.field}])


@router.get("", response_model=Feed, response_model_exclude_none=True)
async def feed(caller: Caller, app: App,
               q: Annotated[str | None, Query(max_length=200)] = None,
               types: Annotated[str | None, Query(max_length=200,
                                                  description=", ".join(ENGAGEMENT_TYPES))
                                ] = None,
               order: str = "newest", limit: int = 20,
               after: Annotated[str | None, Query(max_length=500)] = None,
               userId: UserIdQuery = None) -> Feed:
    """`userId`: another user's feed, as a super admin or settings manager sees it
    (R-CSW-3's *view as another user*): the companies that user owns and the items
    that user hid, within the caller's own view scope."""
    user_id = subject_user(caller, userId)
    if user_id != caller.user_id:
        await ensure_user_in_account(app.pool, caller.account_id, user_id)
    try:
        storable_text(q or "")
    except ValueError as bad:
        raise ApiError(400, f"q {bad}", [{"message": f"q {bad}", "in": "q"}]) from None
    try:
        query = feed_query(types, q, order, limit, after)
    except BadFeedQuery as bad:
        raise _bad(bad) from None
    async with app.pool.acquire() as conn:
        items = await read_model.feed_items(conn, caller, user_id, query)
    cursor = next_cursor(items, query.limit)
    return Feed(results=items, paging={"next": {"after": cursor}} if cursor else None)


@router.delete("/{objectType}/{recordId}", status_code=204, response_class=Response)
async def hide(objectType: EngagementType, recordId: Annotated[int, Path(ge=1, le=2**63 - 1)],
               caller: Caller, app: App) -> Response:
    """Hides the item from the caller's feed only; the engagement stays as it is."""
    async with app.pool.acquire() as conn:
        if not await read_model.hide_feed_item(conn, caller.account_id, caller.user_id,
                                               objectType, recordId):
            raise ApiError(404, f"No {objectType} {recordId} in the feed")
    return Response(status_code=204)


@router.post("/follow-ups", status_code=201, response_model=dict[str, Any])
async def follow_up(body: FollowUpIn, request: Request, caller: Caller,
                    app: App) -> dict[str, Any]:
    create = follow_up_body(body.type, body.contactId, body.properties, stamp(app.clock()))
    return await app.api.create_with_associations(bearer(request), body.type, create)
