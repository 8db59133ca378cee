from pathlib import Path
from typing import Literal

from pydantic import model_validator
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
    # Where finished files are kept: "local" (the folder below) or "s3" (a bucket).
    storage: Literal["local", "s3"] = "local"
    # Folder of the local storage adapter (a volume in Kubernetes); with "s3",
    # only the scratch files being written live here (an emptyDir will do).
    storage_dir: Path = Path(".local/run/exports")
    # The bucket (with storage "s3"); credentials come from the standard AWS
    # chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, a pod role).
    s3_bucket: str = ""
    # An S3-compatible server (MinIO, Ceph, ...); unset means AWS S3 itself.
    s3_endpoint_url: str | None = None
    # Unset: AWS_REGION / AWS_DEFAULT_REGION or the profile's region.
    s3_region: str | None = None
    # Prepended to every key, to share a bucket ("exports/" say).
    s3_prefix: str = ""
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

    @model_validator(mode="after")
    def _bucket_named_for_s3(self) -> "Settings":
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError(
                "EXPORTS_STORAGE=s3 needs EXPORTS_S3_BUCKET, the bucket to keep files in")
        return self
