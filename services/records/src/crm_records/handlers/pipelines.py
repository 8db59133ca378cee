"""Pipelines and stages per account (R-PIPE-1, R-PIPE-2): the defaults of
domain.pipelines until the account changes one, then its own stored copy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from crm_records.domain.errors import DomainError, InvalidPipeline
from crm_records.domain.pipelines import DEFAULT_PIPELINES, Pipeline, Stage

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # when the defaults "were created", as shown


class PipelineNotFound(DomainError):
    category = "OBJECT_NOT_FOUND"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} does not exist")


@dataclass(frozen=True)
class StoredPipeline:
    pipeline: Pipeline
    created_at: datetime
    updated_at: datetime
    archived: bool = False


class PipelineStore(Protocol):
    async def pipeline_rows(self, account_id: int, object_type: str) -> list[StoredPipeline]: ...
    async def save_pipelines(self, account_id: int, object_type: str,
                             rows: Sequence[StoredPipeline]) -> None: ...


def default_pipelines(object_type: str) -> list[StoredPipeline]:
    defaults = DEFAULT_PIPELINES.get(object_type)
    if defaults is None:  # custom objects get one pipeline of their own (R-PIPE-1)
        defaults = (Pipeline("default", "Pipeline", 0, (
            Stage("open", "Open", 0), Stage("closed", "Closed", 1, is_closed=True))),)
    return [StoredPipeline(p, EPOCH, EPOCH) for p in defaults]


async def stored_pipelines(store: PipelineStore, account_id: int,
                           object_type: str) -> list[StoredPipeline]:
    return (await store.pipeline_rows(account_id, object_type)
            or default_pipelines(object_type))


async def active_pipelines(store: PipelineStore, account_id: int,
                           object_type: str) -> tuple[Pipeline, ...]:
    rows = await stored_pipelines(store, account_id, object_type)
    return tuple(sorted((r.pipeline for r in rows if not r.archived),
                        key=lambda p: p.display_order))


class PipelinesHandler:
    def __init__(self, unit_of_work: Callable[[], Any],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def list(self, account_id: int, object_type: str) -> list[StoredPipeline]:
        async with self.unit_of_work() as store:
            rows = await stored_pipelines(store, account_id, object_type)
        return sorted((r for r in rows if not r.archived),
                      key=lambda r: r.pipeline.display_order)

    async def get(self, account_id: int, object_type: str, pipeline_id: str) -> StoredPipeline:
        for row in await self.list(account_id, object_type):
            if row.pipeline.id == pipeline_id:
                return row
        raise PipelineNotFound(f"Pipeline {pipeline_id}")

    async def change(self, account_id: int, object_type: str, pipeline_id: str | None,
                     edit: Callable[[Pipeline | None], Pipeline | None]) -> StoredPipeline | None:
        """Apply `edit` to one pipeline (None: a new one; returning None archives it)."""
        now = self.clock()
        async with self.unit_of_work() as store:
            rows = {r.pipeline.id: r for r in await stored_pipelines(store, account_id,
                                                                      object_type)}
            current = rows.get(pipeline_id) if pipeline_id is not None else None
            if pipeline_id is not None and (current is None or current.archived):
                raise PipelineNotFound(f"Pipeline {pipeline_id}")
            edited = edit(current.pipeline if current else None)
            if edited is None:
                assert current is not None
                if len([r for r in rows.values() if not r.archived]) == 1:
                    raise InvalidPipeline(current.pipeline.id,
                                          ["an object type keeps at least one pipeline"])
                rows[current.pipeline.id] = replace(current, archived=True, updated_at=now)
                result = None
            else:
                if current is None and edited.id in rows and not rows[edited.id].archived:
                    raise InvalidPipeline(edited.id, ["a pipeline with this id already exists"])
                result = StoredPipeline(edited, current.created_at if current else now, now)
                rows[edited.id] = result
            await store.save_pipelines(account_id, object_type, list(rows.values()))
        return result
