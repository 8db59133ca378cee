"""Workspace settings are checked against the chosen objects' properties (R-CSW-2)."""

from crm_workspace.domain.settings import (
    ObjectFacts,
    ObjectSettings,
    PropertyFacts,
    WorkspaceSettings,
    check_settings,
    object_types_to_check,
)

OWNER = PropertyFacts("enumeration", user_type=True)
COMMON = {"hubspot_owner_id": OWNER, "name": PropertyFacts("string"),
          "renewal": PropertyFacts("date"), "csm": OWNER}
FACTS = {
    "companies": ObjectFacts(COMMON),
    "contacts": ObjectFacts(COMMON),
    "services": ObjectFacts(COMMON, frozenset({"svc-1", "svc-2"})),
    "deals": ObjectFacts(COMMON, frozenset({"default"})),
    "2-7": ObjectFacts(COMMON, frozenset({"p"})),
}


def problems(settings: WorkspaceSettings, enterprise: bool = False, facts=FACTS) -> dict:
    found: dict[str, str] = {}
    for p in check_settings(settings, facts, enterprise=enterprise):
        found[p["in"]] = found.get(p["in"], "") + p["message"] + "\n"
    return found


def test_defaults_are_valid():
    # R-CSW-2
    assert problems(WorkspaceSettings()) == {}


def test_csm_must_be_a_user_type_property_of_the_chosen_object():
    # R-CSW-2
    found = problems(WorkspaceSettings(customers=ObjectSettings("companies", "name")))
    assert "not a user-type property" in found["customers.csmProperty"]
    found = problems(WorkspaceSettings(customers=ObjectSettings("companies", "nope")))
    assert "'nope' is not a property of companies" in found["customers.csmProperty"]


def test_renewal_must_be_a_date_property():
    # R-CSW-2
    found = problems(WorkspaceSettings(customers=ObjectSettings(
        "contacts", "csm", renewal_date_property="name")))
    assert "not a date property" in found["customers.renewalDateProperty"]
    assert problems(WorkspaceSettings(customers=ObjectSettings(
        "contacts", "csm", renewal_date_property="renewal"))) == {}


def test_custom_objects_need_enterprise():
    # R-CSW-2
    custom = WorkspaceSettings(customers=ObjectSettings("2-7"))
    assert "Enterprise" in problems(custom)["customers.objectType"]
    assert problems(custom, enterprise=True) == {}
    assert "customers.objectType" in problems(WorkspaceSettings(customers=ObjectSettings("deals")))


def test_services_object_must_be_activated():
    # R-CSW-2
    facts = {**FACTS, "services": None}
    assert "not activated" in problems(WorkspaceSettings(), facts=facts)["services.objectType"]


def test_pipelines_and_default_must_exist_and_be_visible():
    # R-CSW-2
    found = problems(WorkspaceSettings(services=ObjectSettings(
        "services", pipelines=("svc-1", "ghost"), default_pipeline="svc-2",
        default_layout="grid")))
    assert "'ghost' does not exist" in found["services.pipelines"]
    assert "not among the visible" in found["services.defaultPipeline"]
    assert "board or table" in found["services.defaultLayout"]


def test_revenue_takes_one_or_two_objects_among_deals_and_custom_with_a_default():
    # R-CSW-2
    three = WorkspaceSettings(revenue=(ObjectSettings("deals"), ObjectSettings("2-7"),
                                       ObjectSettings("2-8")))
    assert "one or two" in problems(three, enterprise=True)["revenue.objects"]
    two = WorkspaceSettings(revenue=(ObjectSettings("deals"), ObjectSettings("2-7")),
                            revenue_default="2-7")
    assert problems(two, enterprise=True) == {}
    wrong_default = WorkspaceSettings(revenue_default="tickets")
    assert "revenue.defaultObjectType" in problems(wrong_default)
    tickets = WorkspaceSettings(revenue=(ObjectSettings("tickets"),), revenue_default="tickets")
    assert "must be deals" in problems(tickets)["revenue.objects[0].objectType"]


def test_json_round_trip_and_types_to_check():
    settings = WorkspaceSettings(customers=ObjectSettings("contacts", "csm", "renewal"),
                                 revenue=(ObjectSettings("deals", pipelines=("default",)),))
    assert WorkspaceSettings.from_json(settings.to_json()) == settings
    assert object_types_to_check(settings) == ["contacts", "services", "deals"]
