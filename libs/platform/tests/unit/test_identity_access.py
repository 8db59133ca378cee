"""Record scopes, the SQL form of the view scope, and feature permissions
(R-AUTH-1, R-AUTH-2, R-AUTH-3, R-CSW-1, R-CSW-2, R-CSW-3, R-CSW-4, R-HLTH-5, R-EXP-1)."""

import pytest

from crm_platform.identity.access import (
    can_access_cs_workspace,
    can_edit,
    can_edit_health_scores,
    can_export,
    can_manage_cs_settings,
    can_manage_shared_views,
    can_manage_users,
    can_view,
    can_view_as_other_user,
    can_view_cs_summary,
    require,
    require_permission,
    require_service_seat,
    visibility_sql,
)
from crm_platform.identity.errors import Forbidden
from crm_platform.identity.principal import (
    ANY_OBJECT_TYPE,
    CS_SETTINGS_MANAGE,
    CS_WORKSPACE_ACCESS,
    EXPORT,
    ObjectScope,
    Principal,
)

ACCOUNT = 7
ME, MATE, STRANGER = 1, 2, 3
MY_TEAM, OTHER_TEAM = 10, 20


def principal(view="all", edit="all", **overrides) -> Principal:
    fields = dict(
        account_id=ACCOUNT,
        user_id=ME,
        token_id="t1",
        team_ids=frozenset({MY_TEAM}),
        team_member_ids=frozenset({ME, MATE}),
        object_scopes={"contacts": ObjectScope(view, edit)},
    )
    fields.update(overrides)
    return Principal(**fields)


def sees(p: Principal, owner_id, owner_team_ids=(), account_id=ACCOUNT) -> bool:
    return can_view(p, "contacts", owner_id, owner_team_ids, account_id=account_id)


def edits(p: Principal, owner_id, owner_team_ids=(), account_id=ACCOUNT) -> bool:
    return can_edit(p, "contacts", owner_id, owner_team_ids, account_id=account_id)


# ---- record scopes (R-AUTH-2) ----------------------------------------------------


def test_view_all_sees_every_record_of_the_account():
    p = principal(view="all")
    assert sees(p, ME) and sees(p, MATE) and sees(p, STRANGER) and sees(p, None)


def test_view_team_sees_own_and_team_mates_records_only():
    p = principal(view="team")
    assert sees(p, ME)
    assert sees(p, MATE)
    assert not sees(p, STRANGER)
    assert not sees(p, None)


def test_view_team_also_sees_records_carrying_one_of_my_teams():
    p = principal(view="team")
    assert sees(p, STRANGER, owner_team_ids={MY_TEAM})
    assert not sees(p, STRANGER, owner_team_ids={OTHER_TEAM})


def test_view_owned_sees_own_records_only():
    p = principal(view="owned")
    assert sees(p, ME)
    assert not sees(p, MATE)
    assert not sees(p, STRANGER, owner_team_ids={MY_TEAM})
    assert not sees(p, None)


def test_view_none_sees_nothing_not_even_own_records():
    p = principal(view="none", edit="none")
    assert not sees(p, ME)


def test_edit_scopes_mirror_view_scopes():
    assert edits(principal(edit="all"), STRANGER)
    team = principal(edit="team")
    assert edits(team, MATE) and not edits(team, STRANGER)
    owned = principal(edit="owned")
    assert edits(owned, ME) and not edits(owned, MATE)
    assert not edits(principal(edit="none"), ME)


def test_cannot_edit_what_one_cannot_see():
    p = principal(view="owned", edit="all")
    assert edits(p, ME)
    assert not edits(p, MATE)


def test_unlisted_object_type_is_invisible_unless_a_default_is_given():
    p = principal()
    assert not can_view(p, "deals", ME, account_id=ACCOUNT)
    with_default = principal(object_scopes={ANY_OBJECT_TYPE: ObjectScope("owned", "none")})
    assert can_view(with_default, "deals", ME, account_id=ACCOUNT)
    assert not can_view(with_default, "deals", MATE, account_id=ACCOUNT)
    assert not can_edit(with_default, "deals", ME, account_id=ACCOUNT)


def test_super_admin_sees_and_edits_everything_of_the_account():
    p = principal(view="none", edit="none", super_admin=True)
    assert sees(p, STRANGER) and edits(p, None)


@pytest.mark.parametrize("view", ["all", "team", "owned", "none"])
@pytest.mark.parametrize("super_admin", [False, True])
def test_another_accounts_principal_never_sees_or_edits(view, super_admin):
    # R-AUTH-1: whatever the scope, a record of another account is not there.
    p = principal(view=view, edit=view, super_admin=super_admin)
    for owner in (ME, MATE, STRANGER, None):
        assert not sees(p, owner, {MY_TEAM}, account_id=ACCOUNT + 1)
        assert not edits(p, owner, {MY_TEAM}, account_id=ACCOUNT + 1)


def test_a_user_is_always_their_own_team_mate():
    p = principal(view="team", team_ids=frozenset(), team_member_ids=frozenset())
    assert p.team_member_ids == {ME}
    assert sees(p, ME) and not sees(p, MATE)


def test_unknown_scope_or_permission_is_refused_at_construction():
    from crm_platform.identity.principal import AccessProfile

    with pytest.raises(ValueError):
        ObjectScope("everything", "none")
    with pytest.raises(ValueError):
        AccessProfile(account_id=1, user_id=1, permissions=frozenset({"root"}))


# ---- visibility_sql (R-AUTH-3) -------------------------------------------------


def test_visibility_sql_all_adds_no_predicate():
    assert visibility_sql(principal(view="all"), "contacts") is None
    assert visibility_sql(principal(view="none", super_admin=True), "contacts") is None


def test_visibility_sql_owned_compares_the_owner_with_the_user():
    assert visibility_sql(principal(view="owned"), "contacts", "c.owner_id", first_param=3) == (
        "c.owner_id = $3",
        [ME],
    )


def test_visibility_sql_team_matches_the_user_and_team_mates():
    assert visibility_sql(principal(view="team"), "contacts", first_param=2) == (
        "owner_id = ANY($2::bigint[])",
        [[ME, MATE]],
    )


def test_visibility_sql_team_with_a_team_column_also_matches_record_teams():
    sql, params = visibility_sql(
        principal(view="team"), "contacts", first_param=4, team_column="team_ids"
    )
    assert sql == "(owner_id = ANY($4::bigint[]) OR team_ids && $5::bigint[])"
    assert params == [[ME, MATE], [MY_TEAM]]


def test_visibility_sql_none_matches_nothing():
    assert visibility_sql(principal(view="none"), "contacts") == ("FALSE", [])
    assert visibility_sql(principal(), "deals") == ("FALSE", [])


def _evaluate(predicate, owner_id, team_ids=()) -> bool:
    """A tiny interpreter for the four predicate shapes, to check SQL and can_view agree."""
    if predicate is None:
        return True
    sql, params = predicate
    if sql == "FALSE":
        return False
    if sql.startswith("("):
        return owner_id in params[0] or bool(set(team_ids) & set(params[1]))
    if "ANY" in sql:
        return owner_id in params[0]
    return owner_id == params[0]


@pytest.mark.parametrize("view", ["all", "team", "owned", "none"])
def test_visibility_sql_and_can_view_agree(view):
    # R-AUTH-3: a list never shows a record whose single read would answer 404.
    p = principal(view=view)
    predicate = visibility_sql(p, "contacts", team_column="team_ids")
    for owner in (ME, MATE, STRANGER):
        for teams in ((), (MY_TEAM,), (OTHER_TEAM,)):
            assert _evaluate(predicate, owner, teams) == sees(p, owner, teams), (owner, teams)


# ---- feature permissions ---------------------------------------------------------


def user(*permissions, seat=True, super_admin=False) -> Principal:
    return principal(permissions=frozenset(permissions), service_seat=seat, super_admin=super_admin)


def test_workspace_needs_the_permission_and_a_seat():
    # R-CSW-1
    assert can_access_cs_workspace(user(CS_WORKSPACE_ACCESS))
    no_seat = can_access_cs_workspace(user(CS_WORKSPACE_ACCESS, seat=False))
    assert not no_seat and no_seat.missing == "service_seat" and "Service seat" in no_seat.reason
    no_permission = can_access_cs_workspace(user())
    assert not no_permission and no_permission.missing == CS_WORKSPACE_ACCESS


def test_super_admin_without_seat_sees_only_the_summary():
    # R-CSW-1: summary, view as another user and settings, but no other tab and no health score.
    admin = user(seat=False, super_admin=True)
    assert can_view_cs_summary(admin)
    assert not can_access_cs_workspace(admin)
    assert can_view_as_other_user(admin)
    assert can_manage_cs_settings(admin)
    assert not can_edit_health_scores(admin)
    assert not can_view_cs_summary(user(seat=False))


def test_super_admin_with_seat_has_the_whole_workspace():
    admin = user(super_admin=True)
    assert can_access_cs_workspace(admin) and can_edit_health_scores(admin)
    assert can_manage_shared_views(admin) and can_export(admin)


def test_settings_need_seat_and_settings_permission_or_super_admin():
    # R-CSW-2
    assert can_manage_cs_settings(user(CS_SETTINGS_MANAGE))
    assert not can_manage_cs_settings(user(CS_SETTINGS_MANAGE, seat=False))
    refused = can_manage_cs_settings(user(CS_WORKSPACE_ACCESS))
    assert not refused and refused.missing == CS_SETTINGS_MANAGE


def test_only_settings_managers_open_another_users_summary():
    # R-CSW-3
    assert can_view_as_other_user(user(CS_WORKSPACE_ACCESS, CS_SETTINGS_MANAGE))
    assert not can_view_as_other_user(user(CS_WORKSPACE_ACCESS))


def test_shared_views_need_workspace_access_and_settings_permission():
    # R-CSW-4
    assert can_manage_shared_views(user(CS_WORKSPACE_ACCESS, CS_SETTINGS_MANAGE))
    assert not can_manage_shared_views(user(CS_WORKSPACE_ACCESS))
    assert not can_manage_shared_views(user(CS_SETTINGS_MANAGE))


def test_health_scores_need_seat_and_settings_permission_or_super_admin():
    # R-HLTH-5
    assert can_edit_health_scores(user(CS_SETTINGS_MANAGE))
    assert not can_edit_health_scores(user(CS_SETTINGS_MANAGE, seat=False))
    refused = can_edit_health_scores(user(CS_WORKSPACE_ACCESS))
    assert not refused and refused.missing == CS_SETTINGS_MANAGE


def test_export_needs_the_export_permission():
    # R-EXP-1
    assert can_export(user(EXPORT, seat=False))
    refused = can_export(user(CS_WORKSPACE_ACCESS, CS_SETTINGS_MANAGE))
    assert not refused and refused.missing == EXPORT and "export" in refused.reason


def test_require_raises_forbidden_with_reason_and_missing_permission():
    require(can_export(user(EXPORT)))
    with pytest.raises(Forbidden) as refused:
        require(can_export(user()))
    assert refused.value.status_code == 403
    assert refused.value.missing == EXPORT
    assert "export" in refused.value.reason


def test_require_permission_and_seat():
    require_permission(user(EXPORT), EXPORT)
    require_permission(user(super_admin=True), EXPORT)
    with pytest.raises(Forbidden) as refused:
        require_permission(user(CS_WORKSPACE_ACCESS), EXPORT)
    assert refused.value.missing == EXPORT
    require_service_seat(user())
    with pytest.raises(Forbidden) as no_seat:
        require_service_seat(user(seat=False, super_admin=True))
    assert no_seat.value.missing == "service_seat"


def test_only_a_super_admin_manages_users_teams_and_tokens():  # R-AUTH-2
    every_permission = principal(
        permissions=frozenset({CS_WORKSPACE_ACCESS, CS_SETTINGS_MANAGE, EXPORT}),
        service_seat=True)
    refused = can_manage_users(every_permission)
    assert not refused and refused.missing == "super_admin"
    assert "super admin" in refused.reason
    assert can_manage_users(principal(super_admin=True))
