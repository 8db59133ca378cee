"""Consumer-group lag arithmetic (R-BUS-3: a stuck consumer must be visible)."""

from aiokafka import TopicPartition

from crm_platform.lag import partition_lag

P0, P1, P2 = (TopicPartition("t", p) for p in range(3))


def test_lag_is_end_minus_committed_and_uncommitted_partitions_count_from_their_start():
    lag = partition_lag(end={P0: 10, P1: 7, P2: 5}, first={P0: 0, P1: 2, P2: 0},
                        committed={P0: 4})
    assert lag == {P0: 6, P1: 5, P2: 5}


def test_lag_never_goes_below_zero_when_a_commit_is_past_a_truncated_end():
    assert partition_lag(end={P0: 3}, first={P0: 0}, committed={P0: 9}) == {P0: 0}
