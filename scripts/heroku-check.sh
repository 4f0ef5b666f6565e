#!/usr/bin/env bash
# Runs the Procfile's commands the way Heroku does, on this machine: the release phase, then the
# web process with Heroku's environment (PORT, DATABASE_URL, DYNO), then SIGTERM, checking that
# the web process answers on $PORT and exits 0 within Heroku's 30 seconds.
# Builds the release binary the Procfile names unless SLUICE_BIN points at another build.
set -euo pipefail
cd "$(dirname "$0")/.."

base_url=$(scripts/postgres.sh)
db=sluice_heroku_check
psql "$base_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
psql "$base_url" -qc "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="${base_url%/*}/$db"

bin=./target/release/sluice
if [ -n "${SLUICE_BIN:-}" ]; then
  bin=$SLUICE_BIN
else
  cargo build --release --quiet --bin sluice
fi

# The Procfile's commands, with the binary path swapped when SLUICE_BIN names another build.
release_cmd=$(sed -n 's/^release: //p' Procfile | sed "s#./target/release/sluice#$bin#")
web_cmd=$(sed -n 's/^web: //p' Procfile | sed "s#./target/release/sluice#$bin#")
[ -n "$release_cmd" ] && [ -n "$web_cmd" ] || { echo "Procfile needs release and web" >&2; exit 1; }

"$bin" simulate-salesforce --port 18081 > .local/heroku-check-sim.log 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT

secret=heroku-check-secret-0123456789abcdef0123
export PORT=18080 DYNO=release.1 DATABASE_SSL_MODE=prefer \
  SALESFORCE_LOGIN_URL=http://127.0.0.1:18081 SALESFORCE_CLIENT_ID=sluice-dev-client \
  SALESFORCE_USERNAME=integration@sluice.dev \
  SALESFORCE_PRIVATE_KEY="$(cat dev/salesforce-dev-key.pem)" \
  SLUICE_AUTH_KEYS="{\"keys\":[{\"alg\":\"HS256\",\"secret\":\"$secret\"}],\"issuers\":[\"sluice-dev\"],\"audience\":\"sluice\"}"

echo "release phase: $release_cmd"
bash -c "$release_cmd"

echo "web: $web_cmd (PORT=$PORT)"
DYNO=web.1 bash -c "exec $web_cmd" > .local/heroku-check-web.log 2>&1 &
web=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null || { echo "web did not become ready"; cat .local/heroku-check-web.log; exit 1; }
token=$("$bin" token --secret "$secret")
curl -fs -X POST "http://127.0.0.1:$PORT/v1/objects/Contact/records" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '[{"External_Id__c":"HEROKU-1","LastName":"Check"}]' >/dev/null

start=$(date +%s.%N)
kill -TERM "$web"
status=0
wait "$web" || status=$?
took=$(awk "BEGIN{print $(date +%s.%N) - $start}")
echo "SIGTERM: exit $status after ${took}s"
echo "the record posted just before SIGTERM: $(psql "$DATABASE_URL" -Atc \
  "SELECT sync_status FROM staging_records WHERE external_id = 'HEROKU-1'") (pending means the next dyno pushes it)"
[ "$status" -eq 0 ] && awk "BEGIN{exit !($took < 30)}"
