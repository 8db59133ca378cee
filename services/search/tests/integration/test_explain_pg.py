"""explain_record on a real index: not indexed, stale version, permission,
filter and free text, each named (R-SRCH-4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_platform.identity.principal import ObjectScope, Principal
from crm_search.domain.query import parse_search_request
from crm_search.handlers.explain import explain_record

pytestmark = pytest.mark.integration
ACCOUNT = 52
NOW = datetime(2025, 3, 1, tzinfo=UTC)
ADMIN = Principal(account_id=ACCOUNT, user_id=1, token_id="t", super_admin=True)
OWN_ONLY = Principal(account_id=ACCOUNT, user_id=5, token_id="t",
                     object_scopes={"contacts": ObjectScope("owned", "owned")})


@pytest.fixture(scope="module")
async def indexed(search_pool):
    async with search_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO search_documents (account_id, object_type, record_id, version,"
            " owner_id, properties, search_text, created_at, updated_at) VALUES"
            " ($1, 'contacts', 10, 3, 99, $2::jsonb, to_tsvector('simple', 'Ann ann@x.io'),"
            " $3, $3)", ACCOUNT, {"firstname": "Ann", "seats": "12"}, NOW)
    return search_pool


async def explain(pool, body, caller=ADMIN, record_id=10, version=None):
    async with pool.acquire() as conn:
        return await explain_record(conn, caller, "contacts", record_id,
                                    parse_search_request(body), {"seats": "number"}, version)


def one(name, operator, value):
    return {"filterGroups": [{"filters": [
        {"propertyName": name, "operator": operator, "value": value}]}]}


async def test_a_matching_record_is_shown(indexed):  # R-SRCH-4
    found = await explain(indexed, one("seats", "GT", "9"))
    assert found.shown and found.indexed_version == 3


async def test_the_excluding_filter_is_named(indexed):  # R-SRCH-4
    found = await explain(indexed, {"filterGroups": [
        {"filters": [{"propertyName": "seats", "operator": "GT", "value": "20"}]},
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "Bob"}]}]})
    assert [(r.kind, r.group_index, r.filter_index) for r in found.reasons] == [
        ("FILTER", 0, 0), ("FILTER", 1, 0)]
    assert "'12'" in found.reasons[0].message


async def test_a_hidden_record_names_the_view_scope(indexed):  # R-SRCH-4 R-AUTH-3
    found = await explain(indexed, {}, caller=OWN_ONLY)
    assert [r.kind for r in found.reasons] == ["PERMISSION"]
    assert "owned" in found.reasons[0].message and "99" in found.reasons[0].message


async def test_not_yet_indexed_and_stale_versions(indexed):  # R-SRCH-4 R-SRCH-2
    missing = await explain(indexed, {}, record_id=11)
    assert [r.kind for r in missing.reasons] == ["NOT_INDEXED"]
    assert missing.indexed_version is None
    stale = await explain(indexed, {}, version=4)
    assert [r.kind for r in stale.reasons] == ["NOT_INDEXED"]
    assert "version 3" in stale.reasons[0].message
    assert (await explain(indexed, {}, version=3)).shown


async def test_the_free_text_query_is_checked_on_the_indexed_text(indexed):  # R-SRCH-4
    assert (await explain(indexed, {"query": "an"})).shown
    missed = await explain(indexed, {"query": "zed"})
    assert [r.kind for r in missed.reasons] == ["FILTER"]
    assert "free-text" in missed.reasons[0].message
