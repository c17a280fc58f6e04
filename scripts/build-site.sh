#!/usr/bin/env bash
# Builds what the browser loads, into target/site/pkg, without cargo-leptos: the `frontend` crate
# for wasm32 (the `site` profile of Cargo.toml, in target/front), wasm-bindgen's JavaScript glue
# and the stylesheet. Names as the server's pages expect them: vpos.js, vpos.wasm, vpos.css.
# (The workspace's [workspace.metadata.leptos] still serves `cargo leptos watch` for who has it.)
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=target/site/pkg
cargo build -p frontend --lib --target wasm32-unknown-unknown --target-dir target/front --profile site
rm -rf "$pkg"
mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name vpos \
  target/front/wasm32-unknown-unknown/site/frontend.wasm
# The hydration script asks for vpos.wasm by name.
mv "$pkg/vpos_bg.wasm" "$pkg/vpos.wasm"
cp style/main.css "$pkg/vpos.css"
