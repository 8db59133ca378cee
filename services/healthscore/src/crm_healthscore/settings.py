from pydantic_settings import SettingsConfigDict

from crm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="HEALTHSCORE_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/crm_healthscore"
    port: int = 8004
    # How often the clock recomputes the customers whose next_change_at has passed.
    # Only those are touched, so a short interval costs nothing for the others.
    clock_interval_seconds: float = 60.0
    run_clock: bool = True
    # Alerts expire this long after they fired (R-CSW-3).
    alert_days: int = 14
