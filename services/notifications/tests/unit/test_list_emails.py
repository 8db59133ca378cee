"""Emails to a list: one message per recipient, keyed so that none is sent twice,
with an HTML and a plain-text part (R-MKT-3 R-NOTE-1)."""

from datetime import UTC, datetime

from crm_contracts.lists import v1 as lists_v1
from crm_notifications.domain.messages import (
    LIST_EMAIL_TYPE,
    NOTICES_BY_EVENT_TYPE,
    compose_email,
    html_to_text,
    list_emails,
    list_mail_key,
    message_id,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def recipient(contact_id: int, address: str, send_id: str = "s-1") -> lists_v1.ListEmailRecipient:
    return lists_v1.ListEmailRecipient(
        contact_id=contact_id, address=address, engagement_id=1000 + contact_id,
        idempotency_key=f"list-email:{send_id}:{contact_id}")


def requested(*recipients: lists_v1.ListEmailRecipient, account_id: int = 1, part: int = 1,
              parts: int = 1, text: str | None = "Hello list") -> dict:
    return lists_v1.ListEmailRequested(
        account_id=account_id, user_id=5, list_id=9, send_id="s-1", subject="News",
        html="<p>Hello <b>list</b></p>", text=text, from_address="news@crm.local",
        recipients=list(recipients), part=part, parts=parts,
        requested_at=NOW).model_dump(mode="json")


def test_one_message_per_recipient_from_the_sender_with_both_parts():  # R-MKT-3 R-NOTE-1
    first, second = list_emails(requested(recipient(11, "a@x.org"), recipient(12, "b@x.org")))
    assert (first.address, second.address) == ("a@x.org", "b@x.org")
    assert first.sender == "news@crm.local" and first.subject == "News"
    assert first.text == "Hello list" and first.html == "<p>Hello <b>list</b></p>"
    assert dict(first.delivery_fields) == {
        "user_id": 5, "list_id": 9, "send_id": "s-1", "contact_id": 11, "engagement_id": 1011,
        "idempotency_key": "list-email:s-1:11"}
    message = compose_email(sender=first.sender, recipient=first.address, subject=first.subject,
                            text=first.text, html=first.html, mail_key=first.mail_key,
                            event_id="ev-1", sent_at=NOW)
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Hello list"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello <b>list</b></p>"
    assert message["From"] == "news@crm.local" and message["To"] == "a@x.org"


def test_the_same_recipient_key_in_another_event_or_part_is_the_same_mail():
    # R-NOTE-1 (never duplicated) R-BUS-3: the store refuses a second row per mail key,
    # so a repeated send or a redelivered part mails nobody twice.
    [once] = list_emails(requested(recipient(11, "a@x.org"), part=1, parts=2))
    [again] = list_emails(requested(recipient(11, "a@x.org"), part=2, parts=2))
    assert once.mail_key == again.mail_key == list_mail_key(1, "list-email:s-1:11")
    assert message_id(once.mail_key, once.address) == message_id(again.mail_key, again.address)


def test_keys_of_other_contacts_sends_or_accounts_differ():  # R-NOTE-1
    keys = {list_emails(requested(r, account_id=a))[0].mail_key for r, a in [
        (recipient(11, "a@x.org"), 1), (recipient(12, "a@x.org"), 1),
        (recipient(11, "a@x.org", send_id="s-2"), 1), (recipient(11, "a@x.org"), 2)]}
    assert len(keys) == 4


def test_without_a_text_part_one_is_made_from_the_html():  # R-MKT-3
    [mail] = list_emails(requested(recipient(11, "a@x.org"), text=None))
    assert mail.text == "Hello list\n"
    assert html_to_text(
        "<style>p {color: red}</style><h1>Offer</h1><p>Read   <a href='https://x.org/o'>"
        "the offer</a>.</p><p>Bye<br>Team &amp; co</p>") == (
        "Offer\n\nRead the offer (https://x.org/o).\n\nBye\nTeam & co\n")


def test_a_list_email_is_not_an_in_app_notice():  # R-NOTE-1: recipients are contacts
    assert LIST_EMAIL_TYPE not in NOTICES_BY_EVENT_TYPE
