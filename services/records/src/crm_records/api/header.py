"""GET /crm/v3/objects/contacts/{contactId}/header: the fixed contact header (R-REC-5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_records.api import presenter
from crm_records.api.deps import container, principal
from crm_records.bootstrap import Container
from crm_records.domain.header import PrimaryCompany, contact_header

router = APIRouter(prefix="/crm/v3/objects/contacts", tags=["objects"])


class CompanyRef(BaseModel):
    id: str
    name: str | None


class ContactHeader(BaseModel):
    firstname: str | None
    lastname: str | None
    jobtitle: str | None
    primaryCompany: CompanyRef | None


@router.get("/{contactId}/header", response_model=ContactHeader)
async def header(contactId: str, caller: Annotated[Principal, Depends(principal)],
                 app: Annotated[Container, Depends(container)]) -> ContactHeader:
    record_id = presenter.parse_id(contactId)
    found = await app.records.read(caller.account_id, "contacts", [record_id], viewer=caller)
    if record_id not in found:
        raise presenter.object_not_found(contactId)
    contact = found[record_id]
    companies = await app.associations.associated(caller.account_id, "contacts",
                                                  [contact.record_id], "companies",
                                                  viewer=caller)
    primary_id = next((company_id for company_id, types in companies.get(contact.record_id, [])
                       if any(t.primary for t in types)), None)
    primary = None
    if primary_id is not None:
        company = (await app.records.read(caller.account_id, "companies", [primary_id],
                                          viewer=caller)).get(primary_id)
        if company is not None:
            primary = PrimaryCompany(primary_id, company.properties.get("name"))
    return ContactHeader.model_validate(contact_header(contact.properties, primary))
