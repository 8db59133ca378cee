"""JSON logs that carry the trace id, account id and event id of what is being done."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

account_id_var: ContextVar[int | None] = ContextVar("account_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        record.trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else None
        record.account_id = account_id_var.get()
        record.event_id = event_id_var.get()
        return True


class _RateLimitedAiokafka(logging.Filter):
    """A producer whose broker went away logs thousands of errors a second (INFRA.md)."""

    def __init__(self, per_second: float = 1.0) -> None:
        super().__init__()
        self.interval = 1.0 / per_second
        self.last = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if record.created - self.last >= self.interval:
            self.last = record.created
            return True
        return False


def setup_logging(service_name: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        static_fields={"service": service_name},
    ))
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").addFilter(_RateLimitedAiokafka())
