#!/usr/bin/env bash
# End-to-end lag (BENCHMARKS.md, "End-to-end lag"): a backlog of Contacts is posted, then, while it
# drains to the simulator, new Contacts arrive at a steady rate; each steady record's lag is its
# arrival in the simulator (/__sim/arrivals, read once at the end) minus its send time.
#
#   bench/lag.sh [backlog] [rate per second] [seconds]      # defaults: 50000 100 60
set -euo pipefail
source "$(dirname "$0")/lib.sh"

backlog=${1:-50000}
rate=${2:-100}
seconds=${3:-60}
hub_port=${BENCH_HUB_PORT:-18080}
export HUB_URL=http://127.0.0.1:$hub_port

build
machine
fresh_db sluice_bench_lag
start_sim
start_hub "$hub_port"
HUB_TOKEN=$(token)
export HUB_TOKEN
echo "push settings: the defaults (PUSH_BATCH_WINDOW_MS=200, PUSH_MAX_LAG_MS=1000, SALESFORCE_MAX_CALLS_PER_SECOND=5, PUSH_BULK_THRESHOLD=2000)"

log "backlog: $backlog records"
"$loadgen" ingest --records "$backlog" --batch 500 --concurrency 2 --prefix B >"$out/lag-backlog.json"
log "steady: $rate records/s for $seconds s while the backlog drains"
"$loadgen" steady --rate "$rate" --seconds "$seconds" --prefix S --sent "$out/lag-sent.tsv" | tee "$out/lag-steady.json"
echo "backlog records not yet in Salesforce when the steady load ended: $(sql "SELECT count(*) FROM staging_records WHERE external_id LIKE 'B-%' AND sync_status <> 'synced'")"
wait_drained 600
echo "backlog drain: $(sql "SELECT round(extract(epoch FROM max(synced_at) - min(received_at))::numeric, 1) FROM staging_records WHERE external_id LIKE 'B-%'") s for $backlog records"
"$loadgen" lag --sent "$out/lag-sent.tsv" | tee "$out/lag.json"
echo "steady records by when they came, hub-side lag (synced_at - received_at): when, count, p50 ms, p99 ms, max ms"
sql "WITH s AS (SELECT received_at, extract(epoch FROM synced_at - received_at) * 1000 AS lag_ms
                FROM staging_records WHERE external_id LIKE 'S-%'),
          b AS (SELECT max(synced_at) AS drained FROM staging_records WHERE external_id LIKE 'B-%')
     SELECT CASE WHEN received_at <= drained THEN 'while the backlog drained' ELSE 'after' END, count(*),
            round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms)),
            round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag_ms)), round(max(lag_ms))
     FROM s, b GROUP BY 1 ORDER BY 1 DESC"
echo "salesforce calls: $(curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["calls_total"], s["calls_by_kind"])')"
echo "hub peak resident memory: $(hwm_mb "$hub_pid") MB"
