"""Profile validation: every bad input names what is wrong (R-HLTH-1)."""

import pytest

from crm_healthscore.domain.conditions import Condition
from crm_healthscore.domain.profile import (
    Bands,
    Decay,
    EventRule,
    Group,
    Profile,
    ProfileInvalid,
    PropertyRule,
    applies_to,
    prepare_profile,
    validate_profile,
)
from crm_healthscore.domain.templates import TEMPLATES, starter_profile

TYPES = {
    "industry": "enumeration",
    "employees": "number",
    "renewal_date": "date",
    "last_login": "datetime",
    "is_partner": "bool",
    "domain": "string",
}


def property_group(*rules, name="Firmographics", max_points=100, **extra):
    return Group(kind="property", name=name, max_points=max_points, rules=rules, **extra)


def profile(*groups, **extra):
    return Profile(id="p1", name="Health", groups=groups, **extra)


def errors_of(candidate, types=TYPES):
    with pytest.raises(ProfileInvalid) as caught:
        validate_profile(candidate, types)
    return caught.value.errors


def test_a_valid_profile_passes():
    # R-HLTH-1
    validate_profile(profile(property_group(
        PropertyRule(Condition("employees", "gte", "50"), 60),
        PropertyRule(Condition("industry", "in", values=("SAAS", "FINTECH")), 40),
    )), TYPES)


def test_maxima_not_adding_up_to_100_name_the_groups_and_their_sum():
    # R-HLTH-1
    rule = PropertyRule(Condition("employees", "gte", "50"), 10)
    errors = errors_of(profile(property_group(rule, name="Size", max_points=30),
                               property_group(rule, name="Fit", max_points=45)))
    assert errors == [("groups", "group maxima must add up to 100: "
                                 "'Size' (30), 'Fit' (45) add up to 75")]


def test_a_group_with_both_a_window_and_a_decay_is_refused():
    # R-HLTH-1
    group = Group(kind="event", name="Calls", max_points=100, window_days=30,
                  decay=Decay(25, 3), rules=(EventRule("call", 5),))
    errors = errors_of(profile(group))
    assert errors == [("groups[0]", "group 'Calls' has both a time window and a decay: "
                                    "choose one")]


def test_an_empty_group_is_refused():
    # R-HLTH-1
    errors = errors_of(profile(property_group()))
    assert errors == [("groups[0].rules", "group 'Firmographics' is empty: add at least one rule")]


def test_a_profile_without_groups_is_refused():
    # R-HLTH-1
    assert errors_of(profile()) == [("groups", "a profile needs at least one group")]


def test_an_unknown_property_is_named():
    # R-HLTH-1
    errors = errors_of(profile(property_group(PropertyRule(Condition("arr", "gt", "5"), 10))))
    assert errors == [("groups[0].rules[0].when.property", "unknown property 'arr'")]


@pytest.mark.parametrize(("condition", "expected"), [
    (Condition("employees", "gt", "many"), "'many' is not a valid number for 'employees'"),
    (Condition("renewal_date", "lt", "next spring"),
     "'next spring' is not a valid date for 'renewal_date'"),
    (Condition("last_login", "gte", "yesterday"),
     "'yesterday' is not a valid datetime for 'last_login'"),
    (Condition("is_partner", "eq", "yes"), "'yes' is not a valid bool for 'is_partner'"),
    (Condition("employees", "in", values=("10", "ten")),
     "'ten' is not a valid number for 'employees'"),
])
def test_a_value_that_does_not_fit_the_property_type_is_named(condition, expected):
    # R-HLTH-1
    errors = errors_of(profile(property_group(PropertyRule(condition, 10))))
    assert errors == [("groups[0].rules[0].when.value", expected)]


def test_ordering_operators_need_an_ordered_type():
    # R-HLTH-1
    errors = errors_of(profile(property_group(PropertyRule(Condition("domain", "gt", "a"), 10))))
    assert errors == [("groups[0].rules[0].when.operator",
                       "'gt' needs a number, date or datetime property; 'domain' is string")]


@pytest.mark.parametrize(("condition", "field"), [
    (Condition("employees", "between", values=("10",)), "values"),
    (Condition("employees", "between", values=("100", "10")), "values"),
    (Condition("employees", "in"), "values"),
    (Condition("employees", "eq"), "value"),
    (Condition("employees", "is_known", "3"), "value"),
    (Condition("employees", "like", "3"), "operator"),
])
def test_malformed_conditions_are_named(condition, field):
    # R-HLTH-1
    errors = errors_of(profile(property_group(PropertyRule(condition, 10))))
    assert [path for path, _ in errors] == [f"groups[0].rules[0].when.{field}"]


@pytest.mark.parametrize("bands", [Bands(70, 40), Bands(50, 50), Bands(0, 50), Bands(40, 101)])
def test_cut_offs_out_of_order_are_refused(bands):
    # R-HLTH-1
    rule = PropertyRule(Condition("employees", "gte", "50"), 10)
    errors = errors_of(profile(property_group(rule), bands=bands))
    assert [path for path, _ in errors] == ["bands"]
    assert f"at_risk_below={bands.at_risk_below}" in errors[0][1]


def test_a_profile_applies_to_at_most_five_segments():
    # R-HLTH-1
    rule = PropertyRule(Condition("employees", "gte", "50"), 10)
    errors = errors_of(profile(property_group(rule), segments=tuple("abcdef")))
    assert errors == [("segments", "a profile applies to at most 5 segments, got 6")]


def test_a_live_profile_needs_a_segment():
    # R-HLTH-1
    rule = PropertyRule(Condition("employees", "gte", "50"), 10)
    errors = errors_of(profile(property_group(rule), status="live"))
    assert errors == [("segments", "a live profile needs at least one segment")]


def test_only_customers_of_a_live_profile_segment_are_scored():
    # R-HLTH-1
    rule = PropertyRule(Condition("employees", "gte", "50"), 10)
    live = profile(property_group(rule), segments=("list-1", "list-2"), status="live")
    assert applies_to(live, frozenset({"list-2", "list-9"}))
    assert not applies_to(live, frozenset({"list-9"}))
    assert not applies_to(profile(property_group(rule), segments=("list-1",)), {"list-1"})


@pytest.mark.parametrize(("group", "path", "message"), [
    (Group(kind="event", name="E", max_points=100, decay=Decay(25, 2),
           rules=(EventRule("call", 5),)),
     "groups[0].decay.every_months", "decay every_months must be one of 1, 3, 6, 12, got 2"),
    (Group(kind="event", name="E", max_points=100, decay=Decay(0, 3),
           rules=(EventRule("call", 5),)),
     "groups[0].decay.percent", "decay percent must be above 0 and at most 100"),
    (Group(kind="event", name="E", max_points=100, window_days=0, rules=(EventRule("call", 5),)),
     "groups[0].window_days", "window_days must be at least 1"),
    (Group(kind="event", name="E", max_points=100, rules=(EventRule("webinar", 5),)),
     "groups[0].rules[0].event_type",
     "unknown event type 'webinar'; use one of meeting, call, email, note, ticket_open, "
     "nps, csm_sentiment"),
    (Group(kind="event", name="E", max_points=100,
           rules=(EventRule("call", 5, where=Condition("mood", "eq", "x")),)),
     "groups[0].rules[0].where.property", "unknown property 'mood' of call events"),
    (Group(kind="event", name="E", max_points=100,
           rules=(EventRule("call", 5, where=Condition("duration_ms", "gte", "long")),)),
     "groups[0].rules[0].where.value", "'long' is not a valid number for 'duration_ms'"),
    (Group(kind="event", name="E", max_points=100, rules=(EventRule("call", 0),)),
     "groups[0].rules[0].points", "points must be a whole number other than 0"),
    (Group(kind="event", name="E", max_points=100,
           rules=(EventRule("call", 5, mode="at_least", count=0),)),
     "groups[0].rules[0].count", "at_least needs a count of 1 or more"),
    (Group(kind="event", name="E", max_points=100,
           rules=(PropertyRule(Condition("employees", "gt", "1"), 5),)),
     "groups[0].rules[0]", "an event group holds only event rules"),
    (Group(kind="property", name="P", max_points=100, window_days=30,
           rules=(PropertyRule(Condition("employees", "gt", "1"), 5),)),
     "groups[0]", "a property group has no time window or decay"),
])
def test_bad_groups_and_rules_are_named(group, path, message):
    # R-HLTH-1
    assert errors_of(profile(group)) == [(path, message)]


def test_every_problem_is_reported_at_once():
    # R-HLTH-1: one answer names them all, so a client fixes everything in one go
    bad = profile(
        property_group(PropertyRule(Condition("arr", "gt", "5"), 10), name="A", max_points=50),
        Group(kind="event", name="B", max_points=10, window_days=7, decay=Decay(10, 1), rules=()),
        bands=Bands(80, 20),
    )
    paths = [path for path, _ in errors_of(bad)]
    assert paths == ["bands", "groups", "groups[0].rules[0].when.property",
                     "groups[1].rules", "groups[1]"]


def test_templates_are_valid_and_the_starter_profile_adds_up_to_100():
    # R-HLTH-1: 1:1 Engagement, 1:1 Call Engagement, Supported Tickets, CSM Sentiment, NPS
    starter = starter_profile("p1")
    assert [g.name for g in starter.groups] == [
        "1:1 Engagement", "1:1 Call Engagement", "Supported Tickets", "CSM Sentiment", "NPS"]
    assert sum(g.max_points for g in starter.groups) == 100
    validate_profile(starter, {})
    for make in TEMPLATES.values():
        group = make(max_points=100)
        validate_profile(profile(group), {})


def test_prepare_profile_keeps_the_types_of_the_properties_it_reads():
    # R-HLTH-1
    prepared = prepare_profile(profile(property_group(
        PropertyRule(Condition("employees", "gte", "50"), 60),
        PropertyRule(Condition("industry", "eq", "SAAS"), 40),
    )), TYPES)
    assert dict(prepared.property_types) == {"employees": "number", "industry": "enumeration"}
