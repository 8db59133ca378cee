"""Prometheus metrics every service exposes on /metrics, and the HTTP middleware
that counts requests, errors and latency per route."""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter("crm_http_requests_total", "HTTP requests",
                        ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("crm_http_request_seconds", "HTTP request latency",
                         ["service", "method", "route"],
                         buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
OUTBOX_BACKLOG = Gauge("crm_outbox_backlog", "Outbox entries not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge("crm_outbox_oldest_age_seconds",
                          "Age of the oldest unpublished outbox entry", ["service"])
OUTBOX_PUBLISHED = Counter("crm_outbox_published_total", "Outbox entries published",
                           ["service"])
EVENTS_CONSUMED = Counter("crm_events_consumed_total", "Events applied by a consumer",
                          ["service", "consumer", "outcome"])
EXPORT_JOBS = Gauge("crm_export_jobs", "Export jobs waiting or running", ["service", "state"])
EXPORT_OLDEST_SECONDS = Gauge("crm_export_oldest_job_seconds",
                              "Age of the oldest export job waiting or running",
                              ["service", "state"])
DEAD_LETTERS = Counter("crm_dead_letters_total", "Events parked on a dead-letter topic",
                       ["service", "consumer"])
CONSUMER_LAG_SECONDS = Histogram(
    "crm_consumer_event_lag_seconds", "Time from an event's creation to its effect being stored",
    ["service", "consumer"],
    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300))
# Exported by crm_platform.lag.ConsumerLagExporter: messages a consumer group has
# not committed yet, per partition. Every replica of a service reports the same
# value, so dashboards and alerts take max by (group, topic, partition).
CONSUMER_GROUP_LAG = Gauge("crm_kafka_consumer_group_lag",
                           "Messages on a partition past the group's committed offset",
                           ["group", "topic", "partition"])


class HttpMetricsMiddleware:
    """Counts requests and observes latency per route template, as plain ASGI.

    Not Starlette's BaseHTTPMiddleware (`@app.middleware("http")`): that one starts a
    task group and wraps the request and response streams on every request, which
    cost about a quarter of the records process's CPU under a load of single creates.
    This one only wraps `send` to see the status. Both figures are taken when the
    response starts (the moment `call_next` returned before), so a streamed body's
    transfer time is not latency here. An exception that escapes before any response
    is counted as the 500 the outer error handler then sends.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        responded = False

        def record(status: int) -> None:
            # The router has put the matched route into this same scope by now.
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, path).observe(
                time.perf_counter() - started)

        async def send_measured(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start" and not responded:
                responded = True
                record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_measured)
        except Exception:
            if not responded:
                record(500)
            raise


def install_http_metrics(app: FastAPI, service: str) -> None:
    app.add_middleware(HttpMetricsMiddleware, service=service)

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
