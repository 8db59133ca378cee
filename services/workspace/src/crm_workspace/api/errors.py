"""Errors of the workspace's own making render as problem+json (crm_platform.problem);
a refusal of the records or search API is handed back as that service wrote it
(e.g. the 400 listing a stage's missing required properties, R-PIPE-2)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from crm_platform.identity.errors import Forbidden
from crm_platform.problem import ApiError, render
from crm_workspace.adapters.crm_api import UpstreamError


def install(app: FastAPI) -> None:
    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, exc: UpstreamError) -> JSONResponse:
        if exc.status >= 500:
            return render(request, ApiError(exc.status, exc.message,
                                            headers={"Retry-After": "1"}))
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        # The body names what is missing, as text and as a field a client can read.
        errors = [{"message": exc.reason, "missing": exc.missing}] if exc.missing else []
        return render(request, ApiError(403, f"Forbidden: {exc.reason}", errors,
                                        category=exc.category))
