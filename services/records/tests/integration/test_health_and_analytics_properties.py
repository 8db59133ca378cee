"""Health scores from the real bus onto the customer record, and page-view
roll-ups as contact properties, on the real store (R-HLTH-2, R-CSW-3, R-MKT-2)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores.v1 import HealthScoreChanged, customer_key
from crm_platform.testing import eventually

pytestmark = pytest.mark.integration


async def _publish(events: list[CloudEvent], key: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=os.environ.get(
        "RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topics.HEALTHSCORES.name, event.value(),
                                         key=key.encode(), headers=event.headers())
    finally:
        await producer.stop()


def _changed(account_id: int, company_id: int, score: int, band: str,
             at: datetime) -> CloudEvent:
    return CloudEvent.of(HealthScoreChanged(
        account_id=account_id, profile_id="p1", profile_name="Default",
        customer_object_type="companies", customer_id=company_id, old_score=None,
        new_score=score, old_band=None, new_band=band, cause="event", changed_at=at),
        source="/healthscores", subject=f"companies/{company_id}", account_id=account_id)


async def test_score_changes_land_on_the_company_newest_first(records):  # R-HLTH-2, R-CSW-3
    account_id, headers = await records.new_account("health")
    company = (await records.client.post("/crm/v3/objects/companies", headers=headers, json={
        "properties": {"name": "Acme"}})).json()["id"]
    now = datetime.now(UTC)
    newer = _changed(account_id, int(company), 81, "healthy", now)
    older = _changed(account_id, int(company), 12, "at_risk", now - timedelta(minutes=5))
    # The newer one first, then a late older one and a redelivery of the newer one.
    await _publish([newer, older, newer], customer_key(account_id, "companies", int(company)))

    async def scored():
        answer = await records.client.get(
            f"/crm/v3/objects/companies/{company}?propertiesWithHistory=health_score",
            headers=headers)
        return answer if answer.json()["properties"].get("health_score") else None

    answer = await eventually(scored, timeout=30, what="health_score on the company")
    # A marker event after the late one: once it is applied, the late one was handled too.
    marker = _changed(account_id, int(company), 55, "neutral", now + timedelta(minutes=1))
    await _publish([older, marker], customer_key(account_id, "companies", int(company)))

    async def marked():
        again = await records.client.get(
            f"/crm/v3/objects/companies/{company}?propertiesWithHistory=health_score",
            headers=headers)
        return again if again.json()["properties"].get("health_score") == "55" else None

    again = (await eventually(marked, timeout=30, what="the marker score")).json()
    assert answer.json()["properties"]["health_status"] == "healthy"
    assert again["properties"]["health_status"] == "neutral"
    history = again["propertiesWithHistory"]["health_score"]
    assert [h["value"] for h in history] == ["55", "81"]  # the older 12 never landed
    assert {h["sourceType"] for h in history} == {"AUTOMATION"}
    refused = await records.client.patch(f"/crm/v3/objects/companies/{company}",
                                         headers=headers,
                                         json={"properties": {"health_score": "99"}})
    assert refused.status_code == 400  # read-only for clients


async def test_page_view_rollups_are_contact_properties_from_analytics(records):  # R-MKT-2
    portal, headers = await records.new_account("analytics")
    hutk = uuid.uuid4().hex
    address = f"a-{uuid.uuid4().hex[:8]}@x.com"
    for page in ("https://x.com/a", "https://x.com/b"):
        await records.client.post(f"/tracking/v1/{portal}/pageviews",
                                  json={"hutk": hutk, "url": page})
    identified = await records.client.post(f"/tracking/v1/{portal}/identify",
                                           json={"email": address, "hutk": hutk})
    contact = identified.json()["contactId"]
    await records.client.post(f"/tracking/v1/{portal}/pageviews",
                              json={"hutk": hutk, "url": "https://x.com/c"})
    read = await records.client.get(
        f"/crm/v3/objects/contacts/{contact}?propertiesWithHistory=hs_analytics_num_page_views",
        headers=headers)
    properties = read.json()["properties"]
    assert properties["hs_analytics_num_page_views"] == "3"
    assert properties["hs_analytics_first_url"] == "https://x.com/a"
    assert properties["hs_analytics_last_url"] == "https://x.com/c"
    assert properties["hs_analytics_first_timestamp"] <= properties[
        "hs_analytics_last_timestamp"]
    history = read.json()["propertiesWithHistory"]["hs_analytics_num_page_views"]
    assert [(h["value"], h["sourceType"]) for h in history] == [("3", "ANALYTICS"),
                                                                ("2", "ANALYTICS")]
