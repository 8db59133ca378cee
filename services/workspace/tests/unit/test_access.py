"""Which part of the workspace each kind of user reaches (R-CSW-1, R-CSW-3, R-CSW-4)."""

from crm_platform.identity.principal import Principal
from crm_workspace.domain.access import Area, can_open_summary_of, can_share_view, can_use


def user(**kw) -> Principal:
    return Principal(account_id=1, user_id=kw.pop("user_id", 10), token_id="t", **kw)


CSM = user(service_seat=True, permissions={"cs_workspace_access"})
MANAGER = user(service_seat=True, permissions={"cs_workspace_access", "cs_settings_manage"})
SEATLESS_ADMIN = user(super_admin=True)
NO_ACCESS = user(service_seat=True)
NO_SEAT = user(permissions={"cs_workspace_access"})


def test_csm_with_seat_and_permission_reaches_every_tab_but_settings():
    # R-CSW-1
    for area in Area:
        assert bool(can_use(CSM, area)) == (area is not Area.SETTINGS), area


def test_refusals_name_the_missing_permission_or_seat():
    # R-CSW-1
    assert can_use(NO_ACCESS, Area.CUSTOMERS).missing == "cs_workspace_access"
    assert can_use(NO_SEAT, Area.CUSTOMERS).missing == "service_seat"
    assert "cs_workspace_access" in can_use(NO_ACCESS, Area.SUMMARY).reason


def test_super_admin_without_seat_sees_only_summary_reports_and_settings():
    # R-CSW-1: Summary, reports (dashboards), view as another user, settings.
    allowed = {a for a in Area if can_use(SEATLESS_ADMIN, a)}
    assert allowed == {Area.SUMMARY, Area.DASHBOARDS, Area.SETTINGS}
    assert can_open_summary_of(SEATLESS_ADMIN, 99)


def test_another_users_summary_needs_super_admin_or_settings_manager():
    # R-CSW-3
    assert can_open_summary_of(CSM, CSM.user_id)
    refused = can_open_summary_of(CSM, 99)
    assert not refused and refused.missing == "cs_settings_manage"
    assert can_open_summary_of(MANAGER, 99)
    assert not can_open_summary_of(NO_ACCESS, NO_ACCESS.user_id)


def test_sharing_with_everyone_or_making_a_default_needs_settings_manage():
    # R-CSW-4
    assert can_share_view(CSM, "private", is_default=False)
    assert not can_share_view(CSM, "everyone", is_default=False)
    assert not can_share_view(CSM, "private", is_default=True)
    assert can_share_view(MANAGER, "everyone", is_default=True)
    assert not can_share_view(NO_ACCESS, "private", is_default=False)
