"""Record preview (R-CSW-5): which associations it lists, and the records API calls
it makes for activities, associations and merge (through a fake transport)."""

import json

import httpx
import pytest

from crm_workspace.adapters.crm_api import CrmApi
from crm_workspace.domain.preview import DEFAULT_ASSOCIATED, associated_types


def test_associated_types_default_and_chosen_without_repeats():
    # R-CSW-5: associations in the same call as the properties
    assert associated_types(None) == list(DEFAULT_ASSOCIATED)
    assert associated_types(" deals, contacts,deals ") == ["deals", "contacts"]
    with pytest.raises(ValueError):
        associated_types(",".join(f"t{i}" for i in range(11)))


async def test_preview_calls_timeline_v4_associations_and_merge_as_the_caller():
    # R-CSW-5: activities, associations and merge go through the records API
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, dict(request.url.params),
                     request.headers["authorization"],
                     json.loads(request.content) if request.content else None))
        return httpx.Response(200, json={"results": []})

    api = CrmApi("http://records", "http://search", transport=httpx.MockTransport(answer))
    await api.timeline("tok", "companies", "5", limit=10, after="abc")
    await api.associations("tok", "companies", "5", "contacts")
    await api.merge("tok", "companies", "5", "6")
    await api.close()
    assert seen == [
        ("GET", "/crm/v3/objects/companies/5/timeline", {"limit": "10", "after": "abc"},
         "Bearer tok", None),
        ("GET", "/crm/v4/objects/companies/5/associations/contacts", {"limit": "100"},
         "Bearer tok", None),
        ("POST", "/crm/v3/objects/companies/merge", {}, "Bearer tok",
         {"primaryObjectId": "5", "objectIdToMerge": "6"})]
