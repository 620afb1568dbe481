"""Bad input, everywhere: the library, URL links, the widgets, the command line.

Every bad value is refused with a message that names the value and says what is allowed,
and nothing else happens: no traceback, nothing a user typed rendered as markup, the app
keeps showing the default model, the CLI exits 2 with one line on stderr. g = 7 is the
exception by design: any g from 1 to 64 builds, and the app says when a g is not
one of the paper's.

The CLI matrix runs ``explorer.cli.main`` in this process (a subprocess costs 2-3 s of
torch import); a few real subprocesses show the entry point answers the same.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from conftest import ALL_PAGES, ENTRY, assert_clean, assert_one_line_usage_error, open_app, run_cli, run_explorer

from explorer import ShuffleNetConfig, parse_input_size
from explorer.shufflenet import AlexNetConfig, MobileNetConfig
from ui.lecture.nav import step_title
from ui.shell.controls import DEFAULTS, PARSERS, QUERY_KEYS, config_from_query, groups_note, query_values
from ui.shell.text import MAX_SHOWN, shown_value

ARCH = "pages/1_Architecture.py"
COMPLEXITY = "pages/2_Complexity.py"
LECTURE = "pages/0_Lecture.py"
PAGE_TITLES = {
    LECTURE: step_title(1),
    ENTRY: "ShuffleNet Explorer",
    ARCH: "Architecture",
    COMPLEXITY: "Complexity",
    "pages/3_Channel_shuffle.py": "Channel shuffle",
    "pages/4_Latency.py": "Latency",
    "pages/5_Compare.py": "Compare",
}
DEFAULT_MODEL_CAPTION = "Current model: **ShuffleNet 1x (g=3)**, input 224×224."

BAD_GROUPS = ["0", "-3", "1000", "abc", "", "2.5"]
BAD_WIDTHS = ["0", "-1", "nan", "inf", "-inf", "1e9", "", "abc"]
BAD_INPUTS = ["0x0", "1x1", "31x31", "100000x100000", "", "abc", "224x", "-5x224", "1e9x1e9"]
BAD_VARIANTS = ["x", ""]
BAD_SHUFFLES = ["maybe"]
LONG_TEXT = "x" * 10_000
# Text that must show literally, never as markup; none of it is a valid value for any key.
ADVERSARIAL = [
    "<script>alert(1)</script>",
    "**bold**",
    "[link](javascript:alert(1))",
    "$x^2$",
    LONG_TEXT,
    "g＝七 😀 \u202eevil\u202c",  # fullwidth, CJK, emoji, a right-to-left override
    "line1\nline2\r\n# heading",
    "<img src=x onerror=alert(1)>",
    "&lt;b&gt;bold&lt;/b&gt;",
    "`code` ~~gone~~ | table |",
]
# Literal escaped forms the warning's markdown must contain (so they render as text).
ESCAPED = {
    "<script>alert(1)</script>": "\\<script\\>alert\\(1\\)\\</script\\>",
    "**bold**": "\\*\\*bold\\*\\*",
    "[link](javascript:alert(1))": "\\[link\\]\\(javascript\\:alert\\(1\\)\\)",
    "$x^2$": "\\$x^2\\$",
    "<img src=x onerror=alert(1)>": "\\<img src\\=x onerror\\=alert\\(1\\)\\>",
    "&lt;b&gt;bold&lt;/b&gt;": "\\&lt;b\\&gt;bold\\&lt;/b\\&gt;",
}
RAW_MARKUP = ("<script", "<img", "**bold**", "](javascript", "$x^2$", "\n", "\u202e", "`code`", "&lt;")


def unescaped(raw: str, text: str) -> bool:
    """``raw`` occurs in ``text`` without a backslash before it (escaped markup is inert)."""
    return re.search(r"(?<!\\)" + re.escape(raw), text) is not None


# ---------------------------------------------------------------- library

BAD_FIELD_VALUES = [
    *(("groups", v) for v in (0, -3, 1000, 65, "abc", "", "2.5", "3", 2.5, 3.0, None, True, False, np.float64(3), [3])),
    *(
        ("width", v)
        for v in (
            0,
            -1,
            math.nan,
            math.inf,
            -math.inf,
            1e9,
            0.0999,
            4.001,
            "",
            "abc",
            "1.0",
            None,
            True,
            np.float32("nan"),
            Decimal(1),
            complex(1, 0),
        )
    ),
    *(("variant", v) for v in ("x", "", "Standard", " standard", None, 1, ["standard"])),
    *(("shuffle", v) for v in ("maybe", "yes", "", 1, 0, None, np.bool_(True))),
    *(
        ("input_size", v)
        for v in (
            (0, 0),
            (1, 1),
            (31, 31),
            (100000, 100000),
            (4097, 224),
            (-5, 224),
            "224x224",
            "",
            (224,),
            (224, 224, 3),
            [224, 224],
            (224.0, 224.0),
            (True, 224),
            None,
        )
    ),
    *(("num_classes", v) for v in (0, -1, 10**6, 1.5, True, None, "10")),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELD_VALUES, ids=[f"{f}={v!r}"[:40] for f, v in BAD_FIELD_VALUES])
def test_config_refuses_bad_values_naming_field_value_and_rule(field, value):
    with pytest.raises(ValueError) as error:
        ShuffleNetConfig(**{field: value})
    message = str(error.value)
    assert message.startswith(f"{field}={value!r} is not allowed: {field} must be "), message
    assert "\n" not in message


def test_config_accepts_numpy_and_exact_numbers_as_plain_python_values():
    """numpy integers are integers: accepted, stored as ``int``, so equal configs hash equal."""
    plain = ShuffleNetConfig(groups=8, width=0.5, input_size=(96, 128), num_classes=10)
    numpy_made = ShuffleNetConfig(
        groups=np.int64(8), width=np.float32(0.5), input_size=(np.int32(96), np.uint16(128)), num_classes=np.int8(10)
    )
    assert numpy_made == plain and hash(numpy_made) == hash(plain)
    assert type(numpy_made.groups) is int and type(numpy_made.width) is float
    assert all(type(side) is int for side in numpy_made.input_size) and type(numpy_made.num_classes) is int
    assert ShuffleNetConfig(width=Fraction(1, 2)).width == 0.5
    assert MobileNetConfig(width=np.float64(0.75), input_size=(np.int64(64), 64)).input_size == (64, 64)


def test_reference_models_refuse_the_same_values():
    for width in (0, -1, math.nan, math.inf, 1e9, "abc", None):
        with pytest.raises(ValueError, match=r"^width=.* is not allowed"):
            MobileNetConfig(width=width)
    for size in ((0, 0), (63, 63), (100000, 100000), "224x224"):
        with pytest.raises(ValueError, match=r"^input_size=.* is not allowed"):
            AlexNetConfig(input_size=size)


BAD_INPUT_TEXTS = [
    *BAD_INPUTS,
    "224x224x3",
    "x",
    " x ",
    "²²⁴x224",
    "٢٢٤x224",
    "9" * 5000 + "x224",
    "0x224",
    "224x-5",
    "+224x224",
    "224.0x224",
    "224*224",
    "224\n224",
]


@pytest.mark.parametrize("text", BAD_INPUT_TEXTS, ids=lambda t: repr(t)[:30])
def test_parse_input_size_refuses_bad_text(text):
    with pytest.raises(ValueError) as error:
        parse_input_size(text)
    message = str(error.value)
    assert "from 32 to 4096" in message and "is not allowed" in message
    assert repr(text) in message or "(" in message  # the text, or the parsed (height, width) out of range


@pytest.mark.parametrize("value", [None, 224, (224, 224), b"224x224", ["224x224"]], ids=repr)
def test_parse_input_size_refuses_non_text_with_value_error(value):
    with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
        parse_input_size(value)


def test_parse_input_size_accepts_what_it_documents():
    assert parse_input_size("32x4096") == (32, 4096)
    assert parse_input_size(" 480 X 640 ") == (480, 640)


# ---------------------------------------------------------------- URL links, without Streamlit

BAD_LINK_VALUES = {
    "groups": BAD_GROUPS,
    "width": BAD_WIDTHS,
    "variant": BAD_VARIANTS,
    "shuffle": BAD_SHUFFLES,
    "input": BAD_INPUTS,
}
ALL_BAD_LINK_VALUES = [(key, value) for key in QUERY_KEYS for value in BAD_LINK_VALUES[key] + ADVERSARIAL]


def assert_link_warning(warning: str, key: str, value: str) -> None:
    """The warning names the key, shows the value escaped and cut short, says what is allowed."""
    assert f"`{key}`" in warning, warning
    assert f"“{shown_value(value)}”" in warning, warning
    assert f"{key} must be {PARSERS[key][1]}" in warning, warning
    assert "Using the default" in warning
    if value in ESCAPED:
        assert ESCAPED[value] in warning, warning
    for raw in RAW_MARKUP:
        assert not unescaped(raw, warning), (raw, warning)
    assert len(warning) < 400, len(warning)


@pytest.mark.parametrize(("key", "value"), ALL_BAD_LINK_VALUES, ids=[f"{k}={v!r}"[:40] for k, v in ALL_BAD_LINK_VALUES])
def test_every_bad_link_value_falls_back_with_one_safe_warning(key, value):
    config, warnings = config_from_query({key: value})
    assert config == DEFAULTS
    assert len(warnings) == 1
    assert_link_warning(warnings[0], key, value)


def test_long_values_are_cut_in_the_message():
    _, [warning] = config_from_query({"variant": LONG_TEXT})
    assert "x" * MAX_SHOWN + "…" in warning and "x" * (MAX_SHOWN + 1) not in warning


def test_groups_7_is_accepted_and_said_to_be_outside_the_paper():
    config, warnings = config_from_query({"groups": "7"})
    assert warnings == [] and config == ShuffleNetConfig(groups=7)
    note = groups_note(7)
    assert "g = 7 is not one of the paper's values (1, 2, 3, 4, 8)" in note
    assert f"Stage2 has {config.plan().stage_channels[0]} channels at 1×" in note and "4g = 28" in note
    assert all(groups_note(g) is None for g in (1, 2, 3, 4, 8))


# ---------------------------------------------------------------- URL links, in the app


def link_rounds() -> list[dict[str, str]]:
    """Every bad value of every key in as few links as possible: link i carries each key's
    i-th bad value; keys with fewer bad values are padded with the adversarial texts, so
    every one of those is shown by some key too."""
    count = max(len(values) for values in BAD_LINK_VALUES.values())
    padding = itertools.cycle(ADVERSARIAL)
    columns = {
        key: values + [next(padding) for _ in range(count - len(values))] for key, values in BAD_LINK_VALUES.items()
    }
    assert set(ADVERSARIAL) <= {v for values in columns.values() for v in values}
    return [{key: columns[key][i] for key in QUERY_KEYS} for i in range(count)]


LINK_ROUNDS = link_rounds()


def rendered_texts(at) -> list[str]:
    """The markdown body of every text element on the page (sidebar included)."""
    kinds = ("markdown", "caption", "warning", "info", "success", "error", "title", "header", "subheader", "text")
    return [element.value for kind in kinds for element in at.get(kind) if isinstance(element.value, str)]


def assert_default_page(at, page: str) -> None:
    """The page drew its own content, for the default model, with no exception or error box."""
    assert_clean(at)
    assert [t.value for t in at.title][:1] == [PAGE_TITLES[page]]
    assert DEFAULT_MODEL_CAPTION in [c.value for c in at.sidebar.caption]
    step = {"step": "1"} if page == LECTURE else {}  # the Lecture keeps its step beside the model
    assert dict(at.query_params) == {**query_values(DEFAULTS), **step}  # the address bar repaired to the model shown


def page_rounds() -> list[tuple[str, int]]:
    """Every page with one link round, every round on some page (round i on page i mod pages): each bad
    value is checked in the app once, and each page with a full set of bad keys; every value against every
    key without Streamlit above (``test_every_bad_link_value_falls_back_with_one_safe_warning``)."""
    count = max(len(ALL_PAGES), len(LINK_ROUNDS))
    return sorted({(ALL_PAGES[i % len(ALL_PAGES)], i % len(LINK_ROUNDS)) for i in range(count)})


def test_every_page_and_every_link_round_is_checked_in_the_app():
    pairs = page_rounds()
    assert {page for page, _ in pairs} == set(ALL_PAGES)
    assert {index for _, index in pairs} == set(range(len(LINK_ROUNDS)))


@pytest.mark.parametrize(("page", "round_index"), page_rounds(), ids=lambda v: f"link{v}" if isinstance(v, int) else v)
def test_bad_links_warn_once_per_key_and_the_page_shows_the_default(page, round_index):
    params = LINK_ROUNDS[round_index]
    at = open_app(page, params)
    assert_default_page(at, page)
    warnings = [w.value for w in at.warning if "Ignored the link's" in w.value]
    assert len(warnings) == len(params), warnings
    for key, value in params.items():
        assert_link_warning(next(w for w in warnings if f"`{key}`" in w), key, value)
    for text in rendered_texts(at):  # nothing anywhere on the page echoes the raw markup
        for raw in ("<script", "<img", "**bold**", "](javascript", "$x^2$", LONG_TEXT[:100]):
            assert not unescaped(raw, text), (raw, text[:200])


def test_repeated_keys_use_the_last_value_and_the_link_is_rewritten_once():
    at = open_app(ARCH, {"groups": ["1", "8"], "width": ["abc", "0.5"]})
    assert_clean(at)
    assert not at.warning
    assert at.query_params["groups"] == "8" and at.query_params["width"] == "0.5"
    assert "ShuffleNet 0.5x (g=8)" in at.sidebar.caption[0].value
    at = open_app(ARCH, {"groups": ["8", "<b>1000</b>"]})
    assert_default_page(at, ARCH)
    [warning] = [w.value for w in at.warning]
    assert_link_warning(warning, "groups", "<b>1000</b>")


@pytest.mark.parametrize("page", ALL_PAGES)
def test_groups_7_link_is_accepted_on_every_page_and_marked_as_not_the_papers(page):
    at = open_app(page, {"groups": "7"})
    assert_clean(at)
    assert not at.warning
    captions = [c.value for c in at.sidebar.caption]
    assert "Current model: **ShuffleNet 1x (g=7)**, input 224×224." in captions
    assert groups_note(7) in captions
    assert at.query_params["groups"] == "7"
    if page == ARCH:
        assert any("Table 1 covers g = 1, 2, 3, 4, 8" in i.value for i in at.info)
    if page == COMPLEXITY:
        assert any("The paper reports no numbers for this configuration" in i.value for i in at.info)


# ---------------------------------------------------------------- widgets

# Streamlit 1.67 resets a number_input or slider value outside [min, max] (or not finite) to
# the widget's default on the server, and the browser refuses such values before sending
# them; AppTest sends whatever it is given, so these check the server side holds.
CUSTOM_WIDGET_VALUES = {
    "ctl_groups_custom": (0, -3, 65, 1000, 10**12),
    "ctl_width_custom": (0.0, -1.0, math.nan, math.inf, -math.inf, 1e9, 0.0999, 4.01),
    "ctl_input_height": (0, 1, 31, 4097, 100000),
    "ctl_input_width": (0, 1, 31, 4097, 100000),
}


def test_custom_sidebar_inputs_stay_in_bounds_whatever_is_sent():
    at = open_app()
    at.sidebar.radio[0].set_value("custom").run()
    at.sidebar.radio[1].set_value("custom").run()
    at.sidebar.selectbox(key="ctl_input_choice").set_value("custom").run()
    for key, values in CUSTOM_WIDGET_VALUES.items():
        for value in values:
            at.sidebar.number_input(key=key).set_value(value).run()
            assert_clean(at)
            widget = at.sidebar.number_input(key=key)
            assert widget.min <= widget.value <= widget.max, (key, value, widget.value)
            shown = ShuffleNetConfig(
                groups=int(at.query_params["groups"]),
                width=float(at.query_params["width"]),
                input_size=parse_input_size(at.query_params["input"]),
            )
            assert f"Current model: **{shown.label}**" in at.sidebar.caption[0].value


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("selectbox", "ctl_variant"),
        ("selectbox", "ctl_input_choice"),
        ("radio", "ctl_groups_choice"),
        ("radio", "ctl_width_choice"),
    ],
)
def test_choice_widgets_cannot_send_values_outside_their_options(kind, key):
    """A selectbox or radio sends an option's index, so a value outside the options never reaches the app."""
    at = open_app()
    getattr(at.sidebar, kind)(key=key).set_value("<script>alert(1)</script>")
    with pytest.raises(ValueError, match="is not in list"):
        at.run()


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_number_input_and_slider_survives_out_of_range_values(page):
    at = open_app(page)
    for widget in list(at.main.number_input):
        low, high = widget.min, widget.max
        extra = (math.nan, math.inf) if isinstance(widget.value, float) else ()
        for value in (low - 1, high + 1, -1e12, 1e12, *extra):
            at.number_input(key=widget.key).set_value(value).run()
            assert_clean(at)
            assert low <= at.number_input(key=widget.key).value <= high, (widget.key, value)
    for widget in list(at.main.slider):
        for value in (widget.min - 1, widget.max + 1):
            at.slider(key=widget.key).set_value(value).run()
            assert_clean(at)
            assert widget.min <= at.slider(key=widget.key).value <= widget.max, (widget.key, value)
    for widget in list(at.main.multiselect):  # deselecting everything is a real user action
        at.multiselect(key=widget.key).set_value([]).run()
        assert_clean(at)
    assert [t.value for t in at.title][:1] == [PAGE_TITLES[page]]


# ---------------------------------------------------------------- command line


def value_forms(text: str) -> set[str]:
    """How an error line may name ``text``: quoted, or as the parsed value (``width=0.0``, ``(0, 0)``)."""
    forms = {repr(text), f"={text}"}
    with contextlib.suppress(ValueError):
        number = float(text)
        forms |= {f"={number!r}", f"={number:g}"}
    with contextlib.suppress(ValueError):
        height, width = (int(side) for side in text.split("x"))
        forms.add(f"({height}, {width})")
    return forms


ADVERSARIAL_ARGS = ["<script>alert(1)</script>", "a\nb", LONG_TEXT, "七"]
GROUPS = ("from 1 to 64",)
WIDTH = ("from 0.1 to 4.0",)
INPUT = ("from 32 to 4096",)
CHOICES = ("choose from",)
MODEL_ARGS = {
    "--groups": (BAD_GROUPS + ADVERSARIAL_ARGS, GROUPS),
    "--width": (BAD_WIDTHS, WIDTH),
    "--input": (BAD_INPUTS + ADVERSARIAL_ARGS, INPUT),
    "--variant": (BAD_VARIANTS + ADVERSARIAL_ARGS, CHOICES),
}
ONLY_MEASURED = ("only used with --measured",)
# command line before the bad argument -> {flag: (bad values, what the error must say is allowed)}
CLI_MATRIX = {
    ("size",): MODEL_ARGS,
    ("budget", "--mflops", "40"): {
        "--input": MODEL_ARGS["--input"],
        "--variant": MODEL_ARGS["--variant"],
    },
    ("budget",): {
        "--mflops": (["0", "-1", "nan", "inf", "-inf", "1e9", "abc", ""], ("above 0 and up to 1000000",)),
        "--params": (["0", "-1", "nan", "inf", "-inf", "1e9", "abc", ""], ("above 0 and up to 1000",)),
        "--ms": (["0", "-0.5", "nan", "inf", "-inf", "1e9", "abc", ""], ("above 0 and up to 60000",)),
    },
    ("budget", "--ms", "5"): {
        "--backend": (["tensorrt", "", "<b>x</b>"], CHOICES),
        "--groups": (["0", "65", "1,,8", "abc", ""], GROUPS),
        "--threads": (["0", "1000", "abc"], ("from 1 to 256",)),
        "--max-seconds": (["0", "nan", "1e9"], ("seconds",)),
    },
    ("mixing",): {
        "--groups": MODEL_ARGS["--groups"],
        "--width": (BAD_WIDTHS, WIDTH + ONLY_MEASURED),  # the toy has no width: even a good one is refused
        "--input": MODEL_ARGS["--input"],
        "--variant": MODEL_ARGS["--variant"],
        "--channels": (["0", "-3", "10", "2000", "abc", "", "2.5"], ("from 1 to 1024", "a multiple of")),
        "--layers": (["0", "-1", "5", "abc", "", "2.5"], ("from 1 to 4",)),
        "--wiring": (["maybe", ""], CHOICES),
        "--stage": (["abc", "2.5"], ("2, 3 or 4",)),
        "--units": (["abc"], ("a positive integer",)),
    },
    ("mixing", "--measured"): {
        **MODEL_ARGS,
        "--stage": (["0", "1", "5", "-2", "abc", ""], ("2, 3 or 4",)),
        "--scope": (["everything", ""], CHOICES),
        "--units": (["0", "-1", "abc"], ("from 1 to", "a positive integer")),
        "--channels": (["12"], ("only used without --measured",)),
    },
    ("bench",): {
        **MODEL_ARGS,
        "--model": (["resnet", ""], CHOICES),
        "--backends": (["", "tensorrt", "torch,<b>x</b>", ","], ("choose from torch",)),
        "--threads": (["0", "-1", "1000", "abc", "", "2.5"], ("from 1 to 256",)),
        "--batch": (["0", "-1", "100000", "abc", "1e3"], ("from 1 to 1024",)),
        "--repeat": (["0", "11", "1000000", "abc"], ("from 1 to 10",)),
        "--min-time": (["nan", "inf", "-1", "1e9", "abc"], ("seconds from 0 to 60",)),
        "--wait-quiet": (["-1", "nan", "1e9", "abc"], ("seconds from 0 to 3600",)),
    },
    ("bench", "--table8"): {"--inputs": (["300x300", "abc", "", "0x0"], ("Table 8's inputs", "from 32 to 4096"))},
    ("bench", "--model", "alexnet"): {"--input": (["40x40", "222x300"], ("at least 223x223",))},
    ("bench", "--model", "mobilenet"): {"--width": (["0", "9"], WIDTH)},
}
CLI_CASES = [
    (prefix, flag, value, allowed)
    for prefix, flags in CLI_MATRIX.items()
    for flag, (values, allowed) in flags.items()
    for value in values
]


@pytest.mark.parametrize(
    ("prefix", "flag", "value", "allowed"), CLI_CASES, ids=[" ".join((*p, f, repr(v)[:20])) for p, f, v, _ in CLI_CASES]
)
def test_every_bad_argument_is_one_line_naming_value_and_rule(prefix, flag, value, allowed):
    result = run_cli(*prefix, flag, value)
    assert_one_line_usage_error(result, f"python -m explorer {prefix[0]}: error: ")
    line = result.stderr.strip()
    assert flag.lstrip("-") in line, line[:300]
    assert any(form in line for form in value_forms(value)), line[:300]
    assert any(text in line for text in allowed), line[:300]


def test_a_value_that_looks_like_an_option_gets_a_hint():
    result = run_cli("size", "--variant", "-x")
    assert_one_line_usage_error(result, "argument --variant: expected one argument", "--option=VALUE")


def test_groups_7_is_accepted_by_the_cli():
    result = run_cli("size", "--groups", "7", "--width", "0.5", "--input", "64x64", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["config"]["groups"] == 7
    assert payload["reported_in_paper"]["rows"] == []  # not one of the paper's configs


REAL_PROCESS_CASES = [
    ("size", "--width", "-inf"),
    ("budget", "--mflops", "nan"),
    ("mixing", "--layers", "<b>9</b>"),
    ("bench", "--repeat", "1000"),
]


@pytest.mark.parametrize("argv", REAL_PROCESS_CASES, ids=" ".join)
def test_the_real_entry_point_answers_like_the_in_process_runner(argv):
    real = run_explorer(*argv, timeout=120)
    assert_one_line_usage_error(real, f"python -m explorer {argv[0]}: error: ")
    assert real.stderr == run_cli(*argv).stderr
