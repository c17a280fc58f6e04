#!/usr/bin/env bash
# `make bench-monitor`: the realtime monitor. On SQLite and on PostgreSQL (when a server answers on
# 127.0.0.1:5432), release build, `vpos serve` on demo data:
#  1. memory: the server's resident size idle, then with MONITOR_IDLE monitors open (each its own
#     mutual-TLS connection and stream, `vpos-load --monitor --idle`): what a monitor costs;
#  2. latency: `vpos simulate` sends the demo terminals' traffic at MONITOR_RATE messages a second
#     while MONITOR_CONNECTIONS monitors of the largest merchant are open (`vpos-load --monitor`):
#     for every row each monitor receives, the time from the host's accepting the sale to its
#     arrival. The reference beside it is the simulator's own answer time in the same run.
#   MONITOR_RATE=1000  MONITOR_CONNECTIONS=200  MONITOR_IDLE=2000  MONITOR_SECONDS=20
#   MONITOR_ROWS=50000 (demo transactions loaded first)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rate=${MONITOR_RATE:-1000}
connections=${MONITOR_CONNECTIONS:-200}
idle=${MONITOR_IDLE:-2000}
seconds=${MONITOR_SECONDS:-20}
rows=${MONITOR_ROWS:-50000}
# Every monitor and every connection is a file descriptor, in the server and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle + 200)) ]; then
  echo "bench-monitor: $idle idle monitors need more open files than ulimit -n $(ulimit -n)" >&2
  exit 1
fi

cargo build --release -p server --bin vpos --bin vpos-load
vpos="$root/target/release/vpos"
load="$root/target/release/vpos-load"
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export VPOS_LOG__FILTER=warn BENCH_PASSWORD="Bench-password-1"
export LOAD_NEW_PASSWORD="${BENCH_PASSWORD}-changed" LOAD_NEWER_PASSWORD="${BENCH_PASSWORD}-again"
export VPOS_AUDIT_KEY_FILE="$work/audit.key"
pki="$work/pki"
"$vpos" pki --dir "$pki" init >/dev/null
"$vpos" pki --dir "$pki" server >/dev/null
"$vpos" pki --dir "$pki" gateway --name bench-front-end >/dev/null
P12_PASSWORD=unused-p12 "$vpos" pki --dir "$pki" operator --name hualian.monitor --org bench \
  --password-env P12_PASSWORD >/dev/null
mkdir -p "$work/site/pkg"

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

monitors() { # url password-env new-password-env vpos-load-arguments…
  "$load" --addr "127.0.0.1:$port" --ca "$pki/ca.pem" --cert "$pki/issued/hualian.monitor.pem" \
    --key "$pki/issued/hualian.monitor.key.pem" --database-url "$1" --login hualian.monitor \
    --password-env "$2" --new-password-env "$3" --monitor "${@:4}"
}

run() { # backend-name database-url
  local name=$1 url=$2
  DATABASE_URL="$url" "$vpos" migrate >/dev/null
  echo "--- $name: $rows demo transactions"
  (cd "$work" && DATABASE_URL="$url" "$vpos" demo --transactions "$rows" --password-env BENCH_PASSWORD >/dev/null 2>&1)
  DATABASE_URL="$url" "$vpos" operator bind-cert --login hualian.monitor --cert "$pki/issued/hualian.monitor.pem" >/dev/null
  local terminals
  terminals=$(for m in M00000001 M00000002 M00000003 M00000004 M00000005; do
    DATABASE_URL="$url" "$vpos" terminal list --merchant "$m" 2>/dev/null | awk 'NR > 1 && $3 == "enabled" {print $1}'
  done | paste -sd, -)
  port=$((20000 + RANDOM % 20000))
  DATABASE_URL="$url" VPOS_LISTEN="127.0.0.1:$port" VPOS_PUBLIC_URL="https://127.0.0.1:$port" \
    VPOS_GATEWAY__LISTEN="127.0.0.1:$((port + 1))" VPOS_SITE_ROOT="$work/site" \
    VPOS_TOKEN_KEY_FILE="$work/token.key" VPOS_EXPORTS__DIR="$work/exports" \
    VPOS_TLS__CA_CERT="$pki/ca.pem" VPOS_TLS__SERVER_CERT="$pki/server.pem" \
    VPOS_TLS__SERVER_KEY="$pki/server.key.pem" VPOS_TLS__CRL="$pki/crl.pem" \
    VPOS_CLEARING__SCHEDULE=false \
    "$vpos" serve >"$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.2
  done

  # 1. Memory. A first monitor signs in (and changes the first password) and warms the server up.
  monitors "$url" BENCH_PASSWORD LOAD_NEW_PASSWORD --idle --connections 1 --seconds 1 >/dev/null
  sleep 1
  local before after
  before=$(rss_mib "$server_pid")
  monitors "$url" LOAD_NEW_PASSWORD LOAD_NEWER_PASSWORD --idle --connections "$idle" --seconds 8 \
    >"$work/idle.out" &
  local holder=$!
  for _ in $(seq 1 600); do
    grep -q '^monitors open' "$work/idle.out" && break
    kill -0 "$holder" 2>/dev/null || { cat "$work/idle.out"; exit 1; }
    sleep 0.1
  done
  sleep 4
  after=$(rss_mib "$server_pid")
  wait "$holder"
  awk -v n="$idle" -v a="$before" -v b="$after" 'BEGIN {
    printf "memory: server resident %.1f MiB idle (the reference), %.1f MiB with %d monitors open: +%.1f MiB, %.1f KiB a monitor\n",
      a, b, n, b - a, (b - a) * 1024 / n
  }'

  # 2. Latency under the simulator's traffic.
  echo "simulator at $rate messages/s, $connections monitors of hualian (the largest merchant) open"
  "$vpos" simulate --gateway "https://localhost:$((port + 1))" --ca "$pki/ca.pem" \
    --cert "$pki/issued/bench-front-end.pem" --key "$pki/issued/bench-front-end.key.pem" \
    --terminals "$terminals" --rate "$rate" --duration $((seconds + 12)) >"$work/simulate.out" &
  local simulator=$!
  sleep 2
  monitors "$url" LOAD_NEWER_PASSWORD LOAD_NEW_PASSWORD --connections "$connections" \
    --seconds "$seconds" --warmup 3 | sed 's/^/  /'
  wait "$simulator" || true
  sed 's/^/  /' "$work/simulate.out"
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid=
}

echo "monitor benchmark, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
run SQLite "sqlite://$work/bench.db?mode=rwc"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null; then
  admin="postgres://postgres@127.0.0.1:5432/postgres"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_monitor WITH (FORCE)" -c "CREATE DATABASE vpos_monitor" >/dev/null
  run PostgreSQL "postgres://postgres@127.0.0.1:5432/vpos_monitor"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_monitor WITH (FORCE)" >/dev/null
fi
