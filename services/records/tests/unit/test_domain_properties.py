import pytest

from crm_records.domain.errors import (
    InvalidPropertyDefinition,
    InvalidPropertyName,
    InvalidPropertyValues,
)
from crm_records.domain.properties import (
    PropertyDefinition,
    PropertyOption,
    format_datetime,
    parse_datetime,
    validate_definition,
    validate_property_name,
    validate_values,
)
from crm_records.domain.standard_properties import (
    STANDARD_GROUPS,
    STANDARD_PROPERTIES,
    custom_object_base_properties,
)

CONTACTS = STANDARD_PROPERTIES["contacts"]
DEALS = STANDARD_PROPERTIES["deals"]
TICKETS = STANDARD_PROPERTIES["tickets"]


def _one_error(definitions, values, **kw):
    with pytest.raises(InvalidPropertyValues) as raised:
        validate_values(definitions, values, **kw)
    assert len(raised.value.errors) == 1
    return raised.value.errors[0]


# R-REC-2
def test_every_standard_definition_is_consistent():
    for definitions in (*STANDARD_PROPERTIES.values(), custom_object_base_properties()):
        for definition in definitions.values():
            validate_definition(definition)
            assert definition.hubspot_defined


# R-REC-2
@pytest.mark.parametrize(("object_type", "names"), [
    ("contacts", {"email", "firstname", "lastname", "jobtitle", "company", "phone",
                  "lifecyclestage", "hubspot_owner_id", "createdate", "lastmodifieddate",
                  "hs_object_id", "notes_last_contacted", "notes_last_updated",
                  "hs_lastmodifieddate", "health_score", "health_status"}),
    ("companies", {"name", "domain", "lifecyclestage", "hubspot_owner_id"}),
    ("deals", {"dealname", "dealstage", "pipeline", "amount", "closedate"}),
    ("tickets", {"subject", "content", "hs_pipeline", "hs_pipeline_stage"}),
    ("services", {"hs_pipeline", "hs_pipeline_stage"}),
    ("tasks", {"hs_timestamp", "hs_task_status", "hs_task_subject", "hs_task_priority",
               "hs_task_body"}),
    ("calls", {"hs_timestamp", "hs_call_body", "hs_call_duration"}),
    ("notes", {"hs_timestamp", "hs_note_body"}),
    ("emails", {"hs_timestamp", "hs_email_subject", "hs_email_html", "hs_email_to_email",
                "hs_email_direction"}),
    ("meetings", {"hs_timestamp", "hs_meeting_title", "hs_meeting_start_time",
                  "hs_meeting_end_time"}),
])
def test_standard_properties_use_the_hosted_names(object_type, names):
    assert names <= set(STANDARD_PROPERTIES[object_type])


# R-REC-2
def test_every_standard_property_belongs_to_a_standard_group():
    for object_type, definitions in STANDARD_PROPERTIES.items():
        groups = {group.name for group in STANDARD_GROUPS[object_type]}
        assert {d.group_name for d in definitions.values()} <= groups


# R-REC-3
def test_the_owner_is_a_user_type_property_on_every_type():
    for definitions in STANDARD_PROPERTIES.values():
        assert definitions["hubspot_owner_id"].user_type


# R-REC-2
def test_a_number_becomes_a_plain_decimal_string():
    assert validate_values(DEALS, {"amount": 1500}) == {"amount": "1500"}
    assert validate_values(DEALS, {"amount": "0012.50"}) == {"amount": "12.5"}
    assert validate_values(DEALS, {"amount": 0.25}) == {"amount": "0.25"}
    assert validate_values(DEALS, {"amount": "1e3"}) == {"amount": "1000"}
    assert validate_values(DEALS, {"amount": "-0"}) == {"amount": "0"}


# R-REC-2
@pytest.mark.parametrize("bad", ["12a", "1,000", "NaN", "Infinity", True, float("nan"), [1]])
def test_a_bad_number_names_the_property_and_the_value(bad):
    error = _one_error(DEALS, {"amount": bad})
    assert error.name == "amount" and error.code == "INVALID_NUMBER" and error.value is bad
    assert "amount" in error.message and "number" in error.message


# R-REC-2
def test_a_date_is_stored_as_a_calendar_day():
    closed = STANDARD_PROPERTIES["services"]
    assert validate_values(closed, {"hs_start_date": "2024-03-01"}) == {
        "hs_start_date": "2024-03-01"}
    assert validate_values(closed, {"hs_start_date": 1709251200000}) == {
        "hs_start_date": "2024-03-01"}
    assert validate_values(closed, {"hs_start_date": "1709251200000"}) == {
        "hs_start_date": "2024-03-01"}


# R-REC-2
@pytest.mark.parametrize("bad", [1709251200001, "2024-03-01T10:00:00Z", "2024-02-30", "soon"])
def test_a_date_off_midnight_utc_or_not_a_date_is_refused(bad):
    error = _one_error(STANDARD_PROPERTIES["services"], {"hs_start_date": bad})
    assert (error.name, error.code) == ("hs_start_date", "INVALID_DATE")


# R-REC-2
@pytest.mark.parametrize(("sent", "stored"), [
    ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00.000Z"),
    ("2024-05-01T11:30:00.5+02:00", "2024-05-01T09:30:00.500Z"),
    ("2024-05-01T09:30:00", "2024-05-01T09:30:00.000Z"),
    ("2024-05-01", "2024-05-01T00:00:00.000Z"),
    (1714555800123, "2024-05-01T09:30:00.123Z"),
    ("1714555800123", "2024-05-01T09:30:00.123Z"),
])
def test_a_datetime_is_stored_as_iso_utc_with_milliseconds(sent, stored):
    assert validate_values(DEALS, {"closedate": sent}) == {"closedate": stored}


# R-REC-2
def test_a_bad_datetime_is_refused():
    error = _one_error(DEALS, {"closedate": "next tuesday"})
    assert (error.name, error.code) == ("closedate", "INVALID_DATETIME")


# R-REC-2
def test_bools_become_true_or_false():
    definitions = {"vip": PropertyDefinition("vip", "VIP", "bool", "booleancheckbox", "g")}
    assert validate_values(definitions, {"vip": True}) == {"vip": "true"}
    assert validate_values(definitions, {"vip": "FALSE"}) == {"vip": "false"}
    assert _one_error(definitions, {"vip": "yes"}).code == "INVALID_BOOL"


# R-REC-2
def test_an_enumeration_value_must_be_an_option():
    assert validate_values(CONTACTS, {"lifecyclestage": "lead"}) == {"lifecyclestage": "lead"}
    error = _one_error(CONTACTS, {"lifecyclestage": "Lead"})
    assert (error.name, error.value, error.code) == ("lifecyclestage", "Lead", "INVALID_OPTION")
    assert "allowed options" in error.message


# R-REC-2
def test_a_multi_select_takes_semicolon_separated_options():
    assert validate_values(TICKETS, {"hs_ticket_category": "BILLING_ISSUE; PRODUCT_ISSUE"}) == {
        "hs_ticket_category": "BILLING_ISSUE;PRODUCT_ISSUE"}
    assert validate_values(TICKETS, {"hs_ticket_category": ["GENERAL_INQUIRY"]}) == {
        "hs_ticket_category": "GENERAL_INQUIRY"}
    assert _one_error(TICKETS, {"hs_ticket_category": "BILLING_ISSUE;NOPE"}).code == (
        "INVALID_OPTION")


# R-REC-2
def test_a_single_select_takes_one_option():
    assert _one_error(CONTACTS, {"lifecyclestage": ["lead", "customer"]}).name == "lifecyclestage"


# R-REC-3
def test_user_properties_take_the_accounts_users():
    assert validate_values(CONTACTS, {"hubspot_owner_id": 42}, user_ids={"42", "7"}) == {
        "hubspot_owner_id": "42"}
    error = _one_error(CONTACTS, {"hubspot_owner_id": "99"}, user_ids={"42"})
    assert (error.name, error.code) == ("hubspot_owner_id", "INVALID_OPTION")
    assert _one_error(CONTACTS, {"hubspot_owner_id": "bob"}).code == "INVALID_OPTION"


# R-PIPE-1 (pipeline stages are checked against pipelines, not inline options)
def test_pipeline_stage_properties_have_external_options():
    assert validate_values(DEALS, {"dealstage": "closedwon"}) == {"dealstage": "closedwon"}


# R-REC-2
def test_an_unknown_property_is_named():
    error = _one_error(CONTACTS, {"favourite_colour": "blue"})
    assert (error.name, error.code) == ("favourite_colour", "PROPERTY_DOESNT_EXIST")
    assert 'Property "favourite_colour" does not exist' == error.message


# R-REC-2
def test_read_only_properties_are_refused_to_clients_but_not_to_the_platform():
    error = _one_error(CONTACTS, {"notes_last_contacted": "2024-01-01T00:00:00Z"})
    assert (error.name, error.code) == ("notes_last_contacted", "READ_ONLY_VALUE")
    assert _one_error(CONTACTS, {"health_status": "healthy"}).code == "READ_ONLY_VALUE"
    assert validate_values(CONTACTS, {"health_status": "healthy"}, allow_read_only=True) == {
        "health_status": "healthy"}


# R-REC-2
def test_every_bad_value_is_reported_at_once():
    with pytest.raises(InvalidPropertyValues) as raised:
        validate_values(DEALS, {"amount": "x", "nope": "1", "dealname": "ok",
                                "hs_object_id": "5"})
    assert sorted(e.name for e in raised.value.errors) == ["amount", "hs_object_id", "nope"]
    assert "amount" in raised.value.message and "nope" in raised.value.message


# R-REC-2, R-LIFE-2 (an empty value clears)
def test_empty_and_null_clear_a_value():
    assert validate_values(CONTACTS, {"firstname": "", "lifecyclestage": None}) == {
        "firstname": None, "lifecyclestage": None}


# R-REC-8
def test_the_contact_email_is_normalised_and_checked():
    assert validate_values(CONTACTS, {"email": "  Ann@Example.COM "}) == {
        "email": "ann@example.com"}
    error = _one_error(CONTACTS, {"email": "ann@"})
    assert (error.name, error.code) == ("email", "INVALID_EMAIL")


# R-REC-2
def test_strings_accept_scalars_but_not_structures():
    assert validate_values(CONTACTS, {"firstname": 7}) == {"firstname": "7"}
    assert _one_error(CONTACTS, {"firstname": {"a": 1}}).code == "INVALID_STRING"
    assert _one_error(CONTACTS, {"firstname": "x" * 65_537}).code == "INVALID_STRING"


# R-REC-2
@pytest.mark.parametrize("good", ["favourite_colour", "a", "tier2"])
def test_custom_property_names_that_are_allowed(good):
    validate_property_name(good, existing=["email"])


# R-REC-2
@pytest.mark.parametrize("bad", [
    "", "Favourite", "2fast", "_x", "with-dash", "with space", "hs_score", "hubspot_x", "id",
    "email", "x" * 101, "café",
])
def test_custom_property_names_that_are_refused(bad):
    with pytest.raises(InvalidPropertyName) as raised:
        validate_property_name(bad, existing=["email"])
    assert raised.value.name == bad and raised.value.reason


# R-REC-2
def test_a_definition_whose_type_and_field_disagree_is_refused():
    with pytest.raises(InvalidPropertyDefinition) as raised:
        validate_definition(PropertyDefinition("tier", "Tier", "number", "select", "g"))
    assert "field type" in raised.value.reasons[0]
    with pytest.raises(InvalidPropertyDefinition):
        validate_definition(PropertyDefinition("tier", "Tier", "enumeration", "select", "g"))
    with pytest.raises(InvalidPropertyDefinition):
        validate_definition(PropertyDefinition(
            "tier", "Tier", "enumeration", "select", "g",
            options=(PropertyOption("A", "a"), PropertyOption("A again", "a"))))
    validate_definition(PropertyDefinition("tier", "Tier", "enumeration", "select", "g",
                                           options=(PropertyOption("A", "a", 0),)))


def test_datetime_forms_round_trip():
    moment = parse_datetime("2024-05-01T09:30:00.123Z")
    assert format_datetime(moment) == "2024-05-01T09:30:00.123Z"
    assert parse_datetime(1714555800123) == moment
