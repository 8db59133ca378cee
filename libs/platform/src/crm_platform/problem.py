"""Errors as HTTP answers, in two shapes.

On the hosted CRM's API paths (/crm/v3, /crm/v4, ...) a client written for that
API expects its error body: status, message, correlationId, category, errors[].
On our own paths (/workspace/v1, ...) the answer is RFC 9457 problem+json.
Either way the message names what was wrong.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_platform.db import UNAVAILABLE_ERRORS
from crm_platform.identity.errors import IdentityError

log = logging.getLogger("crm.errors")

HOSTED_PREFIXES = ("/crm/", "/submissions/", "/identity/")

CATEGORY_BY_STATUS = {
    400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 410: "GONE",
    413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR",
    429: "RATE_LIMITS", 503: "SERVICE_UNAVAILABLE", 500: "INTERNAL_ERROR",
}


@dataclass
class ApiError(Exception):
    """Raised by routes and handlers; rendered in the path's shape."""

    status: int
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    category: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


def bad_request(message: str, errors: Iterable[dict[str, Any]] = ()) -> ApiError:
    return ApiError(400, message, list(errors))


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def render(request: Request, error: ApiError) -> JSONResponse:
    correlation_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    category = error.category or CATEGORY_BY_STATUS.get(error.status, "ERROR")
    if request.url.path.startswith(HOSTED_PREFIXES):
        body: dict[str, Any] = {
            "status": "error", "message": error.message, "correlationId": correlation_id,
            "category": category,
        }
        if error.errors:
            body["errors"] = error.errors
        if error.context:
            body["context"] = error.context
        return JSONResponse(body, status_code=error.status, headers=error.headers)
    problem: dict[str, Any] = {
        "type": f"about:blank#{category.lower()}", "title": category.replace("_", " ").title(),
        "status": error.status, "detail": error.message, "instance": request.url.path,
        "correlationId": correlation_id,
    }
    if error.errors:
        problem["errors"] = error.errors
    return JSONResponse(problem, status_code=error.status, headers=error.headers,
                        media_type="application/problem+json")


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        out.append({"message": f"{location or 'body'}: {err.get('msg')}",
                    "in": location or "body", "code": "INVALID_INPUT"})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(IdentityError)
    async def _identity(request: Request, exc: IdentityError) -> JSONResponse:
        message = {401: f"Authentication failed: {exc.reason}",
                   403: f"Forbidden: {exc.reason}"}.get(exc.status_code, exc.reason)
        return render(request, ApiError(exc.status_code, message, category=exc.category,
                                        headers=exc.headers))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        summary = "; ".join(e["message"] for e in errors[:5])
        return render(request, ApiError(400, f"Invalid input: {summary}", errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return render(request, ApiError(exc.status_code, str(exc.detail),
                                        headers=dict(exc.headers or {})))

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("store unavailable: %s", exc)
        return render(request, ApiError(503, "The store is unavailable; nothing was written. "
                                             "Retry later.", headers={"Retry-After": "1"}))

    # Registered per class (not in the catch-all below), so the answer is a
    # handled 503 rather than an error the server middleware re-raises.
    for error_class in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_class, _unavailable)

    # PostgreSQL text (and jsonb strings) cannot hold U+0000; JSON can. The statement
    # failed inside its transaction, so nothing was written: the input is at fault.
    async def _nul_in_text(request: Request, exc: Exception) -> JSONResponse:
        return render(request, ApiError(
            400, "Text values may not contain the NUL character (\\u0000); nothing was written."))

    for error_class in (asyncpg.exceptions.CharacterNotInRepertoireError,
                        asyncpg.exceptions.UntranslatableCharacterError):
        app.add_exception_handler(error_class, _nul_in_text)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return render(request, ApiError(500, "Internal error"))
