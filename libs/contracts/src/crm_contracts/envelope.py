"""CloudEvents 1.0 in Kafka binary mode, written by hand.

The event data is the JSON value; the attributes travel as `ce_*` headers, the
trace context as W3C `traceparent`/`tracestate` headers. `ce_id` is the
idempotency key every consumer stores. (cloudevents 2.x moved its API around;
the binding is a dozen lines, so we own it.)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class EventData(BaseModel):
    """Base of every event's data. Subclasses set EVENT_TYPE (the ce_type)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    EVENT_TYPE: ClassVar[str] = ""


def record_key(account_id: int, object_type: str, record_id: int | str) -> str:
    """The Kafka key: one record's events land on one partition, in order."""
    return f"{account_id}:{object_type}:{record_id}"


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    subject: str
    account_id: int
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    trace_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: EventData, *, source: str, subject: str, account_id: int,
           **kwargs: Any) -> CloudEvent:
        return cls(type=data.EVENT_TYPE, source=source, subject=subject,
                   account_id=account_id, data=data.model_dump(mode="json"), **kwargs)

    def headers(self) -> list[tuple[str, bytes]]:
        pairs = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat().replace("+00:00", "Z"),
            "ce_accountid": str(self.account_id),
            "content-type": CONTENT_TYPE,
            **self.trace_headers,
        }
        return [(k, v.encode()) for k, v in pairs.items()]

    def value(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":")).encode()


class NotACloudEvent(ValueError):
    """A message without the CloudEvents headers this platform requires."""


def from_kafka(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...] | dict,
               value: bytes) -> CloudEvent:
    items = headers.items() if isinstance(headers, dict) else headers
    h = {k: (v.decode() if isinstance(v, bytes | bytearray) else str(v)) for k, v in items}
    missing = [n for n in ("ce_id", "ce_type", "ce_source", "ce_accountid") if n not in h]
    if missing:
        raise NotACloudEvent(f"missing headers: {', '.join(missing)}")
    try:
        data = json.loads(value)
        account_id = int(h["ce_accountid"])
    except (ValueError, TypeError) as exc:
        raise NotACloudEvent(f"unreadable event {h.get('ce_id')}: {exc}") from exc
    time_text = h.get("ce_time", "").replace("Z", "+00:00")
    return CloudEvent(
        type=h["ce_type"], source=h["ce_source"], subject=h.get("ce_subject", ""),
        account_id=account_id, data=data, id=h["ce_id"],
        time=datetime.fromisoformat(time_text) if time_text else datetime.now(UTC),
        trace_headers={k: h[k] for k in ("traceparent", "tracestate") if k in h},
    )
