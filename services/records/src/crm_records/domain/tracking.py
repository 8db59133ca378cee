"""Analytics identity rules (R-MKT-2).

A visitor is a tracking cookie (`hutk`). Page views are kept per cookie from
the first one; they count on a contact only once the cookie is linked to that
contact, and then all of them count, the earlier ones included.

What links a cookie: a form submission that carries it, or an identify call
(email + cookie). What never does: a click on a tracked link in a sales email.
Such a link names the recipient, but a one-to-one email is forwarded and its
links are clicked by whoever got it, so taking the click as identity would
put a stranger's browsing on the contact. The page view is still recorded
under its cookie, unlinked.

The roll-ups (page-view count, first and last page seen) are summaries of the
linked cookies' views; `summarise_page_views` is their one definition, and
the store computes the same figures in SQL for a contact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from crm_records.domain.errors import DomainError

# How a cookie came to be seen with an identity; only some of them link it.
LINKED_BY_FORM = "FORM"
LINKED_BY_IDENTIFY = "IDENTIFY"
SALES_EMAIL_CLICK = "SALES_EMAIL_CLICK"
LINKING_SOURCES = frozenset({LINKED_BY_FORM, LINKED_BY_IDENTIFY})

# Query parameters our (and the hosted CRM's) sales-email link tracking appends.
SALES_EMAIL_CLICK_PARAMETERS = frozenset({"_hsenc", "_hsmi", "crm_email_click"})

MAX_BODY_BYTES = 16 * 1024
MAX_URL_LENGTH = 2048
MAX_TITLE_LENGTH = 1000
_HUTK = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class InvalidTrackingPayload(DomainError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Tracking payload is not valid: " + "; ".join(problems))


def links_cookie(how: str) -> bool:
    """R-MKT-2: only a form submission or an identify call links a cookie to a contact."""
    return how in LINKING_SOURCES


def is_sales_email_click(url: str) -> bool:
    """A landing from a tracked link in a sales email (never an identity, see above)."""
    query = parse_qs(urlsplit(url).query)
    return any(name in query for name in SALES_EMAIL_CLICK_PARAMETERS)


def check_cookie(hutk: object) -> str:
    if not isinstance(hutk, str) or not _HUTK.match(hutk):
        raise InvalidTrackingPayload(["hutk must be 8-64 letters, digits, '-' or '_'"])
    return hutk


@dataclass(frozen=True)
class PageView:
    hutk: str
    url: str
    title: str
    at: datetime


def check_page_view(hutk: object, url: object, title: object, at: datetime | None,
                    now: datetime) -> PageView:
    """A page view to store, or InvalidTrackingPayload naming every problem."""
    problems = []
    try:
        cookie = check_cookie(hutk)
    except InvalidTrackingPayload as bad:
        problems.extend(bad.problems)
        cookie = ""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        problems.append("url must be an http(s) URL")
    elif len(url) > MAX_URL_LENGTH:
        problems.append(f"url is longer than {MAX_URL_LENGTH} characters")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE_LENGTH):
        problems.append(f"title must be text of at most {MAX_TITLE_LENGTH} characters")
    if at is not None and at.tzinfo is None:
        problems.append("at must carry a time zone (ISO-8601 with Z or an offset)")
    if problems:
        raise InvalidTrackingPayload(problems)
    return PageView(cookie, str(url), str(title or ""), at or now)


@dataclass(frozen=True)
class PageViewSummary:
    """The analytics roll-ups of one contact (all its linked cookies' views)."""

    page_views: int
    first_url: str | None
    first_seen_at: datetime | None
    last_url: str | None
    last_seen_at: datetime | None


EMPTY_SUMMARY = PageViewSummary(0, None, None, None, None)


def summarise_page_views(views: Iterable[tuple[str, datetime]]) -> PageViewSummary:
    """Count, first and last page of (url, time) views, in time order."""
    ordered = sorted(views, key=lambda view: view[1])
    if not ordered:
        return EMPTY_SUMMARY
    return PageViewSummary(len(ordered), ordered[0][0], ordered[0][1],
                           ordered[-1][0], ordered[-1][1])
