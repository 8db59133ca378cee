"""Reading every row through search (offset pages of the hosted search below its
cap, the export scan's keyset pages above) and the job rules around it."""

import json

import httpx
import pytest

from crm_exports.adapters.search_client import SearchClient, SearchRefused, UserToken
from crm_exports.domain.associations import AssociationMode
from crm_exports.domain.jobs import (
    XLS_MAX_ROWS,
    CannotCancel,
    JobStatus,
    TooManyRowsForXls,
    check_cancelable,
    check_xls_rows,
    progress_percent,
)
from crm_exports.domain.paging import keyset_page_request, offset_page_request, uses_keyset
from crm_exports.domain.requests import SearchSpec
from crm_exports.domain.rows import AssociatedRecord
from crm_platform.identity.tokens import verify_token

SECRET = "s3cret"
GROUPS = [{"filters": [{"propertyName": "a", "operator": "EQ", "value": "1"}]},
          {"filters": [{"propertyName": "b", "operator": "EQ", "value": "2"}]}]


def test_keyset_filter_is_anded_into_every_group():  # R-EXP-1
    body = keyset_page_request(SearchSpec(filter_groups=GROUPS), ["email"], 41, 200)
    greater = {"propertyName": "hs_object_id", "operator": "GT", "value": "41"}
    assert [g["filters"][-1] for g in body["filterGroups"]] == [greater, greater]
    assert body["filterGroups"][0]["filters"][0]["propertyName"] == "a"
    assert body["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    assert GROUPS[0]["filters"][-1]["propertyName"] == "a"  # the view's own filters untouched


def test_keyset_without_filters_makes_one_group():  # R-EXP-1
    body = keyset_page_request(SearchSpec(), ["email"], 0, 200)
    assert body["filterGroups"] == [{"filters": [
        {"propertyName": "hs_object_id", "operator": "GT", "value": "0"}]}]


def test_offset_paging_keeps_the_view_sorts_below_the_cap():  # R-EXP-1
    sorts = [{"propertyName": "lastname", "direction": "DESCENDING"}]
    body = offset_page_request(SearchSpec(sorts=sorts, query="x"), ["lastname"], 400, 200)
    assert body["sorts"] == sorts and body["after"] == 400 and body["query"] == "x"
    assert not uses_keyset(9_999) and uses_keyset(10_000)


class FakeSearch:
    """The search API's paging rules over ids 1..n: offset capped at 10,000, GT on ids."""

    def __init__(self, n: int) -> None:
        self.ids = list(range(1, n + 1))
        self.calls: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)
        self.calls.append(query)
        assert verify_token(SECRET, request.headers["authorization"].split()[1]).user_id == 9
        if query["after"] + query["limit"] > 10_000:
            return httpx.Response(400, json={"message": "Paging is limited to 10000 results"})
        ids = self.ids
        for group in query["filterGroups"]:
            for f in group["filters"]:
                ids = [i for i in ids if i > int(f["value"])]
        page = ids[query["after"]:query["after"] + query["limit"]]
        return httpx.Response(200, json={"total": min(len(ids), 10_000), "results": [
            {"id": str(i), "properties": {"hs_object_id": str(i)}} for i in page]})


def client(fake: FakeSearch) -> SearchClient:
    return SearchClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)),
                        "http://search", page_size=200)


@pytest.mark.parametrize("n", [0, 450, 9_999])
async def test_pages_reach_every_record_once_below_the_search_cap(n):  # R-EXP-1
    fake = FakeSearch(n)
    search = client(fake)
    token = UserToken(SECRET, 1, 9)
    first = await search.first_page("contacts", SearchSpec(), ["email"], token)
    seen = [r.id for page in [p async for p in search.pages(
        "contacts", SearchSpec(), ["email"], token, first)] for r in page]
    assert seen == list(range(1, n + 1))


class FakeScan:
    """Search's export scan over ids 1..n: keyset pages, contact 1 with two companies."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/search/v1/export-scan/contacts"
        assert verify_token(SECRET, request.headers["authorization"].split()[1]).user_id == 9
        body = json.loads(request.content)
        self.bodies.append(body)
        ids = list(range(int(body["after"]) + 1, self.n + 1))[:body["limit"]]
        hits = [{"id": str(i), "properties": {"email": f"{i}@x.io"}, "associations": {
            "companies": ["7", "8"] if i == 1 else []}} for i in ids]
        answer: dict = {"results": hits, "associatedRecords": {"companies": {
            "7": {"name": "Acme"}, "8": {"name": None, "domain": "b.io"}} if 1 in ids else {}}}
        if len(ids) == body["limit"]:
            answer["paging"] = {"next": {"after": str(ids[-1])}}
        return httpx.Response(200, json=answer)


@pytest.mark.parametrize(("n", "mode", "cap"), [
    (0, AssociationMode.FIRST_1000, 1000), (12_345, AssociationMode.FIRST_1000, 1000),
    (10_000, AssociationMode.ALL, None)])
async def test_scan_pages_reach_every_record_past_the_cap_with_named_associations(n, mode, cap):
    # R-EXP-1 R-EXP-4: keyset pages by id, the associated records named as records would
    fake = FakeScan(n)
    search = SearchClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)),
                          "http://search", scan_page_size=5000)
    spec = SearchSpec(filter_groups=GROUPS, query="ann")
    pages = [p async for p in search.scan_pages("contacts", spec, ["email"], ["companies"],
                                                mode, UserToken(SECRET, 1, 9))]
    assert [r.id for page in pages for r in page] == list(range(1, n + 1))
    assert all(len(page) <= 5000 for page in pages)
    assert fake.bodies[0] == {
        "filterGroups": GROUPS, "query": "ann", "properties": ["email"], "after": "0",
        "limit": 5000, "associations": [
            {"toObjectType": "companies", "properties": ["name", "domain"], "limit": cap}]}
    assert len(fake.bodies) == n // 5000 + 1  # a short page is the last: no call after it
    assert [b["after"] for b in fake.bodies[1:]] == [str(p[-1].id) for p in pages][:n // 5000]
    if n:
        assert pages[0][0].associations["companies"] == [
            AssociatedRecord(7, "Acme"), AssociatedRecord(8, "b.io")]
        assert pages[0][1].associations == {"companies": []}


@pytest.mark.parametrize(("n", "limit", "more"), [
    (XLS_MAX_ROWS, XLS_MAX_ROWS, False), (XLS_MAX_ROWS + 1, XLS_MAX_ROWS, True),
    (5, 5, False), (6, 5, True), (10_000, 9_999, True), (9_999, 9_999, False)])
async def test_more_than_counts_past_the_cap_in_hops(n, limit, more):  # R-EXP-1
    fake = FakeSearch(n)
    assert await client(fake).more_than("contacts", SearchSpec(), UserToken(SECRET, 1, 9),
                                        limit) is more
    assert len(fake.calls) <= limit // 10_000 + 1


async def test_a_refused_query_is_not_retried():  # R-EXP-1
    search = SearchClient(httpx.AsyncClient(transport=httpx.MockTransport(
        lambda r: httpx.Response(400, json={"message": "unknown operator"}))), "http://s")
    with pytest.raises(SearchRefused, match="unknown operator"):
        await search.first_page("contacts", SearchSpec(), ["email"], UserToken(SECRET, 1, 9))


def test_xls_refuses_more_rows_than_a_sheet_holds():  # R-EXP-1
    check_xls_rows(XLS_MAX_ROWS)
    with pytest.raises(TooManyRowsForXls, match="CSV or XLSX"):
        check_xls_rows(XLS_MAX_ROWS + 1)


def test_only_unfinished_jobs_cancel_and_progress_is_a_share():  # R-EXP-5
    check_cancelable(JobStatus.PENDING)
    check_cancelable(JobStatus.PROCESSING)
    for final in (JobStatus.COMPLETE, JobStatus.CANCELED, JobStatus.FAILED):
        with pytest.raises(CannotCancel):
            check_cancelable(final)
    assert progress_percent(50, 200) == 25.0
    assert progress_percent(5, None) is None
