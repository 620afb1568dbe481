"""The docs point at files that exist: relative links in the Markdown, and the docs the code names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
DOC_NAMED = re.compile(r"\bdocs/[\w./-]+\.md\b")


SOURCES = [
    path
    for folder in ("explorer", "ui", "pages", "benchmarks", "scripts", "tests")
    for path in sorted((ROOT / folder).rglob("*.py"))
] + [ROOT / "streamlit_app.py"]


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: path.name)
def test_every_relative_link_resolves(document: Path):
    targets = [t for t in LINK.findall(document.read_text(encoding="utf-8")) if "://" not in t]
    missing = [t for t in targets if not (document.parent / t).exists()]
    assert not missing, f"{document.relative_to(ROOT)} links to missing files: {missing}"


def test_every_doc_the_code_names_exists():
    named = {
        (path.relative_to(ROOT), name)
        for path in SOURCES
        for name in DOC_NAMED.findall(path.read_text(encoding="utf-8"))
    }
    missing = sorted((str(path), name) for path, name in named if not (ROOT / name).exists())
    assert not missing, f"the code names docs that do not exist: {missing}"
