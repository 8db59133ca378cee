"""GET /search/v1/lag: how far behind the index is, per object type (R-SRCH-2).

Figures are platform-wide (no account's data): events applied and the newest
event time come from the store every replica writes; the recent p50/p99 are
this replica's last 1,000 events of each type. `consumerGroup` names the
index's Kafka group, whose lag the platform's ConsumerLagExporter measures as
crm_kafka_consumer_group_lag (not run inside this service: see README).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_search.adapters.progress_store import read_progress
from crm_search.api.search import principal

router = APIRouter(prefix="/search/v1", tags=["index"])


class RecentLagSeconds(BaseModel):
    samples: int
    p50: float | None
    p99: float | None


class TypeLag(BaseModel):
    objectType: str
    eventsApplied: int
    lastEventTime: datetime
    lastAppliedAt: datetime
    recentLagSeconds: RecentLagSeconds


class IndexLag(BaseModel):
    objectTypes: list[TypeLag]
    consumerGroup: str


@router.get("/lag", response_model=IndexLag)
async def lag(request: Request, caller: Annotated[Principal, Depends(principal)]) -> IndexLag:
    container = request.app.state.container
    async with container.pool.acquire() as conn:
        rows = await read_progress(conn)
    types = [TypeLag(objectType=r["object_type"], eventsApplied=r["events_applied"],
                     lastEventTime=r["last_event_at"], lastAppliedAt=r["last_applied_at"],
                     recentLagSeconds=RecentLagSeconds(
                         **container.recent_lag.summary(r["object_type"])))
             for r in rows]
    return IndexLag(objectTypes=types, consumerGroup=container.index_group)
