"""Profiles as JSON (the API's body and the stored form) and back, in snake_case like
the validation paths (`groups[0].max_points`), so a 400 names the field as it was sent.

    {"name": "...", "bands": {"at_risk_below": 40, "healthy_from": 70},
     "segments": [{"id": "all", "name": "Every customer", "filter_groups": []}],
     "groups": [
       {"kind": "property", "name": "Size", "max_points": 20, "rules": [
          {"property": "numberofemployees", "operator": "gte", "value": "50", "points": 20}]},
       {"kind": "event", "name": "Calls", "max_points": 30, "window_days": 30, "rules": [
          {"event_type": "call", "points": 10, "mode": "each",
           "where": {"property": "duration_ms", "operator": "gte", "value": "900000"}}]},
       {"template": "nps", "max_points": 50}]}

A group given as `{"template": <name>, ...}` is the ready-made group of that name
(templates.TEMPLATES) with its own max_points / window_days / decay arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .conditions import Condition
from .profile import (
    Bands,
    Decay,
    EventRule,
    Group,
    Profile,
    ProfileInvalid,
    PropertyRule,
    prepare_profile,
)
from .segments import (
    Segment,
    SegmentInvalid,
    properties_read,
    segment_errors,
    segment_from_json,
    segment_to_json,
)
from .templates import TEMPLATES

TEMPLATE_ARGUMENTS = {"max_points", "window_days", "decay_percent", "every_months"}


def _condition(data: Mapping[str, Any]) -> Condition:
    values = data.get("values")
    value = data.get("value")
    return Condition(property=str(data.get("property", "")), operator=str(data.get("operator", "")),
                     value=None if value is None else str(value),
                     values=tuple(str(v) for v in values or ()))


def _condition_json(condition: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"property": condition.property, "operator": condition.operator}
    if condition.value is not None:
        out["value"] = condition.value
    if condition.values:
        out["values"] = list(condition.values)
    return out


def _rule(kind: str, data: Mapping[str, Any]) -> PropertyRule | EventRule:
    points = data.get("points", 0)
    if kind == "property":
        return PropertyRule(when=_condition(data), points=points)
    where = data.get("where")
    return EventRule(event_type=str(data.get("event_type", "")), points=points,
                     mode=str(data.get("mode", "each")), count=int(data.get("count", 1)),
                     where=_condition(where) if where else None)


def _group(data: Mapping[str, Any], path: str, errors: list[tuple[str, str]]) -> Group | None:
    if "template" in data:
        name = data["template"]
        if name not in TEMPLATES:
            errors.append((f"{path}.template", f"unknown template '{name}'; "
                                               f"use one of {', '.join(TEMPLATES)}"))
            return None
        arguments = {k: v for k, v in data.items() if k in TEMPLATE_ARGUMENTS}
        try:
            return TEMPLATES[name](**arguments)
        except TypeError:
            errors.append((path, f"template '{name}' takes only "
                                 f"{', '.join(sorted(TEMPLATE_ARGUMENTS))} it knows"))
            return None
    kind = str(data.get("kind", ""))
    decay = data.get("decay")
    try:
        return Group(
            kind=kind, name=str(data.get("name", "")), max_points=int(data.get("max_points", 0)),
            rules=tuple(_rule(kind, rule) for rule in data.get("rules") or ()),
            window_days=None if data.get("window_days") is None else int(data["window_days"]),
            decay=Decay(float(decay["percent"]), int(decay["every_months"])) if decay else None,
        )
    except (TypeError, ValueError, KeyError) as bad:
        errors.append((path, f"malformed group: {bad}"))
        return None


def profile_from_json(data: Mapping[str, Any], *, profile_id: str,
                      status: str = "draft") -> tuple[Profile, tuple[Segment, ...]]:
    """Read a profile's JSON; ProfileInvalid names what could not be read at all."""
    errors: list[tuple[str, str]] = []
    groups = []
    for index, group in enumerate(data.get("groups") or ()):
        built = _group(group or {}, f"groups[{index}]", errors)
        if built is not None:
            groups.append(built)
    segments = []
    for index, item in enumerate(data.get("segments") or ()):
        try:
            segments.append(segment_from_json(item or {}, f"segments[{index}]"))
        except SegmentInvalid as invalid:
            errors += invalid.errors
    bands = data.get("bands") or {}
    try:
        built_bands = Bands(int(bands.get("at_risk_below", 40)), int(bands.get("healthy_from", 70)))
    except (TypeError, ValueError):
        errors.append(("bands", "cut-offs must be whole numbers"))
        built_bands = Bands()
    if errors:
        raise ProfileInvalid(errors)
    profile = Profile(id=profile_id, name=str(data.get("name", "")), groups=tuple(groups),
                      bands=built_bands, segments=tuple(s.id for s in segments), status=status,
                      property_types=dict(data.get("property_types") or {}))
    return profile, tuple(segments)


def validated(data: Mapping[str, Any], *, profile_id: str, status: str,
              property_types: Mapping[str, str]) -> tuple[Profile, tuple[Segment, ...]]:
    """Read and validate against the customer object's property types; raise
    ProfileInvalid naming every problem at once. The result keeps the types of every
    property its rules and segments read, so scoring needs nothing else."""
    profile, segments = profile_from_json(data, profile_id=profile_id, status=status)
    errors: list[tuple[str, str]] = []
    try:
        profile = prepare_profile(profile, property_types)
    except ProfileInvalid as invalid:
        errors += invalid.errors
    for index, segment in enumerate(segments):
        errors += segment_errors(segment, f"segments[{index}]", property_types)
    if errors:
        raise ProfileInvalid(errors)
    types = dict(profile.property_types)
    types.update({name: property_types[name] for name in properties_read(segments)})
    return replace(profile, property_types=types), segments


def profile_to_json(profile: Profile, segments: tuple[Segment, ...]) -> dict[str, Any]:
    def rule_json(rule: PropertyRule | EventRule) -> dict[str, Any]:
        if isinstance(rule, PropertyRule):
            return {**_condition_json(rule.when), "points": rule.points}
        out: dict[str, Any] = {"event_type": rule.event_type, "points": rule.points,
                               "mode": rule.mode, "count": rule.count}
        if rule.where is not None:
            out["where"] = _condition_json(rule.where)
        return out

    def group_json(group: Group) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": group.kind, "name": group.name,
                               "max_points": group.max_points,
                               "rules": [rule_json(rule) for rule in group.rules]}
        if group.window_days is not None:
            out["window_days"] = group.window_days
        if group.decay is not None:
            out["decay"] = {"percent": group.decay.percent,
                            "every_months": group.decay.every_months}
        return out

    return {
        "name": profile.name,
        "bands": {"at_risk_below": profile.bands.at_risk_below,
                  "healthy_from": profile.bands.healthy_from},
        "segments": [segment_to_json(segment) for segment in segments],
        "groups": [group_json(group) for group in profile.groups],
        "property_types": dict(profile.property_types),
    }
