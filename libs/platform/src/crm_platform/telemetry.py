"""Traces, chosen by the standard OpenTelemetry environment variables.

OTEL_TRACES_EXPORTER: `zipkin` (local, `make up`), `otlp` (Kubernetes, to the
collector), `console`, or `none` (the default). Trace context crosses Kafka as
W3C `traceparent`/`tracestate` headers (R-BUS-5).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_configured = False


def setup_tracing(service_name: str) -> None:
    """Install a tracer provider once per process (tests may install their own first)."""
    global _configured
    if _configured or not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        _configured = True
        return
    _configured = True
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter_name in ("", "none"):
        return
    name = os.environ.get("OTEL_SERVICE_NAME", service_name)
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter: SpanExporter
    if exporter_name == "zipkin":
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        exporter = ZipkinExporter()  # OTEL_EXPORTER_ZIPKIN_ENDPOINT, default localhost:9411
    elif exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_ENDPOINT
    else:
        exporter = ConsoleSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_headers() -> dict[str, str]:
    """The W3C headers of the active span, to store beside an outgoing event."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> context.Context:
    return propagate.extract(dict(headers))


def links_from(header_sets: Iterable[Mapping[str, str]]) -> list[trace.Link]:
    """Links to the spans that produced a batch's other messages."""
    links = []
    for headers in header_sets:
        span_context = trace.get_current_span(context_from_headers(headers)).get_span_context()
        if span_context.is_valid:
            links.append(trace.Link(span_context))
    return links
