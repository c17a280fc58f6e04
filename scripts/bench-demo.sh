#!/usr/bin/env bash
# `make bench-demo`: how fast the demo loader writes transactions, on SQLite and on PostgreSQL
# (when a server answers on 127.0.0.1:5432), with a release build. Each backend gets a fresh database.
#   BENCH_ROWS=1000000 (default)   BENCH_PG_ROWS=1000000 (default: same as BENCH_ROWS)
# Prints one line per backend; record the figures in docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${BENCH_ROWS:-1000000}
pg_rows=${BENCH_PG_ROWS:-$rows}

cargo build --release -p server --bin vpos
vpos="$root/target/release/vpos"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VPOS_LOG__FILTER=warn BENCH_PASSWORD="Bench-password-1"
# Every command on a benchmark database seals its audit events with the same key.
export VPOS_AUDIT_KEY_FILE="$work/audit.key"

run() { # backend-name rows database-url
  local name=$1 n=$2 url=$3
  DATABASE_URL="$url" "$vpos" migrate >/dev/null
  local start end line
  start=$(date +%s.%N)
  line=$(cd "$work" && DATABASE_URL="$url" "$vpos" demo --transactions "$n" --password-env BENCH_PASSWORD 2>/dev/null | grep '^timing')
  end=$(date +%s.%N)
  printf '%-11s %10s rows  %s  (whole command %.1f s)\n' "$name" "$n" "${line#*: }" "$(awk "BEGIN {print $end - $start}")"
}

echo "demo loader, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
run SQLite "$rows" "sqlite://$work/bench.db"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null; then
  admin="postgres://postgres@127.0.0.1:5432/postgres"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_bench WITH (FORCE)" -c "CREATE DATABASE vpos_bench" >/dev/null
  run PostgreSQL "$pg_rows" "postgres://postgres@127.0.0.1:5432/vpos_bench"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_bench WITH (FORCE)" >/dev/null
else
  echo "PostgreSQL    not reachable on 127.0.0.1:5432: skipped"
fi
