"""A workspace view becomes an export request (R-EXP-1, R-EXP-3)."""

import pytest

from crm_exports.domain.requests import parse_export_request
from crm_exports.domain.views import ViewNotExportable, view_export_request

CUSTOM = {"id": "7", "tab": "customers", "objectType": "companies", "name": "Big ones",
          "standard": None,
          "filterGroups": [{"filters": [{"propertyName": "amount", "operator": "GT",
                                         "value": "10"}]},
                           {"filters": [{"propertyName": "name", "operator": "EQ",
                                         "value": "Acme"}]}],
          "columns": ["name", "hs_object_id", "domain"],
          "sorts": [{"propertyName": "name", "direction": "DESCENDING"}]}


def test_a_custom_view_exports_its_filters_sorts_and_column_order():  # R-EXP-1 R-EXP-3
    spec = parse_export_request(view_export_request(CUSTOM, {"format": "XLSX"}, 5, "csm"))
    assert spec.object_type == "companies" and spec.export_name == "Big ones"
    assert spec.object_properties == ["name", "hs_object_id", "domain"]  # the view's order
    assert spec.search.filter_groups == CUSTOM["filterGroups"]
    assert spec.search.sorts == [{"propertyName": "name", "direction": "DESCENDING"}]
    assert spec.format.value == "XLSX"


def test_the_callers_options_cannot_replace_the_views_definition():  # R-EXP-3
    body = view_export_request(CUSTOM, {"format": "CSV", "exportName": "Mine",
                                        "objectType": "contacts", "objectProperties": ["x"],
                                        "associatedObjectType": "CONTACT"}, 5, "csm")
    spec = parse_export_request(body)
    assert spec.export_name == "Mine" and spec.association_types == ["contacts"]
    assert spec.object_type == "companies" and spec.object_properties[0] == "name"


def test_owned_by_me_is_the_users_records_in_every_group():  # R-EXP-1
    view = {**CUSTOM, "standard": "owned_by_me", "filterGroups": [], "columns": []}
    spec = parse_export_request(view_export_request(view, {"format": "CSV"}, 42, "csm_user"))
    assert spec.search.filter_groups == [
        {"filters": [{"propertyName": "csm_user", "operator": "EQ", "value": "42"}]}]
    # no columns in the view: its record id and what the object is named by
    assert spec.object_properties == ["hs_object_id", "name", "domain"]


@pytest.mark.parametrize("view", [
    {**CUSTOM, "tab": "tasks"},
    {**CUSTOM, "standard": "assigned_last_30_days"},
])
def test_views_the_exporter_cannot_reproduce_are_refused(view):  # R-EXP-1
    with pytest.raises(ViewNotExportable):
        view_export_request(view, {"format": "CSV"}, 1, "csm")
