"""Association types and rules, no I/O (R-REC-6, R-REC-7)."""

from __future__ import annotations

import pytest

from crm_records.domain import associations as rules
from crm_records.domain.associations import STANDARD_TYPES, InvalidAssociation


def test_hosted_type_ids_and_their_inverses():  # R-REC-6
    contact_to_company = rules.DEFAULT_TYPE_BY_PAIR[("contacts", "companies")]
    assert contact_to_company.type_id == 279 and contact_to_company.inverse_id == 280
    assert rules.DEFAULT_TYPE_BY_PAIR[("deals", "contacts")].type_id == 3
    assert rules.DEFAULT_TYPE_BY_PAIR[("contacts", "deals")].type_id == 4
    assert rules.DEFAULT_TYPE_BY_PAIR[("notes", "contacts")].type_id == 202
    assert STANDARD_TYPES[1].primary and STANDARD_TYPES[1].inverse_id == 2
    for t in STANDARD_TYPES.values():  # every type's inverse points back at it
        back = STANDARD_TYPES[t.inverse_id]
        assert back.inverse_id == t.type_id
        assert (back.from_type, back.to_type) == (t.to_type, t.from_type)


def test_v3_type_names():  # R-REC-6
    assert rules.type_name(STANDARD_TYPES[1]) == "contact_to_company"
    assert rules.type_name(STANDARD_TYPES[279]) == "contact_to_company_unlabeled"
    assert rules.type_name(STANDARD_TYPES[3]) == "deal_to_contact"


def test_a_type_must_join_the_two_object_types():  # R-REC-6
    with pytest.raises(InvalidAssociation):
        rules.check_types("contacts", "deals", [STANDARD_TYPES[279]])
    rules.check_types("contacts", "companies", [STANDARD_TYPES[279], STANDARD_TYPES[1]])


def test_an_association_always_holds_its_default_type():  # R-REC-6
    chosen = rules.with_default(STANDARD_TYPES[279], [STANDARD_TYPES[1]])
    assert {t.type_id for t in chosen} == {279, 1}


def test_a_new_primary_company_takes_the_flag_from_the_old_one():  # R-REC-6
    assert rules.primary_moves(None, 5) is None
    assert rules.primary_moves(5, 5) is None
    assert rules.primary_moves(4, 5) == 4


def test_only_record_engagement_pairs_are_capped():  # R-REC-7
    assert rules.is_engagement_pair("contacts", "notes")
    assert rules.is_engagement_pair("emails", "deals")
    assert not rules.is_engagement_pair("contacts", "companies")
    assert not rules.is_engagement_pair("notes", "tasks")
