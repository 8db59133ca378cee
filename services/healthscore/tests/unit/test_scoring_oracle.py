"""The fast Scorer gives exactly what the plain reading of the rules gives (R-HLTH-1,
R-HLTH-2, R-HLTH-6): random profiles (every mode, AND conditions, windows, each decay
period, caps, negatives) on random facts (ties, future-dated events, unknown and
unparseable values), compared field by field with reference_scoring.py."""

import importlib.util
import random
import sys
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm_healthscore.domain.conditions import Condition
from crm_healthscore.domain.facts import CustomerFacts, Event
from crm_healthscore.domain.profile import (
    DECAY_PERIODS_MONTHS,
    EVENT_PROPERTY_TYPES,
    RULE_MODES,
    Bands,
    Decay,
    EventRule,
    Group,
    Profile,
    PropertyRule,
)
from crm_healthscore.domain.scoring import Scorer, event_horizons, may_count


def _load_reference():
    """reference_scoring.py beside this file (tests run with --import-mode=importlib)."""
    spec = importlib.util.spec_from_file_location(
        "healthscore_reference_scoring", Path(__file__).with_name("reference_scoring.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


reference_scoring = _load_reference()
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
CUSTOMER_TYPES = {"employees": "number", "industry": "enumeration", "name": "string",
                  "renewal": "date", "seen": "datetime", "active": "bool"}
SAMPLES = {  # known values, unknown ones and some that do not parse
    "number": ["0", "15", "50", "900000", "1800000", "-3", "2.5", "abc", "inf", "", None],
    "enumeration": ["COMPLETED", "NO_SHOW", "HIGH", "LOW", "positive", "neutral", "", None],
    "string": ["Acme", "acme", "ACME corp", "", None],
    "date": ["2025-01-31", "2025-06-01", "1735689600000", "2025-13-01", "", None],
    "datetime": ["2025-05-31T10:00:00Z", "2025-06-01T12:00:00+00:00", "1748779200000",
                 "yesterday", "", None],
    "bool": ["true", "false", "TRUE", "maybe", "", None],
}
OPERATORS = {
    "number": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_known",
               "is_unknown"],
    "date": ["eq", "gt", "lte", "between", "is_known"],
    "datetime": ["gte", "lt", "between", "is_unknown"],
}


def _parses(value_type: str, raw: str) -> bool:
    try:
        reference_scoring.parse_value(value_type, raw)
    except (ValueError, OverflowError):
        return False
    return True


def random_condition(rng: random.Random, name: str, value_type: str) -> Condition:
    operator = rng.choice(OPERATORS.get(value_type, ["eq", "neq", "in", "not_in",
                                                     "is_known", "is_unknown"]))
    if value_type == "bool":
        operator = rng.choice(["eq", "neq", "is_known"])
    known = [v for v in SAMPLES[value_type] if v and _parses(value_type, v)]
    if operator in ("is_known", "is_unknown"):
        return Condition(name, operator)
    if operator == "between":
        low, high = sorted(rng.sample(known, 2), key=lambda v: reference_scoring.parse_value(
            value_type, v))
        return Condition(name, operator, values=(low, high))
    if operator in ("in", "not_in"):
        return Condition(name, operator, values=tuple(rng.sample(known, rng.randint(1, 2))))
    return Condition(name, operator, rng.choice(known))


def random_profile(rng: random.Random) -> Profile:
    count = rng.randint(1, 4)
    cuts = sorted(rng.sample(range(1, 100), count - 1))
    maxima = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    groups = []
    for index, max_points in enumerate(maxima):
        if rng.random() < 0.3:
            rules = tuple(PropertyRule(random_condition(rng, name, CUSTOMER_TYPES[name]),
                                       rng.choice([-15, -5, 3, 10, 40]))
                          for name in rng.sample(list(CUSTOMER_TYPES), rng.randint(1, 3)))
            groups.append(Group("property", f"g{index}", max_points, rules))
            continue
        rules = []
        for _ in range(rng.randint(1, 3)):
            event_type = rng.choice(list(EVENT_PROPERTY_TYPES))
            own = EVENT_PROPERTY_TYPES[event_type]
            where = None
            if own and rng.random() < 0.5:
                name = rng.choice(list(own))
                where = random_condition(rng, name, own[name])
            rules.append(EventRule(event_type, rng.choice([-20, -4, 1, 3, 7, 25]),
                                   rng.choice(RULE_MODES), rng.randint(0, 3) or 1, where))
        timing = rng.choice(["window", "decay", "none"])
        groups.append(Group(
            "event", f"g{index}", max_points, tuple(rules),
            window_days=rng.choice([1, 7, 30, 365]) if timing == "window" else None,
            decay=Decay(rng.choice([10, 25, 50, 100]), rng.choice(DECAY_PERIODS_MONTHS))
            if timing == "decay" else None))
    low = rng.randint(1, 60)
    return Profile("p", "Random", tuple(groups), Bands(low, rng.randint(low + 1, 100)),
                   property_types=CUSTOMER_TYPES)


def random_facts(rng: random.Random, number: int) -> CustomerFacts:
    events: list[Event] = []
    for index in range(rng.randint(0, 25)):
        event_type = rng.choice(list(EVENT_PROPERTY_TYPES))
        at = NOW - timedelta(seconds=rng.randint(-10 * 86400, 600 * 86400),
                             microseconds=rng.randint(0, 999_999))
        if events and rng.random() < 0.15:
            at = events[-1].occurred_at  # ties must not depend on order
        properties = {name: rng.choice(SAMPLES[value_type])
                      for name, value_type in EVENT_PROPERTY_TYPES[event_type].items()}
        events.append(Event(f"e{index}", event_type, at, properties))
    properties = {name: rng.choice(SAMPLES[value_type])
                  for name, value_type in CUSTOMER_TYPES.items()}
    return CustomerFacts(f"c{number}", properties, tuple(events))


@pytest.mark.parametrize("seed", range(300))
def test_the_scorer_gives_what_the_plain_rules_give(seed):
    # R-HLTH-1, R-HLTH-2, R-HLTH-6: score, band, groups, matched rules and their events,
    # and next_change_at, equal field by field; one Scorer reused across customers
    rng = random.Random(seed)
    profile = random_profile(rng)
    scorer = Scorer(profile)
    for number in range(10):
        facts = random_facts(rng, number)
        now = NOW + timedelta(days=rng.choice([0, 0, 3, 45, 400]))
        expected = asdict(reference_scoring.score(profile, facts, now))
        assert asdict(scorer.score(facts, now)) == expected
        # what a recompute loads: only the events that may still count from `now` on
        horizons = event_horizons([profile], now)
        kept = replace(facts, events=tuple(e for e in facts.events if may_count(e, horizons)))
        assert asdict(scorer.score(kept, now)) == expected


def test_horizons_keep_what_a_window_may_still_count_and_all_of_decayed_types():
    # R-HLTH-2: events a window has left for good, or of types no rule reads, are skipped
    def group(rule_type, **timing):
        return Group("event", f"{rule_type}{timing}", 25, (EventRule(rule_type, 5),), **timing)
    profile = Profile("p", "P", (group("call", window_days=30), group("meeting", window_days=7),
                                 group("meeting", window_days=90),
                                 group("nps", decay=Decay(50, 3))))
    horizons = event_horizons([profile], NOW)
    assert horizons == {"call": NOW - timedelta(days=30), "meeting": NOW - timedelta(days=90),
                        "nps": None}
    edge = NOW - timedelta(days=30)
    assert not may_count(Event("a", "call", edge), horizons)  # exactly 30 days old: out
    assert may_count(Event("b", "call", edge + timedelta(microseconds=1)), horizons)
    assert may_count(Event("c", "nps", NOW - timedelta(days=4000)), horizons)
    assert not may_count(Event("d", "email", NOW), horizons)
    # a second profile reading calls without a window keeps every call
    open_calls = Profile("q", "Q", (group("call"),))
    assert event_horizons([profile, open_calls], NOW)["call"] is None
