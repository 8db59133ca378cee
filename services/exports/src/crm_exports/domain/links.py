"""Signed, expiring download links (R-EXP-5).

A token is `<export id>.<expiry as unix seconds>.<signature>`, the signature
being HMAC-SHA256 over "<export id>.<expiry>" with the service's secret,
base64url without padding. The link in the email lives 30 days (as the hosted
CRM's); the one returned by the status call lives 5 minutes, long enough to
start a download and short enough that a leaked log line is worthless.

The token carries its own expiry, so no store is read to check it; a link is
valid up to but not including its expiry second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

EMAIL_LINK_TTL = timedelta(days=30)
STATUS_LINK_TTL = timedelta(minutes=5)


class LinkTampered(ValueError):
    """The token was not signed by us (or is malformed): answer 403."""


class LinkExpired(ValueError):
    """The token is genuine but its time is over: answer 410."""


def _signature(secret: str | bytes, payload: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _unix_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("link times must be timezone-aware")
    return int(moment.timestamp())


def sign_download_link(secret: str | bytes, export_id: str | int, expires_at: datetime) -> str:
    export_id = str(export_id)
    if not export_id or "." in export_id:
        raise ValueError("an export id is non-empty and has no '.'")
    payload = f"{export_id}.{_unix_seconds(expires_at)}"
    return f"{payload}.{_signature(secret, payload)}"


def verify_download_link(secret: str | bytes, token: str, now: datetime) -> str:
    """The export id a genuine, unexpired token grants; else LinkTampered or LinkExpired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise LinkTampered("malformed download link")
    export_id, expiry, signature = parts
    expected = _signature(secret, f"{export_id}.{expiry}")
    # Constant time, so the signature cannot be guessed byte by byte from timings.
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise LinkTampered("download link signature does not match")
    if _unix_seconds(now) >= int(expiry):
        raise LinkExpired(
            f"download link expired at {datetime.fromtimestamp(int(expiry), UTC).isoformat()}"
        )
    return export_id
