"""Which record snapshots of a consumer batch change a customer's facts (R-HLTH-2).

Record events carry the whole record and its version. Read in the batch's order, a
snapshot not newer than the newest one known changes nothing (a late or repeated
delivery), and one whose score inputs equal the known ones is stored but moves no
score. The consumer then stores only each customer's newest snapshot, in one
statement for the batch, and recomputes the customers whose inputs moved, naming the
last snapshot that moved them, exactly as applying the snapshots one at a time would.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RecordKey = tuple[int, str, int]  # account, object type, record id


@dataclass(frozen=True)
class Snapshot:
    key: RecordKey
    version: int
    gone: bool
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Known:
    """What is stored for a record: its version, and what scoring reads of it."""

    version: int
    gone: bool
    inputs: Mapping[str, Any]


def score_inputs(properties: Mapping[str, Any], ignored: Collection[str]) -> dict[str, Any]:
    return {name: value for name, value in properties.items() if name not in ignored}


def apply_in_order(known: Mapping[RecordKey, Known], snapshots: Sequence[Snapshot],
                   ignored: Collection[str]) -> tuple[dict[RecordKey, Snapshot], list[int]]:
    """(each record's newest snapshot that is newer than `known`: what to store; the
    indexes, in batch order, of the snapshots that moved score inputs). `ignored`:
    properties that never move a score (our own score written back)."""
    current = dict(known)
    newest: dict[RecordKey, Snapshot] = {}
    moved: list[int] = []
    for index, snapshot in enumerate(snapshots):
        before = current.get(snapshot.key)
        if before is not None and snapshot.version <= before.version:
            continue
        inputs = score_inputs(snapshot.properties, ignored)
        if before is None or before.gone != snapshot.gone or before.inputs != inputs:
            moved.append(index)
        current[snapshot.key] = Known(snapshot.version, snapshot.gone, inputs)
        newest[snapshot.key] = snapshot
    return newest, moved


def newest_per_key(versions: Sequence[tuple[RecordKey, int]]) -> dict[RecordKey, int]:
    """key -> the index of its highest version (the first of equal ones): of several
    snapshots of one record in a batch, the one that would be stored last."""
    newest: dict[RecordKey, int] = {}
    for index, (key, version) in enumerate(versions):
        if key not in newest or versions[newest[key]][1] < version:
            newest[key] = index
    return newest
