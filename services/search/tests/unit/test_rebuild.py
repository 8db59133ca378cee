"""When a rebuild's replay has caught up with the end offsets it recorded (R-SRCH-3)."""

from crm_search.domain.rebuild import reached


def test_every_partition_must_reach_its_end_offset():  # R-SRCH-3
    ends = {0: 10, 1: 5, 2: 0}
    assert not reached({0: 10, 1: 4}, ends)
    assert not reached({}, ends)
    assert reached({0: 10, 1: 5}, ends)  # the empty partition 2 needs no message
    assert reached({0: 12, 1: 7, 2: 3}, ends)  # past the end: later events arrived


def test_a_topic_without_partitions_is_reached_at_once():  # R-SRCH-3
    assert reached({}, {})
