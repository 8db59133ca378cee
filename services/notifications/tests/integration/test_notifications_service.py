"""The notifications service against the real Kafka, PostgreSQL, Redis and the
local SMTP sink (`make up`/`make test` start it on 127.0.0.1:1025 and keep
each message as a .eml file under .local/run/smtp/messages): export notices,
emails to lists and health alerts."""

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
from fastapi import FastAPI

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.exports import v1 as exports_v1
from crm_contracts.healthscores import v1 as healthscores_v1
from crm_contracts.lists import v1 as lists_v1
from crm_notifications import subscriptions
from crm_notifications.domain.messages import Links
from crm_notifications.main import create_app
from crm_notifications.settings import Settings
from crm_platform.broker import make_broker
from crm_platform.identity.pg_directory import apply_user_event
from crm_platform.identity.principal import AccessProfile
from crm_platform.identity.tokens import issue_token
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    eventually,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)

pytestmark = pytest.mark.integration

MAILBOX = Path(__file__).resolve().parents[4] / ".local" / "run" / "smtp" / "messages"
ACCOUNT = 880_000 + uuid.uuid4().int % 100_000


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Settings]]:
    settings = Settings(**service_env(
        "NOTIFICATIONS_", consumer_group_prefix=unique_group_prefix("notifications"),
        mail_retry_delays=[0.2]))
    settings.database_url = throwaway_database_url(settings.database_url, "it")
    # Its groups start where the topics end: every test publishes what it waits for
    # afterwards, and a replay of the shared topics would mail other runs' notices.
    names_only = make_broker(settings.kafka_bootstrap_servers)  # never started
    subscriptions.register(names_only, None, Links(settings.public_base_url),  # type: ignore[arg-type]
                           settings.consumer_group_prefix)
    await commit_subscribed_groups_at_end(settings.kafka_bootstrap_servers, names_only)
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


async def publish(settings: Settings, *events: CloudEvent, topic: str = topics.EXPORTS.name,
                  key: str | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, value=event.value(),
                                         key=(key or exports_v1.export_key(ACCOUNT)).encode(),
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


def list_email_event(send_id: str, subject: str, recipients: list[tuple[int, str]], *,
                     part: int = 1, parts: int = 1) -> CloudEvent:
    data = lists_v1.ListEmailRequested(
        account_id=ACCOUNT, user_id=7, list_id=31, send_id=send_id, subject=subject,
        html=f"<p>Hello from <b>{subject}</b></p>", text=None, from_address="news@crm.local",
        recipients=[lists_v1.ListEmailRecipient(
            contact_id=contact_id, address=address, engagement_id=5000 + contact_id,
            idempotency_key=f"list-email:{send_id}:{contact_id}")
            for contact_id, address in recipients],
        part=part, parts=parts, requested_at=datetime.now(UTC))
    return CloudEvent.of(data, source="/crm/records", account_id=ACCOUNT,
                         subject=f"lists/31/sends/{send_id}")


async def notification_events(consumer: AIOKafkaConsumer, wanted: int,
                              source_event_ids: set[str]) -> list[dict]:
    """The delivery events on crm.notifications.v1 for these source events, one per
    idempotency key: the platform's own notifications service (another deployment,
    started by `make test`) reads the same topic and announces the same deliveries,
    so the topic may hold each twice, in any order between the two."""
    found: dict[str, dict] = {}

    async def enough() -> bool:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                value = json.loads(record.value)
                data = value.get("data", value)
                if data.get("source_event_id") in source_event_ids:
                    found.setdefault(data["idempotency_key"], data)
        return len(found) >= wanted

    await eventually(enough, timeout=30, what=f"{wanted} delivery events")
    return list(found.values())


async def notifications_topic_consumer(settings: Settings) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topics.NOTIFICATIONS.name, p)
                  for p in range(topics.NOTIFICATIONS.partitions)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:  # resolve the end offsets now, before anything is published
        await consumer.position(partition)
    return consumer


async def test_a_list_email_reaches_each_recipient_once_however_often_it_is_sent(service):
    # R-MKT-3 R-NOTE-1 R-BUS-3
    app, _, settings = service
    pool = app.state.runtime.pool
    tag = uuid.uuid4().hex[:8]
    send_id, subject = f"send-{tag}", f"List news {tag}"
    first, second, third = (f"{n}-{tag}@example.com" for n in ("ann", "bob", "cid"))
    part_one = list_email_event(send_id, subject, [(1, first), (2, second)], part=1, parts=2)
    part_two = list_email_event(send_id, subject, [(3, third)], part=2, parts=2)
    # The same send repeated (a new event naming recipients already keyed): nothing more.
    repeated = list_email_event(send_id, subject, [(1, first), (3, third)])
    consumer = await notifications_topic_consumer(settings)
    try:
        await publish(settings, part_one, part_two, part_one, repeated,
                      topic=topics.LISTS.name, key=lists_v1.list_key(ACCOUNT, 31))
        delivered = await notification_events(consumer, 3, {part_one.id, part_two.id,
                                                            repeated.id})
    finally:
        await consumer.stop()

    await eventually(lambda: pool.fetchval(
        "SELECT count(*) = 3 FROM processed_events WHERE event_id = ANY($1::text[])",
        [part_one.id, part_two.id, repeated.id]), what="every event consumed")
    await eventually(lambda: pool.fetchval(
        "SELECT count(*) = 3 FROM sent_mail WHERE status = 'sent' AND delivery->>'send_id' = $1",
        send_id), what="three sent marks")
    assert await pool.fetchval("SELECT count(*) FROM sent_mail WHERE delivery->>'send_id' = $1",
                               send_id) == 3
    for address in (first, second, third):
        # The platform's own notifications service (started by `make test`) reads
        # the same topic and, being another deployment, mails these recipients
        # too. What must hold: this copy sent each recipient one message (its
        # sent_mail rows above) and no recipient got two different messages.
        mails = mails_to(address)
        assert mails and len({m["Message-ID"] for m in mails}) == 1, (
            f"{address} got {len(mails)} mails with different Message-IDs")
        mail = mails[0]
        assert mail["Subject"] == subject and mail["From"] == "news@crm.local"
        assert mail.get_content_type() == "multipart/alternative"
        parts = {part.get_content_type(): part.get_payload(decode=True).decode()
                 for part in mail.walk() if not part.is_multipart()}
        assert parts["text/html"].strip() == f"<p>Hello from <b>{subject}</b></p>"
        assert parts["text/plain"].strip() == f"Hello from {subject}"
    # One delivery event per recipient, naming the contact and its email engagement.
    by_contact = {event["contact_id"]: event for event in delivered}
    assert len(delivered) == 3 and set(by_contact) == {1, 2, 3}
    assert by_contact[2]["recipient"] == second and by_contact[2]["engagement_id"] == 5002
    assert by_contact[2]["idempotency_key"] == f"list-email:{send_id}:2"
    assert {e["send_id"] for e in delivered} == {send_id} and by_contact[3]["list_id"] == 31
    assert {e["source_event_type"] for e in delivered} == {lists_v1.ListEmailRequested.EVENT_TYPE}


async def test_a_health_alert_tells_the_csm_in_the_app_and_by_email(service):
    # R-HLTH-3 R-NOTE-1
    app, client, settings = service
    pool = app.state.runtime.pool
    address = f"csm-{uuid.uuid4().hex[:8]}@example.com"
    await apply_user_event(pool, AccessProfile(account_id=ACCOUNT, user_id=21, email=address), 1)
    now = datetime.now(UTC)
    customer_id = uuid.uuid4().int % 10**9
    alert = healthscores_v1.HealthAlertRaised(
        alert_id=str(uuid.uuid4()), account_id=ACCOUNT, user_id=21, profile_id="p-1",
        profile_name="Onboarding", customer_object_type="companies", customer_id=customer_id,
        old_band="healthy", new_band="at_risk", score=28, cause="time", fired_at=now,
        expires_at=now + timedelta(days=14))
    event = CloudEvent.of(alert, source="/crm/healthscore", account_id=ACCOUNT,
                          subject=f"companies/{customer_id}")
    await publish(settings, event, event, topic=topics.HEALTHSCORES.name,
                  key=healthscores_v1.customer_key(ACCOUNT, "companies", customer_id))

    async def mailed() -> list[email.message.Message]:
        return mails_to(address)

    [mail] = await eventually(mailed, timeout=30, what=f"the alert email to {address}")
    link = f"{settings.public_base_url.rstrip('/')}/crm/v3/objects/companies/{customer_id}"
    assert mail["Subject"] == f"Health alert: company {customer_id} went from Healthy to At risk"
    body = mail.get_payload(decode=True).decode()
    assert link in body and "score now 28" in body

    token, _ = issue_token(settings.token_secret.get_secret_value(), ACCOUNT, 21,
                           timedelta(minutes=5))
    listed = (await client.get("/notifications/v1/notifications",
                               headers={"Authorization": f"Bearer {token}"})).json()
    [notification] = listed["results"]
    assert notification["kind"] == "health_alert" and notification["link"] == link
    assert len(mails_to(address)) == 1  # the redelivered alert mailed nothing more


async def test_a_replica_of_the_previous_version_still_stores_its_notices(service):
    # R-NOTE-1: during a rolling deploy the 0001 consumer inserts without a mail key.
    app, _, _ = service
    pool = app.state.runtime.pool
    event_id = str(uuid.uuid4())
    for _ in range(2):  # its redelivery, refused by the (event, user) key it relies on
        await pool.execute(
            "INSERT INTO sent_mail (event_id, account_id, user_id, source_topic, source_type,"
            " subject, body, next_attempt_at) VALUES ($1, $2, 9, 'crm.exports.v1', 'x', 'S',"
            " 'B', now() + interval '1 day') ON CONFLICT (event_id, user_id) DO NOTHING",
            event_id, ACCOUNT)
    keys = await pool.fetch("SELECT mail_key FROM sent_mail WHERE event_id = $1", event_id)
    assert [row["mail_key"] for row in keys] == [f"notice:{event_id}:9"]
