"""Association filters through the real association consumer: contacts of a
company are found, and stop being found once the association is removed
(R-SRCH-1, R-SRCH-2)."""

from __future__ import annotations

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration


async def create(platform, headers, object_type: str, properties: dict) -> str:
    answer = await platform.records.post(f"/crm/v3/objects/{object_type}", headers=headers,
                                         json={"properties": properties})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


async def contacts_of(platform, headers, company_id: str) -> list[str] | None:
    answer = await platform.search.post("/crm/v3/objects/contacts/search", headers=headers, json={
        "filterGroups": [{"filters": [
            {"propertyName": "associations.company", "operator": "EQ", "value": company_id}]}],
        "sorts": ["hs_object_id"]})
    if answer.status_code == 401:  # search has not heard of the new user yet
        return None
    assert answer.status_code == 200, answer.text
    return [hit["id"] for hit in answer.json()["results"]]


async def test_contacts_of_a_company_follow_association_events(platform):  # R-SRCH-1
    _, headers = await platform.new_account("assoc")
    company = await create(platform, headers, "companies", {"name": "Acme"})
    linked = await create(platform, headers, "contacts", {"email": "linked@acme.example"})
    unlinked = await create(platform, headers, "contacts", {"email": "other@acme.example"})
    put = await platform.records.put(
        f"/crm/v4/objects/contacts/{linked}/associations/default/companies/{company}",
        headers=headers)
    assert put.status_code == 200, put.text

    assert await eventually(lambda: contacts_of(platform, headers, company), timeout=600,
                            what="the contact associated with the company") == [linked]
    assert unlinked not in (await contacts_of(platform, headers, company) or [])

    removed = await platform.records.delete(
        f"/crm/v4/objects/contacts/{linked}/associations/companies/{company}", headers=headers)
    assert removed.status_code == 204, removed.text

    async def gone() -> bool:
        return await contacts_of(platform, headers, company) == []

    assert await eventually(gone, timeout=60, what="the removal reaching the index")
