"""GET /workspace/v1/summary (R-CSW-3): alerts, task counts with links, customer
view cards, today's schedule and the health overview, for the caller or, for a
super admin or settings manager, for another user."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_workspace.adapters import read_model, store
from crm_workspace.api.common import UserIdQuery, ensure_user_in_account, subject_user, time_zone
from crm_workspace.api.deps import area, container
from crm_workspace.api.views import visible_views
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.calendar import due_windows, local_midnight, schedule_window
from crm_workspace.domain.summary import ALERT_LIFETIME, alert_expires_at, health_overview
from crm_workspace.domain.tasks import task_list_link

router = APIRouter(prefix="/workspace/v1", tags=["summary"])


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
                  alertLimit: Annotated[int, Query(ge=1, le=500)] = 100) -> Summary:
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
        tallies = await read_model.customer_health(
            conn, caller, settings.customers.object_type, settings.customers.csm_property,
            user_id)
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
        health=None if overview is None else {
            "averageScore": overview.average_score, "bands": dict(overview.bands),
            **({"distribution": dict(overview.distribution)}
               if caller.account_tier == "enterprise" else {})})
