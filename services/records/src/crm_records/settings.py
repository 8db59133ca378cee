from pydantic_settings import SettingsConfigDict

from crm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="RECORDS_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/crm_records"
    port: int = 8001
    # R-REC-11: how long an archived record may still be restored.
    restore_window_days: int = 90
    # The service's own consumers (roll-ups, deal automation, lists, health scores) get
    # connections of their own: on the API's pool they queued behind every request in
    # flight, which was most of their lag under load (bench_rollups). One per consumer
    # group (subscriptions.py registers six), so none waits for another either.
    consumer_pool_max: int = 6
