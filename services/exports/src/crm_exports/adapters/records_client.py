"""Reads associations, associated records' names and list members from the
records service's HTTP API, as the requesting user (the same short-lived
token as the search calls, see search_client.UserToken).

So the records service applies the user's visibility (R-AUTH-3): its batch
read answers only the records the user may see, and an associated record it
leaves out is neither named nor listed in the export. A 429 is waited out as
its Retry-After says.

Calls used (the hosted shapes):
  POST /crm/v4/associations/{from}/{to}/batch/read   associated ids, per record
  POST /crm/v3/objects/{type}/batch/read             names of associated records,
                                                     and a list's members' rows
  GET  /crm/v3/lists/{id}                            the list (its size)
  GET  /crm/v3/lists/{id}/memberships?after=&limit=  member ids, ascending
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from itertools import islice
from typing import Any

import httpx

from crm_exports.adapters.search_client import MAX_RATE_LIMIT_WAITS, UserToken, _message
from crm_exports.domain.rows import ExportRecord

ASSOCIATIONS_BATCH = 1000  # hosted v4 batch read: 1,000 inputs
RECORDS_BATCH = 100  # hosted v3 batch read: 100 inputs
MEMBERSHIPS_PAGE = 200


def _chunks(items: Sequence[int], size: int) -> list[list[int]]:
    iterator = iter(items)
    return list(iter(lambda: list(islice(iterator, size)), []))


class RecordsRefused(Exception):
    """The records service refused a call (a list gone, a user gone): not worth retrying."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RecordsClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def _call(self, method: str, path: str, token: UserToken,
                    body: Any = None) -> dict[str, Any]:
        for _ in range(MAX_RATE_LIMIT_WAITS):
            answer = await self.http.request(method, f"{self.base_url}{path}", json=body,
                                             headers=token.header())
            if answer.status_code == 429:
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            if 400 <= answer.status_code < 500:
                raise RecordsRefused(answer.status_code, _message(answer))
            answer.raise_for_status()  # 207 (some ids not found or not visible) is a success
            return answer.json()
        raise RecordsRefused(429, "the records service kept rate limiting the export")

    async def associated_ids(self, from_type: str, from_ids: Sequence[int], to_type: str,
                             token: UserToken) -> dict[int, list[int]]:
        """Per record, the ids of its associated `to_type` records, ascending."""
        found: dict[int, list[int]] = {}
        for chunk in _chunks(from_ids, ASSOCIATIONS_BATCH):
            answer = await self._call(
                "POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read", token,
                {"inputs": [{"id": str(i)} for i in chunk]})
            for result in answer.get("results", []):
                found[int(result["from"]["id"])] = sorted(
                    int(to["toObjectId"]) for to in result.get("to", []))
        return found

    async def read(self, object_type: str, ids: Sequence[int], properties: Sequence[str],
                   token: UserToken) -> dict[int, dict[str, str | None]]:
        """The records among `ids` the user may see, with the given properties."""
        found: dict[int, dict[str, str | None]] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), RECORDS_BATCH):
            answer = await self._call(
                "POST", f"/crm/v3/objects/{object_type}/batch/read", token,
                {"inputs": [{"id": str(i)} for i in chunk], "properties": list(properties)})
            for result in answer.get("results", []):
                found[int(result["id"])] = result.get("properties") or {}
        return found

    async def check_association_type(self, from_type: str, to_type: str,
                                     token: UserToken) -> None:
        """RecordsRefused when records knows no association between the two types."""
        await self._call("GET", f"/crm/v4/associations/{from_type}/{to_type}/labels", token)

    async def list_size(self, list_id: int, token: UserToken) -> int:
        answer = await self._call("GET", f"/crm/v3/lists/{list_id}", token)
        return int(answer["list"]["size"])

    async def list_pages(self, list_id: int, properties: Sequence[str], token: UserToken,
                         object_type: str = "contacts") -> AsyncIterator[list[ExportRecord]]:
        """A list's members the user may see, page by page in id order."""
        after = 0
        while True:
            answer = await self._call(
                "GET", f"/crm/v3/lists/{list_id}/memberships?after={after}"
                       f"&limit={MEMBERSHIPS_PAGE}", token)
            ids = [int(r["recordId"]) for r in answer.get("results", [])]
            if ids:
                rows = await self.read(object_type, ids, properties, token)
                page = [ExportRecord(id=i, properties=rows[i]) for i in ids if i in rows]
                if page:
                    yield page
            if "paging" not in answer or not ids:
                return
            after = int(answer["paging"]["next"]["after"])
