#!/usr/bin/env bash
# Property-based API check: schemathesis against /api/openapi.json of a demo database.
# Every generated request must get no 5xx and a response that matches the declared schema
# (also: a declared status code, content type and headers). Known demo identifiers come from
# .ci/schemathesis.toml; reports (JUnit, NDJSON) land in target/schemathesis-report/.
#
#   .ci/schemathesis.sh                       # SQLite, in a temporary directory
#   .ci/schemathesis.sh postgres://…/server   # PostgreSQL: a scratch database on that server
#
# Environment: SCHEMATHESIS_EXAMPLES (per operation, default 20), SCHEMATHESIS_SECONDS
# (whole run, default 150), HEALTHPLAN_BIN (default: build and use target/debug/healthplan).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-20}"
SECONDS_BOUND="${SCHEMATHESIS_SECONDS:-150}"
PG_SERVER="${1:-}"

VENV=target/schemathesis-venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -z "${HEALTHPLAN_BIN:-}" ]; then
  cargo build -q -p healthplan-cli
  HEALTHPLAN_BIN=target/debug/healthplan
fi

WORK="$(mktemp -d)"
SERVER_PID=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DB" ]; then psql "$PG_SERVER" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export HEALTHPLAN_DATA_DIR="$WORK/data"
unset DATABASE_URL
if [ -n "$PG_SERVER" ]; then
  PG_DB="healthplan_schemathesis_$$"
  psql "$PG_SERVER" -qc "DROP DATABASE IF EXISTS $PG_DB"
  psql "$PG_SERVER" -qc "CREATE DATABASE $PG_DB"
  export DATABASE_URL="${PG_SERVER%/*}/$PG_DB"
  BACKEND=postgresql
else
  BACKEND=sqlite
fi

echo "== schemathesis $SCHEMATHESIS_VERSION on $BACKEND"
"$HEALTHPLAN_BIN" demo --setup-only >"$WORK/demo.log"

# A free port: bind 0 in Python, then hand it to the server.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
RUST_LOG=warn "$HEALTHPLAN_BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/api/openapi.json" -o /dev/null 2>/dev/null && break
  sleep 0.2
done

# A personal API token of the demo administrator (password from crates/app/src/demo).
JAR="$WORK/cookies"
CSRF="$(curl -fsS -c "$JAR" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"Demo-Admin-2026"}' "$BASE/api/v1/session" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')"
TOKEN="$(curl -fsS -b "$JAR" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" \
  -d '{"name":"schemathesis"}' "$BASE/api/v1/me/tokens" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"

# Operations that would end the run's own access are left out: revoking tokens (the run's
# token has a small id), changing the password, signing out.
status=0
timeout --signal=INT --kill-after=30 "$SECONDS_BOUND" \
  "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run "$BASE/api/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks "${SCHEMATHESIS_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance}" \
  --max-examples "$EXAMPLES" \
  --seed 1 \
  --workers 2 \
  --request-timeout 30 \
  --exclude-operation-id revoke_token \
  --exclude-operation-id change_password \
  --exclude-operation-id sign_out \
  --generation-database none \
  --report junit,ndjson --report-dir "target/schemathesis-report/$BACKEND" \
  --no-color || status=$?

if [ "$status" -eq 124 ]; then
  echo "schemathesis on $BACKEND did not finish within ${SECONDS_BOUND} s" >&2
fi
if [ "$status" -ne 0 ]; then
  echo "schemathesis on $BACKEND failed (exit $status); server log tail:" >&2
  tail -n 40 "$WORK/serve.log" >&2
fi
exit "$status"
