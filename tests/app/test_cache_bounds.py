"""Every cache the app keeps for the life of the server is bounded.

More distinct keys than a cache's bound go through the real cached function; its number
of entries must then be at most the bound, and it must have evicted. Entry counts come
from Streamlit's own cache metrics (the ``/_stcore/metrics`` counters: lookups that
missed, i.e. entries stored, minus automatic evictions), after a ``clear()``, so they are
this test's entries only. ``functools.lru_cache`` holds its own maxsize: only that every one in
``explorer/`` has one is checked here.

``benchmarks/memory.py`` measures what the bounds mean for resident memory.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from streamlit.runtime.caching.cache_metrics import get_cache_metrics
from streamlit.runtime.caching.cache_utils import CachedFunc

import explorer
import ui
from explorer import ShuffleNetConfig
from explorer.latency import Measurement
from explorer.latency.timing import summarize

# lru caches in explorer/ without a maxsize, and why they are bounded anyway
UNBOUNDED_BY_DESIGN = {"explorer.shufflenet.plan.stage2_base_channels": "one entry per g, and g is 1-64"}


def cache_counters(func) -> tuple[int, int]:
    """(misses, automatic evictions) of a Streamlit-cached function so far in this process."""
    name = f"{func.__module__}.{func.__qualname__}"
    stats = get_cache_metrics().get_stats(["cache_lookups", "cache_evictions"])
    misses = sum(
        s.value for s in stats.get("cache_lookups", []) if s.labels["cache"] == name and s.labels["result"] == "miss"
    )
    evictions = sum(s.value for s in stats.get("cache_evictions", []) if s.labels["cache"] == name)
    return misses, evictions


def assert_bounded(func, bound: int, calls) -> None:
    """Clear ``func``'s cache, make ``calls`` (each a distinct key), check entries <= bound."""
    func.clear()
    misses0, evictions0 = cache_counters(func)
    for call in calls:
        call()
    misses, evictions = cache_counters(func)
    stored, evicted = misses - misses0, evictions - evictions0
    assert stored == len(calls) > bound  # every key was new, and there were more than the bound
    assert stored - evicted <= bound, (func.__qualname__, stored, evicted)
    assert evicted >= len(calls) - bound


def tiny_configs(count: int) -> list[ShuffleNetConfig]:
    """``count`` distinct configs that are quick to build and count (shallow, 32 x 32)."""
    widths = [round(0.1 + 0.01 * i, 2) for i in range(count)]
    return [
        ShuffleNetConfig(groups=(1, 2, 3, 4, 8)[i % 5], width=w, variant="shallow", input_size=(32, 32))
        for i, w in enumerate(widths)
    ]


# --------------------------------------------------------------------------- every cache has a bound


def ui_modules():
    return [importlib.import_module(m.name) for m in pkgutil.walk_packages(ui.__path__, "ui.")]


def test_every_streamlit_cache_has_max_entries_or_is_a_singleton():
    cached = {
        f"{m.__name__}.{name}": f
        for m in ui_modules()
        for name, f in vars(m).items()
        if isinstance(f, CachedFunc) and f.__module__ == m.__name__
    }
    assert "ui.shell.cache.cached_counts" in cached and "ui.mixing.measured.cached_stage_mixing" in cached
    for name, func in cached.items():
        singleton = not inspect.signature(func.__wrapped__).parameters  # one entry, ever
        # ``_info`` is the decorator's settings (streamlit is pinned to 1.67.0 in requirements.txt)
        assert singleton or func._info.max_entries or func._info.ttl, f"{name} has no max_entries or ttl"


def test_every_lru_cache_in_explorer_has_a_maxsize():
    modules = [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(explorer.__path__, "explorer.")
        if m.name != "explorer.__main__"
    ]  # importing that one runs the command line
    caches = {
        f"{m.__name__}.{name}": f
        for m in modules
        for name, f in vars(m).items()
        if hasattr(f, "cache_parameters") and f.__module__ == m.__name__
    }
    assert "explorer.counting.trace.count_model" in caches
    for name, func in caches.items():
        assert func.cache_parameters()["maxsize"] is not None or name in UNBOUNDED_BY_DESIGN, name


# --------------------------------------------------------------------------- caches with cheap keys


def test_sweep_budget_and_svg_caches_evict_past_their_bounds():
    from ui.shell.cache import SWEEP_ENTRIES, cached_decision, cached_svg, cached_sweep

    assert_bounded(
        cached_sweep,
        SWEEP_ENTRIES,
        [functools.partial(cached_sweep, (g,), (1.0,), "standard", (224, 224)) for g in range(1, SWEEP_ENTRIES + 6)],
    )
    assert_bounded(
        cached_decision,
        SWEEP_ENTRIES,
        [
            functools.partial(cached_decision, "mflops", 100 + i, (3,), ("standard",), (224, 224))
            for i in range(SWEEP_ENTRIES + 3)
        ],
    )
    from ui.shell.cache import SVG_ENTRIES

    assert_bounded(
        cached_svg,
        SVG_ENTRIES,
        [functools.partial(cached_svg, f"digraph {{ a -> b{i} }}") for i in range(SVG_ENTRIES + 3)],
    )


def test_model_cache_keeps_at_most_its_max_entries_and_drops_the_oldest():
    from ui.shell.cache import MODEL_ENTRIES, cached_model

    configs = tiny_configs(MODEL_ENTRIES + 3)
    assert_bounded(cached_model, MODEL_ENTRIES, [functools.partial(cached_model, c) for c in configs])
    newest = cached_model(configs[-1])
    assert cached_model(configs[-1]) is newest  # still cached: the same shared module
    misses, _ = cache_counters(cached_model)
    cached_model(configs[0])  # the oldest was dropped: built again
    assert cache_counters(cached_model)[0] == misses + 1


def test_result_store_keeps_the_newest_measurements(monkeypatch, tmp_path):
    from explorer.latency.stored import open_store
    from explorer.store import tables as stored

    monkeypatch.setattr(
        stored, "MEASUREMENT_ROWS", 40
    )  # the file's bound (50 000 by default), small enough to reach here
    store = open_store(tmp_path)
    config = ShuffleNetConfig(groups=2, width=0.25, input_size=(32, 32))
    batches = range(1, stored.MEASUREMENT_ROWS + 31)
    for batch in batches:  # the batch is part of the key: each one a new measurement
        store.put(Measurement(config, "torch", 1, batch, summarize([1.0]), 1, 1, None))
    assert len(store.all()) == len(store.rows()) == stored.MEASUREMENT_ROWS
    assert store.get(config, "torch", 1, batches[0]) is None
    assert store.get(config, "torch", 1, batches[-1]) is not None


# --------------------------------------------------------------------------- caches keyed by built models


@pytest.fixture(scope="module")
def app_cache_configs():
    """More distinct configs than the app's profile cache holds (``COUNTS_ENTRIES``): its own keys, no other test's."""
    from ui.shell.cache import COUNTS_ENTRIES

    return tiny_configs(COUNTS_ENTRIES + 3)


@pytest.mark.slow
def test_profile_and_mixing_caches_evict_past_their_bounds(app_cache_configs):
    from ui.mixing.measured import MEASURE_ENTRIES, cached_stage_mixing
    from ui.shell.cache import COUNTS_ENTRIES, cached_counts

    assert len(app_cache_configs) == COUNTS_ENTRIES + 3
    assert_bounded(cached_counts, COUNTS_ENTRIES, [functools.partial(cached_counts, c) for c in app_cache_configs])
    assert_bounded(
        cached_stage_mixing,
        MEASURE_ENTRIES,
        [functools.partial(cached_stage_mixing, c, 2) for c in app_cache_configs[: MEASURE_ENTRIES + 2]],
    )


@pytest.mark.slow
def test_figure_caches_evict_past_their_bounds():
    from explorer.mixing import shuffle_steps
    from ui.figures.mixing import FIGURE_ENTRIES, dependency_heatmap, fraction_figure, shuffle_mapping_figure

    count = FIGURE_ENTRIES + 2
    matrix = np.eye(4, dtype=np.uint8)
    assert_bounded(
        dependency_heatmap,
        FIGURE_ENTRIES,
        [functools.partial(dependency_heatmap, matrix, 2, 2, f"map {i}") for i in range(count)],
    )
    assert_bounded(
        shuffle_mapping_figure,
        FIGURE_ENTRIES,
        [functools.partial(shuffle_mapping_figure, shuffle_steps(2 * i, 2)) for i in range(1, count + 1)],
    )
    series = [
        {"name": "shuffle", "fractions": [0.5, 1.0], "ranges": [(0.5, 0.5), (1, 1)], "groups": 2, "dash": "solid"}
    ]
    assert_bounded(
        fraction_figure,
        FIGURE_ENTRIES,
        [functools.partial(fraction_figure, series, "units", f"fractions {i}") for i in range(count)],
    )


@pytest.mark.slow
def test_page_chart_caches_evict_past_their_bounds():
    from ui.figures import shared

    count = shared.FIGURE_ENTRIES + 2
    macs = {"conv1": 10, "stage2": 20, "stage3": 30, "stage4": 40, "fc": 5}
    assert_bounded(
        shared.stage_figure,
        shared.FIGURE_ENTRIES,
        [functools.partial(shared.stage_figure, macs, 3, f"stages {i}") for i in range(count)],
    )
    assert_bounded(
        shared.sweep_figures,
        shared.FIGURE_ENTRIES,
        [
            functools.partial(
                shared.sweep_figures, (3,), (1.0,), "standard", (224, 224), 3, 1.0, (f"w {i}", "g"), False
            )
            for i in range(count)
        ],
    )
    assert_bounded(
        shared.tradeoff_figure,
        shared.FIGURE_ENTRIES,
        [functools.partial(shared.tradeoff_figure, 100.0 + i, (), False) for i in range(count)],
    )
