"""Page chrome shared by every page: ``st.set_page_config``, the phone note and the labelled navigation.

On a phone (a window at most 768 px wide, where Streamlit starts with the sidebar
collapsed behind a small "»" button) the top of every page says where the controls are;
a CSS media query hides that note on wider screens. The style sheet is a constant: it
is the one raw HTML the app sends (``tests/test_exposure.py`` checks both).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.concurrency import mark_foreground_thread

APP_TITLE = "ShuffleNet Explorer"
APP_ICON = "🔀"
PHONE_NOTE_KEY = "phone_note"  # Streamlit gives the note's container the CSS class st-key-phone_note
PHONE_NOTE = ("**Controls:** the model (groups, width, variant, shuffle, input) and the list of pages are in the "
              "sidebar: tap **»** at the top left to open it.")
# Hidden above 768 px, Streamlit's own breakpoint (at or below it the sidebar starts collapsed); the
# wrapper Streamlit puts around the note's container goes too, or its empty slot still takes a gap.
NARROW_SCREEN_CSS = (
    "<style>@media (min-width: 769px) { .st-key-phone_note, "
    '[data-testid="stLayoutWrapper"]:has(> .st-key-phone_note) { display: none; } }</style>'
)
ROOT = Path(__file__).resolve().parent.parent
# (script path relative to the entry script, label, Material icon: Streamlit ships the icon
# font, so the icons render on machines without emoji fonts too). Pages that do not exist yet
# are skipped, so the navigation never links to a missing file.
PAGES = (
    ("pages/0_Lecture.py", "Lecture", ":material/co_present:"),
    ("streamlit_app.py", "Overview", ":material/home:"),
    ("pages/1_Architecture.py", "Architecture", ":material/account_tree:"),
    ("pages/2_Complexity.py", "Complexity", ":material/calculate:"),
    ("pages/3_Channel_shuffle.py", "Channel shuffle", ":material/shuffle:"),
    ("pages/4_Latency.py", "Latency", ":material/timer:"),
    ("pages/5_Compare.py", "Compare", ":material/compare_arrows:"),
)


def page_setup(title: str) -> None:
    """Wide layout and a page title; call first on every page.

    Also marks this script run as foreground work (``explorer.concurrency``): a latency
    measurement running for another session yields to it instead of timing on top of it.
    """
    mark_foreground_thread()
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", page_icon=APP_ICON, layout="wide")
    phone_note()


def phone_note() -> None:
    """Say where the controls are, on narrow screens only (first on the page, before anything slow)."""
    st.html(NARROW_SCREEN_CSS)  # style only: Streamlit adds it to the page without taking space
    with st.container(key=PHONE_NOTE_KEY):
        st.info(PHONE_NOTE, icon=":material/menu_open:")


def existing_pages() -> list[tuple[str, str, str]]:
    return [page for page in PAGES if (ROOT / page[0]).exists()]


def navigation() -> None:
    """Links to every page, in the sidebar (the default page list is hidden in config.toml)."""
    with st.sidebar:
        st.markdown(f"### {APP_TITLE}")
        for path, label, icon in existing_pages():
            try:
                st.page_link(path, label=label, icon=icon)
            except StreamlitAPIException:
                # A page run on its own (``streamlit run pages/x.py`` or AppTest.from_file on a
                # page), or a page file added after the server started: leave that link out.
                continue
        st.divider()


def config_slug(config) -> str:
    """A file-name-safe name for downloads, e.g. ``shufflenet_g3_1x_standard_224x224``."""
    size = f"{config.input_size[0]}x{config.input_size[1]}"
    shuffle = "" if getattr(config, "shuffle", True) else "_noshuffle"
    return f"shufflenet_g{config.groups}_{config.width:g}x_{config.variant}{shuffle}_{size}"
