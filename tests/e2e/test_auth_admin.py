"""Accounts, users and tokens made with `crm-admin` against the running platform,
then enforced through the gateway: by records directly and by search from its
own copy of the identity events (R-AUTH-1, R-AUTH-2, R-AUTH-3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def crm_admin(gateway_url: str, operator_key: str, *args: str) -> dict[str, str]:
    """Run the command as a user would; its NAME=value lines as a dictionary."""
    env = {**os.environ, "CRM_BASE_URL": gateway_url, "RECORDS_OPERATOR_KEY": operator_key}
    done = subprocess.run([sys.executable, "-m", "crm_records.admin", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_status(url: str, headers: dict[str, str], status: int, within: float,
                    method: str = "GET", body: dict | None = None) -> float:
    """Seconds until `url` answers `status`; fails after `within` seconds."""
    started = time.monotonic()
    while True:
        answer = httpx.request(method, url, headers=headers, json=body, timeout=10)
        if answer.status_code == status:
            return time.monotonic() - started
        assert time.monotonic() - started < within, (answer.status_code, answer.text)
        time.sleep(0.1)


def test_crm_admin_makes_an_account_a_user_and_tokens(gateway_url, operator_key, tmp_path: Path):
    # R-AUTH-1, R-AUTH-2
    env_file = tmp_path / "made" / "acme.env"
    account = crm_admin(gateway_url, operator_key, "account", "create", "--name", "Acme e2e",
                        "--tier", "enterprise", "--env-file", str(env_file))
    assert account["CRM_BASE_URL"] == gateway_url.rstrip("/")
    assert f"CRM_TOKEN={account['CRM_TOKEN']}" in env_file.read_text()
    admin = account["CRM_TOKEN"]

    email = f"ada-{uuid.uuid4().hex[:8]}@acme.test"
    user = crm_admin(gateway_url, operator_key, "user", "add", "--token", admin, "--email", email,
                     "--seat", "--permission", "cs_workspace_access",
                     "--scope", "contacts=team:owned", "--team", "Support")
    me = httpx.get(f"{gateway_url}/identity/v1/me", headers=bearer(user["CRM_TOKEN"]))
    assert me.status_code == 200, me.text
    assert me.json()["objectScopes"] == {"contacts": {"view": "team", "edit": "owned"}}
    assert me.json()["teams"][0]["name"] == "Support"
    assert me.json()["serviceSeat"] is True

    owners = httpx.get(f"{gateway_url}/crm/v3/owners", headers=bearer(admin),
                       params={"email": email})
    assert owners.status_code == 200, owners.text
    assert owners.json()["results"][0]["id"] == user["CRM_USER_ID"]

    second = crm_admin(gateway_url, operator_key, "token", "issue", "--token", admin,
                       "--user-id", user["CRM_USER_ID"], "--ttl-days", "1")
    crm_admin(gateway_url, operator_key, "token", "revoke", "--token", admin,
              "--token-id", second["CRM_TOKEN_ID"])
    took = wait_for_status(f"{gateway_url}/identity/v1/me", bearer(second["CRM_TOKEN"]), 401,
                           within=2.0)
    assert took < 2.0
    still = httpx.get(f"{gateway_url}/identity/v1/me", headers=bearer(user["CRM_TOKEN"]))
    assert still.status_code == 200  # only the revoked token stops


def test_a_user_who_is_not_super_admin_cannot_make_users(gateway_url, operator_key):  # R-AUTH-2
    account = crm_admin(gateway_url, operator_key, "account", "create", "--name", "e2e")
    user = crm_admin(gateway_url, operator_key, "user", "add", "--token", account["CRM_TOKEN"],
                     "--email", f"u-{uuid.uuid4().hex[:8]}@acme.test")
    env = {**os.environ, "CRM_BASE_URL": gateway_url}
    refused = subprocess.run(
        [sys.executable, "-m", "crm_records.admin", "user", "add", "--token",
         user["CRM_TOKEN"], "--email", "x@acme.test"],
        env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "403" in refused.stderr and "super admin" in refused.stderr


def test_search_refuses_a_revoked_token_from_its_own_identity_copy(gateway_url, operator_key):
    # R-AUTH-1: every service applies the identity events, not only records
    account = crm_admin(gateway_url, operator_key, "account", "create", "--name", "e2e search")
    admin = account["CRM_TOKEN"]
    issued = crm_admin(gateway_url, operator_key, "token", "issue", "--token", admin,
                       "--user-id", account["CRM_USER_ID"], "--ttl-days", "1")
    search = f"{gateway_url}/crm/v3/objects/contacts/search"
    query = {"filterGroups": [], "limit": 1}
    # The new user reaches search's copy through Kafka first, then the revocation.
    wait_for_status(search, bearer(issued["CRM_TOKEN"]), 200, within=20.0, method="POST",
                    body=query)
    crm_admin(gateway_url, operator_key, "token", "revoke", "--token", admin,
              "--token-id", issued["CRM_TOKEN_ID"])
    wait_for_status(search, bearer(issued["CRM_TOKEN"]), 401, within=20.0, method="POST",
                    body=query)
    assert httpx.post(search, headers=bearer(admin), json=query).status_code == 200
