"""Reads an export's records from the search service's HTTP API, as the user:
the hosted search (offset pages of 200, below 10,000 results) and search's
export scan (keyset pages of up to 10,000 with the associated records' names,
for larger exports; see domain.paging).

Every call carries a bearer token minted for the requesting user (signed with
the shared TOKEN_SECRET, 10 minutes, renewed while the export runs), so the
search service applies that user's visibility inside the query (R-AUTH-3):
a record they may not see is never read, let alone written to a file. A 429
is waited out as its Retry-After says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from crm_exports.domain.associations import AssociationMode, associated_name
from crm_exports.domain.paging import (
    SEARCH_RESULT_CAP,
    keyset_page_request,
    offset_page_request,
    scan_request,
)
from crm_exports.domain.requests import SearchSpec
from crm_exports.domain.rows import AssociatedRecord, ExportRecord
from crm_platform.identity.tokens import issue_token

TOKEN_TTL = timedelta(minutes=10)
MAX_RATE_LIMIT_WAITS = 30


class SearchRefused(Exception):
    """The search service refused the query (bad filter, user gone): not worth retrying."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FirstPage:
    total: int  # capped at 10,000 by the search API
    records: list[ExportRecord]


class UserToken:
    """A bearer token for one user, renewed before it runs out."""

    def __init__(self, secret: str, account_id: int, user_id: int,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.secret, self.account_id, self.user_id, self.clock = secret, account_id, user_id, clock
        self._token: str | None = None
        self._renew_at = datetime.min.replace(tzinfo=UTC)

    def header(self) -> dict[str, str]:
        now = self.clock()
        if self._token is None or now >= self._renew_at:
            self._token, claims = issue_token(self.secret, self.account_id, self.user_id,
                                              TOKEN_TTL, now)
            self._renew_at = claims.expires_at - TOKEN_TTL / 2
        return {"Authorization": f"Bearer {self._token}"}


class SearchClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, page_size: int = 200,
                 scan_page_size: int = 5000) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.scan_page_size = scan_page_size

    async def _search(self, object_type: str, body: dict[str, Any],
                      token: UserToken) -> dict[str, Any]:
        return await self._post(f"/crm/v3/objects/{object_type}/search", body, token)

    async def _post(self, path: str, body: dict[str, Any], token: UserToken) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        for _ in range(MAX_RATE_LIMIT_WAITS):
            answer = await self.http.post(url, json=body, headers=token.header())
            if answer.status_code == 429:
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            if 400 <= answer.status_code < 500:
                raise SearchRefused(answer.status_code, _message(answer))
            answer.raise_for_status()
            # orjson: a 5,000-row scan page is ~2 MB, parsed ~3x faster than by json
            return orjson.loads(answer.content)
        raise SearchRefused(429, "the search service kept rate limiting the export")

    async def first_page(self, object_type: str, search: SearchSpec, properties: list[str],
                         token: UserToken, limit: int | None = None) -> FirstPage:
        """The first page in the view's order, and the (capped) total."""
        body = offset_page_request(search, properties, 0, self.page_size if limit is None
                                   else limit)
        page = await self._search(object_type, body, token)
        return FirstPage(page["total"], [_record(hit) for hit in page["results"]])

    async def pages(self, object_type: str, search: SearchSpec, properties: list[str],
                    token: UserToken, first: FirstPage) -> AsyncIterator[list[ExportRecord]]:
        """Every matching record of an export below the search cap, page by page in the
        view's order, starting with `first` (offsets; larger exports use scan_pages)."""
        after, page = 0, first.records
        while page:
            yield page
            after += len(page)
            if after >= first.total:
                return
            body = offset_page_request(search, properties, after, self.page_size)
            page = [_record(h) for h in (await self._search(object_type, body,
                                                            token))["results"]]

    async def scan_pages(self, object_type: str, search: SearchSpec, properties: list[str],
                         association_types: list[str], mode: AssociationMode,
                         token: UserToken) -> AsyncIterator[list[ExportRecord]]:
        """Every matching record in Record ID order, with its association cells' records,
        through search's export scan (no result cap; the user's scopes applied there)."""
        last_id = 0
        while True:
            body = scan_request(search, properties, last_id, self.scan_page_size,
                                association_types, mode)
            answer = await self._post(f"/search/v1/export-scan/{object_type}", body, token)
            named = _named_associated(answer.get("associatedRecords") or {})
            page = [_scanned(hit, association_types, named) for hit in answer["results"]]
            if page:
                yield page
            if "paging" not in answer or not page:
                return
            last_id = page[-1].id

    async def more_than(self, object_type: str, search: SearchSpec, token: UserToken,
                        row_limit: int) -> bool:
        """Whether more than `row_limit` records match, in hops of 10,000 by id."""
        last_id, remaining = 0, row_limit
        while True:
            hop = min(remaining, SEARCH_RESULT_CAP - 1)
            body = keyset_page_request(search, ["hs_object_id"], last_id, 1, after=hop)
            results = (await self._search(object_type, body, token))["results"]
            if not results:
                return False
            if hop == remaining:
                return True
            last_id, remaining = int(results[0]["id"]), remaining - hop - 1


def _record(hit: dict[str, Any]) -> ExportRecord:
    return ExportRecord(id=int(hit["id"]), properties=hit.get("properties") or {})


def _named_associated(by_type: dict[str, dict[str, dict[str, Any]]]
                      ) -> dict[str, dict[str, AssociatedRecord]]:
    """A scan page's associated records, each named once however many rows share it."""
    return {to_type: {key: AssociatedRecord(int(key), associated_name(to_type, int(key),
                                                                       properties or {}))
                      for key, properties in records.items()}
            for to_type, records in by_type.items()}


def _scanned(hit: dict[str, Any], association_types: list[str],
             named: dict[str, dict[str, AssociatedRecord]]) -> ExportRecord:
    ids = hit.get("associations") or {}
    return ExportRecord(
        id=int(hit["id"]), properties=hit.get("properties") or {},
        associations={to_type: [named[to_type][key] for key in ids.get(to_type, ())]
                      for to_type in association_types})


def _message(answer: httpx.Response) -> str:
    try:
        body = answer.json()  # the hosted shape says `message`, problem+json `detail`
        return str(body.get("message") or body.get("detail") or answer.text)
    except ValueError:
        return answer.text[:500]
