"""Profile use cases (R-HLTH-1, R-HLTH-6): drafts, publishing within the tier's limits,
trying a draft on one record and previewing its distribution without writing anything.

Who may call them (R-HLTH-5) is decided by the routes; these take the account's tier.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from crm_healthscore.adapters import store
from crm_healthscore.domain.changes import profile_cause
from crm_healthscore.domain.codec import profile_to_json, validated
from crm_healthscore.domain.explain import Explanation, explain
from crm_healthscore.domain.facts import CustomerFacts
from crm_healthscore.domain.history import Distribution, preview_distribution
from crm_healthscore.domain.limits import (
    ProfileCounts,
    check_can_create_draft,
    check_can_publish,
)
from crm_healthscore.domain.scoring import score
from crm_healthscore.domain.segments import segments_of
from crm_healthscore.handlers.recompute import BATCH_SIZE, recompute


class ProfileNotFound(LookupError):
    pass


class NothingToPublish(ValueError):
    pass


class CustomerNotFound(LookupError):
    pass


async def _checked(conn: asyncpg.Connection, account_id: int, body: dict[str, Any],
                   profile_id: str, status: str = "draft") -> dict[str, Any]:
    """The stored form of a valid body; ProfileInvalid otherwise (nothing stored)."""
    customer_type, _ = await store.customer_settings(conn, account_id)
    types = await store.property_types(conn, account_id, customer_type)
    profile, segments = validated(body, profile_id=profile_id, status=status,
                                  property_types=types)
    return profile_to_json(profile, segments)


async def _counts(conn: asyncpg.Connection, account_id: int) -> ProfileCounts:
    profiles = await store.list_profiles(conn, account_id)
    return ProfileCounts(live=sum(p.live is not None for p in profiles),
                         drafts=sum(p.draft is not None for p in profiles))


async def create_profile(conn: asyncpg.Connection, account_id: int, tier: str, user_id: int,
                         body: dict[str, Any]) -> store.StoredProfile:
    profile_id = str(uuid.uuid4())
    draft = await _checked(conn, account_id, body, profile_id)
    async with conn.transaction():
        await store.lock_account_profiles(conn, account_id)
        check_can_create_draft(tier, await _counts(conn, account_id))
        await store.save_profile(conn, account_id, profile_id, None, draft, user_id)
    return await _get(conn, account_id, profile_id)


async def update_profile(conn: asyncpg.Connection, account_id: int, tier: str, user_id: int,
                         profile_id: str, body: dict[str, Any]) -> store.StoredProfile:
    """Edits are always a draft: a live profile keeps scoring until they are published."""
    draft = await _checked(conn, account_id, body, profile_id)
    async with conn.transaction():
        await store.lock_account_profiles(conn, account_id)
        current = await _get(conn, account_id, profile_id)
        if current.draft is None:
            check_can_create_draft(tier, await _counts(conn, account_id))
        await store.save_profile(conn, account_id, profile_id, current.live, draft, user_id)
    return await _get(conn, account_id, profile_id)


async def publish_profile(conn: asyncpg.Connection, account_id: int, tier: str, user_id: int,
                          profile_id: str, now: datetime,
                          alert_days: int = 14) -> store.StoredProfile:
    """The draft becomes the live profile, and every customer is scored with it (cause
    profile:<id>; a first score is a change but never an alert)."""
    async with conn.transaction():
        await store.lock_account_profiles(conn, account_id)
        current = await _get(conn, account_id, profile_id)
        if current.draft is None:
            raise NothingToPublish(f"profile {profile_id} has no unpublished draft")
        live = await _checked(conn, account_id, current.draft, profile_id, status="live")
        check_can_publish(tier, await _counts(conn, account_id),
                          replaces_live=current.live is not None)
        await store.save_profile(conn, account_id, profile_id, live, None, user_id,
                                 published=True)
        customer_type, _ = await store.customer_settings(conn, account_id)
        ids = await store.customer_ids(conn, account_id, customer_type)
        await recompute(conn, account_id, customer_type,
                        dict.fromkeys(ids, profile_cause(profile_id)), now, alert_days=alert_days)
    return await _get(conn, account_id, profile_id)


async def delete_profile(conn: asyncpg.Connection, account_id: int, profile_id: str) -> None:
    await _get(conn, account_id, profile_id)
    await store.delete_profile(conn, account_id, profile_id)


async def _get(conn: asyncpg.Connection, account_id: int,
               profile_id: str) -> store.StoredProfile:
    found = await store.get_profile(conn, account_id, profile_id)
    if found is None:
        raise ProfileNotFound(f"score profile {profile_id} not found")
    return found


async def _candidate(conn: asyncpg.Connection, account_id: int, profile_id: str):  # type: ignore[no-untyped-def]
    """The profile as it would be published: its draft, else its live version."""
    current = await _get(conn, account_id, profile_id)
    customer_type, _ = await store.customer_settings(conn, account_id)
    types = await store.property_types(conn, account_id, customer_type)
    profile, segments = validated(current.draft or current.live or {}, profile_id=profile_id,
                                  status="draft", property_types=types)
    return customer_type, profile, segments


async def try_on_record(conn: asyncpg.Connection, account_id: int, profile_id: str,
                        customer_id: int, now: datetime) -> Explanation:
    """R-HLTH-6: the draft's score for one customer, explained, writing nothing."""
    customer_type, profile, _ = await _candidate(conn, account_id, profile_id)
    stored = await store.load_facts(conn, account_id, customer_type, customer_id)
    if stored.properties is None:
        raise CustomerNotFound(f"customer {customer_id} not found")
    return explain(score(profile, CustomerFacts(str(customer_id), stored.properties,
                                                stored.events), now))


async def preview(conn: asyncpg.Connection, account_id: int, profile_id: str,
                  now: datetime) -> Distribution:
    """R-HLTH-6: the draft's distribution over the customers of its segments (all
    customers while it names none), writing nothing."""
    customer_type, profile, segments = await _candidate(conn, account_id, profile_id)
    facts = []
    ids = await store.customer_ids(conn, account_id, customer_type)
    for start in range(0, len(ids), BATCH_SIZE):  # two queries per batch, as recompute
        batch = await store.load_facts_many(conn, account_id, customer_type,
                                            ids[start:start + BATCH_SIZE])
        for customer_id, stored in batch.items():
            if stored.properties is None:
                continue
            if segments and not segments_of(stored.properties, segments,
                                            profile.property_types):
                continue
            facts.append(CustomerFacts(str(customer_id), stored.properties, stored.events))
    return preview_distribution(profile, facts, now)
