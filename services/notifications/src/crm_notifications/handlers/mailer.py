"""Sends the emails the consumer recorded, with retries and back-off (R-NOTE-1).

Each sent_mail row (one per `mail_key`: a notice per source event and user,
a list email per account and recipient idempotency key) goes:
  pending --claim--> sending --SMTP accepted--> sent (+ NotificationDelivered event)
                        \\--SMTP failed--> pending again after a delay, or, after
                            the last delay, failed and parked on <source topic>.dlq
                            (+ NotificationFailed event)
The claim (status 'sending', attempts + 1, a 60 s lease) is committed BEFORE
the SMTP call, and 'sent' is committed AFTER it. So two replicas never send
one row, and a redelivered event sends nothing (its row exists already). The
one window left: the process dies after the relay accepted the message and
before 'sent' is committed; the row is then sent again when its lease lapses,
with the same Message-ID, so a client or relay can drop it. SMTP cannot be
asked whether a message arrived, so the choice is that rare repeat or a rare
loss; we chose delivery.

A notice's address is read at send time from the identity copy
(AccessProfile.email), so a user's identity event arriving after the source
event is waited for (retried). A list email's address is the one in its event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.notifications import v1
from crm_notifications.adapters.smtp import SmtpSender
from crm_notifications.domain.messages import compose_email, retry_delay
from crm_platform.consumer import DeadLetterSink
from crm_platform.outbox import OutgoingEvent, enqueue

log = logging.getLogger("crm.notifications.mailer")
OUTBOX_CHANNEL = "outbox_notifications"
LEASE = timedelta(seconds=60)
SOURCE = "/crm/notifications"


class NoAddress(Exception):
    pass


class Mailer:
    def __init__(self, pool: asyncpg.Pool, smtp: SmtpSender, dead_letter: DeadLetterSink, *,
                 sender: str, retry_delays: list[float], idle_seconds: float = 0.5,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.pool, self.smtp, self.dead_letter = pool, smtp, dead_letter
        self.sender, self.retry_delays = sender, list(retry_delays)
        self.idle_seconds, self.clock = idle_seconds, clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="notifications-mailer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                if not await self.send_due():
                    await asyncio.sleep(self.idle_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # store or broker away: wait, then go on
                log.exception("mailer: unexpected error")
                await asyncio.sleep(1.0)

    async def send_due(self) -> int:
        """Claim the due emails (committed first), send each; answers how many were claimed."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "UPDATE sent_mail SET status = 'sending', attempts = attempts + 1,"
                " next_attempt_at = now() + $1::interval"
                " WHERE mail_key IN (SELECT mail_key FROM sent_mail"
                "   WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()"
                "   ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)"
                " RETURNING *", LEASE)
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: Any) -> None:
        try:
            recipient = row["recipient"] or await self._address(row["account_id"],
                                                                row["user_id"])
            message = compose_email(sender=row["sender"] or self.sender, recipient=recipient,
                                    subject=row["subject"], text=row["body"], html=row["html"],
                                    mail_key=row["mail_key"], event_id=row["event_id"],
                                    sent_at=self.clock())
            await asyncio.to_thread(self.smtp.send, message)
        except (NoAddress, smtplib.SMTPException, OSError) as error:
            await self._failed(row, f"{type(error).__name__}: {error}")
            return
        await self._sent(row, recipient)

    async def _address(self, account_id: int, user_id: int) -> str:
        email = await self.pool.fetchval(
            "SELECT profile->>'email' FROM identity_users WHERE account_id = $1"
            " AND user_id = $2 AND active", account_id, user_id)
        if not email:
            raise NoAddress(f"no email address known for user {user_id} of account {account_id}")
        return email

    async def _sent(self, row: Any, recipient: str) -> None:
        now = self.clock()
        outcome = v1.NotificationDelivered(recipient=recipient, delivered_at=now,
                                           **_outcome_fields(row))
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE sent_mail SET status = 'sent', sent_at = $2, recipient = $3,"
                " last_error = NULL WHERE mail_key = $1", row["mail_key"], now, recipient)
            await enqueue(conn, [_outgoing(outcome)], channel=OUTBOX_CHANNEL)

    async def _failed(self, row: Any, error: str) -> None:
        delay = retry_delay(row["attempts"], self.retry_delays)
        log.warning("email %s of event %s failed (attempt %d): %s",
                    row["mail_key"], row["event_id"], row["attempts"], error)
        if delay is not None:
            await self.pool.execute(
                "UPDATE sent_mail SET status = 'pending', last_error = $2,"
                " next_attempt_at = now() + $3::interval WHERE mail_key = $1",
                row["mail_key"], error, timedelta(seconds=delay))
            return
        outcome = v1.NotificationFailed(recipient=row["recipient"], error=error[:1000],
                                        attempts=row["attempts"], failed_at=self.clock(),
                                        **_outcome_fields(row))
        # Parked first: if the broker is away this raises and the row is tried again.
        await self.dead_letter(
            f"{row['source_topic']}.dlq", _key(outcome).encode(), json.dumps({
                "mail_key": row["mail_key"], "event_id": row["event_id"],
                "account_id": row["account_id"], "user_id": outcome.user_id,
                "source_type": row["source_type"], "subject": row["subject"],
                "attempts": row["attempts"]}).encode(),
            {"dlq_consumer": "notifications-mailer", "dlq_error": error[:1000],
             "dlq_original_topic": row["source_topic"], "dlq_source_event_id": row["event_id"],
             "content-type": "application/json"})
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("UPDATE sent_mail SET status = 'failed', last_error = $2"
                               " WHERE mail_key = $1", row["mail_key"], error)
            await enqueue(conn, [_outgoing(outcome)], channel=OUTBOX_CHANNEL)
        log.error("email %s of event %s parked on %s.dlq after %d attempts: %s",
                  row["mail_key"], row["event_id"], row["source_topic"], row["attempts"], error)


def _outcome_fields(row: Any) -> dict[str, Any]:
    """The fields every delivery event of this row shares. A notice's user is its
    recipient; a list email's `delivery` names the sending user, the list, send,
    contact, engagement and key."""
    return {"account_id": row["account_id"], "user_id": row["user_id"],
            "source_event_id": row["event_id"], "source_event_type": row["source_type"],
            "channel": "email", **row["delivery"]}


def _key(outcome: v1.NotificationOutcome) -> str:
    return f"{outcome.account_id}:notifications:{outcome.user_id}"


def _outgoing(outcome: v1.NotificationOutcome) -> OutgoingEvent:
    event = CloudEvent.of(outcome, source=SOURCE, account_id=outcome.account_id,
                          subject=f"users/{outcome.user_id}")
    return OutgoingEvent(topics.NOTIFICATIONS.name, _key(outcome), event)
