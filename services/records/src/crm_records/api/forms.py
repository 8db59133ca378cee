"""Forms (R-MKT-1): definitions at /crm/v3/forms (bearer token), and the hosted
CRM's public submission endpoint (no token, as from a web page):

    POST /submissions/v3/integration/submit/{portalId}/{formGuid}
    {"fields": [{"name": "email", "value": "a@b.com"}, ...],
     "context": {"hutk": "...", "pageUri": "...", "pageName": "..."},
     "legalConsentOptions": {...}}

It answers as hosted, {"inlineMessage": ...}, plus our `contactId` and
`created`. The hosted CRM keeps form definitions under /marketing/v3/forms; the
gateway sends only /crm/ to this service, so ours live under /crm/v3/forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.api.deps import principal
from crm_records.api.tracking import (
    _cached,
    check_public_limits,
    json_body,
    marketing_unit_of_work,
    not_found,
)
from crm_records.domain import forms as rules
from crm_records.domain.tracking import InvalidTrackingPayload
from crm_records.handlers.forms import FormsHandler
from crm_records.handlers.marketing import NotFound, StoredForm

router = APIRouter(tags=["forms"])
Caller = Annotated[Principal, Depends(principal)]
THANKS = "Thanks for submitting the form."


def forms_handler(request: Request) -> FormsHandler:
    return _cached(request, "forms_handler",
                   lambda: FormsHandler(marketing_unit_of_work(request)))


class FieldInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    propertyName: str | None = None  # defaults to the field's name
    fieldType: str = "text"
    label: str = ""
    required: bool = False


class FormInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    fields: list[FieldInput] = Field(max_length=rules.MAX_FORM_FIELDS)
    subscriptionForm: bool = False
    allowSubmissionsWithoutEmail: bool = False


class FieldModel(BaseModel):
    name: str
    propertyName: str
    fieldType: str
    label: str
    required: bool


class FormModel(BaseModel):
    id: str
    name: str
    fields: list[FieldModel]
    subscriptionForm: bool
    allowSubmissionsWithoutEmail: bool
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False


class FormCollection(BaseModel):
    results: list[FormModel]


def present(stored: StoredForm) -> FormModel:
    form = stored.form
    return FormModel(
        id=form.form_id, name=form.name, subscriptionForm=form.subscription,
        allowSubmissionsWithoutEmail=form.allow_submissions_without_email,
        fields=[FieldModel(name=f.name, propertyName=f.property_name, fieldType=f.field_type,
                           label=f.label, required=f.required) for f in form.fields],
        createdAt=stored.created_at, updatedAt=stored.updated_at)


@router.post("/crm/v3/forms", status_code=201, response_model=FormModel)
async def create_form(body: FormInput, caller: Caller, request: Request) -> FormModel:
    form = rules.FormDefinition(
        form_id="", name=body.name, subscription=body.subscriptionForm,
        allow_submissions_without_email=body.allowSubmissionsWithoutEmail,
        fields=tuple(rules.FormField(f.name, f.propertyName or f.name, f.fieldType, f.label,
                                     f.required) for f in body.fields))
    try:
        stored = await forms_handler(request).create_form(caller.account_id, form)
    except rules.InvalidForm as bad:
        raise ApiError(400, bad.message, [{"message": p, "code": "INVALID_FORM"}
                                          for p in bad.problems]) from None
    return present(stored)


@router.get("/crm/v3/forms", response_model=FormCollection)
async def list_forms(caller: Caller, request: Request) -> FormCollection:
    return FormCollection(results=[present(f) for f in
                                   await forms_handler(request).forms(caller.account_id)])


@router.get("/crm/v3/forms/{form_id}", response_model=FormModel)
async def get_form(form_id: str, caller: Caller, request: Request) -> FormModel:
    try:
        return present(await forms_handler(request).form(caller.account_id, form_id))
    except NotFound as missing:
        raise not_found(missing) from None


def _submitted_fields(body: dict[str, Any]) -> list[tuple[str, str]]:
    """fields[] as (name, value) pairs, or a 400 naming the malformed entry."""
    fields = body.get("fields")
    if not isinstance(fields, list):
        raise ApiError(400, "fields must be a list of {name, value}", [
            {"message": "fields must be a list", "errorType": "INVALID_FIELDS"}])
    pairs = []
    for i, item in enumerate(fields):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ApiError(400, f"fields[{i}] must be an object with a name", [
                {"message": f"fields[{i}] needs a name", "errorType": "INVALID_FIELDS"}])
        value = item.get("value", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise ApiError(400, f"fields[{i}].value must be text", [
                {"message": f"Error in 'fields.{item['name']}'. value must be text",
                 "errorType": "INVALID_FIELDS"}])
        pairs.append((item["name"], str(value)))
    return pairs


def _context_text(context: dict[str, Any], name: str) -> str | None:
    value = context.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"context.{name} must be text")
    return value or None


@router.post("/submissions/v3/integration/submit/{portal_id}/{form_guid}")
async def submit(portal_id: int, form_guid: str, request: Request) -> JSONResponse:
    await check_public_limits(request, portal_id)
    body = await json_body(request, rules.MAX_BODY_BYTES)
    fields = _submitted_fields(body)
    context = body.get("context") or {}
    if not isinstance(context, dict):
        raise ApiError(400, "context must be an object")
    try:
        result = await forms_handler(request).submit(
            portal_id, form_guid, fields, hutk=_context_text(context, "hutk"),
            page_uri=_context_text(context, "pageUri"))
    except rules.InvalidSubmission as bad:
        raise ApiError(400, "The request is not valid", [
            {"message": f"Error in 'fields.{p.field}'. {p.message}", "errorType": p.error_type}
            for p in bad.problems]) from None
    except InvalidTrackingPayload as bad:
        raise ApiError(400, f"context.hutk is not valid: {'; '.join(bad.problems)}") from None
    except NotFound as missing:
        raise not_found(missing) from None
    return JSONResponse({"inlineMessage": THANKS, "contactId": str(result.contact_id),
                         "created": result.created})
