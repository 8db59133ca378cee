"""Form rules: dedupe by the standard email only, submissions without email,
field checks, and the initial lifecycle stage by source."""

from __future__ import annotations

import pytest

from crm_records.domain import lifecycle
from crm_records.domain.forms import (
    MAX_FIELD_VALUE_LENGTH,
    FormDefinition,
    FormField,
    InvalidForm,
    InvalidSubmission,
    check_form,
    plan_submission,
)

CONTACT_FORM = FormDefinition("f1", "Contact us", (
    FormField("email", "email", "email", required=True),
    FormField("firstname", "firstname"),
    FormField("work_email", "work_email", "email"),
))


def _codes(problem: InvalidSubmission) -> set[tuple[str, str]]:
    return {(p.field, p.error_type) for p in problem.problems}


def test_the_standard_email_field_identifies_the_contact():
    # R-MKT-1
    plan = plan_submission(CONTACT_FORM, [("email", " Ann@Example.COM "), ("firstname", "Ann")])
    assert plan.email == "ann@example.com"
    assert plan.values == {"email": "ann@example.com", "firstname": "Ann"}


def test_a_custom_email_type_field_never_deduplicates():
    # R-MKT-1
    form = FormDefinition("f2", "Work", (FormField("work_email", "work_email", "email"),),
                          allow_submissions_without_email=True)
    plan = plan_submission(form, [("work_email", "Boss@Work.com")])
    assert plan.email is None  # nothing to find an earlier contact by: a new one
    assert plan.values == {"work_email": "boss@work.com"}


def test_a_custom_email_field_is_still_checked_to_be_an_address():
    # R-MKT-1
    with pytest.raises(InvalidSubmission) as refused:
        plan_submission(CONTACT_FORM, [("email", "a@b.com"), ("work_email", "nope")])
    assert _codes(refused.value) == {("work_email", "INVALID_EMAIL")}


def test_no_email_is_refused_unless_the_form_allows_it():
    # R-MKT-1
    form = FormDefinition("f3", "Callback", (FormField("email", "email", "email"),
                                             FormField("phone", "phone")))
    with pytest.raises(InvalidSubmission) as refused:
        plan_submission(form, [("phone", "123")])
    assert _codes(refused.value) == {("email", "MISSING_EMAIL")}
    allowing = FormDefinition("f3", "Callback", form.fields,
                              allow_submissions_without_email=True)
    plan = plan_submission(allowing, [("phone", "123")])
    assert plan.email is None and plan.values == {"phone": "123"}


def test_every_problem_is_named_at_once():
    # R-MKT-1
    with pytest.raises(InvalidSubmission) as refused:
        plan_submission(CONTACT_FORM, [("nickname", "x"), ("email", "not-an-address"),
                                       ("firstname", "y" * (MAX_FIELD_VALUE_LENGTH + 1))])
    assert _codes(refused.value) == {("nickname", "FIELD_NOT_IN_FORM_DEFINITION"),
                                     ("email", "INVALID_EMAIL"),
                                     ("firstname", "VALUE_TOO_LONG")}


def test_required_fields_are_required():
    # R-MKT-1
    with pytest.raises(InvalidSubmission) as refused:
        plan_submission(CONTACT_FORM, [("firstname", "Ann")])
    assert ("email", "REQUIRED_FIELD") in _codes(refused.value)


def test_initial_stage_follows_the_kind_of_form():
    # R-LIFE-3: subscription forms make subscribers, other forms leads
    plan = plan_submission(CONTACT_FORM, [("email", "a@b.com")])
    assert plan.values_for_new_contact(CONTACT_FORM)[lifecycle.LIFECYCLE_PROPERTY] == "lead"
    newsletter = FormDefinition("f4", "Newsletter", CONTACT_FORM.fields, subscription=True)
    assert plan.values_for_new_contact(newsletter)[lifecycle.LIFECYCLE_PROPERTY] == "subscriber"


def test_an_existing_contact_keeps_its_stage_and_address():
    # R-LIFE-3 R-MKT-1: a submission does not reset the stage of a known contact
    plan = plan_submission(CONTACT_FORM, [("email", "a@b.com"), ("firstname", "Ann")])
    assert plan.values_for_existing_contact() == {"firstname": "Ann"}


def test_initial_stage_table_by_source():
    # R-LIFE-3
    assert lifecycle.initial_stage("ANALYTICS") == "subscriber"
    assert lifecycle.initial_stage("FORM", subscription_form=True) == "subscriber"
    assert lifecycle.initial_stage("FORM") == "lead"
    assert lifecycle.initial_stage("API") == "lead"


def test_form_definitions_are_checked():
    with pytest.raises(InvalidForm) as refused:
        check_form(FormDefinition("f5", " ", (FormField("Bad Name", "firstname", "widget"),
                                              FormField("x", "firstname"))))
    text = " | ".join(refused.value.problems)
    for expected in ("name must not be empty", "'Bad Name'", "'widget'",
                     "'firstname' is filled by two fields", "mapped to 'email'"):
        assert expected in text
