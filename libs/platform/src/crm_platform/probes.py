"""/livez checks nothing outside the process; /readyz checks the store, Redis and
Kafka this replica needs, and answers 503 naming the one that failed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[object]]


def install_probes(app: FastAPI, checks: Callable[[], dict[str, Check]]) -> None:
    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks().items():
            try:
                await asyncio.wait_for(check(), timeout=2)
                results[name] = "ok"
            except Exception as exc:  # any failure means not ready; say which
                results[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
        ready = all(v == "ok" for v in results.values())
        return JSONResponse({"status": "ok" if ready else "unavailable", "checks": results},
                            status_code=200 if ready else 503)
