"""Every page (the entry page and every file in pages/) runs cleanly, by default and for several configs."""

import pytest
from conftest import ALL_PAGES, ENTRY, assert_clean, open_app

CONFIGS = {
    "g8-0.25x": {"groups": "8", "width": "0.25"},
    "arch2": {"variant": "arch2", "groups": "3", "width": "0.5"},
    "shallow": {"variant": "shallow"},
    "no-shuffle": {"shuffle": "off"},
    "720x1280": {"input": "720x1280"},
}
SIDEBAR_LABELS = ("Groups g (pointwise group convolutions)", "Width multiplier s (ShuffleNet s×)")


def sidebar_state(at) -> dict:
    radios = {r.label: r.value for r in at.sidebar.radio}
    return {
        "groups": radios[SIDEBAR_LABELS[0]],
        "width": radios[SIDEBAR_LABELS[1]],
        "variant": at.sidebar.selectbox(key="ctl_variant").value,
        "shuffle": at.sidebar.toggle(key="ctl_shuffle").value,
        "input": at.sidebar.selectbox(key="ctl_input_choice").value,
    }


def test_every_expected_page_exists():
    assert ENTRY in ALL_PAGES
    for page in ("pages/1_Architecture.py", "pages/2_Complexity.py", "pages/5_Compare.py"):
        assert page in ALL_PAGES


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_runs_with_defaults(page):
    at = open_app(page)
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.title, "every page has a title"
    assert sidebar_state(at) == {"groups": 3, "width": 1.0, "variant": "standard", "shuffle": True, "input": "224x224"}
    # The URL holds the model on screen.
    assert at.query_params["groups"] == "3"


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_runs_for_config(page, name):
    at = open_app(page, CONFIGS[name])
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    state = sidebar_state(at)
    query = CONFIGS[name]
    if "groups" in query:
        assert state["groups"] == int(query["groups"])
    if "width" in query:
        assert state["width"] == float(query["width"])
    if "variant" in query:
        assert state["variant"] == query["variant"]
    if "shuffle" in query:
        assert state["shuffle"] is False
    if "input" in query:
        assert state["input"] == query["input"]


def test_navigation_links_every_page():
    import re

    from ui.shell.page import existing_pages

    at = open_app()
    sidebar_links = [link.proto.page for link in at.sidebar.get("page_link")]
    expected = [path for path, _, _ in existing_pages()]
    assert sorted(expected) == sorted(ALL_PAGES)  # every file in pages/ has an entry in ui/shell/page.py's PAGES
    url_names = ["" if p == ENTRY else re.sub(r"^\d+_", "", p[len("pages/") : -len(".py")]) for p in expected]
    assert sidebar_links == url_names
