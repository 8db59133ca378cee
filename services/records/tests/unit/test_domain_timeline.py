from dataclasses import dataclass, field

from crm_records.domain.timeline import newest_first, page_after, timeline_position


@dataclass
class Engagement:
    id: int
    properties: dict = field(default_factory=dict)


def _ids(items):
    return [item.id for item in items]


# R-REC-7
def test_the_timeline_is_newest_first_by_timestamp_then_id():
    items = [
        Engagement(1, {"hs_timestamp": "2024-01-01T00:00:00.000Z"}),
        Engagement(2, {"hs_timestamp": "2024-03-01T00:00:00.000Z"}),
        Engagement(3, {"hs_timestamp": "2024-01-01T00:00:00.000Z"}),
        Engagement(4, {"hs_timestamp": "2024-02-01T12:00:00+02:00"}),
    ]
    assert _ids(newest_first(items)) == [2, 4, 3, 1]


# R-REC-7
def test_undated_engagements_fall_back_to_creation_then_go_last():
    items = [
        Engagement(1, {}),
        Engagement(2, {"hs_timestamp": "garbage", "hs_createdate": "2024-01-02T00:00:00.000Z"}),
        Engagement(3, {"hs_timestamp": "2024-01-01T00:00:00.000Z"}),
    ]
    assert _ids(newest_first(items)) == [2, 3, 1]


# R-REC-7
def test_paging_with_a_position_cursor_walks_the_whole_timeline_once():
    items = [Engagement(i, {"hs_timestamp": f"2024-01-{1 + i % 3:02d}T00:00:00.000Z"})
             for i in range(1, 11)]
    seen, cursor = [], None
    while page := page_after(items, cursor, 3):
        seen.extend(page)
        cursor = timeline_position(page[-1])
    assert _ids(seen) == _ids(newest_first(items))
    assert len(set(_ids(seen))) == 10
