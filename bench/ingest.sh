#!/usr/bin/env bash
# Ingest throughput (BENCHMARKS.md, "Ingest throughput"): N Contacts posted through the API as
# 500-record JSON arrays, then as NDJSON streams, at a fixed concurrency, against a hub that only
# ingests (PUSH_ENABLED=false); then the raw ceiling in the same run: PostgreSQL COPY of the same
# normalized rows into staging_records (its triggers firing) of a fresh database.
#
#   bench/ingest.sh [records] [concurrency]      # defaults: 200000 4
set -euo pipefail
source "$(dirname "$0")/lib.sh"

records=${1:-200000}
concurrency=${2:-4}
hub_port=${BENCH_HUB_PORT:-18080}
export HUB_URL=http://127.0.0.1:$hub_port

build
machine
fresh_db sluice_bench_ingest
start_sim
start_hub "$hub_port" PUSH_ENABLED=false DATABASE_POOL_SIZE=$((concurrency + 2))
HUB_TOKEN=$(token)
export HUB_TOKEN

run() { # run FORMAT BATCH
  sql "TRUNCATE staging_records, ingest_requests" >/dev/null
  sql "VACUUM ANALYZE staging_records" >/dev/null
  log "posting $records records as $1, $2 a request, $concurrency at a time"
  "$loadgen" ingest --records "$records" --batch "$2" --concurrency "$concurrency" --format "$1" --prefix "${1^^}" \
    | tee "$out/ingest-$1.json"
  echo "staged rows: $(sql 'SELECT count(*) FROM staging_records')"
  echo "hub resident memory: now $(rss_mb "$hub_pid") MB, peak so far $(hwm_mb "$hub_pid") MB"
}
run json 500
run ndjson "${BENCH_NDJSON_LINES:-50000}"

log "raw ceiling: COPY of the same normalized rows into a fresh staging_records"
psql "$DATABASE_URL" -qc "COPY (SELECT object, external_id, fields FROM staging_records) TO STDOUT" >"$out/rows.copy"
copy_into() { # copy_into DB FILE...: one COPY session per file, all at once; prints seconds
  local start end copies=()
  fresh_db "$1"
  shift
  start=$(date +%s.%N)
  for f in "$@"; do
    psql "$DATABASE_URL" -qc "COPY staging_records (object, external_id, fields) FROM STDIN" <"$f" &
    copies+=($!)
  done
  for p in "${copies[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  echo "rows copied: $(sql 'SELECT count(*) FROM staging_records')" >&2
  echo "$end - $start" | bc -l
}
copy1=$(copy_into sluice_bench_copy "$out/rows.copy")
split -n "l/$concurrency" -d "$out/rows.copy" "$out/rows.part."
copyn=$(copy_into sluice_bench_copy "$out"/rows.part.*)
rm -f "$out"/rows.part.*

python3 - "$out" "$records" "$copy1" "$copyn" "$concurrency" "$(hwm_mb "$hub_pid")" <<'PY'
import json, sys
out, n, c1, cn, conc, hwm = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
print(f"\n{'path':<36} {'records/s':>10} {'vs COPY':>8} {'p50 ms':>8} {'p99 ms':>8}")
for fmt in ("json", "ndjson"):
    r = json.load(open(f"{out}/ingest-{fmt}.json"))
    rate = r["accepted_per_second"]
    print(f"{'API, ' + fmt + f', concurrency {conc}':<36} {rate:>10.0f} {rate / (n / c1):>8.0%} {r['latency_ms']['p50']:>8.0f} {r['latency_ms']['p99']:>8.0f}")
print(f"{'COPY, one session':<36} {n / c1:>10.0f} {'100%':>8}")
print(f"{f'COPY, {conc} sessions':<36} {n / cn:>10.0f} {n / cn / (n / c1):>8.0%}")
print(f"hub peak resident memory (VmHWM): {hwm} MB")
PY
