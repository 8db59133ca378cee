#!/usr/bin/env bash
# The servers the platform runs on, started from this repository alone:
#   deploy/local/stack.sh up|down|status [kafka postgres redis nginx zipkin smtp]
# (default: all). Ports are fixed in docs/DEVELOPING.md. Downloads go to
# .local/cache, data, logs and pid files to .local/run/<part>. Idempotent: a
# part that already runs is left alone, and a warm cache downloads nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ALL_PARTS=(kafka postgres redis nginx zipkin smtp)
PG_BIN=/usr/lib/postgresql/15/bin
# The search index of a million contacts is ~1.5 GB with its indexes; PostgreSQL's
# default 128 MB makes every search page in from the OS cache (docs/sizing.md).
PG_SHARED_BUFFERS=${CRM_PG_SHARED_BUFFERS:-1GB}
DATABASES=(crm_records crm_search crm_workspace crm_healthscore crm_exports crm_notifications)
# service name -> first replica's port; a second replica listens on port+100.
UPSTREAMS=(records:8001 search:8002 workspace:8003 healthscore:8004 exports:8005 notifications:8006)
KAFKA_LIBS="$CACHE/kafka-libs"
ZIPKIN_JAR="$CACHE/zipkin/zipkin-server-3.5.1-exec.jar"

# --- Debian packages -------------------------------------------------------

# Install, in one apt-get run, the packages whose programs the parts need.
ensure_packages() {
  local -A needed=()
  local part
  for part in "$@"; do
    case $part in
      kafka | zipkin) command -v java >/dev/null || needed[openjdk-17-jre-headless]=1
                      command -v mvn >/dev/null || needed[maven]=1 ;;
      postgres) [[ -x $PG_BIN/initdb ]] || needed[postgresql]=1 ;;
      redis) command -v redis-server >/dev/null || needed[redis-server]=1 ;;
      nginx) command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || needed[nginx]=1 ;;
    esac
  done
  command -v curl >/dev/null || needed[curl]=1
  ((${#needed[@]})) || return 0
  ((EUID == 0)) || die "missing packages, install as root: apt-get install -y ${!needed[*]}"
  say "installing ${!needed[*]} (apt-get)"
  # Keep the packages' own services (postgresql on 5432, nginx on 80) from starting.
  local block_services=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    block_services=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${!needed[@]}" >/dev/null
  ((block_services == 0)) || rm -f /usr/sbin/policy-rc.d
}

# --- Kafka (Maven Central jars, KRaft single node) -------------------------

# maven LOG ARGS...: a quiet Maven run on the cache's repository; its output
# goes to LOG and is shown only when it fails.
maven() {
  local log=$1; shift
  mkdir -p "$CACHE"
  mvn -q -B -Dmaven.repo.local="$CACHE/m2" "$@" >"$log" 2>&1 || { show_tail "$log"; die "mvn failed"; }
}

kafka_libs() {
  local want
  want=$(sha256sum "$HERE/kafka/pom.xml" | cut -d' ' -f1)
  [[ "$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null)" == "$want" ]] && return 0
  say "kafka: downloading jars from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  maven "$CACHE/kafka-download.log" -f "$HERE/kafka/pom.xml" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS"
  rm -rf "$HERE/kafka/target"
  echo "$want" >"$KAFKA_LIBS/.pom.sha256"
}

start_kafka() {
  local run="$RUN/kafka"
  pid_alive "$run/kafka.pid" && { say "kafka already running"; return 0; }
  kafka_libs
  mkdir -p "$run"
  sed "s|@RUN@|$run|g" "$HERE/kafka/server.properties.in" >"$run/server.properties"
  if [[ ! -f $run/data/meta.properties ]]; then
    local cluster_id
    cluster_id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid)
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format --standalone \
      -t "$cluster_id" -c "$run/server.properties" >"$run/format.log"
  fi
  start_bg "$run/kafka.pid" "$run/kafka.log" java -Xms512m -Xmx1g \
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$run/server.properties"
}
wait_kafka() { wait_started "$RUN/kafka/kafka.pid" "$RUN/kafka/kafka.log" 60 port_open 19092; }
stop_kafka() { stop_pid "$RUN/kafka/kafka.pid" 30; }
status_kafka() { pid_alive "$RUN/kafka/kafka.pid" && port_open 19092; }

# --- PostgreSQL 15 (Debian package) ----------------------------------------

# The server refuses to run as root, so as root it runs as the `postgres`
# user, on a folder that user owns. When that user cannot reach the
# repository (say, a clone under /root), the cluster lives under /var/tmp,
# keyed by the repository's path, and .local/run/postgres/data links to it.
pg_root() {
  local here="$RUN/postgres"
  mkdir -p "$here"
  if ((EUID != 0)); then echo "$here"; return; fi
  chown postgres:postgres "$here"
  if runuser -u postgres -- test -w "$here" -a -x "$here"; then echo "$here"; return; fi
  local away=$PG_AWAY_ROOT
  mkdir -p "$away" && chown postgres:postgres "$away" && chmod 700 "$away"
  [[ -L $here/data ]] || ln -sfn "$away/data" "$here/data"
  echo "$away"
}
# (From /: the postgres user may not be able to enter the current folder.)
as_postgres() { if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

start_postgres() {
  local root
  root=$(pg_root)
  if [[ ! -s $root/data/PG_VERSION ]]; then
    as_postgres "$PG_BIN/initdb" -D "$root/data" -A trust -U postgres -E UTF8 \
      --locale=C.UTF-8 >"$root/initdb.log"
  fi
  if as_postgres "$PG_BIN/pg_ctl" -D "$root/data" status >/dev/null; then
    say "postgres already running"; return 0
  fi
  as_postgres "$PG_BIN/pg_ctl" -D "$root/data" -l "$root/postgres.log" -w -t 60 \
    -o "-p 15432 -k $root -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=$PG_SHARED_BUFFERS" \
    start >/dev/null \
    || { show_tail "$root/postgres.log"; die "postgres did not start"; }
}
wait_postgres() {
  # One database per service, created when missing.
  psql -h 127.0.0.1 -p 15432 -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<SQL >/dev/null
SELECT format('CREATE DATABASE %I', name)
FROM unnest(string_to_array('${DATABASES[*]}', ' ')) AS name
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = name)
\gexec
SQL
}
stop_postgres() {
  local root
  root=$(pg_root)
  [[ -s $root/data/PG_VERSION ]] || return 0
  if as_postgres "$PG_BIN/pg_ctl" -D "$root/data" status >/dev/null; then
    as_postgres "$PG_BIN/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null
  fi
}
status_postgres() {
  local root
  root=$(pg_root)
  [[ -s $root/data/PG_VERSION ]] && as_postgres "$PG_BIN/pg_ctl" -D "$root/data" status >/dev/null
}

# --- Redis (Debian package), no persistence --------------------------------

start_redis() {
  local run="$RUN/redis"
  pid_alive "$run/redis.pid" && { say "redis already running"; return 0; }
  mkdir -p "$run"
  start_bg "$run/redis.pid" "$run/redis.log" redis-server --bind 127.0.0.1 --port 16379 \
    --dir "$run" --save '' --appendonly no --daemonize no
}
wait_redis() { wait_started "$RUN/redis/redis.pid" "$RUN/redis/redis.log" 30 port_open 16379; }
stop_redis() { stop_pid "$RUN/redis/redis.pid"; }
status_redis() { pid_alive "$RUN/redis/redis.pid" && port_open 16379; }

# --- nginx (Debian package): the gateway -----------------------------------

# upstream blocks; <SVC>_REPLICAS=2 adds the second replica on port+100.
nginx_upstreams() {
  local entry svc port replicas
  for entry in "${UPSTREAMS[@]}"; do
    svc=${entry%:*} port=${entry#*:}
    replicas="${svc^^}_REPLICAS"
    echo "    upstream $svc {"
    echo "        server 127.0.0.1:$port;"
    ((${!replicas:-1} < 2)) || echo "        server 127.0.0.1:$((port + 100));"
    echo "        keepalive 16;"
    echo "    }"
  done
}

nginx_config() {
  local prefix=$1 conf user=""
  ((EUID != 0)) || user="user root;"  # workers must reach the temp folders under .local
  conf=$(<"$HERE/nginx/nginx.conf.in")
  conf=${conf//@PREFIX@/$prefix}
  conf=${conf//@USER@/$user}
  conf=${conf//@ROUTES@/$HERE/nginx/routes.conf}
  conf=${conf//@UPSTREAMS@/$(nginx_upstreams)}
  printf '%s\n' "$conf"
}

start_nginx() {
  local prefix="$RUN/nginx"
  mkdir -p "$prefix/tmp"
  nginx_config "$prefix" >"$prefix/nginx.conf.new"
  nginx -q -t -p "$prefix" -c "$prefix/nginx.conf.new" -e "$prefix/error.log" \
    || die "nginx configuration is invalid"
  if pid_alive "$prefix/nginx.pid"; then
    if cmp -s "$prefix/nginx.conf.new" "$prefix/nginx.conf"; then
      say "nginx already running"
    else
      say "nginx: configuration changed, reloading"
      mv "$prefix/nginx.conf.new" "$prefix/nginx.conf"
      kill -HUP "$(cat "$prefix/nginx.pid")"
    fi
    rm -f "$prefix/nginx.conf.new"
    return 0
  fi
  mv "$prefix/nginx.conf.new" "$prefix/nginx.conf"
  start_bg "$prefix/nginx.pid" "$prefix/nginx.out" \
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log"
}
wait_nginx() { wait_started "$RUN/nginx/nginx.pid" "$RUN/nginx/error.log" 30 port_open 8080; }
stop_nginx() { stop_pid "$RUN/nginx/nginx.pid"; }
status_nginx() { pid_alive "$RUN/nginx/nginx.pid" && port_open 8080; }

# --- Zipkin (Maven Central jar): the trace UI ------------------------------

start_zipkin() {
  local run="$RUN/zipkin"
  pid_alive "$run/zipkin.pid" && { say "zipkin already running"; return 0; }
  if [[ ! -s $ZIPKIN_JAR ]]; then
    say "zipkin: downloading the server jar from Maven Central"
    mkdir -p "$(dirname "$ZIPKIN_JAR")"
    (cd "$CACHE" && maven "$CACHE/zipkin-download.log" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact=io.zipkin:zipkin-server:3.5.1:jar:exec \
      -DoutputDirectory="$(dirname "$ZIPKIN_JAR")")
  fi
  mkdir -p "$run"
  start_bg "$run/zipkin.pid" "$run/zipkin.log" java -Xms64m -Xmx512m -jar "$ZIPKIN_JAR" \
    --server.address=127.0.0.1 --server.port=9411
}
wait_zipkin() {
  wait_started "$RUN/zipkin/zipkin.pid" "$RUN/zipkin/zipkin.log" 120 http_ok http://127.0.0.1:9411/health
}
stop_zipkin() { stop_pid "$RUN/zipkin/zipkin.pid"; }
status_zipkin() { pid_alive "$RUN/zipkin/zipkin.pid" && port_open 9411; }

# --- SMTP sink (deploy/local/smtp_sink.py) ---------------------------------

start_smtp() {
  local run="$RUN/smtp"
  pid_alive "$run/smtp.pid" && { say "smtp already running"; return 0; }
  mkdir -p "$run/messages"
  start_bg "$run/smtp.pid" "$run/smtp.log" \
    uv run python "$HERE/smtp_sink.py" --host 127.0.0.1 --port 1025 --folder "$run/messages"
}
wait_smtp() { wait_started "$RUN/smtp/smtp.pid" "$RUN/smtp/smtp.log" 60 port_open 1025; }
stop_smtp() { stop_pid "$RUN/smtp/smtp.pid"; }
status_smtp() { pid_alive "$RUN/smtp/smtp.pid" && port_open 1025; }

# --- commands --------------------------------------------------------------

declare -A PORT=([kafka]=19092 [postgres]=15432 [redis]=16379 [nginx]=8080 [zipkin]=9411 [smtp]=1025)
declare -A ADDRESS=([kafka]=127.0.0.1:19092 [postgres]=127.0.0.1:15432 [redis]=127.0.0.1:16379
  [nginx]=http://127.0.0.1:8080 [zipkin]=http://127.0.0.1:9411/zipkin/ [smtp]=127.0.0.1:1025)

main() {
  local command=${1:-}
  shift || true
  local parts=("$@") part
  ((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
  for part in "${parts[@]}"; do
    [[ " ${ALL_PARTS[*]} " == *" $part "* ]] || die "unknown part '$part' (parts: ${ALL_PARTS[*]})"
  done
  case $command in
    up)
      ensure_packages "${parts[@]}"
      # Start everything first, then wait: Kafka and Zipkin boot while the rest starts.
      for part in "${parts[@]}"; do
        # A server on our port that this checkout did not start (another clone's
        # stack, an external one): use it, and never stop it.
        if ! "status_$part" && port_open "${PORT[$part]}"; then
          say "$part: port ${PORT[$part]} already answers, not started from this checkout: using it"
          continue
        fi
        "start_$part"
      done
      for part in "${parts[@]}"; do "wait_$part"; say "$part up at ${ADDRESS[$part]}"; done
      ;;
    down)
      local i
      for ((i = ${#parts[@]} - 1; i >= 0; i--)); do
        part=${parts[i]}
        if "status_$part"; then "stop_$part"; say "$part stopped"; else "stop_$part"; fi
      done
      ;;
    status)
      local down=0
      for part in "${parts[@]}"; do
        if "status_$part"; then
          echo "$part: running at ${ADDRESS[$part]}"
        elif port_open "${PORT[$part]}"; then
          echo "$part: not started from this checkout, but port ${PORT[$part]} answers"; down=1
        else
          echo "$part: stopped"; down=1
        fi
      done
      return $((down * 3))
      ;;
    *) die "usage: $0 up|down|status [${ALL_PARTS[*]}]" ;;
  esac
}

main "$@"
