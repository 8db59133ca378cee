"""Health score events onto the customer record (R-HLTH-2, R-CSW-3): trusted
AUTOMATION writes of the read-only health properties, newest score wins, and
the analytics roll-ups as contact properties (R-MKT-2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores.v1 import HealthScoreChanged
from crm_records.domain.record import Record
from crm_records.domain.standard_properties import STANDARD_PROPERTIES
from crm_records.domain.tracking import PageViewSummary
from crm_records.handlers.health import HealthSession, apply_health_events
from crm_records.handlers.records import Actor, RecordsHandler
from crm_records.handlers.tracking import analytics_values

from .conftest import FakeStore

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


class FakeHealthStore:
    def __init__(self, uow) -> None:
        self.uow = uow
        self.stamps: dict[tuple[int, str, int], datetime] = {}

    async def get_records(self, account_id: int, object_type: str,
                          record_ids: Sequence[int]) -> dict[int, Record]:
        return await FakeStore(self.uow.state).get_many(account_id, object_type, record_ids)

    async def has_properties(self, account_id: int, object_type: str,
                             names: Sequence[str]) -> bool:
        catalog = self.uow.state.catalogs.get((account_id, object_type), {})
        return all(n in catalog for n in names)

    async def advance_health_stamps(self, account_id: int, object_type: str,
                                    stamps: Mapping[int, datetime]) -> set[int]:
        advanced = set()
        for record_id, changed_at in stamps.items():
            key = (account_id, object_type, record_id)
            if key not in self.stamps or self.stamps[key] < changed_at:
                self.stamps[key] = changed_at
                advanced.add(record_id)
        return advanced


def _changed(company_id: int, score: int, band: str, at: datetime,
             object_type: str = "companies") -> CloudEvent:
    return CloudEvent.of(HealthScoreChanged(
        account_id=7, profile_id="p1", profile_name="Default",
        customer_object_type=object_type, customer_id=company_id, old_score=None,
        new_score=score, old_band=None, new_band=band, cause="event", changed_at=at),
        source="/healthscores", subject=f"companies/{company_id}", account_id=7)


def test_health_status_options_are_the_health_bands():  # R-HLTH-1
    for object_type in ("contacts", "companies"):
        status = STANDARD_PROPERTIES[object_type]["health_status"]
        assert status.option_values == ("at_risk", "neutral", "healthy")
        assert status.read_only and STANDARD_PROPERTIES[object_type]["health_score"].read_only


async def test_a_score_is_written_as_automation_and_an_older_one_never_wins(uow):  # R-HLTH-2
    records = RecordsHandler(uow, clock=lambda: NOW)
    [company] = await records.create(Actor(7, 70), "companies", [{"name": "Acme"}])
    session = HealthSession(FakeHealthStore(uow), records)
    newer, older = (_changed(company.record_id, 82, "healthy", NOW),
                    _changed(company.record_id, 20, "at_risk", NOW - timedelta(hours=1)))
    await apply_health_events(session, [newer])
    await apply_health_events(session, [older, newer])  # late, then repeated
    stored = uow.state.records[(7, "companies", company.record_id)]
    assert stored.properties["health_score"] == "82"
    assert stored.properties["health_status"] == "healthy"
    written = [h for h in uow.state.history if h[1] == "health_score"]
    assert [(h[2], h[4], h[5]) for h in written] == [("82", "AUTOMATION",
                                                      f"healthscore:{newer.id}")]
    updates = uow.events_of("crm.record.updated.v1")
    assert len(updates) == 1
    # The objectTypeId names the same type; a vanished record is passed over.
    await apply_health_events(session, [_changed(company.record_id, 30, "at_risk",
                                                 NOW + timedelta(hours=1), "0-2"),
                                        _changed(999_999, 50, "neutral", NOW)])
    assert uow.state.records[(7, "companies", company.record_id)].properties[
        "health_status"] == "at_risk"


async def test_a_batch_writes_each_customer_once_with_its_newest_score(uow):  # R-HLTH-2
    records = RecordsHandler(uow, clock=lambda: NOW)
    acme, globex = await records.create(Actor(7, 70), "companies",
                                        [{"name": "Acme"}, {"name": "Globex"}])
    session = HealthSession(FakeHealthStore(uow), records)
    acme_first = _changed(acme.record_id, 40, "neutral", NOW - timedelta(minutes=2))
    acme_last = _changed(acme.record_id, 85, "healthy", NOW - timedelta(minutes=1), "0-2")
    globex_only = _changed(globex.record_id, 15, "at_risk", NOW - timedelta(minutes=3))
    acme_late = _changed(acme.record_id, 10, "at_risk", NOW - timedelta(minutes=5))
    await apply_health_events(session, [acme_first, globex_only, acme_last, acme_late])
    state = uow.state.records
    assert state[(7, "companies", acme.record_id)].properties["health_score"] == "85"
    assert state[(7, "companies", globex.record_id)].properties["health_score"] == "15"
    written = sorted((h[0], h[2], h[5]) for h in uow.state.history if h[1] == "health_score")
    assert written == sorted([(acme.record_id, "85", f"healthscore:{acme_last.id}"),
                              (globex.record_id, "15", f"healthscore:{globex_only.id}")])
    updates = uow.events_of("crm.record.updated.v1")
    assert sorted(e.event.data["record_id"] for e in updates) == sorted(
        [acme.record_id, globex.record_id])
    # The superseded change, delivered again in a later batch, changes nothing.
    await apply_health_events(session, [acme_first])
    assert state[(7, "companies", acme.record_id)].properties["health_score"] == "85"
    assert len(uow.events_of("crm.record.updated.v1")) == 2


def test_page_view_rollups_become_contact_properties():  # R-MKT-2
    summary = PageViewSummary(3, "https://a.io/", NOW - timedelta(days=1), "https://a.io/p",
                              NOW)
    values = analytics_values(summary)
    assert values == {"hs_analytics_num_page_views": "3",
                      "hs_analytics_first_url": "https://a.io/",
                      "hs_analytics_last_url": "https://a.io/p",
                      "hs_analytics_first_timestamp": "2024-04-30T09:30:00.000Z",
                      "hs_analytics_last_timestamp": "2024-05-01T09:30:00.000Z"}
    contacts = STANDARD_PROPERTIES["contacts"]
    assert all(contacts[name].read_only for name in values)
    assert not contacts["hs_email_optout"].read_only
