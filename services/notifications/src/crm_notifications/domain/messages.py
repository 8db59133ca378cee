"""What each kind of event tells whom (R-NOTE-1): pure, one function per event type.

`NOTICES_BY_EVENT_TYPE` is the one place a new kind of notification is added
(health alerts, list emails): an entry mapping the event type to a function
from the event's data to the notices it makes. The consumer subscribes to the
topics in `subscriptions.SOURCE_TOPICS` and renders what this table knows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from crm_contracts.exports import v1 as exports_v1


@dataclass(frozen=True)
class Notice:
    """One notification for one user: shown in the app and emailed."""

    user_id: int
    kind: str
    title: str
    body: str
    link: str | None = None


def export_finished(data: Mapping[str, Any]) -> list[Notice]:
    event = exports_v1.ExportFinished.model_validate(data)
    expires = event.link_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    body = (f"Your export \"{event.export_name}\" is ready: {event.row_count:,} "
            f"{event.object_type} as {event.format} ({event.file_name}).\n\n"
            f"Download it here (the link works until {expires}):\n{event.download_url}\n")
    return [Notice(event.user_id, "export_ready", f"Your export \"{event.export_name}\" is ready",
                   body, event.download_url)]


def export_failed(data: Mapping[str, Any]) -> list[Notice]:
    event = exports_v1.ExportFailed.model_validate(data)
    body = (f"Your export \"{event.export_name}\" could not be completed: {event.reason}.\n\n"
            "You can start it again from the same view.\n")
    return [Notice(event.user_id, "export_failed", f"Your export \"{event.export_name}\" failed",
                   body)]


NOTICES_BY_EVENT_TYPE: dict[str, Callable[[Mapping[str, Any]], list[Notice]]] = {
    exports_v1.ExportFinished.EVENT_TYPE: export_finished,
    exports_v1.ExportFailed.EVENT_TYPE: export_failed,
}


def message_id(event_id: str, recipient: str) -> str:
    """The same Message-ID for every attempt at one email, so a mail client or
    relay that sees a resend after a crash can drop it as a duplicate."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<{event_id}.{digest}@crm.notifications>"


def compose_email(*, sender: str, recipient: str, subject: str, body: str, event_id: str,
                  sent_at: Any) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = message_id(event_id, recipient)
    message["Date"] = format_datetime(sent_at)
    message["X-CRM-Event-Id"] = event_id
    message.set_content(body)
    return message


def retry_delay(attempts: int, delays: list[float]) -> float | None:
    """Seconds before the next try after `attempts` failed ones; None when it is time to give up."""
    if attempts < 1 or attempts > len(delays):
        return None
    return delays[attempts - 1]
