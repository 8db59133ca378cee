"""Form use cases (R-MKT-1, R-LIFE-3): form definitions, and the hosted
submission that creates or updates a contact by its standard email only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from crm_records.domain import tracking
from crm_records.domain.forms import FormDefinition, check_form, plan_submission
from crm_records.handlers.marketing import MarketingUnitOfWork, NotFound, StoredForm
from crm_records.handlers.records import Actor
from crm_records.handlers.tracking import Identified, find_or_create_contact, link_visitor


class FormsHandler:
    def __init__(self, unit_of_work: MarketingUnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def create_form(self, account_id: int, form: FormDefinition) -> StoredForm:
        now = self.clock()
        stored = StoredForm(check_form(replace(form, form_id=str(uuid.uuid4()))), now, now)
        async with self.unit_of_work() as session:
            await session.store.save_form(account_id, stored)
        return stored

    async def forms(self, account_id: int) -> list[StoredForm]:
        async with self.unit_of_work() as session:
            return list(await session.store.forms(account_id))

    async def form(self, account_id: int, form_id: str) -> StoredForm:
        async with self.unit_of_work() as session:
            found = await session.store.form(account_id, form_id)
        if found is None:
            raise NotFound("form", form_id)
        return found

    async def submit(self, portal_id: int, form_id: str, fields: Sequence[tuple[str, str]],
                     hutk: str | None = None, page_uri: str | None = None) -> Identified:
        """One submission in one transaction: the contact written with source FORM and
        the form id (R-REC-4), the submission kept, the visitor cookie linked."""
        now = self.clock()
        cookie = tracking.check_cookie(hutk) if hutk else None
        async with self.unit_of_work() as session:
            # One statement: the form of an existing portal (an unknown portal and an
            # unknown form look alike).
            stored = await session.store.form(portal_id, form_id)
            if stored is None:
                raise NotFound("form", form_id)
            form = stored.form
            plan = plan_submission(form, fields)
            actor = Actor(portal_id, None, "FORM", form_id)
            if plan.email is None:  # nothing identifies an earlier contact: a new one
                [record] = await session.records.create(
                    actor, "contacts", [plan.values_for_new_contact(form)])
                result = Identified(record.record_id, True)
            else:
                result = await find_or_create_contact(
                    session, actor, plan.email, plan.values_for_new_contact(form),
                    plan.values_for_existing_contact())
            await session.store.record_submission(portal_id, form_id, result.contact_id,
                                                  result.created, cookie, page_uri, now)
            if cookie:
                await link_visitor(session, portal_id, cookie, result.contact_id,
                                   tracking.LINKED_BY_FORM, now)
        return result
