"""POST /search/v1/explain through the running search service (R-SRCH-4)."""

from __future__ import annotations

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration
CONSISTENCY = "X-CRM-Consistency-Token"


async def test_explain_names_the_filter_and_the_unapplied_version(platform):  # R-SRCH-4
    _, headers = await platform.new_account("explain")
    created = await platform.records.post("/crm/v3/objects/contacts", headers=headers,
                                          json={"properties": {"firstname": "Ann"}})
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    token = created.headers[CONSISTENCY]
    ask = {"objectType": "contacts", "recordId": record_id, "filterGroups": [{"filters": [
        {"propertyName": "firstname", "operator": "EQ", "value": "Bob"}]}]}

    async def explained() -> dict | None:
        answer = await platform.search.post("/search/v1/explain", json=ask,
                                            headers={**headers, CONSISTENCY: token})
        if answer.status_code == 401:  # search has not heard of the new user yet
            return None
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body if body["indexedVersion"] is not None and \
            body["reasons"][0]["kind"] != "NOT_INDEXED" else None

    body = await eventually(explained, timeout=600, interval=0.5, what="the contact indexed")
    assert body["shown"] is False
    [reason] = body["reasons"]
    assert (reason["kind"], reason["groupIndex"], reason["filterIndex"],
            reason["propertyName"]) == ("FILTER", 0, 0, "firstname")

    ahead = await platform.search.post(
        "/search/v1/explain", headers=headers,
        json={**ask, "version": body["indexedVersion"] + 1, "filterGroups": []})
    assert [r["kind"] for r in ahead.json()["reasons"]] == ["NOT_INDEXED"]

    shown = await platform.search.post("/search/v1/explain", headers=headers, json={
        "objectType": "contact", "recordId": record_id, "query": "an"})
    assert shown.json()["shown"] is True

    bad = await platform.search.post("/search/v1/explain", headers=headers,
                                     json={"objectType": "contacts", "recordId": "x"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
