"""The "on this device" custom component: its served folder, whether onnxruntime-web is installed, the call.

Streamlit components v1 (``declare_component(path=...)``): Streamlit serves the folder
``assets/ort-web/component`` itself at ``/component/<name>/`` in an iframe of the same
origin, with the right content types (``.mjs`` as JavaScript, ``.wasm`` as
``application/wasm``), so ONNX Runtime Web's files load from the app's own server
(``ort.env.wasm.wasmPaths`` points at ``./ort/``) and never from a CDN. ``ort/`` holds two
files copied from the npm package by ``scripts/install-ort-web.sh`` (``make run`` / ``make
test`` call it); without npm that folder is missing and ``missing_files`` says so, so the
page explains how to enable the component instead of mounting it. Bytes arguments (pieces
of the ONNX file) reach the JavaScript as ``Uint8Array``; the value it sends back arrives
as parsed JSON and is validated before use (``ui.latency.device_state``).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit.components.v1 as components

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "assets" / "ort-web"
COMPONENT_DIR = PACKAGE_DIR / "component"
ORT_FILES = ("ort/ort.wasm.bundle.min.mjs", "ort/ort-wasm-simd-threaded.wasm")
KEY = "dev_component"
HOW_TO_ENABLE = (
    "Measuring on your device needs ONNX Runtime Web, which this server has not installed (its files come from "
    "the npm registry at set-up, never from a CDN). To enable it, install Node.js with npm, run "
    "`bash scripts/install-ort-web.sh` (or `make run`) in the app's folder and restart the app."
)

_component = components.declare_component("device_latency", path=str(COMPONENT_DIR))


def missing_files(directory: Path | None = None) -> list[str]:
    """ONNX Runtime Web files the component needs but the folder lacks (empty: ready)."""
    folder = COMPONENT_DIR if directory is None else directory
    return [
        name
        for name in ("index.html", "device.js", "seeded.mjs", *ORT_FILES)
        if not (folder / name).is_file() or (folder / name).stat().st_size == 0
    ]


def pinned_version() -> str:
    """The onnxruntime-web version ``assets/ort-web/package.json`` pins (the lockfile holds its hash)."""
    return json.loads((PACKAGE_DIR / "package.json").read_text())["dependencies"]["onnxruntime-web"]


def installed_version(directory: Path | None = None) -> str | None:
    """The version the install script copied (``ort/VERSION``), or None."""
    path = (COMPONENT_DIR if directory is None else directory) / "ort" / "VERSION"
    try:
        return path.read_text().strip()[:20] or None
    except OSError:
        return None


def device_component(job: dict | None, chunk_index: int | None, chunk: bytes | None, version: str) -> object:
    """Render the component; returns its last value as sent by the browser (untrusted), or None."""
    return _component(job=job, chunk_index=chunk_index, model_chunk=chunk, ort_version=version, key=KEY, default=None)
