"""The sidebar every page shares: one function draws it and returns the ShuffleNet config.

Usage, at the top of every page (after ``st.set_page_config``)::

    from ui.shell.controls import shared_controls
    config = shared_controls()   # a ShuffleNetConfig

Where the selection lives
-------------------------
* **Session state** (``explorer.selection``): the canonical selection, a dict of plain
  values. Streamlit forgets a widget's state when a page without that exact widget runs
  (widget ids include the page), so each run copies the canonical value *into* the
  widget key before the widget is drawn, and each widget's ``on_change`` copies it back.
  The selection therefore survives page switches.
* **URL query parameters** (``groups``, ``width``, ``variant``, ``shuffle``, ``input``):
  read once, on the first run of a browser session (a pasted link or a reload), and
  rewritten on every run, so the address bar always holds a link to the model on
  screen. Streamlit clears query parameters on page navigation; the rewrite puts them
  back. Parameters that other pages own are left alone.
* A bad or hand-edited parameter (``groups=abc``, ``width=nan``, ``input=0x0``) falls
  back to the default with an ``st.warning`` naming the value and what is allowed; the
  value is escaped, so nothing a user types is rendered as markdown or HTML.
* ``class`` (a class key, ``?class=algo-101``: 1-40 letters, digits, ``-`` or ``_``) picks one
  course's class view (``current_class_key``); read once per session like the model's values,
  kept across page switches and written back into the link; a bad key is refused the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer import PAPER_GROUPS, PAPER_WIDTHS, VARIANTS, ShuffleNetConfig, parse_input_size
from explorer.shufflenet import MAX_GROUPS, MAX_INPUT_SIDE, MIN_INPUT_SIDE, WIDTH_RANGE, query_string, query_values
from explorer.shufflenet.plan import stage2_base_channels
from explorer.store import CLASS_KEY_ALLOWED, DEFAULT_CLASS, check_class_key
from ui.latency.predicted import sidebar_prediction
from ui.shell import presentation
from ui.shell.page import navigation
from ui.shell.text import link_warning, shown_value

CUSTOM = "custom"
INPUT_PRESETS = ("224x224", "480x640", "720x1280")
VARIANT_LABELS = {
    "standard": "standard (Table 1: 4 + 8 + 4 units)",
    "arch2": "arch2 (Table 2: Stage3 has 6 units, widened)",
    "shallow": "shallow (Table 5: 2 + 4 + 2 units, widened)",
}
DEFAULTS = ShuffleNetConfig()  # g=3, 1x, standard, shuffle on, 224x224
QUERY_KEYS = ("groups", "width", "variant", "shuffle", "input")
CLASS_QUERY_KEY = "class"
CLASS_STATE_KEY = "explorer.class_key"
STATE_KEY = "explorer.selection"
WARNINGS_KEY = "explorer.url_warnings"
WIDGET_PREFIX = "ctl_"
WIDTH_STEP = 0.05


@dataclass(frozen=True)
class Selection:
    """The sidebar's raw values (what the widgets hold), convertible to a config."""

    groups_choice: object = DEFAULTS.groups  # one of PAPER_GROUPS or CUSTOM
    groups_custom: int = 6
    width_choice: object = DEFAULTS.width  # one of PAPER_WIDTHS or CUSTOM
    width_custom: float = 0.75
    variant: str = DEFAULTS.variant
    shuffle: bool = DEFAULTS.shuffle
    input_choice: str = "224x224"  # one of INPUT_PRESETS or CUSTOM
    input_height: int = 320
    input_width: int = 320

    @property
    def groups(self) -> int:
        return int(self.groups_custom if self.groups_choice == CUSTOM else self.groups_choice)

    @property
    def width(self) -> float:
        return float(self.width_custom if self.width_choice == CUSTOM else self.width_choice)

    @property
    def input_size(self) -> tuple[int, int]:
        if self.input_choice == CUSTOM:
            return int(self.input_height), int(self.input_width)
        return parse_input_size(self.input_choice)

    def config(self) -> ShuffleNetConfig:
        return ShuffleNetConfig(
            groups=self.groups, width=self.width, variant=self.variant, shuffle=self.shuffle, input_size=self.input_size
        )

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def width_text(width: float) -> str:
    return f"{width:g}"


def open_link(config: ShuffleNetConfig) -> str:
    """A relative link that opens the app with ``config`` in the sidebar (``./?groups=...``): works from any page."""
    return "./" + query_string(config)


def selection_for(config: ShuffleNetConfig) -> Selection:
    """The sidebar values that show ``config`` (presets where they fit, custom otherwise)."""
    size = f"{config.input_size[0]}x{config.input_size[1]}"
    base = Selection()
    return Selection(
        groups_choice=config.groups if config.groups in PAPER_GROUPS else CUSTOM,
        groups_custom=config.groups if config.groups not in PAPER_GROUPS else base.groups_custom,
        width_choice=config.width if config.width in PAPER_WIDTHS else CUSTOM,
        width_custom=config.width if config.width not in PAPER_WIDTHS else base.width_custom,
        variant=config.variant,
        shuffle=config.shuffle,
        input_choice=size if size in INPUT_PRESETS else CUSTOM,
        input_height=config.input_size[0] if size not in INPUT_PRESETS else base.input_height,
        input_width=config.input_size[1] if size not in INPUT_PRESETS else base.input_width,
    )


# --------------------------------------------------------------------------- URL parsing


def _validated(field: str, value: object) -> object:
    """``value`` if the library accepts it for ``field`` (its ``ValueError`` otherwise)."""
    ShuffleNetConfig(**{field: value})
    return value


def _parse_groups(text: str) -> int:
    return _validated("groups", int(text.strip()))  # int() refuses "abc" and "2.5"


def _parse_width(text: str) -> float:
    return round(_validated("width", float(text.strip())), 2)


def _parse_variant(text: str) -> str:
    if text not in VARIANTS:
        raise ValueError
    return text


def _parse_shuffle(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise ValueError


def _parse_input(text: str) -> tuple[int, int]:
    return parse_input_size(text)


PARSERS = {
    "groups": (
        _parse_groups,
        f"an integer from 1 to {MAX_GROUPS} (the paper uses {', '.join(map(str, PAPER_GROUPS))})",
    ),
    "width": (
        _parse_width,
        f"a number from {WIDTH_RANGE[0]:g} to {WIDTH_RANGE[1]:g} (the paper uses {', '.join(map(width_text, PAPER_WIDTHS))})",
    ),
    "variant": (_parse_variant, "one of " + ", ".join(VARIANTS)),
    "shuffle": (_parse_shuffle, "on or off"),
    "input": (_parse_input, f"HEIGHTxWIDTH with each side from {MIN_INPUT_SIDE} to {MAX_INPUT_SIDE}, e.g. 480x640"),
}
DEFAULT_TEXT = {key: value for key, value in query_values(DEFAULTS).items()}


def config_from_query(params: dict[str, str]) -> tuple[ShuffleNetConfig, list[str]]:
    """Config from URL parameters: bad values fall back to defaults, one warning each.

    Pure (no Streamlit): ``params`` maps a key to its (last) string value. The warnings
    are markdown-safe: the offending value is escaped by ``shown_value``.
    """
    values: dict = {}
    warnings: list[str] = []
    for key in QUERY_KEYS:
        if key not in params:
            continue
        parse, allowed = PARSERS[key]
        try:
            values[key] = parse(str(params[key]))
        except (ValueError, TypeError, OverflowError):
            warnings.append(link_warning(key, params[key], allowed, DEFAULT_TEXT[key]))
    config = ShuffleNetConfig(
        groups=values.get("groups", DEFAULTS.groups),
        width=values.get("width", DEFAULTS.width),
        variant=values.get("variant", DEFAULTS.variant),
        shuffle=values.get("shuffle", DEFAULTS.shuffle),
        input_size=values.get("input", DEFAULTS.input_size),
    )
    return config, warnings


def class_key_from_query(params: dict[str, str]) -> tuple[str, list[str]]:
    """The link's class key (the default class when absent); a bad one is the default, with one warning."""
    if CLASS_QUERY_KEY not in params:
        return DEFAULT_CLASS, []
    try:
        return check_class_key(str(params[CLASS_QUERY_KEY]).strip()), []
    except ValueError:
        return DEFAULT_CLASS, [
            link_warning(CLASS_QUERY_KEY, params[CLASS_QUERY_KEY], CLASS_KEY_ALLOWED, "none (the default class view)")
        ]


# --------------------------------------------------------------------------- Streamlit side


def current_class_key() -> str:
    """This session's class key (``?class=`` in the link it opened; ``DEFAULT_CLASS`` without one)."""
    return st.session_state.get(CLASS_STATE_KEY, DEFAULT_CLASS)


def _read_query_params() -> dict[str, str]:
    params = {}
    for key in (*QUERY_KEYS, CLASS_QUERY_KEY):
        if key in st.query_params:
            all_values = st.query_params.get_all(key)
            params[key] = all_values[-1] if all_values else ""
    return params


def _write_query_params(config: ShuffleNetConfig) -> None:
    """Put the model (and class key) back into the link where it differs, in one message to the browser."""
    wanted = dict(query_values(config))
    class_key = current_class_key()
    if class_key:
        wanted[CLASS_QUERY_KEY] = class_key
    elif CLASS_QUERY_KEY in st.query_params:  # a refused key leaves the link
        del st.query_params[CLASS_QUERY_KEY]
    changed = {
        key: value
        for key, value in wanted.items()
        if st.query_params.get(key) != value or len(st.query_params.get_all(key)) > 1
    }
    if changed:
        st.query_params.update(changed)


def _selection() -> Selection:
    """The canonical selection; the first run of a session reads it from the URL."""
    if STATE_KEY not in st.session_state:
        params = _read_query_params()
        config, warnings = config_from_query(params)
        class_key, class_warnings = class_key_from_query(params)
        st.session_state[STATE_KEY] = selection_for(config).as_dict()
        st.session_state[CLASS_STATE_KEY] = class_key
        st.session_state[WARNINGS_KEY] = warnings + class_warnings
    return Selection(**st.session_state[STATE_KEY])


def _store(field: str) -> None:
    """on_change: copy a widget's new value into the canonical selection."""
    st.session_state[STATE_KEY] = {**st.session_state[STATE_KEY], field: st.session_state[WIDGET_PREFIX + field]}
    st.session_state[WARNINGS_KEY] = []  # the user has taken over from the link


def _load(selection: Selection) -> None:
    """Copy the canonical values into the widget keys (before the widgets are drawn)."""
    for field, value in selection.as_dict().items():
        st.session_state[WIDGET_PREFIX + field] = value


def _groups_label(choice: object) -> str:
    return "custom…" if choice == CUSTOM else f"g = {choice}"


def _width_label(choice: object) -> str:
    return "custom…" if choice == CUSTOM else f"{choice:g}x"


def _draw_sidebar(selection: Selection) -> None:
    key = lambda field: WIDGET_PREFIX + field  # noqa: E731
    on = lambda field: {"key": key(field), "on_change": _store, "args": (field,)}  # noqa: E731
    navigation()
    with st.sidebar:
        st.subheader("Model")
        st.radio(
            "Groups g (pointwise group convolutions)",
            (*PAPER_GROUPS, CUSTOM),
            format_func=_groups_label,
            horizontal=True,
            help="The paper's Table 1 uses g = 1, 2, 3, 4, 8. Other values (1-64) get channels sized to "
            "the same ~140 MFLOPs budget at 1x.",
            **on("groups_choice"),
        )
        if selection.groups_choice == CUSTOM:
            st.number_input("Custom g", min_value=1, max_value=MAX_GROUPS, step=1, **on("groups_custom"))
        st.radio(
            "Width multiplier s (ShuffleNet s×)",
            (*PAPER_WIDTHS, CUSTOM),
            format_func=_width_label,
            horizontal=True,
            help="Scales every stage's channels; complexity grows roughly with s².",
            **on("width_choice"),
        )
        if selection.width_choice == CUSTOM:
            st.number_input(
                f"Custom width ({WIDTH_RANGE[0]:g}–{WIDTH_RANGE[1]:g})",
                min_value=WIDTH_RANGE[0],
                max_value=WIDTH_RANGE[1],
                step=WIDTH_STEP,
                format="%.2f",
                **on("width_custom"),
            )
        st.selectbox("Variant", VARIANTS, format_func=VARIANT_LABELS.__getitem__, **on("variant"))
        st.toggle(
            "Channel shuffle", help="Off: the Table 3 ablation (no channel mixing between groups).", **on("shuffle")
        )
        st.selectbox(
            "Input resolution (height × width)",
            (*INPUT_PRESETS, CUSTOM),
            format_func=lambda c: "custom…" if c == CUSTOM else c.replace("x", " × "),
            help="Table 8 times the paper's models at 224×224, 480×640 and 720×1280.",
            **on("input_choice"),
        )
        if selection.input_choice == CUSTOM:
            left, right = st.columns(2)
            with left:
                st.number_input(
                    "Height (px)", min_value=MIN_INPUT_SIDE, max_value=MAX_INPUT_SIDE, step=16, **on("input_height")
                )
            with right:
                st.number_input(
                    "Width (px)", min_value=MIN_INPUT_SIDE, max_value=MAX_INPUT_SIDE, step=16, **on("input_width")
                )


def shared_controls() -> ShuffleNetConfig:
    """Draw the shared sidebar, sync the URL, and return the selected ``ShuffleNetConfig``.

    Call it once per run, near the top of every page. Never raises on bad input: URL
    values the library refuses become defaults with a visible warning.
    """
    selection = _selection()
    _load(selection)
    _draw_sidebar(selection)
    selection = Selection(**st.session_state[STATE_KEY])
    try:
        config = selection.config()
    except ValueError as error:  # cannot happen through the widgets' bounds; belt and braces
        st.warning(f"That selection is not a valid ShuffleNet ({shown_value(error, 200)}); showing the default.")
        config = DEFAULTS
    for message in st.session_state.get(WARNINGS_KEY, ()):
        st.warning(message, icon="⚠️")
    _write_query_params(config)
    with st.sidebar:
        presentation.caption(f"Current model: **{config.label}**, input {config.input_size[0]}×{config.input_size[1]}.")
        sidebar_prediction(config)
        note = groups_note(config.groups)
        if note:
            presentation.caption(note)
        presentation.caption("The address bar holds a link to this exact model: copy it to share.")
    presentation.sidebar_toggle()
    return config


def groups_note(groups: int) -> str | None:
    """For a g the paper never used: say so, and how its channels were chosen (None for the paper's g)."""
    if groups in PAPER_GROUPS:
        return None
    step = 4 * groups
    return (
        f"g = {groups} is not one of the paper's values ({', '.join(map(str, PAPER_GROUPS))}). Its channels are "
        f"sized the way the paper sized its own: Stage2 has {stage2_base_channels(groups)} channels at 1×, the "
        f"multiple of 4g = {step} whose 1× model is closest to the paper's ~140 MFLOPs budget."
    )
