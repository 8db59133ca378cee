"""Property definitions reach search through crm.properties.v1: numbers compare as
numbers and dates as dates in real searches (R-SRCH-1, R-SRCH-2)."""

from __future__ import annotations

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration


async def define(platform, headers, name: str, type_: str, field_type: str) -> None:
    answer = await platform.records.post("/crm/v3/properties/contacts", headers=headers, json={
        "name": name, "label": name, "type": type_, "fieldType": field_type,
        "groupName": "contactinformation"})
    assert answer.status_code == 201, answer.text


async def ids(platform, headers, *filters: dict) -> list[str] | None:
    """Ids found, in id order; None while search has not heard of the new user yet."""
    answer = await platform.search.post("/crm/v3/objects/contacts/search", headers=headers,
                                        json={"filterGroups": [{"filters": list(filters)}],
                                              "sorts": ["hs_object_id"], "limit": 50})
    if answer.status_code == 401:
        return None
    assert answer.status_code == 200, answer.text
    return [hit["id"] for hit in answer.json()["results"]]


async def test_numbers_and_dates_compare_by_their_defined_types(platform):  # R-SRCH-1
    _, headers = await platform.new_account("typed")
    await define(platform, headers, "seats", "number", "number")
    await define(platform, headers, "renewal", "date", "date")
    made = {}
    for name, seats, renewal in (("nine", "9", "2023-01-01"), ("ten", "10", "2024-06-30")):
        created = await platform.records.post("/crm/v3/objects/contacts", headers=headers,
                                              json={"properties": {"seats": seats,
                                                                   "renewal": renewal}})
        assert created.status_code == 201, created.text
        made[name] = created.json()["id"]

    async def both_indexed() -> bool:
        has_seats = {"propertyName": "seats", "operator": "HAS_PROPERTY"}
        return await ids(platform, headers, has_seats) == sorted(made.values(), key=int)

    async def types_known() -> bool:
        # the definitions travel on their own topic: a record may be indexed first
        for name, bad in (("seats", "many"), ("renewal", "someday")):
            answer = await platform.search.post(
                "/crm/v3/objects/contacts/search", headers=headers,
                json={"filterGroups": [{"filters": [
                    {"propertyName": name, "operator": "EQ", "value": bad}]}]})
            if answer.status_code != 400:
                return False
        return True

    # A fresh consumer group replays the whole topic first: that can take a while.
    await eventually(both_indexed, timeout=600, what="both contacts indexed")
    await eventually(types_known, timeout=600, what="seats and renewal typed")
    # As strings "10" < "9" and nothing is greater than "9"; as numbers 10 is.
    seats_gt_9 = {"propertyName": "seats", "operator": "GT", "value": "9"}
    assert await ids(platform, headers, seats_gt_9) == [made["ten"]]
    # 1700000000000 is 2023-11-14: as text "2023-01-01" < "1700..." is false.
    before = {"propertyName": "renewal", "operator": "LT", "value": "1700000000000"}
    assert await ids(platform, headers, before) == [made["nine"]]
    sorted_by_seats = await platform.search.post(
        "/crm/v3/objects/contacts/search", headers=headers,
        json={"sorts": [{"propertyName": "seats", "direction": "DESCENDING"}]})
    assert [h["id"] for h in sorted_by_seats.json()["results"]] == [made["ten"], made["nine"]]


async def test_a_bad_number_is_refused_once_the_type_is_known(platform):  # R-SRCH-1
    _, headers = await platform.new_account("typed-bad")
    await define(platform, headers, "score", "number", "number")

    async def refused() -> bool:
        answer = await platform.search.post(
            "/crm/v3/objects/contacts/search", headers=headers,
            json={"filterGroups": [{"filters": [
                {"propertyName": "score", "operator": "EQ", "value": "high"}]}]})
        return answer.status_code == 400 and "score" in answer.json()["message"]

    assert await eventually(refused, timeout=600, what="score typed as a number")
