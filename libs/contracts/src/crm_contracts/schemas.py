"""JSON Schema snapshots of every event contract and the compatibility rule.

`python -m crm_contracts.schemas --write` refreshes the snapshots after an
allowed (additive) change; the contract tests fail on anything else.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from crm_contracts.registry import all_events

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "schemas"


def current_schemas() -> dict[str, dict[str, Any]]:
    return {event.EVENT_TYPE: event.model_json_schema() for _, event in all_events()}


def _properties(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = root.get("$defs", {}).get(name, {})
    return schema.get("properties", {})


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What a consumer written against `old` could no longer read in `new`.

    Allowed within a version: new optional fields. Breaking: a field removed,
    a field's type changed, a field newly required.
    """
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_field in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        new_field = new_props[name]
        if _type_of(old_field) != _type_of(new_field):
            problems.append(f"{where}: type {_type_of(old_field)} -> {_type_of(new_field)}")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{path}{name}: newly required" for name in sorted(newly_required)]
    for name, old_def in old.get("$defs", {}).items():
        if name in new.get("$defs", {}):
            problems += breaking_changes(old_def, new["$defs"][name], f"{path}{name}.")
    return problems


def _type_of(field: dict[str, Any]) -> str:
    if "anyOf" in field:
        return "|".join(sorted(_type_of(f) for f in field["anyOf"]))
    if "$ref" in field:
        return field["$ref"]
    if field.get("type") == "array":
        return "array of " + _type_of(field.get("items", {}))
    return str(field.get("type", "any")) + (f":{field['format']}" if "format" in field else "")


def write_snapshots() -> None:
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    for event_type, schema in current_schemas().items():
        path = SNAPSHOT_DIR / f"{event_type}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_snapshots()
        print(f"wrote {len(current_schemas())} snapshots to {SNAPSHOT_DIR}")
