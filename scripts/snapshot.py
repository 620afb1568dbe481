"""Snapshot what the app and the CLI show, to check that a refactoring changed nothing.

    python scripts/snapshot.py OUT_DIR          # writes OUT_DIR/cli/*.txt and OUT_DIR/pages/*.txt
    diff -r before/ after/                      # a behaviour-preserving change shows no difference

The CLI part runs every deterministic command (no timing) in this process and keeps its
exit code, stdout and stderr. The page part runs every page through AppTest, with the
default model and a few links, and writes each element's type and value, one per line
(Styler's random table ids and the temporary data directory are replaced by fixed names). Nothing here measures latency.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EXPLORER_WARMUP", "0")
os.environ.setdefault("EXPLORER_DATA_DIR", tempfile.mkdtemp(prefix="explorer-snapshot-"))

CLI_COMMANDS = [
    "--help",
    "size --help",
    "size",
    "size --groups 8 --width 0.5 --variant arch2",
    "size --groups 1 --width 2 --variant shallow --no-shuffle --input 480x640",
    "size --groups 3 --json",
    "size --groups 65",
    "size --width -1",
    "size --input 0x5",
    "budget --help",
    "budget --mflops 40",
    "budget --mflops 140 --json",
    "budget --params 1.5 --variant arch2",
    "budget --mflops 0",
    "budget --groups 3,99 --mflops 40",
    "mixing --help",
    "mixing",
    "mixing --channels 12 --groups 3 --layers 3 --no-shuffle",
    "mixing --channels 12 --groups 3 --json",
    "mixing --measured --groups 3 --width 0.25",
    "mixing --channels 7 --groups 3",
    "bench --help",
    "bench --groups 0",
    "results --help",
    "results",
    "results --json",
]
PAGES = ["streamlit_app.py", *sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))]
LINKS = [{}, {"groups": "8", "width": "0.5", "variant": "arch2", "shuffle": "off"}, {"groups": "bad"}]
STYLER_ID = re.compile(r"T_[0-9a-f]{5}")


def stable(text: str) -> str:
    """The text without what differs from run to run: Styler's table ids, the temporary data directory."""
    return STYLER_ID.sub("T_id", text).replace(os.environ["EXPLORER_DATA_DIR"], "$EXPLORER_DATA_DIR")


def cli_snapshot(out: Path) -> None:
    from explorer.cli import main

    out.mkdir(parents=True, exist_ok=True)
    for command in CLI_COMMANDS:
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(command.split())
            except SystemExit as stop:
                code = stop.code
        name = re.sub(r"[^A-Za-z0-9.]+", "_", command).strip("_") or "root"
        text = f"$ {command}\nexit {code}\n--- stdout\n{stdout.getvalue()}--- stderr\n{stderr.getvalue()}"
        (out / f"{name}.txt").write_text(stable(text))


def element_lines(node, depth: int = 0) -> list[str]:
    lines = []
    for child in getattr(node, "children", {}).values() if hasattr(node, "children") else []:
        kind = getattr(child, "type", type(child).__name__)
        value = ""
        for attr in ("value", "label", "body"):
            try:
                value = repr(getattr(child, attr))
                break
            except Exception:  # an element without that attribute, or one AppTest cannot read
                continue
        proto = getattr(child, "proto", None)
        spec = getattr(proto, "spec", "") if proto is not None else ""
        line = f"{'  ' * depth}{kind}: {value}"
        if spec:
            line += f" spec={hashlib.sha1(stable(spec).encode()).hexdigest()[:12]}"
        lines.append(stable(line))
        lines += element_lines(child, depth + 1)
    return lines


def page_snapshot(out: Path) -> None:
    from streamlit.testing.v1 import AppTest

    out.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        for number, link in enumerate(LINKS):
            at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
            for key, value in link.items():
                at.query_params[key] = value
            if page != "streamlit_app.py":
                at.switch_page(page)
            at.run()
            lines = [f"query {link}"]
            for area in ("main", "sidebar"):
                lines.append(f"[{area}]")
                lines += element_lines(getattr(at, area))
            name = Path(page).stem
            (out / f"{name}-{number}.txt").write_text("\n".join(lines) + "\n")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "snapshot")
    cli_snapshot(out / "cli")
    page_snapshot(out / "pages")
    print(f"snapshot written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
