"""Index lag per object type, measured from event time to indexing (R-SRCH-2)."""

from datetime import UTC, datetime, timedelta

from crm_search.domain.lag import RecentLag, lag_samples, percentile

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_samples_are_grouped_by_object_type_from_event_time_to_indexing():
    # R-SRCH-2
    samples = lag_samples([({"object_type": "contacts"}, NOW - timedelta(seconds=2)),
                           ({"object_type": "deals"}, NOW - timedelta(milliseconds=250)),
                           ({"object_type": "contacts"}, NOW + timedelta(seconds=1)),
                           ({"no": "type"}, NOW)], NOW)
    assert {t: [lag for lag, _ in s] for t, s in samples.items()} == {
        "contacts": [2.0, 0.0], "deals": [0.25]}  # a clock ahead of ours counts as 0


def test_nearest_rank_percentiles():
    assert percentile(range(1, 11), 0.5) == 5
    assert percentile(range(1, 101), 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_recent_lag_keeps_only_the_last_samples_of_each_type():
    # R-SRCH-2
    recent = RecentLag(size=3)
    recent.add("contacts", [10.0, 1.0, 2.0, 3.0])
    assert recent.summary("contacts") == {"samples": 3, "p50": 2.0, "p99": 3.0}
    assert recent.summary("deals") == {"samples": 0, "p50": None, "p99": None}
