"""Services and Revenue boards (R-CSW-6): cards grouped by pipeline stage, with
a count and an amount total per stage, in the pipeline's stage order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

# The stage and amount properties per object type (services and custom objects
# use the ticket-style names; deals their own).
STAGE_PROPERTY = {"deals": "dealstage"}
PIPELINE_PROPERTY = {"deals": "pipeline"}
AMOUNT_PROPERTY = {"deals": "amount"}
DEFAULT_STAGE_PROPERTY = "hs_pipeline_stage"
DEFAULT_PIPELINE_PROPERTY = "hs_pipeline"


def stage_property(object_type: str) -> str:
    return STAGE_PROPERTY.get(object_type, DEFAULT_STAGE_PROPERTY)


def pipeline_property(object_type: str) -> str:
    return PIPELINE_PROPERTY.get(object_type, DEFAULT_PIPELINE_PROPERTY)


def amount_property(object_type: str) -> str | None:
    return AMOUNT_PROPERTY.get(object_type)


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def board_columns(stages: Sequence[Mapping[str, Any]], cards: Sequence[Mapping[str, Any]],
                  object_type: str) -> list[dict[str, Any]]:
    """One column per stage (`stages`: id and label, in order); a card whose stage is
    not in the pipeline goes to a trailing 'unknown stage' column so none is lost."""
    stage_name = stage_property(object_type)
    amount_name = amount_property(object_type)
    columns: dict[str, dict[str, Any]] = {
        s["id"]: {"stageId": s["id"], "label": s.get("label", s["id"]), "count": 0,
                  "amount": Decimal(0), "cards": []} for s in stages}
    for card in cards:
        stage = (card.get("properties") or {}).get(stage_name) or ""
        column = columns.get(stage)
        if column is None:
            column = columns.setdefault("", {"stageId": "", "label": "Unknown stage",
                                             "count": 0, "amount": Decimal(0), "cards": []})
        column["count"] += 1
        if amount_name:
            column["amount"] += _amount(card["properties"].get(amount_name))
        column["cards"].append(card)
    return [{**c, "amount": str(c["amount"]) if amount_name else None}
            for c in columns.values()]
