"""GET /search/v1/lag: how far behind the index is, per object type (R-SRCH-2).

Figures are platform-wide (no account's data): events applied and the newest
event time come from the store every replica writes; the recent p50/p99 are
this replica's last 1,000 events of each type; the consumer-group lag is the
broker's count of record events the index group has not committed yet
(measured every 15 s, null until the first measurement).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from crm_platform import metrics as platform_metrics
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
    consumerGroupLag: int | None


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
    return IndexLag(objectTypes=types, consumerGroup=container.index_group,
                    consumerGroupLag=_group_lag(container.index_group))


def _group_lag(group: str) -> int | None:
    """The sum over partitions of the last broker measurement, if there was one."""
    values = [sample.value for family in platform_metrics.CONSUMER_GROUP_LAG.collect()
              for sample in family.samples if sample.labels.get("group") == group]
    return int(sum(values)) if values else None
