"""Changing the workspace settings (R-CSW-2): check every chosen property against
the records service's definitions, store, and publish the change in one
transaction (R-BUS-2)."""

from __future__ import annotations

from datetime import datetime

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, record_key
from crm_contracts.workspace.v1 import WorkspaceSettingsChanged
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_workspace.adapters import store
from crm_workspace.adapters.crm_api import CrmApi, UpstreamError
from crm_workspace.bootstrap import Container
from crm_workspace.domain.settings import (
    ObjectFacts,
    PropertyFacts,
    WorkspaceSettings,
    check_settings,
    object_types_to_check,
)

SOURCE = "crm-workspace"


class SettingsInvalid(ValueError):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(p["message"] for p in problems))
        self.problems = problems


async def object_facts(api: CrmApi, token: str, object_type: str) -> ObjectFacts | None:
    """What the records service says about one object type; None if it has none."""
    try:
        definitions = await api.properties(token, object_type)
    except UpstreamError as refused:
        if refused.status in (400, 404):
            return None
        raise
    pipeline_ids: frozenset[str] = frozenset()
    try:
        pipeline_ids = frozenset(p["id"] for p in await api.pipelines(token, object_type))
    except UpstreamError as refused:
        if refused.status not in (400, 404):
            raise
    properties = {d["name"]: PropertyFacts(d["type"], d.get("referencedObjectType") == "OWNER")
                  for d in definitions if not d.get("archived")}
    return ObjectFacts(properties, pipeline_ids)


async def change_settings(app: Container, caller: Principal, token: str,
                          settings: WorkspaceSettings, now: datetime) -> int:
    facts = {t: await object_facts(app.api, token, t) for t in object_types_to_check(settings)}
    problems = check_settings(settings, facts, enterprise=caller.account_tier == "enterprise")
    if problems:
        raise SettingsInvalid(problems)
    async with app.pool.acquire() as conn, conn.transaction():
        version = await store.save_settings(conn, caller.account_id, settings, caller.user_id)
        event = WorkspaceSettingsChanged(account_id=caller.account_id, version=version,
                                         changed_by_user_id=caller.user_id, changed_at=now,
                                         settings=settings.to_json())
        await enqueue(conn, [OutgoingEvent(
            topics.WORKSPACE.name,
            record_key(caller.account_id, "workspace_settings", caller.account_id),
            CloudEvent.of(event, source=SOURCE, subject=f"settings/{caller.account_id}",
                          account_id=caller.account_id))], channel="outbox_workspace")
    return version
