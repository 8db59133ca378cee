"""What the forms, tracking and lists use cases share: one transaction that
holds both the marketing store and a RecordsHandler writing on it, and the
stored shapes the API presents."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_records.domain.forms import FormDefinition
from crm_records.handlers.records import RecordsHandler


class NotFound(Exception):
    """A portal, form, list or contact that does not exist in this account (404)."""

    def __init__(self, what: str, identifier: object) -> None:
        super().__init__(f"{what} {identifier} not found")
        self.what = what
        self.identifier = identifier


@dataclass
class MarketingSession:
    store: Any  # adapters.marketing_pg.PgMarketingStore, or a fake in tests
    records: RecordsHandler  # writes contacts and engagements in the same transaction


MarketingUnitOfWork = Callable[[], AbstractAsyncContextManager[MarketingSession]]


@dataclass(frozen=True)
class StoredForm:
    form: FormDefinition
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredList:
    list_id: int
    name: str
    processing_type: str
    object_type_id: str
    filter_groups: list[dict[str, Any]] | None
    size: int
    created_at: datetime
    updated_at: datetime
