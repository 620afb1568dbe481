"""PostgreSQL faults, against a real throw-away cluster: a bad EXPLORER_DATABASE_URL, a refused connection,
wrong credentials, a missing database, and the server stopped (pg_ctl) in the middle of a run.

Each says so once, naming the setting and never the password; the app and the CLI keep serving
from memory; writes made during an outage are written when the server is back; nothing stored
before is lost.
"""

from __future__ import annotations

import pytest
import streamlit as st
from conftest import assert_clean, open_app, run_cli
from store_backends import fresh_database
from test_store import CONFIGS, measurement

from explorer.latency.stored import open_store
from explorer.store import ClassRow, open_class_view
from tests.servers.postgres import _as_postgres, _run, free_port, pg_bin_dir

SECRET = "s3cret-Pa55word"


def pg_ctl(cluster, *action: str) -> None:
    """Stop or start the cluster as an operator would (pg_ctl, as the postgres user)."""
    _run(
        [
            *_as_postgres(),
            str(pg_bin_dir() / "pg_ctl"),
            "-D",
            str(cluster.data_dir),
            "-l",
            str(cluster.log_path),
            "-w",
            "-t",
            "60",
            *action,
        ],
        cwd=cluster.root,
        timeout=90,
    )


def bad_urls(cluster) -> dict[str, tuple[str, str]]:
    """name -> (URL, what its warning must say)."""
    return {
        "malformed": (f"postgresql://explorer:{SECRET}@127.0.0.1:notaport/explorer", "is not a database URL"),
        "not postgres": (f"mysql://explorer:{SECRET}@127.0.0.1/explorer", "is not PostgreSQL"),
        "refused": (f"postgresql://explorer:{SECRET}@127.0.0.1:{free_port()}/explorer", "accepted the connection"),
        "credentials": (cluster.url_with(password=SECRET), "refused the user name or password"),
        "no database": (cluster.url_with(database="nosuchdb"), "'nosuchdb' does not exist"),
    }


@pytest.mark.parametrize("fault", ["malformed", "not postgres", "refused", "credentials", "no database"])
def test_an_unusable_database_url_is_said_once_without_the_password_and_results_stay_in_memory(pg_cluster, fault):
    url, says = bad_urls(pg_cluster)[fault]
    store = open_store(url)
    [warning] = store.warnings
    assert "EXPLORER_DATABASE_URL=" in warning and says in warning and "in memory only" in warning
    assert SECRET not in warning and pg_cluster.password not in warning and "***" in warning
    assert store.database.in_memory and store.path is None
    store.put(measurement())
    assert store.get(CONFIGS[0], "ort", 2) == measurement()


def test_the_cli_and_the_latency_page_keep_serving_and_say_so(pg_cluster, monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXPLORER_DATABASE_URL", pg_cluster.url_with(password=SECRET))
    listed = run_cli("results")
    assert listed.returncode == 0 and "0 stored results in in memory only" in listed.stdout
    assert "warning:" in listed.stderr and "EXPLORER_DATABASE_URL" in listed.stderr and SECRET not in listed.stderr
    st.cache_resource.clear()  # the page's stores are process-wide: open them with this setting
    try:
        at = open_app("pages/4_Latency.py")
        assert_clean(at)
        shown = [w.value.replace("\\", "") for w in at.warning]  # the page escapes markdown
        assert any("EXPLORER_DATABASE_URL" in w and "in memory only" in w for w in shown), shown
        assert not any(SECRET in w for w in shown)
        assert any("kept in memory only, until the server restarts" in m.value for m in at.markdown)
    finally:
        st.cache_resource.clear()


def test_a_stopped_server_keeps_writes_in_memory_and_writes_them_when_it_is_back(pg_cluster):
    url = fresh_database(pg_cluster)
    store, view = open_store(url), open_class_view(url, "course-1")
    store.put(measurement(CONFIGS[0]))
    view.add(ClassRow("phone", "m", "224x224", 1.0, 1.0))
    pg_ctl(pg_cluster, "stop", "-m", "fast")
    try:
        store.put(measurement(CONFIGS[1]))  # the run goes on: kept in memory
        store.put(measurement(CONFIGS[2]))
        view.add(ClassRow("laptop", "m", "224x224", 2.0, 2.0))
        [note] = store.warnings
        assert "2 result(s) are not stored yet" in note and "EXPLORER_DATABASE_URL" in note
        assert pg_cluster.password not in note and "written when it is back" in note
        assert {m.config for m in store.all()} == {CONFIGS[1], CONFIGS[2]}  # shown from memory meanwhile
    finally:
        pg_ctl(pg_cluster, "start")
    store.put(measurement(CONFIGS[3]))  # the next write stores what was waiting, then itself
    assert store.warnings == [] and store.database.pending == 0
    again = open_store(url)  # another process
    assert {m.config for m in again.all()} == set(CONFIGS)  # nothing stored before is lost
    assert view.database.retry() and [r.device for r in open_class_view(url, "course-1").rows()] == ["phone", "laptop"]


def test_the_latency_page_says_results_are_not_stored_yet_while_the_server_is_stopped(
    pg_cluster, monkeypatch, tmp_path
):
    url = fresh_database(pg_cluster)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXPLORER_DATABASE_URL", url)
    monkeypatch.setattr("explorer.store.database.RETRY_S", 0.0)  # retry at every showing, not every 2 s
    st.cache_resource.clear()
    store = open_store()  # this process's store: the one the page reads
    store.put(measurement(CONFIGS[0]))
    pg_ctl(pg_cluster, "stop", "-m", "fast")
    try:
        store.put(measurement(CONFIGS[1]))  # e.g. a Table 8 job's result
        at = open_app("pages/4_Latency.py")
        assert_clean(at)
        shown = [w.value.replace("\\", "") for w in at.warning]
        assert any("1 result(s) are not stored yet" in w and "written when it is back" in w for w in shown), shown
    finally:
        pg_ctl(pg_cluster, "start")
        st.cache_resource.clear()
    at = open_app("pages/4_Latency.py")  # back: the page's read stores what waited
    assert not [w.value for w in at.warning if "not stored yet" in w.value]
    assert {m.config for m in open_store(url).all()} == {CONFIGS[0], CONFIGS[1]}
