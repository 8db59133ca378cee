"""score() as time passes: window edges, decay steps and next_change_at (R-HLTH-2)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from crm_healthscore.domain.conditions import Condition
from crm_healthscore.domain.facts import CustomerFacts, Event
from crm_healthscore.domain.profile import Decay, EventRule, Group, Profile, PropertyRule
from crm_healthscore.domain.scoring import MONTH, score
from crm_healthscore.domain.templates import starter_profile

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def one_group(*rules, max_points=100, **timing):
    group = Group(kind="event", name="Events", max_points=max_points, rules=rules, **timing)
    return Profile(id="p1", name="Health", groups=(group,))


def facts(*events):
    return CustomerFacts("c1", {}, tuple(events))


def meeting(id, at, **properties):
    return Event(id, "meeting", at, properties)


def test_window_edge_exactly_at_the_edge_is_out_and_just_inside_is_in():
    # R-HLTH-2: counts while now - N days < occurred_at <= now
    profile = one_group(EventRule("meeting", 10), window_days=30)
    edge = NOW - timedelta(days=30)
    assert score(profile, facts(meeting("m", edge)), NOW).score == 0
    assert score(profile, facts(meeting("m", edge + TICK)), NOW).score == 10
    assert score(profile, facts(meeting("m", NOW)), NOW).score == 10


def test_next_change_is_the_instant_an_event_leaves_the_window():
    # R-HLTH-2: the clock recomputes exactly when the oldest counted event leaves
    profile = one_group(EventRule("meeting", 10), window_days=30)
    occurred = NOW - timedelta(days=12, hours=5)
    result = score(profile, facts(meeting("m", occurred)), NOW)
    leaves = occurred + timedelta(days=30)
    assert result.next_change_at == leaves
    assert score(profile, facts(meeting("m", occurred)), leaves - TICK).score == 10
    assert score(profile, facts(meeting("m", occurred)), leaves).score == 0
    assert score(profile, facts(meeting("m", occurred)), leaves).next_change_at is None


def test_next_change_skips_edges_the_cap_hides():
    # R-HLTH-2: three meetings over a cap of 20; the first leaving changes nothing
    profile = Profile(id="p1", name="Health", groups=(
        Group(kind="event", name="Meetings", max_points=20, window_days=30,
              rules=(EventRule("meeting", 10),)),
        Group(kind="property", name="Rest", max_points=80,
              rules=(PropertyRule(Condition("x", "is_unknown"), 1),)),
    ), property_types={"x": "string"})
    days = [25, 10, 5]
    result = score(profile, facts(*(meeting(f"m{d}", NOW - timedelta(days=d)) for d in days)), NOW)
    assert result.score == 21
    assert result.next_change_at == NOW + timedelta(days=20)  # when the 10-day-old one leaves


@pytest.mark.parametrize("every_months", [1, 3, 6, 12])
def test_each_decay_period_cuts_at_exact_30_day_months(every_months):
    # R-HLTH-1, R-HLTH-2: weight (1 - p/100) ** floor(age / (m x 30 days))
    profile = one_group(EventRule("meeting", 40), decay=Decay(25, every_months))
    period = MONTH * every_months
    occurred = NOW - period + timedelta(hours=1)  # one hour short of the first step
    result = score(profile, facts(meeting("m", occurred)), NOW)
    assert result.score == 40
    assert result.next_change_at == occurred + period
    step = result.next_change_at
    assert score(profile, facts(meeting("m", occurred)), step - TICK).score == 40
    at_step = score(profile, facts(meeting("m", occurred)), step)
    assert (at_step.score, at_step.groups[0].raw_points) == (30, 30.0)
    assert at_step.next_change_at == occurred + 2 * period
    second = score(profile, facts(meeting("m", occurred)), occurred + 2 * period)
    assert second.groups[0].raw_points == 22.5 and second.score == 23


def test_decay_ends_when_what_is_left_can_no_longer_move_the_score():
    # R-HLTH-2: 10 points halved monthly: 10, 5, 2.5 (3), 1.25 (1), 0.625 (1), 0.3125 (0)
    profile = one_group(EventRule("meeting", 10), decay=Decay(50, 1))
    occurred = NOW
    seen = []
    at = NOW
    while at is not None:
        result = score(profile, facts(meeting("m", occurred)), at)
        seen.append((round((at - occurred) / MONTH), result.score))
        at = result.next_change_at
    assert seen == [(0, 10), (1, 5), (2, 3), (3, 1), (5, 0)]


def test_a_full_decay_drops_the_event_after_one_period():
    # R-HLTH-2: 100 % every month: at_most sees the ticket leave
    profile = one_group(EventRule("ticket_open", 30, mode="at_most", count=0),
                        decay=Decay(100, 1))
    ticket = Event("t", "ticket_open", NOW - timedelta(days=10))
    result = score(profile, facts(ticket), NOW)
    assert result.score == 0
    assert result.next_change_at == ticket.occurred_at + MONTH
    assert score(profile, facts(ticket), result.next_change_at).score == 30


def test_decay_does_not_change_an_at_most_count_nor_wake_the_clock():
    # R-HLTH-2: a partial decay never removes an event, so nothing changes with time
    profile = one_group(EventRule("ticket_open", 30, mode="at_most", count=0),
                        decay=Decay(50, 1))
    result = score(profile, facts(Event("t", "ticket_open", NOW - timedelta(days=10))), NOW)
    assert (result.score, result.next_change_at) == (0, None)


def test_at_least_weighs_by_its_nth_newest_event():
    # R-HLTH-1: the oldest evidence the rule needs sets its decay
    profile = one_group(EventRule("call", 40, mode="at_least", count=2), decay=Decay(50, 3))
    calls = facts(Event("new", "call", NOW - timedelta(days=1)),
                  Event("mid", "call", NOW - timedelta(days=100)),
                  Event("old", "call", NOW - timedelta(days=200)))
    result = score(profile, calls, NOW)
    assert result.groups[0].raw_points == 20.0  # 'mid' is one 90-day step old
    assert result.next_change_at == NOW - timedelta(days=100) + 2 * MONTH * 3


def test_no_window_no_decay_never_changes_with_time():
    # R-HLTH-2
    profile = one_group(EventRule("ticket_open", -10), max_points=100)
    result = score(profile, facts(Event("t", "ticket_open", NOW - timedelta(days=900))), NOW)
    assert result.next_change_at is None


def test_scoring_is_idempotent_and_ignores_the_order_of_events():
    # R-HLTH-2: repeated and reordered facts leave every score exact
    rng = random.Random(7)
    profile = starter_profile("p1")
    events = random_events(rng, 40)
    first = score(profile, facts(*events), NOW)
    assert score(profile, facts(*events), NOW) == first
    for _ in range(5):
        rng.shuffle(events)
        assert score(profile, facts(*events), NOW) == first


def random_events(rng, count):
    kinds = {
        "meeting": lambda: {"outcome": rng.choice(["COMPLETED", "NO_SHOW"])},
        "call": lambda: {"duration_ms": str(rng.choice([60_000, 900_000, 1_800_000]))},
        "ticket_open": lambda: {"priority": rng.choice(["HIGH", "LOW"])},
        "csm_sentiment": lambda: {"sentiment": rng.choice(["positive", "neutral", "negative"])},
        "nps": lambda: {"score": str(rng.randint(0, 10))},
        "email": lambda: {},
    }
    events = []
    for index in range(count):
        kind = rng.choice(list(kinds))
        at = NOW - timedelta(seconds=rng.randint(-5 * 86400, 400 * 86400))
        # same instants for some events: ties must not depend on order either
        if index % 7 == 0 and events:
            at = events[-1].occurred_at
        events.append(Event(f"{kind}-{index}", kind, at, kinds[kind]()))
    return events


@pytest.mark.parametrize("seed", range(30))
def test_next_change_at_is_exactly_the_first_instant_the_score_moves(seed):
    # R-HLTH-2: the score holds until next_change_at and differs at it
    rng = random.Random(seed)
    percent = rng.choice([10, 25, 50, 100])
    windowed_max = rng.choice([10, 30, 50])
    profile = Profile(id="p1", name="Health", groups=(
        Group(kind="event", name="Windowed", max_points=windowed_max,
              window_days=rng.choice([7, 30, 90]),
              rules=(EventRule("meeting", 7), EventRule("ticket_open", -4),
                     EventRule("call", 9, mode="at_least", count=2))),
        Group(kind="event", name="Decayed", max_points=100 - windowed_max,
              decay=Decay(percent, rng.choice([1, 3, 6, 12])),
              rules=(EventRule("email", 3), EventRule("nps", 15, mode="latest",
                                                      where=Condition("score", "gte", "7")))),
    ))
    customer = facts(*random_events(rng, 25))
    at = NOW
    for _ in range(8):
        result = score(profile, customer, at)
        if result.next_change_at is None:
            far = at + timedelta(days=3650)
            assert score(profile, customer, far).score == result.score
            break
        change = result.next_change_at
        assert change > at
        for probe in sorted(rng.uniform(0, 1) for _ in range(5)):
            between = at + (change - at) * probe
            if between < change:
                assert score(profile, customer, between).score == result.score
        assert score(profile, customer, change - TICK).score == result.score
        assert score(profile, customer, change).score != result.score
        at = change
