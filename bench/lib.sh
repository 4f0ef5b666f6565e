# shellcheck shell=bash
# Shared by the bench scripts: a release build, fresh databases, the Salesforce simulator and hubs,
# all on 127.0.0.1 and all stopped on exit. Source it; don't run it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${BENCH_OUT:-$root/.local/bench}
mkdir -p "$out"
rm -f "$out"/hub-*.log
# BENCH_PROFILE=debug runs the scripts on a debug build, to try them quickly; figures need release.
profile=${BENCH_PROFILE:-release}
# BENCH_BIN_DIR runs a build saved elsewhere (its `sluice` and `loadgen`) without building, to
# compare two builds in turn.
bin_dir=${BENCH_BIN_DIR:-$root/target/$profile}
bin=$bin_dir/sluice
loadgen=$bin_dir/loadgen
[ -z "${BENCH_BIN_DIR:-}" ] && loadgen=$bin_dir/examples/loadgen
sim_port=${BENCH_SIM_PORT:-18081}
export SIM_URL=http://127.0.0.1:$sim_port
pids=()

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

cleanup() {
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

build() {
  if [ -n "${BENCH_BIN_DIR:-}" ]; then
    log "using the build in $BENCH_BIN_DIR"
    return
  fi
  log "cargo build ($profile: sluice and the loadgen example)"
  if [ "$profile" = release ]; then
    cargo build --release --quiet --bin sluice --example loadgen
  else
    cargo build --quiet --bin sluice --example loadgen
  fi
}

# The machine, for BENCHMARKS.md.
machine() {
  echo "nproc: $(nproc); memory: $(free -h | awk '/^Mem:/ {print $2}'); cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# fresh_db NAME: drops and creates NAME next to scripts/postgres.sh's server, migrates it, and
# exports DATABASE_URL.
fresh_db() {
  local base
  base=${BENCH_BASE_URL:-$(scripts/postgres.sh)}
  psql "$base" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  psql "$base" -qc "CREATE DATABASE $1" >/dev/null
  export DATABASE_URL="${base%/*}/$1"
  "$bin" migrate >/dev/null
}

sql() { psql "$DATABASE_URL" -Atqc "$1"; }

start_sim() {
  "$bin" simulate-salesforce --port "$sim_port" --daily-limit 100000000 >"$out/simulator.log" 2>&1 &
  pids+=($!)
  sim_pid=$!
  wait_http "$SIM_URL/services/data/"
  # Another run's simulator on the same port would answer in its place: set BENCH_SIM_PORT.
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    log "the simulator did not start: $(tail -n 1 "$out/simulator.log")"
    return 1
  fi
}

# Waits (at most 30 s) until URL answers.
wait_http() {
  for _ in $(seq 1 300); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "no answer from $1"
  return 1
}

secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n=/+')
export SLUICE_AUTH_KEYS="{\"keys\":[{\"kid\":\"bench\",\"alg\":\"HS256\",\"secret\":\"$secret\"}],\"issuers\":[\"sluice-bench\"],\"audience\":\"sluice\"}"
export SALESFORCE_LOGIN_URL=$SIM_URL SALESFORCE_CLIENT_ID=sluice-dev-client
export SALESFORCE_USERNAME=integration@sluice.dev
SALESFORCE_PRIVATE_KEY=$(cat dev/salesforce-dev-key.pem)
export SALESFORCE_PRIVATE_KEY
# One caller sends everything: the per-caller limit would measure itself.
export SLUICE_RATE_LIMIT_PER_SECOND=100000 SLUICE_RATE_LIMIT_BURST=100000
export RUST_LOG=${RUST_LOG:-warn}

token() { "$bin" token --secret "$secret" --kid bench --issuer sluice-bench --subject bench --ttl-secs 86400; }

# start_hub PORT [VAR=value ...]: a `sluice serve` on PORT with those variables; sets hub_pid.
start_hub() {
  local port=$1
  shift
  env PORT="$port" "$@" "$bin" serve >>"$out/hub-$port.log" 2>&1 &
  pids+=($!)
  hub_pid=$!
  wait_http "http://127.0.0.1:$port/ready" || { tail -n 3 "$out/hub-$port.log" >&2; return 1; }
  kill -0 "$hub_pid" 2>/dev/null || { log "the hub did not start (BENCH_HUB_PORT taken?)"; return 1; }
}

# Peak and current resident memory of a process, in MB.
hwm_mb() { awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# CPU seconds used so far: `cpu_s PID` for one process (its threads included), `cpu_s postgres` for
# every PostgreSQL process alive now (server and backends), `cpu_s machine` for the whole machine
# (all cores, idle and iowait left out). Differences of two readings tell where a run's time went.
cpu_s() {
  local hz
  hz=$(getconf CLK_TCK)
  case $1 in
    machine) awk -v hz="$hz" '/^cpu / {printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz}' /proc/stat ;;
    postgres) cat /proc/[0-9]*/stat 2>/dev/null |
      awk -v hz="$hz" '$2 == "(postgres)" {t += $14 + $15} END {printf "%.2f", t/hz}' ;;
    *) awk -v hz="$hz" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat" ;;
  esac
}

# Waits (at most $1 s) until no record is pending, in flight, or in the ingest inbox (not merged
# into staging yet).
wait_drained() {
  local deadline=$((SECONDS + $1)) left
  while [ $SECONDS -lt $deadline ]; do
    left=$(sql "SELECT (SELECT count(*) FROM staging_records WHERE sync_status IN ('pending','in_flight'))
                       + (SELECT count(*) FROM staging_inbox)" 2>/dev/null || echo '?')
    [ "$left" = 0 ] && return 0
    sleep 1
  done
  log "still $left records pending, in flight or in the inbox after $1 s"
  return 1
}

# Waits (at most $1 s) until the ingest inbox is empty: everything answered is in staging.
wait_merged() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(sql 'SELECT count(*) FROM staging_inbox' 2>/dev/null || echo '?')" = 0 ] && return 0
    sleep 0.1
  done
  log "the inbox still holds records after $1 s"
  return 1
}
