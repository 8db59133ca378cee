"""Property definitions become the types typed comparison uses (R-SRCH-1)."""

from datetime import UTC, datetime, timedelta

from crm_search.domain.property_types import latest_per_property, property_type_from_event

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def definition(name="amount", type_="number", archived=False):
    return {"account_id": 7, "object_type": "deals", "name": name, "label": name,
            "type": type_, "field_type": "number", "group_name": "g", "archived": archived}


def test_each_property_event_gives_the_whole_type_row():
    # R-SRCH-1
    row = property_type_from_event("crm.property.changed.v1", definition(), T0)
    assert (row.key, row.type, row.archived) == ((7, "deals", "amount"), "number", False)
    archived = property_type_from_event("crm.property.archived.v1",
                                        definition(archived=True), T0)
    assert archived.archived is True and archived.type == "number"


def test_other_events_give_nothing():
    assert property_type_from_event("crm.record.created.v1", definition(), T0) is None


def test_the_latest_definition_of_a_property_wins_whatever_the_arrival_order():
    # R-SRCH-1: a retyped property compares by its newest type
    old = property_type_from_event("crm.property.defined.v1", definition(type_="string"), T0)
    new = property_type_from_event("crm.property.changed.v1", definition(),
                                   T0 + timedelta(seconds=1))
    other = property_type_from_event("crm.property.defined.v1", definition("closedate", "date"),
                                     T0)
    for order in ([old, new, other], [new, old, other]):
        latest = {r.name: r.type for r in latest_per_property(order)}
        assert latest == {"amount": "number", "closedate": "date"}
