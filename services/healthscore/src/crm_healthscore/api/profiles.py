"""/healthscores/v1/profiles: drafts, publishing, trying and previewing (R-HLTH-1,
R-HLTH-5, R-HLTH-6). Bodies are the profile JSON of domain/codec.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import Response

from crm_healthscore.adapters import store
from crm_healthscore.adapters.serialize import distribution_to_json, explanation_to_json
from crm_healthscore.api.deps import App, Editor, Reader, answers, require_visible_customer
from crm_healthscore.domain.codec import profile_to_json
from crm_healthscore.domain.profile import Profile
from crm_healthscore.domain.templates import TEMPLATES
from crm_healthscore.handlers import profiles
from crm_platform.problem import ApiError

router = APIRouter(prefix="/healthscores/v1", tags=["profiles"])


@router.get("/templates")
async def list_templates(caller: Reader) -> dict[str, Any]:
    """The ready-made groups (R-HLTH-1), in the profile JSON a body may hold."""
    groups = {name: profile_to_json(Profile("t", "t", (make(),)), ())["groups"][0]
              for name, make in TEMPLATES.items()}
    return {"results": [{"template": name, "group": group} for name, group in groups.items()]}


@router.get("/profiles")
async def list_profiles(caller: Reader, app: App) -> dict[str, Any]:
    async with app.pool.acquire() as conn:
        found = await store.list_profiles(conn, caller.account_id)
    return {"results": [p.to_json() for p in found]}


@router.post("/profiles", status_code=201)
async def create_profile(caller: Editor, app: App,
                         body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    async with answers(), app.pool.acquire() as conn:
        created = await profiles.create_profile(conn, caller.account_id, caller.account_tier,
                                                caller.user_id, body)
    return created.to_json()


@router.get("/profiles/{profile_id}")
async def read_profile(profile_id: str, caller: Reader, app: App) -> dict[str, Any]:
    async with app.pool.acquire() as conn:
        found = await store.get_profile(conn, caller.account_id, profile_id)
    if found is None:
        raise ApiError(404, f"score profile {profile_id} not found")
    return found.to_json()


@router.put("/profiles/{profile_id}")
async def update_profile(profile_id: str, caller: Editor, app: App,
                         body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    async with answers(), app.pool.acquire() as conn:
        updated = await profiles.update_profile(conn, caller.account_id, caller.account_tier,
                                                caller.user_id, profile_id, body)
    return updated.to_json()


@router.delete("/profiles/{profile_id}", status_code=204)
async def delete_profile(profile_id: str, caller: Editor, app: App) -> Response:
    async with answers(), app.pool.acquire() as conn, conn.transaction():
        await profiles.delete_profile(conn, caller.account_id, profile_id)
    return Response(status_code=204)


@router.post("/profiles/{profile_id}/publish")
async def publish_profile(profile_id: str, caller: Editor, app: App) -> dict[str, Any]:
    async with answers(), app.pool.acquire() as conn:
        published = await profiles.publish_profile(
            conn, caller.account_id, caller.account_tier, caller.user_id, profile_id,
            app.clock(), alert_days=app.alert_days)
    return published.to_json()


@router.post("/profiles/{profile_id}/try")
async def try_on_record(profile_id: str, caller: Editor, app: App,
                        body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """The draft (or live version) scored on one customer, explained; nothing written."""
    customer_id = body.get("customer_id")
    if not isinstance(customer_id, int | str) or not str(customer_id).isdigit():
        raise ApiError(400, "customer_id must be a record id", [
            {"in": "customer_id", "message": "customer_id must be a record id"}])
    async with answers(), app.pool.acquire() as conn:
        await require_visible_customer(conn, caller, int(customer_id))
        explanation = await profiles.try_on_record(conn, caller.account_id, profile_id,
                                                   int(customer_id), app.clock())
    return explanation_to_json(explanation)


@router.post("/profiles/{profile_id}/preview")
async def preview(profile_id: str, caller: Editor, app: App) -> dict[str, Any]:
    """The draft's distribution over every customer of its segments; nothing written."""
    async with answers(), app.pool.acquire() as conn:
        distribution = await profiles.preview(conn, caller.account_id, profile_id, app.clock())
    return distribution_to_json(distribution)
