"""End-to-end tests drive the platform `make test` started, through the nginx
gateway, as a client of the hosted CRM's API would."""

from __future__ import annotations

import os

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def gateway_url() -> str:
    return os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")


@pytest.fixture(scope="session")
def operator_key() -> str:
    key = os.environ.get("RECORDS_OPERATOR_KEY")
    assert key, "RECORDS_OPERATOR_KEY is not set: run the tests through `make test`"
    return key


@pytest.fixture(scope="session")
def new_account(gateway_url: str, operator_key: str):
    """Makes an account with a super admin; returns (account id, token)."""

    def make(name: str = "e2e") -> tuple[int, str]:
        answer = httpx.post(f"{gateway_url}/identity/v1/accounts", json={"name": name},
                            headers={"X-Operator-Key": operator_key}, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()["accountId"], answer.json()["token"]

    return make
