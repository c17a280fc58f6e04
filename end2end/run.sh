#!/usr/bin/env bash
# Prepares a fresh console for the browser tests and runs them:
#   a new PKI and SQLite database under target/e2e, the demo data set, client certificates for the
#   operators the tests use (and one bound to nobody), the server on a free port, then Playwright.
# Expects target/debug/vpos and the site (scripts/build-site.sh) to be built and `npm ci` done in end2end/:
# scripts/test.sh does all of that.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
vpos="$root/target/debug/vpos"
for needed in "$vpos" "$root/target/site/pkg/current"; do
  [ -e "$needed" ] || { echo "missing $needed: build with cargo build -p server and scripts/build-site.sh (or make test)" >&2; exit 1; }
done
state="$root/target/e2e"
port=${E2E_PORT:-18443}

rm -rf "$state"
mkdir -p "$state"
cd "$state"

export E2E_STATE_DIR="$state"
# The platform side (clearing, deposits) that a browser test drives from the command line.
export E2E_VPOS="$vpos"
export E2E_P12_PASSWORD="e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export E2E_DEMO_PASSWORD="Demo$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')9"
export VPOS_LISTEN="127.0.0.1:$port"
# The terminal gateway beside it, off the default port a `make run` may hold.
export VPOS_GATEWAY__LISTEN="127.0.0.1:$((port + 1))"
export E2E_GATEWAY_URL="https://localhost:$((port + 1))"
export VPOS_OPS__LISTEN="127.0.0.1:$((port + 2))"
export VPOS_PUBLIC_URL="https://localhost:$port"
export VPOS_SITE_ROOT="$root/target/site"
export VPOS_LOG__FILTER="warn,server=info"
export VPOS_TLS__CRL_RELOAD_SECS=1
# Small enough that the demo data (5,000 transactions) exercises background exports in the browser.
export VPOS_EXPORTS__DIRECT_LIMIT=1000
# The simulated bank answers fast refunds within seconds, so that a flow sees them paid or rejected.
export VPOS_BANK__DELAY_SECS=2
export VPOS_BANK__POLL_MS=300
export E2E_BASE_URL="https://localhost:$port"
export NODE_EXTRA_CA_CERTS="$state/var/pki/ca.pem"

"$vpos" pki init >/dev/null
"$vpos" pki server >/dev/null
"$vpos" migrate >/dev/null
"$vpos" demo --transactions 5000 --password-env E2E_DEMO_PASSWORD >/dev/null
for login in hualian.admin hualian.finance hualian.refund hualian.monitor hualian.approver hualian.pudong hualian.fastrefund yueke.admin yueke.refund yueke.approver yigou.fastrefund yigou.admin moxiang.admin yunqi.admin; do
  "$vpos" pki operator --name "$login" --password-env E2E_P12_PASSWORD >/dev/null
  "$vpos" operator bind-cert --login "$login" --cert "var/pki/issued/$login.pem" >/dev/null
done
# Certificates bound to nobody: a stranger, and a newcomer whom a test adds as an operator.
for name in stranger hualian.newbie hualian.grouped; do
  "$vpos" pki operator --name "$name" --password-env E2E_P12_PASSWORD >/dev/null
done

# The acquirer's front end, for the tests that send terminal messages to the gateway.
"$vpos" pki gateway --name e2e-front-end >/dev/null

"$vpos" serve >"$state/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT

# The server asks for a client certificate, so "ready" means the port accepts connections.
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 $server 2>/dev/null; then cat "$state/server.log"; echo "the server did not start" >&2; exit 1; fi
  sleep 0.1
done

cd "$root/end2end"
status=0
npx playwright test "$@" || status=$?
if [ $status -ne 0 ]; then
  echo "--- server log (target/e2e/server.log), last lines:" >&2
  tail -n 40 "$state/server.log" >&2
fi
exit $status
