"""CloudEvents 1.0 in Kafka binary mode, written by hand.

The event data is the JSON value; the attributes travel as `ce_*` headers, the
trace context as W3C `traceparent`/`tracestate` headers. `ce_id` is the
idempotency key every consumer stores. (cloudevents 2.x moved its API around;
the binding is a dozen lines, so we own it.)
"""

from __future__ import annotations

import json
import uuid
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


class CloudEvent:
    """One event: its attributes, its data, and the trace context it travels with.

    An event made with `of` keeps its pydantic model and is serialised once, straight
    to the JSON value (`value()`), which is all the outbox needs; `data` as a dict is
    built only if someone reads it (tests, in-process fakes). Immutable, compared by
    value, like the frozen dataclass it replaces."""

    __slots__ = ("type", "source", "subject", "account_id", "id", "time", "trace_headers",
                 "_data", "_model", "_value")
    type: str
    source: str
    subject: str
    account_id: int
    id: str
    time: datetime
    trace_headers: dict[str, str]
    _data: dict[str, Any] | None
    _model: EventData | None
    _value: bytes | None

    def __init__(self, type: str, source: str, subject: str, account_id: int,
                 data: dict[str, Any] | None = None, id: str | None = None,
                 time: datetime | None = None, trace_headers: dict[str, str] | None = None,
                 *, model: EventData | None = None) -> None:
        if data is None and model is None:
            raise TypeError("CloudEvent needs its data (a dict) or its model")
        assign = object.__setattr__
        assign(self, "type", type)
        assign(self, "source", source)
        assign(self, "subject", subject)
        assign(self, "account_id", account_id)
        assign(self, "id", id or str(uuid.uuid4()))
        assign(self, "time", time or datetime.now(UTC))
        assign(self, "trace_headers", trace_headers or {})
        assign(self, "_data", data)
        assign(self, "_model", model)
        assign(self, "_value", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CloudEvent is immutable ({name})")

    def __getstate__(self) -> dict[str, Any]:  # copy and pickle
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    @classmethod
    def of(cls, data: EventData, *, source: str, subject: str, account_id: int,
           **kwargs: Any) -> CloudEvent:
        return cls(type=data.EVENT_TYPE, source=source, subject=subject,
                   account_id=account_id, model=data, **kwargs)

    @property
    def data(self) -> dict[str, Any]:
        data = self._data
        if data is None:
            assert self._model is not None  # __init__ takes one or the other
            data = self._model.model_dump(mode="json")
            object.__setattr__(self, "_data", data)
        return data

    def _key(self) -> tuple[Any, ...]:
        return (self.type, self.source, self.subject, self.account_id, self.data, self.id,
                self.time, self.trace_headers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CloudEvent) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # data is a dict, as in the dataclass

    def __repr__(self) -> str:
        return (f"CloudEvent(type={self.type!r}, subject={self.subject!r}, "
                f"account_id={self.account_id!r}, id={self.id!r})")

    def header_pairs(self) -> list[tuple[str, str]]:
        """The binary-mode attributes as text: ce_*, content-type and the trace context."""
        pairs = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_subject", self.subject),
            ("ce_time", self.time.isoformat().replace("+00:00", "Z")),
            ("ce_accountid", str(self.account_id)),
            ("content-type", CONTENT_TYPE),
        ]
        pairs += [(k, v) for k, v in self.trace_headers.items()
                  if k not in _ATTRIBUTE_NAMES]
        return pairs

    def headers(self) -> list[tuple[str, bytes]]:
        return [(k, v.encode()) for k, v in self.header_pairs()]

    def value(self) -> bytes:
        """The JSON value, serialised once (from the model when there is one)."""
        encoded = self._value
        if encoded is None:
            encoded = (self._model.model_dump_json().encode() if self._model is not None
                       else json.dumps(self._data, separators=(",", ":")).encode())
            object.__setattr__(self, "_value", encoded)
        return encoded


_ATTRIBUTE_NAMES = frozenset({"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject",
                              "ce_time", "ce_accountid", "content-type"})


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
