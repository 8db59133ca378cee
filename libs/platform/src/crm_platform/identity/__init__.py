"""Identity for every service: tokens, principals, access rules, rate limits (R-AUTH-*).

This package re-exports the pure parts (no I/O, safe in domain code). Import
the adapters from their modules: `identity.pg_directory` (PostgreSQL copy of
the identity data), `identity.ratelimit` (Redis limiter), `identity.fastapi`
(route dependency), `identity.memory` (directory for unit tests).
"""

from crm_platform.identity.access import (
    AccessDecision,
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
from crm_platform.identity.directory import IdentityDirectory
from crm_platform.identity.errors import (
    Forbidden,
    IdentityError,
    InvalidToken,
    RateLimited,
    Unauthenticated,
)
from crm_platform.identity.principal import (
    ANY_OBJECT_TYPE,
    CS_SETTINGS_MANAGE,
    CS_WORKSPACE_ACCESS,
    EXPORT,
    AccessProfile,
    ObjectScope,
    Principal,
)
from crm_platform.identity.resolve import authenticate, resolve_principal, verify_bearer
from crm_platform.identity.tokens import TokenClaims, issue_token, verify_token

__all__ = [
    "ANY_OBJECT_TYPE",
    "CS_SETTINGS_MANAGE",
    "CS_WORKSPACE_ACCESS",
    "EXPORT",
    "AccessDecision",
    "AccessProfile",
    "Forbidden",
    "IdentityDirectory",
    "IdentityError",
    "InvalidToken",
    "ObjectScope",
    "Principal",
    "RateLimited",
    "TokenClaims",
    "Unauthenticated",
    "authenticate",
    "can_access_cs_workspace",
    "can_edit",
    "can_edit_health_scores",
    "can_export",
    "can_manage_cs_settings",
    "can_manage_shared_views",
    "can_manage_users",
    "can_view",
    "can_view_as_other_user",
    "can_view_cs_summary",
    "issue_token",
    "require",
    "require_permission",
    "require_service_seat",
    "resolve_principal",
    "verify_bearer",
    "verify_token",
    "visibility_sql",
]
