#!/usr/bin/env bash
# Installs what the project needs and a fresh machine lacks. Idempotent: a second run only checks.
#   scripts/setup.sh          the build tools (wasm target, wasm-bindgen, binaryen's wasm-opt from
#                             npm in tools/; no cargo-leptos: the site is built by
#                             scripts/build-site.sh)
#   scripts/setup.sh --test   also the test tools (Debian chromium, CJK fonts, openssl, npm packages)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The wasm-bindgen CLI whose version matches the wasm-bindgen crate in Cargo.lock exactly (its
# prebuilt releases are on GitHub, out of reach here: it is built from crates.io once).
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  # --debug: built in half the time of a release build; it then takes seconds, not one, per site.
  say "installing wasm-bindgen-cli $WBG_VERSION (a minute or two, once)"
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --debug
fi

# Debian's packages, installed with sudo when not root.
apt_install() {
  say "installing from Debian: $*"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# wasm-opt shrinks the browser code to about 40 % in seconds (scripts/build-site.sh). From the npm
# registry, pinned in tools/package-lock.json: Debian 12's binaryen (108) breaks wasm-bindgen's
# externref table.
if [ ! -x tools/node_modules/.bin/wasm-opt ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  say "installing the build tools from npm (binaryen's wasm-opt)"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--test" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the browser-test packages (npm ci)"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
