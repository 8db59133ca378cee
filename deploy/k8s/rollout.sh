#!/usr/bin/env bash
# Roll out an overlay with the schema migrations first:
#   deploy/k8s/rollout.sh dev|prod
# 1. delete the last release's migration Jobs (a Job's pod template cannot
#    change, so a new image needs a new Job);
# 2. apply everything except the services' Deployments: config, Secrets
#    (dev), Services, NetworkPolicies, the stores (dev) and the new Jobs;
# 3. wait until every migration Job has completed; stop here if one fails;
# 4. apply everything, which rolls the Deployments onto the new image.
# Uses the cluster and namespace of the current kubectl context.
set -euo pipefail

OVERLAY="${1:?usage: rollout.sh dev|prod}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
bash "$HERE/tools.sh"
RENDERED="$(mktemp)"
trap 'rm -f "$RENDERED"' EXIT
"$ROOT/.local/cache/bin/kustomize" build "$HERE/overlays/$OVERLAY" > "$RENDERED"
NAMESPACE="$(awk '/^kind: Namespace/{ns=1} ns && /^  name:/{print $2; exit}' "$RENDERED")"

kubectl delete job -n "$NAMESPACE" -l app.kubernetes.io/component=migration \
    --ignore-not-found --wait=true
# "!=" also selects objects without the label (the Namespace, operators' CRs).
kubectl apply -f "$RENDERED" -l 'app.kubernetes.io/component!=server'
for job in $(kubectl get job -n "$NAMESPACE" -l app.kubernetes.io/component=migration -o name); do
    # Each Job ends Complete or Failed (backoffLimit, activeDeadlineSeconds).
    until kubectl wait -n "$NAMESPACE" "$job" --for=condition=complete --timeout=5s >/dev/null 2>&1; do
        if kubectl wait -n "$NAMESPACE" "$job" --for=condition=failed --timeout=1s >/dev/null 2>&1; then
            echo "rollout.sh: $job failed; the Deployments were not touched" >&2
            kubectl logs -n "$NAMESPACE" "$job" --tail=50 >&2 || true
            exit 1
        fi
    done
    echo "rollout.sh: $job complete"
done
kubectl apply -f "$RENDERED"
kubectl rollout status -n "$NAMESPACE" deployment -l app.kubernetes.io/component=server \
    --timeout=10m
