"""Analytics identity use cases (R-MKT-2): page views per visitor cookie, the
identify call, cookie linking, and the page-view roll-ups of a contact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from crm_records.domain import tracking
from crm_records.domain.errors import InvalidEmailAddress, InvalidPropertyValues
from crm_records.domain.properties import format_datetime, normalise_email
from crm_records.domain.tracking import PageViewSummary
from crm_records.handlers.marketing import MarketingSession, MarketingUnitOfWork, NotFound
from crm_records.handlers.records import Actor


@dataclass(frozen=True)
class Identified:
    contact_id: int
    created: bool


def analytics_values(summary: PageViewSummary) -> dict[str, str | None]:
    """The roll-ups as the contact's read-only hs_analytics_* properties."""
    def moment(at: datetime | None) -> str | None:
        return None if at is None else format_datetime(at)
    return {"hs_analytics_num_page_views": str(summary.page_views),
            "hs_analytics_first_url": summary.first_url,
            "hs_analytics_last_url": summary.last_url,
            "hs_analytics_first_timestamp": moment(summary.first_seen_at),
            "hs_analytics_last_timestamp": moment(summary.last_seen_at)}


async def refresh_contact_rollups(session: MarketingSession, account_id: int, contact_id: int,
                                  now: datetime) -> None:
    """Recompute the contact's page-view roll-ups and write them onto the contact as a
    trusted ANALYTICS write in the same transaction (history and events follow; an
    unchanged roll-up writes nothing)."""
    summary = await session.store.refresh_rollup(account_id, contact_id, now)
    if not await session.store.contact_properties(account_id, [contact_id]):
        return  # archived or merged away: the roll-up table keeps the figures
    actor = Actor(account_id, None, "ANALYTICS", "pageviews", trusted=True)
    try:
        await session.records.update(actor, "contacts", [(contact_id,
                                                          analytics_values(summary))])
    except InvalidPropertyValues:
        # An account whose contact catalogue was seeded before these properties existed:
        # its roll-ups stay readable from /tracking/v1/.../contacts/{id} only.
        return


async def link_visitor(session: MarketingSession, account_id: int, hutk: str, contact_id: int,
                       how: str, now: datetime) -> None:
    """Link a cookie to a contact (only by a form or identify call) and bring the
    roll-ups of the contact, and of any contact the cookie leaves, up to date."""
    if not tracking.links_cookie(how):
        raise ValueError(f"{how} never links a visitor cookie (R-MKT-2)")
    previous = await session.store.link_cookie(account_id, hutk, contact_id, how, now)
    await refresh_contact_rollups(session, account_id, contact_id, now)
    if previous is not None:
        await refresh_contact_rollups(session, account_id, previous, now)


async def find_or_create_contact(session: MarketingSession, actor: Actor, address: str,
                                 new_values: dict[str, str],
                                 update_values: dict[str, str]) -> Identified:
    """The contact holding `address` (updated with `update_values`), or a new one.
    The address is locked until commit, so concurrent first writes make one contact."""
    await session.store.lock_address(actor.account_id, address)
    existing = await session.store.contact_by_email(actor.account_id, address)
    if existing is not None:
        if update_values:
            await session.records.update(actor, "contacts", [(existing, update_values)])
        return Identified(existing, False)
    [created] = await session.records.create(actor, "contacts", [new_values])
    return Identified(created.record_id, True)


class TrackingHandler:
    def __init__(self, unit_of_work: MarketingUnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def page_view(self, portal_id: int, hutk: object, url: object, title: object,
                        at: datetime | None) -> int | None:
        """Record one view; the contact it counts on, or None while the cookie is unlinked.
        A landing from a sales-email link is recorded but identifies no one."""
        now = self.clock()
        view = tracking.check_page_view(hutk, url, title, at, now)
        async with self.unit_of_work() as session:
            if not await session.store.account_exists(portal_id):
                raise NotFound("portal", portal_id)
            added = await session.store.add_page_view(
                portal_id, view, tracking.is_sales_email_click(view.url))
            contact_id = await session.store.cookie_contact(portal_id, view.hutk)
            if contact_id is not None and added:
                await refresh_contact_rollups(session, portal_id, contact_id, now)
        return contact_id

    async def identify(self, portal_id: int, email: object, hutk: object) -> Identified:
        """Link the cookie to the contact with this address; an unknown address makes a
        new contact with source ANALYTICS, whose stage is subscriber (R-LIFE-3)."""
        now = self.clock()
        problems = []
        try:
            address = normalise_email(email)
        except InvalidEmailAddress:
            problems.append("email must be an email address")
        try:
            cookie = tracking.check_cookie(hutk)
        except tracking.InvalidTrackingPayload as bad:
            problems.extend(bad.problems)
        if problems:
            raise tracking.InvalidTrackingPayload(problems)
        async with self.unit_of_work() as session:
            if not await session.store.account_exists(portal_id):
                raise NotFound("portal", portal_id)
            actor = Actor(portal_id, None, "ANALYTICS", f"hutk:{cookie}")
            identified = await find_or_create_contact(session, actor, address,
                                                      {"email": address}, {})
            await link_visitor(session, portal_id, cookie, identified.contact_id,
                               tracking.LINKED_BY_IDENTIFY, now)
        return identified

    async def analytics(self, account_id: int,
                        contact_id: int) -> tuple[PageViewSummary, datetime | None]:
        """The contact's page-view roll-ups and when they were last brought up to date."""
        async with self.unit_of_work() as session:
            if not await session.store.contact_properties(account_id, [contact_id]):
                raise NotFound("contact", contact_id)
            return await session.store.rollup(account_id, contact_id)
