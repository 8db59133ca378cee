"""The records and search HTTP APIs, called with the caller's own bearer token,
so their visibility rules (R-AUTH-3), validation (R-REC-2, R-PIPE-2) and
index lag (R-SRCH-2) apply to the workspace exactly as to any client."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


class UpstreamError(Exception):
    """The records or search service refused (4xx) or could not be reached.
    The API hands a 4xx back unchanged: status and body as that service wrote them."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message") or self.body.get("detail") or self.body)
        return str(self.body)


def segment(value: str) -> str:
    """One path segment, escaped: ids and type names come from callers."""
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:  # lone surrogates: no such record or type
        raise UpstreamError(404, {"message": f"{value!r} not found"}) from None


class CrmApi:
    def __init__(self, records_url: str, search_url: str, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.records_url = records_url.rstrip("/")
        self.search_url = search_url.rstrip("/")
        self.client = httpx.AsyncClient(timeout=timeout, transport=transport)

    def _records(self, *parts: str) -> str:
        return f"{self.records_url}/crm/v3/" + "/".join(segment(p) for p in parts)

    def _objects(self, object_type: str, *parts: str) -> str:
        return self._records("objects", object_type, *parts)

    async def close(self) -> None:
        await self.client.aclose()

    async def _call(self, method: str, url: str, token: str, *,
                    extra_headers: dict[str, str] | None = None, with_headers: bool = False,
                    **kwargs: Any) -> Any:
        try:
            answer = await self.client.request(
                method, url, headers={"Authorization": f"Bearer {token}", **(extra_headers or {})},
                **kwargs)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise UpstreamError(503, {"message": f"{url.split('/crm')[0]} unreachable: {exc}"}
                                ) from exc
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = {"message": answer.text}
            # A 5xx from a service behind us is ours to report as unavailable.
            raise UpstreamError(answer.status_code if answer.status_code < 500 else 502, body)
        body = answer.json() if answer.content else None
        return (body, answer.headers) if with_headers else body

    # ---- records ----
    async def properties(self, token: str, object_type: str) -> list[dict[str, Any]]:
        body = await self._call("GET", self._records("properties", object_type),
                                token)
        return body["results"]

    async def pipelines(self, token: str, object_type: str) -> list[dict[str, Any]]:
        body = await self._call("GET", self._records("pipelines", object_type),
                                token)
        return body["results"]

    async def read(self, token: str, object_type: str, record_id: str,
                   properties: list[str] | None = None,
                   with_history: list[str] | None = None) -> dict[str, Any]:
        params = {}
        if properties:
            params["properties"] = ",".join(properties)
        if with_history:
            params["propertiesWithHistory"] = ",".join(with_history)
        return await self._call(
            "GET", self._objects(object_type, record_id), token,
            params=params)

    async def history(self, token: str, object_type: str, record_id: str) -> dict[str, Any]:
        return await self._call(
            "GET", self._objects(object_type, record_id, "history"), token)

    async def create(self, token: str, object_type: str, properties: dict[str, Any]
                     ) -> dict[str, Any]:
        return await self._call("POST", self._objects(object_type),
                                token, json={"properties": properties})

    async def create_with_associations(self, token: str, object_type: str,
                                       body: dict[str, Any]) -> dict[str, Any]:
        """body is the hosted create body: {properties, associations: [{to, types}]}."""
        return await self._call("POST", self._objects(object_type), token, json=body)

    async def timeline(self, token: str, object_type: str, record_id: str,
                       limit: int = 20, after: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
        return await self._call("GET", self._objects(object_type, record_id, "timeline"),
                                token, params=params)

    async def associations(self, token: str, object_type: str, record_id: str,
                           to_type: str) -> dict[str, Any]:
        url = (f"{self.records_url}/crm/v4/objects/{segment(object_type)}/"
               f"{segment(record_id)}/associations/{segment(to_type)}")
        return await self._call("GET", url, token, params={"limit": 100})

    async def merge(self, token: str, object_type: str, primary_id: str,
                    merged_id: str) -> dict[str, Any]:
        return await self._call("POST", self._objects(object_type, "merge"), token,
                                json={"primaryObjectId": primary_id,
                                      "objectIdToMerge": merged_id})

    async def update(self, token: str, object_type: str, record_id: str,
                     properties: dict[str, Any]) -> dict[str, Any]:
        return await self._call(
            "PATCH", self._objects(object_type, record_id), token,
            json={"properties": properties})

    async def batch_update(self, token: str, object_type: str,
                           updates: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        return await self._call(
            "POST", self._objects(object_type, "batch", "update"), token,
            json={"inputs": [{"id": i, "properties": p} for i, p in updates]})

    async def batch_archive(self, token: str, object_type: str, ids: list[str]) -> None:
        await self._call(
            "POST", self._objects(object_type, "batch", "archive"), token,
            json={"inputs": [{"id": i} for i in ids]})

    # ---- search ----
    async def search(self, token: str, object_type: str, body: dict[str, Any],
                     consistency_token: str | None = None) -> tuple[dict[str, Any], str | None]:
        """The hosted search body's answer, and whether a consistency token was
        honoured ('applied' or 'timed-out'; None when none was passed)."""
        headers = {"X-CRM-Consistency-Token": consistency_token} if consistency_token else {}
        answer = await self._call(
            "POST", f"{self.search_url}/crm/v3/objects/{segment(object_type)}/search", token,
            json=body, extra_headers=headers, with_headers=True)
        return answer[0], answer[1].get("x-crm-index-consistency")
