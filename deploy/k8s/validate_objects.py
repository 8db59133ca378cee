"""Validate rendered Kubernetes objects against the API's schemas.

Run with the interpreter of the venv deploy/k8s/tools.sh makes:

    .local/cache/k8s-venv/bin/python deploy/k8s/validate_objects.py 1.31 rendered.yaml

Built-in kinds are validated strictly (unknown fields are errors) against
the OpenAPI schemas kubernetes-validate ships for that Kubernetes version.
Custom resources (Strimzi, CloudNativePG) have no schema there: they get a
structural check only (apiVersion, kind, metadata.name and spec present).
Prints one JSON list of problems, empty when everything is valid.
"""

import json
import sys

import kubernetes_validate
import yaml


def problems_of(obj: dict, kubernetes_version: str) -> list[str]:
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        missing = [f for f in ("apiVersion", "kind", "spec") if not obj.get(f)]
        if not (obj.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        return [f"custom resource without {field}" for field in missing]
    except kubernetes_validate.ValidationError as error:
        path = "/".join(str(p) for p in error.path)
        return [f"{path}: {error.message}"]
    return []


def main(kubernetes_version: str, filenames: list[str]) -> None:
    found = []
    for filename in filenames:
        with open(filename) as f:
            for obj in yaml.safe_load_all(f):
                if not obj:
                    continue
                name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
                for problem in problems_of(obj, kubernetes_version):
                    found.append({"object": name, "problem": problem})
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
