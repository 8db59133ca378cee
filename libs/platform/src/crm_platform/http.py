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
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_error_handlers(app)
    install_probes(app, checks)
    install_http_metrics(app, service)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="livez,readyz,metrics")
    return app
