"""Form rules (R-MKT-1, R-LIFE-3): what a form is, and what one submission
asks of the contact store.

A form maps its fields to contact properties. Only a field mapped to the
standard `email` property identifies the contact: the submission then creates
or updates the contact holding that address. A field of type "email" mapped to
any other (custom) property is just a value, checked to look like an address,
and never deduplicates. A form may allow submissions without an email: each
such submission creates a new contact, since nothing identifies an earlier one.

A new contact's lifecycle stage follows how it was created (R-LIFE-3): a
subscription form makes subscribers, any other form leads
(`lifecycle.initial_stage("FORM", subscription_form)`). An existing contact's
stage is never touched by a submission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm_records.domain import lifecycle
from crm_records.domain.errors import DomainError, InvalidEmailAddress
from crm_records.domain.properties import is_blank, normalise_email

STANDARD_EMAIL_PROPERTY = "email"
FIELD_TYPES = frozenset({"text", "email", "textarea", "number", "phonenumber", "select",
                         "radio", "checkbox", "booleancheckbox", "date", "hidden"})

# Abuse limits of the public submission endpoint: sizes a real form never reaches.
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS_PER_SUBMISSION = 100
MAX_FIELD_VALUE_LENGTH = 10_000
MAX_FORM_FIELDS = 100
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


class InvalidForm(DomainError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("Form definition is not valid: " + "; ".join(self.problems))


@dataclass(frozen=True)
class SubmissionProblem:
    field: str
    error_type: str  # the hosted errorType: REQUIRED_FIELD, INVALID_EMAIL, ...
    message: str


class InvalidSubmission(DomainError):
    def __init__(self, problems: Sequence[SubmissionProblem]) -> None:
        self.problems = list(problems)
        super().__init__("Submission is not valid: " + "; ".join(p.message for p in problems))


@dataclass(frozen=True)
class FormField:
    name: str  # what the page sends
    property_name: str  # the contact property it fills
    field_type: str = "text"
    label: str = ""
    required: bool = False

    @property
    def identifies_contact(self) -> bool:
        """Only the standard email property deduplicates (R-MKT-1)."""
        return self.property_name == STANDARD_EMAIL_PROPERTY


@dataclass(frozen=True)
class FormDefinition:
    form_id: str
    name: str
    fields: tuple[FormField, ...]
    subscription: bool = False  # a subscription form makes subscribers (R-LIFE-3)
    allow_submissions_without_email: bool = False

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


def check_form(form: FormDefinition) -> FormDefinition:
    """The form unchanged, or InvalidForm naming every problem."""
    problems = []
    if not form.name.strip():
        problems.append("name must not be empty")
    if not form.fields:
        problems.append("a form needs at least one field")
    if len(form.fields) > MAX_FORM_FIELDS:
        problems.append(f"at most {MAX_FORM_FIELDS} fields")
    seen_names: set[str] = set()
    seen_properties: set[str] = set()
    for f in form.fields:
        if not _NAME.match(f.name):
            problems.append(f"field name {f.name!r} must be lower-case letters, digits, _")
        if not _NAME.match(f.property_name):
            problems.append(f"field {f.name!r}: property name {f.property_name!r} is not valid")
        if f.field_type not in FIELD_TYPES:
            problems.append(f"field {f.name!r}: fieldType {f.field_type!r} is not one of "
                            f"{', '.join(sorted(FIELD_TYPES))}")
        if f.name in seen_names:
            problems.append(f"field {f.name!r} appears twice")
        if f.property_name in seen_properties:
            problems.append(f"property {f.property_name!r} is filled by two fields")
        seen_names.add(f.name)
        seen_properties.add(f.property_name)
    if not form.allow_submissions_without_email and STANDARD_EMAIL_PROPERTY not in seen_properties:
        problems.append("a form that needs an email must have a field mapped to 'email'")
    if problems:
        raise InvalidForm(problems)
    return form


@dataclass(frozen=True)
class SubmissionPlan:
    """What one submission writes: the address that finds the contact (or None:
    always a new contact) and the property values, keyed by property name."""

    email: str | None
    values: Mapping[str, str]

    def values_for_new_contact(self, form: FormDefinition) -> dict[str, str]:
        """R-LIFE-3: a new contact starts where the form's kind says."""
        stage = lifecycle.initial_stage("FORM", form.subscription)
        return {**self.values, lifecycle.LIFECYCLE_PROPERTY: stage}

    def values_for_existing_contact(self) -> dict[str, str]:
        """An existing contact keeps its stage; the address it was found by is unchanged."""
        return {k: v for k, v in self.values.items() if k != STANDARD_EMAIL_PROPERTY}


def plan_submission(form: FormDefinition, submitted: Sequence[tuple[str, str]]) -> SubmissionPlan:
    """Check the submitted (name, value) pairs against the form; InvalidSubmission
    names every problem at once."""
    problems: list[SubmissionProblem] = []
    if len(submitted) > MAX_FIELDS_PER_SUBMISSION:
        raise InvalidSubmission([SubmissionProblem(
            "fields", "TOO_MANY_FIELDS",
            f"at most {MAX_FIELDS_PER_SUBMISSION} fields per submission")])
    values: dict[str, str] = {}
    email: str | None = None
    for name, raw in submitted:
        form_field = form.field(name)
        if form_field is None:
            problems.append(SubmissionProblem(name, "FIELD_NOT_IN_FORM_DEFINITION",
                                              f"field {name!r} is not a field of this form"))
            continue
        if len(raw) > MAX_FIELD_VALUE_LENGTH:
            problems.append(SubmissionProblem(name, "VALUE_TOO_LONG",
                                              f"field {name!r} is longer than "
                                              f"{MAX_FIELD_VALUE_LENGTH} characters"))
            continue
        if is_blank(raw):
            continue
        value = raw.strip()
        if form_field.field_type == "email" or form_field.identifies_contact:
            try:
                value = normalise_email(value)
            except InvalidEmailAddress:
                problems.append(SubmissionProblem(name, "INVALID_EMAIL",
                                                  f"field {name!r}: {raw!r} is not an email "
                                                  "address"))
                continue
        if form_field.identifies_contact:
            email = value
        if form_field.property_name in values and form_field.field_type == "checkbox":
            value = values[form_field.property_name] + ";" + value  # multi-select options
        values[form_field.property_name] = value
    answered = {name for name, raw in submitted if not is_blank(raw)}
    for f in form.fields:
        if f.required and f.name not in answered:
            problems.append(SubmissionProblem(f.name, "REQUIRED_FIELD",
                                              f"field {f.name!r} is required"))
    email_fields = {f.name for f in form.fields if f.identifies_contact}
    already_named = any(p.field in email_fields for p in problems)
    if email is None and not form.allow_submissions_without_email and not already_named:
        problems.append(SubmissionProblem(STANDARD_EMAIL_PROPERTY, "MISSING_EMAIL",
                                          "this form needs an email address"))
    if problems:
        raise InvalidSubmission(problems)
    return SubmissionPlan(email, values)
