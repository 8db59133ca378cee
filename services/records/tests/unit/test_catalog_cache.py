"""The process's cache of parsed property catalogues (crm_records.adapters.postgres):
an entry answers only under the version it was read at, and the least recently used
goes once the cache is full."""

from datetime import UTC, datetime
from uuid import uuid4

from crm_records.adapters.postgres import CatalogCache
from crm_records.domain.properties import PropertyDefinition
from crm_records.handlers.properties import StoredProperty

AT = datetime(2026, 1, 1, tzinfo=UTC)


def rows(name: str) -> tuple[StoredProperty, ...]:
    return (StoredProperty(PropertyDefinition(name=name, label=name, type="string",
                                              field_type="text", group_name="g"), AT, AT),)


def test_an_entry_answers_only_under_its_version():
    cache, v1, v2 = CatalogCache(), uuid4(), uuid4()
    cache.put(1, "contacts", v1, rows("a"))
    assert cache.get(1, "contacts", v1) == rows("a")
    assert cache.get(1, "contacts", v2) is None
    assert cache.get(2, "contacts", v1) is None
    cache.put(1, "contacts", v2, rows("b"))
    assert cache.get(1, "contacts", v1) is None
    assert cache.get(1, "contacts", v2) == rows("b")


def test_the_least_recently_used_goes_first():
    cache, v = CatalogCache(max_entries=2), uuid4()
    cache.put(1, "contacts", v, rows("a"))
    cache.put(2, "contacts", v, rows("b"))
    assert cache.get(1, "contacts", v) is not None  # 1 is now the most recent
    cache.put(3, "contacts", v, rows("c"))
    assert cache.get(2, "contacts", v) is None
    assert cache.get(1, "contacts", v) is not None
    assert cache.get(3, "contacts", v) is not None
