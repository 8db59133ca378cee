"""R-REC-5: the contact header is first name, last name, job title and the
primary associated company, and nothing else."""

from crm_records.domain.header import HEADER_PROPERTIES, PrimaryCompany, contact_header


def test_header_shows_the_fixed_fields_and_the_primary_company():  # R-REC-5
    properties = {"firstname": "Ann", "lastname": "Jansen", "jobtitle": "CTO",
                  "email": "ann@example.com", "company": "Typed Company Ltd"}
    header = contact_header(properties, PrimaryCompany(42, "Acme"))
    assert header == {"firstname": "Ann", "lastname": "Jansen", "jobtitle": "CTO",
                      "primaryCompany": {"id": "42", "name": "Acme"}}
    assert HEADER_PROPERTIES == ("firstname", "lastname", "jobtitle")


def test_free_text_company_is_not_the_header_company():  # R-REC-5 R-REC-6
    header = contact_header({"firstname": "Bo", "company": "Typed Company Ltd"}, None)
    assert header["primaryCompany"] is None
    assert header["jobtitle"] is None
