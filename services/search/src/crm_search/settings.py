from pydantic_settings import SettingsConfigDict

from crm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SEARCH_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/crm_search"
    port: int = 8002
    # The longest a search waits for a consistency token before answering anyway.
    consistency_wait_seconds: float = 5.0
    # How long a map of property types is reused before it is read again.
    property_types_cache_seconds: float = 2.0
    # The search service writes no events of its own yet: no relay needed.
    run_outbox_relay: bool = False
