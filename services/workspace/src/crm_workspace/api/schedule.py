"""GET /workspace/v1/schedule (R-CSW-8): tasks and meetings by day, week or month
in a chosen IANA time zone, weekends hidden on request, with previous and next."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import read_model
from crm_workspace.api.common import UserIdQuery, ensure_user_in_account, subject_user, time_zone
from crm_workspace.api.deps import area, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.calendar import local_day, schedule_window

router = APIRouter(prefix="/workspace/v1", tags=["schedule"])


class Schedule(BaseModel):
    span: str
    timeZone: str
    start: datetime
    end: datetime
    previous: str
    next: str
    days: list[dict[str, Any]]


@router.get("/schedule", response_model=Schedule)
async def schedule(caller: Annotated[Principal, Depends(area(Area.SCHEDULE))],
                   app: Annotated[Container, Depends(container)],
                   span: Literal["day", "week", "month"] = "week",
                   date_: Annotated[date | None, Query(alias="date")] = None,
                   timeZone: str = "UTC", hideWeekends: bool = False,
                   userId: UserIdQuery = None) -> Schedule:
    user_id = subject_user(caller, userId)
    if user_id != caller.user_id:
        await ensure_user_in_account(app.pool, caller.account_id, user_id)
    tz = time_zone(timeZone)
    anchor = date_ or app.clock().astimezone(tz).date()
    try:
        window = schedule_window(span, anchor, tz, hide_weekends=hideWeekends)
    except OverflowError:
        raise ApiError(400, f"date {anchor} is out of range",
                       [{"message": "date: out of range", "in": "date"}]) from None
    async with app.pool.acquire() as conn:
        items = await read_model.scheduled_items(conn, caller, user_id, window.start,
                                                 window.end)
    by_day: dict[date, list[dict[str, Any]]] = {d: [] for d in window.days}
    for item in items:
        day = local_day(datetime.fromisoformat(item["at"].replace("Z", "+00:00")), tz)
        if day in by_day:
            by_day[day].append(item)

    def link(anchor: date) -> str:
        return "/workspace/v1/schedule?" + urlencode({
            "span": span, "date": anchor.isoformat(), "timeZone": timeZone,
            "hideWeekends": str(hideWeekends).lower()})

    return Schedule(span=span, timeZone=timeZone, start=window.start, end=window.end,
                    previous=link(window.previous_anchor), next=link(window.next_anchor),
                    days=[{"date": d.isoformat(), "items": v} for d, v in by_day.items()])
