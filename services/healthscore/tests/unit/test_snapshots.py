"""A batch of record snapshots applied at once changes the facts exactly as applying
them one at a time would (R-HLTH-2: out-of-order and repeated events leave facts
exact; our own score written back moves no score)."""

from crm_healthscore.domain.snapshots import Known, Snapshot, apply_in_order, newest_per_key

ACME = (7, "companies", 1)
GLOBEX = (7, "companies", 2)
WRITE_BACK = ("health_score", "hs_lastmodifieddate")


def test_only_newer_snapshots_count_and_the_last_one_is_stored():
    known = {ACME: Known(3, False, {"name": "Acme"})}
    snapshots = [Snapshot(ACME, 2, False, {"name": "Stale"}),        # older: nothing
                 Snapshot(ACME, 5, False, {"name": "Acme Inc"}),     # moves inputs
                 Snapshot(ACME, 4, False, {"name": "Late"}),         # older than 5 now
                 Snapshot(ACME, 5, False, {"name": "Repeat"}),       # as old: nothing
                 Snapshot(GLOBEX, 1, False, {"name": "Globex"})]     # new record
    newest, moved = apply_in_order(known, snapshots, WRITE_BACK)
    assert moved == [1, 4]
    assert newest == {ACME: snapshots[1], GLOBEX: snapshots[4]}


def test_a_written_back_score_is_stored_but_moves_nothing():
    known = {ACME: Known(1, False, {"name": "Acme"})}
    written_back = Snapshot(ACME, 2, False, {"name": "Acme", "health_score": "80",
                                             "hs_lastmodifieddate": "2026-11-23T10:00:00Z"})
    renamed = Snapshot(ACME, 3, False, {"name": "Acme 2", "health_score": "80"})
    newest, moved = apply_in_order(known, [written_back], WRITE_BACK)
    assert (newest, moved) == ({ACME: written_back}, [])
    # The cause of a move is the snapshot that moved the inputs, not a later write-back.
    later_write_back = Snapshot(ACME, 4, False, {"name": "Acme 2", "health_score": "90"})
    newest, moved = apply_in_order(known, [written_back, renamed, later_write_back],
                                   WRITE_BACK)
    assert moved == [1]
    assert newest[ACME] is later_write_back


def test_gone_and_back_each_move_the_inputs():
    known = {ACME: Known(1, False, {"name": "Acme"})}
    snapshots = [Snapshot(ACME, 2, True, {"name": "Acme"}),
                 Snapshot(ACME, 3, False, {"name": "Acme"})]
    assert apply_in_order(known, snapshots, WRITE_BACK)[1] == [0, 1]


def test_the_newest_version_of_each_key_the_first_of_equal_ones():
    versions = [(ACME, 2), (GLOBEX, 1), (ACME, 5), (ACME, 3), (ACME, 5)]
    assert newest_per_key(versions) == {ACME: 2, GLOBEX: 1}
