"""/crm/v3/owners: the account's users as record owners, in the hosted CRM's shape
(R-REC-3, R-AUTH-1).

An owner's id is its user id as a string (the hosted CRM numbers owners apart
from users; here they are one). Active users are listed by default,
deactivated ones with `archived=true`; as in the hosted CRM an archived owner
keeps `userIdIncludingInactive` but has no `userId`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.api.deps import container, principal
from crm_records.bootstrap import Container
from crm_records.handlers.identity import IdentityNotFound, User

router = APIRouter(prefix="/crm/v3/owners", tags=["owners"])

App = Annotated[Container, Depends(container)]
Caller = Annotated[Principal, Depends(principal)]
MAX_ID = 2**63 - 1


class OwnerTeam(BaseModel):
    id: str
    name: str
    primary: bool


class PublicOwner(BaseModel):
    id: str
    email: str
    type: Literal["PERSON"] = "PERSON"
    # Left out when unknown, as the hosted API does: optional in the schema too.
    firstName: str | None = None
    lastName: str | None = None
    userId: int | None = None
    userIdIncludingInactive: int
    createdAt: datetime
    updatedAt: datetime
    archived: bool
    teams: list[OwnerTeam]


class NextPage(BaseModel):
    after: str
    link: str | None = None


class Paging(BaseModel):
    next: NextPage


class OwnersPage(BaseModel):
    results: list[PublicOwner]
    paging: Paging | None = None


def owner_out(user: User) -> PublicOwner:
    archived = not user.profile.active
    return PublicOwner(
        id=str(user.user_id), email=user.email, firstName=user.first_name,
        lastName=user.last_name, userId=None if archived else user.user_id,
        userIdIncludingInactive=user.user_id, createdAt=user.created_at,
        updatedAt=user.updated_at, archived=archived,
        teams=[OwnerTeam(id=str(t.team_id), name=t.name, primary=t.team_id == user.primary_team_id)
               for t in user.teams])


def _owner_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise ApiError(404, f"Owner {text} not found", category="OBJECT_NOT_FOUND")
    return int(text)


@router.get("", response_model=OwnersPage, response_model_exclude_none=True)
@router.get("/", response_model=OwnersPage, response_model_exclude_none=True,
            include_in_schema=False)
async def list_owners(caller: Caller, app: App,
                      email: Annotated[str | None, Query(max_length=254)] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100,
                      after: Annotated[str | None, Query(max_length=20)] = None,
                      archived: bool = False) -> OwnersPage:
    start = 0
    if after:
        if not after.isascii() or not after.isdigit() or int(after) > MAX_ID:
            raise ApiError(400, f"Invalid paging cursor 'after': {after!r}",
                           [{"message": "after must be the cursor of a previous page",
                             "in": "after"}])
        start = int(after)
    users = await app.identity.list_users(caller.account_id, after=start, limit=limit + 1,
                                          email=email, active=not archived)
    page = users[:limit]
    paging = Paging(next=NextPage(after=str(page[-1].user_id))) if len(users) > limit else None
    return OwnersPage(results=[owner_out(u) for u in page], paging=paging)


@router.get("/{ownerId}", response_model=PublicOwner, response_model_exclude_none=True)
async def read_owner(ownerId: str, caller: Caller, app: App,
                     idProperty: Literal["id", "userId"] = "id",
                     archived: bool = False) -> PublicOwner:
    # id and userId name the same number here; both are accepted as the hosted API does.
    user_id = _owner_id(ownerId)
    try:
        user = await app.identity.get_user(caller.account_id, user_id)
    except IdentityNotFound:
        raise ApiError(404, f"Owner {ownerId} not found", category="OBJECT_NOT_FOUND") from None
    if user.profile.active == archived:
        raise ApiError(404, f"Owner {ownerId} not found"
                            + ("" if archived else " (it may be archived)"),
                       category="OBJECT_NOT_FOUND")
    return owner_out(user)
