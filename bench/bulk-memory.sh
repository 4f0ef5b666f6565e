#!/usr/bin/env bash
# Peak memory of the push of a backlog as Bulk API 2.0 jobs (BENCHMARKS.md, the push engine): one
# hub stages the backlog with the push off and stops; a fresh hub then pushes it, and its peak
# resident memory (VmHWM) is the push's, not the ingest's.
#
#   bench/bulk-memory.sh [backlog]      # default 100000 (2 jobs of 50,000); ~2 min once built
set -euo pipefail
source "$(dirname "$0")/lib.sh"

backlog=${1:-100000}
hub_port=${BENCH_HUB_PORT:-18080}
export HUB_URL=http://127.0.0.1:$hub_port

build
machine
fresh_db sluice_bench_bulk_memory
start_sim
start_hub "$hub_port" PUSH_ENABLED=false
HUB_TOKEN=$(token)
export HUB_TOKEN
log "staging $backlog records with the push off"
"$loadgen" ingest --records "$backlog" --batch 500 --concurrency 2 --prefix B >"$out/bulk-memory-ingest.json"
# Merged by this hub, so that the next one's memory is the push's alone.
wait_merged 300
echo "ingest-only hub peak resident memory: $(hwm_mb "$hub_pid") MB"
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null || true

calls_before=$(curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_total"])')
log "pushing them from a fresh hub"
started=$SECONDS
start_hub "$hub_port"
echo "pushing hub resident memory at start: $(rss_mb "$hub_pid") MB"
wait_drained 600
echo "drained in $((SECONDS - started)) s: $(sql "SELECT count(*) FROM staging_records WHERE sync_status = 'synced'") of $backlog synced"
echo "salesforce calls for the push: $(curl -fs "$SIM_URL/__sim/stats" | python3 -c "import json,sys; s=json.load(sys.stdin); print(s['calls_total'] - $calls_before, s['calls_by_kind'])")"
echo "pushing hub peak resident memory: $(hwm_mb "$hub_pid") MB (now $(rss_mb "$hub_pid") MB)"
