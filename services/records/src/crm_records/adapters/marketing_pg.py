"""Forms, tracking, lists and list sends in PostgreSQL (tables of migration 0030).

`MarketingUnitOfWork` opens one transaction and hands out, on that one
connection, the marketing store and a RecordsHandler: a form submission, an
identify call or a list send writes its contacts or email engagements, its
own rows and every event (outbox) in a single transaction (R-BUS-2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_platform.db import unnest_columns
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_records.adapters.postgres import OUTBOX_CHANNEL, PgRecordStore
from crm_records.domain.forms import FormDefinition, FormField
from crm_records.domain.tracking import EMPTY_SUMMARY, PageView, PageViewSummary
from crm_records.handlers.lists import apply_record_events
from crm_records.handlers.marketing import MarketingSession, StoredForm, StoredList
from crm_records.handlers.records import RecordsHandler
from crm_records.handlers.visibility import list_predicate


def form_json(form: FormDefinition) -> dict[str, Any]:
    return dataclasses.asdict(form)


def form_of(data: dict[str, Any]) -> FormDefinition:
    fields = tuple(FormField(**f) for f in data["fields"])
    return FormDefinition(**{**data, "fields": fields})


def _stored_list(row: asyncpg.Record, size: int) -> StoredList:
    return StoredList(row["list_id"], row["name"], row["processing_type"],
                      row["object_type_id"], row["filter_groups"], size, row["created_at"],
                      row["updated_at"])


class PgMarketingStore:
    """Every method runs on the one connection (and transaction) it was given."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        await enqueue(self.conn, events, channel=OUTBOX_CHANNEL)

    async def account_exists(self, account_id: int) -> bool:
        return bool(await self.conn.fetchval(
            "SELECT true FROM accounts WHERE account_id = $1", account_id))

    # ---- forms

    async def save_form(self, account_id: int, form: StoredForm) -> None:
        await self.conn.execute(
            "INSERT INTO forms (account_id, form_id, definition, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, form_id) DO UPDATE SET"
            " definition = EXCLUDED.definition, updated_at = EXCLUDED.updated_at",
            account_id, form.form.form_id, form_json(form.form), form.created_at,
            form.updated_at)

    async def form(self, account_id: int, form_id: str) -> StoredForm | None:
        """The live form of an existing account (joined, so a submission to an unknown
        portal costs the same single statement as one to an unknown form)."""
        row = await self.conn.fetchrow(
            "SELECT f.definition, f.created_at, f.updated_at FROM forms f JOIN accounts a"
            " ON a.account_id = f.account_id WHERE f.account_id = $1 AND f.form_id = $2"
            " AND NOT f.archived", account_id, form_id)
        return StoredForm(form_of(row["definition"]), row["created_at"],
                          row["updated_at"]) if row else None

    async def forms(self, account_id: int) -> list[StoredForm]:
        rows = await self.conn.fetch(
            "SELECT definition, created_at, updated_at FROM forms WHERE account_id = $1"
            " AND NOT archived ORDER BY created_at, form_id", account_id)
        return [StoredForm(form_of(r["definition"]), r["created_at"], r["updated_at"])
                for r in rows]

    async def lock_address(self, account_id: int, address: str) -> None:
        """Serialise writers of one address until commit: two first submissions with the
        same new email make one contact, not a unique-value conflict."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))",
                                address, account_id)

    async def contact_by_email(self, account_id: int, address: str) -> int | None:
        return await self.conn.fetchval(
            "SELECT u.record_id FROM unique_values u JOIN records r ON r.account_id ="
            " u.account_id AND r.object_type = u.object_type AND r.record_id = u.record_id"
            " WHERE u.account_id = $1 AND u.object_type = 'contacts' AND u.property = 'email'"
            " AND u.value = $2 AND NOT r.archived", account_id, address)

    async def record_submission(self, account_id: int, form_id: str, contact_id: int,
                                created: bool, hutk: str | None, page_uri: str | None,
                                at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO form_submissions (account_id, form_id, contact_id, created, hutk,"
            " page_uri, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            account_id, form_id, contact_id, created, hutk, page_uri, at)

    # ---- tracking

    async def add_page_view(self, account_id: int, view: PageView, email_click: bool) -> bool:
        await self._see_cookie(account_id, view.hutk, view.at)
        return bool(await self.conn.fetchval(
            "INSERT INTO page_views (account_id, hutk, url, viewed_at, title, email_click)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
            account_id, view.hutk, view.url, view.at, view.title, email_click))

    async def _see_cookie(self, account_id: int, hutk: str, at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO tracking_cookies (account_id, hutk, first_seen) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING", account_id, hutk, at)

    async def cookie_contact(self, account_id: int, hutk: str) -> int | None:
        return await self.conn.fetchval(
            "SELECT contact_id FROM tracking_cookies WHERE account_id = $1 AND hutk = $2",
            account_id, hutk)

    async def link_cookie(self, account_id: int, hutk: str, contact_id: int, how: str,
                          at: datetime) -> int | None:
        """Link the cookie to the contact; the contact it was linked to before, if another."""
        await self._see_cookie(account_id, hutk, at)
        before = await self.conn.fetchval(
            "SELECT contact_id FROM tracking_cookies WHERE account_id = $1 AND hutk = $2"
            " FOR UPDATE", account_id, hutk)
        await self.conn.execute(
            "UPDATE tracking_cookies SET contact_id = $3, linked_by = $4, linked_at = $5"
            " WHERE account_id = $1 AND hutk = $2", account_id, hutk, contact_id, how, at)
        return before if before not in (None, contact_id) else None

    async def refresh_rollup(self, account_id: int, contact_id: int,
                             at: datetime) -> PageViewSummary:
        """Recompute the contact's page-view roll-ups from every view of its linked
        cookies: a view counted twice or arriving late cannot skew them (R-ROLL-2)."""
        row = await self.conn.fetchrow(
            "SELECT count(*) AS n,"
            " (array_agg(v.url ORDER BY v.viewed_at, v.url))[1] AS first_url,"
            " min(v.viewed_at) AS first_at,"
            " (array_agg(v.url ORDER BY v.viewed_at DESC, v.url DESC))[1] AS last_url,"
            " max(v.viewed_at) AS last_at"
            " FROM page_views v JOIN tracking_cookies c ON c.account_id = v.account_id"
            " AND c.hutk = v.hutk WHERE c.account_id = $1 AND c.contact_id = $2",
            account_id, contact_id)
        summary = PageViewSummary(row["n"], row["first_url"], row["first_at"],
                                  row["last_url"], row["last_at"])
        await self.conn.execute(
            "INSERT INTO contact_page_view_rollups (account_id, contact_id, page_views,"
            " first_url, first_seen_at, last_url, last_seen_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, contact_id)"
            " DO UPDATE SET page_views = EXCLUDED.page_views, first_url = EXCLUDED.first_url,"
            " first_seen_at = EXCLUDED.first_seen_at, last_url = EXCLUDED.last_url,"
            " last_seen_at = EXCLUDED.last_seen_at, updated_at = EXCLUDED.updated_at",
            account_id, contact_id, summary.page_views, summary.first_url,
            summary.first_seen_at, summary.last_url, summary.last_seen_at, at)
        return summary

    async def rollup(self, account_id: int,
                     contact_id: int) -> tuple[PageViewSummary, datetime | None]:
        row = await self.conn.fetchrow(
            "SELECT * FROM contact_page_view_rollups WHERE account_id = $1 AND contact_id = $2",
            account_id, contact_id)
        if row is None:
            return EMPTY_SUMMARY, None
        return PageViewSummary(row["page_views"], row["first_url"], row["first_seen_at"],
                               row["last_url"], row["last_seen_at"]), row["updated_at"]

    async def contact_properties(self, account_id: int, contact_ids: Sequence[int]
                                 ) -> dict[int, dict[str, str | None]]:
        """Unarchived contacts' properties by id (archived or absent ones are missing)."""
        rows = await self.conn.fetch(
            "SELECT record_id, properties FROM records WHERE account_id = $1 AND object_type"
            " = 'contacts' AND record_id = ANY($2::bigint[]) AND NOT archived",
            account_id, list(contact_ids))
        return {r["record_id"]: r["properties"] for r in rows}

    # ---- lists

    async def create_list(self, account_id: int, name: str, processing_type: str,
                          filter_groups: list[dict[str, Any]] | None, at: datetime) -> int:
        return await self.conn.fetchval(
            "INSERT INTO lists (account_id, list_id, name, processing_type, filter_groups,"
            " created_at, updated_at) VALUES ($1, nextval('list_ids'), $2, $3, $4, $5, $5)"
            " RETURNING list_id", account_id, name, processing_type,
            filter_groups, at)

    async def list_name_taken(self, account_id: int, name: str) -> bool:
        return bool(await self.conn.fetchval(
            "SELECT true FROM lists WHERE account_id = $1 AND lower(name) = lower($2)"
            " AND NOT archived", account_id, name))

    async def get_list(self, account_id: int, list_id: int) -> StoredList | None:
        row = await self.conn.fetchrow(
            "SELECT l.*, (SELECT count(*) FROM list_memberships m WHERE m.account_id ="
            " l.account_id AND m.list_id = l.list_id) AS size FROM lists l"
            " WHERE account_id = $1 AND list_id = $2 AND NOT archived", account_id, list_id)
        return _stored_list(row, row["size"]) if row else None

    async def lists(self, account_id: int) -> list[StoredList]:
        rows = await self.conn.fetch(
            "SELECT l.*, (SELECT count(*) FROM list_memberships m WHERE m.account_id ="
            " l.account_id AND m.list_id = l.list_id) AS size FROM lists l"
            " WHERE account_id = $1 AND NOT archived ORDER BY list_id", account_id)
        return [_stored_list(r, r["size"]) for r in rows]

    async def archive_list(self, account_id: int, list_id: int, at: datetime) -> bool:
        done = await self.conn.fetchval(
            "UPDATE lists SET archived = true, updated_at = $3 WHERE account_id = $1"
            " AND list_id = $2 AND NOT archived RETURNING true", account_id, list_id, at)
        await self.conn.execute("DELETE FROM list_memberships WHERE account_id = $1"
                                " AND list_id = $2", account_id, list_id)
        return bool(done)

    async def active_list_definitions(self, account_ids: Sequence[int]
                                      ) -> list[tuple[int, int, datetime, Any]]:
        """(account, list id, updated_at, filter groups) of these accounts' active lists."""
        rows = await self.conn.fetch(
            "SELECT account_id, list_id, updated_at, filter_groups FROM lists"
            " WHERE account_id = ANY($1::bigint[]) AND processing_type = 'DYNAMIC'"
            " AND NOT archived", list(account_ids))
        return [(r["account_id"], r["list_id"], r["updated_at"], r["filter_groups"])
                for r in rows]

    async def member_ids(self, account_id: int, list_id: int, *, after: int = 0,
                         limit: int = 100, viewer: Principal | None = None) -> list[int]:
        """Member ids above `after`, ascending. R-AUTH-3: with a viewer, only members
        they may see, filtered inside the query so a page is full and skips nothing."""
        scope = list_predicate(viewer, "contacts", first_param=5, records_alias="r")
        visible = ("" if scope is None else
                   " AND EXISTS (SELECT 1 FROM records r WHERE r.account_id = m.account_id"
                   f" AND r.object_type = 'contacts' AND r.record_id = m.record_id"
                   f" AND {scope[0]})")
        rows = await self.conn.fetch(
            "SELECT record_id FROM list_memberships m WHERE account_id = $1 AND list_id = $2"
            f" AND record_id > $3{visible} ORDER BY record_id LIMIT $4",
            account_id, list_id, after, limit, *(scope[1] if scope else ()))
        return [r["record_id"] for r in rows]

    async def apply_membership_changes(
            self, joins: Sequence[tuple[int, int, int]], leaves: Sequence[tuple[int, int, int]],
            at: datetime) -> tuple[set[tuple[int, int, int]], set[tuple[int, int, int]]]:
        """Add the `joins` and remove the `leaves` (account, list, record), in one
        statement: (the joins that were not there yet, the leaves that were)."""
        if not joins and not leaves:
            return set(), set()
        rows = await self.conn.fetch(
            "WITH joined AS (INSERT INTO list_memberships (account_id, list_id, record_id,"
            " added_at) SELECT a, l, r, $7 FROM unnest($1::bigint[], $2::bigint[],"
            " $3::bigint[]) AS j(a, l, r) ON CONFLICT DO NOTHING"
            " RETURNING account_id, list_id, record_id),"
            " removed AS (DELETE FROM list_memberships m USING unnest($4::bigint[],"
            " $5::bigint[], $6::bigint[]) AS d(a, l, r) WHERE m.account_id = d.a"
            " AND m.list_id = d.l AND m.record_id = d.r"
            " RETURNING m.account_id, m.list_id, m.record_id)"
            " SELECT true AS joined, * FROM joined UNION ALL SELECT false, * FROM removed",
            *unnest_columns(joins, 3), *unnest_columns(leaves, 3), at)
        joined: set[tuple[int, int, int]] = set()
        left: set[tuple[int, int, int]] = set()
        for row in rows:
            (joined if row["joined"] else left).add(
                (row["account_id"], row["list_id"], row["record_id"]))
        return joined, left

    async def add_members(self, account_id: int, list_id: int, record_ids: Sequence[int],
                          at: datetime) -> list[int]:
        rows = await self.conn.fetch(
            "INSERT INTO list_memberships (account_id, list_id, record_id, added_at)"
            " SELECT $1, $2, unnest($3::bigint[]), $4 ON CONFLICT DO NOTHING"
            " RETURNING record_id", account_id, list_id, list(record_ids), at)
        return sorted(r["record_id"] for r in rows)

    async def remove_members(self, account_id: int, list_id: int,
                             record_ids: Sequence[int]) -> list[int]:
        rows = await self.conn.fetch(
            "DELETE FROM list_memberships WHERE account_id = $1 AND list_id = $2"
            " AND record_id = ANY($3::bigint[]) RETURNING record_id",
            account_id, list_id, list(record_ids))
        return sorted(r["record_id"] for r in rows)

    async def contacts_page(self, account_id: int, *, after: int, limit: int
                            ) -> list[tuple[int, int, dict[str, str | None]]]:
        """(id, version, properties) of unarchived contacts, by id, for filling a new list."""
        rows = await self.conn.fetch(
            "SELECT record_id, version, properties FROM records WHERE account_id = $1"
            " AND object_type = 'contacts' AND NOT archived AND record_id > $2"
            " ORDER BY record_id LIMIT $3", account_id, after, limit)
        return [(r["record_id"], r["version"], r["properties"]) for r in rows]

    async def advance_versions(self, versions: Sequence[tuple[int, int, int]]
                               ) -> dict[tuple[int, int], set[int]]:
        """Of these (account, record, version), one per record, the (account, record)
        whose version is newer than any applied for it (and now is), each with the lists
        it is a member of now: one statement, one round trip."""
        if not versions:
            return {}
        rows = await self.conn.fetch(
            "WITH fresh AS (INSERT INTO list_record_versions (account_id, record_id, version)"
            " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])"
            " ON CONFLICT (account_id, record_id) DO UPDATE SET version = EXCLUDED.version"
            " WHERE list_record_versions.version < EXCLUDED.version"
            " RETURNING account_id, record_id)"
            " SELECT f.account_id, f.record_id, m.list_id FROM fresh f"
            " LEFT JOIN list_memberships m ON m.account_id = f.account_id"
            " AND m.record_id = f.record_id", *unnest_columns(versions, 3))
        fresh: dict[tuple[int, int], set[int]] = {}
        for row in rows:
            lists = fresh.setdefault((row["account_id"], row["record_id"]), set())
            if row["list_id"] is not None:
                lists.add(row["list_id"])
        return fresh

    # ---- email to a list

    async def suppressions(self, account_id: int, addresses: Sequence[str]) -> dict[str, str]:
        rows = await self.conn.fetch(
            "SELECT address, reason FROM email_suppressions WHERE account_id = $1"
            " AND address = ANY($2::text[])", account_id, list(addresses))
        return {r["address"]: r["reason"] for r in rows}

    async def suppress(self, account_id: int, address: str, reason: str, at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO email_suppressions (account_id, address, reason, created_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, address) DO UPDATE"
            " SET reason = EXCLUDED.reason", account_id, address, reason, at)

    async def claim_send(self, account_id: int, send_id: str, list_id: int,
                         user_id: int | None, subject: str, at: datetime) -> int | None:
        """Store the send; None if new, else the list id the send id was first used for."""
        inserted = await self.conn.fetchval(
            "INSERT INTO list_sends (account_id, send_id, list_id, user_id, subject, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
            account_id, send_id, list_id, user_id, subject, at)
        if inserted:
            return None
        return await self.conn.fetchval(
            "SELECT list_id FROM list_sends WHERE account_id = $1 AND send_id = $2",
            account_id, send_id)

    async def claim_recipients(self, account_id: int, send_id: str,
                               rows: Sequence[tuple[int, str | None, str, str | None]]
                               ) -> set[int]:
        """Record (contact, address, outcome, reason) rows; the contact ids not already
        recorded for this send (the others were handled by an earlier try)."""
        if not rows:
            return set()
        claimed = await self.conn.fetch(
            "INSERT INTO list_send_recipients (account_id, send_id, contact_id, address,"
            " outcome, reason) SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[],"
            " $5::text[], $6::text[]) ON CONFLICT DO NOTHING RETURNING contact_id",
            account_id, send_id, [r[0] for r in rows], [r[1] for r in rows],
            [r[2] for r in rows], [r[3] for r in rows])
        return {r["contact_id"] for r in claimed}

    async def set_engagements(self, account_id: int, send_id: str,
                              engagement_by_contact: dict[int, int]) -> None:
        await self.conn.executemany(
            "UPDATE list_send_recipients SET engagement_id = $4 WHERE account_id = $1"
            " AND send_id = $2 AND contact_id = $3",
            [(account_id, send_id, c, e) for c, e in engagement_by_contact.items()])

    async def send_report(self, account_id: int, send_id: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT contact_id, address, outcome, reason, engagement_id FROM"
            " list_send_recipients WHERE account_id = $1 AND send_id = $2 ORDER BY contact_id",
            account_id, send_id)


class MarketingUnitOfWork:
    """`async with uow() as session:` one transaction for the store and record writes."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[MarketingSession]:
        async with self.pool.acquire() as conn, conn.transaction():
            record_store = PgRecordStore(conn)

            @asynccontextmanager
            async def same_transaction() -> AsyncIterator[PgRecordStore]:
                yield record_store

            yield MarketingSession(PgMarketingStore(conn), RecordsHandler(same_transaction))


async def list_membership_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """The list-membership consumer's batch, applied on the consumer's transaction."""
    await apply_record_events(PgMarketingStore(conn), events, datetime.now(UTC))
