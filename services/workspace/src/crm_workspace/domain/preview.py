"""The record preview's choices (R-CSW-5), pure: which associated object types
the preview lists."""

from __future__ import annotations

DEFAULT_ASSOCIATED = ("contacts", "companies", "deals", "tickets")
MAX_ASSOCIATED = 10


def associated_types(requested: str | None) -> list[str]:
    """A comma list of object types (default: contacts, companies, deals, tickets),
    without repeats; at most MAX_ASSOCIATED, each one upstream call."""
    if not requested or not requested.strip():
        return list(DEFAULT_ASSOCIATED)
    chosen = list(dict.fromkeys(t.strip() for t in requested.split(",") if t.strip()))
    if len(chosen) > MAX_ASSOCIATED:
        raise ValueError(f"at most {MAX_ASSOCIATED} associated object types")
    return chosen
