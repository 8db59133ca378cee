"""The S3 storage adapter against a real S3-compatible server the test starts:
moto's server (a local HTTP endpoint speaking the S3 API) on a free port.
Files are written only under pytest's tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from pydantic import ValidationError

from crm_exports.adapters.storage import S3Storage, s3_client
from crm_exports.bootstrap import open_storage
from crm_exports.settings import Settings
from crm_platform.testing import service_env

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_credentials(monkeypatch) -> None:
    # The standard AWS chain reads these, as the service does in production.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "exports-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "exports-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


@pytest.fixture
def bucket(s3_endpoint, aws_credentials, request) -> str:
    name = "exports-" + request.node.name.replace("_", "-")[:40].lower()
    client = s3_client(s3_endpoint, "eu-west-1")
    client.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name


def scratch_file(storage: S3Storage, export_id: int, content: bytes) -> Path:
    path = storage.scratch(export_id) / "export.csv"
    path.write_bytes(content)
    return path


async def read_all(storage: S3Storage, key: str) -> list[bytes]:
    return [chunk async for chunk in storage.stream(key)]


async def test_a_large_file_is_uploaded_in_parts_and_streamed_back(s3_endpoint, bucket, tmp_path):
    client = s3_client(s3_endpoint, "eu-west-1")
    storage = S3Storage(client, bucket, tmp_path, multipart_threshold=5 * MIB,
                        part_size=5 * MIB)
    content = os.urandom(12 * MIB)
    path = scratch_file(storage, 7, content)

    assert storage.keep(path, "1/7/export.csv") == 12 * MIB
    assert not path.exists()  # the scratch copy is gone once the bucket holds it
    head = client.head_object(Bucket=bucket, Key="1/7/export.csv")
    assert head["ContentLength"] == 12 * MIB
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of 3 parts

    chunks = await read_all(storage, "1/7/export.csv")
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 256 * 1024  # streamed
    assert b"".join(chunks) == content
    assert storage.exists("1/7/export.csv")
    storage.delete("1/7/export.csv")
    assert not storage.exists("1/7/export.csv")


async def test_a_small_file_is_one_upload(s3_endpoint, bucket, tmp_path):
    client = s3_client(s3_endpoint, "eu-west-1")
    storage = S3Storage(client, bucket, tmp_path)
    path = scratch_file(storage, 8, b"Record ID\r\n1\r\n")
    assert storage.keep(path, "1/8/export.csv") == 14
    assert "-" not in client.head_object(Bucket=bucket, Key="1/8/export.csv")["ETag"]
    assert b"".join(await read_all(storage, "1/8/export.csv")) == b"Record ID\r\n1\r\n"
    assert not storage.exists("1/9/export.csv")
    storage.discard_scratch(8)
    assert not (tmp_path / ".scratch" / "8").exists()


async def test_the_setting_picks_the_bucket_and_its_prefix(s3_endpoint, bucket, tmp_path):
    settings = Settings(**service_env(
        "EXPORTS_", storage="s3", s3_bucket=bucket, s3_endpoint_url=s3_endpoint,
        s3_region="eu-west-1", s3_prefix="exports/", storage_dir=tmp_path))
    storage = open_storage(settings)
    assert isinstance(storage, S3Storage)
    storage.keep(scratch_file(storage, 9, b"x"), "1/9/e.csv")
    listed = s3_client(s3_endpoint, "eu-west-1").list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["exports/1/9/e.csv"]


def test_s3_storage_without_a_bucket_is_refused_naming_the_setting(tmp_path):
    with pytest.raises(ValidationError, match="EXPORTS_S3_BUCKET"):
        Settings(**service_env("EXPORTS_", storage="s3", storage_dir=tmp_path))
