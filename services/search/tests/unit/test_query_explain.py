"""Why is this record not shown? (R-SRCH-4)"""

import pytest

from crm_search.domain.explain import Reason, ReasonKind, Visibility, explain_exclusion
from crm_search.domain.query import SearchRequestInvalid, parse_search_request

TYPES = {"amount": "number", "lifecyclestage": "enumeration"}
RECORD = {"firstname": "Ann", "amount": "50", "lifecyclestage": "lead"}


def search(*groups):
    return parse_search_request(
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": name, "operator": operator, "value": value}
                        for name, operator, value in group
                    ]
                }
                for group in groups
            ]
        }
    )


def test_a_matching_record_has_no_reasons():
    # R-SRCH-4
    query = search([("amount", "GT", "10"), ("firstname", "EQ", "ann")])
    assert explain_exclusion(RECORD, False, query, TYPES) == []


def test_the_failing_filter_of_each_group_is_named():
    # R-SRCH-4: "excluded by filter X of group N"
    query = search(
        [("firstname", "EQ", "ann"), ("amount", "GT", "100")],
        [("lifecyclestage", "EQ", "customer"), ("amount", "LT", "10"), ("firstname", "EQ", "x")],
    )
    reasons = explain_exclusion(RECORD, False, query, TYPES)
    assert [(r.kind, r.group_index, r.filter_index) for r in reasons] == [
        (ReasonKind.FILTER, 0, 1),
        (ReasonKind.FILTER, 1, 0),
        (ReasonKind.FILTER, 1, 1),
        (ReasonKind.FILTER, 1, 2),
    ]
    first = reasons[0]
    assert (first.property_name, first.operator) == ("amount", "GT")
    assert first.message == (
        "Excluded by filter 1 of group 0 (amount GT '100'): the record has value '50'."
    )


def test_one_passing_group_is_enough():
    # R-SRCH-4: groups are ORed, so a failing group alone excludes nothing
    query = search([("amount", "GT", "100")], [("firstname", "EQ", "ANN")])
    assert explain_exclusion(RECORD, False, query, TYPES) == []


def test_a_missing_value_is_said_so():
    # R-SRCH-4
    query = search([("email", "HAS_PROPERTY", None)])
    (reason,) = explain_exclusion(RECORD, False, query, TYPES)
    assert reason.message.endswith("the record has no value.")


def test_archived_and_permission_reasons_come_first():
    # R-SRCH-4: hidden by which permission
    hidden = Visibility(False, "contacts: view scope 'owned'; the record is owned by user 12")
    reasons = explain_exclusion(RECORD, True, search([("amount", "GT", "100")]), TYPES, hidden)
    assert [r.kind for r in reasons] == [
        ReasonKind.ARCHIVED,
        ReasonKind.PERMISSION,
        ReasonKind.FILTER,
    ]
    assert reasons[1].message == hidden.reason
    assert explain_exclusion(RECORD, False, search(), TYPES, Visibility(True)) == []
    assert explain_exclusion(RECORD, False, search(), TYPES, Visibility(False))[0].message == (
        "Hidden by permission."
    )


def test_association_filters_use_the_given_associations():
    # R-SRCH-4
    query = search([("associations.company", "EQ", "123")])
    assert explain_exclusion(RECORD, False, query, TYPES, associations={("companies", 123)}) == []
    (reason,) = explain_exclusion(RECORD, False, query, TYPES, associations={("deals", 123)})
    assert "its associations" in reason.message


def test_not_indexed_has_the_same_shape():
    # R-SRCH-4: not yet indexed
    reason = Reason.not_indexed("contacts", 42)
    assert reason.kind is ReasonKind.NOT_INDEXED and "contacts 42" in reason.message


def test_a_search_that_cannot_run_cannot_be_explained():
    # R-SRCH-4
    with pytest.raises(SearchRequestInvalid, match="amount"):
        explain_exclusion(RECORD, False, search([("amount", "EQ", "lots")]), TYPES)
