import pytest

from crm_exports.domain.associations import (
    ASSOCIATION_CAP,
    AllAssociationsNeedCsv,
    AssociationMode,
    ExportFormat,
    association_cell,
    company_domains_cell,
)
from crm_exports.domain.columns import Column
from crm_exports.domain.rows import AssociatedRecord, ExportRecord, RowOptions, build_row


def test_default_caps_at_1000_associated_ids():
    # R-EXP-4
    cell = association_cell(range(1, 2501), AssociationMode.FIRST_1000, ExportFormat.XLSX)
    ids = cell.split(";")
    assert ASSOCIATION_CAP == 1000
    assert ids == [str(i) for i in range(1, 1001)]


def test_all_gives_every_associated_id_in_csv():
    # R-EXP-4
    cell = association_cell(range(1, 2501), AssociationMode.ALL, ExportFormat.CSV)
    assert len(cell.split(";")) == 2500


@pytest.mark.parametrize("fmt", [ExportFormat.XLSX, ExportFormat.XLS])
def test_all_is_refused_for_spreadsheet_formats(fmt):
    # R-EXP-4: all associated records is CSV only
    with pytest.raises(AllAssociationsNeedCsv):
        association_cell([1, 2], AssociationMode.ALL, fmt)


def test_names_joined_with_semicolons_and_each_neutralised():
    # R-EXP-4, R-EXP-6
    cell = association_cell(
        ["Acme", "=HYPERLINK(1)", "Beta"], AssociationMode.FIRST_1000, ExportFormat.CSV
    )
    assert cell == "Acme;'=HYPERLINK(1);Beta"


def test_no_associations_is_an_empty_cell():
    assert association_cell([], AssociationMode.FIRST_1000, ExportFormat.CSV) == ""


def test_company_primary_domain_only_by_default():
    # R-EXP-4
    assert company_domains_cell("acme.com", ["acme.io", "acme.nl"], all_domains=False) == "acme.com"


def test_company_all_domains_on_request_primary_first_without_repeats():
    # R-EXP-4
    cell = company_domains_cell("acme.com", ["acme.io", " acme.com", "", "acme.nl"], True)
    assert cell == "acme.com;acme.io;acme.nl"


def test_company_without_primary_domain():
    assert company_domains_cell(None, ["acme.io"], all_domains=True) == "acme.io"
    assert company_domains_cell(None, ["acme.io"], all_domains=False) == ""


def test_row_has_names_and_ids_columns_and_all_domains():
    # R-EXP-4
    columns = [
        Column("hs_object_id", "Record ID", "record_id", "number"),
        Column("domain", "Company Domain Name", "property", "string"),
        Column("contacts", "Associated Contact", "association", "string", "names"),
        Column("contacts", "Associated Contact IDs", "association", "string", "ids"),
    ]
    record = ExportRecord(
        id=7,
        properties={"domain": "acme.com", "hs_additional_domains": "acme.io;acme.nl"},
        associations={"contacts": [AssociatedRecord(11, "Ann"), AssociatedRecord(12, "Bob")]},
    )
    plain = build_row(record, columns, RowOptions(fmt=ExportFormat.CSV))
    assert plain == [7, "acme.com", "Ann;Bob", "11;12"]
    everything = build_row(
        record, columns, RowOptions(fmt=ExportFormat.CSV, all_company_domains=True)
    )
    assert everything[1] == "acme.com;acme.io;acme.nl"


def test_associated_records_are_named_by_their_type():
    # R-EXP-4: associated record names
    from crm_exports.domain.associations import associated_name
    assert associated_name("contacts", 1, {"firstname": "Ann", "lastname": "Lee"}) == "Ann Lee"
    assert associated_name("contacts", 1, {"firstname": " ", "email": "a@x.com"}) == "a@x.com"
    assert associated_name("companies", 2, {"name": "Acme", "domain": "acme.com"}) == "Acme"
    assert associated_name("companies", 2, {"name": None, "domain": "acme.com"}) == "acme.com"
    assert associated_name("deals", 3, {"dealname": "Big"}) == "Big"
    assert associated_name("p_custom", 4, {}) == "4"  # nothing to name it by: its id


def test_names_are_looked_up_for_the_ids_a_cell_can_hold():
    # R-EXP-4: 1,000 by default, all of them for an ALL (CSV) export
    from crm_exports.domain.associations import ids_to_name
    ids = list(range(1, 2501))
    assert ids_to_name(ids, AssociationMode.FIRST_1000) == list(range(1, 1001))
    assert ids_to_name(ids, AssociationMode.ALL) == ids


def test_associated_records_the_user_may_not_see_are_left_out():
    # R-EXP-4 R-AUTH-3: neither the name nor the id of an invisible record
    from crm_exports.domain.rows import associated_records
    visible = {1: {"name": "Acme"}, 3: {"name": "=HYPERLINK()"}}
    found = associated_records("companies", [1, 2, 3], visible)
    assert found == [AssociatedRecord(1, "Acme"), AssociatedRecord(3, "=HYPERLINK()")]
    columns = [Column("companies", "Associated Company", "association", "string", "names"),
               Column("companies", "Associated Company IDs", "association", "string", "ids")]
    row = build_row(ExportRecord(9, {}, {"companies": found}), columns,
                    RowOptions(fmt=ExportFormat.CSV))
    assert row == ["Acme;'=HYPERLINK()", "1;3"]  # each ;-part neutralised (R-EXP-6)
