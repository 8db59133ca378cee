"""The types of the standard customer properties (R-REC-2), used until the account's
own property definitions arrive on crm.properties.v1 (those win: custom properties
and any change of a definition come only from there)."""

from __future__ import annotations

_COMMON = {
    "hs_object_id": "number", "createdate": "datetime", "lastmodifieddate": "datetime",
    "hs_createdate": "datetime", "hs_lastmodifieddate": "datetime",
    "hubspot_owner_id": "enumeration", "notes_last_contacted": "datetime",
    "notes_last_updated": "datetime", "lifecyclestage": "enumeration",
}

STANDARD_PROPERTY_TYPES: dict[str, dict[str, str]] = {
    "companies": {**_COMMON, "name": "string", "domain": "string", "website": "string",
                  "phone": "string", "description": "string", "industry": "string",
                  "type": "enumeration", "numberofemployees": "number",
                  "annualrevenue": "number", "city": "string", "state": "string",
                  "country": "string"},
    "contacts": {**_COMMON, "email": "string", "firstname": "string", "lastname": "string",
                 "jobtitle": "string", "company": "string", "phone": "string",
                 "city": "string", "state": "string", "country": "string",
                 "hs_lead_status": "enumeration"},
}


def standard_types(object_type: str) -> dict[str, str]:
    return dict(STANDARD_PROPERTY_TYPES.get(object_type, _COMMON))
