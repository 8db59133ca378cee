"""R-BUS-1: contracts are versioned, documented and checked for compatibility."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm_contracts import asyncapi, topics
from crm_contracts.envelope import CloudEvent, NotACloudEvent, from_kafka, record_key
from crm_contracts.records.v1 import RecordCreated
from crm_contracts.schemas import SNAPSHOT_DIR, breaking_changes, current_schemas

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_every_contract_has_a_snapshot_and_none_breaks_it():  # R-BUS-1
    for event_type, schema in current_schemas().items():
        path = SNAPSHOT_DIR / f"{event_type}.json"
        assert path.exists(), (
            f"no snapshot for {event_type}: run python -m crm_contracts.schemas --write")
        old = json.loads(path.read_text())
        assert breaking_changes(old, schema) == [], (
            f"{event_type} changed incompatibly; publish a .v2 type beside v1 instead")


def test_compatibility_rule_allows_optional_fields_and_refuses_the_rest():  # R-BUS-1
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    added_optional = {"properties": {**old["properties"], "c": {"type": "string"}},
                      "required": ["a"]}
    assert breaking_changes(old, added_optional) == []
    removed = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, removed) == ["b: removed"]
    retyped = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, retyped) == ["b: type integer -> string"]
    now_required = {"properties": old["properties"], "required": ["a", "b"]}
    assert breaking_changes(old, now_required) == ["b: newly required"]


def test_committed_asyncapi_document_is_the_generated_one():  # R-BUS-1
    committed = json.loads((Path(__file__).parents[1] / "asyncapi.json").read_text())
    assert committed == json.loads(json.dumps(asyncapi.document())), (
        "regenerate: uv run python -m crm_contracts.asyncapi > libs/contracts/asyncapi.json")


def test_cloudevent_round_trips_through_kafka_binary_mode():  # R-BUS-5
    data = RecordCreated(account_id=7, object_type="contacts", record_id=42, version=1,
                         properties={"email": "a@example.com"}, created_at=NOW,
                         updated_at=NOW, source="API")
    event = CloudEvent.of(data, source="/crm/records", subject="contacts/42", account_id=7,
                          trace_headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
    back = from_kafka(event.headers(), event.value())
    assert back.id == event.id and back.type == "crm.record.created.v1"
    assert back.account_id == 7 and back.data["properties"] == {"email": "a@example.com"}
    assert back.trace_headers["traceparent"].startswith("00-aaaa")
    assert RecordCreated.model_validate(back.data) == data


def test_message_without_cloudevent_headers_is_refused():  # R-BUS-3
    with pytest.raises(NotACloudEvent, match="ce_id"):
        from_kafka([("ce_type", b"x")], b"{}")
    with pytest.raises(NotACloudEvent):
        from_kafka([("ce_id", b"1"), ("ce_type", b"t"), ("ce_source", b"s"),
                    ("ce_accountid", b"1")], b"not json")


def test_key_keeps_one_records_events_together():  # R-BUS-4
    assert record_key(7, "contacts", 42) == "7:contacts:42"


def test_every_topic_has_a_dead_letter_topic():  # R-BUS-3
    names = {t.name for t in topics.ALL_TOPICS}
    for spec in topics.CORE_TOPICS:
        assert f"{spec.name}.dlq" in names
