"""The feed's pure rules (R-CSW-9): association events kept, query checks,
cursor paging and follow-up bodies."""

from datetime import UTC, datetime

import pytest

from crm_workspace.domain.feed import (
    BadFeedQuery,
    Cursor,
    association_change,
    decode_cursor,
    encode_cursor,
    feed_item,
    feed_query,
    follow_up_body,
    next_cursor,
)

PAIR = {"account_id": 3, "from_object_type": "companies", "from_record_id": 10,
        "to_object_type": "contacts", "to_record_id": 20,
        "types": [{"category": "HUBSPOT_DEFINED", "type_id": 280}],
        "changed_at": "2025-03-01T10:00:00Z"}


def test_added_associates_and_removed_keeps_the_pair_only_while_types_remain():
    # R-CSW-9: which contacts belong to the user's companies comes from association events
    added = association_change("crm.association.added.v1", PAIR)
    assert (added.from_type, added.from_id, added.to_type, added.to_id, added.associated) == (
        "companies", 10, "contacts", 20, True)
    assert added.changed_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    gone = association_change("crm.association.removed.v1", {**PAIR, "remaining_types": []})
    assert gone.associated is False
    kept = association_change("crm.association.removed.v1", {
        **PAIR, "remaining_types": [{"category": "HUBSPOT_DEFINED", "type_id": 280}]})
    assert kept.associated is True
    assert association_change("crm.association.label.created.v1", PAIR) is None


def test_query_defaults_to_every_type_newest_first():
    # R-CSW-9: newest first unless asked otherwise
    query = feed_query()
    assert query.order == "newest" and query.after is None and query.search is None
    assert set(query.types) == {"calls", "emails", "meetings", "notes", "tasks"}


def test_query_filters_types_and_refuses_unknown_ones_orders_and_limits():
    # R-CSW-9: filtered by activity type, ordered
    assert feed_query(types="calls, notes,calls", q="  renewal ").types == ("calls", "notes")
    assert feed_query(q="  renewal ").search == "renewal"
    assert feed_query(order="oldest").order == "oldest"
    for bad, field in ((dict(types="calls,deals"), "types"), (dict(order="random"), "order"),
                       (dict(limit=0), "limit"), (dict(limit=101), "limit"),
                       (dict(after="%%%"), "after"), (dict(after=encode_cursor(
                           Cursor("x", "calls", 1))[:-3]), "after")):
        with pytest.raises(BadFeedQuery) as refused:
            feed_query(**bad)
        assert refused.value.field == field


def test_cursor_round_trips_and_a_full_page_points_at_its_last_item():
    # R-CSW-9: cursor-paged to older activity
    cursor = Cursor("2025-03-01T10:00:00.000Z", "calls", 77)
    assert decode_cursor(encode_cursor(cursor)) == cursor
    items = [feed_item("notes", 5, "2025-03-02T00:00:00.000Z", 20, {"hs_note_body": "hi"}),
             feed_item("calls", 77, "2025-03-01T10:00:00.000Z", 20, {})]
    assert items[0]["title"] == "hi" and items[0]["contactId"] == "20"
    assert decode_cursor(next_cursor(items, limit=2)) == cursor
    assert next_cursor(items, limit=3) is None


def test_follow_up_is_an_engagement_associated_to_the_contact():
    # R-CSW-9: follow-ups create engagements through the records API
    body = follow_up_body("calls", "20", {"hs_call_title": "check-in"},
                          now="2025-03-01T10:00:00.000Z")
    assert body["properties"] == {"hs_timestamp": "2025-03-01T10:00:00.000Z",
                                  "hs_call_title": "check-in"}
    assert body["associations"] == [{"to": {"id": "20"}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}]
    later = follow_up_body("tasks", "20", {"hs_timestamp": "2025-04-01T00:00:00.000Z"},
                           now="2025-03-01T10:00:00.000Z")
    assert later["properties"]["hs_timestamp"] == "2025-04-01T00:00:00.000Z"
    assert later["associations"][0]["types"][0]["associationTypeId"] == 204
    with pytest.raises(BadFeedQuery):
        follow_up_body("deals", "20", {}, now="x")
