"""Bounded Streamlit caches around the library, keyed by the frozen configs.

* ``cached_model(config)``: ``st.cache_resource`` (one shared ``nn.Module`` per config;
  treat it as read-only).
* ``cached_counts(config)``: ``st.cache_data`` of ``explorer.count_model`` (layout, units,
  complexity; a copy per caller, so callers may not corrupt it).
* ``cached_*`` helpers for the closed-form sweeps and the budget decision (cheap, but
  reruns happen on every click); ``with_stored_latency`` adds measured latencies to a
  cached decision (the store changes, the closed form does not).

Counting threads: ``explorer.count_model`` counts with one intra-op thread, as foreground work
a running latency measurement yields to (``explorer.concurrency.counting_threads``); building
a model uses the same rule here.

Configs are frozen dataclasses; they are hashed by type and ``repr`` (deterministic,
covers every field) instead of Streamlit's generic object hashing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace

import streamlit as st

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig, build_model, count_model
from explorer.concurrency import counting_threads
from explorer.counting import ModelCounts
from explorer.counting.estimate import Cost, counting_cost, megabytes, seconds_text
from explorer.latency.export import export_onnx
from explorer.shufflenet import channel_plan, plan_conv_macs
from explorer.sizing import Decision, decide
from ui.shell.text import shown_value

MODEL_ENTRIES = 8
COUNTS_ENTRIES = 64
SVG_ENTRIES = 64


def _config_key(config: object) -> str:
    return f"{type(config).__name__}:{config!r}"


CONFIG_HASH = {ShuffleNetConfig: _config_key, AlexNetConfig: _config_key, MobileNetConfig: _config_key}


@st.cache_resource(max_entries=MODEL_ENTRIES, hash_funcs=CONFIG_HASH, show_spinner=False)
def cached_model(config):
    """The built model (random weights, eval mode), shared by every session."""
    with counting_threads():
        return build_model(config)


@st.cache_data(max_entries=COUNTS_ENTRIES, hash_funcs=CONFIG_HASH, show_spinner=False)
def cached_counts(config) -> ModelCounts:
    """``explorer.count_model(config)``: layout, per-unit table and complexity (computed here)."""
    return count_model(config)


SWEEP_ENTRIES = 32


@st.cache_data(max_entries=SWEEP_ENTRIES, show_spinner=False)
def cached_sweep(
    groups: tuple[int, ...], widths: tuple[float, ...], variant: str, input_size: tuple[int, int]
) -> list[dict]:
    """Closed-form paper-convention multiply-adds over a (g, width) grid (milliseconds)."""
    return [
        {
            "groups": g,
            "width": w,
            "macs": plan_conv_macs(channel_plan(g, w, variant), input_size),
            "stage_channels": channel_plan(g, w, variant).stage_channels,
        }
        for g in groups
        for w in widths
    ]


@st.cache_data(max_entries=SWEEP_ENTRIES, show_spinner=False)
def cached_decision(
    kind: str, budget: float, groups: tuple[int, ...], variants: tuple[str, ...], input_size: tuple[int, int]
) -> Decision:
    """``explorer.sizing.decide`` (closed form, fvcore-verified in the tests); latencies are filled in apart."""
    return decide(kind, budget, groups, variants, input_size)


def with_stored_latency(decision: Decision, store, backend: str, threads: int) -> Decision:
    """The decision with each candidate's stored latency (``store.get_many``, batch 1), where one was measured."""
    stored = store.get_many([c.config for c in decision.candidates], backend, threads, 1)
    return replace(
        decision,
        candidates=tuple(
            replace(c, latency_ms=None if m is None else m.per_image_ms) for c, m in zip(decision.candidates, stored)
        ),
    )


@st.cache_data(max_entries=SVG_ENTRIES, show_spinner=False)
def cached_svg(dot: str) -> str:
    """SVG of a DOT source, laid out by ``dot -Tsvg`` once per DOT text; raises ``DiagramError``
    (not cached: the next run tries again) when the binary is missing or fails."""
    from ui.figures.diagrams import dot_to_svg

    return dot_to_svg(dot)


@st.cache_data(max_entries=4, hash_funcs=CONFIG_HASH, show_spinner=False)
def cached_onnx(config) -> bytes:
    """The model (random weights) exported to ONNX with ``explorer.latency.export`` (dynamic H, W)."""

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.onnx")
        export_onnx(build_model(config), tuple(config.input_size), path)
        with open(path, "rb") as handle:
            return handle.read()


CONFIRMED_KEY = "explorer.confirmed_large"
CONFIRMED_ENTRIES = 16  # a page such as Compare may need several models confirmed at once


def _counting_cost(config) -> Cost:
    """``explorer.counting.estimate.counting_cost``; a bad ``EXPLORER_MAX_*`` value in the server's environment stops the page."""
    try:
        return counting_cost(config, what=f"Counting {config.label} at {config.input_size[0]} × {config.input_size[1]}")
    except ValueError as error:
        st.error(f"The server's resource limits are misconfigured: {shown_value(error, 300)}")
        st.stop()


def counting_refusal(config) -> str | None:
    """Why counting ``config`` is refused (its estimate and the limit), or None when it fits."""
    cost = _counting_cost(config)
    return None if cost.fits else cost.refusal()


def _refuse_or_confirm(config) -> None:
    """Stop the page run (``st.stop``) for a count over the limits, or until a large one is confirmed.

    The estimate comes from shapes alone (``explorer.counting.estimate``), so nothing heavy starts by
    accident from a link like ``input=4096x4096&width=4``; the sidebar stays usable.
    """
    size = f"{config.input_size[0]} × {config.input_size[1]}"
    cost = _counting_cost(config)
    if not cost.fits:
        st.error(cost.refusal(), icon=":material/block:")
        st.stop()
    confirmed = st.session_state.get(CONFIRMED_KEY, ())
    if cost.needs_confirmation and config not in confirmed:
        st.warning(
            f"Building and counting {config.label} at {size} pixels is estimated to take {cost.describe()} "
            f"(limits: {megabytes(cost.limits.memory_bytes)}, {seconds_text(cost.limits.seconds)})."
        )
        if st.button("Build and count it anyway", key="confirm_large_input"):
            st.session_state[CONFIRMED_KEY] = (*confirmed, config)[-CONFIRMED_ENTRIES:]
            st.rerun()
        st.stop()


def counts_or_ask(config) -> ModelCounts:
    """``cached_counts`` with a spinner, after the resource check; says so if fvcore failed."""
    _refuse_or_confirm(config)
    with st.spinner("Building the model and counting its operations…"):
        result = cached_counts(config)
    if result.complexity.fell_back:
        st.warning(
            f"{config.label}: {shown_value(result.complexity.counter, 300)}. Every figure except fvcore's own "
            "total is still exact (the fallback and fvcore agree on every layer in the tests)."
        )
    return result
