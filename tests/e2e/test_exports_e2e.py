"""A user exports a filtered view as CSV through the hosted CRM's official
SDK (its exports client, unchanged, pointed at our gateway) with an
association column, receives the email on the local SMTP server, downloads
the file by the emailed link, and sees an expired or tampered link refused;
then exports a saved workspace view by its id. Runs against the services
`make test` starts behind the nginx gateway."""

from __future__ import annotations

import csv
import email
import io
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.exports import PublicCrmSearchRequest, PublicExportViewRequest
from hubspot.crm.exports.models import Filter

from crm_exports.bootstrap import link_secret
from crm_exports.domain.links import sign_download_link
from crm_platform.testing import wait_until

pytestmark = pytest.mark.e2e

MAILBOX = Path(__file__).resolve().parents[2] / ".local" / "run" / "smtp" / "messages"
FORMULA = "=cmd|' /C calc'!A0"


def _account(gateway_url: str, operator_key: str, admin_email: str) -> str:
    answer = httpx.post(f"{gateway_url}/identity/v1/accounts",
                        json={"name": "exports-e2e", "adminEmail": admin_email},
                        headers={"X-Operator-Key": operator_key}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def _mail_to(address: str) -> email.message.Message | None:
    for path in MAILBOX.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            return message
    return None


def test_sdk_exports_a_filtered_view_mailed_with_a_link_that_expires(gateway_url, operator_key):
    # R-EXP-1 R-EXP-2 R-EXP-3 R-EXP-4 R-EXP-5 R-EXP-6 R-NOTE-1
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
    company = httpx.post(f"{gateway_url}/crm/v3/objects/companies", headers=headers, timeout=30,
                         json={"properties": {"name": "@Acme", "domain": f"{tag}.test"}})
    assert company.status_code == 201, company.text
    company_id = company.json()["id"]
    formula_contact = next(r["id"] for r in created.json()["results"]
                           if r["properties"]["email"] == f"b-{tag}@example.com")
    linked = httpx.put(f"{gateway_url}/crm/v4/objects/contacts/{formula_contact}/associations/"
                       f"default/companies/{company_id}", headers=headers, timeout=30)
    assert linked.status_code == 200, linked.text
    view = {"filterGroups": [{"filters": [
        {"propertyName": "lastname", "operator": "EQ", "value": tag}]}], "limit": 0}
    wait_until(lambda: httpx.post(f"{gateway_url}/crm/v3/objects/contacts/search", json=view,
                              headers=headers, timeout=30).json().get("total") == 2,
           "the contacts to be searchable")

    client = HubSpot(access_token=token, host=gateway_url)
    exports = client.crm.exports.public_exports_api
    task = exports.start(public_export_request=PublicExportViewRequest(
        export_type="VIEW", format="CSV", export_name=f"Leads {tag}", language="EN",
        object_type="CONTACT", object_properties=["hs_object_id", "email", "firstname"],
        associated_object_type="COMPANY", export_internal_values_options=["VALUES"],
        override_associated_objects_per_definition_per_row_limit=False,
        public_crm_search_request=PublicCrmSearchRequest(
            filters=[Filter(property_name="lastname", operator="EQ", value=tag)],
            sorts=["email"])))
    assert task.id

    status = wait_until(lambda: (s := exports.get_status(task.id)).status == "COMPLETE" and s,
                    "the export to complete")
    assert status.result.startswith(f"{gateway_url}/crm/v3/exports/download/")

    mail = wait_until(lambda: _mail_to(admin_email), f"the email to {admin_email}")
    assert mail["Subject"] == f'Your export "Leads {tag}" is ready'
    text = mail.get_payload(decode=True).decode()
    link = re.search(r"(http\S+/crm/v3/exports/download/[\w.-]+)", text).group(1)

    download = httpx.get(link, timeout=30)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Record ID", "Email", "First Name", "Associated Company",
                       "Associated Company IDs"]
    assert [r[1] for r in rows[1:]] == [f"a-{tag}@example.com", f"b-{tag}@example.com"]
    assert rows[2][2] == "'" + FORMULA  # shown as text, never run
    assert rows[1][3:] == ["", ""] and rows[2][3:] == ["'@Acme", company_id]  # R-EXP-4

    export_id = task.id
    secret = link_secret(os.environ["EXPORTS_TOKEN_SECRET"])
    expired = sign_download_link(secret, export_id, datetime.now(UTC) - timedelta(seconds=1))
    answer = httpx.get(f"{gateway_url}/crm/v3/exports/download/{expired}", timeout=30)
    assert answer.status_code == 410 and b"Record ID" not in answer.content
    tampered = link.rsplit("/", 1)[1]
    tampered = tampered[:-1] + ("A" if tampered[-1] != "A" else "B")
    answer = httpx.get(f"{gateway_url}/crm/v3/exports/download/{tampered}", timeout=30)
    assert answer.status_code == 403


def test_a_saved_workspace_view_exports_with_its_filters_and_column_order(gateway_url,
                                                                        operator_key):
    # R-EXP-1 R-EXP-3 R-EXP-6 (views: R-CSW-4)
    token = _account(gateway_url, operator_key, f"view-{uuid.uuid4().hex[:8]}@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    tag = f"v{uuid.uuid4().hex[:8]}"
    created = httpx.post(f"{gateway_url}/crm/v3/objects/companies/batch/create", headers=headers,
                         timeout=30, json={"inputs": [
        {"properties": {"name": "Beta", "city": tag, "domain": f"beta.{tag}.test"}},
        {"properties": {"name": "+Alpha", "city": tag, "domain": f"alpha.{tag}.test"}},
        {"properties": {"name": "Gamma", "city": "elsewhere", "domain": f"g.{tag}.test"}},
    ]})
    assert created.status_code == 201, created.text
    query = {"filterGroups": [{"filters": [
        {"propertyName": "city", "operator": "EQ", "value": tag}]}], "limit": 0}
    wait_until(lambda: httpx.post(f"{gateway_url}/crm/v3/objects/companies/search", json=query,
                              headers=headers, timeout=30).json().get("total") == 2,
           "the companies to be searchable")
    view = httpx.post(f"{gateway_url}/workspace/v1/views", headers=headers, timeout=30, json={
        "tab": "customers", "name": f"Customers in {tag}", "filterGroups": query["filterGroups"],
        "columns": ["domain", "name", "hs_object_id"],
        "sorts": [{"propertyName": "name", "direction": "DESCENDING"}]})
    assert view.status_code == 201, view.text

    started = httpx.post(f"{gateway_url}/crm/v3/exports/views/{view.json()['id']}/export/async",
                         headers=headers, timeout=30, json={"format": "CSV", "language": "FR"})
    assert started.status_code == 202, started.text
    status_url = f"{gateway_url}/crm/v3/exports/export/async/tasks/{started.json()['id']}/status"
    status = wait_until(lambda: (s := httpx.get(status_url, headers=headers, timeout=30).json())
                    ["status"] in ("COMPLETE", "FAILED") and s, "the view export to finish")
    assert status["status"] == "COMPLETE", status
    rows = list(csv.reader(io.StringIO(
        httpx.get(status["result"], timeout=30).content.decode("utf-8-sig"))))
    # the view's column order, French headers, its filter and its sort (descending name)
    assert rows[0] == ["Nom de domaine de l'entreprise", "Nom", "ID de fiche"]
    assert [r[:2] for r in rows[1:]] == [[f"beta.{tag}.test", "Beta"],
                                         [f"alpha.{tag}.test", "'+Alpha"]]
    exported = httpx.get(f"{gateway_url}/crm/v3/exports/export/{started.json()['id']}",
                         headers=headers, timeout=30).json()
    assert exported["viewId"] == view.json()["id"]
    missing = httpx.post(f"{gateway_url}/crm/v3/exports/views/999999999/export/async",
                         headers=headers, timeout=30, json={"format": "CSV"})
    assert missing.status_code == 404
