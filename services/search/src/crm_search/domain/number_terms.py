"""Number ranges as index terms, so GT/GTE/LT/LTE/BETWEEN on numbers use the GIN index.

Every stored value that reads as a number (`typing.parse_number`) puts terms in
the document's `filter_terms` (migration 0009, which mirrors `stored_terms` in
SQL). With `floor` the value rounded down, `name` the property:

- `name#pd<n>`          floor >= 0 and has n digits
- `name#p<n>:<prefix>`  each leading part of floor's digits (shorter than n)
- `name#p<n>:<digits>`  floor's digits; with a trailing "." when the value is
                        not a whole number (50.5 is `name#p2:50.`)
- `name#nd<n>`, `name#n<n>:...`  the same for a negative floor, on its magnitude
- `name#max`, `name#min`  floor >= 10**15, floor < -10**15 (one term, no digits)

A range then becomes a short list of terms of which a record must hold one
(`filter_terms && terms`): the digit counts it covers whole, plus the prefixes
that cover the rest of its edges (the way a trie answers a range). For
`score > 50`: `#pd3`..`#pd15`, `#max`, `#p2:6`..`#p2:9`, the whole numbers and
fractions 51..59, and `#p2:50.` (50 < 50.5 but not 50). So the answer is exact,
the same as comparing Decimals, with no recheck of the stored jsonb.

Whole-number operands within +-10**15 use the terms; any other operand (a
fraction, a huge number) falls back to the typed comparison in SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import ROUND_FLOOR, Decimal

from crm_search.domain.query import Operator

LIMIT = 10**15  # floors at or beyond it are stored as name#max / name#min


def stored_terms(name: str, value: Decimal) -> list[str]:
    """The terms a stored number puts in `filter_terms` (SQL: search_number_terms_of)."""
    floor = int(value.to_integral_value(rounding=ROUND_FLOOR))
    if floor >= LIMIT:
        return [f"{name}#max"]
    if floor < -LIMIT:
        return [f"{name}#min"]
    family, digits = ("p", str(floor)) if floor >= 0 else ("n", str(-floor))
    size = len(digits)
    fraction = "." if value != floor else ""
    return [f"{name}#{family}d{size}",
            *(f"{name}#{family}{size}:{digits[:i]}" for i in range(1, size)),
            f"{name}#{family}{size}:{digits}{fraction}"]


def range_terms(name: str, operator: Operator, operands: Sequence[Decimal]) -> list[str] | None:
    """Terms of which a number must hold one to pass the comparison; None if they can't say.

    An empty list means nothing can match (BETWEEN with its bounds reversed).
    """
    if not operands or any(o != o.to_integral_value() or not -LIMIT < o < LIMIT - 1
                           for o in operands):
        return None
    low = int(operands[0])
    if operator is Operator.GT:  # floor above it, or floor equal and a fraction more
        return [*_floors_between(name, low + 1, None), _digits_term(name, low, fraction=True)]
    if operator is Operator.GTE:
        return _floors_between(name, low, None)
    if operator is Operator.LT:
        return _floors_between(name, None, low - 1)
    if operator is Operator.LTE:
        return [*_floors_between(name, None, low - 1), _digits_term(name, low, fraction=False)]
    if operator is Operator.BETWEEN:
        high = int(operands[1])
        if low > high:
            return []
        return [*_floors_between(name, low, high - 1), _digits_term(name, high, fraction=False)]
    return None


def _digits_term(name: str, floor: int, *, fraction: bool) -> str:
    """The one term of a number with this floor, whole or with a fraction."""
    return stored_terms(name, Decimal(floor) + (Decimal("0.5") if fraction else 0))[-1]


def _floors_between(name: str, low: int | None, high: int | None) -> list[str]:
    """Terms held by every number whose floor is in [low, high] (None: unbounded)."""
    terms = []
    if high is None:
        terms.append(f"{name}#max")
        high = LIMIT - 1
    if low is None:
        terms.append(f"{name}#min")
        low = -LIMIT
    if low > high:
        return terms
    if high >= 0:
        terms += _family_terms(name, "p", max(low, 0), high)
    if low <= -1:  # negative floors, by magnitude
        terms += _family_terms(name, "n", -min(high, -1), -low)
    return terms


def _family_terms(name: str, family: str, low: int, high: int) -> list[str]:
    """Terms for the magnitudes low..high (0 <= low <= high) of one sign."""
    terms = []
    for size in range(len(str(low)), len(str(high)) + 1):
        first, last = (0 if size == 1 else 10 ** (size - 1)), 10**size - 1
        start, end = max(low, first), min(high, last)
        if start > end:
            continue
        if (start, end) == (first, last):
            terms.append(f"{name}#{family}d{size}")
            continue
        for prefix in _prefixes("", size, start, end):
            terms.append(f"{name}#{family}{size}:{prefix}")
            if len(prefix) == size:
                terms.append(f"{name}#{family}{size}:{prefix}.")
    return terms


def _prefixes(prefix: str, size: int, start: int, end: int) -> Iterator[str]:
    """The fewest digit prefixes whose size-digit numbers are exactly start..end."""
    rest = size - len(prefix)
    lowest, highest = int(prefix + "0" * rest), int(prefix + "9" * rest)
    if highest < start or lowest > end:
        return
    if prefix and start <= lowest and highest <= end:
        yield prefix
        return
    for digit in ("123456789" if not prefix and size > 1 else "0123456789"):
        yield from _prefixes(prefix + digit, size, start, end)
