#!/usr/bin/env bash
# `make bench-upload`: batch fast refunds. On SQLite and on PostgreSQL (when a server answers on
# 127.0.0.1:5432), release build, demo data loaded fresh: for each size, the preview of a filled-in
# template (read in the `vpos read-upload` child, every row checked, the preview kept) beside the
# reader alone on the same file with its peak memory, and the submission of all its rows as one
# batch beside the database alone writing as many rows in one transaction.
#   UPLOAD_ROWS=10000,100000
# Prints the figures; record them in docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
sizes=${UPLOAD_ROWS:-10000,100000}

cargo build --release -p server --bin vpos --bin vpos-bench
vpos="$root/target/release/vpos"
bench="$root/target/release/vpos-bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VPOS_LOG__FILTER=warn BENCH_PASSWORD="Bench-password-1"
export VPOS_AUDIT_KEY_FILE="$work/audit.key"

run() { # backend-name database-url
  local url=$2
  DATABASE_URL="$url" "$vpos" migrate >/dev/null
  (cd "$work" && DATABASE_URL="$url" "$vpos" demo --transactions 2000 --password-env BENCH_PASSWORD >/dev/null 2>&1)
  DATABASE_URL="$url" "$bench" --upload "$sizes"
}

run SQLite "sqlite://$work/bench.db?mode=rwc"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  db="vpos_bench_upload_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
  trap 'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null; rm -rf "$work"' EXIT
  run PostgreSQL "postgres://postgres@127.0.0.1:5432/$db"
else
  echo "PostgreSQL: no server on 127.0.0.1:5432, skipped"
fi
