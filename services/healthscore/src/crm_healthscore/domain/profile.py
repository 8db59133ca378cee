"""Score profiles (R-HLTH-1): criteria groups with capped points, bands, segments.

A profile is plain data; `validate_profile` says everything wrong with it at once, each
problem as (field path, message), so the API can answer one 400 that names them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .conditions import Condition, condition_errors

STATUSES = ("draft", "live")
GROUP_KINDS = ("property", "event")
DECAY_PERIODS_MONTHS = (1, 3, 6, 12)
MAX_SEGMENTS = 5
TOTAL_POINTS = 100

# Each engagement or ticket type an event rule may count, with the types of its own
# properties that an AND condition may test. The consumer that builds the facts maps
# record/engagement events onto these names (durations in milliseconds, NPS 0-10).
EVENT_PROPERTY_TYPES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "meeting": {"outcome": "enumeration", "duration_ms": "number"},
    "call": {"duration_ms": "number", "status": "enumeration", "direction": "enumeration"},
    "email": {"direction": "enumeration"},
    "note": {},
    "ticket_open": {"priority": "enumeration", "pipeline_stage": "enumeration"},
    "nps": {"score": "number"},
    "csm_sentiment": {"sentiment": "enumeration"},
})
EVENT_TYPES = tuple(EVENT_PROPERTY_TYPES)

# How an event rule turns the events it matches into points (see scoring.py).
RULE_MODES = ("each", "at_least", "at_most", "latest")


@dataclass(frozen=True)
class PropertyRule:
    """Adds `points` (negative subtracts) when the customer's property meets `when`."""

    when: Condition
    points: int

    def describe(self) -> str:
        return f"{self.when.describe()}: {self.points:+d}"


@dataclass(frozen=True)
class EventRule:
    """Points from the customer's events of one type, optionally AND a condition on the
    event's own properties (`where`):

    - each: `points` for every counted matching event (weighted by decay);
    - at_least: `points` once when at least `count` matching events count;
    - at_most: `points` once when at most `count` matching events count (0 = none);
    - latest: `points` when the newest counted event of the type meets `where`.
    """

    event_type: str
    points: int
    mode: str = "each"
    count: int = 1
    where: Condition | None = None

    def describe(self) -> str:
        noun = self.event_type.replace("_", " ")
        head = {
            "each": f"each {noun}",
            "at_least": f"at least {self.count} x {noun}",
            "at_most": f"at most {self.count} x {noun}",
            "latest": f"latest {noun}",
        }.get(self.mode, f"{self.mode} {noun}")
        where = f" where {self.where.describe()}" if self.where else ""
        return f"{head}{where}: {self.points:+d}"


@dataclass(frozen=True)
class Decay:
    """Cut an event's points by `percent` every `every_months` (30-day months)."""

    percent: float
    every_months: int


@dataclass(frozen=True)
class Group:
    """A criteria group: its rules' points add up, then clip to [0, max_points].

    Event groups count events inside the last `window_days`, or with a `decay`, never
    both; with neither, every event counts at full weight (open tickets, whose facts
    hold only the tickets still open)."""

    kind: str
    name: str
    max_points: int
    rules: tuple[PropertyRule | EventRule, ...]
    window_days: int | None = None
    decay: Decay | None = None


@dataclass(frozen=True)
class Bands:
    """score < at_risk_below: at_risk; score >= healthy_from: healthy; else neutral."""

    at_risk_below: int = 40
    healthy_from: int = 70


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    groups: tuple[Group, ...]
    bands: Bands = Bands()
    segments: tuple[str, ...] = ()
    status: str = "draft"
    # The types of the customer properties the rules read, snapshotted when the profile
    # is saved (see prepare_profile), so that scoring needs nothing but the profile.
    property_types: Mapping[str, str] = field(default_factory=dict, compare=False)


class ProfileInvalid(ValueError):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def applies_to(profile: Profile, customer_segments: frozenset[str] | set[str]) -> bool:
    """A live profile scores only the customers in at least one of its segments."""
    return profile.status == "live" and not customer_segments.isdisjoint(profile.segments)


def prepare_profile(profile: Profile, property_types: Mapping[str, str]) -> Profile:
    """Validate against the account's property definitions and keep the types it reads."""
    validate_profile(profile, property_types)
    read = {
        rule.when.property
        for group in profile.groups
        for rule in group.rules
        if isinstance(rule, PropertyRule)
    }
    return replace(profile, property_types={name: property_types[name] for name in sorted(read)})


def validate_profile(profile: Profile, property_types: Mapping[str, str]) -> None:
    """Raise ProfileInvalid naming every problem; `property_types` maps the customer
    object's property names to their types."""
    errors: list[tuple[str, str]] = []
    if not profile.name.strip():
        errors.append(("name", "a profile needs a name"))
    if profile.status not in STATUSES:
        errors.append(("status", f"status must be draft or live, not '{profile.status}'"))
    errors += _bands_errors(profile.bands)
    errors += _segments_errors(profile)
    if not profile.groups:
        errors.append(("groups", "a profile needs at least one group"))
    else:
        total = sum(group.max_points for group in profile.groups)
        if total != TOTAL_POINTS:
            parts = ", ".join(f"'{g.name}' ({g.max_points})" for g in profile.groups)
            errors.append(("groups", f"group maxima must add up to {TOTAL_POINTS}: "
                                     f"{parts} add up to {total}"))
    seen: set[str] = set()
    for index, group in enumerate(profile.groups):
        path = f"groups[{index}]"
        if group.name in seen:
            errors.append((f"{path}.name", f"two groups are named '{group.name}'"))
        seen.add(group.name)
        errors += _group_errors(group, path, property_types)
    if errors:
        raise ProfileInvalid(errors)


def _bands_errors(bands: Bands) -> list[tuple[str, str]]:
    if 0 < bands.at_risk_below < bands.healthy_from <= TOTAL_POINTS:
        return []
    return [("bands", "cut-offs out of order: need 0 < at_risk_below < healthy_from <= 100, "
                      f"got at_risk_below={bands.at_risk_below}, "
                      f"healthy_from={bands.healthy_from}")]


def _segments_errors(profile: Profile) -> list[tuple[str, str]]:
    errors = []
    if len(profile.segments) > MAX_SEGMENTS:
        errors.append(("segments", f"a profile applies to at most {MAX_SEGMENTS} segments, "
                                   f"got {len(profile.segments)}"))
    if len(set(profile.segments)) != len(profile.segments):
        errors.append(("segments", "a segment is listed twice"))
    if profile.status == "live" and not profile.segments:
        errors.append(("segments", "a live profile needs at least one segment"))
    return errors


def _group_errors(group: Group, path: str, property_types: Mapping[str, str]):
    errors: list[tuple[str, str]] = []
    if not group.name.strip():
        errors.append((f"{path}.name", "a group needs a name"))
    if group.kind not in GROUP_KINDS:
        return errors + [(f"{path}.kind", f"kind must be property or event, not '{group.kind}'")]
    if not 0 < group.max_points <= TOTAL_POINTS:
        errors.append((f"{path}.max_points", f"max_points must be 1..100, got {group.max_points}"))
    if not group.rules:
        errors.append((f"{path}.rules", f"group '{group.name}' is empty: add at least one rule"))
    if group.kind == "property":
        if group.window_days is not None or group.decay is not None:
            errors.append((path, "a property group has no time window or decay"))
        for index, rule in enumerate(group.rules):
            errors += _property_rule_errors(rule, f"{path}.rules[{index}]", property_types)
        return errors
    if group.window_days is not None and group.decay is not None:
        errors.append((path, f"group '{group.name}' has both a time window and a decay: "
                             "choose one"))
    if group.window_days is not None and group.window_days < 1:
        errors.append((f"{path}.window_days", "window_days must be at least 1"))
    if group.decay is not None:
        if not 0 < group.decay.percent <= 100:
            errors.append((f"{path}.decay.percent",
                           "decay percent must be above 0 and at most 100"))
        if group.decay.every_months not in DECAY_PERIODS_MONTHS:
            errors.append((f"{path}.decay.every_months",
                           f"decay every_months must be one of 1, 3, 6, 12, "
                           f"got {group.decay.every_months}"))
    for index, rule in enumerate(group.rules):
        errors += _event_rule_errors(rule, f"{path}.rules[{index}]")
    return errors


def _property_rule_errors(rule, path: str, property_types: Mapping[str, str]):
    if not isinstance(rule, PropertyRule):
        return [(path, "a property group holds only property rules")]
    errors = _points_errors(rule.points, path)
    name = rule.when.property
    if name not in property_types:
        return errors + [(f"{path}.when.property", f"unknown property '{name}'")]
    return errors + [(f"{path}.when.{where}", message)
                     for where, message in condition_errors(rule.when, property_types[name])]


def _event_rule_errors(rule, path: str):
    if not isinstance(rule, EventRule):
        return [(path, "an event group holds only event rules")]
    errors = _points_errors(rule.points, path)
    if rule.event_type not in EVENT_PROPERTY_TYPES:
        return errors + [(f"{path}.event_type", f"unknown event type '{rule.event_type}'; "
                                                f"use one of {', '.join(EVENT_TYPES)}")]
    if rule.mode not in RULE_MODES:
        errors.append((f"{path}.mode", f"mode must be one of {', '.join(RULE_MODES)}"))
    elif rule.mode == "at_least" and rule.count < 1:
        errors.append((f"{path}.count", "at_least needs a count of 1 or more"))
    elif rule.mode == "at_most" and rule.count < 0:
        errors.append((f"{path}.count", "at_most needs a count of 0 or more"))
    if rule.where is not None:
        known = EVENT_PROPERTY_TYPES[rule.event_type]
        name = rule.where.property
        if name not in known:
            errors.append((f"{path}.where.property",
                           f"unknown property '{name}' of {rule.event_type} events"))
        else:
            errors += [(f"{path}.where.{where}", message)
                       for where, message in condition_errors(rule.where, known[name])]
    return errors


def _points_errors(points: int, path: str):
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        return [(f"{path}.points", "points must be a whole number other than 0")]
    return []
