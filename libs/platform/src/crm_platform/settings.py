"""The settings every service has. A service subclasses PlatformSettings with
its own env_prefix (RECORDS_, SEARCH_, ...); nothing is read at import time."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/postgres"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    # Signs and verifies bearer tokens; a comma-separated list rotates keys.
    token_secret: SecretStr
    # Guards the operator API (creating accounts); unset disables it.
    operator_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # HTTP worker processes (crm_platform.runner): 2 uses both cores of a small node.
    workers: int = 1
    db_pool_min: int = 2
    db_pool_max: int = 10
    # Background work a replica runs besides HTTP; tests switch parts off.
    run_outbox_relay: bool = True
    run_consumers: bool = True
    # Prepended to every consumer group name: lets a test run its own copy of a
    # service beside the running one without splitting partitions with it.
    consumer_group_prefix: str = ""
    # How long a consumer that took less than a full batch waits before the next one
    # (crm_platform.broker): fewer, larger batches for less CPU, at up to ~2x this in
    # latency per hop. 0 takes each event as soon as it arrives.
    consumer_linger_ms: int = Field(default=100, ge=0, le=5000)
    # How long the outbox relay, woken by a commit, waits before it reads the outbox
    # (crm_platform.outbox): the commits of that moment go to Kafka together.
    outbox_linger_ms: int = Field(default=20, ge=0, le=1000)
    # Requests per token per 10-second window (the hosted CRM's burst window).
    rate_limit_per_10s: int = 190
    log_level: str = "INFO"
