#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable and prints a DATABASE_URL for it (on stdout).
#
#   1. a server already listening on 127.0.0.1:5432 (trust auth, user postgres) is used as it is;
#   2. otherwise, a throwaway cluster is started from initdb/pg_ctl under .local/postgres on
#      port 55432, installing Debian's postgresql package first when there is no initdb.
# Progress goes to stderr so that callers can do: DATABASE_URL=$(scripts/postgres.sh)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "postgres.sh: $*" >&2; }

if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 \
    && psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  log "using the server on 127.0.0.1:5432"
  echo "postgres://postgres@127.0.0.1:5432/postgres"
  exit 0
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  log "no PostgreSQL found; installing Debian's postgresql package"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

port=55432
data="$root/.local/postgres"
url="postgres://postgres@127.0.0.1:$port/postgres"
# initdb refuses to run as root: run the cluster as the postgres system user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  log "using the throwaway cluster on port $port"
  echo "$url"
  exit 0
fi
mkdir -p "$root/.local"
if [ ! -f "$data/PG_VERSION" ]; then
  log "creating a throwaway cluster in $data"
  mkdir -p "$data"
  [ "$(id -u)" -eq 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres; chown postgres "$data"; }
  as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
[ "$(id -u)" -eq 0 ] && chown -R postgres "$data"
log "starting the throwaway cluster on port $port"
as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2
echo "$url"
