"""Composition root of the exports service: the adapters wired to the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from crm_exports.adapters.jobs import JobStore
from crm_exports.adapters.records_client import RecordsClient
from crm_exports.adapters.search_client import SearchClient
from crm_exports.adapters.storage import LocalStorage, S3Storage, Storage, s3_client
from crm_exports.adapters.workspace_client import WorkspaceClient
from crm_exports.handlers.runner import ExportRunner, Links
from crm_exports.settings import Settings
from crm_platform.identity.directory import IdentityDirectory


def link_secret(token_secret: str) -> str:
    """Download links are signed with the signing key of TOKEN_SECRET, kept apart
    from bearer tokens by a prefix (a link can never pass for a token)."""
    return "export-links:" + token_secret.split(",")[0].strip()


def open_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        return S3Storage(s3_client(settings.s3_endpoint_url, settings.s3_region),
                         settings.s3_bucket, settings.storage_dir, prefix=settings.s3_prefix)
    return LocalStorage(settings.storage_dir)


@dataclass
class Container:
    pool: asyncpg.Pool
    jobs: JobStore
    search: SearchClient
    records: RecordsClient
    workspace: WorkspaceClient
    storage: Storage
    links: Links
    runner: ExportRunner
    directory: IdentityDirectory
    limiter: Any
    token_secret: str
    http: httpx.AsyncClient


def build(settings: Settings, pool: asyncpg.Pool, directory: IdentityDirectory,
          limiter: Any) -> Container:
    token_secret = settings.token_secret.get_secret_value()
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
    jobs = JobStore(pool)
    search = SearchClient(http, settings.search_url, settings.page_size,
                          settings.scan_page_size)
    records = RecordsClient(http, settings.records_url)
    storage = open_storage(settings)
    links = Links(link_secret(token_secret), settings.public_base_url)
    runner = ExportRunner(jobs, search, records, storage, links, token_secret,
                          workers=settings.job_workers)
    return Container(pool=pool, jobs=jobs, search=search, records=records,
                     workspace=WorkspaceClient(http, settings.workspace_url), storage=storage,
                     links=links,
                     runner=runner, directory=directory, limiter=limiter,
                     token_secret=token_secret, http=http)
