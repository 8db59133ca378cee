"""The request path every service shares (crm_platform.http.base_app): the Prometheus
request metrics per route template and status, and one server span per request named
by its route (R-BUS-5). In-process ASGI calls, no I/O.

The metric names and labels are what deploy/k8s/components/monitoring's alerts and
dashboard query (crm_http_requests_total, crm_http_request_seconds)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from crm_platform.http import base_app
from crm_platform.problem import ApiError

SERVICE = "stack-test"
SPANS = InMemorySpanExporter()


def _install_span_exporter() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(SPANS))  # type: ignore[attr-defined]


_install_span_exporter()


@asynccontextmanager
async def _no_lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
    yield


def make_app() -> FastAPI:
    app = base_app(service=SERVICE, title="stack test", lifespan=_no_lifespan, checks=dict)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict:
        if thing_id == 404:
            raise ApiError(404, "No such thing")
        if thing_id == 409:
            raise HTTPException(409, "Taken")
        if thing_id == 500:
            raise RuntimeError("bug")
        return {"id": thing_id}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks():  # type: ignore[no-untyped-def]
            yield b"a"
            yield b"b"
        return StreamingResponse(chunks(), status_code=202)

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def requests_counted(route: str, status: str, method: str = "GET") -> float:
    return REGISTRY.get_sample_value("crm_http_requests_total", {
        "service": SERVICE, "method": method, "route": route, "status": status}) or 0.0


def latencies_observed(route: str, method: str = "GET") -> float:
    return REGISTRY.get_sample_value("crm_http_request_seconds_count", {
        "service": SERVICE, "method": method, "route": route}) or 0.0


@pytest.mark.parametrize(("path", "route", "status"), [
    ("/things/7", "/things/{thing_id}", "200"),
    ("/things/404", "/things/{thing_id}", "404"),        # an ApiError's answer
    ("/things/409", "/things/{thing_id}", "409"),        # an HTTPException's answer
    ("/things/abc", "/things/{thing_id}", "400"),        # validation, before the handler
    ("/nowhere", "unmatched", "404"),                    # no route: no template to name
    ("/stream", "/stream", "202"),                       # a streamed body
])
async def test_each_request_is_counted_and_timed_by_route_template_and_status(
        client, path, route, status):
    counted, timed = requests_counted(route, status), latencies_observed(route)
    answer = await client.get(path)
    assert str(answer.status_code) == status
    assert requests_counted(route, status) == counted + 1
    assert latencies_observed(route) == timed + 1


async def test_an_unhandled_error_is_counted_as_the_500_it_answers(client):
    counted = requests_counted("/things/{thing_id}", "500")
    answer = await client.get("/things/500")
    assert answer.status_code == 500
    assert requests_counted("/things/{thing_id}", "500") == counted + 1


async def test_metrics_endpoint_exposes_the_request_metrics(client):
    await client.get("/things/1")
    exposed = (await client.get("/metrics")).text
    assert f'crm_http_requests_total{{method="GET",route="/things/{{thing_id}}",' \
           f'service="{SERVICE}",status="200"}}' in exposed
    assert "crm_http_request_seconds_bucket" in exposed


async def test_one_server_span_per_request_named_by_its_route(client):  # R-BUS-5
    SPANS.clear()
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    answer = await client.get("/things/9", headers={
        "traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
    assert answer.status_code == 200
    spans = SPANS.get_finished_spans()
    assert [(s.name, s.kind.name) for s in spans] == [("GET /things/{thing_id}", "SERVER")]
    [span] = spans
    assert span.attributes["http.route"] == "/things/{thing_id}"
    assert span.attributes["http.status_code"] == 200
    assert span.attributes["http.target"] == "/things/9"
    assert format(span.context.trace_id, "032x") == trace_id  # the caller's trace goes on


async def test_probes_and_metrics_make_no_spans(client):
    SPANS.clear()
    for path in ("/livez", "/metrics"):
        assert (await client.get(path)).status_code == 200
    assert SPANS.get_finished_spans() == ()
