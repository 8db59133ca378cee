"""The notifications service against the real Kafka, PostgreSQL, Redis and the
local SMTP sink (`make up`/`make test` start it on 127.0.0.1:1025 and keep
each message as a .eml file under .local/run/smtp/messages)."""

from __future__ import annotations

import email
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.exports import v1 as exports_v1
from crm_notifications.main import create_app
from crm_notifications.settings import Settings
from crm_platform.identity.pg_directory import apply_user_event
from crm_platform.identity.principal import AccessProfile
from crm_platform.identity.tokens import issue_token
from crm_platform.testing import (
    drop_database,
    eventually,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)
from fastapi import FastAPI

pytestmark = pytest.mark.integration

MAILBOX = Path(__file__).resolve().parents[4] / ".local" / "run" / "smtp" / "messages"
ACCOUNT = 880_000 + uuid.uuid4().int % 100_000


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Settings]]:
    settings = Settings(**service_env(
        "NOTIFICATIONS_", consumer_group_prefix=unique_group_prefix("notifications"),
        mail_retry_delays=[0.2]))
    settings.database_url = throwaway_database_url(settings.database_url, "it")
    app = create_app(settings)
    try:
        async with running(app) as client:
            yield app, client, settings
    finally:
        await drop_database(settings.database_url)


def finished_event(user_id: int) -> CloudEvent:
    now = datetime.now(UTC)
    data = exports_v1.ExportFinished(
        export_id=str(uuid.uuid4().int % 10**9), account_id=ACCOUNT, user_id=user_id,
        export_name="Leads", format="CSV", object_type="contacts", row_count=2,
        file_name="Leads.csv", download_url=f"http://gw/crm/v3/exports/download/{uuid.uuid4()}",
        link_expires_at=now + timedelta(days=30), finished_at=now)
    return CloudEvent.of(data, source="/crm/exports", subject="exports/1", account_id=ACCOUNT)


async def publish(settings: Settings, *events: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topics.EXPORTS.name, value=event.value(),
                                         key=exports_v1.export_key(ACCOUNT).encode(),
                                         headers=event.headers())
    finally:
        await producer.stop()


def mails_to(address: str) -> list[email.message.Message]:
    found = []
    for path in MAILBOX.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            found.append(message)
    return found


async def test_a_redelivered_export_event_mails_once_and_notifies_once(service):
    # R-NOTE-1 R-EXP-5 R-BUS-3
    app, client, settings = service
    pool = app.state.runtime.pool
    address = f"note-{uuid.uuid4().hex[:8]}@example.com"
    await apply_user_event(pool, AccessProfile(account_id=ACCOUNT, user_id=7, email=address), 1)
    event = finished_event(7)
    await publish(settings, event, event)  # the same event id twice: a redelivery

    async def mailed() -> list[email.message.Message]:
        return mails_to(address)

    mails = await eventually(mailed, timeout=30, what=f"an email to {address}")
    await eventually(lambda: pool.fetchval(
        "SELECT status = 'sent' FROM sent_mail WHERE event_id = $1", event.id),
        what="the sent mark")
    assert len(mails_to(address)) == 1
    [mail] = mails
    assert mail["Subject"] == 'Your export "Leads" is ready'
    assert event.data["download_url"] in mail.get_payload(decode=True).decode()

    token, _ = issue_token(settings.token_secret.get_secret_value(), ACCOUNT, 7,
                           timedelta(minutes=5))
    mine = {"Authorization": f"Bearer {token}"}
    listed = (await client.get("/notifications/v1/notifications", headers=mine)).json()
    assert listed["unread"] == 1 and len(listed["results"]) == 1
    notification = listed["results"][0]
    assert notification["kind"] == "export_ready"
    assert notification["link"] == event.data["download_url"]

    # Someone else (same account) can neither read nor delete it.
    await apply_user_event(pool, AccessProfile(account_id=ACCOUNT, user_id=8), 1)
    other_token, _ = issue_token(settings.token_secret.get_secret_value(), ACCOUNT, 8,
                                 timedelta(minutes=5))
    other = {"Authorization": f"Bearer {other_token}"}
    path = f"/notifications/v1/notifications/{notification['id']}"
    assert (await client.post(f"{path}/read", headers=other)).status_code == 404
    assert (await client.delete(path, headers=other)).status_code == 404
    assert (await client.get("/notifications/v1/notifications", headers=other)).json()[
        "results"] == []

    read = await client.post(f"{path}/read", headers=mine)
    assert read.status_code == 200 and read.json()["readAt"]
    assert (await client.delete(path, headers=mine)).status_code == 204
    assert (await client.delete(path, headers=mine)).status_code == 404
    listed = (await client.get("/notifications/v1/notifications", headers=mine)).json()
    assert listed == {"results": [], "unread": 0}


async def test_an_email_that_keeps_failing_is_parked_with_its_error(service):
    # R-NOTE-1 R-BUS-3
    app, _, settings = service
    pool = app.state.runtime.pool
    # A user without an address: every attempt fails, then the email is parked.
    await apply_user_event(pool, AccessProfile(account_id=ACCOUNT, user_id=9), 1)
    event = finished_event(9)
    dlq = topics.EXPORTS.dead_letter.name
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(dlq, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        await publish(settings, event)
        await eventually(lambda: pool.fetchval(
            "SELECT status = 'failed' FROM sent_mail WHERE event_id = $1", event.id),
            timeout=30, what="the email to fail for good")

        async def parked() -> dict | None:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    if headers.get("dlq_source_event_id") == event.id:
                        return {"headers": headers, "value": json.loads(record.value)}
            return None
        found = await eventually(parked, timeout=30, what="the parked email on the DLQ")
    finally:
        await consumer.stop()
    assert "no email address known" in found["headers"]["dlq_error"]
    assert found["value"]["attempts"] == 2  # the first try and one retry
    # The in-app notification is there regardless.
    assert await pool.fetchval("SELECT count(*) FROM notifications WHERE source_event_id = $1",
                               event.id) == 1
