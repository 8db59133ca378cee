#!/usr/bin/env bash
# Prints `export` lines with every service's settings for the local stack:
#   eval "$(bash deploy/local/env.sh)"
# A variable already set in the environment wins, so services can be pointed
# at an external PostgreSQL, Kafka or Redis (RECORDS_DATABASE_URL=... make up).
# TOKEN_SECRET and OPERATOR_KEY are random, made once into .local/secrets.env
# and shared by every service (they all verify the same tokens).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICES=(records:8001 search:8002 workspace:8003 healthscore:8004 exports:8005 notifications:8006)
SECRETS="$LOCAL/secrets.env"

random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

if [[ ! -s $SECRETS ]]; then
  mkdir -p "$LOCAL"
  (umask 077 && printf 'LOCAL_TOKEN_SECRET=%s\nLOCAL_OPERATOR_KEY=%s\n' \
    "$(random_hex)" "$(random_hex)" >"$SECRETS.$$")
  mv -n "$SECRETS.$$" "$SECRETS" || true; rm -f "$SECRETS.$$"  # a concurrent run may have won
fi
source "$SECRETS"

# emit NAME DEFAULT: export NAME, keeping the environment's value if it has one.
emit() { printf 'export %s=%q\n' "$1" "${!1-$2}"; }

PG_HOST=$(pg_dsn_host)
for entry in "${SERVICES[@]}"; do
  svc=${entry%:*} port=${entry#*:} prefix=${svc^^}
  emit "${prefix}_DATABASE_URL" "postgresql://postgres@$PG_HOST:15432/crm_$svc"
  emit "${prefix}_KAFKA_BOOTSTRAP_SERVERS" "127.0.0.1:19092"
  emit "${prefix}_REDIS_URL" "redis://127.0.0.1:16379/0"
  emit "${prefix}_TOKEN_SECRET" "$LOCAL_TOKEN_SECRET"
  emit "${prefix}_OPERATOR_KEY" "$LOCAL_OPERATOR_KEY"
  emit "${prefix}_PORT" "$port"
done
emit NOTIFICATIONS_SMTP_HOST 127.0.0.1
emit NOTIFICATIONS_SMTP_PORT 1025
emit CRM_GATEWAY_URL http://127.0.0.1:8080
# Used only by a service that chooses the Zipkin exporter: up.sh sets
# OTEL_TRACES_EXPORTER=zipkin for `make up`; tests leave it unset (no export).
emit OTEL_EXPORTER_ZIPKIN_ENDPOINT http://127.0.0.1:9411/api/v2/spans
