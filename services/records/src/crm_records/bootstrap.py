"""Composition root: the adapters the running service uses, wired to its
handlers. Tests build a Container with fakes instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from crm_platform.identity.directory import IdentityDirectory
from crm_records.adapters.associations_pg import (
    AssociationUnitOfWork,
    PgAssociationStore,
    ReadOnlyUnitOfWork,
)
from crm_records.adapters.postgres import PgRecordStore, PgUnitOfWork
from crm_records.domain.object_types import resolve_object_type
from crm_records.handlers.associations import AssociationsHandler
from crm_records.handlers.custom_objects import REQUEST_CUSTOM_TYPES
from crm_records.handlers.engagements import TimelineHandler
from crm_records.handlers.identity import IdentityHandler
from crm_records.handlers.pipelines import PipelinesHandler
from crm_records.handlers.properties import PropertiesHandler
from crm_records.handlers.records import RecordsHandler


@dataclass
class Container:
    pool: asyncpg.Pool
    records: RecordsHandler
    properties: PropertiesHandler
    pipelines: PipelinesHandler
    identity: IdentityHandler
    directory: IdentityDirectory
    limiter: Any
    token_secret: str
    operator_key: str | None
    associations: AssociationsHandler
    timeline: TimelineHandler

    async def rollups_updated_at(self, account_id: int, object_type: str,
                                 record_id: int) -> dict[str, datetime]:
        """When the roll-up consumer last brought each roll-up of the record up to date."""
        async with self.pool.acquire() as conn:
            return await PgAssociationStore(conn).rollups_updated_at(account_id, object_type,
                                                                     record_id)

    def object_type(self, reference: str) -> str:
        # Custom types: the caller's account's, loaded by api.deps.principal (R-REC-1).
        return resolve_object_type(reference, REQUEST_CUSTOM_TYPES.get()).name

    async def history(self, account_id: int, object_type: str, record_ids: Sequence[int],
                      properties: Sequence[str]) -> dict[int, dict[str, list[Any]]]:
        async with self.pool.acquire() as conn:
            return await PgRecordStore(conn).history(account_id, object_type, record_ids,
                                                     properties)

    async def record_history(self, account_id: int, object_type: str, record_id: int,
                             limit: int) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await PgRecordStore(conn).record_history(account_id, object_type, record_id,
                                                            limit=limit)


def build(pool: asyncpg.Pool, directory: IdentityDirectory, limiter: Any, token_secret: str,
          operator_key: str | None) -> Container:
    unit_of_work = PgUnitOfWork(pool)
    return Container(pool=pool, records=RecordsHandler(unit_of_work),
                     properties=PropertiesHandler(unit_of_work),
                     pipelines=PipelinesHandler(unit_of_work),
                     identity=IdentityHandler(pool, token_secret), directory=directory,
                     limiter=limiter, token_secret=token_secret, operator_key=operator_key,
                     associations=AssociationsHandler(AssociationUnitOfWork(pool)),
                     timeline=TimelineHandler(ReadOnlyUnitOfWork(pool)))
