"""The scoring rule (R-HLTH-1, R-HLTH-2, R-HLTH-6): score(profile, facts, now).

The maths, decided once here:
- A rule earns points: a property rule its `points` when the customer's property meets
  its condition; an event rule per its mode (profile.EventRule), each counted event
  weighing 1, or its decay weight.
- Window of N days: an event counts while `now - N days < occurred_at <= now`; at the
  instant `occurred_at + N days` it has left. Events dated after `now` count from their
  own instant on.
- Decay of p% every m months: months are 30 days (fixed, so the steps are exact
  instants, independent of calendars and time zones). An event's weight is
  `(1 - p/100) ** floor(age / (m x 30 days))`: at exactly one period old the first cut
  applies. `at_least` weighs by its N-th newest matching event (the oldest evidence it
  needs), `latest` by the newest event, `at_most` counts events whose weight is above 0.
- A group's raw points are the sum of its rules' points; its capped points clip raw to
  [0, max_points]. The score is the sum of capped points, rounded half up to an int
  only at the end, so it runs 0..100 when the maxima add up to 100.
- next_change_at is the first instant after `now` at which the score itself changes by
  the passing of time alone (a window edge, a decay step, a future-dated event starting
  to count), or None when time alone will never change it. The search steps through the
  instants where any rule's points change and stops once the points still able to move
  cannot shift the rounded score; after MAX_SEARCH_STEPS instants it answers the instant
  reached, which is early, never late: a recompute then finds no change and asks again.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .bands import band
from .conditions import Predicate, compile_condition
from .facts import CustomerFacts, Event
from .profile import EVENT_PROPERTY_TYPES, EventRule, Group, Profile, PropertyRule

MONTH = timedelta(days=30)
MAX_SEARCH_STEPS = 1000


@dataclass(frozen=True)
class RuleMatch:
    rule_index: int
    description: str
    count: int
    points: float
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class GroupResult:
    name: str
    kind: str
    max_points: int
    raw_points: float
    capped_points: float
    matched: tuple[RuleMatch, ...]

    @property
    def clipped_points(self) -> float:
        """How much the cap took away (positive) or gave back from below 0 (negative)."""
        return round(self.raw_points - self.capped_points, 6)


@dataclass(frozen=True)
class ScoreResult:
    profile_id: str
    customer_id: str
    score: int
    band: str
    groups: tuple[GroupResult, ...]
    computed_at: datetime
    next_change_at: datetime | None


def score(profile: Profile, facts: CustomerFacts, now: datetime) -> ScoreResult:
    """Score one customer with one profile at `now` (timezone-aware). Pure: the same
    profile, facts and instant give the same result, whatever the order of the events.
    To score many customers with one profile, make one Scorer and reuse it."""
    return Scorer(profile).score(facts, now)


class Scorer:
    """One profile made ready once for many customers (a recompute scores thousands
    with each live profile): conditions parsed, timings and descriptions made. Times
    are integer microseconds since the epoch inside, so window edges and decay steps
    stay exact and cost integer arithmetic, not datetime objects."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self.groups = [(group, _Timing.of(group), [_compile(rule, profile) for rule in group.rules])
                       for group in profile.groups]
        self.event_types = frozenset(rule.event_type for group in profile.groups
                                     for rule in group.rules if isinstance(rule, EventRule))

    def score(self, facts: CustomerFacts, now: datetime) -> ScoreResult:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        at = _micros(now)
        plans = self._plan(facts)
        states = [[plan.at(at) for plan in group_plans] for group_plans in plans]
        raws = [_sum_points(group_states) for group_states in states]
        value = _rounded(_total(self.profile.groups, raws))
        groups = tuple(
            GroupResult(
                name=group.name,
                kind=group.kind,
                max_points=group.max_points,
                raw_points=round(raw, 6),
                capped_points=round(_cap(group, raw), 6),
                matched=tuple(
                    RuleMatch(index, compiled.description, state.count,
                              round(state.points, 6), state.event_ids())
                    for index, (compiled, state) in enumerate(zip(rules, group_states, strict=True))
                    if state.matched
                ),
            )
            for (group, _, rules), raw, group_states in zip(self.groups, raws, states, strict=True)
        )
        next_change = _next_change(self.profile.groups, plans, states, raws, value)
        return ScoreResult(
            profile_id=self.profile.id,
            customer_id=facts.customer_id,
            score=value,
            band=band(value, self.profile.bands),
            groups=groups,
            computed_at=now,
            next_change_at=None if next_change is None else _instant(next_change),
        )

    def _plan(self, facts: CustomerFacts) -> list[list[_PropertyPlan | _EventPlan]]:
        read = self.event_types
        by_type: dict[str, list[tuple[int, Event]]] = {}
        for occurred, _, event in sorted(
                ((_micros(event.occurred_at), event.id, event)
                 for event in facts.events if event.type in read), reverse=True):
            by_type.setdefault(event.type, []).append((occurred, event))
        return [
            [_PropertyPlan(compiled, facts) if isinstance(compiled, _CompiledPropertyRule)
             else _EventPlan(compiled, timing, by_type.get(compiled.rule.event_type, ()))
             for compiled in rules]
            for _, timing, rules in self.groups
        ]


def event_horizons(profiles: Iterable[Profile], now: datetime) -> dict[str, datetime | None]:
    """Per event type the profiles read: the instant at or before which its events can
    no longer count at `now` or later (None: any of them may). An event of another type,
    or dated at or before its type's horizon, changes no score, explanation or
    next_change_at from `now` on, so a recompute at `now` need not read it: only a
    window forgets events (a decay, or no timing, keeps every one)."""
    horizons: dict[str, datetime | None] = {}
    for profile in profiles:
        for group in profile.groups:
            edge = None if group.window_days is None else now - timedelta(days=group.window_days)
            for rule in group.rules:
                if isinstance(rule, EventRule):
                    kept = horizons.get(rule.event_type, edge)
                    horizons[rule.event_type] = None if kept is None or edge is None \
                        else min(kept, edge)
    return horizons


def may_count(event: Event, horizons: Mapping[str, datetime | None]) -> bool:
    """Whether `event` can still count for some rule (see event_horizons)."""
    if event.type not in horizons:
        return False
    horizon = horizons[event.type]
    return horizon is None or event.occurred_at > horizon


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _instant(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class _Timing:
    """How an event group counts time (in microseconds): a window, a decay, or neither
    (full weight)."""

    window: int | None = None
    keep: float = 1.0  # share of the points kept at each decay step
    period: int | None = None

    @staticmethod
    def of(group: Group) -> _Timing:
        if group.window_days is not None:
            return _Timing(window=timedelta(days=group.window_days) // _MICROSECOND)
        if group.decay is not None:
            return _Timing(keep=1 - group.decay.percent / 100,
                           period=MONTH * group.decay.every_months // _MICROSECOND)
        return _Timing()


@dataclass(frozen=True)
class _CompiledPropertyRule:
    name: str
    predicate: Predicate
    points: int
    description: str


@dataclass(frozen=True)
class _CompiledEventRule:
    rule: EventRule
    where: Predicate | None
    description: str


def _compile(rule: PropertyRule | EventRule,
             profile: Profile) -> _CompiledPropertyRule | _CompiledEventRule:
    if isinstance(rule, PropertyRule):
        name = rule.when.property
        if name not in profile.property_types:
            raise ValueError(f"profile {profile.id} has no type for '{name}': "
                             "save it through prepare_profile")
        return _CompiledPropertyRule(
            name, compile_condition(rule.when, profile.property_types[name]), rule.points,
            rule.describe())
    where = None if rule.where is None else compile_condition(
        rule.where, EVENT_PROPERTY_TYPES[rule.event_type][rule.where.property])
    return _CompiledEventRule(rule, where, rule.describe())


class _RuleState:
    """One rule at one instant."""

    __slots__ = ("points", "matched", "count", "counted", "next_change", "variation")

    def __init__(self, points: float, matched: bool, counted: Sequence[Event] = (),
                 next_change: int | None = None, variation: float = 0.0):
        self.points = points
        self.matched = matched
        self.count = len(counted)
        self.counted = counted  # the events that count, newest first
        self.next_change = next_change
        # An upper bound on how far this rule's points can still move by time alone.
        self.variation = variation

    def event_ids(self) -> tuple[str, ...]:
        return tuple(event.id for event in self.counted)


class _PropertyPlan:
    __slots__ = ("state",)

    def __init__(self, compiled: _CompiledPropertyRule, facts: CustomerFacts):
        matched = compiled.predicate(facts.properties.get(compiled.name))
        self.state = _RuleState(float(compiled.points) if matched else 0.0, matched)

    def at(self, at: int) -> _RuleState:
        return self.state  # properties do not change with time


class _EventPlan:
    __slots__ = ("rule", "timing", "relevant", "matching_ids")

    def __init__(self, compiled: _CompiledEventRule, timing: _Timing,
                 of_type: Sequence[tuple[int, Event]]):
        rule = compiled.rule
        self.rule = rule
        self.timing = timing
        if compiled.where is None:
            matching = of_type
        else:
            name, predicate = rule.where.property, compiled.where  # type: ignore[union-attr]
            matching = [item for item in of_type if predicate(item[1].properties.get(name))]
        # `latest` reads every event of its type (the newest must meet `where`)
        self.relevant = of_type if rule.mode == "latest" else matching
        self.matching_ids = {event.id for _, event in matching} \
            if rule.mode == "latest" and compiled.where is not None else None

    def at(self, at: int) -> _RuleState:
        """The rule at `at`. Each relevant event weighs 1, or its decay weight, while it
        counts; the instants where an event starts or stops counting, or its weight
        steps, are where the rule's points may change next."""
        rule, timing = self.rule, self.timing
        window, period, keep = timing.window, timing.period, timing.keep
        counted: list[tuple[Event, float, int | None]] = []
        changes: list[int] = []  # instants an event starts or stops counting
        for occurred, event in self.relevant:  # newest first
            if occurred > at:  # dated later: counts from its own instant
                changes.append(occurred)
            elif window is not None:
                leaves = occurred + window
                if leaves <= at:
                    break  # this one and every older one are out of the window
                counted.append((event, 1.0, leaves))
                changes.append(leaves)
            elif period is not None:
                steps = (at - occurred) // period
                weight = keep ** steps
                if weight == 0:
                    continue
                step = occurred + (steps + 1) * period
                counted.append((event, weight, step))
                if keep == 0:  # only a full (100 %) cut makes an event stop counting
                    changes.append(step)
            else:
                counted.append((event, 1.0, None))
        pending = len(changes)  # events still to start or stop counting
        weighted = None  # the counted event whose decay steps move the points
        mode = rule.mode
        if mode == "each":
            matched = bool(counted)
            points = rule.points * sum(weight for _, weight, _ in counted)
            changes += [step for _, _, step in counted if step is not None]
        elif mode == "at_least":
            matched = len(counted) >= rule.count
            weighted = counted[rule.count - 1] if matched else None
        elif mode == "at_most":
            matched = len(counted) <= rule.count
            points = float(rule.points) if matched else 0.0
        else:  # latest: the newest counted event of the type must meet `where`
            matched = bool(counted) and (
                self.matching_ids is None or counted[0][0].id in self.matching_ids)
            weighted = counted[0] if matched else None
            counted = counted[:1] if matched else []
        if weighted is not None:
            points = rule.points * weighted[1]
            if weighted[2] is not None:
                changes.append(weighted[2])
        elif mode in ("at_least", "latest"):
            points = 0.0
        return _RuleState(
            points,
            matched,
            [event for event, _, _ in counted],
            min(changes, default=None),
            _variation(rule, timing, points, pending),
        )


def _variation(rule: EventRule, timing: _Timing, points: float, pending: int) -> float:
    """An upper bound on how far the rule's points can still move by time alone: decayed
    points can only fade towards 0, and each event still to start or stop counting can
    move at most one rule's worth of points."""
    if rule.mode == "at_most":
        return abs(rule.points) if pending else 0.0
    fading = abs(points) if timing.period is not None else 0.0
    return fading + abs(rule.points) * pending


def _next_change(groups, plans, states, raws, value: int) -> int | None:
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


def _sum_points(states: Sequence[_RuleState]) -> float:
    return math.fsum(state.points for state in states)


def _cap(group: Group, raw: float) -> float:
    return min(float(group.max_points), max(0.0, raw))


def _total(groups: Sequence[Group], raws: Sequence[float]) -> float:
    return math.fsum(_cap(group, raw) for group, raw in zip(groups, raws, strict=True))


def _rounded(total: float) -> int:
    # Round half up, after trimming float noise so that 2.4999999999 is read as 2.5.
    return min(100, max(0, math.floor(round(total, 9) + 0.5)))
