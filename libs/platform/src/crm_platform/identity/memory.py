"""An IdentityDirectory held in dictionaries, for unit tests of any service.

Integration tests use pg_directory.PgIdentityDirectory on a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm_platform.identity.principal import AccessProfile


class InMemoryIdentityDirectory:
    def __init__(self, users: Iterable[AccessProfile] = ()) -> None:
        self._users: dict[tuple[int, int], AccessProfile] = {}
        self._revoked: set[str] = set()
        for user in users:
            self.put_user(user)

    def put_user(self, profile: AccessProfile) -> None:
        self._users[(profile.account_id, profile.user_id)] = profile

    def revoke(self, token_id: str) -> None:
        self._revoked.add(token_id)

    async def get_user(self, account_id: int, user_id: int) -> AccessProfile | None:
        return self._users.get((account_id, user_id))

    async def is_revoked(self, token_id: str) -> bool:
        return token_id in self._revoked

    async def team_members(self, account_id: int, team_id: int) -> frozenset[int]:
        return frozenset(
            user.user_id
            for (user_account, _), user in self._users.items()
            if user_account == account_id and user.active and team_id in user.team_ids
        )
