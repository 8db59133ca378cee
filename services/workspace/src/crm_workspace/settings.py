from pydantic_settings import SettingsConfigDict

from crm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="WORKSPACE_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/crm_workspace"
    port: int = 8003
    # The live APIs a view, a preview, a board move or a bulk action goes through,
    # always with the caller's own bearer token (never another service's database).
    records_url: str = "http://127.0.0.1:8001"
    search_url: str = "http://127.0.0.1:8002"
    upstream_timeout_seconds: float = 30.0
