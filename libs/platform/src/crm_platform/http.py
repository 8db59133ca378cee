"""The FastAPI app every service starts from: error shapes, probes, metrics and
request tracing. Routes and the lifespan are the service's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from crm_platform.metrics import install_http_metrics
from crm_platform.probes import Check, install_probes
from crm_platform.problem import install_error_handlers


def base_app(*, service: str, title: str, lifespan: Any, checks: Callable[[], dict[str, Check]],
             version: str = "1.0.0") -> FastAPI:
    # FastAPI's built-in telemetry stays off: the instrumentation below makes the server
    # span (the tags the README's Zipkin queries use, e.g. http.target), and with it in
    # the stack FastAPI's own would do nothing but look for it on every request.
    app = FastAPI(title=title, version=version, lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    install_error_handlers(app)
    install_probes(app, checks)
    install_http_metrics(app, service)
    # One server span per request, named by the route template. Not the instrumentation's
    # internal "http send"/"http receive" spans (three more per request, each created,
    # processed and exported): the server span already carries the status code.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="livez,readyz,metrics",
                                       exclude_spans=["receive", "send"])
    return app
