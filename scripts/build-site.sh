#!/usr/bin/env bash
# Builds what the browser loads, into target/site/pkg, without cargo-leptos: the `frontend` crate
# for wasm32 (the `site` profile of Cargo.toml, in target/front), wasm-bindgen's JavaScript glue
# and the stylesheet. Names as the server's pages expect them: vpos-<hash>.js, .wasm and .css, the
# name in pkg/current.
# (The workspace's [workspace.metadata.leptos] still serves `cargo leptos watch` for who has it.)
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=target/site/pkg
cargo build -p frontend --lib --target wasm32-unknown-unknown --target-dir target/front --profile site
rm -rf "$pkg"
mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name vpos \
  target/front/wasm32-unknown-unknown/site/frontend.wasm
# The hydration script asks for <name>.wasm by name.
mv "$pkg/vpos_bg.wasm" "$pkg/vpos.wasm"
# Our crates are compiled unoptimised (quick to rebuild); binaryen's optimiser at its first level
# takes that from 13.5 MB to 5.5 MB (1.2 MB gzipped) in about 20 s, more than compiling them with
# opt-level "s" did at over a minute (docs/PERFORMANCE.md). The features are those rustc enables
# for wasm32 by default. Without wasm-opt (scripts/setup.sh installs it), or if it fails, the
# unoptimised file is served.
wasm_opt=tools/node_modules/.bin/wasm-opt
if [ -x "$wasm_opt" ]; then
  if "$wasm_opt" --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue -O1 \
    "$pkg/vpos.wasm" -o "$pkg/vpos.opt.wasm"; then
    mv "$pkg/vpos.opt.wasm" "$pkg/vpos.wasm"
  else
    rm -f "$pkg/vpos.opt.wasm"
    echo "build-site: wasm-opt failed; serving the unoptimised browser code" >&2
  fi
else
  echo "build-site: no $wasm_opt (scripts/setup.sh installs it); serving the unoptimised browser code" >&2
fi
cp style/main.css "$pkg/vpos.css"
# Names that change with the content, so that browsers may keep the files for a year: the server
# reads the name from pkg/current and serves files of that name as immutable. Each file also
# compressed beside it (gzip -9, once here rather than on every request).
hash=$(cat "$pkg/vpos.js" "$pkg/vpos.wasm" "$pkg/vpos.css" | sha256sum | cut -c1-16)
for ext in js wasm css; do
  mv "$pkg/vpos.$ext" "$pkg/vpos-$hash.$ext"
  gzip -9 -k "$pkg/vpos-$hash.$ext"
done
echo "vpos-$hash" >"$pkg/current"
