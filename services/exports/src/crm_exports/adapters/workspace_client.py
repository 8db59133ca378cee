"""Reads a saved view's definition from the workspace service's HTTP API, as
the requesting user (the same short-lived token as the search calls), so the
workspace decides which views the user may see and use."""

from __future__ import annotations

from typing import Any

import httpx

from crm_exports.adapters.search_client import UserToken, _message

DEFAULT_CSM_PROPERTY = "hubspot_owner_id"


class WorkspaceRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WorkspaceClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def _get(self, path: str, token: UserToken) -> dict[str, Any]:
        answer = await self.http.get(f"{self.base_url}{path}", headers=token.header())
        if 400 <= answer.status_code < 500:
            raise WorkspaceRefused(answer.status_code, _message(answer))
        answer.raise_for_status()
        return answer.json()

    async def view(self, view_id: str, token: UserToken) -> dict[str, Any] | None:
        """The view as the user sees it, or None when it is not one of theirs."""
        views = (await self._get("/workspace/v1/views", token)).get("results", [])
        return next((v for v in views if str(v.get("id")) == view_id), None)

    async def customers_csm_property(self, token: UserToken) -> str:
        """The property naming a customer's CSM (an *Owned by me* view filters on it)."""
        try:
            settings = await self._get("/workspace/v1/settings", token)
        except WorkspaceRefused:  # settings hidden from this user: the standard default
            return DEFAULT_CSM_PROPERTY
        return str((settings.get("customers") or {}).get("csmProperty")
                   or DEFAULT_CSM_PROPERTY)
