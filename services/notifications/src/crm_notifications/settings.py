from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from crm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/crm_notifications"
    port: int = 8006
    # Any SMTP relay; locally the sink of `make up` (every message a .eml file).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "CRM <no-reply@crm.local>"  # a list email has its own sender
    # The gateway as users reach it: links to records in notifications (health alerts).
    public_base_url: str = "http://127.0.0.1:8080"
    # Seconds before each retry of a failed send; after the last the email is
    # parked on the source topic's dead-letter topic with its error.
    mail_retry_delays: list[float] = [5, 30, 120, 600, 1800]
