"""The email address index (R-REC-8): which email engagements were logged to or
from which address. Kept by PgRecordStore on every insert and save of an email
engagement, in the writer's transaction, so every way of logging an email (the
API, a list send, a merge) keeps it, and a contact's timeline finds the emails
of its current address whenever they were logged."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from crm_records.domain.engagements import email_participants
from crm_records.domain.record import Record


async def index_email_participants(conn: asyncpg.Connection, records: Sequence[Record]) -> None:
    """R-REC-8: keep `email_participants` in step with the email engagements written
    (called by PgRecordStore on every insert and save, in the writer's transaction)."""
    emails = [r for r in records if r.object_type == "emails"]
    if not emails:
        return
    await conn.execute(
        "DELETE FROM email_participants WHERE account_id = $1 AND email_id = ANY($2::bigint[])",
        emails[0].account_id, [r.record_id for r in emails])
    rows = [(r.account_id, address, r.record_id) for r in emails
            for address in sorted(email_participants(r.properties))]
    if rows:
        await conn.executemany(
            "INSERT INTO email_participants (account_id, address, email_id)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", rows)
