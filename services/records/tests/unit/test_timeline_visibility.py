"""The timeline under record-level visibility (R-AUTH-3): a record the caller may
not see has no timeline, and engagements they may not see never appear."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from crm_platform.identity.principal import ObjectScope, Principal
from crm_records.domain.record import Record
from crm_records.handlers.engagements import TimelineHandler
from crm_records.handlers.records import RecordNotFound

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _record(object_type: str, record_id: int, owner: int, at: str) -> Record:
    return Record(7, object_type, record_id, 1, {"hubspot_owner_id": str(owner),
                                                 "hs_timestamp": at}, NOW, NOW)


CONTACT = _record("contacts", 1, 70, "2024-01-01T00:00:00.000Z")
MINE = _record("notes", 11, 70, "2024-02-01T00:00:00.000Z")
THEIRS = _record("notes", 12, 71, "2024-03-01T00:00:00.000Z")


class FakeTimelineStore:
    async def get_record(self, account_id: int, object_type: str,
                         record_id: int) -> Record | None:
        return CONTACT if (object_type, record_id) == ("contacts", 1) else None

    async def associated_engagements(self, account_id: int, object_type: str,
                                     record_id: int) -> list[Record]:
        return [MINE, THEIRS]

    async def emails_logged_to(self, account_id: int,
                               addresses: Sequence[str]) -> list[Record]:
        return []


@asynccontextmanager
async def _uow():
    yield FakeTimelineStore()


def _viewer(user_id: int, scope: str) -> Principal:
    return Principal(7, user_id, "t", object_scopes={"*": ObjectScope(scope, scope)})


async def test_only_engagements_the_viewer_may_see_are_on_the_timeline():  # R-AUTH-3
    handler = TimelineHandler(_uow)
    everything = await handler.timeline(7, "contacts", 1, viewer=_viewer(70, "all"))
    assert [i.id for i in everything.items] == [12, 11]
    own = await handler.timeline(7, "contacts", 1, viewer=_viewer(70, "owned"))
    assert [i.id for i in own.items] == [11]


async def test_a_record_out_of_view_has_no_timeline():  # R-AUTH-3
    with pytest.raises(RecordNotFound):
        await TimelineHandler(_uow).timeline(7, "contacts", 1, viewer=_viewer(71, "owned"))
