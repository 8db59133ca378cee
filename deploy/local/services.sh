#!/usr/bin/env bash
# The platform's own services, run from the workspace:
#   deploy/local/services.sh up|down|status|list [records search workspace ...]
# Each runs as `uv run --package crm-<svc> crm-<svc> serve` (which migrates its
# database first) with the settings of env.sh, logs to
# .local/run/services/<svc>.log and counts as up when /livez answers 200.
# RECORDS_REPLICAS=2 (any <SVC>_REPLICAS=2) adds a second replica on port+100,
# started once the first has migrated.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

SERVICES=(records:8001 search:8002 workspace:8003 healthscore:8004 exports:8005 notifications:8006)
STATE="$RUN/services"

port_of() {
  local entry
  for entry in "${SERVICES[@]}"; do
    if [[ ${entry%:*} == "$1" ]]; then echo "${entry#*:}"; return 0; fi
  done
  return 1
}

# Services that exist in this checkout. A member without src/crm_<svc>/main.py
# is still being written and has no `serve` yet: it is skipped, with a warning.
present_services() {
  local entry svc
  for entry in "${SERVICES[@]}"; do
    svc=${entry%:*}
    [[ -f services/$svc/pyproject.toml ]] || continue
    if [[ -f services/$svc/src/crm_$svc/main.py ]]; then echo "$svc"
    else say "services/$svc has no src/crm_$svc/main.py yet: not started"; fi
  done
}

# instances SVC: "name port" of each replica (name is svc, then svc-2).
instances() {
  local svc=$1 port replicas
  port=$(port_of "$svc")
  replicas="${svc^^}_REPLICAS"
  echo "$svc $port"
  ((${!replicas:-1} < 2)) || echo "$svc-2 $((port + 100))"
}

start_instance() {
  local svc=$1 name=$2 port=$3
  if pid_alive "$STATE/$name.pid"; then say "$name already running on :$port"; return 0; fi
  mkdir -p "$STATE"
  echo "=== $(date -Is) starting $name on :$port" >>"$STATE/$name.log"
  (
    export "${svc^^}_PORT=$port"
    start_bg "$STATE/$name.pid" "$STATE/$name.log" uv run --package "crm-$svc" "crm-$svc" serve
  )
}

wait_instance() {
  local name=$1 port=$2
  # A service migrates its store before it answers; a migration that rewrites a
  # table of existing local data (search 0007/0009: minutes per million
  # documents) needs longer than a start. A crash still stops the wait at once.
  wait_started "$STATE/$name.pid" "$STATE/$name.log" "${CRM_SERVICE_START_SECONDS:-600}" \
    http_ok "http://127.0.0.1:$port/livez"
  say "$name up at http://127.0.0.1:$port"
}

# up: first replicas together (each migrates its own database), then the second ones.
up() {
  eval "$(bash "$HERE/env.sh")"
  local replica svc name port
  for replica in 1 2; do
    local started=()
    for svc in "$@"; do
      read -r name port < <(instances "$svc" | sed -n "${replica}p") || continue
      start_instance "$svc" "$name" "$port"
      started+=("$name:$port")
    done
    for name in "${started[@]}"; do wait_instance "${name%:*}" "${name#*:}"; done
  done
}

down() {
  local svc pidfile
  for svc in "$@"; do
    for pidfile in "$STATE/$svc.pid" "$STATE/$svc-2.pid"; do
      pid_alive "$pidfile" || { rm -f "$pidfile"; continue; }
      stop_pid "$pidfile" 30
      say "$(basename "$pidfile" .pid) stopped"
    done
  done
}

status() {
  local svc name port down=0
  for svc in "$@"; do
    while read -r name port; do
      if pid_alive "$STATE/$name.pid" && http_ok "http://127.0.0.1:$port/livez"; then
        echo "$name: running at http://127.0.0.1:$port"
      else
        echo "$name: stopped"; down=1
      fi
    done < <(instances "$svc")
  done
  return $((down * 3))
}

main() {
  local command=${1:-}
  shift || true
  local chosen=("$@") svc
  if ((${#chosen[@]} == 0)); then mapfile -t chosen < <(present_services); fi
  for svc in "${chosen[@]}"; do
    port_of "$svc" >/dev/null || die "unknown service '$svc'"
  done
  case $command in
    up) up "${chosen[@]}" ;;
    down) down "${chosen[@]}" ;;
    status) status "${chosen[@]}" ;;
    list) printf '%s\n' "${chosen[@]}" ;;
    *) die "usage: $0 up|down|status|list [records search workspace healthscore exports notifications]" ;;
  esac
}

main "$@"
