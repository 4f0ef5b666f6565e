#!/usr/bin/env bash
# The resilience suite (BENCHMARKS.md, "Resilience"). Each scenario posts Contacts with a client
# that retries (same Idempotency-Key) while something breaks, waits until nothing is pending, and
# prints: sent, accepted, in Salesforce exactly once with the right fields, failed with
# Salesforce's reason, lost (must be 0).
#
#   bench/resilience.sh [records per scenario] [outage seconds]     # defaults: 20000 60
#   bench/resilience.sh 2000 5                                      # a quick run
# Scenarios: kill -9 of the hub during pushes, then restart; PostgreSQL restarted under load (a
# throwaway cluster this script starts with initdb/pg_ctl on port 55433, never the main one); the
# simulator down, then slow, then failing one call in five; three hubs on one database.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

records=${1:-20000}
outage=${2:-60}
hub_port=${BENCH_HUB_PORT:-18080}
export HUB_URL=http://127.0.0.1:$hub_port
# A killed hub's leases are taken over after this long (default 120 s; shorter to keep runs short).
export PUSH_LEASE_SECS=15
summary=$out/resilience-summary.txt
: >"$summary"

build
machine
start_sim
HUB_TOKEN=$(token)
export HUB_TOKEN

begin() { # begin NAME: fresh database and simulator for a scenario
  scenario=$1
  log "scenario: $scenario"
  rm -f "$out/accepted.txt" "$out/failed.tsv"
  [ -n "${2:-}" ] || fresh_db sluice_bench_resilience
  curl -fs -X POST "$SIM_URL/__sim/reset" >/dev/null
}

send() { # send PREFIX [HUB_URL]: in the background, with retries; sets sender
  HUB_URL=${2:-$HUB_URL} "$loadgen" ingest --records "$records" --batch 200 --concurrency 2 --prefix "$1" \
    --retries 40 --accepted "$out/accepted.txt" >"$out/send-$1.json" &
  sender=$!
}

sim_calls() { curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_total"])'; }

wait_pushing() { # until the simulator has answered three more calls (at most 60 s)
  local base
  base=$(sim_calls)
  for _ in $(seq 1 600); do [ "$(sim_calls)" -gt $((base + 3)) ] && return 0; sleep 0.1; done
}

finish() { # finish SENT: wait for the sender, the drain, then count
  if [ -n "$sender" ]; then wait "$sender" || log "the sender failed"; fi
  # The records of a call cut short by kill -9 wait PUSH_UNANSWERED_HOLD_SECS (630 s by default)
  # before they go again: Salesforce may still apply that call (docs/salesforce.md §19).
  wait_drained "${DRAIN_SECS:-900}" || true
  sql "SELECT external_id || E'\t' || coalesce(last_error_code, '?') FROM staging_records WHERE sync_status = 'failed'" >"$out/failed.tsv"
  touch "$out/accepted.txt"
  local verdict
  verdict=$("$loadgen" verify --accepted "$out/accepted.txt" --failed "$out/failed.tsv" --sent "$1")
  echo "$verdict" >"$out/verify-${scenario// /-}.json"
  python3 - "$scenario" "$verdict" <<'PY' | tee -a "$summary"
import json, sys
v = json.loads(sys.argv[2])
codes = ", ".join(f"{k} {n}" for k, n in v["failed_codes"].items()) or "-"
print(f"{sys.argv[1]:<44} sent {v['sent']:>6}  accepted {v['accepted']:>6}  in Salesforce once, right fields {v['in_salesforce_once_with_right_fields']:>6}"
      f"  wrong fields {v['in_salesforce_with_wrong_fields']}  twice {v['in_salesforce_more_than_once']}"
      f"  failed {v['failed_with_reason']} ({codes})  lost {v['lost']}  unexpected {v['in_salesforce_but_never_accepted']}")
PY
}

# 1. kill -9 of the hub while it pushes, twice, restarted each time.
begin "kill -9 of the hub during pushes (x2)"
start_hub "$hub_port"
send K
for round in 1 2; do
  wait_pushing
  sleep 0.$((RANDOM % 9 + 1))
  log "kill -9 $hub_pid (round $round)"
  kill -9 "$hub_pid"
  sleep 1
  start_hub "$hub_port"
done
finish "$records"
kill "$hub_pid"

# 2. PostgreSQL restarted under load: a throwaway cluster of this script's own.
pg_port=55433
pg_data=$out/pg-restart
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -f "$pg_data/PG_VERSION" ]; then
  mkdir -p "$pg_data"
  [ "$(id -u)" -eq 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres; chown postgres "$pg_data"; }
  as_owner "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
pg_ctl_() { as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w "$@" >/dev/null; }
pg_ctl_ -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1" start
trap 'pg_ctl_ stop -m fast || true; cleanup' EXIT INT TERM
BENCH_BASE_URL=postgres://postgres@127.0.0.1:$pg_port/postgres fresh_db sluice_bench_pg
begin "PostgreSQL restarted under load" keep-db
start_hub "$hub_port"
send P
wait_pushing
log "pg_ctl restart -m fast"
pg_ctl_ -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1" restart -m fast
finish "$records"
kill "$hub_pid"
pg_ctl_ stop -m fast
trap cleanup EXIT INT TERM

# 3. The simulator down, then slow, then failing one call in five.
begin "Salesforce down ${outage}s, slow, 1 call in 5 fails"
start_hub "$hub_port"
send F
wait_pushing
until_ts=$(date -u -d "+$outage seconds" +%Y-%m-%dT%H:%M:%SZ)
log "outage until $until_ts"
curl -fs -X POST "$SIM_URL/__sim/faults" -d "{\"outage_until\":\"$until_ts\"}"
sleep "$outage"
log "slow: 1.5 s a call"
curl -fs -X POST "$SIM_URL/__sim/faults" -d '{"latency_ms":1500}'
sleep $((outage / 2 + 1))
log "failing one call in five"
curl -fs -X POST "$SIM_URL/__sim/faults" -d '{"fail_one_in":5}'
sleep $((outage / 2 + 1))
curl -fs -X POST "$SIM_URL/__sim/faults" -d '{}'
finish "$records"
# Records parked as failed after PUSH_MAX_ATTEMPTS transient errors go again on an operator's retry.
if [ -s "$out/failed.tsv" ]; then
  log "sluice retry --all"
  "$bin" retry --all >/dev/null
  sender=
  scenario="$scenario, then sluice retry --all"
  finish "$records"
fi
kill "$hub_pid"

# 4. Three hubs on one database, each taking a third of the load.
begin "three hubs on one database"
ports=("$hub_port" $((hub_port + 2)) $((hub_port + 3)))
hubs=()
for p in "${ports[@]}"; do start_hub "$p"; hubs+=("$hub_pid"); done
senders=()
third=$((records / 3))
for i in 0 1 2; do
  HUB_URL=http://127.0.0.1:${ports[$i]} "$loadgen" ingest --records "$third" --batch 200 --concurrency 1 \
    --prefix "M$i" --retries 40 --accepted "$out/accepted-M$i.txt" >"$out/send-M$i.json" &
  senders+=($!)
done
for s in "${senders[@]}"; do wait "$s"; done
# Each sender writes its own list: three processes appending to one file can interleave a line.
cat "$out"/accepted-M?.txt >"$out/accepted.txt"
sender=
finish $((third * 3))
curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("  the three hubs together: at most %d calls at once (limit 5), at most %d in one second (limit 5), %d calls" % (s["max_concurrency"], s["max_calls_in_any_second"], s["calls_total"]))' | tee -a "$summary"
for h in "${hubs[@]}"; do kill "$h"; done

echo
cat "$summary"
