"""GET /workspace/v1/summary (R-CSW-3): alerts, task counts with links, customer
view cards, today's schedule and the health overview, for the caller or, for a
super admin or settings manager, for another user."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import read_model, store
from crm_workspace.api.common import UserIdQuery, ensure_user_in_account, subject_user, time_zone
from crm_workspace.api.deps import area, container
from crm_workspace.api.views import visible_views
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.calendar import (
    due_windows,
    local_day,
    local_midnight,
    schedule_window,
)
from crm_workspace.domain.summary import (
    ALERT_LIFETIME,
    HealthOverview,
    alert_expires_at,
    average_over_time,
    health_overview,
)
from crm_workspace.domain.tasks import task_list_link

router = APIRouter(prefix="/workspace/v1", tags=["summary"])
HISTORY_DAYS_MAX = 365


class Summary(BaseModel):
    userId: int
    timeZone: str
    alerts: dict[str, Any]
    tasks: dict[str, Any]
    customerViews: list[dict[str, Any]]
    schedule: list[dict[str, Any]]
    health: dict[str, Any] | None = None


@router.get("/summary", response_model=Summary)
async def summary(caller: Annotated[Principal, Depends(area(Area.SUMMARY))],
                  app: Annotated[Container, Depends(container)],
                  timeZone: str = "UTC", userId: UserIdQuery = None,
                  alertLimit: Annotated[int, Query(ge=1, le=500)] = 100,
                  healthProfileId: Annotated[str | None, Query(max_length=100)] = None,
                  healthDays: Annotated[int, Query(ge=1, le=HISTORY_DAYS_MAX)] = 30,
                  ) -> Summary:
    """`healthProfileId` and `healthDays` are the Enterprise health extras: the
    overview under one score profile, and its average over the last days."""
    enterprise = caller.account_tier == "enterprise"
    if healthProfileId is not None and not enterprise:
        raise ApiError(400, "healthProfileId: choosing a score profile needs Enterprise",
                       [{"message": "needs Enterprise", "in": "healthProfileId"}])
    user_id = subject_user(caller, userId)
    if user_id != caller.user_id:
        await ensure_user_in_account(app.pool, caller.account_id, user_id)
    tz = time_zone(timeZone)
    now = app.clock()
    windows = due_windows(now, tz)
    today = schedule_window("day", now.astimezone(tz).date(), tz)
    async with app.pool.acquire() as conn:
        settings, _ = await store.load_settings(conn, caller.account_id)
        counts = await read_model.task_counts(conn, caller, user_id, windows)
        schedule = await read_model.scheduled_items(conn, caller, user_id, today.start,
                                                    local_midnight(today.next_anchor, tz))
        alerts = await read_model.active_alerts(conn, caller.account_id, user_id, now,
                                                now - ALERT_LIFETIME)
        customers = settings.customers
        tallies = await read_model.customer_health(
            conn, caller, customers.object_type, customers.csm_property, user_id)
        extras = await _enterprise_health(conn, caller, customers.object_type,
                                          customers.csm_property, user_id, healthProfileId,
                                          healthDays, tz, now) if enterprise else None
        if extras and extras["profileId"]:
            tallies = extras.pop("tallies")
    views = [v for v in await visible_views(app, caller, "customers") if v.default_position]
    customers_link = "/workspace/v1/views?" + urlencode({"tab": "customers"})
    overview = health_overview(tallies, {
        band: f"{customers_link}&{urlencode({'healthStatus': band})}"
        for band in ("at_risk", "neutral", "healthy")})
    return Summary(
        userId=user_id, timeZone=timeZone,
        alerts={"count": len(alerts), "items": [
            {"id": a["id"], "objectType": a["object_type"], "recordId": str(a["record_id"]),
             **a["detail"], "firedAt": a["fired_at"].isoformat(),
             "expiresAt": alert_expires_at(a["fired_at"]).isoformat()}
            for a in alerts[:alertLimit]]},
        tasks={name: {"count": counts[name], "link": task_list_link(name, timeZone, user_id)}
               for name in ("overdue", "due_today", "due_tomorrow")},
        customerViews=[{"id": v.id, "name": v.name, "description": v.description,
                        "position": v.default_position,
                        "run": f"/workspace/v1/views/{v.id}/run"} for v in views],
        schedule=schedule,
        health=_health(overview, extras))


def _health(overview: HealthOverview | None, extras: dict[str, Any] | None
            ) -> dict[str, Any] | None:
    if overview is None and not extras:
        return None
    out: dict[str, Any] = {} if overview is None else {
        "averageScore": overview.average_score, "bands": dict(overview.bands)}
    if extras is not None:  # Enterprise
        extras.pop("tallies", None)
        out.update(extras)
        out["distribution"] = dict(overview.distribution) if overview else {}
    return out


async def _enterprise_health(conn: Any, caller: Principal, object_type: str, csm_property: str,
                             user_id: int, profile_id: str | None, days: int, tz: Any,
                             now: datetime) -> dict[str, Any]:
    """The profiles to choose from, the chosen one's tallies (the first profile's
    history when none is chosen: the record's own score mixes profiles), and its
    average over the last `days` days, one point per local day."""
    profiles = await read_model.health_profiles(conn, caller.account_id, object_type)
    if profile_id is not None and profile_id not in {p["id"] for p in profiles}:
        raise ApiError(400, f"healthProfileId: no score profile {profile_id} has scored "
                       "these customers", [{"message": "unknown profile",
                                            "in": "healthProfileId"}])
    history_profile = profile_id or (profiles[0]["id"] if profiles else None)
    extras: dict[str, Any] = {"profiles": profiles, "profileId": profile_id,
                              "historyProfileId": history_profile, "averageOverTime": []}
    if profile_id:
        extras["tallies"] = await read_model.profile_health(
            conn, caller, object_type, csm_property, user_id, profile_id)
    if history_profile:
        today = local_day(now, tz)
        span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
        ends = [(d, local_midnight(d + timedelta(days=1), tz)) for d in span]
        starting, changes = await read_model.profile_history(
            conn, caller, object_type, csm_property, user_id, history_profile,
            local_midnight(span[0], tz))
        extras["averageOverTime"] = average_over_time(starting, changes, ends)
    return extras
