"""Record-level visibility and edit scope in the records use cases, on the
in-memory store (R-AUTH-1, R-AUTH-3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_platform.identity.principal import ObjectScope, Principal
from crm_records.handlers.records import Actor, RecordNotFound, RecordsHandler
from crm_records.handlers.visibility import RecordNotEditable, owner_of

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
ACCOUNT = 7
PLATFORM = Actor(account_id=ACCOUNT, user_id=None, source="INTEGRATION")


def user(user_id: int, view: str, edit: str, mates: set[int] = frozenset()) -> Principal:
    return Principal(ACCOUNT, user_id, "t", team_ids=frozenset({1}) if mates else frozenset(),
                     team_member_ids=frozenset(mates),
                     object_scopes={"contacts": ObjectScope(view, edit)})


async def seeded(uow) -> tuple[RecordsHandler, dict[str, int]]:
    """Contacts owned by 70 (the user), 71 (a team mate), 72 (a stranger), and nobody."""
    handler = RecordsHandler(uow, clock=lambda: NOW)
    uow.state.users[ACCOUNT] = {70, 71, 72}
    made = await handler.create(PLATFORM, "contacts", [
        {"firstname": "Mine", "hubspot_owner_id": "70"},
        {"firstname": "Mate", "hubspot_owner_id": "71"},
        {"firstname": "Other", "hubspot_owner_id": "72"},
        {"firstname": "Nobody"}])
    return handler, {r.properties["firstname"]: r.record_id for r in made}


def test_the_owner_is_the_owner_property_as_a_user_id():  # R-AUTH-3
    from crm_records.domain.record import new_record
    assert owner_of(new_record(1, "contacts", 5, {"hubspot_owner_id": "70"}, NOW)) == 70
    assert owner_of(new_record(1, "contacts", 5, {}, NOW)) is None
    assert owner_of(new_record(1, "contacts", 5, {"hubspot_owner_id": "x7"}, NOW)) is None


@pytest.mark.parametrize(("view", "seen"), [
    ("owned", {"Mine"}), ("team", {"Mine", "Mate"}),
    ("all", {"Mine", "Mate", "Other", "Nobody"}), ("none", set())])
async def test_reads_and_pages_show_only_the_view_scope(uow, view, seen):  # R-AUTH-3
    handler, ids = await seeded(uow)
    viewer = user(70, view, view, mates={71})
    found = await handler.read(ACCOUNT, "contacts", list(ids.values()), viewer=viewer)
    assert {r.properties["firstname"] for r in found.values()} == seen
    # Pages of one still walk every visible record in order, none skipped.
    after, listed = 0, []
    while page := await handler.page(ACCOUNT, "contacts", after=after, limit=1, viewer=viewer):
        listed += [r.properties["firstname"] for r in page]
        after = page[-1].record_id
    assert set(listed) == seen and len(listed) == len(seen)


async def test_another_accounts_records_are_never_seen_even_with_all(uow):  # R-AUTH-1
    handler, ids = await seeded(uow)
    stranger = Principal(8, 70, "t", object_scopes={"*": ObjectScope("all", "all")})
    assert await handler.read(ACCOUNT, "contacts", list(ids.values()), viewer=stranger) == {}


async def test_an_update_outside_the_view_scope_is_not_found(uow):  # R-AUTH-3
    handler, ids = await seeded(uow)
    actor = Actor(ACCOUNT, 70, viewer=user(70, "owned", "owned"))
    with pytest.raises(RecordNotFound) as missing:
        await handler.update(actor, "contacts", [(ids["Other"], {"lastname": "X"})])
    assert missing.value.record_ids == [ids["Other"]]
    with pytest.raises(RecordNotFound):
        await handler.restore(actor, "contacts", [ids["Other"]])
    # A batch archive passes over what the caller cannot see, as over an absent id.
    await handler.archive(actor, "contacts", [ids["Other"]])
    assert not uow.state.records[(ACCOUNT, "contacts", ids["Other"])].archived


async def test_a_visible_record_outside_the_edit_scope_is_refused_naming_it(uow):  # R-AUTH-3
    handler, ids = await seeded(uow)
    actor = Actor(ACCOUNT, 70, viewer=user(70, "team", "owned", mates={71}))
    with pytest.raises(RecordNotEditable) as refused:
        await handler.update(actor, "contacts", [(ids["Mate"], {"lastname": "X"})])
    assert refused.value.scope == "owned" and "'owned'" in refused.value.reason
    with pytest.raises(RecordNotEditable):
        await handler.archive(actor, "contacts", [ids["Mate"]])
    [mine] = await handler.update(actor, "contacts", [(ids["Mine"], {"lastname": "Ok"})])
    assert mine.properties["lastname"] == "Ok"
    assert uow.state.records[(ACCOUNT, "contacts", ids["Mate"])].properties.get("lastname") is None
