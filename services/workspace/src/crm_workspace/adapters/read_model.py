"""Queries of the workspace's read model (records built from events).

Every query restricts the account and applies the caller's view scope on the
object type (R-AUTH-3), the same predicate the search service applies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg

from crm_platform.identity.access import visibility_sql
from crm_platform.identity.principal import Principal
from crm_workspace.domain.calendar import DueWindows
from crm_workspace.domain.feed import FeedQuery, feed_item
from crm_workspace.domain.read_model import SCHEDULED_AT, parsed_datetime
from crm_workspace.domain.summary import HealthTally, ScoreChange
from crm_workspace.domain.tasks import COMPLETED, DUE, OWNER, STATUS


def _visible(caller: Principal, object_type: str, first_param: int) -> tuple[str, list[Any]]:
    clause = visibility_sql(caller, object_type, owner_column="owner_id",
                            first_param=first_param)
    return (f" AND {clause[0]}", clause[1]) if clause else ("", [])


async def task_counts(conn: asyncpg.Connection, caller: Principal, user_id: int,
                      windows: DueWindows) -> dict[str, int]:
    """Open tasks of the user overdue, due today and due tomorrow: a range scan of
    the open-tasks index on (account, owner, due)."""
    visible, params = _visible(caller, "tasks", 6)
    row = await conn.fetchrow(f"""
        SELECT count(*) FILTER (WHERE scheduled_at < $3) AS overdue,
               count(*) FILTER (WHERE scheduled_at >= $3 AND scheduled_at < $4) AS due_today,
               count(*) FILTER (WHERE scheduled_at >= $4 AND scheduled_at < $5) AS due_tomorrow
        FROM workspace_records
        WHERE account_id = $1 AND owner_id = $2 AND object_type = 'tasks' AND NOT archived
          AND task_status IS DISTINCT FROM '{COMPLETED}' AND scheduled_at < $5 {visible}""",
        caller.account_id, user_id, windows.today_start, windows.tomorrow_start,
        windows.day_after_start, *params)
    return dict(row)


# The task views' search filters (domain.tasks.task_view_filters) as predicates on
# the typed columns, so a bulk selection is one indexed query, not 50 search pages.
# Each property: its column and how a filter's value is typed for it.
TASK_COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    OWNER: ("owner_id", int), STATUS: ("task_status", str),
    DUE: ("scheduled_at", parsed_datetime)}
OPERATORS = {"EQ": "=", "NEQ": "IS DISTINCT FROM", "LT": "<", "GTE": ">="}


async def matching_task_ids(conn: asyncpg.Connection, caller: Principal,
                            filters: list[dict[str, Any]], limit: int) -> list[str]:
    """Ids of the tasks matching a standard task view's filters, soonest due first
    (as the task list sorts), in the caller's view scope."""
    where, params = ["account_id = $1", "object_type = 'tasks'", "NOT archived"], [
        caller.account_id]
    for condition in filters:
        column, typed = TASK_COLUMNS[condition["propertyName"]]
        params.append(typed(condition["value"]))
        where.append(f"{column} {OPERATORS[condition['operator']]} ${len(params)}")
    visible, scope = _visible(caller, "tasks", len(params) + 1)
    rows = await conn.fetch(f"""
        SELECT record_id FROM workspace_records WHERE {' AND '.join(where)} {visible}
        ORDER BY scheduled_at NULLS LAST, record_id LIMIT {int(limit)}""", *params, *scope)
    return [str(r["record_id"]) for r in rows]


TITLES = {"tasks": "hs_task_subject", "meetings": "hs_meeting_title"}


async def scheduled_items(conn: asyncpg.Connection, caller: Principal, user_id: int,
                          start: datetime, end: datetime, limit: int = 2000
                          ) -> list[dict[str, Any]]:
    """The user's tasks (by due date) and meetings (by start time) in [start, end)."""
    items: list[dict[str, Any]] = []
    for object_type, title in TITLES.items():
        visible, params = _visible(caller, object_type, 6)
        # Only the shown values leave the database: decoding whole snapshots cost
        # more than the query.
        rows = await conn.fetch(f"""
            SELECT record_id, properties->>'{title}' AS title,
                   properties->>'{SCHEDULED_AT[object_type]}' AS at, task_status
            FROM workspace_records
            WHERE account_id = $1 AND object_type = $2 AND owner_id = $3 AND NOT archived
              AND scheduled_at >= $4 AND scheduled_at < $5 {visible}
            ORDER BY scheduled_at LIMIT {int(limit)}""",
            caller.account_id, object_type, user_id, start, end, *params)
        items.extend({"objectType": object_type, "id": str(row["record_id"]),
                      "title": row["title"] or "", "at": row["at"],
                      "status": row["task_status"]} for row in rows)
    return sorted(items, key=lambda i: i["at"])


async def customer_health(conn: asyncpg.Connection, caller: Principal, object_type: str,
                          csm_property: str, user_id: int) -> list[HealthTally]:
    """Current health of the user's customers (health_score/health_status, which the
    records service writes onto the customer), tallied per band and score decile.
    With the owner as CSM property this reads the health index alone."""
    mine = ("owner_id = $3::bigint" if csm_property == OWNER
            else "properties->>$3 = ($4::bigint)::text")
    csm: list[Any] = [user_id] if csm_property == OWNER else [csm_property, user_id]
    visible, params = _visible(caller, object_type, 3 + len(csm))
    rows = await conn.fetch(f"""
        SELECT health_band AS band, least(greatest(floor(health_score / 10), 0), 9)::int
               AS decile, count(*) AS customers, sum(health_score) AS score_sum
        FROM workspace_records WHERE account_id = $1 AND object_type = $2 AND {mine}
          AND health_score IS NOT NULL AND NOT archived {visible}
        GROUP BY 1, 2""",
        caller.account_id, object_type, *csm, *params)
    return [HealthTally(r["band"] or "", r["decile"], r["customers"], r["score_sum"])
            for r in rows]


def _customers_of(caller: Principal, object_type: str, csm_property: str, user_id: int,
                  first_param: int, alias: str = "r") -> tuple[str, list[Any]]:
    """The predicate 'the record is a customer of user_id' (its CSM property), with
    the caller's view scope, on workspace_records aliased `alias`."""
    n = first_param
    params: list[Any]
    if csm_property == OWNER:
        clause, params = f"{alias}.owner_id = ${n}::bigint", [user_id]
    else:
        clause, params = f"{alias}.properties->>${n} = (${n + 1}::bigint)::text", [
            csm_property, user_id]
    scope = visibility_sql(caller, object_type, owner_column=f"{alias}.owner_id",
                           first_param=n + len(params))
    if scope:
        clause, params = f"{clause} AND {scope[0]}", [*params, *scope[1]]
    return f"{clause} AND NOT {alias}.archived", params


async def health_profiles(conn: asyncpg.Connection, account_id: int, customer_type: str
                          ) -> list[dict[str, str]]:
    """The score profiles that scored this account's customers (newest name)."""
    rows = await conn.fetch("""
        SELECT DISTINCT ON (profile_id) profile_id, profile_name FROM workspace_health_scores
        WHERE account_id = $1 AND customer_type = $2 ORDER BY profile_id, changed_at DESC""",
        account_id, customer_type)
    return sorted(({"id": r["profile_id"], "name": r["profile_name"]} for r in rows),
                  key=lambda p: (p["name"], p["id"]))


async def profile_health(conn: asyncpg.Connection, caller: Principal, object_type: str,
                         csm_property: str, user_id: int, profile_id: str
                         ) -> list[HealthTally]:
    """Like customer_health, with the scores of one profile."""
    mine, params = _customers_of(caller, object_type, csm_property, user_id, 4)
    rows = await conn.fetch(f"""
        SELECT s.band, least(greatest(floor(s.score / 10), 0), 9)::int AS decile,
               count(*) AS customers, sum(s.score) AS score_sum
        FROM workspace_health_scores s JOIN workspace_records r
          ON r.account_id = s.account_id AND r.object_type = s.customer_type
         AND r.record_id = s.customer_id
        WHERE s.account_id = $1 AND s.customer_type = $2 AND s.profile_id = $3
          AND s.score IS NOT NULL AND {mine}
        GROUP BY 1, 2""", caller.account_id, object_type, profile_id, *params)
    return [HealthTally(r["band"] or "", r["decile"], r["customers"], r["score_sum"])
            for r in rows]


async def profile_history(conn: asyncpg.Connection, caller: Principal, object_type: str,
                          csm_property: str, user_id: int, profile_id: str, since: datetime
                          ) -> tuple[dict[int, float | None], list[ScoreChange]]:
    """The user's customers' scores under a profile just before `since`, and every
    change from then on."""
    mine, params = _customers_of(caller, object_type, csm_property, user_id, 5)
    common = f"""account_id = $1 AND customer_type = $2 AND profile_id = $3
        AND customer_id IN (SELECT r.record_id FROM workspace_records r
                            WHERE r.account_id = $1 AND r.object_type = $2 AND {mine})"""
    before = await conn.fetch(f"""
        SELECT DISTINCT ON (customer_id) customer_id, score FROM workspace_health_changes
        WHERE {common} AND changed_at < $4 ORDER BY customer_id, changed_at DESC""",
        caller.account_id, object_type, profile_id, since, *params)
    after = await conn.fetch(f"""
        SELECT customer_id, changed_at, score FROM workspace_health_changes
        WHERE {common} AND changed_at >= $4 ORDER BY changed_at""",
        caller.account_id, object_type, profile_id, since, *params)
    return ({r["customer_id"]: r["score"] for r in before},
            [ScoreChange(r["customer_id"], r["changed_at"], r["score"]) for r in after])


async def active_alerts(conn: asyncpg.Connection, account_id: int, user_id: int,
                        now: datetime, since: datetime) -> list[asyncpg.Record]:
    return await conn.fetch("""
        SELECT id, object_type, record_id, detail, fired_at FROM workspace_alerts
        WHERE account_id = $1 AND user_id = $2 AND fired_at > $3 AND fired_at <= $4
        ORDER BY fired_at DESC""", account_id, user_id, since, now)


# The activity time of an engagement: hs_timestamp, else its creation, in the
# records service's text form (UTC, milliseconds, Z), which sorts as time.
ACTIVITY_AT = ("coalesce(e.properties->>'hs_timestamp', to_char(e.created_at AT TIME ZONE 'UTC',"
               " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))")


async def feed_items(conn: asyncpg.Connection, caller: Principal, user_id: int,
                     query: FeedQuery) -> list[dict[str, Any]]:
    """R-CSW-9: engagements associated to contacts associated to companies the user
    owns, not hidden by that user, in the caller's view scope of each type."""
    params: list[Any] = [caller.account_id, user_id, list(query.types)]
    scope = []
    for object_type in query.types:
        clause = visibility_sql(caller, object_type, owner_column="e.owner_id",
                                first_param=len(params) + 1)
        if clause:
            params.extend(clause[1])
            scope.append(f"(e.object_type = '{object_type}' AND {clause[0]})")
        else:
            scope.append(f"e.object_type = '{object_type}'")
    where = [f"({' OR '.join(scope)})"]
    if query.search:
        params.append(f"%{_like_escaped(query.search)}%")
        where.append("EXISTS (SELECT 1 FROM jsonb_each_text(e.properties) p "
                     f"WHERE p.value ILIKE ${len(params)})")
    newest = query.order == "newest"
    if query.after:
        params.extend([query.after.at, query.after.object_type, query.after.record_id])
        n = len(params)
        where.append(f"({ACTIVITY_AT}, e.object_type, e.record_id) "
                     f"{'<' if newest else '>'} (${n - 2}, ${n - 1}, ${n})")
    direction = "DESC" if newest else "ASC"
    rows = await conn.fetch(f"""
        WITH contacts AS (
            SELECT DISTINCT a.to_id AS contact_id FROM workspace_records c
            JOIN workspace_associations a ON a.account_id = c.account_id
             AND a.from_type = 'companies' AND a.from_id = c.record_id
             AND a.to_type = 'contacts' AND a.associated
            WHERE c.account_id = $1 AND c.object_type = 'companies' AND c.owner_id = $2
              AND NOT c.archived),
        linked AS (
            SELECT a.to_type, a.to_id, min(a.from_id) AS contact_id
            FROM workspace_associations a JOIN contacts ON a.from_id = contacts.contact_id
            WHERE a.account_id = $1 AND a.from_type = 'contacts' AND a.associated
              AND a.to_type = ANY($3::text[])
            GROUP BY a.to_type, a.to_id)
        SELECT e.object_type, e.record_id, e.properties, linked.contact_id,
               {ACTIVITY_AT} AS at
        FROM linked JOIN workspace_records e ON e.account_id = $1
         AND e.object_type = linked.to_type AND e.record_id = linked.to_id
        WHERE NOT e.archived AND NOT EXISTS (
            SELECT 1 FROM workspace_feed_hidden h WHERE h.account_id = $1
               AND h.user_id = $2 AND h.object_type = e.object_type
               AND h.record_id = e.record_id)
          AND {' AND '.join(where)}
        ORDER BY at {direction}, e.object_type {direction}, e.record_id {direction}
        LIMIT {int(query.limit)}""", *params)
    return [feed_item(r["object_type"], r["record_id"], r["at"], r["contact_id"],
                      r["properties"]) for r in rows]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def hide_feed_item(conn: asyncpg.Connection, account_id: int, user_id: int,
                         object_type: str, record_id: int) -> bool:
    """Hides an engagement from this user's feed only; False when the account has
    no such engagement."""
    known = await conn.fetchval("""SELECT 1 FROM workspace_records WHERE account_id = $1
        AND object_type = $2 AND record_id = $3""", account_id, object_type, record_id)
    if not known:
        return False
    await conn.execute("""INSERT INTO workspace_feed_hidden (account_id, user_id, object_type,
        record_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        account_id, user_id, object_type, record_id)
    return True
