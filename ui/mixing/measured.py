"""The Channel shuffle page's measured section, apart from its drawing: the measurement and its tables.

* ``cached_stage_mixing(config, stage)``: ``explorer.mixing.measure_stage`` on the app's
  cached model, an ``st.cache_data`` of at most ``MEASURE_ENTRIES`` (config, stage) pairs.
* ``measure_with_and_without_shuffle(config, stage)``: the stage measured with the shuffle on
  and off; a heavy model (more than ``AUTO_MEASURE_MAX_GROUPS`` groups or
  ``AUTO_MEASURE_MAX_CHANNELS`` channels) stops the page until its button is clicked.
* ``spread_series``, ``spread_frame``: the fraction chart's lines and the numbers behind them.
* ``table3_table``, ``matrix_csv``: the paper's Table 3 with the sidebar's model marked, a dependency matrix as CSV.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from explorer import ShuffleNetConfig
from explorer.concurrency import counting_threads
from explorer.mixing import StageMixing, measure_stage
from explorer.paper import TABLE3_PAIRS, ShuffleAblation
from ui.shell.cache import CONFIG_HASH, cached_model
from ui.shell.style import HIGHLIGHT

MEASURE_ENTRIES = 32
AUTO_MEASURE_MAX_GROUPS = 16
AUTO_MEASURE_MAX_CHANNELS = 2048


@st.cache_data(max_entries=MEASURE_ENTRIES, hash_funcs=CONFIG_HASH, show_spinner=False)
def cached_stage_mixing(config, stage: int) -> StageMixing:
    """``measure_stage`` on the app's cached model of ``config`` (keyed by config and stage).

    With 1 intra-op thread, as foreground work a latency measurement yields to (``counting_threads``).
    """
    model = cached_model(config)
    with counting_threads():
        return measure_stage(config, stage, model)


def measure_with_and_without_shuffle(config: ShuffleNetConfig, stage: int) -> tuple[StageMixing, StageMixing]:
    """The stage measured with the shuffle on and off; a heavy model stops the page until a click."""
    # The paper's models (g <= 8, up to 2x) take well under a second per stage; very many groups
    # or very wide stages take up to a minute on a small CPU, so those wait for a click.
    widest = max(config.plan().stage_channels)
    heavy = config.groups > AUTO_MEASURE_MAX_GROUPS or widest > AUTO_MEASURE_MAX_CHANNELS
    measured_key = f"{config.with_(shuffle=True)!r}/stage{stage}"
    done = st.session_state.setdefault("mix_measured_done", [])
    if heavy and measured_key not in done:
        st.info(
            f"With g = {config.groups} and up to {widest} channels a stage takes up to a minute to measure on this "
            "machine (the paper's models take under a second)."
        )
        if not st.button(f"Measure Stage{stage}", key="mix_measure_button"):
            st.stop()
    with st.spinner(f"Measuring Stage{stage} with and without shuffle (forward-mode autograd)…"):
        on, off = (cached_stage_mixing(config.with_(shuffle=shuffle), stage) for shuffle in (True, False))
    if measured_key not in done:
        done.append(measured_key)
    return on, off


def spread_series(scope: str, on: StageMixing, off: StageMixing) -> list[dict]:
    """The fraction chart's two lines (``ui.figures.mixing.fraction_figure``): with the shuffle, and without it dashed."""
    return [
        {
            "name": f"with shuffle (g = {on.groups})",
            "fractions": on.fractions(scope),
            "ranges": on.fraction_ranges(scope),
            "groups": on.groups,
        },
        {
            "name": f"without shuffle (g = {on.groups})",
            "fractions": off.fractions(scope),
            "ranges": off.fraction_ranges(scope),
            "groups": on.groups,
            "dash": "dash",
        },
    ]


def spread_frame(word: str, scope: str, on: StageMixing, off: StageMixing) -> pd.DataFrame:
    """The numbers behind the fraction chart: mean and min % of input channels reached, per stacked ``word``."""
    fractions_on, fractions_off = on.fractions(scope), off.fractions(scope)
    return pd.DataFrame(
        {
            f"{word}s stacked": list(range(1, len(fractions_on) + 1)),
            "with shuffle: mean %": [round(100 * f, 2) for f in fractions_on],
            "with shuffle: min %": [round(100 * lo, 2) for lo, _ in on.fraction_ranges(scope)],
            "without shuffle: mean %": [round(100 * f, 2) for f in fractions_off],
            "without shuffle: min %": [round(100 * lo, 2) for lo, _ in off.fraction_ranges(scope)],
        }
    )


def table3_table(mine: ShuffleAblation | None) -> Styler:
    """The paper's Table 3 (reported) as a static table, the row ``mine`` marked (colour and a word)."""
    frame = pd.DataFrame(
        [
            {
                "ShuffleNet": pair.model.removeprefix("ShuffleNet "),
                "without shuffle": f"{pair.error_without:.1f}",
                "with shuffle": f"{pair.error_with:.1f}",
                "gain (points)": f"{pair.gain:.1f}",
                "sidebar": "◀ this model" if pair == mine else "",
            }
            for pair in TABLE3_PAIRS
        ]
    )
    marked = [pair == mine for pair in TABLE3_PAIRS]
    return frame.style.hide(axis="index").apply(
        lambda row: [f"background-color: {HIGHLIGHT}33; font-weight: bold" if marked[row.name] else "" for _ in row],
        axis=1,
    )


def matrix_csv(matrix) -> str:
    return pd.DataFrame(matrix).to_csv(index=False, header=[f"in{i}" for i in range(matrix.shape[1])])
