"""A throw-away PostgreSQL cluster from Debian's ``postgresql`` package, for tests.

    with postgres_cluster() as pg:
        engine = sqlalchemy.create_engine(pg.url)   # postgresql+psycopg://explorer:...@127.0.0.1:PORT/explorer

What it does, in order (every command runs as the ``postgres`` user Debian creates when we are
root, because initdb refuses root; as ourselves otherwise):

    mkdtemp /tmp/explorer-pg-XXXX, chown postgres         (data/, socket/, server.log inside)
    initdb -D data -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256
    append to data/postgresql.conf: listen_addresses='127.0.0.1', port=FREE, unix_socket_directories=socket/,
                                    fsync/synchronous_commit/full_page_writes off (a throw-away cluster)
    pg_ctl -D data -l server.log -w -t 60 start
    psql -h socket/ -p PORT -U postgres -d postgres (SQL on stdin, so no password in `ps`):
        CREATE ROLE explorer LOGIN PASSWORD '...'; CREATE DATABASE explorer OWNER explorer
    ... yield ...
    pg_ctl -D data -m fast -w -t 30 stop  (then -m immediate, then SIGKILL of the postmaster), rm -rf the temp dir

The application role logs in over TCP on 127.0.0.1 with a password (scram-sha-256), as a real
deployment would; the superuser only over the Unix socket (peer), never over TCP.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_VERSION = "15"
SUPERUSER = "postgres"
START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it


class PostgresUnavailable(RuntimeError):
    """Debian's PostgreSQL binaries (or the ``postgres`` user, when we are root) are missing."""


def pg_bin_dir() -> Path:
    """Where initdb and pg_ctl are: $EXPLORER_PG_BIN, else Debian's /usr/lib/postgresql/15/bin."""
    candidates = [os.environ.get("EXPLORER_PG_BIN", ""), f"/usr/lib/postgresql/{PG_VERSION}/bin"]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        f"no initdb/pg_ctl in /usr/lib/postgresql/{PG_VERSION}/bin (set EXPLORER_PG_BIN, or install "
        "Debian's postgresql: scripts/install-system-deps.sh)"
    )


def _as_postgres() -> list[str]:
    """The command prefix that runs a command as the ``postgres`` user (nothing if we are not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresUnavailable(
            "running as root and no 'postgres' user (Debian's postgresql package creates it)"
        ) from None
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if Path(runuser).exists():
        return [runuser, "-u", SUPERUSER, "--"]
    return ["setpriv", f"--reuid={SUPERUSER}", f"--regid={SUPERUSER}", "--init-groups", "--"]


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class PostgresCluster:
    """A running throw-away cluster: where it is and how the application role logs in."""

    host: str
    port: int
    database: str
    user: str
    password: str
    root: Path  # the temporary directory: data/, socket/, server.log

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the application role (psycopg 3 driver)."""
        return self.url_with()

    def url_with(self, *, user: str | None = None, password: str | None = None, database: str | None = None) -> str:
        """The URL with one part changed (a wrong password, a missing database, ...)."""
        user = self.user if user is None else user
        password = self.password if password is None else password
        database = self.database if database is None else database
        return f"postgresql+psycopg://{user}:{password}@{self.host}:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def psql(self, sql: str, *, database: str = "postgres", timeout: float = 60) -> str:
        """Run ``sql`` as the superuser over the Unix socket (SQL on stdin); its output, unaligned."""
        return _psql(self.root, self.port, sql, database=database, timeout=timeout)


def _run(command: list[str], *, cwd: Path, timeout: float, input: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    result = subprocess.run(
        command, cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(command[len(_as_postgres())]).name} failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return result.stdout


def _psql(root: Path, port: int, sql: str, *, database: str, timeout: float) -> str:
    command = [
        *_as_postgres(),
        str(pg_bin_dir() / "psql"),
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        str(root / "socket"),
        "-p",
        str(port),
        "-U",
        SUPERUSER,
        "-d",
        database,
    ]
    return _run(command, cwd=root, timeout=timeout, input=sql)


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _stop(root: Path) -> None:
    """Stop the cluster in ``root`` however it can be stopped; never raises."""
    bin_dir, data_dir = pg_bin_dir(), root / "data"
    pid = _postmaster_pid(data_dir)
    for mode in ("fast", "immediate"):
        if _postmaster_pid(data_dir) is None:
            break
        with contextlib.suppress(Exception):
            _run(
                [*_as_postgres(), str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", mode, "-w", "-t", "30", "stop"],
                cwd=root,
                timeout=45,
            )
    if pid is not None and _postmaster_pid(data_dir) == pid:  # pg_ctl could not stop it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)  # still there after pg_ctl: its backends exit when it dies
            time.sleep(0.5)


def _start(root: Path, port: int) -> None:
    bin_dir, data_dir = pg_bin_dir(), root / "data"
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# tests/servers/postgres.py: a throw-away cluster on loopback only\n"
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{root / 'socket'}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 50\nshared_buffers = 32MB\n"
        )
    _run(
        [
            *_as_postgres(),
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        cwd=root,
        timeout=90,
    )


@contextlib.contextmanager
def postgres_cluster(
    *, database: str = "explorer", user: str = "explorer", password: str | None = None
) -> Iterator[PostgresCluster]:
    """Start a fresh cluster on 127.0.0.1:<free port>, with ``database`` owned by ``user``; remove it after."""
    bin_dir = pg_bin_dir()
    prefix = _as_postgres()
    password = password or secrets.token_urlsafe(18)
    for name in (database, user):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database and role names are plain identifiers, not {name!r}")
    # As root, under /tmp whatever TMPDIR says: the postgres user must reach it, and the socket's path
    # (socket/.s.PGSQL.PORT) must stay under the 107 characters a Unix socket's name may have.
    root = Path(tempfile.mkdtemp(prefix="explorer-pg-", dir="/tmp" if prefix else None))
    try:
        (root / "socket").mkdir(mode=0o700)
        if prefix:
            account = pwd.getpwnam(SUPERUSER)
            for path in (root, root / "socket"):
                os.chown(path, account.pw_uid, account.pw_gid)
        _run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ],
            cwd=root,
            timeout=120,
        )
        conf_backup = (root / "data" / "postgresql.conf").read_text()
        for attempt in range(START_ATTEMPTS):
            port = free_port()
            try:
                _start(root, port)
                break
            except RuntimeError:
                log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
                if attempt == START_ATTEMPTS - 1 or "in use" not in log:
                    raise RuntimeError(f"PostgreSQL did not start; its log:\n{log[-2000:]}") from None
                (root / "data" / "postgresql.conf").write_text(conf_backup)
        cluster = PostgresCluster("127.0.0.1", port, database, user, password, root)
        cluster.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}';\nCREATE DATABASE {database} OWNER {user};\n")
        yield cluster
    finally:
        if (root / "data" / "postmaster.pid").exists():
            _stop(root)
        shutil.rmtree(root, ignore_errors=True)
