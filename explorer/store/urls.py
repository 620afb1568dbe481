"""``EXPLORER_DATABASE_URL``: reading it, checking it, and saying what went wrong without echoing the password.

Accepted: ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE`` and the same with ``postgresql+psycopg://``
(both use psycopg 3). Unset or empty: the SQLite file in the data directory. Every message
shows the URL with its password replaced by ``***`` (``masked``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url

DATABASE_URL_ENV = "EXPLORER_DATABASE_URL"
SCHEMES = ("postgresql", "postgresql+psycopg")
EXPECTED = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or postgresql+psycopg://...)"
_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]*)@")


def configured_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """The URL set in ``EXPLORER_DATABASE_URL``, or None when it is unset or empty."""
    text = environ.get(DATABASE_URL_ENV, "").strip()
    return text or None


def is_database_url(text: object) -> bool:
    """Whether ``text`` is meant as a database URL (rather than a directory): it has a scheme."""
    return isinstance(text, str) and "://" in text


def masked(text: str, password: str | None = None) -> str:
    """``text`` with the URL's password (and ``password`` wherever it appears) replaced by ``***``."""
    hidden = _PASSWORD.sub(r"\1***@", text)
    return hidden.replace(password, "***") if password else hidden


def parse_url(text: str) -> URL:
    """The SQLAlchemy URL (psycopg 3 driver) of ``text``; ``ValueError`` naming the setting if it is not one."""
    shown = masked(text if len(text) <= 200 else text[:199] + "…")
    try:
        url = make_url(text)
        url.port  # noqa: B018 - a non-numeric port raises here
    except Exception:  # noqa: BLE001 - make_url raises ArgumentError or ValueError, both "not a URL"
        raise ValueError(f"{DATABASE_URL_ENV}={shown!r} is not a database URL: expected {EXPECTED}") from None
    if url.drivername not in SCHEMES:
        raise ValueError(
            f"{DATABASE_URL_ENV}={shown!r} is not allowed: its scheme {url.drivername!r} is not "
            f"PostgreSQL; expected {EXPECTED}"
        )
    if not url.host or not url.database:
        raise ValueError(
            f"{DATABASE_URL_ENV}={shown!r} is not complete: it needs a host and a database; expected {EXPECTED}"
        )
    return url.set(drivername="postgresql+psycopg")


def shown_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def connection_problem(error: BaseException, url: URL) -> str:
    """Why PostgreSQL at ``url`` could not be used, in one line with no password."""
    text = " ".join(str(getattr(error, "orig", None) or error).split())
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        why = f"PostgreSQL refused the user name or password of user {url.username!r}"
    elif "does not exist" in lowered and "database" in lowered:
        why = f"the database {url.database!r} does not exist on that server"
    elif "refused" in lowered or "could not connect" in lowered or "no route" in lowered:
        why = f"no PostgreSQL server accepted the connection at {url.host}:{url.port or 5432}"
    elif "timeout" in lowered or "timed out" in lowered:
        why = f"the server at {url.host}:{url.port or 5432} did not answer in time"
    else:
        why = text[:300]
    return masked(why, url.password if isinstance(url.password, str) else None)


def setting_text(url: URL) -> str:
    return f"{DATABASE_URL_ENV}={shown_url(url)}"
