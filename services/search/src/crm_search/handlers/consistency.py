"""Read-your-writes: wait until the index holds the record versions a write
returned in its consistency token (R-SRCH-2)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time

import asyncpg

from crm_search.adapters.index_store import applied_versions

MAX_TOKEN_RECORDS = 100
POLL_SECONDS = 0.01


class ConsistencyTokenInvalid(ValueError):
    pass


def parse_token(token: str) -> dict[tuple[str, int], int]:
    """`base64url(json([[objectType, recordId, version], ...]))` -> wanted versions."""
    try:
        pairs = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        wanted = {(str(t), int(i)): int(v) for t, i, v in pairs}
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ConsistencyTokenInvalid(
            "X-CRM-Consistency-Token is not a token a records write returned") from exc
    if not wanted or len(wanted) > MAX_TOKEN_RECORDS:
        raise ConsistencyTokenInvalid(
            f"X-CRM-Consistency-Token must name 1 to {MAX_TOKEN_RECORDS} records")
    return wanted


async def wait_for_token(pool: asyncpg.Pool, account_id: int, token: str,
                         timeout_seconds: float, table: str = "search_documents") -> bool:
    """True once every named record is indexed at its version or newer; False past
    the bound (the caller answers anyway and says it timed out)."""
    wanted = parse_token(token)
    deadline = time.monotonic() + timeout_seconds
    while True:
        async with pool.acquire() as conn:
            applied = await applied_versions(conn, account_id, list(wanted), table)
        if all(applied.get(key, 0) >= version for key, version in wanted.items()):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
