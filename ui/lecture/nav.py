"""The Lecture page's step: read from the link, kept in the URL, moved by Previous / Next, and drawn.

Where the step lives, as the model does in ``ui/shell/controls.py``:

* **Session state** (``lecture.step``) holds the canonical step; Previous, Next and the step
  buttons change it in their ``on_click`` / ``on_change`` callbacks, before the page runs.
* **The URL** (``?step=3``) is read once, on the session's first Lecture run (a shared link
  or a reload), and rewritten on every Lecture run, so the address bar always links to the
  step on screen, beside the model's own query values. A bad value (``step=0``, ``99``,
  ``abc``, ``<script>``) falls back to step 1 with one warning that shows the value
  escaped and says what is allowed; the warning stays until the user moves.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer import ShuffleNetConfig
from ui.figures.diagram_view import show_diagram
from ui.lecture.figures import DRAWN_HEIGHT
from ui.lecture.steps import STEPS, Slide, Step
from ui.shell.page import existing_pages
from ui.shell.presentation import caption, method_note
from ui.shell.text import link_warning

QUERY_KEY = "step"
STEP_KEY = "lecture.step"
WARNING_KEY = "lecture.step_warning"
JUMP_KEY = "lecture_jump"
ALLOWED = f"an integer from 1 to {len(STEPS)} (the lecture's steps)"
DEFAULT_STEP = 1
# px: the figure and the buttons fit one 1280x720 screen; plotly figures also in presentation mode (its larger
# fonts take room inside the figure: they are drawn at this height whatever their layout says).
CHART_HEIGHT = DRAWN_HEIGHT


def parse_step(text: object) -> tuple[int, str | None]:
    """The step a ``?step=`` value asks for, or step 1 and a warning (pure: no Streamlit)."""
    try:
        step = int(str(text).strip())
    except (ValueError, OverflowError):
        step = None
    if step is not None and 1 <= step <= len(STEPS):
        return step, None
    return DEFAULT_STEP, link_warning(QUERY_KEY, text, ALLOWED, str(DEFAULT_STEP))


def current_step() -> int:
    """This session's step: the link's on the first Lecture run, then whatever the buttons chose."""
    if STEP_KEY not in st.session_state:
        values = st.query_params.get_all(QUERY_KEY)
        step, warning = parse_step(values[-1]) if values else (DEFAULT_STEP, None)
        st.session_state[STEP_KEY] = step
        st.session_state[WARNING_KEY] = warning
    step = st.session_state[STEP_KEY]
    if st.query_params.get(QUERY_KEY) != str(step) or len(st.query_params.get_all(QUERY_KEY)) > 1:
        st.query_params[QUERY_KEY] = str(step)
    return step


def _go_to(step: int) -> None:
    st.session_state[STEP_KEY] = step
    st.session_state[WARNING_KEY] = None  # the user has taken over from the link


def _jumped() -> None:
    if st.session_state.get(JUMP_KEY) is not None:  # clicking the current step unselects it: stay
        _go_to(int(st.session_state[JUMP_KEY]))


def step_title(step: int) -> str:
    """The page's title on this step, e.g. ``3 · What that buys under a fixed budget``."""
    return f"{step} · {STEPS[step - 1].title}"


def step_navigation(step: int) -> None:
    """The step's title, then Previous, the step buttons (1-8, the current one selected) and Next;
    the arrow keys press Previous and Next."""
    st.title(step_title(step), anchor=False)
    warning = st.session_state.get(WARNING_KEY)
    if warning:
        st.warning(warning, icon="⚠️")
    st.session_state[JUMP_KEY] = step
    previous, steps, following = st.columns([1, 4, 1], vertical_alignment="center")
    previous.button(
        "Previous",
        icon=":material/arrow_back:",
        key="lecture_previous",
        on_click=_go_to,
        args=(step - 1,),
        disabled=step == 1,
        shortcut="Left",
        width="stretch",
    )
    steps.segmented_control(
        f"Lecture step ({step} of {len(STEPS)})",
        range(1, len(STEPS) + 1),
        key=JUMP_KEY,
        on_change=_jumped,
        label_visibility="collapsed",
        width="stretch",
    )
    following.button(
        "Next",
        icon=":material/arrow_forward:",
        icon_position="right",
        key="lecture_next",
        on_click=_go_to,
        args=(step + 1,),
        disabled=step == len(STEPS),
        shortcut="Right",
        type="primary",
        width="stretch",
    )


def deeper_link(step: Step) -> None:
    """A link to the page that goes deeper (left out when the page runs outside the multipage app)."""
    icons = {path: icon for path, _, icon in existing_pages()}
    try:
        st.page_link(step.page, label=f"Go deeper: {step.page_label}", icon=icons.get(step.page))
    except StreamlitAPIException:
        pass


def _figure(slide: Slide, key: str, present: bool) -> None:
    """The step's figure. Diagrams: server-side SVG at their natural size (text >= 12 px, >= 16 px presenting),
    one at a time in tabs when there are several; step 6's units are drawn compact to fit 1280x720."""
    if isinstance(slide.figure, go.Figure):
        config = {"displayModeBar": False, "staticPlot": slide.static}  # static: measured cheaper (docs/light-pages.md)
        st.plotly_chart(slide.figure, key=key, height=CHART_HEIGHT, config=config)
        return
    titles = [title for title, _ in slide.figure]
    places = st.tabs(titles) if len(titles) > 1 else [st.container()]
    for index, (place, (title, dot)) in enumerate(zip(places, slide.figure)):
        # The diagram's own first line names it: the title is its alternative text, not a line of the screen.
        show_diagram(dot, title, f"{key}_{index}", container=place)


@st.fragment
def lecture(config: ShuffleNetConfig, present: bool = False) -> None:
    """The current step with its navigation, for the sidebar's model.

    A fragment: Previous, Next and the step buttons rerun only this, not the sidebar, so a
    class of twenty stepping together costs the server and every browser a fraction of a
    full page run. A sidebar change reruns the whole page, and this with the new model.
    ``present``: presentation mode (``ui.shell.presentation``), for the figures' sizes.
    """
    step = current_step()
    step_navigation(step)
    step_section(step, config, present)


def step_section(step: int, config: ShuffleNetConfig, present: bool = False) -> None:
    """The step's sentence or two, link and notes on the left, its figure on the right."""
    current = STEPS[step - 1]
    slide = current.slide(config, present)
    text, figure = st.columns([2, 5], gap="large")
    with text:
        st.markdown(slide.text)
        deeper_link(current)
        caption(slide.caption)
        method_note("How this is worked out", slide.how)
    with figure:
        _figure(slide, f"lecture_figure_{step}", present)
