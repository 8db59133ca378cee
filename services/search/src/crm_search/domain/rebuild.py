"""When a rebuild's replay has caught up (R-SRCH-3). Offsets are per partition:
a position is the next offset to read, an end offset the one after the last
message that existed when it was taken."""

from __future__ import annotations

from collections.abc import Mapping


def reached(positions: Mapping[int, int], end_offsets: Mapping[int, int]) -> bool:
    """True when every partition's position is at or past its end offset
    (an empty partition, end offset 0, is reached from the start)."""
    return all(positions.get(p, 0) >= end for p, end in end_offsets.items())
