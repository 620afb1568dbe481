"""Screenshots of the main pages, taken from the running app (``make screenshots``).

Starts ``streamlit run streamlit_app.py`` on a free 127.0.0.1 port (headless, no file
watcher) with ``EXPLORER_DATA_DIR`` pointing at a fresh temporary directory, so nothing of
the user's own result store shows up. For the Latency page that directory is first seeded
with one real measurement, ``python -m explorer bench`` of the sidebar's default model
(ShuffleNet 1x g=3, 224x224) on this machine: every latency in that screenshot is measured
here and labelled as the page labels it. Debian's chromium, driven by Playwright, opens
each page at 1280x800, waits until the script run is over (no "running" status widget and
no skeleton for 1 s, as ``tests/servers/streamlit.py: wait_idle``) and writes a PNG under
``docs/screenshots/`` (re-encoded as a 256-colour palette PNG to keep the repository small).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only lecture,architecture]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.streamlit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
    wait_idle,
)

VIEWPORT = {"width": 1280, "height": 800}
RUN_TIMEOUT_S = 300  # a cold page builds and traces a model on a busy 2-core machine
# The model every screenshot shows: the sidebar's default, ShuffleNet 1x g=3 at 224x224.
SEED = ["bench", "--groups", "3", "--width", "1.0", "--backends", "torch,ort"]

# name -> (URL path and query, needs the seeded store)
SHOTS = {
    "lecture": ("Lecture?step=5", False),
    "architecture": ("Architecture", False),
    "complexity": ("Complexity", False),
    "channel_shuffle": ("Channel_shuffle", False),
    "latency": ("Latency", True),
}


def compress(path: Path) -> None:
    """Re-encode as a palette PNG (screens of text and flat charts lose nothing visible)."""
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    palette.save(path, optimize=True)


def seed(data_dir: Path) -> None:
    """One real measurement of the default model in the screenshots' own store."""
    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir)}
    print("seeding the store: python -m explorer " + " ".join(SEED), flush=True)
    subprocess.run([sys.executable, "-m", "explorer", *SEED], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default=",".join(SHOTS), help="comma-separated, from " + ", ".join(SHOTS))
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in SHOTS]
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; allowed: {', '.join(SHOTS)}")
    if not Path(CHROMIUM).exists():
        print(f"no chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="explorer-screenshots-"))
    try:
        if any(SHOTS[name][1] for name in names):
            seed(data_dir)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {"EXPLORER_DATA_DIR": str(data_dir), "EXPLORER_WARMUP": "0"}
        server = start_server(port, data_dir / "server.log", env)
        try:
            wait_healthy(url, server)
            shoot(url, names, args.out)
        finally:
            stop_server(server)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def shoot(url: str, names: list[str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for name in names:
                path, _ = SHOTS[name]
                context = browser.new_context(viewport=VIEWPORT)
                context.set_default_timeout(RUN_TIMEOUT_S * 1000)
                try:
                    tab = context.new_page()
                    start = time.monotonic()
                    tab.goto(f"{url}/{path}")
                    wait_idle(tab)
                    time.sleep(1.0)  # plotly and graphviz finish drawing
                    target = out / f"{name}.png"
                    tab.screenshot(path=str(target))
                    compress(target)
                    print(
                        f"{target}: {target.stat().st_size // 1024} KB ({time.monotonic() - start:.1f} s)", flush=True
                    )
                finally:
                    context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
