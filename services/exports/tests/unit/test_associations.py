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
