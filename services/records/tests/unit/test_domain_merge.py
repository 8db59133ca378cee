from crm_records.domain.merge import merge_properties


# R-REC-10
def test_blank_primary_values_are_filled_and_filled_ones_are_kept():
    merged, filled = merge_properties(
        {"hs_object_id": "1", "firstname": "Ann", "lastname": None, "jobtitle": ""},
        {"hs_object_id": "2", "firstname": "Anna", "lastname": "Lee", "jobtitle": "CTO",
         "phone": "+44 1"},
    )
    assert merged["firstname"] == "Ann"
    assert (merged["lastname"], merged["jobtitle"], merged["phone"]) == ("Lee", "CTO", "+44 1")
    assert merged["hs_object_id"] == "1"
    assert filled == ["hs_merged_object_ids", "jobtitle", "lastname", "phone"]


# R-REC-10
def test_the_primary_keeps_its_email_and_the_secondarys_becomes_additional():
    merged, filled = merge_properties(
        {"hs_object_id": "1", "email": "ann@a.com", "hs_additional_emails": "old@a.com"},
        {"hs_object_id": "2", "email": "ann@b.com", "hs_additional_emails": "ANN@a.com;x@b.com"},
    )
    assert merged["email"] == "ann@a.com"
    assert merged["hs_additional_emails"] == "old@a.com;x@b.com;ann@b.com"
    assert "email" not in filled and "hs_additional_emails" in filled


# R-REC-10
def test_a_primary_without_email_takes_the_secondarys():
    merged, _ = merge_properties({"hs_object_id": "1", "email": None},
                                 {"hs_object_id": "2", "email": "ann@b.com"})
    assert merged["email"] == "ann@b.com"
    assert merged.get("hs_additional_emails") is None


# R-REC-10
def test_company_domains_follow_the_email_rule():
    merged, _ = merge_properties({"hs_object_id": "1", "domain": "a.com"},
                                 {"hs_object_id": "2", "domain": "b.com"})
    assert (merged["domain"], merged["hs_additional_domains"]) == ("a.com", "b.com")


# R-REC-10
def test_the_older_create_date_is_kept():
    older, newer = "2020-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z"
    merged, filled = merge_properties({"createdate": newer}, {"createdate": older})
    assert merged["createdate"] == older and "createdate" in filled
    merged, filled = merge_properties({"createdate": older}, {"createdate": newer})
    assert merged["createdate"] == older and "createdate" not in filled


# R-REC-10, R-LIFE-2
def test_the_furthest_lifecycle_stage_is_kept():
    assert merge_properties({"lifecyclestage": "lead"},
                            {"lifecyclestage": "customer"})[0]["lifecyclestage"] == "customer"
    assert merge_properties({"lifecyclestage": "customer"},
                            {"lifecyclestage": "lead"})[0]["lifecyclestage"] == "customer"


# R-REC-10, R-ROLL-2
def test_rollups_keep_the_newer_time_as_timelines_are_united():
    merged, _ = merge_properties({"notes_last_contacted": "2024-01-01T00:00:00.000Z"},
                                 {"notes_last_contacted": "2024-02-01T00:00:00.000Z"})
    assert merged["notes_last_contacted"] == "2024-02-01T00:00:00.000Z"


# R-REC-10: the secondary id will resolve to the primary
def test_merged_ids_accumulate_across_merges():
    merged, _ = merge_properties(
        {"hs_object_id": "1", "hs_merged_object_ids": "5"},
        {"hs_object_id": "2", "hs_merged_object_ids": "7;1"},
    )
    assert merged["hs_merged_object_ids"] == "5;2;7"


# R-REC-10
def test_the_store_owned_stamps_are_never_taken_from_the_secondary():
    merged, filled = merge_properties({"hs_object_id": "1"},
                                      {"hs_object_id": "2", "hs_lastmodifieddate": "x",
                                       "lastmodifieddate": "y"})
    assert "hs_lastmodifieddate" not in merged and "lastmodifieddate" not in merged
    assert filled == ["hs_merged_object_ids"]
