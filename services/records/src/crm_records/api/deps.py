"""What every route needs: the composition root and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from crm_platform.identity.fastapi import principal_dependency
from crm_platform.identity.principal import Principal
from crm_records.api.custom_types import load_custom_types
from crm_records.bootstrap import Container


async def container(request: Request) -> Container:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
    # per request for one attribute read.
    return request.app.state.container


authenticated = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)


async def principal(request: Request,
                    caller: Annotated[Principal, Depends(authenticated)]) -> Principal:
    """The caller, with their account's custom object types set for this request."""
    await load_custom_types(request, caller.account_id)
    return caller
