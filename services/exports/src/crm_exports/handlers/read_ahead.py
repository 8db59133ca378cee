"""Reads the next pages while the current one is written.

The pages come over HTTP from search (and records); the writer spends CPU in
this process. Reading ahead lets search and PostgreSQL (other processes)
prepare the next page meanwhile instead of waiting for the writer. At most
`depth` pages wait in the queue, so memory stays bounded by
(depth + 2) pages: the waiting ones, the one being read, the one being written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Failed:
    error: Exception


_DONE = object()


async def read_ahead(pages: AsyncIterator[T], depth: int = 1) -> AsyncIterator[T]:
    """The same pages in the same order, each fetched while the previous is consumed.
    An error of the source is raised here, after the pages before it."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=depth)

    async def fill() -> None:
        try:
            async for page in pages:
                await queue.put(page)
        except Exception as error:  # handed to the consumer, raised in its place
            await queue.put(_Failed(error))
            return
        await queue.put(_DONE)

    filling = asyncio.create_task(fill(), name="export-read-ahead")
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        filling.cancel()
        with suppress(asyncio.CancelledError):
            await filling
