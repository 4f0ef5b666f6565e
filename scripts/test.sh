#!/usr/bin/env bash
# Runs the whole test suite: makes sure PostgreSQL is there (see postgres.sh), then runs every
# test. Integration tests create a fresh database per test on that server.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL
DATABASE_URL=$(scripts/postgres.sh)
# sqlx::test creates its databases next to DATABASE_URL's.
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast "$@"
  # nextest does not run doctests.
  cargo test --doc --quiet
else
  cargo test --all-targets --no-fail-fast "$@"
fi
