#!/usr/bin/env bash
# Refreshes `.sqlx/`, the query data that checks every SQL statement at compile time, by
# compiling against a database migrated to the current `migrations/`. With `--check`, only
# verifies that the committed data matches the code and the migrations (CI runs this).
#
# Installs sqlx-cli (the version of the sqlx crate) under .local/ when it is missing, and uses
# PostgreSQL as scripts/postgres.sh finds or starts it.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.8.6
bin=.local/sqlx-cli/bin
if ! "$bin/sqlx" --version 2>/dev/null | grep -q " $version"; then
  echo "sqlx-prepare.sh: installing sqlx-cli $version under .local/sqlx-cli" >&2
  cargo install sqlx-cli --version "$version" --locked --quiet \
    --no-default-features --features postgres,rustls --root .local/sqlx-cli
fi
export PATH="$PWD/$bin:$PATH"

server=$(scripts/postgres.sh)
# SQLX_PREPARE_DATABASE lets two checkouts on one server prepare at the same time.
database=${SQLX_PREPARE_DATABASE:-sluice_sqlx_prepare}
export DATABASE_URL="${server%/*}/$database"
# A fresh database each time, so that it holds exactly what migrations/ creates.
sqlx database drop -y >/dev/null
sqlx database create
sqlx migrate run --source migrations >/dev/null
if [ "${1:-}" = "--check" ]; then
  cargo sqlx prepare --check -- --all-targets
else
  cargo sqlx prepare -- --all-targets
fi
sqlx database drop -y >/dev/null
