#!/usr/bin/env bash
# Where an ingest request's time goes, in instructions (BENCHMARKS.md, "Ingest throughput"): a
# release hub under valgrind's callgrind takes N Contacts as 500-record JSON arrays (or NDJSON),
# then stops, and callgrind_annotate lists the costliest functions, inclusive. Instruction counts
# do not depend on what else runs on the machine, so before/after comparisons hold on a busy one.
#
#   bench/profile-ingest.sh [records] [json|ndjson]      # defaults: 20000 json
set -euo pipefail
source "$(dirname "$0")/lib.sh"

records=${1:-20000}
format=${2:-json}
hub_port=${BENCH_HUB_PORT:-18090}
export HUB_URL=http://127.0.0.1:$hub_port

build
start_sim
fresh_db sluice_bench_profile
rm -f "$out"/callgrind.out.*
env PORT="$hub_port" PUSH_ENABLED=false DATABASE_POOL_SIZE=4 \
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p" "$bin" serve \
  >>"$out/hub-$hub_port.log" 2>&1 &
pids+=($!)
hub_pid=$!
for _ in $(seq 1 600); do curl -fs "$HUB_URL/ready" >/dev/null 2>&1 && break; sleep 0.2; done
HUB_TOKEN=$(token)
export HUB_TOKEN
batch=500
[ "$format" = ndjson ] && batch=$((records / 2))
log "posting $records records as $format under callgrind"
"$loadgen" ingest --records "$records" --batch "$batch" --concurrency 2 --format "$format" --prefix P \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); print("accepted:", r["records_accepted"], "statuses:", r["http_statuses"])'
kill -TERM "$hub_pid"
wait "$hub_pid" 2>/dev/null || true
file=$(ls -t "$out"/callgrind.out.* | head -n 1)
total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions: $total in all, $((total / records)) per record (start-up and shutdown included)"
callgrind_annotate --inclusive=yes "$file" 2>/dev/null | sed -n '1,80p' >"$out/profile-$format.txt"
echo "profile: $out/profile-$format.txt ($file for kcachegrind)"
