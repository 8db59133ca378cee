"""/identity/v1: accounts (operator), users, teams and tokens (R-AUTH-1, R-AUTH-2).

The operator creates accounts with the X-Operator-Key header. Within an
account a super admin adds, changes and deactivates users, makes teams and
sets who is in them, issues tokens and revokes them; anyone else gets a 403
naming what is missing. Ids of another account answer 404 (R-AUTH-1).
Errors come in the hosted shape (crm_platform.problem renders /identity/ so).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.access import can_manage_users, require
from crm_platform.identity.fastapi import requires
from crm_platform.identity.principal import ObjectScope, Principal
from crm_platform.problem import ApiError
from crm_records.api.deps import container, principal
from crm_records.bootstrap import Container
from crm_records.handlers.identity import (
    DEFAULT_TOKEN_TTL,
    MAX_TOKEN_TTL,
    IdentityConflict,
    IdentityInvalid,
    IdentityNotFound,
    IssuedToken,
    Team,
    TokenInfo,
    User,
    UserChanges,
    UserSpec,
)

router = APIRouter(prefix="/identity/v1", tags=["identity"])

App = Annotated[Container, Depends(container)]
Caller = Annotated[Principal, Depends(principal)]
SuperAdmin = Annotated[Principal, Depends(requires(principal, can_manage_users))]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
TeamId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ScopeName = Literal["all", "team", "owned", "none"]
Permission = Literal["cs_workspace_access", "cs_settings_manage", "export"]
Name = Annotated[str, Field(max_length=100)]


@contextmanager
def handler_errors() -> Iterator[None]:
    """The handler's refusals as HTTP answers."""
    try:
        yield
    except IdentityNotFound as error:
        raise ApiError(404, str(error), category="OBJECT_NOT_FOUND") from None
    except IdentityConflict as error:
        raise ApiError(409, str(error)) from None
    except IdentityInvalid as error:
        raise ApiError(400, str(error)) from None


# ---- schemas ----------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is a 400, not ignored


class ScopeBody(Strict):
    view: ScopeName
    edit: ScopeName


class AccountInput(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    tier: Literal["standard", "enterprise"] = "standard"
    adminEmail: str = Field(default="admin@example.com", min_length=3, max_length=254)
    adminFirstName: Name | None = None
    adminLastName: Name | None = None


class AccountCreatedResponse(BaseModel):
    accountId: int
    userId: int
    token: str
    tokenExpiresAt: datetime


class UserInput(Strict):
    email: str = Field(min_length=3, max_length=254)
    firstName: Name | None = None
    lastName: Name | None = None
    teamIds: list[Id] = Field(default_factory=list, max_length=100)  # first is primary
    superAdmin: bool = False
    serviceSeat: bool = False
    permissions: list[Permission] = Field(default_factory=list)
    # object type -> scope; "*" covers every type not named
    objectScopes: dict[Annotated[str, Field(min_length=1, max_length=100)], ScopeBody] = Field(
        default_factory=dict, max_length=100)


class UserPatch(Strict):
    email: str | None = Field(default=None, min_length=3, max_length=254)
    firstName: Name | None = None
    lastName: Name | None = None
    teamIds: list[Id] | None = Field(default=None, max_length=100)
    primaryTeamId: Id | None = None
    superAdmin: bool | None = None
    serviceSeat: bool | None = None
    permissions: list[Permission] | None = None
    objectScopes: dict[Annotated[str, Field(min_length=1, max_length=100)],
                       ScopeBody] | None = Field(default=None, max_length=100)
    active: bool | None = None


class TeamRef(BaseModel):
    id: int
    name: str
    primary: bool


class UserOut(BaseModel):
    id: int
    email: str
    firstName: str | None
    lastName: str | None
    active: bool
    superAdmin: bool
    serviceSeat: bool
    permissions: list[str]
    objectScopes: dict[str, ScopeBody]
    teams: list[TeamRef]
    version: int
    createdAt: datetime
    updatedAt: datetime


class UsersPage(BaseModel):
    results: list[UserOut]
    paging: dict | None = None


class TeamInput(Strict):
    name: str = Field(min_length=1, max_length=100)
    userIds: list[Id] = Field(default_factory=list, max_length=1000)


class TeamPatch(Strict):
    name: str = Field(min_length=1, max_length=100)


class MembersInput(Strict):
    userIds: list[Id] = Field(max_length=1000)


class TeamOut(BaseModel):
    id: int
    name: str
    userIds: list[int]


class TeamsPage(BaseModel):
    results: list[TeamOut]


class TokenInput(Strict):
    userId: Id
    ttlSeconds: int = Field(default=int(DEFAULT_TOKEN_TTL.total_seconds()), ge=1,
                            le=int(MAX_TOKEN_TTL.total_seconds()))


class TokenOut(BaseModel):
    tokenId: str
    userId: int
    issuedAt: datetime
    expiresAt: datetime
    revokedAt: datetime | None = None


class IssuedTokenOut(TokenOut):
    token: str


class TokensPage(BaseModel):
    results: list[TokenOut]


def _scopes(body: dict[str, ScopeBody]) -> dict[str, ObjectScope]:
    return {name: ObjectScope(scope.view, scope.edit) for name, scope in body.items()}


def user_out(user: User) -> UserOut:
    p = user.profile
    return UserOut(
        id=user.user_id, email=user.email, firstName=user.first_name, lastName=user.last_name,
        active=p.active, superAdmin=p.super_admin, serviceSeat=p.service_seat,
        permissions=sorted(p.permissions),
        objectScopes={k: ScopeBody(view=s.view, edit=s.edit) for k, s in p.object_scopes.items()},
        teams=[TeamRef(id=t.team_id, name=t.name, primary=t.team_id == user.primary_team_id)
               for t in user.teams],
        version=user.version, createdAt=user.created_at, updatedAt=user.updated_at)


def team_out(team: Team) -> TeamOut:
    return TeamOut(id=team.team_id, name=team.name, userIds=list(team.member_ids))


def token_out(info: TokenInfo) -> TokenOut:
    return TokenOut(tokenId=info.token_id, userId=info.user_id, issuedAt=info.issued_at,
                    expiresAt=info.expires_at, revokedAt=info.revoked_at)


def issued_out(issued: IssuedToken) -> IssuedTokenOut:
    return IssuedTokenOut(**token_out(issued.info).model_dump(), token=issued.token)


# ---- accounts (operator) ----------------------------------------------------


def require_operator(app: App, x_operator_key: Annotated[str | None, Header()] = None) -> None:
    expected = app.operator_key
    if not expected:
        raise ApiError(403, "The operator API is disabled: RECORDS_OPERATOR_KEY is not set.")
    if not x_operator_key or not hmac.compare_digest(x_operator_key, expected):
        raise ApiError(401, "A valid X-Operator-Key header is required.")


@router.post("/accounts", status_code=201, response_model=AccountCreatedResponse,
             dependencies=[Depends(require_operator)])
async def create_account(body: AccountInput, app: App) -> AccountCreatedResponse:
    with handler_errors():
        created = await app.identity.create_account(body.name, body.tier, body.adminEmail,
                                                    body.adminFirstName, body.adminLastName)
    return AccountCreatedResponse(accountId=created.account_id, userId=created.user_id,
                                  token=created.token, tokenExpiresAt=created.expires_at)


# ---- users ------------------------------------------------------------------


@router.get("/me", response_model=UserOut)
async def who_am_i(caller: Caller, app: App) -> UserOut:
    with handler_errors():
        return user_out(await app.identity.get_user(caller.account_id, caller.user_id))


@router.get("/users", response_model=UsersPage)
async def list_users(caller: SuperAdmin, app: App,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
                     email: Annotated[str | None, Query(max_length=254)] = None,
                     active: bool | None = None) -> UsersPage:
    users = await app.identity.list_users(caller.account_id, after=after, limit=limit + 1,
                                          email=email, active=active)
    page = users[:limit]
    more = len(users) > limit
    return UsersPage(results=[user_out(u) for u in page],
                     paging={"next": {"after": str(page[-1].user_id)}} if more else None)


@router.post("/users", status_code=201, response_model=UserOut)
async def add_user(body: UserInput, caller: SuperAdmin, app: App) -> UserOut:
    spec = UserSpec(email=body.email, first_name=body.firstName, last_name=body.lastName,
                    team_ids=tuple(body.teamIds), super_admin=body.superAdmin,
                    service_seat=body.serviceSeat, permissions=frozenset(body.permissions),
                    object_scopes=_scopes(body.objectScopes))
    with handler_errors():
        return user_out(await app.identity.add_user(caller.account_id, spec))


@router.get("/users/{userId}", response_model=UserOut)
async def get_user(userId: UserId, caller: Caller, app: App) -> UserOut:
    if userId != caller.user_id:
        require(can_manage_users(caller))
    with handler_errors():
        return user_out(await app.identity.get_user(caller.account_id, userId))


@router.patch("/users/{userId}", response_model=UserOut)
async def change_user(userId: UserId, body: UserPatch, caller: SuperAdmin, app: App) -> UserOut:
    changes = UserChanges(
        email=body.email, first_name=body.firstName, last_name=body.lastName,
        team_ids=tuple(body.teamIds) if body.teamIds is not None else None,
        primary_team_id=body.primaryTeamId, super_admin=body.superAdmin,
        service_seat=body.serviceSeat,
        permissions=frozenset(body.permissions) if body.permissions is not None else None,
        object_scopes=_scopes(body.objectScopes) if body.objectScopes is not None else None,
        active=body.active)
    with handler_errors():
        return user_out(await app.identity.change_user(caller.account_id, userId, changes))


@router.delete("/users/{userId}", status_code=204)
async def deactivate_user(userId: UserId, caller: SuperAdmin, app: App) -> Response:
    with handler_errors():
        await app.identity.deactivate_user(caller.account_id, userId)
    return Response(status_code=204)


# ---- teams ------------------------------------------------------------------


@router.get("/teams", response_model=TeamsPage)
async def list_teams(caller: Caller, app: App) -> TeamsPage:
    return TeamsPage(results=[team_out(t) for t in await app.identity.list_teams(
        caller.account_id)])


@router.post("/teams", status_code=201, response_model=TeamOut)
async def create_team(body: TeamInput, caller: SuperAdmin, app: App) -> TeamOut:
    with handler_errors():
        return team_out(await app.identity.create_team(caller.account_id, body.name,
                                                       body.userIds))


@router.get("/teams/{teamId}", response_model=TeamOut)
async def get_team(teamId: TeamId, caller: Caller, app: App) -> TeamOut:
    with handler_errors():
        return team_out(await app.identity.get_team(caller.account_id, teamId))


@router.patch("/teams/{teamId}", response_model=TeamOut)
async def rename_team(teamId: TeamId, body: TeamPatch, caller: SuperAdmin, app: App) -> TeamOut:
    with handler_errors():
        return team_out(await app.identity.rename_team(caller.account_id, teamId, body.name))


@router.put("/teams/{teamId}/members", response_model=TeamOut)
async def set_team_members(teamId: TeamId, body: MembersInput, caller: SuperAdmin,
                           app: App) -> TeamOut:
    with handler_errors():
        return team_out(await app.identity.set_team_members(caller.account_id, teamId,
                                                            body.userIds))


@router.delete("/teams/{teamId}", status_code=204)
async def delete_team(teamId: TeamId, caller: SuperAdmin, app: App) -> Response:
    with handler_errors():
        await app.identity.delete_team(caller.account_id, teamId)
    return Response(status_code=204)


# ---- tokens -----------------------------------------------------------------


@router.post("/tokens", status_code=201, response_model=IssuedTokenOut)
async def issue_token(body: TokenInput, caller: SuperAdmin, app: App) -> IssuedTokenOut:
    with handler_errors():
        issued = await app.identity.issue_user_token(caller.account_id, body.userId,
                                                     timedelta(seconds=body.ttlSeconds))
    return issued_out(issued)


@router.get("/tokens", response_model=TokensPage)
async def list_tokens(caller: SuperAdmin, app: App,
                      userId: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None
                      ) -> TokensPage:
    return TokensPage(results=[token_out(t) for t in await app.identity.list_tokens(
        caller.account_id, userId)])


@router.delete("/tokens/{tokenId}", status_code=204)
async def revoke_token(tokenId: Annotated[str, Path(min_length=1, max_length=200)],
                       caller: Caller, app: App) -> Response:
    """A super admin revokes any token of the account, a user their own."""
    with handler_errors():
        await app.identity.revoke_token(caller, tokenId)
    return Response(status_code=204)
