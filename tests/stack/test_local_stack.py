"""The local stack of deploy/local answers as docs/DEVELOPING.md says.

Runs against the real servers that `make test` (deploy/local/test.sh) or
`bash deploy/local/stack.sh up` started; nothing here is faked.
"""

import json
import smtplib
import socket
import threading
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
import redis
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from crm_contracts.topics import ALL_TOPICS

pytestmark = pytest.mark.integration

GATEWAY = "http://127.0.0.1:8080"
SERVICE_DATABASES = {
    "crm_records", "crm_search", "crm_workspace",
    "crm_healthscore", "crm_exports", "crm_notifications",
}


def test_postgres_has_one_database_per_service():
    # R-BUS-1: every service has a database of its own.
    with psycopg.connect("postgresql://postgres@127.0.0.1:15432/postgres") as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        max_connections = conn.execute("SHOW max_connections").fetchone()[0]
    assert SERVICE_DATABASES <= names
    assert max_connections == "200"


async def test_kafka_has_every_topic_with_its_partitions_and_retention():
    # R-BUS-3: the dead-letter topics exist beside the topics they serve.
    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:19092")
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in ALL_TOPICS])
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t.name) for t in ALL_TOPICS]
        )
    finally:
        await admin.close()

    partitions = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
    assert partitions == {t.name: t.partitions for t in ALL_TOPICS}

    retention = {
        resource["resource_name"]: int(entry["config_value"])
        for response in responses
        for resource in response.to_object()["resources"]
        for entry in resource["config_entries"]
        if entry["config_names"] == "retention.ms"
    }
    assert retention == {t.name: t.retention_ms for t in ALL_TOPICS}


def test_redis_answers_ping():
    client = redis.Redis.from_url("redis://127.0.0.1:16379/0")
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_smtp_sink_keeps_each_message_as_an_eml_file():
    # R-NOTE-1: the local stand-in for a mail server keeps what services send.
    marker = f"stack-test-{uuid.uuid4()}"
    message = EmailMessage()
    message["From"] = "platform@example.com"
    message["To"] = "someone@example.com"
    message["Subject"] = marker
    message.set_content("hello from the stack test")

    with smtplib.SMTP("127.0.0.1", 1025, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("platform@example.com")
        smtp.rcpt("someone@example.com")
        smtp.rcpt("hidden@example.com")
        code, reply = smtp.data(message.as_bytes())

    assert code == 250
    # The sink answers with the file it wrote: .local/run/smtp/messages/<stamp>-<n>.eml
    # of the checkout that started it.
    stored = Path(reply.decode().removeprefix("OK stored as "))
    assert stored.parent.parts[-4:] == (".local", "run", "smtp", "messages")
    assert stored.suffix == ".eml"
    text = stored.read_text()
    assert f"Subject: {marker}" in text
    assert "X-Envelope-From: platform@example.com" in text
    assert "X-Envelope-To: someone@example.com, hidden@example.com" in text
    assert "hello from the stack test" in text
    assert not list(stored.parent.glob(f".{stored.name}.tmp"))


# path through the gateway -> the port of the service that must answer it.
# Mirrors deploy/local/nginx/routes.conf (and so the Kubernetes Ingress).
ROUTES = [
    ("POST", "/crm/v3/objects/contacts/search", 8002),
    ("POST", "/crm/v3/objects/2-123/search", 8002),
    ("GET", "/search/v1/progress", 8002),
    ("GET", "/crm/v3/exports/export/async/tasks/7/status", 8005),
    ("GET", "/workspace/v1/views", 8003),
    ("GET", "/healthscores/v1/profiles", 8004),
    ("GET", "/notifications/v1/inbox", 8006),
    ("GET", "/crm/v3/objects/contacts/42", 8001),
    ("GET", "/crm/v4/associations/contacts/companies/labels", 8001),
    ("GET", "/identity/v1/me", 8001),
    ("POST", "/submissions/v3/integration/submit/1/abc", 8001),
    ("GET", "/crm-object-schemas/v3/schemas", 8001),
    ("GET", "/tracking/v1/open", 8001),
    ("GET", "/lists/v1/x", 8001),
]


def gateway(method: str, path: str, headers: dict[str, str] | None = None,
            base: str = GATEWAY) -> tuple[int, Message, bytes]:
    data = b"{}" if method == "POST" else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class EchoUpstream(BaseHTTPRequestHandler):
    """Stands where a service would listen and answers with what it was sent."""

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({
            "port": self.server.server_address[1],
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(("method", "path", "port"), ROUTES)
def test_gateway_routes_each_path_to_its_service(method, path, port):
    if port_in_use(port):
        # The real service runs: the gateway must answer as the service does.
        direct_status, _, _ = gateway(method, path, base=f"http://127.0.0.1:{port}")
        routed_status, _, _ = gateway(method, path)
        assert routed_status != 502
        assert routed_status == direct_status
        return

    # Nothing listens there: the gateway routed the path, and found no one.
    assert gateway(method, path)[0] == 502

    # Listen where the service would, and see the request arrive whole.
    # R-BUS-5: the trace context goes through the gateway.
    upstream = ThreadingHTTPServer(("127.0.0.1", port), EchoUpstream)
    thread = threading.Thread(target=upstream.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
        status, _, body = gateway(method, path + "?limit=5", headers={
            "X-Request-Id": "req-stack-test", "traceparent": traceparent,
        })
    finally:
        upstream.shutdown()
        upstream.server_close()
    assert status == 200
    seen = json.loads(body)
    assert seen["port"] == port
    assert seen["path"] == path + "?limit=5"
    assert seen["headers"]["host"] == "127.0.0.1:8080"
    assert seen["headers"]["x-request-id"] == "req-stack-test"
    assert seen["headers"]["traceparent"] == traceparent


def test_gateway_answers_404_outside_its_routes_and_tags_every_answer_with_a_request_id():
    status, headers, _ = gateway("GET", "/not-a-route")
    assert status == 404
    assert len(headers["X-Request-Id"]) == 32  # made by nginx: the caller sent none

    status, headers, _ = gateway("GET", "/not-a-route", headers={"X-Request-Id": "mine-1"})
    assert headers["X-Request-Id"] == "mine-1"
