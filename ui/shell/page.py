"""Page chrome shared by every page: ``st.set_page_config``, presentation mode, the phone note and the navigation.

On a phone (a window at most 768 px wide, where Streamlit starts with the sidebar
collapsed behind a small "»" button) the top of every page says where the controls are;
the app's one stylesheet (``ui.shell.presentation.style_tag``) hides that note on wider screens.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.concurrency import mark_foreground_thread
from ui.shell import presentation, warmup

APP_TITLE = "ShuffleNet Explorer"
APP_ICON = "🔀"
PHONE_NOTE_KEY = "phone_note"  # Streamlit gives the note's container the CSS class st-key-phone_note
PHONE_NOTE = (
    "**Controls:** the model (groups, width, variant, shuffle, input) and the list of pages are in the "
    "sidebar: tap **»** at the top left to open it."
)
ROOT = Path(__file__).resolve().parents[2]
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


def page_setup(title: str) -> bool:
    """Wide layout, a page title and presentation mode (``ui.shell.presentation``); call first on every page.

    Returns whether the page is in presentation mode (pass it to the figure functions). Also
    marks this script run as foreground work (``explorer.concurrency``): a latency measurement
    running for another session yields to it instead of timing on top of it; and starts,
    once per process, the warm-up of the caches for the paper's models (``ui.shell.warmup``).
    """
    mark_foreground_thread()
    present = presentation.read_mode()
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE}",
        page_icon=APP_ICON,
        layout="wide",
        initial_sidebar_state="collapsed" if present else "auto",
    )
    presentation.apply()
    phone_note()
    warmup.start()
    return present


def phone_note() -> None:
    """Say where the controls are, on narrow screens only (``ui.shell.presentation.NARROW_SCREEN_CSS``)."""
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
