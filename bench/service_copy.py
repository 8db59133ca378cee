"""A copy of one of our services as a child process of a bench.

The copy gets a throwaway database (its own migrations run at start), a free
port, and consumer groups of its own that start at the topics' current end,
so it neither replays the backlog earlier runs left on the bus nor takes
partitions from the running platform's consumers. Stopped and dropped on exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Iterable
from pathlib import Path

import httpx

from crm_contracts.topics import TopicSpec
from crm_platform.testing import (
    commit_group_at_end,
    drop_database,
    throwaway_database_url,
    unique_group_prefix,
)

ROOT = Path(__file__).resolve().parents[1]
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServiceCopy:
    """`crm-<service> serve` with `<PREFIX>_DATABASE_URL`, `_PORT` and
    `_CONSUMER_GROUP_PREFIX` of its own; `groups` are (group name without the
    prefix, topic) pairs to start at the end; `env` adds settings."""

    def __init__(self, service: str, database_url: str, groups: Iterable[tuple[str, TopicSpec]],
                 env: dict[str, str] | None = None) -> None:
        self.service = service
        self.setting = service.upper()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = throwaway_database_url(database_url, "benchcopy")
        self.prefix = unique_group_prefix(f"bench-{service}")
        self.groups = list(groups)
        self.env = env or {}
        self.log = ROOT / ".local" / "run" / f"bench-{service}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ServiceCopy:
        for group, topic in self.groups:
            await commit_group_at_end(KAFKA, f"{self.prefix}{group}", topic)
        env = {**os.environ, f"{self.setting}_PORT": str(self.port),
               f"{self.setting}_DATABASE_URL": self.database_url,
               f"{self.setting}_CONSUMER_GROUP_PREFIX": self.prefix, **self.env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as log:
            self.process = await asyncio.create_subprocess_exec(
                "uv", "run", "--package", f"crm-{self.service}", f"crm-{self.service}", "serve",
                cwd=ROOT, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True)
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            for _ in range(240):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                if self.process.returncode is not None:
                    break
                await asyncio.sleep(0.5)
        await self.__aexit__()
        raise RuntimeError(f"the {self.service} copy did not start; see {self.log}")

    async def __aexit__(self, *exc: object) -> None:
        if self.process and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: uv and the service
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        await drop_database(self.database_url)
