"""Offline checks of the alert rules, dashboard and runbooks (deploy/monitoring,
docs/runbooks) and of their Kubernetes component.

promtool (built once by `deploy/k8s/tools.sh promtool` from the Go module
proxy into the machine-level tools cache: ~5 min and 3.3 GB the first time on a 2-core
machine, instant later) checks the rules and runs their unit tests in
deploy/monitoring/alerts_test.yaml. The rest is plain Python.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crm_platform import metrics
from tests.deploy.tools_cache import TOOLS_CACHE

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RUNBOOKS = ROOT / "docs" / "runbooks"
COMPONENT = ROOT / "deploy" / "k8s" / "components" / "monitoring"
PROMTOOL = TOOLS_CACHE / "bin" / "promtool-v0.316.0"
METRIC_NAME = re.compile(r"\b(crm_[a-z_]+)")
RUNBOOK_SECTIONS = ("**Means.**", "**Confirm.**", "**Fix.**")


def alerts() -> list[dict]:
    groups = yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def exported_series() -> set[str]:
    """The series names crm_platform.metrics exposes."""
    names = set()
    for value in vars(metrics).values():
        kind = getattr(value, "_type", None)
        name = getattr(value, "_name", None)
        if kind == "counter":
            names.add(f"{name}_total")
        elif kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "gauge":
            names.add(name)
    return names


@pytest.fixture(scope="session")
def promtool() -> Path:
    subprocess.run(["bash", str(ROOT / "deploy/k8s/tools.sh"), "promtool"], check=True, cwd=ROOT)
    return PROMTOOL


def test_promtool_accepts_the_rules_and_their_unit_tests_pass(promtool):
    for args in (["check", "rules", "alerts.yaml"], ["test", "rules", "alerts_test.yaml"]):
        done = subprocess.run([str(promtool), *args], cwd=MONITORING,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_every_alert_is_unit_tested_firing():
    tests = yaml.safe_load((MONITORING / "alerts_test.yaml").read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test["alert_rule_test"]
             if case.get("exp_alerts")}
    assert {a["alert"] for a in alerts()} <= fired


def test_rules_and_dashboard_use_only_metrics_the_platform_exports():
    known = exported_series()
    for text in [a["expr"] for a in alerts()] + dashboard_exprs():
        unknown = set(METRIC_NAME.findall(text)) - known
        assert not unknown, f"{unknown} in {text!r} is not in crm_platform.metrics"


def test_every_metric_an_alert_watches_is_on_the_dashboard():
    on_dashboard = {m for e in dashboard_exprs() for m in METRIC_NAME.findall(e)}
    for alert in alerts():
        missing = set(METRIC_NAME.findall(alert["expr"])) - on_dashboard
        assert not missing, f"{alert['alert']} watches {missing}, which no panel shows"


def test_every_alert_has_a_runbook_with_meaning_confirmation_and_fix():
    for alert in alerts():
        page = Path("docs/runbooks") / f"{alert['alert']}.md"
        assert alert["annotations"]["runbook_url"] == str(page)
        text = (ROOT / page).read_text()
        assert text.startswith(f"# {alert['alert']}\n")
        for section in RUNBOOK_SECTIONS:
            assert section in text, f"{page} lacks {section}"
        assert alert["labels"]["severity"] in ("warning", "critical")


def test_dead_letter_runbooks_say_how_to_replay():
    assert "deploy/local/replay_dlq.py" in (RUNBOOKS / "CRMDeadLetters.md").read_text()
    assert "## Replaying dead-lettered messages" in (RUNBOOKS / "README.md").read_text()


def test_the_component_matches_deploy_monitoring():
    sys.path.insert(0, str(ROOT / "deploy" / "k8s"))
    try:
        import gen_monitoring
    finally:
        sys.path.pop(0)
    for name, render in gen_monitoring.GENERATED.items():
        assert (COMPONENT / name).read_text() == render(), (
            f"{name} is stale: run `uv run python deploy/k8s/gen_monitoring.py` and commit it")


def test_the_pod_monitor_scrapes_the_port_every_server_names_http():
    monitor = yaml.safe_load((COMPONENT / "podmonitor.yaml").read_text())
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "http"
    for deployment in (ROOT / "deploy/k8s/base").glob("*/deployment.yaml"):
        spec = yaml.safe_load(deployment.read_text())
        labels = spec["spec"]["template"]["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items(), deployment
        ports = spec["spec"]["template"]["spec"]["containers"][0]["ports"]
        assert any(p["name"] == "http" for p in ports), deployment
