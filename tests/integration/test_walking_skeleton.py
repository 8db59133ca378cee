"""One contact end to end: stored with its event in one transaction, published
by the outbox relay, indexed by the search consumer, found by search, all in
one trace; Kafka and PostgreSQL outages lose nothing and half-write nothing."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
CONSISTENCY = "X-CRM-Consistency-Token"


def stack(action: str, part: str) -> None:
    subprocess.run(["bash", str(REPO / "deploy/local/stack.sh"), action, part], check=True,
                   capture_output=True, timeout=180)


def email_filter(email: str) -> dict:
    return {"filterGroups": [{"filters": [
        {"propertyName": "email", "operator": "EQ", "value": email}]}],
        "properties": ["email", "firstname"]}


async def found_by_email(platform, headers, email: str) -> list[dict]:
    answer = await platform.search.post("/crm/v3/objects/contacts/search",
                                        json=email_filter(email), headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


async def test_created_contact_is_found_by_search_in_one_trace(
        platform, spans: InMemorySpanExporter):  # R-BUS-2 R-BUS-5 R-SRCH-2
    _, headers = await platform.new_account()
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    spans.clear()
    created = await platform.records.post("/crm/v3/objects/contacts", headers=headers,
                                          json={"properties": {"email": email,
                                                               "firstname": "Ann"}})
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]

    answer = await platform.search.post(
        "/crm/v3/objects/contacts/search", json=email_filter(email),
        headers={**headers, CONSISTENCY: created.headers[CONSISTENCY]})
    assert answer.status_code == 200
    assert answer.headers["X-CRM-Index-Consistency"] == "applied"
    body = answer.json()
    assert body["total"] == 1
    assert body["results"][0]["id"] == contact_id
    assert body["results"][0]["properties"]["firstname"] == "Ann"

    def trace_of(name: str, kind: str) -> set[int]:
        return {s.context.trace_id for s in spans.get_finished_spans()
                if s.name == name and s.kind.name == kind}

    request_traces = trace_of("POST /crm/v3/objects/{objectType}", "SERVER")
    assert len(request_traces) == 1
    [trace_id] = request_traces
    produced = await eventually(lambda: _async(trace_of("publish crm.records.v1", "PRODUCER")),
                                what="the relay's producer span")
    consumed = await eventually(
        lambda: _async(trace_of("process crm.records.v1", "CONSUMER") & {trace_id}),
        what="the search consumer's span in the request's trace")
    assert trace_id in produced and trace_id in consumed


async def _async(value):
    return value


async def test_read_your_writes_times_out_honestly_for_an_unknown_version(platform):  # R-SRCH-2
    _, headers = await platform.new_account()
    import base64
    import json
    token = base64.urlsafe_b64encode(json.dumps([["contacts", 999999999, 7]]).encode()).decode()
    platform_container = platform.search._transport.app.state.container  # type: ignore[attr-defined]
    platform_container.consistency_wait_seconds = 0.2
    try:
        answer = await platform.search.post("/crm/v3/objects/contacts/search",
                                            json=email_filter("nobody@example.com"),
                                            headers={**headers, CONSISTENCY: token})
    finally:
        platform_container.consistency_wait_seconds = 5.0
    assert answer.status_code == 200
    assert answer.headers["X-CRM-Index-Consistency"] == "timed-out"
    garbage = await platform.search.post("/crm/v3/objects/contacts/search",
                                         json=email_filter("x@example.com"),
                                         headers={**headers, CONSISTENCY: "not-a-token"})
    assert garbage.status_code == 400
    assert "Consistency-Token" in garbage.json()["message"]


async def test_writes_during_a_kafka_outage_are_published_when_it_returns(platform):  # R-BUS-2
    _, headers = await platform.new_account()
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    stack("down", "kafka")
    try:
        created = await platform.records.post("/crm/v3/objects/contacts", headers=headers,
                                              json={"properties": {"email": email}})
        assert created.status_code == 201, created.text
        conn = await asyncpg.connect(platform.records_db)
        try:
            waiting = await conn.fetchval("SELECT count(*) FROM outbox")
        finally:
            await conn.close()
        assert waiting >= 1, "the event must wait in the outbox while Kafka is down"
    finally:
        stack("up", "kafka")

    async def indexed() -> list[dict]:
        return await found_by_email(platform, headers, email)

    [hit] = await eventually(indexed, timeout=90, interval=0.5,
                             what="the write made during the outage to be indexed")
    assert hit["id"] == created.json()["id"]


async def test_writes_during_a_postgres_outage_answer_503_and_store_nothing(platform):  # R-BUS-2
    _, headers = await platform.new_account()
    email = f"pgdown-{uuid.uuid4().hex[:8]}@example.com"
    stack("down", "postgres")
    try:
        refused = await platform.records.post("/crm/v3/objects/contacts", headers=headers,
                                              json={"properties": {"email": email}})
    finally:
        stack("up", "postgres")
    # Authentication reads the directory, so the refusal may come from either step;
    # both must be a clean 503, never a 500 or a half-stored record.
    assert refused.status_code == 503, refused.text
    assert refused.headers.get("Retry-After")

    async def healthy_again() -> bool:
        answer = await platform.records.get("/crm/v3/objects/contacts?limit=1", headers=headers)
        return answer.status_code == 200

    await eventually(healthy_again, timeout=60, interval=0.5, what="records to serve again")
    conn = await asyncpg.connect(platform.records_db)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM records WHERE properties->>'email' = $1", email)
        queued = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8') LIKE $1",
            f"%{email}%")
    finally:
        await conn.close()
    assert (stored, queued) == (0, 0)
