"""The scoring maths as first written (one Python object per event and instant, no
compiled profile): the oracle that the fast Scorer of domain/scoring.py is checked
against on random profiles and facts (test_scoring_oracle.py). Keep it plain; it is
not used by the service."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from crm_healthscore.domain.bands import band
from crm_healthscore.domain.conditions import (
    SINGLE_VALUE_OPERATORS,
    Condition,
    is_known,
    parse_value,
)
from crm_healthscore.domain.facts import CustomerFacts, Event
from crm_healthscore.domain.profile import (
    EVENT_PROPERTY_TYPES,
    EventRule,
    Group,
    Profile,
    PropertyRule,
)
from crm_healthscore.domain.scoring import GroupResult, RuleMatch, ScoreResult

MONTH = timedelta(days=30)
MAX_SEARCH_STEPS = 1000


def score(profile: Profile, facts: CustomerFacts, now: datetime) -> ScoreResult:
    """Score one customer with one profile at `now` (timezone-aware). Pure: the same
    profile, facts and instant give the same result, whatever the order of the events."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    plans = _plan(profile, facts)
    states = [[plan.at(now) for plan in group_plans] for group_plans in plans]
    raws = [_sum_points(group_states) for group_states in states]
    value = _rounded(_total(profile.groups, raws))
    groups = tuple(
        GroupResult(
            name=group.name,
            kind=group.kind,
            max_points=group.max_points,
            raw_points=round(raw, 6),
            capped_points=round(_cap(group, raw), 6),
            matched=tuple(
                RuleMatch(index, _describe(rule), state.count, round(state.points, 6),
                          state.event_ids)
                for index, (rule, state) in enumerate(zip(group.rules, group_states, strict=True))
                if state.matched
            ),
        )
        for group, raw, group_states in zip(profile.groups, raws, states, strict=True)
    )
    return ScoreResult(
        profile_id=profile.id,
        customer_id=facts.customer_id,
        score=value,
        band=band(value, profile.bands),
        groups=groups,
        computed_at=now,
        next_change_at=_next_change(profile.groups, plans, states, raws, value),
    )


@dataclass(frozen=True)
class _Timing:
    """How an event group counts time: a window, a decay, or neither (full weight)."""

    window: timedelta | None = None
    keep: float = 1.0  # share of the points kept at each decay step
    period: timedelta | None = None

    @staticmethod
    def of(group: Group) -> _Timing:
        if group.window_days is not None:
            return _Timing(window=timedelta(days=group.window_days))
        if group.decay is not None:
            return _Timing(keep=1 - group.decay.percent / 100,
                           period=MONTH * group.decay.every_months)
        return _Timing()

    def read(self, event: Event, at: datetime) -> tuple[float, datetime | None, datetime | None]:
        """The event at `at`: its weight (0 when it does not count), the next instant it
        starts or stops counting, and the next instant its weight changes."""
        occurred = event.occurred_at
        if occurred > at:
            return 0.0, occurred, occurred
        if self.window is not None:
            leaves = occurred + self.window
            return (1.0, leaves, leaves) if leaves > at else (0.0, None, None)
        if self.period is not None:
            steps = (at - occurred) // self.period
            weight = self.keep ** steps
            if weight == 0:
                return 0.0, None, None
            step = occurred + (steps + 1) * self.period
            # only a full (100 %) cut makes an event stop counting
            return weight, step if self.keep == 0 else None, step
        return 1.0, None, None


@dataclass(frozen=True)
class _RuleState:
    points: float
    matched: bool
    count: int = 0
    event_ids: tuple[str, ...] = ()
    next_change: datetime | None = None
    # An upper bound on how far this rule's points can still move by time alone.
    variation: float = 0.0


class _PropertyPlan:
    def __init__(self, rule: PropertyRule, profile: Profile, facts: CustomerFacts):
        name = rule.when.property
        if name not in profile.property_types:
            raise ValueError(f"profile {profile.id} has no type for '{name}': "
                             "save it through prepare_profile")
        predicate = compile_condition(rule.when, profile.property_types[name])
        matched = predicate(facts.properties.get(name))
        self.state = _RuleState(points=float(rule.points) if matched else 0.0, matched=matched)

    def at(self, at: datetime) -> _RuleState:
        return self.state  # properties do not change with time


class _EventPlan:
    def __init__(self, rule: EventRule, timing: _Timing, of_type: Sequence[Event]):
        self.rule = rule
        self.timing = timing
        self.of_type = of_type  # newest first
        if rule.where is None:
            self.matching = of_type
        else:
            name = rule.where.property
            predicate = compile_condition(rule.where, EVENT_PROPERTY_TYPES[rule.event_type][name])
            self.matching = [e for e in of_type if predicate(e.properties.get(name))]
        self.matching_ids = {e.id for e in self.matching}

    def at(self, at: datetime) -> _RuleState:
        rule, timing = self.rule, self.timing
        relevant = self.of_type if rule.mode == "latest" else self.matching
        reads = [(event, *timing.read(event, at)) for event in relevant]
        counted = [(event, weight, step) for event, weight, _, step in reads if weight > 0]
        changes = [change for _, _, change, _ in reads if change is not None]
        pending = len(changes)  # events still to start or stop counting
        weighted = None  # the counted event whose decay steps move the points
        if rule.mode == "each":
            matched = bool(counted)
            points = rule.points * sum(weight for _, weight, _ in counted)
            changes += [step for _, _, step in counted if step is not None]
        elif rule.mode == "at_least":
            matched = len(counted) >= rule.count
            weighted = counted[rule.count - 1] if matched else None
        elif rule.mode == "at_most":
            matched = len(counted) <= rule.count
            points = float(rule.points) if matched else 0.0
        else:  # latest: the newest counted event of the type must meet `where`
            matched = bool(counted) and (
                rule.where is None or counted[0][0].id in self.matching_ids)
            weighted = counted[0] if matched else None
            counted = counted[:1] if matched else []
        if weighted is not None:
            points = rule.points * weighted[1]
            if weighted[2] is not None:
                changes.append(weighted[2])
        elif rule.mode in ("at_least", "latest"):
            points = 0.0
        return _RuleState(
            points=points,
            matched=matched,
            count=len(counted),
            event_ids=tuple(event.id for event, _, _ in counted),
            next_change=min(changes, default=None),
            variation=_variation(rule, timing, points, pending),
        )


def _variation(rule: EventRule, timing: _Timing, points: float, pending: int) -> float:
    """An upper bound on how far the rule's points can still move by time alone: decayed
    points can only fade towards 0, and each event still to start or stop counting can
    move at most one rule's worth of points."""
    if rule.mode == "at_most":
        return abs(rule.points) if pending else 0.0
    fading = abs(points) if timing.period is not None else 0.0
    return fading + abs(rule.points) * pending


def _plan(profile: Profile, facts: CustomerFacts) -> list[list[_PropertyPlan | _EventPlan]]:
    by_type: dict[str, list[Event]] = {}
    for event in sorted(facts.events, key=lambda e: (e.occurred_at, e.id), reverse=True):
        by_type.setdefault(event.type, []).append(event)
    plans: list[list[_PropertyPlan | _EventPlan]] = []
    for group in profile.groups:
        timing = _Timing.of(group)
        plans.append([
            _PropertyPlan(rule, profile, facts) if isinstance(rule, PropertyRule)
            else _EventPlan(rule, timing, by_type.get(rule.event_type, []))
            for rule in group.rules
        ])
    return plans


def _next_change(groups, plans, states, raws, value: int) -> datetime | None:
    states = [list(group_states) for group_states in states]
    raws = list(raws)
    heap = [(state.next_change, g, r)
            for g, group_states in enumerate(states)
            for r, state in enumerate(group_states) if state.next_change is not None]
    heapq.heapify(heap)
    total = _total(groups, raws)
    for _ in range(MAX_SEARCH_STEPS):
        if not heap:
            return None
        room = sum(state.variation for group_states in states for state in group_states)
        if _rounded(total - room) == value == _rounded(total + room):
            return None  # what time can still move is too little to change the score
        instant = heap[0][0]
        while heap and heap[0][0] == instant:
            _, g, r = heapq.heappop(heap)
            states[g][r] = plans[g][r].at(instant)
            if states[g][r].next_change is not None:
                heapq.heappush(heap, (states[g][r].next_change, g, r))
            raws[g] = _sum_points(states[g])
        total = _total(groups, raws)
        if _rounded(total) != value:
            return instant
    return instant


@lru_cache(maxsize=4096)
def _describe(rule: PropertyRule | EventRule) -> str:
    return rule.describe()


def _sum_points(states: Sequence[_RuleState]) -> float:
    return math.fsum(state.points for state in states)


def _cap(group: Group, raw: float) -> float:
    return min(float(group.max_points), max(0.0, raw))


def _total(groups: Sequence[Group], raws: Sequence[float]) -> float:
    return math.fsum(_cap(group, raw) for group, raw in zip(groups, raws, strict=True))


def _rounded(total: float) -> int:
    # Round half up, after trimming float noise so that 2.4999999999 is read as 2.5.
    return min(100, max(0, math.floor(round(total, 9) + 0.5)))


def compile_condition(condition: Condition, value_type: str) -> Callable[[str | None], bool]:
    """A predicate on a raw stored value; values that do not parse never match.

    Cached because profiles are few and customers many: each condition is read once.
    The condition must already be valid (see condition_errors)."""
    op = condition.operator
    if op == "is_known":
        return is_known
    if op == "is_unknown":
        return lambda raw: not is_known(raw)

    def read(raw: str | None) -> Any:
        if not is_known(raw):
            return None
        try:
            return parse_value(value_type, raw)  # type: ignore[arg-type]
        except (ValueError, OverflowError):
            return None

    def known(test: Callable[[Any], bool]) -> Callable[[str | None], bool]:
        def predicate(raw: str | None) -> bool:
            value = read(raw)
            return value is not None and test(value)
        return predicate

    if op in SINGLE_VALUE_OPERATORS:
        target = parse_value(value_type, condition.value)  # type: ignore[arg-type]
        tests: dict[str, Callable[[Any], bool]] = {
            "eq": lambda v: v == target, "neq": lambda v: v != target,
            "gt": lambda v: v > target, "gte": lambda v: v >= target,
            "lt": lambda v: v < target, "lte": lambda v: v <= target,
        }
        return known(tests[op])
    if op == "between":
        low, high = (parse_value(value_type, raw) for raw in condition.values)
        return known(lambda v: low <= v <= high)
    members = frozenset(parse_value(value_type, raw) for raw in condition.values)
    if op == "in":
        return known(lambda v: v in members)
    return known(lambda v: v not in members)
