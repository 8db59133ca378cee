"""What every route needs: the container, the caller, the caller's token, and
the access rule of the workspace area the route belongs to (R-CSW-1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from crm_platform.identity.access import require
from crm_platform.identity.fastapi import principal_dependency
from crm_platform.identity.principal import Principal
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area, can_use


def container(request: Request) -> Container:
    return request.app.state.container


principal = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)


def bearer(request: Request) -> str:
    """The caller's own token, forwarded to the records and search APIs."""
    return request.headers.get("authorization", "").partition(" ")[2].strip()


def area(which: Area) -> Callable[..., Awaitable[Principal]]:
    """A dependency yielding the caller if they may use `which`, else 403 naming
    the missing permission or seat."""

    async def allowed(caller: Principal = Depends(principal)) -> Principal:
        require(can_use(caller, which))
        return caller

    return allowed
