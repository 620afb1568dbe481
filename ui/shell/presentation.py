"""Presentation mode (``?present=1``): the same pages, for a projector in front of a class.

One mechanism for every page, run by ``ui.shell.page.page_setup`` (so a page needs no code of
its own beyond drawing its captions, downloads and method notes through the helpers here):

* **State.** The canonical flag lives in session state (``explorer.present``). The first
  run of a browser session reads it from the URL (``present=1`` / ``on`` / ``true``; a bad
  value falls back to off with one warning naming it, like every link value); every run
  writes it back (``present=1``, or no ``present`` at all when off), so it survives page
  switches the way the model values of ``ui.shell.controls`` do, and the link can be shared.
* **What changes.** The sidebar starts collapsed (``st.set_page_config``); captions,
  download buttons and method notes ("How ..." expanders) are not drawn at all
  (``caption``, ``download_button``, ``method_note``: AppTest sees them gone); body text
  and every figure are larger (figure functions take ``present`` and read their sizes
  from ``ui.shell.style``: labels >= 16 px at 1280x720). A CSS rule also hides any caption or
  download button a page drew with plain ``st.caption`` / ``st.download_button``, in the
  browser.
* **Turning it off.** A toggle at the top of the page (and one in the sidebar, which is
  also where it is turned on).

``style_tag`` (the app's one stylesheet, drawn on every page) is also where a diagram (a server-side SVG
image at its natural size, ``ui.figures.diagram_view``) wider than the page is made to scroll sideways
instead of shrinking, and where the phone note of ``ui.shell.page`` is hidden on
screens wider than a phone.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui.shell.style import BODY_FONT_PX
from ui.shell.text import link_warning

QUERY_KEY = "present"
STATE_KEY = "explorer.present"
WARNING_KEY = "explorer.present_warning"
TOGGLE_KEYS = ("present_toggle_top", "present_toggle_sidebar")
ON_VALUES, OFF_VALUES = ("1", "on", "true", "yes"), ("0", "off", "false", "no", "")
ALLOWED = "1 (on) or 0 (off)"

# Diagrams (server-side SVG images, ``ui.figures.diagram_view``) at their natural size: one wider than its column
# scrolls sideways instead of shrinking (its text with it).
# Streamlit sizes an image's wrappers to the column and the image to 100% of them: here they take the image's width.
DIAGRAM_CSS = (
    '[class*="st-key-diagram_"] { overflow-x: auto; max-width: 100%; } '
    '[class*="st-key-diagram_"] [data-testid="stElementContainer"], '
    '[class*="st-key-diagram_"] [data-testid="stElementContainer"] div '
    "{ width: max-content !important; max-width: none !important; } "
    '[class*="st-key-diagram_"] img { width: auto !important; max-width: none !important; }'
)
# The phone note (``ui.shell.page.phone_note``) only at or below 768 px, Streamlit's own breakpoint (where the sidebar
# starts collapsed). The layout wrapper Streamlit puts around the note's container goes too (the innermost one
# holding it: a stylesheet here has no ">"), or its empty slot still takes a gap.
NARROW_SCREEN_CSS = (
    '@media (min-width: 769px) { .st-key-phone_note, [data-testid="stLayoutWrapper"]'
    ':has(.st-key-phone_note):not(:has([data-testid="stLayoutWrapper"] .st-key-phone_note)) '
    "{ display: none; } }"
)
PRESENT_CSS = f"""
[data-testid="stMainBlockContainer"] {{ padding-top: 4rem; }}  /* below the 3.75rem header, not 6rem */
[data-testid="stMainBlockContainer"] {{ font-size: {BODY_FONT_PX[1]}px; }}
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li {{ font-size: {BODY_FONT_PX[1]}px; }}
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"],
[data-testid="stMainBlockContainer"] [data-testid="stDownloadButton"] {{ display: none !important; }}
"""


def parse_present(text: object) -> bool:
    """``True`` for 1/on/true/yes, ``False`` for 0/off/false/no/empty; ``ValueError`` otherwise."""
    lowered = str(text).strip().lower()
    if lowered in ON_VALUES:
        return True
    if lowered in OFF_VALUES:
        return False
    raise ValueError(f"present must be {ALLOWED}")


def presenting() -> bool:
    """Is this session in presentation mode? (False outside a Streamlit run.)"""
    return bool(st.session_state.get(STATE_KEY, False))


def read_mode() -> bool:
    """The mode for this run; the first run of a session reads it from the URL."""
    if STATE_KEY not in st.session_state:
        values = st.query_params.get_all(QUERY_KEY)
        warning = None
        mode = False
        if values:
            try:
                mode = parse_present(values[-1])
            except ValueError:
                warning = link_warning(QUERY_KEY, values[-1], ALLOWED, "0")
        st.session_state[STATE_KEY] = mode
        st.session_state[WARNING_KEY] = warning
    return presenting()


def _from_toggle(key: str) -> None:
    st.session_state[STATE_KEY] = bool(st.session_state[key])
    st.session_state[WARNING_KEY] = None


def _toggle(key: str, label: str, help_text: str) -> None:
    st.session_state[key] = presenting()
    st.toggle(label, key=key, on_change=_from_toggle, args=(key,), help=help_text)


def style_tag(present: bool) -> str:
    """The app's own stylesheet, from module constants only (the one ``st.html`` of the app: tests/app/test_exposure.py)."""
    return f"<style>{DIAGRAM_CSS}{NARROW_SCREEN_CSS}{PRESENT_CSS if present else ''}</style>"


def apply() -> None:
    """Draw the mode's chrome at the top of the page: CSS, a bad-link warning, the off switch; sync the URL."""
    st.html(style_tag(presenting()))
    warning = st.session_state.get(WARNING_KEY)
    if warning:
        st.warning(warning, icon="⚠️")
    if presenting():
        _toggle(TOGGLE_KEYS[0], "Presentation mode", "Turn off to get the captions, downloads and method notes back.")
        st.query_params[QUERY_KEY] = "1"
    elif QUERY_KEY in st.query_params:
        del st.query_params[QUERY_KEY]


def sidebar_toggle() -> None:
    """The switch in the sidebar (drawn by ``ui.shell.controls.shared_controls``)."""
    with st.sidebar:
        _toggle(
            TOGGLE_KEYS[1],
            "Presentation mode",
            "For a projector: larger text and figures; captions, downloads "
            "and method notes hidden; the sidebar starts collapsed. The link keeps it (present=1).",
        )


# --------------------------------------------------------------------------- what it hides


def caption(body: str, **kwargs) -> None:
    """``st.caption``, not drawn in presentation mode."""
    if not presenting():
        st.caption(body, **kwargs)


def download_button(*args, container=None, **kwargs) -> bool:
    """``st.download_button`` (or ``container.download_button``), not drawn in presentation mode."""
    if presenting():
        return False
    return (container or st).download_button(*args, **kwargs)


def method_note(label: str, body: str | Callable[[], None]) -> None:
    """A method note: an expander (label starting with "How") holding markdown or drawn by ``body()``.

    Not drawn in presentation mode.
    """
    if presenting():
        return
    with st.expander(label):
        if callable(body):
            body()
        else:
            st.markdown(body)


def diagram_downloads(dot: str, stem: str, label: str, key: str) -> None:
    """A diagram's DOT and SVG downloads in one row (not drawn in presentation mode).

    Both are deferred downloads, made only when their button is clicked: the SVG is rendered by
    Graphviz's ``dot`` then, so drawing the page never waits for it, and the DOT text is not stored
    as a media file (and fetched by the browser) on every page run.
    """
    if presenting():
        return
    from ui.figures.diagrams import dot_available
    from ui.shell.cache import cached_svg

    row = st.container(horizontal=True)
    row.download_button(f"{label} (DOT)", lambda: dot, f"{stem}.dot", "text/vnd.graphviz", key=f"dot_{key}")
    if dot_available():
        row.download_button(f"{label} (SVG)", lambda: cached_svg(dot), f"{stem}.svg", "image/svg+xml", key=f"svg_{key}")
    else:
        row.caption("SVG needs Graphviz's `dot` program on the server.")
