"""Where a service looks up who a token's user is (R-AUTH-1, R-AUTH-2).

The records service owns accounts, users and teams and publishes them on
crm.identity.v1; every other service keeps its own copy (pg_directory.py)
and reads it through this protocol. memory.py holds a dictionary-backed one
for unit tests.
"""

from __future__ import annotations

from typing import Protocol

from crm_platform.identity.principal import AccessProfile


class IdentityDirectory(Protocol):
    async def get_user(self, account_id: int, user_id: int) -> AccessProfile | None:
        """The user's current profile, deactivated users included; None if unknown."""
        ...

    async def is_revoked(self, token_id: str) -> bool:
        """Whether the token with this id was revoked before it expired."""
        ...

    async def team_members(self, account_id: int, team_id: int) -> frozenset[int]:
        """The user ids of the active members of one team."""
        ...
