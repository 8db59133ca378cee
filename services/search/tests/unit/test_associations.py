"""Association events become the pairs association filters use (R-SRCH-1, R-SRCH-2)."""

from datetime import UTC, datetime, timedelta

from crm_search.domain.associations import association_from_event, latest_per_pair

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CONTACT_TO_COMPANY = {"category": "HUBSPOT_DEFINED", "type_id": 279}


def change(remaining=None, at=T0, to_id=9):
    data = {"account_id": 7, "from_object_type": "contacts", "from_record_id": 1,
            "to_object_type": "companies", "to_record_id": to_id,
            "types": [CONTACT_TO_COMPANY], "changed_at": at.isoformat()}
    if remaining is not None:
        data["remaining_types"] = remaining
    return data


def test_added_and_removed_set_whether_the_pair_is_associated():
    # R-SRCH-1
    added = association_from_event("crm.association.added.v1", change())
    assert added.key == (7, "contacts", 1, "companies", 9) and added.associated
    removed = association_from_event("crm.association.removed.v1", change(remaining=[]))
    assert removed.associated is False


def test_removing_one_label_keeps_the_records_associated():
    # R-SRCH-1: moving the primary company removes only the primary type
    partly = association_from_event("crm.association.removed.v1",
                                    change(remaining=[CONTACT_TO_COMPANY]))
    assert partly.associated is True


def test_the_last_decided_change_wins_whatever_the_delivery_order():
    # R-SRCH-2: out-of-order deliveries leave the index exact
    added = association_from_event("crm.association.added.v1", change())
    removed = association_from_event("crm.association.removed.v1",
                                     change(remaining=[], at=T0 + timedelta(seconds=1)))
    other = association_from_event("crm.association.added.v1", change(to_id=10))
    for order in ([added, removed, other], [removed, added, other]):
        state = {s.to_id: s.associated for s in latest_per_pair(order)}
        assert state == {9: False, 10: True}


def test_other_events_are_ignored():
    assert association_from_event("crm.record.created.v1", change()) is None
