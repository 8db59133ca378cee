"""What each kind of event tells whom (R-NOTE-1): pure, one function per event type.

Two kinds of email leave this service:
- a `Notice` tells one user of this CRM something (export ready or failed, a
  health alert): shown in the app and emailed to the user's own address. New
  kinds are added in `NOTICES_BY_EVENT_TYPE` (event type -> renderer); the
  consumer subscribes to the topics in `subscriptions.SOURCE_TOPICS`.
- a `ListEmail` is one message of an email a user sent to a list (R-MKT-3):
  the recipient is a contact's address given in the event, and it is sent at
  most once per (account, recipient idempotency key), see `list_mail_key`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from html.parser import HTMLParser
from typing import Any

from crm_contracts.exports import v1 as exports_v1
from crm_contracts.healthscores import v1 as healthscores_v1
from crm_contracts.lists import v1 as lists_v1


@dataclass(frozen=True)
class Notice:
    """One notification for one user: shown in the app and emailed."""

    user_id: int
    kind: str
    title: str
    body: str
    link: str | None = None


@dataclass(frozen=True)
class Links:
    """Absolute links put in notifications: the gateway's public base URL."""

    base_url: str

    def record(self, object_type: str, record_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/crm/v3/objects/{object_type}/{record_id}"


Renderer = Callable[[Mapping[str, Any], Links], list[Notice]]


def export_finished(data: Mapping[str, Any], links: Links) -> list[Notice]:
    event = exports_v1.ExportFinished.model_validate(data)
    expires = event.link_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    body = (f"Your export \"{event.export_name}\" is ready: {event.row_count:,} "
            f"{event.object_type} as {event.format} ({event.file_name}).\n\n"
            f"Download it here (the link works until {expires}):\n{event.download_url}\n")
    return [Notice(event.user_id, "export_ready", f"Your export \"{event.export_name}\" is ready",
                   body, event.download_url)]


def export_failed(data: Mapping[str, Any], links: Links) -> list[Notice]:
    event = exports_v1.ExportFailed.model_validate(data)
    body = (f"Your export \"{event.export_name}\" could not be completed: {event.reason}.\n\n"
            "You can start it again from the same view.\n")
    return [Notice(event.user_id, "export_failed", f"Your export \"{event.export_name}\" failed",
                   body)]


BAND_LABELS = {"at_risk": "At risk", "neutral": "Neutral", "healthy": "Healthy"}
SINGULAR = {"companies": "company", "contacts": "contact", "deals": "deal", "tickets": "ticket"}


def _band(band: str) -> str:
    return BAND_LABELS.get(band, band.replace("_", " ").capitalize())


def _why(cause: str) -> str:
    """The alert's cause (R-HLTH-6) in words: `event:<id>`, `time` or `profile:<id>`."""
    if cause == "time":
        return "time passed without new activity (a recency window or decay step)"
    if cause.startswith("profile:"):
        return "the health score profile was published"
    return f"a change on the customer or its activity ({cause})"


def health_alert(data: Mapping[str, Any], links: Links) -> list[Notice]:
    """R-HLTH-3: a change of band alerts the customer's CSM (nobody when it has none)."""
    event = healthscores_v1.HealthAlertRaised.model_validate(data)
    if event.user_id is None:
        return []
    kind = SINGULAR.get(event.customer_object_type, event.customer_object_type)
    customer = f"{kind} {event.customer_id}"
    link = links.record(event.customer_object_type, event.customer_id)
    old, new = _band(event.old_band), _band(event.new_band)
    title = f"Health alert: {customer} went from {old} to {new}"
    body = (f"The health of {customer} went from {old} to {new} (score now {event.score}) "
            f"under the profile \"{event.profile_name}\".\n\n"
            f"Why: {_why(event.cause)}.\n\n"
            f"Open the customer: {link}\n\n"
            f"The alert expires on {event.expires_at.strftime('%Y-%m-%d')}.\n")
    return [Notice(event.user_id, "health_alert", title, body, link)]


NOTICES_BY_EVENT_TYPE: dict[str, Renderer] = {
    exports_v1.ExportFinished.EVENT_TYPE: export_finished,
    exports_v1.ExportFailed.EVENT_TYPE: export_failed,
    healthscores_v1.HealthAlertRaised.EVENT_TYPE: health_alert,
}


def notice_mail_key(event_id: str, user_id: int) -> str:
    """A notice is emailed once per (source event, user)."""
    return f"notice:{event_id}:{user_id}"


def list_mail_key(account_id: int, idempotency_key: str) -> str:
    """A list email is sent once per recipient key (`list-email:{send_id}:{contact_id}`,
    made by the records service) within its account: whichever event, part or
    repeated send carries it, a key already stored sends nothing more."""
    return f"{account_id}:{idempotency_key}"


@dataclass(frozen=True)
class ListEmail:
    """One message of an email to a list, for one recipient (R-MKT-3)."""

    mail_key: str
    account_id: int
    address: str
    sender: str
    subject: str
    text: str
    html: str
    # Of NotificationDelivered/Failed: the sending user (0 if none) and the list fields.
    delivery_fields: Mapping[str, Any]


def list_emails(data: Mapping[str, Any]) -> list[ListEmail]:
    """One message per recipient of this part of the send; the plain-text part is
    derived from the HTML when the sender gave none."""
    event = lists_v1.ListEmailRequested.model_validate(data)
    text = event.text if event.text is not None else html_to_text(event.html)
    return [ListEmail(
        mail_key=list_mail_key(event.account_id, r.idempotency_key),
        account_id=event.account_id, address=r.address,
        sender=event.from_address, subject=event.subject, text=text, html=event.html,
        delivery_fields={"user_id": event.user_id or 0, "list_id": event.list_id,
                         "send_id": event.send_id, "contact_id": r.contact_id,
                         "engagement_id": r.engagement_id,
                         "idempotency_key": r.idempotency_key})
        for r in event.recipients]


LIST_EMAIL_TYPE = lists_v1.ListEmailRequested.EVENT_TYPE


class _TextOfHtml(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str | None] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag == "a":
            self.hrefs.append(dict(attrs).get("href"))
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skipping = max(0, self.skipping - 1)
        elif tag == "a" and self.hrefs:
            href = self.hrefs.pop()
            if href and not href.startswith("#"):
                self.parts.append(f" ({href})")
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A readable plain-text part for mail clients that show no HTML: the text,
    line breaks at block ends, and each link's address after its words."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text, blank = [], True
    for line in lines:
        if line or not blank:
            text.append(line)
        blank = not line
    return "\n".join(text).strip() + "\n"


def message_id(mail_key: str, recipient: str) -> str:
    """The same Message-ID for every attempt at one email, so a mail client or
    relay that sees a resend after a crash can drop it as a duplicate."""
    key = hashlib.sha256(mail_key.encode()).hexdigest()[:32]
    address = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<{key}.{address}@crm.notifications>"


def compose_email(*, sender: str, recipient: str, subject: str, text: str,
                  html: str | None = None, mail_key: str, event_id: str,
                  sent_at: Any) -> EmailMessage:
    """Plain text, or text and HTML alternatives when there is HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = message_id(mail_key, recipient)
    message["Date"] = format_datetime(sent_at)
    message["X-CRM-Event-Id"] = event_id
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def retry_delay(attempts: int, delays: list[float]) -> float | None:
    """Seconds before the next try after `attempts` failed ones; None when it is time to give up."""
    if attempts < 1 or attempts > len(delays):
        return None
    return delays[attempts - 1]
