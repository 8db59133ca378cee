"""The Enterprise health extras of the Summary (R-CSW-3): a score profile choice,
the score distribution and the average over time, from crm.healthscore.changed.v1
events applied by the workspace's consumer handler to a real PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores.v1 import HealthScoreChanged
from crm_platform.db import create_pool, migrate_async
from crm_platform.identity.principal import ObjectScope, Principal
from crm_platform.problem import ApiError
from crm_platform.testing import drop_database, throwaway_database_url
from crm_workspace.api.summary import summary
from crm_workspace.bootstrap import Container
from crm_workspace.handlers.health_scores import apply_score_changes
from crm_workspace.handlers.read_model import apply_record_events
from crm_workspace.main import MIGRATIONS

pytestmark = pytest.mark.integration
DSN = os.environ.get("WORKSPACE_DATABASE_URL",
                     "postgresql://postgres@127.0.0.1:15432/crm_workspace")
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.replace(hour=0, minute=0, second=0)
ACCOUNT, CSM, OTHER = 1, 7, 8


def _customer(record_id: int, owner: int, score: int, band: str) -> CloudEvent:
    at = NOW.isoformat().replace("+00:00", "Z")
    return CloudEvent("crm.record.created.v1", "test", f"companies/{record_id}", ACCOUNT, data={
        "account_id": ACCOUNT, "object_type": "companies", "record_id": record_id,
        "version": 1, "archived": False, "created_at": at, "updated_at": at,
        "properties": {"hubspot_owner_id": str(owner), "health_score": str(score),
                       "health_status": band}})


def _scored(customer: int, profile: str, score: int | None, band: str | None,
            days_ago: int) -> CloudEvent:
    """A change at 01:00 UTC `days_ago` days before today."""
    return CloudEvent.of(HealthScoreChanged(
        account_id=ACCOUNT, profile_id=profile, profile_name=f"Profile {profile}",
        customer_object_type="companies", customer_id=customer, old_score=None,
        new_score=score, old_band=None, new_band=band, cause="time",
        changed_at=TODAY - timedelta(days=days_ago, hours=-1)), source="test",
        subject=f"companies/{customer}", account_id=ACCOUNT)


def _caller(tier: str) -> Principal:
    return Principal(account_id=ACCOUNT, user_id=CSM, token_id="t", service_seat=True,
                     permissions=frozenset({"cs_workspace_access"}), account_tier=tier,
                     object_scopes={"*": ObjectScope("all", "all")})


async def test_profile_choice_distribution_and_average_over_time():
    # R-CSW-3 (Enterprise), R-HLTH-4
    url = throwaway_database_url(DSN, "ws-health")
    try:
        await migrate_async(url, MIGRATIONS)
        pool = await create_pool(url)
        try:
            async with pool.acquire() as conn:
                await apply_record_events(conn, [_customer(1, CSM, 20, "at_risk"),
                                                 _customer(2, CSM, 95, "healthy"),
                                                 _customer(3, OTHER, 50, "neutral")])
                events = [_scored(1, "a", 40, "at_risk", 3), _scored(2, "a", 60, "neutral", 3),
                          _scored(1, "a", 20, "at_risk", 0),
                          _scored(3, "a", 99, "healthy", 3),  # another CSM's customer
                          _scored(2, "b", 95, "healthy", 1)]
                await apply_score_changes(conn, events)
                await apply_score_changes(conn, events[:1])  # a repeat changes nothing
            app = Container(pool=pool, directory=None, limiter=None, token_secret="",
                            api=None)  # type: ignore[arg-type]

            async def read(tier: str, **params):  # type: ignore[no-untyped-def]
                return (await summary(caller=_caller(tier), app=app, timeZone="UTC",
                                      userId=None, alertLimit=100, **params)).health
            standard = await read("standard", healthProfileId=None, healthDays=5)
            assert standard["averageScore"] == 57.5 and "distribution" not in standard

            enterprise = await read("enterprise", healthProfileId=None, healthDays=5)
            assert enterprise["profiles"] == [{"id": "a", "name": "Profile a"},
                                              {"id": "b", "name": "Profile b"}]
            assert enterprise["distribution"]["20-29"] == 1
            assert enterprise["distribution"]["90-100"] == 1
            assert enterprise["historyProfileId"] == "a"
            over_time = enterprise["averageOverTime"]
            assert len(over_time) == 5
            assert over_time[0] == {"date": (TODAY - timedelta(days=4)).date().isoformat(),
                                    "averageScore": None, "customers": 0}
            assert over_time[1]["averageScore"] == 50.0
            assert over_time[-2]["averageScore"] == 50.0  # 40 and 60, the other CSM's left out
            assert over_time[-1]["averageScore"] == 40.0  # customer 1 fell to 20 today

            chosen = await read("enterprise", healthProfileId="b", healthDays=2)
            assert chosen["profileId"] == "b" and chosen["averageScore"] == 95.0
            assert chosen["bands"]["healthy"]["count"] == 1
            assert [p["averageScore"] for p in chosen["averageOverTime"]] == [95.0, 95.0]

            with pytest.raises(ApiError, match="needs Enterprise"):
                await read("standard", healthProfileId="a", healthDays=5)
            with pytest.raises(ApiError, match="no score profile"):
                await read("enterprise", healthProfileId="zzz", healthDays=5)
        finally:
            await pool.close()
    finally:
        await drop_database(url)
