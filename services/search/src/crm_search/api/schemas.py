"""The hosted CRM's search response shape."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SearchHit(BaseModel):
    id: str
    properties: dict[str, str | None]
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False


class NextPage(BaseModel):
    after: str


class Paging(BaseModel):
    next: NextPage


class SearchResponse(BaseModel):
    total: int
    results: list[SearchHit]
    paging: Paging | None = None
