"""A user exports a filtered view as CSV through the hosted CRM's official
SDK (its exports client, unchanged, pointed at our gateway), receives the
email on the local SMTP server, downloads the file by the emailed link, and
sees an expired or tampered link refused. Runs against the services
`make test` starts behind the nginx gateway."""

from __future__ import annotations

import csv
import email
import io
import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from crm_exports.bootstrap import link_secret
from crm_exports.domain.links import sign_download_link
from hubspot import HubSpot
from hubspot.crm.exports import PublicCrmSearchRequest, PublicExportViewRequest
from hubspot.crm.exports.models import Filter

pytestmark = pytest.mark.e2e

MAILBOX = Path(__file__).resolve().parents[2] / ".local" / "run" / "smtp" / "messages"
FORMULA = "=cmd|' /C calc'!A0"


def _account(gateway_url: str, operator_key: str, admin_email: str) -> str:
    answer = httpx.post(f"{gateway_url}/identity/v1/accounts",
                        json={"name": "exports-e2e", "adminEmail": admin_email},
                        headers={"X-Operator-Key": operator_key}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def _until(probe, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _mail_to(address: str) -> email.message.Message | None:
    for path in MAILBOX.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            return message
    return None


def test_sdk_exports_a_filtered_view_mailed_with_a_link_that_expires(gateway_url, operator_key):
    # R-EXP-1 R-EXP-2 R-EXP-3 R-EXP-5 R-EXP-6 R-NOTE-1
    admin_email = f"exports-{uuid.uuid4().hex[:8]}@example.com"
    token = _account(gateway_url, operator_key, admin_email)
    headers = {"Authorization": f"Bearer {token}"}
    tag = f"exp{uuid.uuid4().hex[:8]}"  # emails come back lower-cased
    created = httpx.post(f"{gateway_url}/crm/v3/objects/contacts/batch/create", headers=headers,
                         timeout=30, json={"inputs": [
        {"properties": {"email": f"b-{tag}@example.com", "firstname": FORMULA, "lastname": tag}},
        {"properties": {"email": f"a-{tag}@example.com", "firstname": "Ann", "lastname": tag}},
        {"properties": {"email": f"c-{tag}@example.com", "firstname": "Cy", "lastname": "Else"}},
    ]})
    assert created.status_code == 201, created.text
    view = {"filterGroups": [{"filters": [
        {"propertyName": "lastname", "operator": "EQ", "value": tag}]}], "limit": 0}
    _until(lambda: httpx.post(f"{gateway_url}/crm/v3/objects/contacts/search", json=view,
                              headers=headers, timeout=30).json().get("total") == 2,
           "the contacts to be searchable")

    client = HubSpot(access_token=token, host=gateway_url)
    exports = client.crm.exports.public_exports_api
    task = exports.start(public_export_request=PublicExportViewRequest(
        export_type="VIEW", format="CSV", export_name=f"Leads {tag}", language="EN",
        object_type="CONTACT", object_properties=["hs_object_id", "email", "firstname"],
        export_internal_values_options=["VALUES"],
        override_associated_objects_per_definition_per_row_limit=False,
        public_crm_search_request=PublicCrmSearchRequest(
            filters=[Filter(property_name="lastname", operator="EQ", value=tag)],
            sorts=["email"])))
    assert task.id

    status = _until(lambda: (s := exports.get_status(task.id)).status == "COMPLETE" and s,
                    "the export to complete")
    assert status.result.startswith(f"{gateway_url}/crm/v3/exports/download/")

    mail = _until(lambda: _mail_to(admin_email), f"the email to {admin_email}")
    assert mail["Subject"] == f'Your export "Leads {tag}" is ready'
    text = mail.get_payload(decode=True).decode()
    link = re.search(r"(http\S+/crm/v3/exports/download/[\w.-]+)", text).group(1)

    download = httpx.get(link, timeout=30)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Record ID", "Email", "First Name"]
    assert [r[1] for r in rows[1:]] == [f"a-{tag}@example.com", f"b-{tag}@example.com"]
    assert rows[2][2] == "'" + FORMULA  # shown as text, never run

    export_id = task.id
    secret = link_secret(os.environ["EXPORTS_TOKEN_SECRET"])
    expired = sign_download_link(secret, export_id, datetime.now(UTC) - timedelta(seconds=1))
    answer = httpx.get(f"{gateway_url}/crm/v3/exports/download/{expired}", timeout=30)
    assert answer.status_code == 410 and b"Record ID" not in answer.content
    tampered = link.rsplit("/", 1)[1]
    tampered = tampered[:-1] + ("A" if tampered[-1] != "A" else "B")
    answer = httpx.get(f"{gateway_url}/crm/v3/exports/download/{tampered}", timeout=30)
    assert answer.status_code == 403
