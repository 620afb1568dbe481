#!/usr/bin/env bash
# ONNX Runtime Web for the Latency page's "on this device" component (see docs/latency.md, "On your device").
# Installs the version pinned in assets/ort-web/package-lock.json from the npm registry (`npm ci`,
# install scripts off) and copies the two files the browser loads into the component's served folder,
# assets/ort-web/component/ort/ (git-ignored). Without npm the app still runs: the Latency page says
# how to enable the component, and this script says so too and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../assets/ort-web"
FILES=(ort.wasm.bundle.min.mjs ort-wasm-simd-threaded.wasm)
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the app runs, but 'Measure on this device' stays off until you install Node.js/npm" \
         "and run: bash scripts/install-ort-web.sh" >&2
    exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
rm -rf component/ort
mkdir -p component/ort
for file in "${FILES[@]}"; do
    cp "node_modules/onnxruntime-web/dist/$file" component/ort/
done
node -p "require('./node_modules/onnxruntime-web/package.json').version" > component/ort/VERSION
