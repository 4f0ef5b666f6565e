#!/usr/bin/env bash
# The push engine's benchmark (BENCHMARKS.md): API calls counted by the Salesforce simulator for
# a stream of new records, a 100k backlog, repeated updates, unchanged re-sends, and the lag from
# ingest to Salesforce at 100 records/s. Release build; one scenario at a time; takes ~2 minutes.
#   scripts/bench-push.sh                      # all scenarios
#   scripts/bench-push.sh bench_backlog_of_100k
#   BENCH_SF_LATENCY_MS=300 scripts/bench-push.sh   # Salesforce answering slower (default 100 ms)
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL
DATABASE_URL=$(scripts/postgres.sh)
echo "machine: $(nproc) CPUs, $(free -h | awk '/^Mem:/ {print $2}') RAM, $(lscpu | sed -n 's/^Model name: *//p')"
cargo test --release --test api "${1:-push_bench::}" -- --ignored --nocapture --test-threads=1 2>&1 \
  | grep -oE 'BENCH .*|panicked.*|test result.*'
