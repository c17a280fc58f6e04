#!/usr/bin/env bash
# `make bench-query`: the transaction query benchmarks (search page 1 and page 1,000 by
# keyset, the four summary tabs, a large export against the bare writer, the search endpoint under
# load over mutual TLS: scripts/bench-load.sh) on SQLite and on
# PostgreSQL (when a server answers on 127.0.0.1:5432), release build, demo data loaded fresh.
#   BENCH_ROWS=1000000 (SQLite, default)   BENCH_PG_ROWS=10000000 (PostgreSQL, default)
#   BENCH_EXPORT_ROWS=100000,1000000             BENCH_ITERATIONS=200
#   BENCH_CLEAR_ROWS=1000000               (clearing: one day of this many transactions per backend)
# Prints the figures; record them in docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${BENCH_ROWS:-1000000}
pg_rows=${BENCH_PG_ROWS:-10000000}
export_rows=${BENCH_EXPORT_ROWS:-100000,1000000}
iterations=${BENCH_ITERATIONS:-200}
clear_rows=${BENCH_CLEAR_ROWS:-1000000}

cargo build --release -p server --bin vpos --bin vpos-bench --bin vpos-load
vpos="$root/target/release/vpos"
bench="$root/target/release/vpos-bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VPOS_LOG__FILTER=warn BENCH_PASSWORD="Bench-password-1"
# Every command on a benchmark database seals its audit events with the same key.
export VPOS_AUDIT_KEY_FILE="$work/audit.key"

run() { # backend-name rows database-url
  local name=$1 n=$2 url=$3
  DATABASE_URL="$url" "$vpos" migrate >/dev/null
  echo "--- $name: loading $n demo transactions"
  (cd "$work" && DATABASE_URL="$url" "$vpos" demo --transactions "$n" --password-env BENCH_PASSWORD 2>/dev/null | grep '^timing\|^clearing' || true)
  "$bench" --database-url "$url" --iterations "$iterations" --export-rows "$export_rows"
  scripts/bench-load.sh "$url"
}

clear_one_day() { # backend-name database-url (a fresh, migrated database)
  local name=$1 url=$2 day start end
  day=$(TZ=Asia/Shanghai date -d yesterday +%F)
  DATABASE_URL="$url" "$vpos" migrate >/dev/null
  (cd "$work" && DATABASE_URL="$url" "$vpos" demo --transactions "$clear_rows" --days 1 --until "$day" \
    --password-env BENCH_PASSWORD >/dev/null 2>&1)
  start=$(date +%s.%N)
  DATABASE_URL="$url" "$vpos" clear --date "$day" >"$work/clear.out"
  end=$(date +%s.%N)
  printf 'clearing one day (%s) of %s transactions on %s: %.1f s, %s settlements\n' "$day" "$clear_rows" "$name" \
    "$(awk "BEGIN {print $end - $start}")" "$(grep -c ' sales ' "$work/clear.out" || true)"
}

echo "query benchmarks, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
run SQLite "$rows" "sqlite://$work/bench.db?mode=rwc"
clear_one_day SQLite "sqlite://$work/clear.db?mode=rwc"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null; then
  admin="postgres://postgres@127.0.0.1:5432/postgres"
  fresh() { psql "$admin" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; }
  fresh vpos_bench
  run PostgreSQL "$pg_rows" "postgres://postgres@127.0.0.1:5432/vpos_bench"
  fresh vpos_bench
  clear_one_day PostgreSQL "postgres://postgres@127.0.0.1:5432/vpos_bench"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_bench WITH (FORCE)" >/dev/null
else
  echo "PostgreSQL    not reachable on 127.0.0.1:5432: skipped"
fi
