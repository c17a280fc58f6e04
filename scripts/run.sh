#!/usr/bin/env bash
# `make run`: builds the console and serves it with demo data on the embedded SQLite database.
# Everything it creates lives in var/ (git-ignored): the development PKI, the database, the
# administrator's browser certificate and the passwords. A second run reuses all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/setup.sh
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

say "building the console (the server, then the site: scripts/build-site.sh)"
cargo build -p server --bin vpos
scripts/build-site.sh

vpos="$root/target/debug/vpos"
admin=hualian.admin
mkdir -p var
credentials=var/dev-credentials.env
if [ ! -f "$credentials" ]; then
  umask 077
  random() { od -An -N9 -tx1 /dev/urandom | tr -d ' \n'; }
  {
    echo "P12_PASSWORD=p12-$(random)"
    echo "DEMO_PASSWORD=Vpos$(random)"
  } >"$credentials"
fi
# shellcheck disable=SC1090
set -a; . "$credentials"; set +a

[ -f var/pki/ca.pem ] || { say "creating the development CA"; "$vpos" pki init >/dev/null; }
[ -f var/pki/server.pem ] || { say "issuing the server certificate (localhost, 127.0.0.1)"; "$vpos" pki server >/dev/null; }
# The server refuses a CRL past its next update (30 days after signing): sign a fresh one.
"$vpos" pki crl >/dev/null
say "migrating the database"
"$vpos" migrate
if [ "$("$vpos" migrate is-empty)" = "empty" ]; then
  say "loading the demo data set"
  "$vpos" demo --password-env DEMO_PASSWORD
fi
if [ ! -f "var/pki/issued/$admin.p12" ]; then
  say "issuing the administrator's browser certificate"
  "$vpos" pki operator --name "$admin" --org "华联优选超市连锁有限公司" --password-env P12_PASSWORD >/dev/null
fi
"$vpos" operator bind-cert --login "$admin" --cert "var/pki/issued/$admin.pem" >/dev/null

listen=${VPOS_LISTEN:-127.0.0.1:8443}
gateway=${VPOS_GATEWAY__LISTEN:-127.0.0.1:8444}
cat <<INFO

  VPOS merchant console
  ---------------------
  URL:                     https://localhost:${listen##*:}/
  Browser certificate:     $root/var/pki/issued/$admin.p12
  Certificate password:    $P12_PASSWORD
  CA to trust (optional):  $root/var/pki/ca.pem
  Login name:              $admin
  First password:          $DEMO_PASSWORD   (the same for every demo operator; changed at first sign-in)
  Terminal gateway:        https://localhost:${gateway##*:}/   (gateway certificates; see README: the POS simulator)

  Import the certificate into the browser (see Help in the console), open the URL and pick it.
  Stop with Ctrl-C. Start over with: rm -rf var

INFO
exec "$vpos" serve
