#!/usr/bin/env bash
# `make test`: every test of the project.
#   1. formatting, the import graph of app/src, clippy on both builds; 2. unit tests and the
#   integration tests (services and migrations on a fresh database per test, HTTP over real mutual
#   TLS, the CLI) on SQLite and, when a server answers on 127.0.0.1:5432, on PostgreSQL too; 3. the
#   browser tests (Playwright + Debian chromium with a client certificate) against a freshly built
#   and served console.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

scripts/setup.sh --test

say "checking formatting"
cargo fmt --all --check

say "checking that no two modules of app/src import each other"
python3 scripts/import-cycles.py app/src

say "clippy (server with tests, and the browser build)"
cargo clippy -p app -p migrations -p server --tests -- -D warnings
cargo clippy -p app --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

pg_host=127.0.0.1
pg_port=5432
backends="SQLite"
if (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; then
  export TEST_DATABASE_URL="postgres://postgres@$pg_host:$pg_port/postgres"
  export TEST_REQUIRE_POSTGRES=1
  backends="SQLite and PostgreSQL ($pg_host:$pg_port)"
fi
drop_test_databases() {
  [ -n "${TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null || return 0
  psql "$TEST_DATABASE_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'vpos\_t%'" |
    while read -r db; do psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done
}
drop_test_databases
trap drop_test_databases EXIT

say "unit tests"
cargo test -p app -p migrations -p server --lib --bins

say "integration tests on $backends"
# Four tests at a time in one process: they wait on the database and on TLS more than they compute,
# and four at a time took 84 s where two processes of one test at a time took 136 s (2 cores).
cargo test -p server --test it -- --test-threads=4

say "browser tests"
# The vpos binary is the one cargo test just built; scripts/build-site.sh adds the wasm, js and css.
scripts/build-site.sh
end2end/run.sh

echo
say "all tests passed in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s; database backends: $backends"
