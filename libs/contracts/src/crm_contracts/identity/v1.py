"""Identity events, version 1 (topic crm.identity.v1, key {account}:users:{id}).

The records service owns accounts, users, teams and tokens; every other service
keeps the part it needs (who may see and do what, which tokens are revoked) in
its own store from these events. `UserUpserted` carries the user's whole
access profile, so the newest version is all a consumer needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crm_contracts.envelope import EventData


class ObjectScope(BaseModel):
    model_config = ConfigDict(frozen=True)
    view: str
    edit: str


class AccessProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    account_id: int
    user_id: int
    active: bool = True
    team_ids: list[int] = []
    super_admin: bool = False
    service_seat: bool = False
    permissions: list[str] = []
    object_scopes: dict[str, ObjectScope] = {}
    account_tier: str = "standard"
    email: str | None = None


class AccountCreated(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.identity.account.created.v1"
    account_id: int
    name: str
    tier: str
    created_at: datetime


class UserUpserted(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.identity.user.upserted.v1"
    profile: AccessProfile
    version: int
    first_name: str | None = None
    last_name: str | None = None


class TokenRevoked(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.identity.token.revoked.v1"
    account_id: int
    token_id: str
    expires_at: datetime


EVENTS: tuple[type[EventData], ...] = (AccountCreated, UserUpserted, TokenRevoked)
