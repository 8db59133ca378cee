#!/usr/bin/env bash
# `make up`: the whole platform for a person to use, left running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

uv sync --all-packages --quiet
bash "$HERE/stack.sh" up
uv run python "$HERE/create_topics.py"
# Traces go to the local Zipkin under `make up` only (tests trace in memory;
# env.sh gives the endpoint). A value already set wins, e.g. none.
export OTEL_TRACES_EXPORTER="${OTEL_TRACES_EXPORTER-zipkin}"
bash "$HERE/services.sh" up
eval "$(bash "$HERE/env.sh")"

# A demo account with a token and a small book of business, made once.
DEMO_ENV="$LOCAL/demo.env"
if [[ -s $DEMO_ENV ]]; then
  say "demo account already made: $DEMO_ENV"
elif uv run --no-sync which crm-admin >/dev/null 2>&1; then
  uv run --no-sync crm-admin account create --name "Demo" --env-file "$DEMO_ENV"
  uv run --no-sync python "$HERE/demo_data.py" "$DEMO_ENV"
else
  say "WARNING: crm-admin is not installed yet: no demo account made"
fi

demo_note=$DEMO_ENV
[[ -s $DEMO_ENV ]] || demo_note="not made (crm-admin missing)"

cat <<SUMMARY

The platform is up.
  gateway (every API)  $CRM_GATEWAY_URL
  trace UI (Zipkin)    http://127.0.0.1:9411/zipkin/ (OTEL_TRACES_EXPORTER=$OTEL_TRACES_EXPORTER; README "Tracing")
  mails sent           $RUN/smtp/messages/*.eml
  logs                 $RUN/services/*.log, $RUN/<part>/ (kafka, postgres, redis, nginx, zipkin, smtp)
  demo account         $demo_note (CRM_BASE_URL, CRM_TOKEN)
  settings             eval "\$(bash deploy/local/env.sh)"
  status / stop        bash deploy/local/stack.sh status; bash deploy/local/services.sh status; make down
SUMMARY
