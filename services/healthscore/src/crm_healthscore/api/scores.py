"""Scores, their explanations, history and alerts (R-HLTH-3, R-HLTH-4, R-HLTH-6,
R-CSW-3), and the operator's clock trigger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from crm_healthscore.adapters import store
from crm_healthscore.adapters.serialize import (
    distribution_to_json,
    explanation_to_json,
)
from crm_healthscore.api.deps import (
    App,
    Reader,
    require_operator,
    require_other_user_allowed,
    require_visible_customer,
)
from crm_healthscore.domain.explain import explain
from crm_healthscore.domain.history import daily_history, distribution
from crm_healthscore.handlers.clock import tick
from crm_platform.problem import ApiError

router = APIRouter(prefix="/healthscores/v1", tags=["scores"])
MAX_HISTORY_DAYS = 366

async def _live_profile(conn: Any, account_id: int, profile_id: str) -> None:
    found = await store.get_profile(conn, account_id, profile_id)
    if found is None or found.live is None:
        raise ApiError(404, f"live score profile {profile_id} not found")

@router.get("/profiles/{profile_id}/scores/{customer_id}")
async def explain_score(profile_id: str, customer_id: int, caller: Reader,
                        app: App) -> dict[str, Any]:
    """R-HLTH-6: per group the points and the cap, the matched rules with their events,
    and every change of score with the event or passing of time that caused it."""
    async with app.pool.acquire() as conn:
        await _live_profile(conn, caller.account_id, profile_id)
        customer_type = await require_visible_customer(conn, caller, customer_id)
        found = await store.stored_score(conn, caller.account_id, profile_id, customer_type,
                                         customer_id)
        if found is None:
            raise ApiError(404, f"customer {customer_id} has no score from this profile")
        changes = await store.customer_changes(conn, caller.account_id, profile_id,
                                               customer_type, customer_id)
    return explanation_to_json(explain(found, changes))

@router.get("/profiles/{profile_id}/distribution")
async def current_distribution(profile_id: str, caller: Reader, app: App) -> dict[str, Any]:
    """R-CSW-3 health overview: counts per band and the average score, now."""
    async with app.pool.acquire() as conn:
        await _live_profile(conn, caller.account_id, profile_id)
        latest = await store.latest_scores(conn, caller.account_id, profile_id)
    return distribution_to_json(distribution(latest))

@router.get("/profiles/{profile_id}/history")
async def history(profile_id: str, caller: Reader, app: App,
                  days: Annotated[int, Query(ge=1, le=MAX_HISTORY_DAYS)] = 30
                  ) -> dict[str, Any]:
    """R-HLTH-4: each day's distribution and average, as it stood at the day's end (UTC),
    for the last `days` days up to today."""
    today = app.clock().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    async with app.pool.acquire() as conn:
        await _live_profile(conn, caller.account_id, profile_id)
        changes = await store.profile_changes(
            conn, caller.account_id, profile_id,
            datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC))
    points = daily_history(changes, first, today)
    return {"results": [{"day": p.day.isoformat(), **distribution_to_json(p.distribution)}
                        for p in points]}

@router.get("/alerts")
async def list_alerts(caller: Reader, app: App,
                      user_id: Annotated[int | None, Query(alias="userId")] = None,
                      limit: Annotated[int, Query(ge=1, le=100)] = 100,
                      before: int | None = None) -> dict[str, Any]:
    """R-HLTH-3, R-CSW-3: the active alerts of one user (the caller unless a super admin
    or settings manager names another), newest first; any number may be active, paged
    by `before` (the paging cursor of the previous page)."""
    user = caller.user_id if user_id is None else user_id
    require_other_user_allowed(caller, user)
    async with app.pool.acquire() as conn:
        rows = await store.active_alerts(conn, caller.account_id, user, app.clock(), limit + 1,
                                         before)
    page, more = rows[:limit], len(rows) > limit
    results = [{
        "id": r["alert_id"], "profile_id": r["profile_id"], "customer_type": r["customer_type"],
        "customer_id": r["customer_id"], "old_band": r["old_band"], "new_band": r["new_band"],
        "score": r["score"], "cause": r["cause"], "fired_at": r["fired_at"].isoformat(),
        "expires_at": r["expires_at"].isoformat()} for r in page]
    answer: dict[str, Any] = {"results": results}
    if more:
        answer["paging"] = {"next": {"before": page[-1]["seq"]}}
    return answer

@router.post("/operator/clock/tick", dependencies=[Depends(require_operator)])
async def clock_tick(app: App, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
    """Operators only (X-Operator-Key): recompute the customers due at `now` (default:
    the service's clock). Tests move time forward with it instead of sleeping."""
    raw = (body or {}).get("now")
    try:
        now = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else app.clock()
    except (AttributeError, ValueError):
        raise ApiError(400, "now must be an ISO 8601 instant", [
            {"in": "now", "message": "now must be an ISO 8601 instant"}]) from None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    recomputed = await tick(app.pool, now, alert_days=app.alert_days)
    return {"now": now.isoformat(), "recomputed": recomputed}
