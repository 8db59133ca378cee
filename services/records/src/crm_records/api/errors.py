"""Domain and handler errors as the hosted CRM's error answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from crm_platform.problem import ApiError, render
from crm_records.domain.errors import (
    DomainError,
    InvalidPropertyValues,
    LifecycleRegression,
    MissingRequiredProperties,
    UniqueValueConflict,
    UnknownObjectType,
)
from crm_records.handlers.records import RecordNotFound

_STATUS_BY_CATEGORY = {"CONFLICT": 409, "OBJECT_NOT_FOUND": 404}


def to_api_error(error: Exception) -> ApiError:
    if isinstance(error, InvalidPropertyValues):
        return ApiError(400, error.message, [
            {"message": e.message, "code": e.code, "context": {"propertyName": [e.name]}}
            for e in error.errors])
    if isinstance(error, UnknownObjectType):
        return ApiError(400, f"Unable to infer object type from: {error.reference}")
    if isinstance(error, RecordNotFound):
        return ApiError(404, f"Object not found: {error}", category="OBJECT_NOT_FOUND",
                        context={"ids": [str(i) for i in error.record_ids]})
    if isinstance(error, MissingRequiredProperties):  # R-PIPE-2: name each missing one
        return ApiError(400, error.message, [
            {"message": f"{name} is required to enter stage {error.stage_label!r}",
             "code": "REQUIRED_PROPERTY_MISSING", "context": {"propertyName": [name]}}
            for name in error.missing])
    if isinstance(error, LifecycleRegression):  # R-LIFE-2
        return ApiError(400, error.message, [
            {"message": error.message, "code": "LIFECYCLE_STAGE_REGRESSION",
             "context": {"propertyName": ["lifecyclestage"]}}])
    if isinstance(error, UniqueValueConflict):
        return ApiError(409, error.message, category="CONFLICT",
                        context={"propertyName": [error.name]})
    if isinstance(error, DomainError) and error.category in _STATUS_BY_CATEGORY:
        return ApiError(_STATUS_BY_CATEGORY[error.category], error.message,
                        category=error.category)
    if isinstance(error, DomainError):
        return ApiError(400, error.message, category=error.category)
    raise error


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    @app.exception_handler(RecordNotFound)
    async def _domain(request: Request, exc: Exception) -> JSONResponse:
        return render(request, to_api_error(exc))
