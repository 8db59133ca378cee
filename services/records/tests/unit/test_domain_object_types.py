import pytest

from crm_records.domain.errors import UnknownObjectType
from crm_records.domain.object_types import (
    ENGAGEMENT_TYPES,
    STANDARD_OBJECT_TYPES,
    custom_object_type,
    resolve_object_type,
)
from crm_records.domain.standard_properties import STANDARD_PROPERTIES


# R-REC-1
@pytest.mark.parametrize(("name", "type_id"), [
    ("contacts", "0-1"), ("companies", "0-2"), ("deals", "0-3"), ("tickets", "0-5"),
    ("services", "0-162"), ("tasks", "0-27"), ("calls", "0-48"), ("notes", "0-46"),
    ("emails", "0-49"), ("meetings", "0-47"),
])
def test_standard_types_carry_the_hosted_object_type_ids(name, type_id):
    assert resolve_object_type(name).object_type_id == type_id
    assert resolve_object_type(type_id).name == name


# R-REC-1
def test_singular_and_mixed_case_names_resolve():
    assert resolve_object_type("contact").name == "contacts"
    assert resolve_object_type(" Company ").name == "companies"


# R-REC-1
def test_engagement_types_are_the_five_activities():
    assert ENGAGEMENT_TYPES == {"tasks", "calls", "notes", "emails", "meetings"}


# R-REC-1
def test_custom_objects_resolve_by_id_name_and_fully_qualified_name():
    cars = custom_object_type("2-123", "Cars", "car")
    assert cars.is_custom and cars.fully_qualified_name == "p_cars"
    for reference in ("2-123", "cars", "car", "p_cars", "p987_cars"):
        assert resolve_object_type(reference, [cars]) is cars


# R-REC-1
@pytest.mark.parametrize("reference", ["2-999", "p_boats", "widgets", "0-999", ""])
def test_unknown_types_are_refused(reference):
    cars = custom_object_type("2-123", "cars", "car")
    with pytest.raises(UnknownObjectType):
        resolve_object_type(reference, [cars])


# R-REC-1
def test_a_custom_type_needs_a_custom_id():
    with pytest.raises(UnknownObjectType):
        custom_object_type("0-1", "cars", "car")


# R-SRCH-1 (the default searchable properties are real properties of each type)
def test_default_searchable_properties_exist_on_their_type():
    for object_type in STANDARD_OBJECT_TYPES:
        assert object_type.default_searchable
        missing = set(object_type.default_searchable) - set(STANDARD_PROPERTIES[object_type.name])
        assert not missing, (object_type.name, missing)
        assert object_type.primary_display_property in STANDARD_PROPERTIES[object_type.name]


def test_contacts_and_companies_search_their_hosted_defaults():
    assert {"firstname", "lastname", "email", "phone", "company"} <= set(
        resolve_object_type("contacts").default_searchable)
    assert {"name", "domain", "website", "phone"} <= set(
        resolve_object_type("companies").default_searchable)
    assert "dealname" in resolve_object_type("deals").default_searchable
    assert {"subject", "content"} <= set(resolve_object_type("tickets").default_searchable)
