"""The export request in the hosted CRM's shape, checked before anything is stored."""

import pytest

from crm_exports.domain.associations import AssociationMode, ExportFormat
from crm_exports.domain.columns import ExportColumnsMode
from crm_exports.domain.requests import ExportRequestInvalid, ExportSpec, parse_export_request

VIEW = {"exportType": "VIEW", "format": "CSV", "exportName": "My contacts", "language": "NL",
        "objectType": "CONTACT", "objectProperties": ["email", "firstname", "email"]}


def test_a_view_export_is_normalised():  # R-EXP-1 R-EXP-2 R-EXP-3
    spec = parse_export_request(VIEW)
    assert spec.format is ExportFormat.CSV
    assert spec.language == "nl" and spec.object_type == "contacts"
    assert spec.object_properties == ["email", "firstname"]  # view order, no repeats
    assert spec.columns is ExportColumnsMode.VIEW
    assert spec.association_mode is AssociationMode.FIRST_1000


@pytest.mark.parametrize("fmt", ["CSV", "XLSX", "XLS", "xlsx"])
def test_every_format_is_accepted(fmt):  # R-EXP-1
    assert parse_export_request({**VIEW, "format": fmt}).format.value == fmt.upper()


@pytest.mark.parametrize(("change", "field"), [
    ({"format": "PDF"}, "format"),
    ({"exportName": "  "}, "exportName"),
    ({"language": "JA"}, "language"),
    ({"objectProperties": []}, "objectProperties"),
    ({"exportType": "LIST"}, "listId"),
    ({"exportType": "LIST", "listId": "x"}, "listId"),
    ({"exportType": "LIST", "listId": "1", "objectType": "COMPANY"}, "objectType"),
    ({"columns": "ALL_PROPERTIES", "associatedObjectType": "COMPANY"}, "associatedObjectType"),
    ({"objectType": ""}, "objectType"),
])
def test_a_bad_request_names_the_field(change, field):  # R-EXP-1
    with pytest.raises(ExportRequestInvalid) as refused:
        parse_export_request({**VIEW, **change})
    assert refused.value.field_name == field


def test_all_associated_records_only_as_csv():  # R-EXP-4
    csv = parse_export_request({**VIEW, "overrideAssociatedObjectsPerDefinitionPerRowLimit": True})
    assert csv.association_mode is AssociationMode.ALL
    with pytest.raises(ExportRequestInvalid, match="only be exported as CSV"):
        parse_export_request({**VIEW, "format": "XLSX",
                              "overrideAssociatedObjectsPerDefinitionPerRowLimit": True})


def test_all_properties_mode_needs_no_view_columns():  # R-EXP-3
    spec = parse_export_request({**VIEW, "objectProperties": [], "columns": "ALL_PROPERTIES"})
    assert spec.columns is ExportColumnsMode.ALL_PROPERTIES


def test_sdk_flat_filters_become_one_group_and_string_sorts_objects():  # R-EXP-1
    spec = parse_export_request({**VIEW, "publicCrmSearchRequest": {
        "filters": [{"propertyName": "lastname", "operator": "EQ", "value": "X"}],
        "sorts": ["-createdate", "email"], "query": "acme"}})
    assert spec.search.filter_groups == [
        {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "X"}]}]
    assert spec.search.sorts == [{"propertyName": "createdate", "direction": "DESCENDING"},
                                 {"propertyName": "email", "direction": "ASCENDING"}]
    assert spec.search.query == "acme"


def test_spec_survives_the_store_round_trip():  # R-EXP-1
    spec = parse_export_request({**VIEW, "publicCrmSearchRequest": {"filterGroups": [
        {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}]}})
    assert ExportSpec.from_json(spec.to_json()) == spec


def test_association_types_as_one_a_list_or_comma_separated():  # R-EXP-4
    assert parse_export_request({**VIEW, "associatedObjectType": "COMPANY"}
                                ).association_types == ["companies"]
    assert parse_export_request({**VIEW, "associatedObjectType": ["COMPANY", "0-3", "company"]}
                                ).association_types == ["companies", "deals"]
    assert parse_export_request({**VIEW, "associatedObjectType": "COMPANY, DEAL"}
                                ).association_types == ["companies", "deals"]
    assert parse_export_request(VIEW).association_types == []


def test_all_properties_and_associations_defaults_to_the_standard_types():  # R-EXP-3 R-EXP-4
    spec = parse_export_request({**VIEW, "columns": "ALL_PROPERTIES_AND_ASSOCIATIONS"})
    assert spec.association_types == ["companies", "deals", "tickets"]  # not contacts itself


def test_a_list_export_takes_its_members_not_view_filters():  # R-EXP-1
    spec = parse_export_request({**VIEW, "exportType": "LIST", "listId": "42",
                                 "objectType": None, "publicCrmSearchRequest": {
                                     "filters": [{"propertyName": "x", "operator": "EQ"}]}})
    assert spec.list_id == 42 and spec.export_type == "LIST"
    assert spec.object_type == "contacts" and spec.search.filter_groups == []
    assert ExportSpec.from_json(spec.to_json()) == spec


def test_a_spec_stored_before_associations_and_lists_still_loads():  # R-EXP-1
    stored = parse_export_request(VIEW).to_json()
    for newer in ("association_types", "list_id", "view_id"):
        stored.pop(newer)
    spec = ExportSpec.from_json(stored)
    assert spec.association_types == [] and spec.list_id is None and spec.export_type == "VIEW"
