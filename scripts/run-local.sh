#!/usr/bin/env bash
# Runs Sluice locally with everything it needs: PostgreSQL (started if there is none), the
# migrations, and, when no Salesforce org is configured, the Salesforce simulator, so that pushes
# land somewhere real. Prints where the API is and a curl that posts a record. Ctrl-C stops it all.
#
# To use a real org instead, export SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID,
# SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY before running this.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local

base_url=$(scripts/postgres.sh)
db=${SLUICE_DEV_DATABASE:-sluice_dev}
if ! psql "$base_url" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql "$base_url" -qc "CREATE DATABASE $db" >/dev/null
fi
export DATABASE_URL="${base_url%/*}/$db"

cargo build --quiet --bin sluice
bin=target/debug/sluice
"$bin" migrate

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -z "${SALESFORCE_LOGIN_URL:-}" ]; then
  sim_port=${SIM_PORT:-8081}
  SIM_PORT=$sim_port "$bin" simulate-salesforce > .local/simulator.log 2>&1 &
  pids+=($!)
  export SALESFORCE_LOGIN_URL="http://127.0.0.1:$sim_port"
  export SALESFORCE_CLIENT_ID=sluice-dev-client
  export SALESFORCE_USERNAME=integration@sluice.dev
  SALESFORCE_PRIVATE_KEY=$(cat dev/salesforce-dev-key.pem)
  export SALESFORCE_PRIVATE_KEY
  for _ in $(seq 1 50); do
    curl -fs "$SALESFORCE_LOGIN_URL/services/data/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "Salesforce simulator: $SALESFORCE_LOGIN_URL (records: $SALESFORCE_LOGIN_URL/__sim/records/Contact, log: .local/simulator.log)"
fi

if [ -z "${SLUICE_AUTH_KEYS:-}" ]; then
  [ -f .local/dev-secret ] || head -c 32 /dev/urandom | base64 | tr -d '\n=/+' > .local/dev-secret
  secret=$(cat .local/dev-secret)
  export SLUICE_AUTH_KEYS="{\"keys\":[{\"kid\":\"dev\",\"alg\":\"HS256\",\"secret\":\"$secret\"}],\"issuers\":[\"sluice-dev\"],\"audience\":\"sluice\"}"
  token=$("$bin" token --secret "$secret" --kid dev --ttl-secs 86400)
fi

export PORT=${PORT:-8080}
cat <<TXT

Sluice API: http://127.0.0.1:$PORT   (OpenAPI: http://127.0.0.1:$PORT/openapi.json)
Post a record:

  curl -s -X POST http://127.0.0.1:$PORT/v1/objects/Contact/records \\
    -H 'Authorization: Bearer ${token:-<your token>}' \\
    -H 'Content-Type: application/json' \\
    -d '[{"External_Id__c":"C-1","LastName":"Durand","Email":"marie.durand@example.com"}]'

Then: curl -s -H 'Authorization: Bearer ${token:-<your token>}' http://127.0.0.1:$PORT/v1/objects/Contact/records/C-1

TXT
"$bin" serve &
pids+=($!)
wait "${pids[-1]}"
