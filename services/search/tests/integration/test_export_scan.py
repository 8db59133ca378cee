"""POST /search/v1/export-scan/{type} over HTTP on a throwaway index: keyset pages
past search's caps, associated records named, the caller's scopes applied to
rows and associated records alike, the export permission required."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from crm_platform.db import migrate_async
from crm_platform.identity.pg_directory import apply_user_event
from crm_platform.identity.principal import (
    ANY_OBJECT_TYPE,
    EXPORT,
    FULL_ACCESS,
    AccessProfile,
    ObjectScope,
)
from crm_platform.identity.tokens import issue_token
from crm_platform.testing import drop_database, running, service_env, throwaway_database_url
from crm_search.main import MIGRATIONS, create_app
from crm_search.settings import Settings

pytestmark = pytest.mark.integration
ACCOUNT = 77
ADMIN, OWNER, NO_EXPORT = 1, 5, 9
NOW = datetime(2025, 3, 1, tzinfo=UTC)
CONTACTS = 12  # ids 1..12, odd ones owned by OWNER
COMPANIES = {101: (OWNER, "Acme"), 102: (None, "=Bad Co"), 103: (OWNER, "")}


def _contact_owner(i: int) -> int | None:
    return OWNER if i % 2 else None


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = Settings(**service_env("SEARCH_", run_consumers=False))
    settings.database_url = throwaway_database_url(settings.database_url, "scan")
    await migrate_async(settings.database_url, MIGRATIONS)
    app = create_app(settings)
    try:
        async with running(app) as http:
            await _load(app.state.runtime.pool)
            yield http, settings.token_secret.get_secret_value()
    finally:
        await drop_database(settings.database_url)


async def _load(pool) -> None:
    rows = [(ACCOUNT, "contacts", i, _contact_owner(i),
             json.dumps({"firstname": f"F{i}", "lastname": "Scan" if i != 12 else "Other",
                         "email": f"c{i}@x.io"})) for i in range(1, CONTACTS + 1)]
    rows += [(ACCOUNT, "companies", cid, owner, json.dumps({"name": name, "domain": f"d{cid}.io"}))
             for cid, (owner, name) in COMPANIES.items()]
    rows.append((ACCOUNT + 1, "contacts", 13, None, json.dumps({"firstname": "Elsewhere"})))
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO search_documents (account_id, object_type, record_id, version, owner_id,"
            " properties, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5::text::jsonb,"
            " $6, $6)", [(*row, NOW) for row in rows])
        # Contact 1 -> all three companies (one pair stored only the other way round),
        # contact 2 -> 101, and a removed pair contact 3 -> 101.
        await conn.executemany(
            "INSERT INTO search_associations (account_id, from_type, from_id, to_type, to_id,"
            " associated) VALUES ($1, $2, $3, $4, $5, $6)",
            [(ACCOUNT, "contacts", 1, "companies", 101, True),
             (ACCOUNT, "contacts", 1, "companies", 102, True),
             (ACCOUNT, "companies", 103, "contacts", 1, True),
             (ACCOUNT, "contacts", 2, "companies", 101, True),
             (ACCOUNT, "contacts", 3, "companies", 101, False)])
        everyone = {ANY_OBJECT_TYPE: FULL_ACCESS}
        for profile in (
            AccessProfile(account_id=ACCOUNT, user_id=ADMIN, permissions=frozenset({EXPORT}),
                          object_scopes=everyone),
            AccessProfile(account_id=ACCOUNT, user_id=OWNER, permissions=frozenset({EXPORT}),
                          object_scopes={ANY_OBJECT_TYPE: ObjectScope("owned", "owned")}),
            AccessProfile(account_id=ACCOUNT, user_id=NO_EXPORT, object_scopes=everyone),
        ):
            await apply_user_event(conn, profile, 1)


def _headers(secret: str, user_id: int) -> dict[str, str]:
    token, _ = issue_token(secret, ACCOUNT, user_id, timedelta(minutes=5))
    return {"Authorization": f"Bearer {token}"}


async def _scan(client, user_id: int, body: dict) -> httpx.Response:
    http, secret = client
    return await http.post("/search/v1/export-scan/contacts", json=body,
                           headers=_headers(secret, user_id))


COMPANY_NAMES = {"toObjectType": "company", "properties": ["name", "domain"]}


async def test_pages_by_keyset_with_named_associations(client):  # R-EXP-4 R-SRCH-1
    first = await _scan(client, ADMIN, {"limit": 5, "properties": ["email"],
                                        "associations": [COMPANY_NAMES]})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [hit["id"] for hit in page["results"]] == ["1", "2", "3", "4", "5"]
    assert page["results"][0]["properties"] == {"email": "c1@x.io"}
    assert page["results"][0]["associations"]["companies"] == ["101", "102", "103"]  # both ways
    assert page["results"][1]["associations"]["companies"] == ["101"]
    assert page["results"][2]["associations"]["companies"] == []  # removed pair
    # each associated record once a page, with the properties asked for
    assert page["associatedRecords"] == {"companies": {
        "101": {"name": "Acme", "domain": "d101.io"},
        "102": {"name": "=Bad Co", "domain": "d102.io"},
        "103": {"name": "", "domain": "d103.io"}}}
    assert page["paging"]["next"]["after"] == "5"

    ids, after = [], "0"
    while after:
        answer = (await _scan(client, ADMIN, {"limit": 5, "after": after})).json()
        ids += [int(hit["id"]) for hit in answer["results"]]
        after = answer.get("paging", {}).get("next", {}).get("after")
    assert ids == list(range(1, CONTACTS + 1))  # no other account's contact 13


async def test_association_limit_keeps_the_first_by_id(client):  # R-EXP-4
    body = {"limit": 1, "associations": [{**COMPANY_NAMES, "limit": 2}]}
    page = (await _scan(client, ADMIN, body)).json()
    assert page["results"][0]["associations"]["companies"] == ["101", "102"]
    assert set(page["associatedRecords"]["companies"]) == {"101", "102"}  # only those named
    everything = {"limit": 1, "associations": [{**COMPANY_NAMES, "limit": None}]}
    hit = (await _scan(client, ADMIN, everything)).json()["results"][0]
    assert len(hit["associations"]["companies"]) == 3


async def test_filters_and_free_text_are_the_searchs(client):  # R-SRCH-1
    body = {"filterGroups": [{"filters": [
        {"propertyName": "lastname", "operator": "EQ", "value": "other"}]}], "limit": 100}
    assert [h["id"] for h in (await _scan(client, ADMIN, body)).json()["results"]] == ["12"]
    body = {"filterGroups": [{"filters": [
        {"propertyName": "hs_object_id", "operator": "LTE", "value": "3"}]}], "after": 1}
    assert [h["id"] for h in (await _scan(client, ADMIN, body)).json()["results"]] == ["2", "3"]


async def test_the_callers_scopes_filter_rows_and_associated_records(client):
    # R-AUTH-3 R-EXP-4: owned scope sees its own contacts and only its own companies.
    answer = (await _scan(client, OWNER, {"limit": 100, "associations": [COMPANY_NAMES]})).json()
    assert [int(h["id"]) for h in answer["results"]] == [i for i in range(1, 13) if i % 2]
    assert answer["results"][0]["associations"]["companies"] == ["101", "103"]
    assert set(answer["associatedRecords"]["companies"]) == {"101", "103"}
    assert "paging" not in answer


async def test_without_the_export_permission_the_scan_is_refused(client):  # R-EXP-1
    answer = await _scan(client, NO_EXPORT, {})
    assert answer.status_code == 403
    assert "'export' permission" in answer.json()["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"sorts": [{"propertyName": "email"}]}, "sorts"),
    ({"limit": 10_001}, "limit"),
    ({"after": "x"}, "after"),
    ({"associations": [{"properties": ["name"]}]}, "associations[0].toObjectType"),
    ({"associations": [COMPANY_NAMES, COMPANY_NAMES]}, "associations"),
    ({"filterGroups": [{"filters": [{"propertyName": "x", "operator": "NOPE"}]}]},
     "filterGroups[0].filters[0].operator"),
])
async def test_bad_input_is_a_400_naming_the_field(client, body, field):
    answer = await _scan(client, ADMIN, body)
    assert answer.status_code == 400, answer.text
    assert field in [e["in"] for e in answer.json()["errors"]], answer.json()
