#!/usr/bin/env bash
# Ingest throughput (BENCHMARKS.md, "Ingest throughput"): N Contacts posted through the API as
# 500-record JSON arrays, then as NDJSON streams, at a fixed concurrency, against a hub that only
# ingests (PUSH_ENABLED=false), each format on a fresh database and a fresh hub; then the raw
# ceiling in the same run: PostgreSQL COPY of the same
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
start_sim

run() { # run FORMAT BATCH: a fresh database and hub for each format
  fresh_db "sluice_bench_ingest_$1"
  start_hub "$hub_port" PUSH_ENABLED=false DATABASE_POOL_SIZE=$((concurrency + 2))
  HUB_TOKEN=$(token)
  export HUB_TOKEN
  log "posting $records records as $1, $2 a request, $concurrency at a time"
  "$loadgen" ingest --records "$records" --batch "$2" --concurrency "$concurrency" --format "$1" --prefix "${1^^}" \
    | tee "$out/ingest-$1.json"
  echo "staged rows: $(sql 'SELECT count(*) FROM staging_records')"
  hwm_mb "$hub_pid" >"$out/ingest-$1.hwm"
  echo "hub resident memory: now $(rss_mb "$hub_pid") MB, peak $(cat "$out/ingest-$1.hwm") MB"
  kill "$hub_pid"
  wait "$hub_pid" 2>/dev/null || true
}
run ndjson "${BENCH_NDJSON_LINES:-50000}"
run json 500

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

python3 - "$out" "$records" "$copy1" "$copyn" "$concurrency" <<'PY'
import json, sys
out, n, c1, cn, conc = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
ms = lambda v: "-" if v is None else f"{v:.0f}"
print(f"\n{'path':<36} {'records/s':>10} {'vs COPY':>8} {'p50 ms':>8} {'p99 ms':>8} {'peak RSS':>9}")
for fmt in ("json", "ndjson"):
    r = json.load(open(f"{out}/ingest-{fmt}.json"))
    rate, lat = r["accepted_per_second"], r["latency_ms"]
    hwm = open(f"{out}/ingest-{fmt}.hwm").read().strip()
    print(f"{'API, ' + fmt + f', concurrency {conc}':<36} {rate:>10.0f} {rate / (n / c1):>8.0%} {ms(lat['p50']):>8} {ms(lat['p99']):>8} {hwm + ' MB':>9}")
print(f"{'COPY, one session':<36} {n / c1:>10.0f} {'100%':>8}")
print(f"{f'COPY, {conc} sessions':<36} {n / cn:>10.0f} {n / cn / (n / c1):>8.0%}")
PY
