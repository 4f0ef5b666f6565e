#!/usr/bin/env bash
# Ingest throughput (BENCHMARKS.md, "Ingest throughput"): N Contacts posted through the API as
# 500-record JSON arrays, then as NDJSON streams, at a fixed concurrency, against a hub that only
# ingests (PUSH_ENABLED=false), each format on a fresh database and a fresh hub; then, in the same
# run, the ceiling: the same normalized rows COPYed by two sessions into a plain table with the same
# unique (object, external_id) key, and for reference into staging_records (its triggers firing).
# records/s counts answered records (in the inbox or staged); merged/s counts from the first request
# until the inbox is empty, every record in staging_records.
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
  local start merged cpu
  cpu="$(cpu_s "$hub_pid") $(cpu_s postgres) $(cpu_s machine)"
  start=$(date +%s.%N)
  "$loadgen" ingest --records "$records" --batch "$2" --concurrency "$concurrency" --format "$1" --prefix "${1^^}" \
    | tee "$out/ingest-$1.json"
  cpu="$cpu $(cpu_s "$hub_pid") $(cpu_s postgres) $(cpu_s machine)"
  # Answered is not yet merged: wait (at most 5 minutes) until the inbox is empty.
  wait_merged 300 || true
  merged=$(date +%s.%N)
  echo "$cpu $(cpu_s "$hub_pid") $(cpu_s postgres) $(cpu_s machine)" >"$out/ingest-$1.cpu"
  echo "$merged - $start" | bc -l >"$out/ingest-$1.merged"
  echo "staged rows: $(sql 'SELECT count(*) FROM staging_records'), inbox: $(sql 'SELECT count(*) FROM staging_inbox'), all merged after $(cat "$out/ingest-$1.merged") s"
  hwm_mb "$hub_pid" >"$out/ingest-$1.hwm"
  echo "hub resident memory: now $(rss_mb "$hub_pid") MB, peak $(cat "$out/ingest-$1.hwm") MB"
  kill "$hub_pid"
  wait "$hub_pid" 2>/dev/null || true
}
run ndjson "${BENCH_NDJSON_LINES:-50000}"
run json 500

log "ceiling: COPY of the same normalized rows by two sessions into a plain table with the same key"
psql "$DATABASE_URL" -qc "COPY (SELECT object, external_id, fields FROM staging_records) TO STDOUT" >"$out/rows.copy"
echo "normalized row size: $(sql 'SELECT round(avg(octet_length(fields::text))) FROM staging_records') bytes of JSON on average"
split -n l/2 -d "$out/rows.copy" "$out/rows.part."
copy_into() { # copy_into DB TABLE: one COPY session per part, both at once; prints seconds
  local start end copies=()
  fresh_db "$1"
  sql "CREATE TABLE ceiling (object text NOT NULL, external_id text NOT NULL, fields jsonb NOT NULL,
       CONSTRAINT ceiling_object_external_id_key UNIQUE (object, external_id))" >/dev/null
  start=$(date +%s.%N)
  for f in "$out"/rows.part.*; do
    psql "$DATABASE_URL" -qc "COPY $2 (object, external_id, fields) FROM STDIN" <"$f" &
    copies+=($!)
  done
  for p in "${copies[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  echo "rows copied into $2: $(sql "SELECT count(*) FROM $2")" >&2
  echo "$end - $start" | bc -l
}
ceiling=$(copy_into sluice_bench_copy ceiling)
staging=$(copy_into sluice_bench_copy staging_records)
rm -f "$out"/rows.part.*

python3 - "$out" "$records" "$ceiling" "$staging" "$concurrency" <<'PY'
import json, sys
out, n, ceiling, staging, conc = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
ms = lambda v: "-" if v is None else f"{v:.0f}"
top = n / ceiling
print(f"\n{'path':<44} {'records/s':>10} {'vs ceiling':>10} {'p50 ms':>8} {'p99 ms':>8} {'peak RSS':>9} {'merged/s':>9}")
for fmt in ("json", "ndjson"):
    r = json.load(open(f"{out}/ingest-{fmt}.json"))
    rate, lat = r["accepted_per_second"], r["latency_ms"]
    hwm = open(f"{out}/ingest-{fmt}.hwm").read().strip()
    merged = n / float(open(f"{out}/ingest-{fmt}.merged").read())
    print(f"{'API, ' + fmt + f', {conc} requests in flight':<44} {rate:>10.0f} {rate / top:>10.0%} {ms(lat['p50']):>8} {ms(lat['p99']):>8} {hwm + ' MB':>9} {merged:>9.0f}")
print(f"{'ceiling: COPY, 2 sessions, plain keyed table':<44} {top:>10.0f} {'100%':>10}")
print(f"{'COPY, 2 sessions, into staging_records':<44} {n / staging:>10.0f} {n / staging / top:>10.0%}")
# Where the CPU went: seconds of CPU per 100,000 records, from the first request to the last answer,
# then from there until the inbox was empty. "other" is the rest of the machine: the load
# generator above all.
print(f"\nCPU seconds per 100,000 records {'hub':>8} {'postgres':>9} {'other':>7} {'cores busy':>11}")
for fmt in ("json", "ndjson"):
    c = [float(v) for v in open(f"{out}/ingest-{fmt}.cpu").read().split()]
    answered = json.load(open(f"{out}/ingest-{fmt}.json"))["seconds"]
    merged = float(open(f"{out}/ingest-{fmt}.merged").read())
    for label, a, b, secs in (("answering", 0, 3, answered), ("merging after", 3, 6, merged - answered)):
        hub, pg, machine = (c[b + i] - c[a + i] for i in range(3))
        per = 100_000 / n
        busy = machine / secs if secs > 0 else 0
        print(f"  {fmt + ', ' + label:<30} {hub * per:>8.2f} {pg * per:>9.2f} {(machine - hub - pg) * per:>7.2f} {busy:>11.2f}")
PY
