"""Create every Kafka topic of crm_contracts.topics.ALL_TOPICS that is missing.

The broker refuses to create topics by itself (auto.create.topics.enable=false),
so this is the one place topics come from locally. Existing topics are left
as they are. Waits up to 60 s for the broker to answer first.

    uv run python deploy/local/create_topics.py [--bootstrap HOST:PORT]
"""

import argparse
import asyncio
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from crm_contracts.topics import ALL_TOPICS, TopicSpec

WAIT_FOR_BROKER_S = 60


def default_bootstrap() -> str:
    # A user pointing the services at another Kafka sets RECORDS_KAFKA_BOOTSTRAP_SERVERS.
    return (
        os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        or os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS")
        or "127.0.0.1:19092"
    )


async def connected_admin(bootstrap: str) -> tuple[AIOKafkaAdminClient, set[str]]:
    """An admin client that has answered list_topics, and the topics it listed."""
    deadline = time.monotonic() + WAIT_FOR_BROKER_S
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        try:
            await admin.start()
            return admin, set(await admin.list_topics())
        except (KafkaError, OSError) as error:
            await admin.close()
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"Kafka at {bootstrap} did not answer in {WAIT_FOR_BROKER_S}s: {error!r}"
                ) from error
            await asyncio.sleep(0.5)


def new_topic(spec: TopicSpec) -> NewTopic:
    return NewTopic(
        name=spec.name,
        num_partitions=spec.partitions,
        replication_factor=1,
        topic_configs={"retention.ms": str(spec.retention_ms)},
    )


async def create_missing(bootstrap: str) -> None:
    admin, existing = await connected_admin(bootstrap)
    try:
        missing = [spec for spec in ALL_TOPICS if spec.name not in existing]
        if missing:
            response = await admin.create_topics([new_topic(spec) for spec in missing])
            # The admin client returns per-topic error codes instead of raising.
            for name, code, *message in response.topic_errors:
                if code and for_code(code) is not TopicAlreadyExistsError:
                    error = for_code(code).__name__
                    raise SystemExit(f"could not create {name}: {error} {message}")
        for spec in missing:
            print(f"created {spec.name} ({spec.partitions} partitions)")
        print(f"{len(ALL_TOPICS)} topics present, {len(missing)} created", file=sys.stderr)
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=default_bootstrap())
    args = parser.parse_args()
    asyncio.run(create_missing(args.bootstrap))


if __name__ == "__main__":
    main()
