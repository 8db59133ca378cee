#!/usr/bin/env bash
# Installs the tools the offline manifest checks need (tests/deploy), once:
#   $CACHE/bin/kustomize        built from the Go module proxy
#   $CACHE/k8s-venv/            a venv with kubernetes-validate (PyPI)
# Everything lives in a machine-level cache (below), so a second run, from any
# checkout, is a no-op and works without the network. Prints nothing but errors unless asked
# (TOOLS_VERBOSE=1).
#
# Measured on a 2-core machine: kustomize cold ~30 s (module download and
# compile), kubernetes-validate ~2 s; warm, this script returns in ~0.1 s.
set -euo pipefail

# v5.8.1 is the newest kustomize whose go.mod asks for no newer Go than the
# machine's (v5.8.2 needs go 1.26, v5.8.3 go 1.27).
KUSTOMIZE_VERSION="v5.8.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Tools are pinned by version and shared by every checkout on the machine
# (a fresh clone, CI) from a machine-level cache; CRM_TOOLS_CACHE moves it.
CACHE="${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-platform-tools}"
BIN="$CACHE/bin"
VENV="$CACHE/k8s-venv"

say() { if [[ "${TOOLS_VERBOSE:-0}" == "1" ]]; then echo "tools.sh: $*" >&2; fi; }

mkdir -p "$BIN"
# The Go toolchain of this machine kind lives in /usr/local/go.
command -v go >/dev/null || PATH="/usr/local/go/bin:$PATH"

if [[ "$("$BIN/kustomize" version 2>/dev/null || true)" != "$KUSTOMIZE_VERSION" ]]; then
    say "building kustomize $KUSTOMIZE_VERSION from the Go module proxy"
    # Module cache and build cache under .local/cache/go so later builds are
    # offline; -modcacherw keeps that cache deletable by rm -rf.
    GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go/build" \
        GOFLAGS="-modcacherw" GOTOOLCHAIN=local GOBIN="$BIN" \
        go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi

if ! "$VENV/bin/python" -c "import kubernetes_validate.version as v, sys; \
sys.exit(v.__version__ != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
    say "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $VENV"
    # A venv of its own: the root pyproject.toml stays free of deploy tooling,
    # and the check runs it as a subprocess (deploy/k8s/validate_objects.py).
    uv venv --quiet --allow-existing --python 3.11 "$VENV"
    VIRTUAL_ENV="$VENV" uv pip install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

say "ready: $BIN/kustomize, $VENV/bin/python"

# `tools.sh promtool` also builds promtool, which tests the alert rules of
# deploy/monitoring. Only on demand: measured here, its first build took
# 5 min 17 s of 2 cores and 3.3 GB of memory (Prometheus compiles every
# service-discovery client); later runs find it in the cache.
# v0.316.0 is Prometheus 3.16.0 (its Go module numbering); its go.mod asks
# for go 1.26.7 and has no replace directive, so `go install` can build it.
PROMTOOL_VERSION="v0.316.0"
if [[ "${1:-}" == "promtool" && ! -x "$BIN/promtool-$PROMTOOL_VERSION" ]]; then
    say "building promtool $PROMTOOL_VERSION from the Go module proxy (minutes)"
    GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go/build" \
        GOFLAGS="-modcacherw" GOTOOLCHAIN=local GOBIN="$BIN" \
        go install "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
    # promtool prints no version when built this way: the name records it.
    mv "$BIN/promtool" "$BIN/promtool-$PROMTOOL_VERSION"
fi
