"""Where export files live: a local folder (a volume in Kubernetes).

Files are written by the writers into `scratch(export_id)` (a folder inside
the storage root, so keeping a file is a rename on the same filesystem) and
then kept under a key `<account>/<export id>/<file name>`. Downloads stream
the file in chunks.

An S3-compatible bucket is not built yet: a second adapter with the same
four methods (scratch, keep, stream, delete) is where it goes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

CHUNK_BYTES = 256 * 1024


class LocalStorage:
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
