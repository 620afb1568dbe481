"""The class key in the link (``?class=NAME``): kept across page switches, refused when bad, one class's view only."""

from __future__ import annotations

import pytest
import streamlit as st
from conftest import assert_clean, open_app

from explorer.store import ClassRow, open_class_view

ARCH = "pages/1_Architecture.py"
LATENCY = "pages/4_Latency.py"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("EXPLORER_DATABASE_URL", raising=False)
    st.cache_resource.clear()  # the class view's store is process-wide: open it in this directory
    yield tmp_path
    st.cache_resource.clear()


def test_the_class_key_survives_page_switches_and_lives_in_the_url(data_dir):
    at = open_app(ARCH, {"class": "algo-101", "groups": "8"})
    assert_clean(at)
    assert not at.warning and at.query_params["class"] == "algo-101"
    at.switch_page("streamlit_app.py").run()
    assert at.query_params["class"] == "algo-101" and at.query_params["groups"] == "8"
    at.sidebar.radio[0].set_value(4).run()  # changing the model keeps the class
    assert at.query_params["class"] == "algo-101"


@pytest.mark.parametrize("bad", ["<b>x</b>", "x" * 41, "a b", "ü"])
def test_a_bad_class_key_is_refused_like_every_link_value(data_dir, bad):
    at = open_app(ARCH, {"class": bad})
    assert_clean(at)
    [warning] = [w.value for w in at.warning]
    assert "Ignored the link's `class` value" in warning and "1-40 characters: letters, digits" in warning
    assert "default class view" in warning and "<b>" not in warning
    assert "class" not in at.query_params


def test_the_latency_page_shows_only_its_class_view(data_dir):
    open_class_view(data_dir).add(ClassRow("Default phone", "ShuffleNet 1x (g=3)", "224x224", 5.0, 1.0))
    open_class_view(data_dir, "algo-101").add(ClassRow("Course phone", "ShuffleNet 1x (g=3)", "224x224", 7.0, 2.0))
    for query, shown, hidden in (
        ({"class": "algo-101"}, "Course phone", "Default phone"),
        ({}, "Default phone", "Course phone"),
    ):
        at = open_app(LATENCY, query)
        assert_clean(at)
        [table] = [d.value for d in at.dataframe if "Device (reported by the browser)" in d.value.columns]
        assert list(table["Device (reported by the browser)"]) == [shown], hidden
    captions = [c.value.replace("\\", "") for c in open_app(LATENCY, {"class": "algo-101"}).caption]
    assert any("Class **algo-101**" in c for c in captions), captions
