"""handlers.read_ahead: the next page is read while the current one is consumed,
order and errors kept, never more than `depth` pages waiting."""

import asyncio

import pytest

from crm_exports.handlers.read_ahead import read_ahead


async def test_the_next_page_is_read_while_the_current_one_is_written():  # R-EXP-1
    started: list[int] = []

    async def source():
        for n in range(4):
            started.append(n)
            await asyncio.sleep(0)
            yield n

    seen = []
    async for page in read_ahead(source(), depth=1):
        seen.append(page)
        await asyncio.sleep(0.01)  # writing: the reader runs meanwhile
        # bounded: at most the page being written, one waiting, one being read
        assert max(started) <= page + 2
        if page < 3:
            assert max(started) >= page + 1
    assert seen == [0, 1, 2, 3]


async def test_an_error_of_the_source_arrives_after_the_pages_before_it():
    async def source():
        yield 1
        raise RuntimeError("search went away")

    seen = []
    with pytest.raises(RuntimeError, match="search went away"):
        async for page in read_ahead(source()):
            seen.append(page)
    assert seen == [1]


async def test_stopping_early_stops_the_reader():
    reads = []

    async def source():
        for n in range(100):
            reads.append(n)
            yield n

    pages = read_ahead(source(), depth=2)
    assert await anext(pages) == 0
    await pages.aclose()
    await asyncio.sleep(0.01)
    assert len(reads) <= 4
