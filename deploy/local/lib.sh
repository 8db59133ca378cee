# Shared helpers of the deploy/local scripts: paths, pid files, waiting.
# Sourced, never run. Every script keeps its state under .local/ (git-ignored).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$REPO/.local"
CACHE="$LOCAL/cache"
RUN="$LOCAL/run"
HERE="$REPO/deploy/local"

say() { echo "[local] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# True when PID runs. A zombie (exited, not yet reaped by this machine's
# init, which can take seconds) counts as gone.
alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# True when the pid in FILE belongs to a live process.
pid_alive() { [[ -s "$1" ]] && alive "$(cat "$1")"; }

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Poll (never a fixed sleep) until CHECK... succeeds or SECONDS_MAX pass.
wait_until() {
  local seconds_max=$1; shift
  local deadline=$((SECONDS + seconds_max))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Where the local PostgreSQL keeps its data and Unix socket: .local/run/postgres,
# or a folder under /var/tmp when the postgres user cannot enter the checkout.
PG_AWAY_ROOT="/var/tmp/crm-postgres-$(echo -n "$REPO" | sha1sum | cut -c1-12)"

# The host part of a DSN for the local PostgreSQL: its Unix-socket folder,
# percent-encoded (asyncpg reads it; crm_platform.db.sqlalchemy_url turns it into
# psycopg's form), once the server has made the socket there; else 127.0.0.1. On one
# machine a socket round trip costs client and server ~30 % less CPU than loopback
# TCP (48.9 + 24.5 against 32.2 + 20.5 us, 2026-11-23).
pg_dsn_host() {
  local dir
  for dir in "$RUN/postgres" "$PG_AWAY_ROOT"; do
    if [[ -S $dir/.s.PGSQL.15432 && $dir =~ ^[A-Za-z0-9._/-]+$ ]]; then
      echo "${dir//\//%2F}"; return
    fi
  done
  echo 127.0.0.1
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

# start_bg PIDFILE LOGFILE CMD...: run CMD in the background, detached from
# the terminal's signals, with its pid in PIDFILE and its output in LOGFILE.
start_bg() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# stop_pid PIDFILE [SECONDS]: SIGTERM, wait for the exit, SIGKILL if it hangs.
stop_pid() {
  local pidfile=$1 seconds=${2:-20} pid
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$seconds" eval "! alive $pid"; then
    say "pid $pid did not stop in ${seconds}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Print the end of a log so a failed start explains itself.
show_tail() { say "last lines of $1:"; tail -n "${2:-40}" "$1" >&2 || true; }

# wait_started PIDFILE LOG SECONDS CHECK...: poll CHECK until it succeeds; fail
# at once, with the log's tail, if the process dies or SECONDS pass.
wait_started() {
  local pidfile=$1 log=$2 seconds=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    pid_alive "$pidfile" || { show_tail "$log"; die "$(basename "$pidfile" .pid) exited while starting"; }
    ((SECONDS < deadline)) || { show_tail "$log"; die "$(basename "$pidfile" .pid) not ready after ${seconds}s"; }
    sleep 0.2
  done
}
