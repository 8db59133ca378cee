"""crm_platform.testing.eventually: quick conditions are seen quickly, slow ones are
polled ever less often (up to twice a second), so a late answer is not turned into a
429 by the API's burst limit."""

from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import pytest

from crm_platform import testing


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    taken: list[float] = []

    async def sleep(seconds: float) -> None:
        taken.append(seconds)

    # Only this module's asyncio: other tasks on the shared loop keep the real sleep.
    monkeypatch.setattr(testing, "asyncio", SimpleNamespace(sleep=sleep))
    return taken


def answers(*values: object) -> Callable[[], Awaitable[object]]:
    """A probe giving `values` in turn."""
    remaining = list(values)

    async def probe() -> object:
        return remaining.pop(0)
    return probe


async def test_the_pause_grows_by_half_up_to_half_a_second(pauses: list[float]) -> None:
    assert await testing.eventually(answers(*[None] * 8, "done"), interval=0.05) == "done"
    assert pauses == pytest.approx([0.05, 0.075, 0.1125, 0.16875, 0.253125, 0.3796875,
                                    0.5, 0.5])


async def test_a_short_deadline_is_polled_finely(pauses: list[float]) -> None:
    await testing.eventually(answers(*[0] * 5, 1), timeout=2.0, interval=0.05)
    assert pauses == pytest.approx([0.05, 0.075, 0.1, 0.1, 0.1])


async def test_a_longer_interval_is_kept(pauses: list[float]) -> None:
    await testing.eventually(answers(0, 0, 1), interval=2.0)
    assert pauses == [2.0, 2.0]


async def test_a_condition_never_met_fails_naming_it(pauses: list[float]) -> None:
    async def never() -> int:
        return 0

    with pytest.raises(AssertionError, match=r"waiting for the thing \(last: 0\)"):
        await testing.eventually(never, timeout=0.01, what="the thing")
    assert pauses  # it polled (the pauses are instant here) until the deadline
