"""The clock (R-HLTH-2: recency decays without events): recompute only the customers
whose next_change_at has passed, so time costs nothing for the others. Each score's
next_change_at is the first instant its value moves by time alone (domain.scoring), so
a tick at `now` finds exactly the scores that are stale at `now`.

`Clock` is injectable: the service reads `container.clock()`; tests and operators pass
an explicit `now` to `tick` (see the operator route) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from crm_healthscore.adapters import store
from crm_healthscore.domain.changes import CAUSE_TIME
from crm_healthscore.handlers.recompute import recompute

log = logging.getLogger("crm.healthscore.clock")
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


async def tick(pool: asyncpg.Pool, now: datetime, *, alert_days: int = 14,
               batch_size: int = 500) -> int:
    """Recompute every customer due at `now`; returns how many were recomputed."""
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            due = await store.due_customers(conn, now, batch_size)
            grouped: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
            for account_id, customer_type, customer_id in due:
                grouped[(account_id, customer_type)][customer_id] = CAUSE_TIME
            for (account_id, customer_type), causes in grouped.items():
                await recompute(conn, account_id, customer_type, causes, now,
                                alert_days=alert_days)
                # A due score of a customer no profile scores any more must not stay due.
                await conn.execute(
                    "UPDATE scores SET next_change_at = NULL WHERE account_id = $1 "
                    "AND customer_type = $2 AND customer_id = ANY($3::bigint[]) "
                    "AND next_change_at <= $4", account_id, customer_type, list(causes), now)
        if not due:  # recomputed scores are no longer due, so this ends
            return done
        done += len(due)


async def run_clock(pool: asyncpg.Pool, clock: Clock, interval_seconds: float,
                    alert_days: int, tick_fn: Callable[..., Awaitable[int]] = tick) -> None:
    """The background loop every replica may run: ticks are idempotent (a recomputed
    score is no longer due), so two replicas ticking together only repeat work."""
    while True:
        try:
            await tick_fn(pool, clock(), alert_days=alert_days)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # store away: try again at the next interval
            log.warning("clock tick failed: %s", exc)
        await asyncio.sleep(interval_seconds)
