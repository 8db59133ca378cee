"""List rules: filter groups in the search API's shape, the evaluator, active
membership changes, and who an email to a list reaches."""

from __future__ import annotations

import pytest

from crm_records.domain import lists as rules


def _groups(*groups: list[dict]) -> rules.FilterGroups:
    return rules.parse_filter_groups([{"filters": g} for g in groups])


def _f(name: str, op: str, **kw: object) -> dict:
    return {"propertyName": name, "operator": op, **kw}


@pytest.mark.parametrize(("spec", "properties", "expected"), [
    (_f("city", "EQ", value="berlin"), {"city": "Berlin"}, True),  # text: any case
    (_f("city", "NEQ", value="Berlin"), {}, True),  # a negation matches the absent
    (_f("city", "IN", values=["Paris", "Rome"]), {"city": "rome"}, True),
    (_f("city", "NOT_IN", values=["Paris"]), {"city": "Rome"}, True),
    (_f("tags", "EQ", value="b"), {"tags": "a;b"}, True),  # multi-select: any option
    (_f("n", "GT", value="9"), {"n": "10"}, True),  # numbers as numbers, not text
    (_f("n", "LTE", value="9"), {"n": "10"}, False),
    (_f("n", "BETWEEN", value="5", highValue="10"), {"n": "10"}, True),
    (_f("n", "BETWEEN", value="5", highValue="10"), {"n": "11"}, False),
    (_f("closedate", "GTE", value="1704067200000"), {"closedate": "2024-01-01"}, True),
    (_f("createdate", "LT", value="2024-01-01T00:00:00Z"),
     {"createdate": "2023-12-31T23:59:59.000Z"}, True),
    (_f("email", "HAS_PROPERTY"), {"email": "a@b.com"}, True),
    (_f("email", "HAS_PROPERTY"), {"email": ""}, False),
    (_f("email", "NOT_HAS_PROPERTY"), {}, True),
    (_f("jobtitle", "CONTAINS_TOKEN", value="eng*"), {"jobtitle": "Senior Engineer"}, True),
    (_f("jobtitle", "NOT_CONTAINS_TOKEN", value="sales"), {"jobtitle": "Engineer"}, True),
    (_f("n", "GT", value="1"), {}, False),  # a comparison never matches the absent
])
def test_each_operator(spec, properties, expected):
    # R-MKT-3 (with R-SRCH-1's operators and typing)
    assert rules.record_matches(_groups([spec]), properties) is expected


def test_or_of_groups_and_within_a_group():
    # R-MKT-3
    groups = _groups([_f("city", "EQ", value="Rome"), _f("n", "GT", value="5")],
                     [_f("vip", "EQ", value="true")])
    assert rules.record_matches(groups, {"city": "Rome", "n": "6"})
    assert not rules.record_matches(groups, {"city": "Rome", "n": "4"})
    assert rules.record_matches(groups, {"vip": "true"})


def test_bad_filter_groups_name_every_problem():
    with pytest.raises(rules.InvalidListDefinition) as refused:
        rules.parse_filter_groups([{"filters": [_f("a", "LIKE", value="x"),
                                                _f("b", "IN"),
                                                _f("c", "BETWEEN", value="1")]},
                                   {"filters": []}])
    assert len(refused.value.problems) == 4
    with pytest.raises(rules.InvalidListDefinition):
        rules.parse_filter_groups([])


def test_filter_groups_round_trip_in_the_search_shape():
    raw = [{"filters": [_f("n", "BETWEEN", value="1", highValue="2"),
                        _f("c", "IN", values=["x"]), _f("e", "HAS_PROPERTY")]}]
    assert rules.filter_groups_json(rules.parse_filter_groups(raw)) == raw


def test_a_contact_joins_and_leaves_as_its_properties_change():
    # R-MKT-3
    lists = {1: _groups([_f("city", "EQ", value="Rome")]),
             2: _groups([_f("email", "HAS_PROPERTY")])}
    joined = rules.active_membership_changes(lists, set(), 7, {"city": "Rome"}, False)
    assert joined == [rules.MembershipChange(1, 7, True)]
    moved = rules.active_membership_changes(lists, {1}, 7, {"city": "Oslo", "email": "a@b.c"},
                                            False)
    assert moved == [rules.MembershipChange(1, 7, False), rules.MembershipChange(2, 7, True)]
    assert rules.active_membership_changes(lists, {1}, 7, {"city": "Rome"}, False) == []


def test_an_archived_contact_leaves_every_active_list():
    # R-MKT-3
    lists = {1: _groups([_f("city", "EQ", value="Rome")])}
    assert rules.active_membership_changes(lists, {1}, 7, {"city": "Rome"}, True) == [
        rules.MembershipChange(1, 7, False)]


def test_who_an_email_to_a_list_skips_and_why():
    # R-MKT-3
    suppressed = {"gone@x.com": rules.HARD_BOUNCED, "bye@x.com": rules.UNSUBSCRIBED}
    assert rules.skip_reason({"email": "a@x.com"}, suppressed) is None
    assert rules.skip_reason({"firstname": "No address"}, suppressed) == rules.NO_EMAIL_ADDRESS
    assert rules.skip_reason({"email": "gone@x.com"}, suppressed) == rules.HARD_BOUNCED
    assert rules.skip_reason({"email": "bye@x.com"}, suppressed) == rules.UNSUBSCRIBED
    assert rules.skip_reason({"email": "a@x.com", "hs_email_optout": "true"}, {}) == (
        rules.UNSUBSCRIBED)
    assert rules.skip_reason({"email": "a@x.com", "hs_email_hard_bounce_reason_enum": "X"},
                             {}) == rules.HARD_BOUNCED
    assert rules.skip_reason(None, {}) == rules.ARCHIVED


def test_one_idempotency_key_per_send_and_contact():
    # R-MKT-3 R-NOTE-1: a retried send mails nobody twice
    assert rules.recipient_key("s1", 7) == rules.recipient_key("s1", 7)
    assert rules.recipient_key("s1", 7) != rules.recipient_key("s2", 7)
    assert rules.recipient_key("s1", 7) != rules.recipient_key("s1", 8)
