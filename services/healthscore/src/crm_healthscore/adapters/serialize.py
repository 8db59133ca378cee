"""Score results and explanations as JSON: the stored form of a score (so the
explanation of R-HLTH-6 is read, not recomputed) and the API's answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_healthscore.domain.changes import ScoreChange
from crm_healthscore.domain.explain import Explanation
from crm_healthscore.domain.history import Distribution
from crm_healthscore.domain.scoring import GroupResult, RuleMatch, ScoreResult


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def result_to_json(result: ScoreResult) -> dict[str, Any]:
    return {
        "profile_id": result.profile_id, "customer_id": result.customer_id,
        "score": result.score, "band": result.band,
        "computed_at": _iso(result.computed_at), "next_change_at": _iso(result.next_change_at),
        "groups": [{
            "name": g.name, "kind": g.kind, "max_points": g.max_points,
            "raw_points": g.raw_points, "capped_points": g.capped_points,
            "matched": [{"rule_index": m.rule_index, "description": m.description,
                         "count": m.count, "points": m.points,
                         "event_ids": m.event_ids}  # a tuple: JSON writes it as a list
                        for m in g.matched],
        } for g in result.groups],
    }


def result_from_json(data: dict[str, Any]) -> ScoreResult:
    def when(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    return ScoreResult(
        profile_id=data["profile_id"], customer_id=data["customer_id"], score=data["score"],
        band=data["band"], computed_at=when(data["computed_at"]),  # type: ignore[arg-type]
        next_change_at=when(data["next_change_at"]),
        groups=tuple(GroupResult(
            name=g["name"], kind=g["kind"], max_points=g["max_points"],
            raw_points=g["raw_points"], capped_points=g["capped_points"],
            matched=tuple(RuleMatch(m["rule_index"], m["description"], m["count"], m["points"],
                                    tuple(m["event_ids"])) for m in g["matched"]),
        ) for g in data["groups"]),
    )


def change_to_json(change: ScoreChange) -> dict[str, Any]:
    return {"old_score": change.old_score, "new_score": change.new_score,
            "old_band": change.old_band, "new_band": change.new_band,
            "cause": change.cause, "at": _iso(change.at)}


def explanation_to_json(explanation: Explanation) -> dict[str, Any]:
    return {
        "customer_id": explanation.customer_id, "profile_id": explanation.profile_id,
        "score": explanation.score, "band": explanation.band,
        "next_change_at": _iso(explanation.next_change_at),
        "groups": [{
            "name": g.name, "max_points": g.max_points, "raw_points": g.raw_points,
            "capped_points": g.capped_points, "cap_note": g.cap_note,
            "rules": [{"description": r.description, "count": r.count, "points": r.points,
                       "event_ids": list(r.event_ids)} for r in g.rules],
        } for g in explanation.groups],
        "changes": [change_to_json(c) for c in explanation.changes],
    }


def distribution_to_json(distribution: Distribution) -> dict[str, Any]:
    return {"at_risk": distribution.at_risk, "neutral": distribution.neutral,
            "healthy": distribution.healthy, "total": distribution.total,
            "average": distribution.average}
