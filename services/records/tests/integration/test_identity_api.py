"""Accounts, users, teams, tokens and owners through the records HTTP API, run
in-process on the real PostgreSQL, Redis and Kafka (R-AUTH-1, R-AUTH-2, R-AUTH-4),
and identity events reaching another service's directory through Kafka."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from crm_platform.broker import dead_letter_sink, make_broker
from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL
from crm_platform.db import create_pool, ensure_database
from crm_platform.identity.consumer import subscribe_identity
from crm_platform.identity.pg_directory import IDENTITY_TABLES_SQL
from crm_platform.identity.tokens import issue_token
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    eventually,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)
from crm_records.api import owners
from crm_records.main import create_app
from crm_records.settings import Settings

pytestmark = pytest.mark.integration


def email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Identity:
    client: httpx.AsyncClient
    settings: Settings

    async def new_account(self) -> tuple[int, int, dict[str, str]]:
        answer = await self.client.post(
            "/identity/v1/accounts", json={"name": "identity-it", "adminEmail": email()},
            headers={"X-Operator-Key": self.settings.operator_key.get_secret_value()})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return body["accountId"], body["userId"], bearer(body["token"])

    async def add_user(self, admin: dict[str, str], **fields: object) -> dict:
        answer = await self.client.post("/identity/v1/users", headers=admin,
                                        json={"email": email(), **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()

    async def token_for(self, admin: dict[str, str], user_id: int,
                        ttl_seconds: int = 3600) -> dict:
        answer = await self.client.post("/identity/v1/tokens", headers=admin,
                                        json={"userId": user_id, "ttlSeconds": ttl_seconds})
        assert answer.status_code == 201, answer.text
        return answer.json()


def records_settings(**overrides: object) -> Settings:
    values = {"run_outbox_relay": True,
              "consumer_group_prefix": unique_group_prefix("identity"), **overrides}
    return Settings(**service_env("RECORDS_", **values))


def records_app(settings: Settings) -> FastAPI:
    """The records app, with the owners routes even before main.py includes them."""
    app = create_app(settings)
    if not any(getattr(r, "path", "").startswith("/crm/v3/owners") for r in app.routes):
        app.include_router(owners.router)
    return app


@pytest.fixture(scope="module")
async def identity(groups_start_at_end) -> AsyncIterator[Identity]:
    settings = records_settings()
    settings.database_url = throwaway_database_url(settings.database_url, "identity")
    await groups_start_at_end(settings)  # no test here waits on the records consumers
    try:
        async with running(records_app(settings)) as client:
            yield Identity(client, settings)
    finally:
        await drop_database(settings.database_url)


async def test_super_admin_adds_user_with_owned_scope_and_teams(identity):  # R-AUTH-2
    _, admin_id, admin = await identity.new_account()
    team = (await identity.client.post("/identity/v1/teams", headers=admin,
                                       json={"name": "East"})).json()
    user = await identity.add_user(
        admin, firstName="Ada", lastName="Lovelace", teamIds=[team["id"]], serviceSeat=True,
        permissions=["cs_workspace_access"],
        objectScopes={"contact": {"view": "owned", "edit": "owned"}})
    assert user["objectScopes"] == {"contacts": {"view": "owned", "edit": "owned"}}
    assert user["teams"] == [{"id": team["id"], "name": "East", "primary": True}]
    assert (user["superAdmin"], user["serviceSeat"], user["version"]) == (False, True, 1)

    token = await identity.token_for(admin, user["id"])
    me = await identity.client.get("/identity/v1/me", headers=bearer(token["token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]
    assert me.json()["permissions"] == ["cs_workspace_access"]

    # Every change is a new version, in the user row and the directory row alike.
    changed = await identity.client.patch(f"/identity/v1/users/{user['id']}", headers=admin,
                                          json={"permissions": ["export"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    rows = await sql(identity, "SELECT version, profile FROM identity_users WHERE user_id = $1",
                     user["id"])
    assert rows[0]["version"] == 2
    assert '"export"' in rows[0]["profile"]

    members = await identity.client.put(f"/identity/v1/teams/{team['id']}/members",
                                        headers=admin, json={"userIds": [admin_id]})
    assert members.json()["userIds"] == [admin_id]
    moved = await identity.client.get(f"/identity/v1/users/{user['id']}", headers=admin)
    assert (moved.json()["teams"], moved.json()["version"]) == ([], 3)


async def test_a_user_who_is_not_super_admin_gets_403_naming_it(identity):  # R-AUTH-2
    _, _, admin = await identity.new_account()
    user = await identity.add_user(admin, permissions=["export"])
    headers = bearer((await identity.token_for(admin, user["id"]))["token"])
    answer = await identity.client.post("/identity/v1/users", headers=headers,
                                        json={"email": email()})
    assert answer.status_code == 403, answer.text
    assert "super admin" in answer.json()["message"]
    assert answer.json()["category"] == "MISSING_SCOPES"
    issued = await identity.client.post("/identity/v1/tokens", headers=headers,
                                        json={"userId": user["id"]})
    assert issued.status_code == 403


async def test_another_accounts_ids_answer_404(identity):  # R-AUTH-1
    _, _, admin_a = await identity.new_account()
    _, admin_b_id, admin_b = await identity.new_account()
    user_b = await identity.add_user(admin_b)
    token_b = await identity.token_for(admin_b, user_b["id"])
    team_b = (await identity.client.post("/identity/v1/teams", headers=admin_b,
                                         json={"name": "B team"})).json()
    tries = [
        ("GET", f"/identity/v1/users/{user_b['id']}", None),
        ("PATCH", f"/identity/v1/users/{user_b['id']}", {"superAdmin": True}),
        ("DELETE", f"/identity/v1/users/{admin_b_id}", None),
        ("POST", "/identity/v1/tokens", {"userId": user_b["id"]}),
        ("DELETE", f"/identity/v1/tokens/{token_b['tokenId']}", None),
        ("GET", f"/identity/v1/teams/{team_b['id']}", None),
        ("PUT", f"/identity/v1/teams/{team_b['id']}/members", {"userIds": []}),
        ("GET", f"/crm/v3/owners/{user_b['id']}", None),
    ]
    for method, path, body in tries:
        answer = await identity.client.request(method, path, headers=admin_a, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    # and account A's own team cannot take in account B's user
    team_a = (await identity.client.post("/identity/v1/teams", headers=admin_a,
                                         json={"name": "A team"})).json()
    answer = await identity.client.put(f"/identity/v1/teams/{team_a['id']}/members",
                                       headers=admin_a, json={"userIds": [user_b["id"]]})
    assert answer.status_code == 404
    still = await identity.client.get(f"/identity/v1/users/{user_b['id']}", headers=admin_b)
    assert still.json()["version"] == 1  # nothing of B changed


async def test_a_revoked_token_is_refused_within_two_seconds(identity):  # R-AUTH-1
    _, _, admin = await identity.new_account()
    user = await identity.add_user(admin)
    token = await identity.token_for(admin, user["id"])
    headers = bearer(token["token"])
    assert (await identity.client.get("/identity/v1/me", headers=headers)).status_code == 200
    revoked = await identity.client.delete(f"/identity/v1/tokens/{token['tokenId']}",
                                           headers=admin)
    assert revoked.status_code == 204, revoked.text
    started = time.monotonic()

    async def refused() -> bool:
        return (await identity.client.get("/identity/v1/me", headers=headers)).status_code == 401

    await eventually(refused, timeout=2.0, what="the revoked token to be refused")
    assert time.monotonic() - started < 2.0
    listed = await identity.client.get(f"/identity/v1/tokens?userId={user['id']}", headers=admin)
    assert listed.json()["results"][0]["revokedAt"] is not None
    # Revoking again is fine; the admin's own token still works.
    again = await identity.client.delete(f"/identity/v1/tokens/{token['tokenId']}",
                                         headers=admin)
    assert again.status_code == 204


async def test_expired_forged_and_missing_tokens_answer_401(identity):  # R-AUTH-1
    account_id, _, admin = await identity.new_account()
    user = await identity.add_user(admin)
    short = await identity.token_for(admin, user["id"], ttl_seconds=1)
    await asyncio.sleep(1.1)
    expired = await identity.client.get("/identity/v1/me", headers=bearer(short["token"]))
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]

    forged, _ = issue_token("not-the-secret", account_id, user["id"], timedelta(hours=1))
    answer = await identity.client.get("/crm/v3/owners", headers=bearer(forged))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")

    missing = await identity.client.get("/crm/v3/owners")
    assert missing.status_code == 401
    assert missing.json()["category"] == "INVALID_AUTHENTICATION"


async def test_deactivated_user_is_refused_and_leaves_the_owners_list(identity):
    # R-AUTH-1, R-AUTH-2, R-REC-3
    _, admin_id, admin = await identity.new_account()
    user = await identity.add_user(admin, firstName="Grace")
    headers = bearer((await identity.token_for(admin, user["id"]))["token"])
    gone = await identity.client.delete(f"/identity/v1/users/{user['id']}", headers=admin)
    assert gone.status_code == 204, gone.text

    async def refused() -> bool:
        return (await identity.client.get("/identity/v1/me", headers=headers)).status_code == 401

    await eventually(refused, timeout=2.0, what="the deactivated user's token to be refused")
    active = await identity.client.get("/crm/v3/owners", headers=admin)
    assert [o["id"] for o in active.json()["results"]] == [str(admin_id)]
    archived = await identity.client.get("/crm/v3/owners?archived=true", headers=admin)
    [owner] = archived.json()["results"]
    assert (owner["id"], owner["archived"], owner["firstName"]) == (str(user["id"]), True,
                                                                    "Grace")
    # The last active super admin cannot be removed.
    last = await identity.client.delete(f"/identity/v1/users/{admin_id}", headers=admin)
    assert last.status_code == 409, last.text


async def test_owners_list_pages_filters_and_reads_one(identity):  # R-REC-3, R-AUTH-1
    _, admin_id, admin = await identity.new_account()
    team = (await identity.client.post("/identity/v1/teams", headers=admin,
                                       json={"name": "Support"})).json()
    ada = await identity.add_user(admin, firstName="Ada", lastName="King",
                                  teamIds=[team["id"]])
    await identity.add_user(admin)

    first = await identity.client.get("/crm/v3/owners?limit=2", headers=admin)
    assert first.status_code == 200, first.text
    assert [o["id"] for o in first.json()["results"]] == [str(admin_id), str(ada["id"])]
    after = first.json()["paging"]["next"]["after"]
    rest = await identity.client.get(f"/crm/v3/owners?limit=2&after={after}", headers=admin)
    assert len(rest.json()["results"]) == 1 and "paging" not in rest.json()

    by_email = await identity.client.get("/crm/v3/owners", headers=admin,
                                         params={"email": ada["email"].upper()})
    [owner] = by_email.json()["results"]
    assert owner == {
        "id": str(ada["id"]), "email": ada["email"], "type": "PERSON", "firstName": "Ada",
        "lastName": "King", "userId": ada["id"], "userIdIncludingInactive": ada["id"],
        "createdAt": owner["createdAt"], "updatedAt": owner["updatedAt"], "archived": False,
        "teams": [{"id": str(team["id"]), "name": "Support", "primary": True}]}
    one = await identity.client.get(f"/crm/v3/owners/{ada['id']}?idProperty=userId",
                                    headers=admin)
    assert one.json() == owner
    unknown = await identity.client.get("/crm/v3/owners/999999999", headers=admin)
    assert unknown.status_code == 404


async def test_bursts_past_the_limit_answer_429_with_retry_after(identity):  # R-AUTH-4
    _, _, admin = await identity.new_account()
    settings = records_settings(rate_limit_per_10s=5, run_outbox_relay=False)
    settings.database_url = identity.settings.database_url
    async with running(records_app(settings)) as client:
        answers = [await client.get("/crm/v3/owners", headers=admin) for _ in range(7)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [200] * 5, codes
    assert codes[5:] == [429, 429]
    assert 1 <= int(answers[5].headers["retry-after"]) <= 10
    assert answers[5].json()["category"] == "RATE_LIMITS"
    assert answers[0].headers["x-hubspot-ratelimit-max"] == "5"


async def test_identity_events_reach_another_services_directory(identity):
    # R-AUTH-1, R-AUTH-2, R-BUS-2, R-BUS-3: outbox -> Kafka -> subscribe_identity
    other_db = throwaway_database_url(identity.settings.database_url, "other")
    await ensure_database(other_db)
    conn = await asyncpg.connect(other_db)
    await conn.execute(IDENTITY_TABLES_SQL + PROCESSED_EVENTS_TABLE_SQL)
    await conn.close()
    pool = await create_pool(other_db)
    broker = make_broker(identity.settings.kafka_bootstrap_servers)
    subscribe_identity(broker, pool, "othersvc", dead_letter_sink(broker),
                       group_prefix=unique_group_prefix("identity"))
    # From the topic's end: the copy reads the events of the account made below, not
    # the users of every earlier run that the shared topic still holds.
    await commit_subscribed_groups_at_end(identity.settings.kafka_bootstrap_servers, broker)
    try:
        await broker.start()
        account_id, _, admin = await identity.new_account()
        user = await identity.add_user(admin)
        await identity.client.patch(f"/identity/v1/users/{user['id']}", headers=admin,
                                    json={"serviceSeat": True})
        token = await identity.token_for(admin, user["id"])
        await identity.client.delete(f"/identity/v1/tokens/{token['tokenId']}", headers=admin)

        async def copied() -> bool:
            # by account too: the shared topic holds other runs' users with this id
            version = await pool.fetchval(
                "SELECT version FROM identity_users WHERE account_id = $1 AND user_id = $2",
                account_id, user["id"])
            revoked = await pool.fetchval(
                "SELECT count(*) FROM identity_revoked_tokens WHERE token_id = $1",
                token["tokenId"])
            return version == 2 and revoked == 1

        await eventually(copied, timeout=30, what="the other service's identity copy")
    finally:
        await broker.stop()
        await pool.close()
        await drop_database(other_db)


async def sql(identity: Identity, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(identity.settings.database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()




async def test_users_list_keeps_its_schema_for_a_user_without_names(identity):  # R-AUTH-2
    # Regression (found by the schema fuzzer): a user made without first and last
    # name was listed without those fields, which the schema requires (as null).
    _, _, admin = await identity.new_account()
    await identity.add_user(admin)
    listed = await identity.client.get("/identity/v1/users", headers=admin)
    assert listed.status_code == 200, listed.text
    for user in listed.json()["results"]:
        assert "firstName" in user and "lastName" in user


async def test_owners_without_names_keep_their_schema(identity):  # R-REC-3
    # Regression (found by the schema fuzzer): owners without names leave the
    # fields out, so the schema must not require them.
    from crm_records.api.owners import PublicOwner

    _, _, admin = await identity.new_account()
    await identity.add_user(admin)
    listed = await identity.client.get("/crm/v3/owners", headers=admin)
    assert listed.status_code == 200, listed.text
    required = set(PublicOwner.model_json_schema()["required"])
    for owner in listed.json()["results"]:
        assert required <= set(owner), required - set(owner)
