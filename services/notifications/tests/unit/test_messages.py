"""What each event tells whom, how an email looks, and when it is retried (R-NOTE-1)."""

from datetime import UTC, datetime

from crm_contracts.exports import v1 as exports_v1
from crm_notifications.domain.messages import (
    NOTICES_BY_EVENT_TYPE,
    Links,
    compose_email,
    message_id,
    notice_mail_key,
    retry_delay,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LINKS = Links("https://crm.example.com/")
FINISHED = exports_v1.ExportFinished(
    export_id="7", account_id=1, user_id=42, export_name="Leads", format="CSV",
    object_type="contacts", row_count=1234, file_name="Leads.csv",
    download_url="http://gw/crm/v3/exports/download/7.1.sig",
    link_expires_at=datetime(2026, 12, 23, 12, 0, tzinfo=UTC), finished_at=NOW)


def test_export_ready_tells_the_requester_with_the_link_and_its_expiry():  # R-NOTE-1 R-EXP-5
    [notice] = NOTICES_BY_EVENT_TYPE[FINISHED.EVENT_TYPE](FINISHED.model_dump(mode="json"), LINKS)
    assert notice.user_id == 42 and notice.kind == "export_ready"
    assert notice.link == FINISHED.download_url
    assert FINISHED.download_url in notice.body and "2026-12-23 12:00 UTC" in notice.body
    assert "1,234 contacts as CSV" in notice.body


def test_export_failed_tells_the_requester_why():  # R-NOTE-1
    failed = exports_v1.ExportFailed(export_id="7", account_id=1, user_id=42,
                                     export_name="Leads", reason="XLS holds 65,535 rows",
                                     failed_at=NOW)
    [notice] = NOTICES_BY_EVENT_TYPE[failed.EVENT_TYPE](failed.model_dump(mode="json"), LINKS)
    assert notice.kind == "export_failed" and "XLS holds 65,535 rows" in notice.body


def test_requests_are_not_notified():  # R-NOTE-1
    assert exports_v1.ExportRequested.EVENT_TYPE not in NOTICES_BY_EVENT_TYPE


def test_every_attempt_at_one_email_has_the_same_message_id():  # R-NOTE-1 (never duplicated)
    key = notice_mail_key("ev-1", 42)
    assert message_id(key, "A@x.org") == message_id(key, "a@x.org")
    assert message_id(key, "a@x.org") != message_id(notice_mail_key("ev-2", 42), "a@x.org")
    assert message_id(key, "a@x.org") != message_id(notice_mail_key("ev-1", 43), "a@x.org")
    assert message_id(key, "a@x.org") != message_id(key, "b@x.org")
    email = compose_email(sender="CRM <n@crm>", recipient="a@x.org", subject="S", text="B",
                          mail_key=key, event_id="ev-1", sent_at=NOW)
    assert email["Message-ID"] == message_id(key, "a@x.org")
    assert email["To"] == "a@x.org" and email["X-CRM-Event-Id"] == "ev-1"
    assert email.get_content_type() == "text/plain"


def test_retries_back_off_then_give_up():  # R-NOTE-1 R-BUS-3
    delays = [5, 30, 120]
    assert [retry_delay(n, delays) for n in (1, 2, 3)] == [5, 30, 120]
    assert retry_delay(4, delays) is None
