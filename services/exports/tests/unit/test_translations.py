import pytest

from crm_exports.domain.associations import ExportFormat
from crm_exports.domain.columns import ExportColumnsMode, PropertyDefinition, plan_columns
from crm_exports.domain.rows import ExportRecord, RowOptions, build_row
from crm_exports.domain.translations import (
    SUPPORTED_LANGUAGES,
    UnsupportedLanguage,
    association_header,
    header_for,
)

EXPECTED = {
    "en": ("Record ID", "First Name", "Lifecycle Stage", "Associated Company"),
    "nl": ("Record-ID", "Voornaam", "Levenscyclusfase", "Gekoppeld bedrijf"),
    "de": ("Datensatz-ID", "Vorname", "Lifecycle-Phase", "Zugeordnetes Unternehmen"),
    "fr": ("ID de fiche", "Prénom", "Phase du cycle de vie", "Entreprise associée"),
    "es": ("ID de registro", "Nombre", "Etapa del ciclo de vida", "Empresa asociada"),
}

REQUIRED_STANDARD_PROPERTIES = [
    "firstname",
    "lastname",
    "email",
    "phone",
    "jobtitle",
    "company",
    "lifecyclestage",
    "hubspot_owner_id",
    "createdate",
    "lastmodifieddate",
    "name",
    "domain",
    "dealname",
    "dealstage",
    "amount",
    "closedate",
    "pipeline",
    "subject",
    "hs_object_id",
    "notes_last_contacted",
    "notes_last_updated",
    "health_score",
    "health_status",
]


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_standard_headers_translated_in_each_language(language):
    # R-EXP-2
    record_id, firstname, lifecycle, company = EXPECTED[language]
    assert header_for("hs_object_id", language) == record_id
    assert header_for("firstname", language, own_label="First Name") == firstname
    assert header_for("lifecyclestage", language) == lifecycle
    assert association_header("companies", language, ids=False) == company


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_required_standard_property_has_a_label(language):
    # R-EXP-2: a missing entry would silently fall back to the raw name
    for name in REQUIRED_STANDARD_PROPERTIES:
        assert header_for(name, language) != name, (name, language)
    for object_type in ("contacts", "companies", "deals", "tickets", "services"):
        assert association_header(object_type, language, ids=True).strip()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_custom_property_keeps_its_own_label(language):
    # R-EXP-2
    assert header_for("renewal_risk", language, own_label="Renewal risk") == "Renewal risk"


def test_unknown_language_is_refused():
    with pytest.raises(UnsupportedLanguage):
        header_for("email", "xx")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_values_are_never_translated(language):
    # R-EXP-2: only headers change with the language, cell values stay as stored
    properties = {
        "lifecyclestage": PropertyDefinition("lifecyclestage", "Lifecycle Stage"),
        "firstname": PropertyDefinition("firstname", "First Name"),
    }
    columns = plan_columns(
        ExportColumnsMode.VIEW, ["lifecyclestage", "firstname"], properties, [], language
    )
    stored = {"lifecyclestage": "customer", "firstname": "First Name"}
    record = ExportRecord(id=1, properties=stored)
    row = build_row(record, columns, RowOptions(fmt=ExportFormat.CSV))
    assert row == ["customer", "First Name"]
