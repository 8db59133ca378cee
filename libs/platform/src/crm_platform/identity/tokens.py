"""Signed bearer tokens, standard library only (R-AUTH-1).

A token is `crm1.<payload>.<signature>`: the payload is compact JSON in
unpadded base64url, the signature HMAC-SHA256 over `crm1.<payload>`, also
base64url. The payload names the account, the user, the token id (jti) and
its lifetime, and nothing else: permissions are looked up on every request
in the identity directory, so a changed permission or a revoked token
applies at once instead of when the token expires.

Key rotation: the secret may list several keys separated by commas. The first
signs; every one verifies. Rotate by putting the new key first, and drop the
old one once the longest-lived token signed with it has expired.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crm_platform.identity.errors import InvalidToken

PREFIX = "crm1"
MAX_TOKEN_LENGTH = 4096  # far above a real token; refuses huge headers before any work
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")

# Reasons carried by InvalidToken.
MALFORMED = "malformed"
BAD_SIGNATURE = "bad_signature"
EXPIRED = "expired"


@dataclass(frozen=True)
class TokenClaims:
    account_id: int
    user_id: int
    token_id: str
    issued_at: datetime
    expires_at: datetime


def signing_keys(secret: str) -> list[bytes]:
    """The keys in a comma-separated secret, signing key first."""
    keys = [key.strip().encode() for key in secret.split(",") if key.strip()]
    if not keys:
        raise ValueError("the token secret holds no key")
    return keys


def issue_token(
    secret: str,
    account_id: int,
    user_id: int,
    ttl: timedelta,
    now: datetime | None = None,
    token_id: str | None = None,
) -> tuple[str, TokenClaims]:
    """A new token for one user of one account, signed with the first key."""
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    issued_at = _whole_seconds(now or datetime.now(UTC))
    claims = TokenClaims(
        account_id=account_id,
        user_id=user_id,
        # Hex: an id that began with '-' (1 in 64 urlsafe ones) read as an option to
        # `crm-admin token revoke --token-id <id>` and the revoke failed.
        token_id=token_id or secrets.token_hex(16),
        issued_at=issued_at,
        expires_at=_whole_seconds(issued_at + ttl),
    )
    payload = {
        "acc": claims.account_id,
        "usr": claims.user_id,
        "jti": claims.token_id,
        "iat": int(claims.issued_at.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }
    body = f"{PREFIX}.{_b64encode(json.dumps(payload, separators=(',', ':')).encode())}"
    return f"{body}.{_b64encode(_sign(signing_keys(secret)[0], body))}", claims


def verify_token(secret: str, token: str, now: datetime | None = None) -> TokenClaims:
    """The claims of a genuine, unexpired token; InvalidToken for anything else."""
    keys = signing_keys(secret)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(MALFORMED)
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not all(_BASE64URL.fullmatch(p) for p in parts[1:]):
        raise InvalidToken(MALFORMED)
    body, signature_text = f"{parts[0]}.{parts[1]}", parts[2]
    signature = _b64decode(signature_text)
    # Only the canonical encoding is accepted, so one token has one spelling.
    if signature is None or _b64encode(signature) != signature_text:
        raise InvalidToken(MALFORMED)
    # Check every key (no early exit) so timing says nothing about which matched.
    matches = [hmac.compare_digest(_sign(key, body), signature) for key in keys]
    if not any(matches):
        raise InvalidToken(BAD_SIGNATURE)
    claims = _parse_payload(parts[1])
    if _require_aware(now or datetime.now(UTC)) >= claims.expires_at:
        raise InvalidToken(EXPIRED)
    return claims


def _parse_payload(text: str) -> TokenClaims:
    raw = _b64decode(text)
    try:
        payload = json.loads(raw) if raw is not None else None
    except ValueError:  # bad JSON or bad UTF-8
        payload = None
    if not isinstance(payload, dict):
        raise InvalidToken(MALFORMED)
    account_id, user_id = payload.get("acc"), payload.get("usr")
    issued_at, expires_at, jti = payload.get("iat"), payload.get("exp"), payload.get("jti")
    # `type(...) is int` because bool is an int in Python; a token never carries one.
    if (
        type(account_id) is not int
        or type(user_id) is not int
        or type(issued_at) is not int
        or type(expires_at) is not int
        or not isinstance(jti, str)
        or not jti
    ):
        raise InvalidToken(MALFORMED)
    try:
        return TokenClaims(
            account_id=account_id,
            user_id=user_id,
            token_id=jti,
            issued_at=datetime.fromtimestamp(issued_at, UTC),
            expires_at=datetime.fromtimestamp(expires_at, UTC),
        )
    except (OverflowError, OSError, ValueError) as error:  # timestamps out of range
        raise InvalidToken(MALFORMED) from error


def _sign(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _whole_seconds(moment: datetime) -> datetime:
    return _require_aware(moment).replace(microsecond=0)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment
