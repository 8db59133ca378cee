"""The standard properties of every standard object type, under the hosted CRM's names.

A client written for the hosted API reads and writes these names unchanged.
Read-only ones (`read_only=True`) are written only by the platform: ids and
timestamps by the store, roll-ups by the activity consumer (R-ROLL-1),
health fields by the health-score events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_records.domain.lifecycle import LIFECYCLE_STAGES
from crm_records.domain.properties import (
    BOOL_OPTIONS,
    PropertyDefinition,
    PropertyGroup,
    PropertyOption,
)


def _options(*pairs: tuple[str, str] | str) -> tuple[PropertyOption, ...]:
    """Options from values (label derived) or (value, label) pairs, in display order."""
    built = []
    for order, pair in enumerate(pairs):
        value, label = pair if isinstance(pair, tuple) else (pair, pair.replace("_", " ").title())
        built.append(PropertyOption(label, value, order))
    return tuple(built)


def _p(name: str, label: str, type_: str, group: str, *, field: str | None = None,
       options: tuple[PropertyOption, ...] = (), **flags: Any) -> PropertyDefinition:
    default_field = {"string": "text", "number": "number", "date": "date", "datetime": "date",
                     "enumeration": "select", "bool": "booleancheckbox"}[type_]
    if type_ == "bool":
        options = BOOL_OPTIONS
    return PropertyDefinition(name=name, label=label, type=type_, field_type=field or default_field,
                              group_name=group, options=options, hubspot_defined=True, **flags)


def _read_only(name: str, label: str, type_: str, group: str, **kw: Any) -> PropertyDefinition:
    return _p(name, label, type_, group, read_only=True, calculated=True, **kw)


def _common(group: str) -> list[PropertyDefinition]:
    """Every object type has these. The store stamps both create and modification
    names on every type; the hosted CRM spells them per type (contacts lead with
    createdate/lastmodifieddate, the others with hs_lastmodifieddate)."""
    return [
        _read_only("hs_object_id", "Record ID", "number", group),
        _p("createdate", "Create Date", "datetime", group),
        _read_only("lastmodifieddate", "Last Modified Date", "datetime", group),
        _read_only("hs_createdate", "Object create date/time", "datetime", group),
        _read_only("hs_lastmodifieddate", "Object last modified date/time", "datetime", group),
        _read_only("hs_merged_object_ids", "Merged record IDs", "string", group),
        _p("hubspot_owner_id", "Owner", "enumeration", group, user_type=True),
    ]


def _activity_rollups(group: str) -> list[PropertyDefinition]:
    return [
        _read_only("notes_last_contacted", "Last contacted", "datetime", group),
        _read_only("notes_last_updated", "Last activity date", "datetime", group),
    ]


def _health(group: str) -> list[PropertyDefinition]:
    """Written from the health score service's events; the bands are its (R-HLTH-1)."""
    return [
        _read_only("health_score", "Health score", "number", group),
        _read_only("health_status", "Health status", "enumeration", group,
                   options=_options(("at_risk", "At risk"), ("neutral", "Neutral"),
                                    ("healthy", "Healthy"))),
    ]


def _analytics(group: str) -> list[PropertyDefinition]:
    """Page-view roll-ups written by the tracking handler (R-MKT-2), and the email
    reachability a list send reads (R-MKT-3)."""
    return [
        _read_only("hs_analytics_num_page_views", "Number of Pageviews", "number", group),
        _read_only("hs_analytics_first_url", "First Page Seen", "string", group),
        _read_only("hs_analytics_last_url", "Last Page Seen", "string", group),
        _read_only("hs_analytics_first_timestamp", "Time First Seen", "datetime", group),
        _read_only("hs_analytics_last_timestamp", "Time Last Seen", "datetime", group),
        _p("hs_email_optout", "Unsubscribed from all email", "bool", group),
        _p("hs_email_hard_bounce_reason_enum", "Email hard bounce reason", "enumeration",
           group, options=_options("BAD_MAILBOX", "POLICY", "DOMAIN", "UNKNOWN")),
    ]


LIFECYCLE_LABELS = {
    "subscriber": "Subscriber", "lead": "Lead",
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead", "opportunity": "Opportunity",
    "customer": "Customer", "evangelist": "Evangelist", "other": "Other",
}
_LIFECYCLE = _options(*((stage, LIFECYCLE_LABELS[stage]) for stage in LIFECYCLE_STAGES))


def _lifecycle(group: str) -> PropertyDefinition:
    return _p("lifecyclestage", "Lifecycle Stage", "enumeration", group, field="radio",
              options=_LIFECYCLE)


def _contacts() -> list[PropertyDefinition]:
    g = "contactinformation"
    return [
        *_common(g), *_activity_rollups(g), *_health(g), *_analytics(g), _lifecycle(g),
        _p("email", "Email", "string", g, has_unique_value=True, holds_email_address=True,
           form_field=True),
        _read_only("hs_additional_emails", "Additional email addresses", "string", g),
        _p("firstname", "First Name", "string", g, form_field=True),
        _p("lastname", "Last Name", "string", g, form_field=True),
        _p("jobtitle", "Job Title", "string", g, form_field=True),
        _p("company", "Company Name", "string", g, form_field=True),
        _p("phone", "Phone Number", "string", g, field="phonenumber", form_field=True),
        _p("mobilephone", "Mobile Phone Number", "string", g, field="phonenumber"),
        _p("fax", "Fax Number", "string", g),
        _p("website", "Website URL", "string", g),
        _p("address", "Street Address", "string", g),
        _p("city", "City", "string", g),
        _p("state", "State/Region", "string", g),
        _p("zip", "Postal Code", "string", g),
        _p("country", "Country/Region", "string", g),
        _p("hs_lead_status", "Lead Status", "enumeration", g, field="radio", options=_options(
            "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
            "CONNECTED", "BAD_TIMING")),
        _read_only("hs_analytics_source", "Original Source", "enumeration", g, options=_options(
            "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
            "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL")),
    ]


def _companies() -> list[PropertyDefinition]:
    g = "companyinformation"
    return [
        *_common(g), *_activity_rollups(g), *_health(g), _lifecycle(g),
        _p("name", "Company name", "string", g),
        _p("domain", "Company Domain Name", "string", g),
        _read_only("hs_additional_domains", "Additional Domains", "string", g),
        _p("website", "Website URL", "string", g),
        _p("phone", "Phone Number", "string", g, field="phonenumber"),
        _p("description", "Description", "string", g, field="textarea"),
        _p("industry", "Industry", "string", g),
        _p("type", "Type", "enumeration", g, options=_options(
            "PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
        _p("numberofemployees", "Number of Employees", "number", g),
        _p("annualrevenue", "Annual Revenue", "number", g),
        _p("city", "City", "string", g),
        _p("state", "State/Region", "string", g),
        _p("country", "Country/Region", "string", g),
    ]


def _deals() -> list[PropertyDefinition]:
    g = "dealinformation"
    return [
        *_common(g), *_activity_rollups(g),
        _p("dealname", "Deal Name", "string", g),
        _p("pipeline", "Pipeline", "enumeration", g, external_options=True),
        _p("dealstage", "Deal Stage", "enumeration", g, field="radio", external_options=True),
        _p("amount", "Amount", "number", g),
        _p("closedate", "Close Date", "datetime", g),
        _p("dealtype", "Deal Type", "enumeration", g, field="radio", options=_options(
            ("newbusiness", "New Business"), ("existingbusiness", "Existing Business"))),
        _p("description", "Deal Description", "string", g, field="textarea"),
        _p("closed_lost_reason", "Closed Lost Reason", "string", g, field="textarea"),
        _p("closed_won_reason", "Closed Won Reason", "string", g, field="textarea"),
        _read_only("hs_deal_stage_probability", "Deal probability", "number", g),
        _read_only("hs_is_closed", "Is Deal Closed?", "bool", g),
        _read_only("hs_is_closed_won", "Is Closed Won", "bool", g),
    ]


def _tickets() -> list[PropertyDefinition]:
    g = "ticketinformation"
    return [
        *_common(g), *_activity_rollups(g),
        _p("subject", "Ticket name", "string", g),
        _p("content", "Ticket description", "string", g, field="textarea"),
        _p("hs_pipeline", "Pipeline", "enumeration", g, external_options=True),
        _p("hs_pipeline_stage", "Ticket status", "enumeration", g, external_options=True),
        _p("hs_ticket_priority", "Priority", "enumeration", g, options=_options(
            "LOW", "MEDIUM", "HIGH", "URGENT")),
        _p("hs_ticket_category", "Category", "enumeration", g, field="checkbox", options=_options(
            "PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY")),
        _p("source_type", "Source", "enumeration", g, options=_options(
            "CHAT", "EMAIL", "FORM", "PHONE")),
        _p("closed_date", "Close date", "datetime", g),
    ]


def _services() -> list[PropertyDefinition]:
    g = "serviceinformation"
    return [
        *_common(g), *_activity_rollups(g),
        _p("hs_name", "Name", "string", g),
        _p("hs_description", "Description", "string", g, field="textarea"),
        _p("hs_pipeline", "Pipeline", "enumeration", g, external_options=True),
        _p("hs_pipeline_stage", "Stage", "enumeration", g, external_options=True),
        _p("hs_start_date", "Start date", "date", g),
        _p("hs_target_end_date", "Target end date", "date", g),
    ]


def _engagement(group: str, *specific: PropertyDefinition) -> list[PropertyDefinition]:
    # hs_timestamp places the engagement on the timeline (R-REC-7).
    return [*_common(group), _p("hs_timestamp", "Activity date", "datetime", group), *specific]


def _tasks() -> list[PropertyDefinition]:
    g = "task"
    return _engagement(
        g,
        _p("hs_task_subject", "Task Title", "string", g),
        _p("hs_task_body", "Notes", "string", g, field="html"),
        _p("hs_task_status", "Task Status", "enumeration", g, options=_options(
            "NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")),
        _p("hs_task_priority", "Priority", "enumeration", g, options=_options(
            "NONE", "LOW", "MEDIUM", "HIGH")),
        _p("hs_task_type", "Task Type", "enumeration", g, options=_options(
            "TODO", "CALL", "EMAIL")),
        _read_only("hs_task_completion_date", "Completed at", "datetime", g),
    )


def _calls() -> list[PropertyDefinition]:
    g = "call"
    return _engagement(
        g,
        _p("hs_call_title", "Call Title", "string", g),
        _p("hs_call_body", "Call notes", "string", g, field="html"),
        _p("hs_call_duration", "Call duration (ms)", "number", g),
        _p("hs_call_direction", "Call direction", "enumeration", g, options=_options(
            "INBOUND", "OUTBOUND")),
        _p("hs_call_status", "Call status", "enumeration", g, options=_options(
            "BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
            "IN_PROGRESS", "MISSED", "NO_ANSWER", "QUEUED", "RINGING")),
        _p("hs_call_disposition", "Call outcome", "string", g),
        _p("hs_call_from_number", "From number", "string", g, field="phonenumber"),
        _p("hs_call_to_number", "To number", "string", g, field="phonenumber"),
    )


def _notes() -> list[PropertyDefinition]:
    return _engagement("note", _p("hs_note_body", "Note body", "string", "note", field="html"))


def _emails() -> list[PropertyDefinition]:
    g = "email"
    return _engagement(
        g,
        _p("hs_email_subject", "Subject", "string", g),
        _p("hs_email_html", "Body (HTML)", "string", g, field="html"),
        _p("hs_email_text", "Body (text)", "string", g, field="textarea"),
        _p("hs_email_direction", "Email direction", "enumeration", g, options=_options(
            "EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL")),
        _p("hs_email_status", "Email send status", "enumeration", g, options=_options(
            "BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT")),
        _p("hs_email_from_email", "From", "string", g),
        _p("hs_email_to_email", "To", "string", g),
        _p("hs_email_cc_email", "Cc", "string", g),
        _p("hs_email_bcc_email", "Bcc", "string", g),
    )


def _meetings() -> list[PropertyDefinition]:
    g = "meeting"
    return _engagement(
        g,
        _p("hs_meeting_title", "Meeting name", "string", g),
        _p("hs_meeting_body", "Meeting description", "string", g, field="html"),
        _p("hs_internal_meeting_notes", "Internal notes", "string", g, field="html"),
        _p("hs_meeting_start_time", "Start time", "datetime", g),
        _p("hs_meeting_end_time", "End time", "datetime", g),
        _p("hs_meeting_location", "Location", "string", g),
        _p("hs_meeting_outcome", "Meeting outcome", "enumeration", g, options=_options(
            "SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")),
    )


def _by_name(definitions: list[PropertyDefinition]) -> dict[str, PropertyDefinition]:
    return {d.name: d for d in definitions}


STANDARD_PROPERTIES: Mapping[str, Mapping[str, PropertyDefinition]] = {
    "contacts": _by_name(_contacts()),
    "companies": _by_name(_companies()),
    "deals": _by_name(_deals()),
    "tickets": _by_name(_tickets()),
    "services": _by_name(_services()),
    "tasks": _by_name(_tasks()),
    "calls": _by_name(_calls()),
    "notes": _by_name(_notes()),
    "emails": _by_name(_emails()),
    "meetings": _by_name(_meetings()),
}

STANDARD_GROUPS: Mapping[str, tuple[PropertyGroup, ...]] = {
    object_type: tuple(
        PropertyGroup(name, name.replace("information", " information").capitalize(), order)
        for order, name in enumerate(dict.fromkeys(d.group_name for d in definitions.values()))
    )
    for object_type, definitions in STANDARD_PROPERTIES.items()
}


def custom_object_base_properties() -> dict[str, PropertyDefinition]:
    """What every custom object has before its schema adds its own (pipelines too: R-PIPE-1)."""
    g = "custom"
    return _by_name([
        *_common(g), *_activity_rollups(g), *_health(g),  # a custom object may be the customer
        _p("hs_pipeline", "Pipeline", "enumeration", g, external_options=True),
        _p("hs_pipeline_stage", "Stage", "enumeration", g, external_options=True),
    ])
