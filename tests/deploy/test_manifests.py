"""Offline checks of the Kubernetes manifests under deploy/k8s.

Every overlay is rendered with kustomize, validated against the Kubernetes
API schemas, and held to the policies below. Each policy is a small function
from rendered objects to a list of problems (empty = fine); each has a test
that feeds it a deliberately broken object, so a policy that stopped finding
anything would fail here too.

Tools come from deploy/k8s/tools.sh (kept in a machine-level cache; the first
run builds kustomize from the Go module proxy, ~30 s).
"""

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from crm_contracts.topics import ALL_TOPICS, TopicSpec
from tests.deploy.tools_cache import TOOLS_CACHE

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZE = TOOLS_CACHE / "bin" / "kustomize"
VALIDATOR_PYTHON = TOOLS_CACHE / "k8s-venv" / "bin" / "python"
KUBERNETES_VERSION = "1.31"
OVERLAYS = ["dev", "prod"]
# Secrets an overlay refers to but does not render: the operator creates them.
EXTERNAL_SECRETS = {"dev": set(), "prod": {"crm-external"}}
SERVICES = {
    "records": 8001, "search": 8002, "workspace": 8003,
    "healthscore": 8004, "exports": 8005, "notifications": 8006,
}
REGENERATE_TOPICS = (
    "run `uv run python deploy/k8s/gen_topics.py` and commit "
    "deploy/k8s/components/kafka-strimzi/topics.yaml"
)
POD_OWNERS = ("Deployment", "Job")


# --- rendering ---------------------------------------------------------------

@pytest.fixture(scope="session")
def tools() -> None:
    subprocess.run(["bash", str(K8S / "tools.sh")], check=True, cwd=ROOT)


def kustomize_build(overlay: str) -> str:
    done = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / "overlays" / overlay)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 0, f"kustomize build {overlay} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def rendered_text(tools) -> dict[str, str]:
    return {overlay: kustomize_build(overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="session")
def rendered(rendered_text) -> dict[str, list[dict]]:
    return {o: [d for d in yaml.safe_load_all(text) if d] for o, text in rendered_text.items()}


@pytest.fixture
def dev_objects(rendered) -> list[dict]:
    """A private copy of the dev render, for the tests that break objects."""
    return copy.deepcopy(rendered["dev"])


# --- helpers over objects ------------------------------------------------------

def name_of(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: list[dict], *kinds: str) -> list[dict]:
    return [o for o in objects if o["kind"] in kinds]


def named(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def selector_matches(selector: dict, labels: dict) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def same_namespace(a: dict, b: dict) -> bool:
    return a["metadata"].get("namespace") == b["metadata"].get("namespace")


# --- policies: each returns the problems it finds ----------------------------

def probe_problems(objects: list[dict]) -> list[str]:
    """Every container of a Deployment has liveness, readiness and startup probes."""
    return [
        f"{name_of(d)} container {c['name']} has no {probe}"
        for d in of_kind(objects, "Deployment")
        for c in pod_spec(d)["containers"]
        for probe in ("livenessProbe", "readinessProbe", "startupProbe")
        if probe not in c
    ]


def resource_problems(objects: list[dict]) -> list[str]:
    """Every container asks for and is capped at CPU and memory."""
    return [
        f"{name_of(w)} container {c['name']} has no {kind}.{resource}"
        for w in of_kind(objects, *POD_OWNERS)
        for c in pod_spec(w)["containers"]
        for kind in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in c.get("resources", {}).get(kind, {})
    ]


def security_problems(objects: list[dict]) -> list[str]:
    """Every container runs as non-root, read-only, unprivileged, without capabilities."""
    found = []
    for w in of_kind(objects, *POD_OWNERS):
        pod_sc = pod_spec(w).get("securityContext", {})
        for c in pod_spec(w)["containers"]:
            sc = c.get("securityContext", {})
            where = f"{name_of(w)} container {c['name']}"
            if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
                found.append(f"{where}: runAsNonRoot is not true")
            if sc.get("readOnlyRootFilesystem") is not True:
                found.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                found.append(f"{where}: allowPrivilegeEscalation is not false")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                found.append(f"{where}: capabilities do not drop ALL")
            seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
            if seccomp.get("type") != "RuntimeDefault":
                found.append(f"{where}: seccompProfile is not RuntimeDefault")
    return found


def pdb_problems(objects: list[dict]) -> list[str]:
    """Every Deployment has a PodDisruptionBudget that selects its pods and
    still lets a node drain (minAvailable below the replica count)."""
    found = []
    for d in of_kind(objects, "Deployment"):
        pdbs = [
            p for p in of_kind(objects, "PodDisruptionBudget")
            if same_namespace(p, d) and selector_matches(p["spec"]["selector"], pod_labels(d))
        ]
        if not pdbs:
            found.append(f"{name_of(d)} has no PodDisruptionBudget selecting its pods")
        for p in pdbs:
            min_available = p["spec"].get("minAvailable")
            if isinstance(min_available, int) and min_available >= d["spec"].get("replicas", 1):
                found.append(f"{name_of(p)} minAvailable {min_available} blocks every drain "
                             f"of {name_of(d)} ({d['spec'].get('replicas', 1)} replicas)")
    return found


def network_policy_problems(objects: list[dict]) -> list[str]:
    """Every pod we run is selected by a NetworkPolicy that limits both
    ingress and egress."""
    found = []
    for w in of_kind(objects, *POD_OWNERS):
        covered = set()
        for np in of_kind(objects, "NetworkPolicy"):
            if same_namespace(np, w) and selector_matches(np["spec"]["podSelector"], pod_labels(w)):
                covered |= set(np["spec"].get("policyTypes", ["Ingress"]))
        for direction in sorted({"Ingress", "Egress"} - covered):
            found.append(f"{name_of(w)} has no NetworkPolicy limiting its {direction.lower()}")
    return found


def ingress_backend_problems(objects: list[dict]) -> list[str]:
    """Every Ingress path points at a Service of the render, on a port it has."""
    found = []
    for ing in of_kind(objects, "Ingress"):
        for rule in ing["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                services = [
                    s for s in of_kind(objects, "Service")
                    if s["metadata"]["name"] == backend["name"] and same_namespace(s, ing)
                ]
                where = f"{name_of(ing)} path {path['path']}"
                if not services:
                    found.append(f"{where}: no Service {backend['name']}")
                    continue
                ports = services[0]["spec"]["ports"]
                wanted = backend["port"]
                if not any(p["port"] == wanted.get("number") or p.get("name") == wanted.get("name")
                           for p in ports):
                    found.append(f"{where}: Service {backend['name']} has no port {wanted}")
    return found


def service_selector_problems(objects: list[dict]) -> list[str]:
    """Every Service of ours selects the pods of exactly one Deployment, and
    never the migration Jobs' pods (they would get traffic while running)."""
    found = []
    for s in of_kind(objects, "Service"):
        selector = s["spec"].get("selector")
        if not selector:
            continue  # operators' Services (none rendered here) may have none
        hits = [
            w for w in of_kind(objects, *POD_OWNERS)
            if same_namespace(w, s) and selector_matches({"matchLabels": selector}, pod_labels(w))
        ]
        if [w["kind"] for w in hits] != ["Deployment"]:
            found.append(f"{name_of(s)} selects {[name_of(w) for w in hits]}, "
                         "not exactly one Deployment")
    return found


def reference_problems(objects: list[dict], external_secrets: set[str]) -> list[str]:
    """Every Secret and ConfigMap a pod refers to is rendered (or is one of the
    Secrets the operator creates), and has the key asked for."""
    rendered = {
        (o["kind"], o["metadata"]["name"]): o for o in of_kind(objects, "Secret", "ConfigMap")
    }
    found = []

    def check(kind: str, name: str, key: str | None, where: str) -> None:
        if kind == "Secret" and name in external_secrets:
            return
        obj = rendered.get((kind, name))
        if obj is None:
            found.append(f"{where}: no {kind} {name}")
        elif key is not None and key not in {**obj.get("data", {}), **obj.get("stringData", {})}:
            found.append(f"{where}: {kind} {name} has no key {key}")

    for w in of_kind(objects, *POD_OWNERS):
        spec = pod_spec(w)
        for c in spec["containers"] + spec.get("initContainers", []):
            where = f"{name_of(w)} container {c['name']}"
            for source in c.get("envFrom", []):
                if "secretRef" in source:
                    check("Secret", source["secretRef"]["name"], None, where)
                if "configMapRef" in source:
                    check("ConfigMap", source["configMapRef"]["name"], None, where)
            for env in c.get("env", []):
                ref = env.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    check("Secret", ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"], where)
                if "configMapKeyRef" in ref:
                    r = ref["configMapKeyRef"]
                    check("ConfigMap", r["name"], r["key"], where)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                check("ConfigMap", volume["configMap"]["name"], None, f"{name_of(w)} volume")
            if "secret" in volume:
                check("Secret", volume["secret"]["secretName"], None, f"{name_of(w)} volume")
    return found


def topic_problems(objects: list[dict], topics: list[TopicSpec]) -> list[str]:
    """Every topic of crm_contracts.topics has a KafkaTopic with its
    partitions and retention."""
    kafka_topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(objects, "KafkaTopic")}
    found = []
    for topic in topics:
        spec = kafka_topics.get(topic.name)
        if spec is None:
            found.append(f"topic {topic.name} has no KafkaTopic")
        elif (spec.get("partitions"), spec.get("config", {}).get("retention.ms")) != (
                topic.partitions, topic.retention_ms):
            found.append(f"KafkaTopic {topic.name} has partitions {spec.get('partitions')} and "
                         f"retention.ms {spec.get('config', {}).get('retention.ms')}, the contract "
                         f"says {topic.partitions} and {topic.retention_ms}")
    return found


# --- every overlay renders, validates and keeps the policies -----------------

def schema_problems(manifest: Path) -> list[dict]:
    """deploy/k8s/validate_objects.py, run in the venv of tools.sh."""
    done = subprocess.run(
        [str(VALIDATOR_PYTHON), str(K8S / "validate_objects.py"), KUBERNETES_VERSION,
         str(manifest)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_against_the_kubernetes_schemas(overlay, rendered_text, tmp_path):
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered_text[overlay])
    assert schema_problems(manifest) == []


def test_the_validator_rejects_an_unknown_field_and_a_custom_resource_without_spec(tools, tmp_path):
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
         "spec": {"ports": [{"port": 80}], "selectr": {"a": "b"}}},
        {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "t"}},
    ]))
    assert [p["object"] for p in schema_problems(manifest)] == ["Service/x", "KafkaTopic/t"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("policy", [
    probe_problems, resource_problems, security_problems, pdb_problems,
    network_policy_problems, ingress_backend_problems, service_selector_problems,
])
def test_overlay_keeps_policy(overlay, policy, rendered):
    assert policy(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_and_config_map_referred_to_exists(overlay, rendered):
    assert reference_problems(rendered[overlay], EXTERNAL_SECRETS[overlay]) == []


def test_every_topic_of_the_contracts_has_a_kafka_topic(rendered):
    problems = topic_problems(rendered["dev"], ALL_TOPICS)
    assert problems == [], f"{problems}: {REGENERATE_TOPICS}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_is_deployed_with_its_migration_job(overlay, rendered):
    objects = rendered[overlay]
    for service, port in SERVICES.items():
        container = pod_spec(named(objects, "Deployment", service))["containers"][0]
        assert container["args"] == ["serve"]
        assert {"name": "http", "containerPort": port, "protocol": "TCP"} in container["ports"]
        migrate = pod_spec(named(objects, "Job", f"{service}-migrate"))["containers"][0]
        assert migrate["args"] == ["migrate"] and migrate["image"] == container["image"]
        # PlatformSettings listen on 127.0.0.1 unless told: kubelet probes and
        # peers connect to the pod IP.
        config = named(objects, "ConfigMap", container["envFrom"][0]["configMapRef"]["name"])
        prefix = service.upper()
        assert config["data"][f"{prefix}_HOST"] == "0.0.0.0"
        assert config["data"][f"{prefix}_PORT"] == str(port)


def local_gateway_routes() -> set[tuple[str, str]]:
    """(path, service) of deploy/local/nginx/routes.conf, regexes without
    their ^ and prefixes without their trailing slash."""
    text = (ROOT / "deploy" / "local" / "nginx" / "routes.conf").read_text()
    found = set()
    for path, service in re.findall(
            r"^location\s+(?:~\s+)?(\S+)\s*\{\s*proxy_pass\s+http://([\w-]+)", text, re.M):
        found.add((path.removeprefix("^").rstrip("/") or "/", service))
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_routes_what_the_local_gateway_routes(overlay, rendered):
    ingress = named(rendered[overlay], "Ingress", "crm")
    routes = {
        (path["path"].rstrip("/") if path["pathType"] == "Prefix" else path["path"],
         path["backend"]["service"]["name"])
        for path in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert routes == local_gateway_routes(), "change deploy/k8s/base/ingress.yaml with routes.conf"


def test_prod_runs_three_replicas_and_scales_to_ten(rendered):
    objects = rendered["prod"]
    for service in SERVICES:
        assert named(objects, "Deployment", service)["spec"]["replicas"] == 3
        assert named(objects, "PodDisruptionBudget", service)["spec"] == {
            "minAvailable": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": service}}}
        hpa = named(objects, "HorizontalPodAutoscaler", service)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    # The operator's Secret is referred to, never generated.
    secrets = [s["metadata"]["name"] for s in of_kind(objects, "Secret")]
    assert not [name for name in secrets if name.startswith("crm-external")]
    volumes = pod_spec(named(objects, "Deployment", "exports"))["volumes"]
    claim = {"claimName": "exports-files"}
    assert {"name": "export-files", "persistentVolumeClaim": claim} in volumes


def test_dev_runs_one_replica_of_each_service(rendered):
    for service in SERVICES:
        assert named(rendered["dev"], "Deployment", service)["spec"]["replicas"] == 1


def test_the_image_runs_as_the_user_the_manifests_expect(rendered):
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    assert "\nUSER 10001:10001\n" in dockerfile
    for service in SERVICES:
        assert pod_spec(named(rendered["prod"], "Deployment", service))["securityContext"][
            "runAsUser"] == 10001


# --- each policy fails on a broken object ---------------------------------------

def test_probe_policy_fails_without_a_startup_probe(dev_objects):
    del pod_spec(named(dev_objects, "Deployment", "search"))["containers"][0]["startupProbe"]
    assert probe_problems(dev_objects) == ["Deployment/search container search has no startupProbe"]


def test_resource_policy_fails_without_a_memory_limit(dev_objects):
    del pod_spec(named(dev_objects, "Job", "records-migrate"))["containers"][0]["resources"][
        "limits"]["memory"]
    assert resource_problems(dev_objects) == [
        "Job/records-migrate container migrate has no limits.memory"]


@pytest.mark.parametrize("field, broken, problem", [
    ("runAsNonRoot", False, "runAsNonRoot is not true"),
    ("readOnlyRootFilesystem", False, "readOnlyRootFilesystem is not true"),
    ("allowPrivilegeEscalation", True, "allowPrivilegeEscalation is not false"),
    ("capabilities", {"drop": ["NET_RAW"]}, "capabilities do not drop ALL"),
])
def test_security_policy_fails_on_a_weakened_container(dev_objects, field, broken, problem):
    pod_spec(named(dev_objects, "Deployment", "exports"))["containers"][0]["securityContext"][
        field] = broken
    assert security_problems(dev_objects) == [f"Deployment/exports container exports: {problem}"]


def test_security_policy_fails_without_a_seccomp_profile(dev_objects):
    del pod_spec(named(dev_objects, "Deployment", "redis"))["securityContext"]["seccompProfile"]
    assert security_problems(dev_objects) == [
        "Deployment/redis container redis: seccompProfile is not RuntimeDefault"]


def test_pdb_policy_fails_when_no_budget_selects_the_pods(dev_objects):
    named(dev_objects, "PodDisruptionBudget", "workspace")["spec"]["selector"] = {
        "matchLabels": {"app.kubernetes.io/name": "work-space"}}
    assert pdb_problems(dev_objects) == [
        "Deployment/workspace has no PodDisruptionBudget selecting its pods"]


def test_pdb_policy_fails_when_the_budget_blocks_every_drain(dev_objects):
    spec = named(dev_objects, "PodDisruptionBudget", "healthscore")["spec"]
    del spec["maxUnavailable"]
    spec["minAvailable"] = 1
    assert pdb_problems(dev_objects) == [
        "PodDisruptionBudget/healthscore minAvailable 1 blocks every drain "
        "of Deployment/healthscore (1 replicas)"]


def test_network_policy_policy_fails_for_an_unselected_deployment(dev_objects):
    dev_objects.remove(named(dev_objects, "NetworkPolicy", "notifications"))
    assert network_policy_problems(dev_objects) == [
        "Deployment/notifications has no NetworkPolicy limiting its egress",
        "Deployment/notifications has no NetworkPolicy limiting its ingress",
    ]


def test_ingress_policy_fails_on_a_missing_service_or_port(dev_objects):
    paths = named(dev_objects, "Ingress", "crm")["spec"]["rules"][0]["http"]["paths"]
    paths[0]["backend"]["service"]["name"] = "serach"
    paths[1]["backend"]["service"]["port"] = {"number": 80}
    assert ingress_backend_problems(dev_objects) == [
        "Ingress/crm path /crm/v3/objects/[^/]+/search/?$: no Service serach",
        "Ingress/crm path /search/v1: Service search has no port {'number': 80}",
    ]


def test_service_policy_fails_when_a_service_selects_the_migration_job(dev_objects):
    service = named(dev_objects, "Service", "records")
    service["spec"]["selector"] = {"app.kubernetes.io/part-of": "crm"}
    [problem] = service_selector_problems(dev_objects)
    assert problem.startswith("Service/records selects") and "Job/records-migrate" in problem


def test_reference_policy_fails_on_a_missing_secret_key(dev_objects):
    secret = next(s for s in of_kind(dev_objects, "Secret")
                  if s["metadata"]["name"].startswith("crm-external"))
    del secret["data"]["operator-key"]
    problems = reference_problems(dev_objects, external_secrets=set())
    assert len(problems) == 2 * len(SERVICES)  # every server and every migration Job
    assert all(p.endswith("has no key operator-key") for p in problems)


def test_reference_policy_fails_on_an_unknown_secret_unless_external(rendered):
    prod = rendered["prod"]
    assert reference_problems(prod, external_secrets=set())
    assert reference_problems(prod, external_secrets={"crm-external"}) == []


def test_topic_policy_fails_for_a_topic_without_kafka_topic(dev_objects):
    new_topic = TopicSpec("crm.example.v1", 3, 86_400_000, "records", "an example")
    changed = TopicSpec(ALL_TOPICS[0].name, ALL_TOPICS[0].partitions + 1,
                        ALL_TOPICS[0].retention_ms, "records", "more partitions")
    problems = topic_problems(dev_objects, [new_topic, changed])
    assert problems[0] == "topic crm.example.v1 has no KafkaTopic"
    assert problems[1].startswith(f"KafkaTopic {changed.name} has partitions")
    assert len(problems) == 2
