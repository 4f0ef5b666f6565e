#!/usr/bin/env bash
# Reading Salesforce's changes (BENCHMARKS.md, "Reading Salesforce's changes"): API calls an idle
# org costs, calls under 100 changes/s, and the lag from a change made in Salesforce to its row in
# Postgres, with and without change events. Changes are made "as a user" in the simulator
# (/__sim/edit, no API call); a change's lag is its row's received_at (database clock, the same
# machine) minus the time the edit was answered.
#
#   bench/read.sh [phase seconds] [idle seconds]       # defaults: 60 120
#
# The org: 100,000 API calls a day (reads get 10 %, the safety polls half of that: one poll of
# Contact every 18 s), an event allocation raised to 1,000,000 so the 100/s phases fit in it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

phase=${1:-60}
idle=${2:-120}
hub_port=${BENCH_HUB_PORT:-18090}
allowance=100000

build
machine
fresh_db sluice_bench_read
"$bin" simulate-salesforce --port "$sim_port" --daily-limit "$allowance" >"$out/simulator.log" 2>&1 &
pids+=($!)
wait_http "$SIM_URL/services/data/"
curl -fs -X POST "$SIM_URL/__sim/event-usage" -H 'Content-Type: application/json' \
  -d '{"used": 0, "max": 1000000}' >/dev/null
reads="$out/reads.toml"
printf '[objects.Contact]\nfields = ["LastName", "Email"]\nevery = 1\n' >"$reads"

calls() { curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_total"])'; }
events() { curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["event_usage"]["used"])'; }

# drive RATE SECONDS PREFIX: new Contacts made in Salesforce at RATE a second; writes
# "$out/read-sent-PREFIX.tsv" (external id, unix time the edit was answered).
drive() {
  python3 - "$SIM_URL" "$1" "$2" "$3" "$out/read-sent-$3.tsv" <<'EOF'
import json, sys, time, urllib.request
url, rate, seconds, prefix, sent = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
start = time.time()
n = 0
with open(sent, "w") as f:
    while time.time() - start < seconds and n < rate * seconds:
        due = start + n / rate
        if due > time.time():
            time.sleep(due - time.time())
        body = json.dumps({"External_Id__c": f"{prefix}-{n}", "LastName": f"Read {n}",
                           "Email": f"{prefix.lower()}{n}@example.com"}).encode()
        req = urllib.request.Request(f"{url}/__sim/edit/Contact", data=body,
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
        f.write(f"{prefix}-{n}\t{time.time():.6f}\n")
        n += 1
print(f"{n} changes in {time.time() - start:.1f} s", file=sys.stderr)
EOF
}

# lag PREFIX: waits (at most 120 s) for every change of PREFIX, then prints count, p50, p99, max.
lag() {
  local want have deadline=$((SECONDS + 120))
  want=$(wc -l <"$out/read-sent-$1.tsv")
  while [ $SECONDS -lt $deadline ]; do
    have=$(sql "SELECT count(*) FROM staging_records WHERE external_id LIKE '$1-%'")
    [ "$have" -ge "$want" ] && break
    sleep 1
  done
  psql "$DATABASE_URL" -Atq -c "CREATE TEMP TABLE sent (external_id text, at float8)" \
    -c "\\copy sent FROM '$out/read-sent-$1.tsv'" \
    -c "SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l)::numeric, 2),
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY l)::numeric, 2), round(max(l)::numeric, 2)
        FROM (SELECT extract(epoch FROM s.received_at) - sent.at AS l
              FROM sent JOIN staging_records AS s ON s.object = 'Contact' AND s.external_id = sent.external_id) AS x" |
    tail -n 1 | awk -F'|' -v want="$want" '{printf "stored %s of %s; lag p50 %s s, p99 %s s, max %s s\n", $1, want, $2, $3, $4}'
}

# run_phase NAME RATE SECONDS PREFIX
run_phase() {
  local before after ev_before ev_after
  before=$(calls)
  ev_before=$(events)
  drive "$2" "$3" "$4"
  lag "$4" | sed "s|^|$1: |"
  after=$(calls)
  ev_after=$(events)
  echo "$1: $((after - before)) API calls ($(python3 -c "print(round(($after - $before) * 3600 / $3))") an hour), $((ev_after - ev_before)) event deliveries"
}

for notifications in true false; do
  [ "$notifications" = true ] && port=$hub_port || port=$((hub_port + 1))
  sql "TRUNCATE staging_records; DELETE FROM salesforce_reads"
  log "hub with READ_NOTIFICATIONS=$notifications"
  start_hub "$port" PUSH_ENABLED=false SLUICE_READS_FILE="$reads" READ_NOTIFICATIONS="$notifications" RUST_LOG=info
  for _ in $(seq 1 60); do
    [ "$(sql "SELECT first_load_done FROM salesforce_reads WHERE object = 'Contact'")" = t ] && break
    sleep 1
  done
  grep -o 'read scheduled.*' "$out/hub-$port.log" | head -n 1
  label="notifications $([ "$notifications" = true ] && echo on || echo off)"
  before=$(calls)
  sleep "$idle"
  after=$(calls)
  echo "$label, idle: $((after - before)) API calls in $idle s ($(python3 -c "print(round(($after - $before) * 3600 / $idle))") an hour)"
  tag=$([ "$notifications" = true ] && echo N || echo P)
  run_phase "$label, 1 change/s" 1 "$phase" "${tag}1"
  run_phase "$label, 100 changes/s" 100 "$phase" "${tag}100"
  kill "$hub_pid" 2>/dev/null || true
  wait "$hub_pid" 2>/dev/null || true
done
echo "reads: $(sql "SELECT reads || ' reads, ' || rows_read || ' rows, ' || calls || ' calls' FROM salesforce_reads")"
