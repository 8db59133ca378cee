"""handlers.associations on a fake records client: which ids are named, which
calls are made, what a page becomes (no I/O)."""

from __future__ import annotations

from crm_exports.domain.associations import AssociationMode
from crm_exports.domain.rows import AssociatedRecord, ExportRecord
from crm_exports.handlers.associations import with_associations


class FakeRecords:
    """Contacts 1..3; contact 1 has companies 10..2509, contact 2 has 11 and 99999
    (99999 hidden from this user), contact 3 none."""

    def __init__(self) -> None:
        self.name_lookups: list[list[int]] = []

    async def associated_ids(self, from_type, from_ids, to_type, token):
        assert (from_type, to_type) == ("contacts", "companies")
        links = {1: list(range(10, 2510)), 2: [11, 99999], 3: []}
        return {i: links[i] for i in from_ids}

    async def read(self, object_type, ids, properties, token):
        assert object_type == "companies" and properties == ["name", "domain"]
        self.name_lookups.append(list(ids))
        return {i: {"name": f"Co {i}"} for i in ids if i != 99999}


async def _pages(*pages):
    for page in pages:
        yield page


async def _run(mode: AssociationMode, records: FakeRecords) -> list[list[ExportRecord]]:
    page = [ExportRecord(i, {"email": f"{i}@x.com"}) for i in (1, 2, 3)]
    return [p async for p in with_associations(_pages(page), records, "contacts",
                                               ["companies"], mode, token=None)]


async def test_each_record_gets_its_visible_named_associations_capped_at_1000():
    # R-EXP-4 R-AUTH-3
    records = FakeRecords()
    [page] = await _run(AssociationMode.FIRST_1000, records)
    first, second, third = (r.associations["companies"] for r in page)
    assert len(first) == 1000 and first[0] == AssociatedRecord(10, "Co 10")
    assert second == [AssociatedRecord(11, "Co 11")]  # 99999 is not visible to the user
    assert third == []
    # names asked once per page for the ids cells can hold, each id once
    assert records.name_lookups == [list(range(10, 1010)) + [99999]]


async def test_all_mode_names_every_associated_record():  # R-EXP-4
    [page] = await _run(AssociationMode.ALL, FakeRecords())
    assert len(page[0].associations["companies"]) == 2500


async def test_without_association_columns_pages_pass_unchanged():  # R-EXP-4
    page = [ExportRecord(1, {})]
    out = [p async for p in with_associations(_pages(page), FakeRecords(), "contacts", [],
                                              AssociationMode.FIRST_1000, token=None)]
    assert out == [page]
