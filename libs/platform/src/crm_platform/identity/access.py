"""The access rules, pure (R-AUTH-1, R-AUTH-2, R-AUTH-3, R-CSW-1/2/3/4, R-HLTH-5, R-EXP-1).

Records: a user's scope on an object type ('all', 'team', 'owned', 'none')
decides which records they see and change. 'team' means owned by the user or
by a team mate (anyone sharing one of the user's teams), or carrying one of
the user's teams in the record's team property. A record without an owner is
seen only under 'all'. A super admin sees and edits everything. Records of
another account are never visible, whatever the scope (R-AUTH-1). A record
the user may not see is answered 404, never 403 (R-AUTH-3): callers turn a
False from can_view into "not found".

Features: each check returns an AccessDecision whose reason becomes the
403 message; `require` raises Forbidden when it is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm_platform.identity.errors import Forbidden
from crm_platform.identity.principal import (
    CS_SETTINGS_MANAGE,
    CS_WORKSPACE_ACCESS,
    EXPORT,
    Principal,
    Scope,
)

SERVICE_SEAT = "service_seat"


# ---- records ---------------------------------------------------------------


def can_view(
    principal: Principal,
    object_type: str,
    owner_id: int | None,
    owner_team_ids: Iterable[int] = (),
    *,
    account_id: int,
) -> bool:
    """Whether the record (of `account_id`, owned by `owner_id`) is visible at all."""
    if account_id != principal.account_id:
        return False
    return _scope_allows(principal, principal.scope_for(object_type).view, owner_id, owner_team_ids)


def can_edit(
    principal: Principal,
    object_type: str,
    owner_id: int | None,
    owner_team_ids: Iterable[int] = (),
    *,
    account_id: int,
) -> bool:
    """Whether the record may be changed; never true for a record one cannot see."""
    owner_team_ids = frozenset(owner_team_ids)
    return can_view(
        principal, object_type, owner_id, owner_team_ids, account_id=account_id
    ) and _scope_allows(principal, principal.scope_for(object_type).edit, owner_id, owner_team_ids)


def _scope_allows(
    principal: Principal, scope: Scope, owner_id: int | None, owner_team_ids: Iterable[int]
) -> bool:
    if scope == "all":
        return True
    if scope == "owned":
        return owner_id is not None and owner_id == principal.user_id
    if scope == "team":
        return (owner_id is not None and owner_id in principal.team_member_ids) or not (
            principal.team_ids.isdisjoint(owner_team_ids)
        )
    return False


def visibility_sql(
    principal: Principal,
    object_type: str,
    owner_column: str = "owner_id",
    first_param: int = 1,
    team_column: str | None = None,
) -> tuple[str, list] | None:
    """The view scope as an SQL predicate with asyncpg `$n` parameters, or None for 'all'.

    AND it into a query that already restricts the account. `owner_column` (a
    bigint) and `team_column` (a bigint[] of the record's teams, optional) are
    SQL expressions written by the caller, never user input. Parameters are
    numbered from `first_param`; the list holds their values in order.
    Same rule as can_view, so a list never shows what a read would refuse.
    """
    scope = principal.scope_for(object_type).view
    if scope == "all":
        return None
    if scope == "owned":
        return f"{owner_column} = ${first_param}", [principal.user_id]
    if scope == "team":
        members = f"{owner_column} = ANY(${first_param}::bigint[])"
        params: list = [sorted(principal.team_member_ids)]
        if team_column is None:
            return members, params
        teams = f"{team_column} && ${first_param + 1}::bigint[]"
        return f"({members} OR {teams})", [*params, sorted(principal.team_ids)]
    return "FALSE", []


# ---- features ----------------------------------------------------------------


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str = ""
    missing: str | None = None  # the permission or seat that would have allowed it

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = AccessDecision(True)


def require(decision: AccessDecision) -> None:
    """Raise Forbidden (403) with the decision's reason when it refuses."""
    if not decision.allowed:
        raise Forbidden(decision.reason, missing=decision.missing)


def require_permission(principal: Principal, name: str) -> None:
    if not principal.has_permission(name):
        raise Forbidden(f"This action needs the '{name}' permission.", missing=name)


def require_service_seat(principal: Principal) -> None:
    require(_service_seat(principal))


def _service_seat(principal: Principal) -> AccessDecision:
    if principal.service_seat:
        return ALLOWED
    return AccessDecision(False, "This action needs a Service seat.", SERVICE_SEAT)


SUPER_ADMIN = "super_admin"


def can_manage_users(principal: Principal) -> AccessDecision:
    """R-AUTH-2: adding, changing and deactivating users, teams and tokens needs super admin."""
    if principal.super_admin:
        return ALLOWED
    return AccessDecision(
        False, "Managing users, teams and tokens needs super admin.", SUPER_ADMIN
    )


def can_access_cs_workspace(principal: Principal) -> AccessDecision:
    """R-CSW-1: the whole workspace needs `cs_workspace_access` and a Service seat."""
    if not principal.service_seat:
        return _service_seat(principal)
    if not principal.has_permission(CS_WORKSPACE_ACCESS):
        return AccessDecision(
            False,
            "The customer success workspace needs the 'cs_workspace_access' permission.",
            CS_WORKSPACE_ACCESS,
        )
    return ALLOWED


def can_view_cs_summary(principal: Principal) -> AccessDecision:
    """R-CSW-1: a super admin without a seat still sees the Summary tab."""
    if principal.super_admin:
        return ALLOWED
    return can_access_cs_workspace(principal)


def can_manage_cs_settings(principal: Principal) -> AccessDecision:
    """R-CSW-2: a Service seat and super admin or `cs_settings_manage`.

    R-CSW-1 names one exception, followed here: a super admin without a seat
    may manage settings too. So: super admin, or seat and the permission.
    """
    if principal.super_admin:
        return ALLOWED
    if CS_SETTINGS_MANAGE not in principal.permissions:
        return AccessDecision(
            False,
            "Workspace settings need super admin or the 'cs_settings_manage' permission.",
            CS_SETTINGS_MANAGE,
        )
    return _service_seat(principal)


def can_view_as_other_user(principal: Principal) -> AccessDecision:
    """R-CSW-1, R-CSW-3: a super admin or settings manager may open another user's Summary."""
    decision = can_manage_cs_settings(principal)
    if decision.allowed:
        return ALLOWED
    return AccessDecision(
        False,
        "Only super admins and workspace settings managers may view another user's workspace.",
        decision.missing,
    )


def can_manage_shared_views(principal: Principal) -> AccessDecision:
    """R-CSW-4: shared views and defaults need workspace access and super admin or
    `cs_settings_manage`."""
    access = can_access_cs_workspace(principal)
    if not access.allowed:
        return access
    if not principal.has_permission(CS_SETTINGS_MANAGE):
        return AccessDecision(
            False,
            "Shared views and default views need super admin or the "
            "'cs_settings_manage' permission.",
            CS_SETTINGS_MANAGE,
        )
    return ALLOWED


def can_edit_health_scores(principal: Principal) -> AccessDecision:
    """R-HLTH-5 (and R-CSW-1): a Service seat and super admin or `cs_settings_manage`;
    a super admin without a seat may not."""
    if not principal.service_seat:
        return AccessDecision(
            False, "Creating or editing health scores needs a Service seat.", SERVICE_SEAT
        )
    if not principal.has_permission(CS_SETTINGS_MANAGE):
        return AccessDecision(
            False,
            "Creating or editing health scores needs super admin or the "
            "'cs_settings_manage' permission.",
            CS_SETTINGS_MANAGE,
        )
    return ALLOWED


def can_export(principal: Principal) -> AccessDecision:
    """R-EXP-1: exports need the `export` permission (super admins hold every permission)."""
    if principal.has_permission(EXPORT):
        return ALLOWED
    return AccessDecision(False, "Exporting needs the 'export' permission.", EXPORT)
