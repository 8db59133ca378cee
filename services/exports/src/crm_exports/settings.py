from pathlib import Path

from pydantic_settings import SettingsConfigDict

from crm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="EXPORTS_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:15432/crm_exports"
    port: int = 8005
    # Where rows come from: the search service's HTTP API, called as the
    # requesting user so visibility applies inside the query (R-AUTH-3).
    search_url: str = "http://127.0.0.1:8002"
    # Associations, associated records' names and list members come from the
    # records service, called as the requesting user too.
    records_url: str = "http://127.0.0.1:8001"
    # Saved views (filters, columns, sorts) come from the workspace service.
    workspace_url: str = "http://127.0.0.1:8003"
    # Folder of the local storage adapter (a volume in Kubernetes).
    storage_dir: Path = Path(".local/run/exports")
    # Base of the download links handed out (the gateway, as users reach it).
    public_base_url: str = "http://127.0.0.1:8080"
    # Exports run at the same time by one replica (each one account's oldest).
    # Not `workers`: that platform setting is the number of HTTP processes.
    job_workers: int = 2
    # Records asked of the hosted search per page (its maximum is 200): exports
    # of fewer than 10,000 records, in the view's order.
    page_size: int = 200
    # Records per page of search's export scan (its maximum is 10,000): larger
    # exports, with their associated records' names in the same call.
    scan_page_size: int = 5000
