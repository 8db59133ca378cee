"""Analytics identity rules: what links a visitor cookie, page-view checks and
the page-view roll-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_records.domain import tracking

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_only_a_form_or_identify_call_links_a_cookie():
    # R-MKT-2
    assert tracking.links_cookie(tracking.LINKED_BY_FORM)
    assert tracking.links_cookie(tracking.LINKED_BY_IDENTIFY)
    assert not tracking.links_cookie(tracking.SALES_EMAIL_CLICK)
    assert not tracking.links_cookie("PAGE_VIEW")


def test_a_landing_from_a_sales_email_link_is_recognised():
    # R-MKT-2: recorded, never taken as identity
    assert tracking.is_sales_email_click("https://x.com/p?_hsenc=abc&_hsmi=1")
    assert tracking.is_sales_email_click("https://x.com/p?crm_email_click=42")
    assert not tracking.is_sales_email_click("https://x.com/p?utm_source=mail")


def test_page_views_are_checked_and_every_problem_named():
    # R-MKT-2: malformed payloads are refused with a clear error
    with pytest.raises(tracking.InvalidTrackingPayload) as refused:
        tracking.check_page_view("x", "javascript:alert(1)", 5, None, NOW)
    assert len(refused.value.problems) == 3
    view = tracking.check_page_view("cookie-123", "https://x.com/", None, None, NOW)
    assert view == tracking.PageView("cookie-123", "https://x.com/", "", NOW)


def test_a_time_without_zone_is_refused():
    with pytest.raises(tracking.InvalidTrackingPayload):
        tracking.check_page_view("cookie-123", "https://x.com/", "", datetime(2026, 1, 1), NOW)


def test_summary_counts_and_orders_by_time_not_arrival():
    # R-MKT-2 R-ROLL-2: a late view moves the first page, not the last
    views = [("https://x.com/b", NOW), ("https://x.com/a", NOW - timedelta(days=1)),
             ("https://x.com/c", NOW + timedelta(hours=1))]
    summary = tracking.summarise_page_views(views)
    assert summary.page_views == 3
    assert (summary.first_url, summary.first_seen_at) == ("https://x.com/a",
                                                          NOW - timedelta(days=1))
    assert (summary.last_url, summary.last_seen_at) == ("https://x.com/c",
                                                        NOW + timedelta(hours=1))
    assert tracking.summarise_page_views([]) == tracking.EMPTY_SUMMARY
