#!/usr/bin/env bash
# The load benchmark: `vpos serve` (release build) on a database the demo loader filled with
# the operators' first password in $BENCH_PASSWORD, and `vpos-load` sending the transaction search of
# the largest merchant's finance operator over mutual TLS, keep-alive connections.
#   scripts/bench-load.sh DATABASE_URL     (bench-query.sh calls it after its query figures)
#   LOAD_CONNECTIONS=32  LOAD_SECONDS=20  LOAD_LOGIN=hualian.finance  LOAD_SERVER_CONNECTIONS=8
#   LOAD_SERVER_BIN=target/release/vpos (another build of the server, to compare two back to back)
# Builds nothing: run `cargo build --release -p server --bin vpos --bin vpos-load` first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
url=${1:?give the database URL}
vpos=${LOAD_SERVER_BIN:-$root/target/release/vpos}
load="$root/target/release/vpos-load"
login=${LOAD_LOGIN:-hualian.finance}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
: "${BENCH_PASSWORD:?give the first password of the demo operators}"
export LOAD_NEW_PASSWORD="${BENCH_PASSWORD}-changed"
# The key that sealed the database's audit events (bench-query.sh exports its own).
export VPOS_AUDIT_KEY_FILE="${VPOS_AUDIT_KEY_FILE:-$root/var/audit.key}"

"$vpos" pki --dir "$work/pki" init >/dev/null
"$vpos" pki --dir "$work/pki" server >/dev/null
P12_PASSWORD=unused-p12 "$vpos" pki --dir "$work/pki" operator --name "$login" --org bench --password-env P12_PASSWORD >/dev/null
DATABASE_URL="$url" "$vpos" operator bind-cert --login "$login" --cert "$work/pki/issued/$login.pem" >/dev/null

port=$((20000 + RANDOM % 20000))
mkdir -p "$work/site/pkg"
DATABASE_URL="$url" VPOS_LISTEN="127.0.0.1:$port" VPOS_PUBLIC_URL="https://127.0.0.1:$port" \
  VPOS_DATABASE_MAX_CONNECTIONS="${LOAD_SERVER_CONNECTIONS:-8}" VPOS_SITE_ROOT="$work/site" \
  VPOS_TOKEN_KEY_FILE="$work/token.key" VPOS_EXPORTS__DIR="$work/exports" \
  VPOS_TLS__CA_CERT="$work/pki/ca.pem" VPOS_TLS__SERVER_CERT="$work/pki/server.pem" \
  VPOS_TLS__SERVER_KEY="$work/pki/server.key.pem" VPOS_TLS__CRL="$work/pki/crl.pem" \
  VPOS_CLEARING__SCHEDULE=false VPOS_LOG__FILTER="${LOAD_LOG_FILTER:-warn}" \
  "$vpos" serve >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.2
done

seconds=${LOAD_SECONDS:-20}
# The server's CPU time over the middle of the timed run (after the loader's 3 s of warm-up and sign-in):
# CPU per request varies less than requests/s on a machine shared with others.
ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
(sleep 5; a=$(ticks); sleep $((seconds - 3)); echo "$a $(ticks) $((seconds - 3))" >"$work/cpu") &
sampler=$!
"$load" --addr "127.0.0.1:$port" --ca "$work/pki/ca.pem" --cert "$work/pki/issued/$login.pem" \
  --key "$work/pki/issued/$login.key.pem" --database-url "$url" --login "$login" \
  --password-env BENCH_PASSWORD --new-password-env LOAD_NEW_PASSWORD \
  --connections "${LOAD_CONNECTIONS:-32}" --seconds "$seconds" | tee "$work/load.out" \
  || { echo "the server's log:" >&2; cat "$work/serve.log" >&2; exit 1; }
wait "$sampler"
read -r before after span <"$work/cpu"
rate=$(awk '/requests\/s/ {for (i = 1; i <= NF; i++) if ($i == "requests/s;") print $(i - 1)}' "$work/load.out")
awk -v b="$before" -v a="$after" -v s="$span" -v r="$rate" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  busy = (a - b) / hz / s
  printf "server CPU: %.2f cores busy, %.3f ms per request\n", busy, (r > 0 ? busy * 1000 / r : 0)
}'
