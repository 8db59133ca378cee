"""Put dead-lettered messages back on their topic (docs/runbooks/README.md).

    uv run python deploy/local/replay_dlq.py crm.records.v1 --list
    uv run python deploy/local/replay_dlq.py crm.records.v1 [--consumer search-index]
        [--from-offset N] [--bootstrap HOST:PORT]

Reads `<topic>.dlq` from `--from-offset` (default: its start) to its end as it
is now, and re-publishes each message to `<topic>` with its original key
(same partition, same order per record), value and headers, minus the
`dlq_*` headers the consumer added. `ce_id` stays the same, so every
consumer group that applied the message already skips it (R-BUS-3): a
replay is safe to repeat. `--consumer` replays only what that consumer
parked. The .dlq is left as it is; the last offset read is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

DLQ_HEADER_PREFIX = "dlq_"


@dataclass(frozen=True)
class Parked:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX)]


async def read_parked(bootstrap: str, topic: str, *, from_offset: int = 0) -> list[Parked]:
    """Every message of `<topic>.dlq` from `from_offset` up to its current end."""
    dlq = f"{topic}.dlq"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([dlq])
    finally:
        await admin.close()
    partitions = [TopicPartition(dlq, p["partition"]) for p in described["partitions"]]
    if not partitions:
        raise SystemExit(f"{dlq} does not exist")
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        reader.assign(partitions)
        end = await reader.end_offsets(partitions)
        first = await reader.beginning_offsets(partitions)
        parked: list[Parked] = []
        for tp in partitions:
            start = max(from_offset, first[tp])
            if start >= end[tp]:
                continue
            reader.seek(tp, start)
            while (await reader.position(tp)) < end[tp]:
                batch = await reader.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    if record.offset < end[tp]:
                        parked.append(Parked(tp.partition, record.offset, record.key,
                                             record.value or b"", tuple(record.headers or ())))
        return parked
    finally:
        await reader.stop()


async def replay(bootstrap: str, topic: str, messages: Sequence[Parked]) -> int:
    """Publish `messages` to `topic` as they were before they were parked."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(topic, value=m.value, key=m.key,
                                    headers=m.original_headers()) for m in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return len(messages)


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topic", help="the original topic, e.g. crm.records.v1")
    parser.add_argument("--consumer", help="only messages this consumer (group) parked")
    parser.add_argument("--from-offset", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="show what is parked; replay nothing")
    parser.add_argument("--bootstrap", default=os.environ.get(
        "RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    args = parser.parse_args(argv)

    parked = await read_parked(args.bootstrap, args.topic, from_offset=args.from_offset)
    chosen = [m for m in parked
              if args.consumer is None or m.header("dlq_consumer") == args.consumer]
    for m in chosen:
        print(f"{args.topic}.dlq@{m.offset} key={(m.key or b'').decode(errors='replace')} "
              f"ce_id={m.header('ce_id')} ce_type={m.header('ce_type')} "
              f"consumer={m.header('dlq_consumer')} error={m.header('dlq_error')}")
    if args.list:
        print(f"{len(chosen)} parked message(s)")
        return
    count = await replay(args.bootstrap, args.topic, chosen)
    last = max((m.offset for m in parked), default=None)
    print(f"replayed {count} message(s) to {args.topic}; last .dlq offset read: {last}")


if __name__ == "__main__":
    asyncio.run(main())
