"""score(): property and event rules, caps, negatives, AND conditions, modes, bands
(R-HLTH-1, R-HLTH-6)."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_healthscore.domain.conditions import Condition
from crm_healthscore.domain.facts import CustomerFacts, Event
from crm_healthscore.domain.profile import Bands, Decay, EventRule, Group, Profile, PropertyRule
from crm_healthscore.domain.scoring import score

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TYPES = {"industry": "enumeration", "employees": "number", "renewal_date": "date",
         "last_login": "datetime", "is_partner": "bool", "domain": "string"}


def profile(*groups, bands=Bands(40, 70)):
    return Profile(id="p1", name="Health", groups=groups, bands=bands, property_types=TYPES)


def event_group(*rules, name="Events", max_points=100, **timing):
    return Group(kind="event", name=name, max_points=max_points, rules=rules, **timing)


def property_group(*rules, name="Props", max_points=100):
    return Group(kind="property", name=name, max_points=max_points, rules=rules)


def event(id, type, days_ago=1.0, **properties):
    return Event(id, type, NOW - timedelta(days=days_ago), properties)


def facts(*events, **properties):
    return CustomerFacts("c1", properties, tuple(events))


@pytest.mark.parametrize(("condition", "value", "matches"), [
    (Condition("employees", "eq", "50"), "50.0", True),
    (Condition("employees", "neq", "50"), "51", True),
    (Condition("employees", "neq", "50"), None, False),
    (Condition("employees", "gt", "50"), "50", False),
    (Condition("employees", "gte", "50"), "50", True),
    (Condition("employees", "lt", "50"), "9", True),
    (Condition("employees", "lte", "50"), "50", True),
    (Condition("employees", "between", values=("10", "50")), "10", True),
    (Condition("employees", "between", values=("10", "50")), "50.5", False),
    (Condition("employees", "gt", "5"), "not a number", False),
    (Condition("industry", "in", values=("SAAS", "FINTECH")), "FINTECH", True),
    (Condition("industry", "not_in", values=("SAAS", "FINTECH")), "RETAIL", True),
    (Condition("industry", "not_in", values=("SAAS",)), "", False),
    (Condition("industry", "eq", "SAAS"), "saas", False),
    (Condition("domain", "eq", "Acme.COM"), "acme.com", True),
    (Condition("is_partner", "eq", "true"), "TRUE", True),
    (Condition("renewal_date", "lt", "2025-07-01"), "2025-06-30", True),
    (Condition("renewal_date", "lt", "2025-07-01"), "1751328000000", False),  # 2025-07-01 in ms
    (Condition("last_login", "gte", "2025-05-01T00:00:00Z"), "2025-05-01T02:00:00+02:00", True),
    (Condition("last_login", "gte", "2025-05-01T00:00:00Z"), "2025-04-30T23:59:59Z", False),
    (Condition("domain", "is_known"), "acme.com", True),
    (Condition("domain", "is_known"), "", False),
    (Condition("domain", "is_unknown"), None, True),
])
def test_property_operators(condition, value, matches):
    # R-HLTH-1: equals, in, between, is known, ... on the customer's own properties
    result = score(profile(property_group(PropertyRule(condition, 30))),
                   facts(**{condition.property: value}), NOW)
    assert result.score == (30 if matches else 0)
    assert [m.description for m in result.groups[0].matched] == (
        [f"{condition.describe()}: +30"] if matches else [])


def test_a_group_over_its_maximum_is_clipped():
    # R-HLTH-1, R-HLTH-6: raw points kept, capped points clipped to the group's maximum
    result = score(profile(
        event_group(EventRule("meeting", 10), name="Meetings", max_points=25),
        property_group(PropertyRule(Condition("employees", "gte", "1"), 75), max_points=75),
    ), facts(*(event(f"m{i}", "meeting") for i in range(4)), employees="3"), NOW)
    meetings = result.groups[0]
    assert (meetings.raw_points, meetings.capped_points, meetings.clipped_points) == (40, 25, 15)
    assert meetings.matched[0].count == 4
    assert result.score == 100


def test_negative_points_subtract_and_a_group_never_goes_below_zero():
    # R-HLTH-1: a rule subtracts points; the group clips at 0
    group = event_group(
        EventRule("meeting", 10),
        EventRule("ticket_open", -15),
        name="Mixed", max_points=50,
    )
    other = property_group(PropertyRule(Condition("employees", "gte", "1"), 50), max_points=50)
    one_ticket = score(profile(group, other), facts(
        event("m1", "meeting"), event("m2", "meeting"), event("t1", "ticket_open"),
        employees="5"), NOW)
    assert (one_ticket.groups[0].raw_points, one_ticket.score) == (5, 55)
    two_tickets = score(profile(group, other), facts(
        event("m1", "meeting"), event("t1", "ticket_open"), event("t2", "ticket_open"),
        employees="5"), NOW)
    assert (two_tickets.groups[0].raw_points, two_tickets.groups[0].capped_points) == (-20, 0)
    assert two_tickets.score == 50  # the other group is not dragged down


def test_and_condition_on_the_events_own_properties():
    # R-HLTH-1: a call AND duration >= 15 minutes
    rule = EventRule("call", 5, where=Condition("duration_ms", "gte", "900000"))
    result = score(profile(event_group(rule, window_days=30)), facts(
        event("short", "call", duration_ms="899999"),
        event("exact", "call", duration_ms="900000"),
        event("long", "call", duration_ms="3600000"),
        event("unknown", "call"),
        event("meeting", "meeting", duration_ms="3600000"),
    ), NOW)
    assert result.score == 10
    assert result.groups[0].matched[0].event_ids == ("long", "exact")


def test_at_least_n_events():
    # R-HLTH-1: points once for "at least N events"
    rule = EventRule("email", 20, mode="at_least", count=3)
    group = event_group(rule, window_days=30)
    two = score(profile(group), facts(event("e1", "email"), event("e2", "email")), NOW)
    three = score(profile(group), facts(*(event(f"e{i}", "email", i) for i in range(1, 5))), NOW)
    assert two.score == 0 and two.groups[0].matched == ()
    assert three.score == 20 and three.groups[0].matched[0].count == 4


def test_at_most_n_events_matches_with_no_event_at_all():
    # R-HLTH-1: open tickets weigh against health
    rule = EventRule("ticket_open", 30, mode="at_most", count=1)
    group = event_group(rule)
    assert score(profile(group), facts(), NOW).score == 30
    assert score(profile(group), facts(event("t1", "ticket_open", 400)), NOW).score == 30
    assert score(profile(group), facts(event("t1", "ticket_open"),
                                       event("t2", "ticket_open")), NOW).score == 0


def test_latest_reads_only_the_newest_event_of_its_type():
    # R-HLTH-1: NPS and CSM sentiment count the latest answer
    promoter = EventRule("nps", 40, mode="latest", where=Condition("score", "gte", "9"))
    detractor = EventRule("nps", -40, mode="latest", where=Condition("score", "lte", "6"))
    group = event_group(promoter, detractor, window_days=365)
    newer_promoter = score(profile(group), facts(
        event("old", "nps", 100, score="3"), event("new", "nps", 10, score="10")), NOW)
    assert newer_promoter.score == 40
    assert newer_promoter.groups[0].matched[0].event_ids == ("new",)
    newer_detractor = score(profile(group), facts(
        event("old", "nps", 100, score="10"), event("new", "nps", 10, score="2")), NOW)
    assert newer_detractor.groups[0].raw_points == -40
    assert newer_detractor.score == 0


def test_events_of_other_customers_types_and_the_future_do_not_count():
    # R-HLTH-2: an event counts from its own instant on
    group = event_group(EventRule("meeting", 10), window_days=30)
    result = score(profile(group), facts(event("later", "meeting", -2), event("note", "note")), NOW)
    assert result.score == 0
    assert result.next_change_at == NOW + timedelta(days=2)


@pytest.mark.parametrize(("value", "expected"), [(39, "at_risk"), (40, "neutral"),
                                                 (69, "neutral"), (70, "healthy")])
def test_the_band_follows_the_profiles_own_cut_offs(value, expected):
    # R-HLTH-1: each profile sets its own cut-offs
    rule = PropertyRule(Condition("employees", "is_known"), value)
    assert score(profile(property_group(rule)), facts(employees="1"), NOW).band == expected


def test_scores_round_half_up_only_at_the_end():
    # R-HLTH-1: fractional (decayed) points add up before rounding
    group = event_group(EventRule("meeting", 5), decay=Decay(50, 1))
    month = 30
    # 2.5 + 2.5 = 5 exactly; each alone would round to 3 and add up to 6
    result = score(profile(group), facts(event("a", "meeting", month + 1),
                                         event("b", "meeting", month + 2)), NOW)
    assert result.groups[0].raw_points == 5.0
    assert result.score == 5
    half = score(profile(group), facts(event("a", "meeting", month + 1)), NOW)
    assert (half.groups[0].raw_points, half.score) == (2.5, 3)
