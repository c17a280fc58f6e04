#!/usr/bin/env bash
# `make bench-ingest`: the terminal gateway under load. On SQLite and on PostgreSQL (when a server
# answers on 127.0.0.1:5432), release build: `vpos serve` on demo data, `vpos simulate` sending
# the demo terminals' traffic over mutual TLS for INGEST_SECONDS at INGEST_RATE messages a second,
# and the console's transaction search (`vpos-load`, a finance operator's first page) measured idle
# and then in the middle of that load, twice: paced (INGEST_SEARCH_RATE searches a second, as users
# send them: the latency a user waits) and flat out (each connection's next search as soon as the
# last one answered: how many searches the server still answers). Prints the simulator's report and
# the search figures: the reference for each search under load is the idle one of the same run.
#   INGEST_RATE=2100  INGEST_SECONDS=60  INGEST_ROWS=200000 (demo transactions loaded first)
#   INGEST_SEARCH_CONNECTIONS=2  INGEST_SEARCH_SECONDS=15  INGEST_SEARCH_RATE=50
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rate=${INGEST_RATE:-2100}
seconds=${INGEST_SECONDS:-60}
rows=${INGEST_ROWS:-200000}
search_connections=${INGEST_SEARCH_CONNECTIONS:-2}
search_seconds=${INGEST_SEARCH_SECONDS:-15}
search_rate=${INGEST_SEARCH_RATE:-50}

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
P12_PASSWORD=unused-p12 "$vpos" pki --dir "$pki" operator --name hualian.finance --org bench \
  --password-env P12_PASSWORD >/dev/null
mkdir -p "$work/site/pkg"

# CPU time (clock ticks) of a process, and of every PostgreSQL server process (0 on SQLite: the
# database is inside the server's process).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
db_ticks() {
  if [ "$1" = PostgreSQL ]; then
    local sum=0 pid
    for pid in $(pgrep -x postgres || true); do sum=$((sum + $(ticks "$pid"))); done
    echo "$sum"
  else
    echo 0
  fi
}
seconds_of() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}'; }

search() { # url password-env new-password-env [--rate R]
  "$load" --addr "127.0.0.1:$port" --ca "$pki/ca.pem" --cert "$pki/issued/hualian.finance.pem" \
    --key "$pki/issued/hualian.finance.key.pem" --database-url "$1" --login hualian.finance \
    --password-env "$2" --new-password-env "$3" --connections "$search_connections" \
    --seconds "$search_seconds" --warmup 2 "${@:4}" | grep 'search under load' | sed 's/^search under load: //'
}

run() { # backend-name database-url
  local name=$1 url=$2
  DATABASE_URL="$url" "$vpos" migrate >/dev/null
  echo "--- $name: $rows demo transactions, then the gateway at $rate messages/s for $seconds s"
  (cd "$work" && DATABASE_URL="$url" "$vpos" demo --transactions "$rows" --password-env BENCH_PASSWORD >/dev/null 2>&1)
  DATABASE_URL="$url" "$vpos" operator bind-cert --login hualian.finance --cert "$pki/issued/hualian.finance.pem" >/dev/null
  # Every enabled terminal of the demo merchants (a disabled one is refused at sign-in and sends
  # nothing: its share of the rate would be lost).
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
  echo "search idle, paced:          $(search "$url" BENCH_PASSWORD LOAD_NEW_PASSWORD --rate "$search_rate")"
  echo "search idle, flat out:       $(search "$url" LOAD_NEW_PASSWORD LOAD_NEWER_PASSWORD)"
  "$vpos" simulate --gateway "https://localhost:$((port + 1))" --ca "$pki/ca.pem" \
    --cert "$pki/issued/bench-front-end.pem" --key "$pki/issued/bench-front-end.key.pem" \
    --terminals "$terminals" --rate "$rate" --duration "$seconds" >"$work/simulate.out" &
  local simulator=$!
  # CPU time of the server, the simulator and the database server over a window of ingest alone
  # (before the search starts): where a message's cost goes, whatever the machine's speed.
  local window=$(((seconds - 2 * search_seconds) / 2 - 4))
  sleep 3
  local before_server before_sim before_db
  before_server=$(ticks "$server_pid"); before_sim=$(ticks "$simulator"); before_db=$(db_ticks "$name")
  sleep "$window"
  local server_s sim_s db_s
  server_s=$(seconds_of $(($(ticks "$server_pid") - before_server)))
  sim_s=$(seconds_of $(($(ticks "$simulator") - before_sim)))
  db_s=$(seconds_of $(($(db_ticks "$name") - before_db)))
  sleep 1
  echo "search under load, paced:    $(search "$url" LOAD_NEW_PASSWORD LOAD_NEWER_PASSWORD --rate "$search_rate")"
  echo "search under load, flat out: $(search "$url" LOAD_NEW_PASSWORD LOAD_NEWER_PASSWORD)"
  wait "$simulator" || true
  cat "$work/simulate.out"
  local per_second
  per_second=$(awk '/^sent/ {gsub(/[(\/s)]/, "", $NF); print $NF}' "$work/simulate.out")
  awk -v w="$window" -v a="$server_s" -v b="$sim_s" -v c="$db_s" -v r="$per_second" 'BEGIN {
    printf "CPU over %d s of ingest alone (cores busy; ms per message at %.0f/s): server %.2f (%.3f), simulator %.2f (%.3f), database server %.2f (%.3f)\n",
      w, r, a / w, a * 1000 / (w * r), b / w, b * 1000 / (w * r), c / w, c * 1000 / (w * r)
  }'
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid=
}

echo "ingest benchmark, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
run SQLite "sqlite://$work/bench.db?mode=rwc"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null; then
  admin="postgres://postgres@127.0.0.1:5432/postgres"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_ingest WITH (FORCE)" -c "CREATE DATABASE vpos_ingest" >/dev/null
  run PostgreSQL "postgres://postgres@127.0.0.1:5432/vpos_ingest"
  psql "$admin" -qc "DROP DATABASE IF EXISTS vpos_ingest WITH (FORCE)" >/dev/null
fi
