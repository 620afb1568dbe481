"""Every benchmark writes its own figures into ``docs/benchmarks.md``: nobody copies them by hand.

A benchmark ends with ``raise SystemExit(run_and_report("NAME", main))``: ``main`` runs as
before (its output still goes to the terminal, unchanged), and when it returns 0 (or None)
the section between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in
``docs/benchmarks.md`` is replaced by (keeping its ``### `` heading): the date, the machine (CPU model and cores, library
versions, from explorer's machine identity), the load average when the run started (the
machine is shared: a number measured under load is slower than the machine), the exact
command, the wall time and everything the script printed on stdout. A section that is
missing is appended. A run that fails, or one with ``EXPLORER_BENCH_REPORT=off``, writes
nothing.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, stream) -> None:
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self):  # type: ignore[override]
        return self.stream.encoding


def machine_line() -> str:
    """CPU model, cores and library versions, as the result store keys a measurement."""
    if str(ROOT) not in sys.path:  # a benchmark that runs explorer only in child processes
        sys.path.insert(0, str(ROOT))
    from explorer import machine

    versions = ", ".join(f"{name} {version}" for name, version in sorted(machine.versions().items()))
    return f"{machine.cpu_model()}, {machine.available_cores()} cores; {versions}"


def _relative(path: Path) -> str | None:
    for root in (ROOT, ROOT.resolve()):
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return None


def command_line() -> str:
    """The command as it was typed, from the project root."""
    python = _relative(Path(sys.executable)) or "python"
    script = _relative(Path(sys.argv[0]).absolute()) or sys.argv[0]
    return shlex.join([python, script, *sys.argv[1:]])


def section(
    name: str, title: str, started: datetime.datetime, load: tuple[float, float, float], wall_s: float, output: str
) -> str:
    return "\n".join(
        [
            f"<!-- bench:{name} -->",
            f"### {name}: {title}",
            "",
            f"- date: {started:%Y-%m-%d %H:%M} UTC",
            f"- machine: {machine_line()}",
            f"- load average at the start (1, 5, 15 min): {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"
            + (
                f" (**loaded**: above the {os.cpu_count()} cores; re-run on a quiet machine before quoting a figure)"
                if load[0] > (os.cpu_count() or 1)
                else ""
            ),
            f"- command: `{command_line()}`",
            f"- wall time: {wall_s:.1f} s",
            "",
            "```text",
            output.rstrip("\n"),
            "```",
            f"<!-- /bench:{name} -->",
        ]
    )


def write_section(name: str, text: str, doc: Path = DOC) -> None:
    """Replace NAME's section in ``doc`` (or append it)."""
    old = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    found = pattern.search(old)
    heading = re.search(r"^### .*$", found.group(0), re.M) if found else None
    if heading:  # the section's own heading (what the target is) stays
        text = re.sub(r"^### .*$", lambda _: heading.group(0), text, count=1, flags=re.M)
    new, count = pattern.subn(lambda _: text, old, count=1)
    if not count:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(new, encoding="utf-8")


def run_and_report(name: str, main: Callable[[], int | None]) -> int:
    """Run a benchmark's ``main`` and, if it succeeds, write what it printed into its section."""
    started = datetime.datetime.now(datetime.UTC)
    load = os.getloadavg()
    start = time.perf_counter()
    tee = _Tee(sys.stdout)
    real, sys.stdout = sys.stdout, tee
    try:
        status = main() or 0
    finally:
        sys.stdout = real
    wall = time.perf_counter() - start
    if status != 0 or os.environ.get("EXPLORER_BENCH_REPORT", "on") == "off":
        return status
    module = sys.modules.get("__main__")
    title = ((getattr(module, "__doc__", None) or name).strip().splitlines() or [name])[0]
    write_section(name, section(name, title, started, load, wall, tee.copy.getvalue()))
    print(f"(written to {DOC.relative_to(ROOT)}, section {name})", file=sys.stderr)
    return status
