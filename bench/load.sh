#!/usr/bin/env bash
# Load (BENCHMARKS.md, "Load"): Debian's wrk posts 10-record batches for a few minutes against a hub
# whose scheduler pushes to the simulator; the hub's resident memory, the queue and the
# simulator's calls are sampled every 10 s, to show they stay flat.
#
#   bench/load.sh [seconds] [connections]      # defaults: 120 8
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds=${1:-120}
connections=${2:-8}
hub_port=${BENCH_HUB_PORT:-18080}
if ! command -v wrk >/dev/null 2>&1; then
  log "installing Debian's wrk"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get install -y -qq wrk >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null; }
fi

build
machine
fresh_db sluice_bench_load
start_sim
start_hub "$hub_port"
HUB_TOKEN=$(token)
export HUB_TOKEN

sample() {
  local start=$SECONDS
  printf '%6s %9s %9s %10s %10s %9s\n' "t (s)" "RSS (MB)" "peak" "staged" "synced" "SF calls"
  while kill -0 "$hub_pid" 2>/dev/null; do
    printf '%6d %9s %9s %10s %10s %9s\n' $((SECONDS - start)) "$(rss_mb "$hub_pid")" "$(hwm_mb "$hub_pid")" \
      "$(sql 'SELECT count(*) FROM staging_records')" \
      "$(sql "SELECT count(*) FROM staging_records WHERE sync_status = 'synced'")" \
      "$(curl -fs "$SIM_URL/__sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_total"])')"
    sleep 10
  done
}
sample | tee "$out/load-samples.txt" &
sampler=$!
log "wrk: $seconds s, 2 threads, $connections connections"
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s -s bench/load.lua "http://127.0.0.1:$hub_port" | tee "$out/load-wrk.txt"
sleep 10
kill "$sampler" 2>/dev/null || true
echo "after the load: $(sql "SELECT sync_status, count(*) FROM staging_records GROUP BY 1 ORDER BY 1" | tr '\n' ' ')"
echo "hub peak resident memory: $(hwm_mb "$hub_pid") MB"
