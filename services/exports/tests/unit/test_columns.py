from crm_exports.domain.columns import (
    Column,
    ExportColumnsMode,
    PropertyDefinition,
    plan_columns,
)

PROPERTIES = {
    "hs_object_id": PropertyDefinition("hs_object_id", "Record ID", "number"),
    "lastname": PropertyDefinition("lastname", "Last Name"),
    "email": PropertyDefinition("email", "Email"),
    "firstname": PropertyDefinition("firstname", "First Name"),
    "zz_score": PropertyDefinition("zz_score", "Account Score", "number"),
    "createdate": PropertyDefinition("createdate", "Create Date", "datetime"),
}


def headers(columns: list[Column]) -> list[str]:
    return [c.header for c in columns]


def test_view_mode_keeps_the_views_column_order():
    # R-EXP-3
    columns = plan_columns(
        ExportColumnsMode.VIEW, ["email", "zz_score", "firstname"], PROPERTIES, [], "en"
    )
    assert [c.key for c in columns] == ["email", "zz_score", "firstname"]
    assert headers(columns) == ["Email", "Account Score", "First Name"]
    assert all(c.kind == "property" for c in columns)


def test_view_mode_puts_requested_association_columns_last():
    # R-EXP-3 R-EXP-4: the view's order first, then names and ids per associated type
    columns = plan_columns(
        ExportColumnsMode.VIEW, ["email", "firstname"], PROPERTIES, ["companies", "deals"], "nl"
    )
    assert [(c.key, c.kind, c.association_part) for c in columns] == [
        ("email", "property", None), ("firstname", "property", None),
        ("companies", "association", "names"), ("companies", "association", "ids"),
        ("deals", "association", "names"), ("deals", "association", "ids"),
    ]
    assert headers(columns)[2:4] == ["Gekoppeld bedrijf", "ID's gekoppelde bedrijven"]


def test_view_mode_record_id_where_the_view_puts_it():
    # R-EXP-3
    columns = plan_columns(ExportColumnsMode.VIEW, ["email", "hs_object_id"], PROPERTIES, [], "en")
    assert [(c.key, c.kind) for c in columns] == [
        ("email", "property"),
        ("hs_object_id", "record_id"),
    ]


def test_all_properties_record_id_first_then_alphabetical_without_associations():
    # R-EXP-3
    columns = plan_columns(
        ExportColumnsMode.ALL_PROPERTIES, ["email"], PROPERTIES, ["companies", "deals"], "en"
    )
    assert headers(columns) == [
        "Record ID",
        "Account Score",
        "Create Date",
        "Email",
        "First Name",
        "Last Name",
    ]
    assert columns[0].kind == "record_id"
    assert not any(c.kind == "association" for c in columns)


def test_all_properties_alphabetical_in_the_chosen_language():
    # R-EXP-3, R-EXP-2: "alphabetical" is what the reader sees, the translated header
    columns = plan_columns(ExportColumnsMode.ALL_PROPERTIES, [], PROPERTIES, [], "de")
    assert headers(columns) == [
        "Datensatz-ID",
        "Account Score",
        "E-Mail",
        "Erstellungsdatum",
        "Nachname",
        "Vorname",
    ]


def test_all_properties_and_associations_puts_associations_last():
    # R-EXP-3, R-EXP-4
    columns = plan_columns(
        ExportColumnsMode.ALL_PROPERTIES_AND_ASSOCIATIONS,
        [],
        PROPERTIES,
        ["companies", "deals"],
        "en",
    )
    assert columns[0].kind == "record_id"
    kinds = [c.kind for c in columns]
    first_association = kinds.index("association")
    assert all(k == "association" for k in kinds[first_association:])
    assert headers(columns)[first_association:] == [
        "Associated Company",
        "Associated Company IDs",
        "Associated Deal",
        "Associated Deal IDs",
    ]
    assert [c.association_part for c in columns[first_association:]] == [
        "names",
        "ids",
        "names",
        "ids",
    ]


def test_columns_carry_the_property_type_for_number_cells():
    # R-EXP-6: numbers stay numbers, so the writer must know which columns are numbers
    columns = plan_columns(ExportColumnsMode.VIEW, ["zz_score", "email"], PROPERTIES, [], "en")
    assert [c.value_type for c in columns] == ["number", "string"]


def test_a_view_property_without_definition_keeps_its_name():
    columns = plan_columns(ExportColumnsMode.VIEW, ["gone_property"], PROPERTIES, [], "en")
    assert headers(columns) == ["gone_property"]
