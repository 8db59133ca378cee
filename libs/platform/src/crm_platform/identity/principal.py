"""Who is calling: the values every service reasons about (R-AUTH-1, R-AUTH-2).

`AccessProfile` is what identity events carry about a user and what each
service keeps in its own database. `Principal` is one authenticated request:
the profile plus the token it came with and the user ids of its team mates.
Pure values, standard library only, so domain code may import them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

Scope = Literal["all", "team", "owned", "none"]
AccountTier = Literal["standard", "enterprise"]
SCOPES: frozenset[str] = frozenset(get_args(Scope))

# The named permissions of R-AUTH-2.
CS_WORKSPACE_ACCESS = "cs_workspace_access"
CS_SETTINGS_MANAGE = "cs_settings_manage"
EXPORT = "export"
PERMISSIONS: frozenset[str] = frozenset({CS_WORKSPACE_ACCESS, CS_SETTINGS_MANAGE, EXPORT})

# An entry under this key applies to every object type not listed by name
# (custom objects, engagements); without it an unlisted type is 'none'.
ANY_OBJECT_TYPE = "*"


@dataclass(frozen=True)
class ObjectScope:
    """How much of one object type a user may see and change."""

    view: Scope = "none"
    edit: Scope = "none"

    def __post_init__(self) -> None:
        for name in ("view", "edit"):
            if getattr(self, name) not in SCOPES:
                raise ValueError(f"{name} scope must be one of {sorted(SCOPES)}")


NO_ACCESS = ObjectScope("none", "none")
FULL_ACCESS = ObjectScope("all", "all")


def _freeze_scopes(scopes: Mapping[str, ObjectScope]) -> Mapping[str, ObjectScope]:
    return MappingProxyType(dict(scopes))


@dataclass(frozen=True)
class AccessProfile:
    """Everything identity events say about one user, except tokens."""

    account_id: int
    user_id: int
    active: bool = True
    team_ids: frozenset[int] = frozenset()
    super_admin: bool = False
    service_seat: bool = False
    permissions: frozenset[str] = frozenset()
    object_scopes: Mapping[str, ObjectScope] = field(default_factory=dict, hash=False)
    account_tier: AccountTier = "standard"
    email: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.permissions) - PERMISSIONS
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        if self.account_tier not in get_args(AccountTier):
            raise ValueError(f"unknown account tier: {self.account_tier!r}")
        object.__setattr__(self, "team_ids", frozenset(self.team_ids))
        object.__setattr__(self, "permissions", frozenset(self.permissions))
        object.__setattr__(self, "object_scopes", _freeze_scopes(self.object_scopes))

    def to_json(self) -> dict[str, Any]:
        """The JSON shape stored in `identity_users.profile` and carried by events."""
        return {
            "account_id": self.account_id,
            "user_id": self.user_id,
            "active": self.active,
            "team_ids": sorted(self.team_ids),
            "super_admin": self.super_admin,
            "service_seat": self.service_seat,
            "permissions": sorted(self.permissions),
            "object_scopes": {
                object_type: {"view": scope.view, "edit": scope.edit}
                for object_type, scope in sorted(self.object_scopes.items())
            },
            "account_tier": self.account_tier,
            "email": self.email,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccessProfile:
        return cls(
            account_id=int(data["account_id"]),
            user_id=int(data["user_id"]),
            active=bool(data.get("active", True)),
            team_ids=frozenset(int(t) for t in data.get("team_ids", ())),
            super_admin=bool(data.get("super_admin", False)),
            service_seat=bool(data.get("service_seat", False)),
            permissions=frozenset(data.get("permissions", ())),
            object_scopes={
                object_type: ObjectScope(scope.get("view", "none"), scope.get("edit", "none"))
                for object_type, scope in (data.get("object_scopes") or {}).items()
            },
            account_tier=data.get("account_tier", "standard"),
            email=data.get("email"),
        )


@dataclass(frozen=True)
class Principal:
    """One authenticated caller: account, user, token and what they may do.

    `team_member_ids` holds the user ids of everyone sharing a team with the
    user, the user included; the 'team' scope is decided from it (see access.py).
    """

    account_id: int
    user_id: int
    token_id: str
    team_ids: frozenset[int] = frozenset()
    team_member_ids: frozenset[int] = frozenset()
    super_admin: bool = False
    service_seat: bool = False
    permissions: frozenset[str] = frozenset()
    object_scopes: Mapping[str, ObjectScope] = field(default_factory=dict, hash=False)
    account_tier: AccountTier = "standard"

    def __post_init__(self) -> None:
        object.__setattr__(self, "team_ids", frozenset(self.team_ids))
        # The user is always their own team mate, so 'team' covers 'owned'.
        object.__setattr__(
            self, "team_member_ids", frozenset(self.team_member_ids) | {self.user_id}
        )
        object.__setattr__(self, "permissions", frozenset(self.permissions))
        object.__setattr__(self, "object_scopes", _freeze_scopes(self.object_scopes))

    @classmethod
    def from_profile(
        cls, profile: AccessProfile, token_id: str, team_member_ids: Iterable[int] = ()
    ) -> Principal:
        return cls(
            account_id=profile.account_id,
            user_id=profile.user_id,
            token_id=token_id,
            team_ids=profile.team_ids,
            team_member_ids=frozenset(team_member_ids),
            super_admin=profile.super_admin,
            service_seat=profile.service_seat,
            permissions=profile.permissions,
            object_scopes=profile.object_scopes,
            account_tier=profile.account_tier,
        )

    def scope_for(self, object_type: str) -> ObjectScope:
        """The user's scope on one object type; a super admin sees and edits everything."""
        if self.super_admin:
            return FULL_ACCESS
        return self.object_scopes.get(
            object_type, self.object_scopes.get(ANY_OBJECT_TYPE, NO_ACCESS)
        )

    def has_permission(self, name: str) -> bool:
        """Super admins hold every named permission, as in the hosted CRM."""
        return self.super_admin or name in self.permissions
