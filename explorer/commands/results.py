"""``results``: the latency result store (the SQLite file in the data directory): list, export, clear, locate.

    python -m explorer results            # every stored measurement, newest last
    python -m explorer results --json     # the same as JSON (every column of every row)
    python -m explorer results --path     # where the file is (EXPLORER_DATA_DIR to choose)
    python -m explorer results --clear    # delete every stored measurement
    python -m explorer results --copy-to postgresql://USER:PASSWORD@HOST:PORT/DB
                                          # copy the data directory's SQLite store (every table) into PostgreSQL

Rows made on another machine, or with other library versions, are listed but marked:
the app and ``bench`` never show them as this machine's.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from .. import latency
from ..latency.stored import ResultStore, open_store
from ..shufflenet import config_from_dict
from ..store import DATABASE_URL_ENV, Database, age_text, database_path
from ..store.copy import copy_rows
from ..store.urls import parse_url
from .common import add_json_argument, format_table, print_json

HELP = (
    "list, export (--json), locate (--path) or clear (--clear) the stored latency results, or copy the store "
    "into PostgreSQL (--copy-to URL)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--path", action="store_true", help="print where the result store is and stop")
    action.add_argument("--clear", action="store_true", help="delete every stored result (of every machine)")
    action.add_argument(
        "--copy-to",
        metavar="URL",
        help="copy the data directory's SQLite store (every table) into "
        "the PostgreSQL database at URL; rows it already has are skipped",
    )
    add_json_argument(parser)


def where(store: ResultStore) -> str:
    """The file, the PostgreSQL URL without its password, or memory."""
    return "in memory only (see the warning above)" if store.database.in_memory else store.database.location


def copy_to(url: str) -> int:
    """Copy the data directory's SQLite file into PostgreSQL at ``url``: 2 for a bad URL, 1 if it cannot be used."""
    try:
        parse_url(url)
    except ValueError as error:
        print(f"error: --copy-to: {str(error).replace(DATABASE_URL_ENV + '=', '', 1)}", file=sys.stderr)
        return 2
    path = database_path()
    if not path.is_file():
        print(
            f"error: no SQLite store to copy at {path} (EXPLORER_DATA_DIR chooses the data directory)", file=sys.stderr
        )
        return 1
    quiet = logging.getLogger("explorer.store.database")
    level, quiet.level = quiet.level, logging.ERROR  # the one line below says it, not a log record as well
    try:
        target = Database(url)
    finally:
        quiet.setLevel(level)
    if target.in_memory:
        problem = target.warnings[0].split("; results are kept")[0].replace(DATABASE_URL_ENV + "=", "", 1)
        print(f"error: --copy-to: {problem}", file=sys.stderr)
        return 1
    counts = copy_rows(Database(path), target)
    print(f"Copied {path} into {target.location}:")
    print(
        format_table(
            ("Table", "Rows copied", "Already there"), [(name, new, old) for name, (new, old) in counts.items()]
        )
    )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.copy_to is not None:
        return copy_to(args.copy_to)
    store = open_store()
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.path:
        print(where(store))
        return 0
    if args.clear:
        print(f"Deleted {store.clear()} stored results from {where(store)}.")
        return 0
    rows = store.rows()
    if args.json:
        print_json(
            {
                "path": None if store.database.in_memory else store.database.location,
                "warnings": store.warnings,
                "machine": store.place.machine,
                "versions": store.place.versions,
                "results": rows,
            }
        )
        return 0
    print(f"{len(rows)} stored results in {where(store)}")
    print(f"This machine: {store.place.machine}; {store.place.versions}\n")
    now = time.time()
    table = [
        (
            age_text(now - r["measured_at"]),
            _model_label(r["model"]),
            r["input"],
            r["backend"],
            r["threads"],
            r["batch"],
            f"{r['median_ms']:.2f}",
            latency.flags_text(r["noisy"], r["busy"]),
            "" if r["here"] else "other",
        )
        for r in rows
    ]
    if table:
        print(
            format_table(("Measured", "Model", "Input", "Backend", "Thr", "Batch", "Median ms", "Flag", "Place"), table)
        )
        print(
            "\nPlace 'other': made on another machine or with other library versions (never shown as this machine's)."
        )
    return 0


def _model_label(model: str) -> str:
    try:
        return config_from_dict(json.loads(model)).label
    except ValueError:
        return model[:40]
