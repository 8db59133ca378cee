"""What every route needs: the composition root and the authenticated caller."""

from __future__ import annotations

from fastapi import Request

from crm_platform.identity.fastapi import principal_dependency
from crm_records.bootstrap import Container


def container(request: Request) -> Container:
    return request.app.state.container


principal = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)
