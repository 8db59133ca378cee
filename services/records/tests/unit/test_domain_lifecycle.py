import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_records.domain.errors import (
    InvalidPropertyValues,
    LifecycleRegression,
    UnknownCreationSource,
)
from crm_records.domain.lifecycle import (
    INITIAL_STAGE_BY_SOURCE,
    LIFECYCLE_STAGES,
    apply_lifecycle_change,
    initial_stage,
    stage_after_deal_closed_lost,
    stage_after_deal_closed_won,
    stage_after_open_deal,
    stage_on_create,
    stage_rank,
)

stages = st.sampled_from(LIFECYCLE_STAGES)
maybe_stages = st.one_of(st.none(), stages)


# R-LIFE-1
def test_stages_are_in_funnel_order():
    assert LIFECYCLE_STAGES == (
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
        "opportunity", "customer", "evangelist", "other")
    assert stage_rank("lead") < stage_rank("opportunity") < stage_rank("customer")


# R-LIFE-2
def test_a_stage_moves_forward():
    assert apply_lifecycle_change("lead", "customer") == "customer"
    assert apply_lifecycle_change(None, "subscriber") == "subscriber"
    assert apply_lifecycle_change("lead", "lead") == "lead"


# R-LIFE-2
def test_an_earlier_stage_is_refused_naming_both_stages():
    with pytest.raises(LifecycleRegression) as raised:
        apply_lifecycle_change("customer", "lead")
    assert (raised.value.current, raised.value.requested) == ("customer", "lead")
    assert "clear" in raised.value.message


# R-LIFE-2: clear then set, in two requests
def test_clearing_then_setting_in_two_requests_moves_back():
    cleared = apply_lifecycle_change("customer", "")
    assert cleared is None
    assert apply_lifecycle_change(cleared, "lead") == "lead"


# R-LIFE-2: clear then set, in one request
@pytest.mark.parametrize("clear", ["", None, "  "])
def test_clearing_then_setting_in_one_request_moves_back(clear):
    assert apply_lifecycle_change("customer", clear, "lead") == "lead"


# R-LIFE-2
def test_setting_back_before_clearing_in_one_request_is_still_refused():
    with pytest.raises(LifecycleRegression):
        apply_lifecycle_change("customer", "lead", "")


# R-LIFE-2
def test_an_unknown_stage_is_refused_as_a_bad_value():
    with pytest.raises(InvalidPropertyValues) as raised:
        apply_lifecycle_change(None, "prospect")
    assert raised.value.errors[0].name == "lifecyclestage"


# R-LIFE-2
@given(current=stages, requested=stages)
def test_without_a_clear_the_stage_never_moves_backward(current, requested):
    if stage_rank(requested) < stage_rank(current):
        with pytest.raises(LifecycleRegression):
            apply_lifecycle_change(current, requested)
    else:
        assert apply_lifecycle_change(current, requested) == requested


# R-LIFE-3
@pytest.mark.parametrize("source", ["CRM_UI", "IMPORT", "API", "CONVERSATIONS", "MEETINGS"])
def test_contacts_created_in_the_crm_by_import_api_conversations_or_meetings_are_leads(source):
    assert initial_stage(source) == "lead"


# R-LIFE-3
def test_subscription_forms_and_analytics_make_subscribers():
    assert initial_stage("FORM", subscription_form=True) == "subscriber"
    assert initial_stage("ANALYTICS") == "subscriber"
    assert initial_stage("FORM") == "lead"


# R-LIFE-3
def test_the_table_holds_only_known_stages_and_unknown_sources_are_refused():
    assert set(INITIAL_STAGE_BY_SOURCE.values()) <= set(LIFECYCLE_STAGES)
    with pytest.raises(UnknownCreationSource):
        initial_stage("CARRIER_PIGEON")


# R-LIFE-3
def test_a_stage_named_at_creation_wins_over_the_table():
    assert stage_on_create("API", "customer") == "customer"
    assert stage_on_create("ANALYTICS", None) == "subscriber"
    assert stage_on_create("API", "") == "lead"


# R-LIFE-6
@pytest.mark.parametrize(("current", "after"), [
    (None, "opportunity"), ("subscriber", "opportunity"), ("salesqualifiedlead", "opportunity"),
    ("opportunity", "opportunity"), ("customer", "customer"), ("evangelist", "evangelist"),
])
def test_an_open_deal_lifts_records_below_opportunity(current, after):
    assert stage_after_open_deal(current) == after


# R-LIFE-4
@pytest.mark.parametrize(("current", "after"), [
    (None, "customer"), ("lead", "customer"), ("opportunity", "customer"),
    ("customer", "customer"), ("evangelist", "evangelist"), ("other", "other"),
])
def test_a_won_deal_makes_customers(current, after):
    assert stage_after_deal_closed_won(current) == after


# R-LIFE-5
def test_a_lost_deal_keeps_opportunity_and_keeps_customers():
    assert stage_after_deal_closed_lost("opportunity", has_other_closed_won_deal=False) == (
        "opportunity")
    assert stage_after_deal_closed_lost("customer", has_other_closed_won_deal=True) == "customer"
    assert stage_after_deal_closed_lost("customer", has_other_closed_won_deal=False) == "customer"
    assert stage_after_deal_closed_lost("opportunity", has_other_closed_won_deal=True) == (
        "customer")
    assert stage_after_deal_closed_lost(None, has_other_closed_won_deal=False) is None


# R-LIFE-4, R-LIFE-5, R-LIFE-6: automation never moves a stage backward or clears it
@given(current=maybe_stages, other_won=st.booleans())
def test_automation_never_moves_backward(current, other_won):
    for after in (stage_after_open_deal(current), stage_after_deal_closed_won(current),
                  stage_after_deal_closed_lost(current, other_won)):
        if current is not None:
            assert after is not None and stage_rank(after) >= stage_rank(current)
