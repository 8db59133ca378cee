"""Profiles read from JSON, segments, and engagement/ticket records as scoring events."""

from datetime import UTC, datetime

import pytest

from crm_healthscore.domain.activities import event_from_record
from crm_healthscore.domain.codec import profile_from_json, profile_to_json, validated
from crm_healthscore.domain.profile import ProfileInvalid
from crm_healthscore.domain.segments import segments_of
from crm_healthscore.domain.standard_types import standard_types

TYPES = {**standard_types("companies"), "tier": "enumeration"}
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def body(**overrides):
    data = {
        "name": "Health",
        "bands": {"at_risk_below": 30, "healthy_from": 60},
        "segments": [{"id": "big", "name": "Big", "filter_groups": [
            {"filters": [{"propertyName": "numberofemployees", "operator": "GTE",
                          "value": "50"}]}]}],
        "groups": [
            {"kind": "property", "name": "Tier", "max_points": 40, "rules": [
                {"property": "tier", "operator": "eq", "value": "gold", "points": 40}]},
            {"kind": "event", "name": "Calls", "max_points": 40, "window_days": 30, "rules": [
                {"event_type": "call", "points": 10, "where": {
                    "property": "duration_ms", "operator": "gte", "value": "900000"}}]},
            {"template": "nps", "max_points": 20},
        ],
    }
    data.update(overrides)
    return data


def test_a_valid_body_round_trips_and_keeps_the_types_it_reads():
    # R-HLTH-1
    profile, segments = validated(body(), profile_id="p1", status="live", property_types=TYPES)
    assert [g.name for g in profile.groups] == ["Tier", "Calls", "NPS"]
    assert profile.groups[2].max_points == 20 and profile.groups[2].window_days == 365
    assert dict(profile.property_types) == {"tier": "enumeration",
                                            "numberofemployees": "number"}
    again, segments_again = profile_from_json(profile_to_json(profile, segments),
                                              profile_id="p1", status="live")
    assert again == profile and segments_again == segments


def test_every_problem_is_named_at_once():
    # R-HLTH-1: maxima not adding to 100, window and decay, unknown property, bad value,
    # cut-offs out of order, unknown template, unknown segment property
    bad = body(bands={"at_risk_below": 70, "healthy_from": 60})
    bad["groups"][0]["rules"][0]["property"] = "nope"
    bad["groups"][1]["decay"] = {"percent": 50, "every_months": 3}
    bad["groups"].append({"kind": "property", "name": "Size", "max_points": 5, "rules": [
        {"property": "numberofemployees", "operator": "gt", "value": "many", "points": 5}]})
    bad["segments"][0]["filter_groups"][0]["filters"][0]["propertyName"] = "ghost"
    with pytest.raises(ProfileInvalid) as caught:
        validated(bad, profile_id="p", status="draft", property_types=TYPES)
    paths = dict(caught.value.errors)
    assert "add up to 105" in paths["groups"]
    assert "both a time window and a decay" in paths["groups[1]"]
    assert paths["groups[0].rules[0].when.property"] == "unknown property 'nope'"
    assert "'many' is not a valid number" in paths["groups[3].rules[0].when.value"]
    assert "cut-offs out of order" in paths["bands"]
    assert paths["segments[0].filter_groups[0].filters[0].propertyName"] == \
        "unknown property 'ghost'"
    with pytest.raises(ProfileInvalid) as caught:
        profile_from_json({"groups": [{"template": "vibes"}]}, profile_id="p")
    assert caught.value.errors[0][0] == "groups[0].template"


def test_a_live_profile_needs_a_segment_a_draft_does_not():
    # R-HLTH-1: a profile applies to up to five segments; a live one to at least one
    validated(body(segments=[]), profile_id="p", status="draft", property_types=TYPES)
    with pytest.raises(ProfileInvalid) as caught:
        validated(body(segments=[]), profile_id="p", status="live", property_types=TYPES)
    assert caught.value.errors == [("segments", "a live profile needs at least one segment")]


def test_segments_are_search_filter_sets_on_the_customer_properties():
    # R-HLTH-1: a customer in no segment of a live profile has no score from it
    _, segments = validated(body(segments=[
        {"id": "big", "filter_groups": [{"filters": [
            {"propertyName": "numberofemployees", "operator": "GTE", "value": "50"}]}]},
        {"id": "gold-or-eu", "filter_groups": [
            {"filters": [{"propertyName": "tier", "operator": "EQ", "value": "gold"}]},
            {"filters": [{"propertyName": "country", "operator": "IN",
                          "values": ["France", "Spain"]}]}]},
        {"id": "everyone", "filter_groups": []},
    ]), profile_id="p", status="live", property_types=TYPES)
    types = {"numberofemployees": "number", "tier": "enumeration", "country": "string"}
    assert segments_of({"numberofemployees": "120"}, segments, types) == {"big", "everyone"}
    assert segments_of({"numberofemployees": "9", "country": "france"}, segments, types) == \
        {"gold-or-eu", "everyone"}
    assert segments_of({}, segments, types) == {"everyone"}


def test_calls_and_meetings_become_scoring_events():
    # R-HLTH-2: facts from engagement records
    call = event_from_record("calls", 7, {"hs_timestamp": "2026-02-01T10:00:00Z",
                                          "hs_call_duration": "960000",
                                          "hs_call_status": "COMPLETED"}, CREATED)
    assert (call.id, call.type, call.occurred_at) == (
        "calls:7", "call", datetime(2026, 2, 1, 10, tzinfo=UTC))
    assert call.properties["duration_ms"] == "960000"
    meeting = event_from_record("meetings", 8, {
        "hs_meeting_start_time": "1769940000000", "hs_meeting_end_time": "1769941800000",
        "hs_meeting_outcome": "COMPLETED"}, CREATED)
    assert meeting.type == "meeting" and meeting.properties == {
        "outcome": "COMPLETED", "duration_ms": "1800000"}
    assert meeting.occurred_at == datetime.fromtimestamp(1769940000, UTC)
    undated = event_from_record("notes", 9, {}, CREATED)
    assert undated.occurred_at == CREATED
    assert event_from_record("tasks", 10, {}, CREATED) is None


def test_only_open_tickets_count():
    # R-HLTH-1: open tickets
    opened = event_from_record("tickets", 3, {"hs_pipeline_stage": "1",
                                              "hs_ticket_priority": "HIGH"}, CREATED)
    assert opened.type == "ticket_open" and opened.properties["priority"] == "HIGH"
    assert event_from_record("tickets", 3, {"hs_pipeline_stage": "4"}, CREATED) is None
    assert event_from_record("tickets", 3, {"hs_pipeline_stage": "2",
                                            "closed_date": "2026-01-02T00:00:00Z"},
                             CREATED) is None
