"""Where export files live: a local folder (a volume in Kubernetes) by default,
an S3-compatible bucket by setting (EXPORTS_STORAGE=s3).

Both adapters have the same methods. The writers always write to a local
`scratch(export_id)` folder (a writer needs a file it can seek in: zipfile,
xlwt); `keep` then makes the finished file the export's, under a key
`<account>/<export id>/<file name>`: a rename on the same filesystem for the
local folder, a streamed (multipart above 8 MiB) upload for a bucket. Downloads
stream the file in chunks from either.

`keep`, `exists` and `delete` block (disk or network): async callers run them
in a thread.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

CHUNK_BYTES = 256 * 1024
# A bucket upload goes in parts above this size; each part is read from the
# file as it is sent, so memory holds at most MULTIPART_CONCURRENCY parts.
MULTIPART_THRESHOLD_BYTES = 8 * 1024 * 1024
MULTIPART_PART_BYTES = 8 * 1024 * 1024
MULTIPART_CONCURRENCY = 2


class Storage(Protocol):
    def scratch(self, export_id: int) -> Path: ...

    def discard_scratch(self, export_id: int) -> None: ...

    def keep(self, path: Path, key: str) -> int: ...

    def stream(self, key: str) -> AsyncIterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


class ScratchFolders:
    """Local folders the writers write in, one per export, under `root/.scratch`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def scratch(self, export_id: int) -> Path:
        """An empty folder to write this export's file in (left-overs of a crash removed)."""
        folder = self.root / ".scratch" / str(export_id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def discard_scratch(self, export_id: int) -> None:
        shutil.rmtree(self.root / ".scratch" / str(export_id), ignore_errors=True)


class LocalStorage(ScratchFolders):
    def keep(self, path: Path, key: str) -> int:
        """Move a finished file under `key`; answers its size in bytes."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target.stat().st_size

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        with self._path(key).open("rb") as source:
            while chunk := await asyncio.to_thread(source.read, CHUNK_BYTES):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # keys are ours, but never leave the root
            raise ValueError(f"storage key {key!r} points outside the storage folder")
        return path


class S3Storage(ScratchFolders):
    """Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), under `prefix`.

    `client` is a boto3 S3 client (thread-safe, shared). Files are written in a
    local scratch folder under `scratch_root` first, uploaded by `keep` and
    then removed locally.
    """

    def __init__(self, client: Any, bucket: str, scratch_root: Path, *, prefix: str = "",
                 multipart_threshold: int = MULTIPART_THRESHOLD_BYTES,
                 part_size: int = MULTIPART_PART_BYTES) -> None:
        from boto3.s3.transfer import TransferConfig

        super().__init__(scratch_root)
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=part_size,
            max_concurrency=MULTIPART_CONCURRENCY, io_chunksize=CHUNK_BYTES)

    def keep(self, path: Path, key: str) -> int:
        """Upload a finished file under `key` (in parts when large); answers its size."""
        size = Path(path).stat().st_size
        self.client.upload_file(str(path), self.bucket, self.prefix + key, Config=self._transfer)
        Path(path).unlink()
        return size

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        answer = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket,
                                         Key=self.prefix + key)
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK_BYTES):
                yield chunk
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def s3_client(endpoint_url: str | None, region: str | None) -> Any:
    """A boto3 S3 client; credentials from the standard AWS chain (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, a profile, an instance or pod role). A custom endpoint
    (MinIO, Ceph) is addressed by path, as those servers expect."""
    import boto3
    from botocore.config import Config

    addressing = "path" if endpoint_url else "auto"
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": addressing},
                                      retries={"mode": "standard", "max_attempts": 5}))
