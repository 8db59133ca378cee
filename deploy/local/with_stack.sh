#!/usr/bin/env bash
# with_stack.sh CMD...: run CMD against the real platform, for tests and
# benchmarks. Starts whatever of the stack (not Zipkin: tests trace in memory)
# and the services is not running yet, creates the topics, runs CMD with the
# services' settings in its environment, then stops only what it started.
# Exits with CMD's status.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

PARTS=(kafka postgres redis nginx smtp)
started_parts=()
started_services=()

cleanup() {
  local status=$?
  trap - EXIT
  if ((${#started_services[@]})); then bash "$HERE/services.sh" down "${started_services[@]}" || true; fi
  if ((${#started_parts[@]})); then bash "$HERE/stack.sh" down "${started_parts[@]}" || true; fi
  exit "$status"
}
trap cleanup EXIT

uv sync --all-packages --quiet

for part in "${PARTS[@]}"; do
  bash "$HERE/stack.sh" status "$part" >/dev/null || started_parts+=("$part")
done
if ((${#started_parts[@]})); then bash "$HERE/stack.sh" up "${started_parts[@]}"; fi
uv run python "$HERE/create_topics.py"

mapfile -t services < <(bash "$HERE/services.sh" list)
for svc in "${services[@]}"; do
  bash "$HERE/services.sh" status "$svc" >/dev/null || started_services+=("$svc")
done
if ((${#started_services[@]})); then bash "$HERE/services.sh" up "${started_services[@]}"; fi

eval "$(bash "$HERE/env.sh")"
say "running: $*"
"$@"
