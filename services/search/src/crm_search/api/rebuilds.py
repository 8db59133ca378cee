"""POST /search/v1/rebuilds and GET /search/v1/rebuilds/{id} (R-SRCH-3).

A platform-wide operation: only the operator (X-Operator-Key, the
SEARCH_OPERATOR_KEY setting) or a super admin's bearer token may start or read
one. See handlers/rebuild.py for the steps.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from crm_platform.problem import ApiError
from crm_search.adapters.rebuild_store import read_rebuild
from crm_search.api.search import principal

router = APIRouter(prefix="/search/v1", tags=["index"])


class PartitionProgress(BaseModel):
    partition: int
    position: int
    endOffsetAtStart: int


class Rebuild(BaseModel):
    id: int
    state: str  # replaying, catching-up (after the switch), done, failed
    table: str
    consumerGroup: str
    eventsApplied: int
    partitions: list[PartitionProgress]
    error: str | None
    startedAt: datetime
    switchedAt: datetime | None
    finishedAt: datetime | None


async def require_operator_or_super_admin(request: Request, response: Response) -> None:
    expected = request.app.state.container.operator_key
    given = request.headers.get("x-operator-key")
    if expected and given and hmac.compare_digest(given, expected):
        return
    caller = await principal(request, response)
    if not caller.super_admin:
        raise ApiError(403, "Only the operator or a super admin may rebuild the index.")


@router.post("/rebuilds", response_model=Rebuild, status_code=202)
async def start(request: Request, response: Response) -> Rebuild:
    await require_operator_or_super_admin(request, response)
    rebuilds = request.app.state.rebuilds
    if rebuilds is None:
        raise ApiError(409, "This replica runs no consumers (RUN_CONSUMERS is off).")
    started = await rebuilds.start()
    response.headers["Location"] = f"/search/v1/rebuilds/{started['id']}"
    return _shown(started)


@router.get("/rebuilds/{rebuild_id}", response_model=Rebuild)
async def show(rebuild_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request,
               response: Response) -> Rebuild:
    await require_operator_or_super_admin(request, response)
    async with request.app.state.container.pool.acquire() as conn:
        found = await read_rebuild(conn, rebuild_id)
    if found is None:
        raise ApiError(404, f"No rebuild {rebuild_id}.")
    return _shown(found)


def _shown(r: dict) -> Rebuild:  # type: ignore[type-arg]
    partitions = [PartitionProgress(partition=p, position=r["positions"].get(p, 0),
                                    endOffsetAtStart=end)
                  for p, end in sorted(r["end_offsets"].items())]
    return Rebuild(id=r["id"], state=r["state"], table=r["table_name"],
                   consumerGroup=r["consumer_group"], eventsApplied=r["events_applied"],
                   partitions=partitions, error=r["error"], startedAt=r["started_at"],
                   switchedAt=r["switched_at"], finishedAt=r["finished_at"])
