"""/identity/v1: the operator API that creates accounts (guarded by the
operator key from the environment). Users, teams and tokens grow here."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from crm_platform.problem import ApiError
from crm_records.api.deps import container
from crm_records.bootstrap import Container

router = APIRouter(prefix="/identity/v1", tags=["identity"])


class AccountInput(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    tier: Literal["standard", "enterprise"] = "standard"
    adminEmail: str = Field(default="admin@example.com", min_length=3, max_length=254)
    adminFirstName: str | None = Field(default=None, max_length=100)
    adminLastName: str | None = Field(default=None, max_length=100)


class AccountCreatedResponse(BaseModel):
    accountId: int
    userId: int
    token: str
    tokenExpiresAt: datetime


def require_operator(app: Annotated[Container, Depends(container)],
                     x_operator_key: Annotated[str | None, Header()] = None) -> None:
    expected = app.operator_key
    if not expected:
        raise ApiError(403, "The operator API is disabled: RECORDS_OPERATOR_KEY is not set.")
    if not x_operator_key or not hmac.compare_digest(x_operator_key, expected):
        raise ApiError(401, "A valid X-Operator-Key header is required.")


@router.post("/accounts", status_code=201, response_model=AccountCreatedResponse,
             dependencies=[Depends(require_operator)])
async def create_account(body: AccountInput,
                         app: Annotated[Container, Depends(container)]) -> AccountCreatedResponse:
    created = await app.identity.create_account(body.name, body.tier, body.adminEmail,
                                                body.adminFirstName, body.adminLastName)
    return AccountCreatedResponse(accountId=created.account_id, userId=created.user_id,
                                  token=created.token, tokenExpiresAt=created.expires_at)
