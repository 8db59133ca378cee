"""Customer views: standard, custom, shared defaults, and their search bodies (R-CSW-4)."""

import pytest

from crm_workspace.domain.views import (
    ASSIGNED_LAST_30_DAYS,
    OWNED_BY_ME,
    View,
    ViewRuleBroken,
    check_editable,
    check_view,
    next_default_position,
    reorder_defaults,
    run_view,
    standard_views,
)


def default(i: int) -> View:
    return View(id=f"v{i}", tab="customers", object_type="companies", name=f"V{i}",
                sharing="everyone", description="d", default_position=i)


def test_standard_views_are_owned_by_me_and_assigned_in_30_days_and_not_editable():
    # R-CSW-4
    owned, assigned = standard_views("companies")
    assert (owned.standard, assigned.standard) == (OWNED_BY_ME, ASSIGNED_LAST_30_DAYS)
    with pytest.raises(ViewRuleBroken, match="deleted, not edited"):
        check_editable(owned)
    check_editable(View(id="c", tab="customers", object_type="companies", name="mine"))


def test_a_default_must_be_shared_with_everyone_and_described():
    # R-CSW-4
    with pytest.raises(ViewRuleBroken, match="description"):
        check_view(View(id="x", tab="customers", object_type="companies", name="n",
                        sharing="everyone", default_position=1))
    with pytest.raises(ViewRuleBroken, match="shared with everyone"):
        check_view(View(id="x", tab="customers", object_type="companies", name="n",
                        description="d", default_position=1))
    check_view(default(1))


def test_at_most_six_defaults():
    # R-CSW-4
    five = [default(i) for i in range(1, 6)]
    assert next_default_position(five, "customers") == 6
    with pytest.raises(ViewRuleBroken, match="at most 6"):
        next_default_position([*five, default(6)], "customers")
    # a view already default keeps its place when edited
    assert next_default_position([*five, default(6)], "customers", excluding="v6") == 6


def test_defaults_can_be_reordered_but_only_as_a_whole():
    # R-CSW-4
    views = [default(1), default(2), default(3)]
    assert reorder_defaults(views, "customers", ["v3", "v1", "v2"]) == {"v3": 1, "v1": 2, "v2": 3}
    with pytest.raises(ViewRuleBroken):
        reorder_defaults(views, "customers", ["v3", "v1"])
    with pytest.raises(ViewRuleBroken):
        reorder_defaults(views, "customers", ["v3", "v1", "v1"])


def test_owned_by_me_filters_the_csm_property_in_every_group():
    # R-CSW-4
    owned = standard_views("companies")[0]
    custom = View(id="c", tab="customers", object_type="companies", name="n",
                  filter_groups=({"filters": [{"propertyName": "city", "operator": "EQ",
                                               "value": "Lyon"}]},
                                 {"filters": [{"propertyName": "city", "operator": "EQ",
                                               "value": "Oslo"}]}))
    body = run_view(owned, user_id=7, csm_property="csm").body
    assert body["filterGroups"] == [{"filters": [
        {"propertyName": "csm", "operator": "EQ", "value": "7"}]}]
    body = run_view(custom, user_id=7, csm_property="csm", extra_filters=[
        {"propertyName": "createdate", "operator": "GTE", "value": "2024"}]).body
    assert [len(g["filters"]) for g in body["filterGroups"]] == [2, 2]


def test_assigned_in_30_days_searches_the_assigned_ids_or_nothing():
    # R-CSW-4
    assigned = standard_views("companies")[1]
    assert run_view(assigned, user_id=7, csm_property="csm").empty
    body = run_view(assigned, user_id=7, csm_property="csm", assigned_record_ids=[3, 4]).body
    assert body["filterGroups"][0]["filters"][0] == {
        "propertyName": "hs_object_id", "operator": "IN", "values": ["3", "4"]}


def test_views_are_private_to_their_owner_unless_shared():
    # R-CSW-4
    private = View(id="p", tab="customers", object_type="companies", name="n", owner_user_id=1)
    assert private.visible_to(1) and not private.visible_to(2)
    assert default(1).visible_to(2)
