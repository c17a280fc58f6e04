#!/usr/bin/env bash
# `make bench-page`: how long the console's pages take to become interactive in Debian's chromium
# (end2end/bench/page-load.spec.ts), on the build `make run` serves: the debug server and the site of
# scripts/build-site.sh, on a fresh console with the demo data (end2end/run.sh). PAGE_RUNS=8 loads
# of each kind.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
cargo build -p server --bin vpos
scripts/build-site.sh
echo "page-load benchmark, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
for f in target/site/pkg/vpos-*.wasm target/site/pkg/vpos-*.wasm.gz; do
  echo "  $(basename "$f"): $(stat -c %s "$f") bytes"
done
end2end/run.sh --config=bench.config.ts --reporter=list
