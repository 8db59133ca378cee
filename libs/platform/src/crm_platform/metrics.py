"""Prometheus metrics every service exposes on /metrics, and the HTTP middleware
that counts requests, errors and latency per route."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

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


def install_http_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def _measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(service, request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, path).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
