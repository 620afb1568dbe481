"""The cache warm-up (``ui/shell/warmup.py``): once per process, the paper's configs, within the caches' bounds."""

import pytest
from test_cache_bounds import cache_counters

from explorer import PAPER_GROUPS
from explorer import ShuffleNetConfig
from explorer.latency import Measurement
from explorer.latency.timing import summarize
from ui.shell import warmup
from ui.latency.jobs import result_store
from ui.shell.cache import COUNTS_ENTRIES, cached_counts
from ui.figures.mixing import MEASURE_ENTRIES, cached_stage_mixing


def test_the_configs_a_class_meets_first():
    configs = warmup.warm_configs()
    assert len(configs) == len(set(configs)) == 2 * len(PAPER_GROUPS)
    assert configs[0].groups == 3 and configs[0].width == 1.0  # the sidebar's default first
    assert {(c.groups, c.width) for c in configs} == {(g, w) for g in PAPER_GROUPS for w in (0.5, 1.0)}
    assert all(c.input_size == (224, 224) and c.variant == "standard" and c.shuffle for c in configs)
    assert len(configs) <= COUNTS_ENTRIES and 2 * len(configs) <= MEASURE_ENTRIES  # it fits the bounds


def test_turned_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("EXPLORER_WARMUP", "0")
    monkeypatch.setattr(warmup, "_thread", None)
    assert warmup.start() is None


@pytest.mark.slow
def test_warm_up_fills_the_caches_once(monkeypatch):
    """The real thread, run to its end: afterwards every paper config is a cache hit, on both caches, and the
    stored results are decoded."""
    monkeypatch.setenv("EXPLORER_WARMUP", "1")
    monkeypatch.setattr(warmup, "_thread", None)
    cached_counts.clear()
    cached_stage_mixing.clear()
    result_store.clear()  # a new store object, as after a server restart: nothing decoded yet
    store = result_store()
    store.put(Measurement(ShuffleNetConfig(groups=3), "ort", 2, 1, summarize([1.0, 1.1, 1.2]), 1, 1, 1e11))
    assert store.decoded == 0
    thread = warmup.start()
    assert warmup.start() is thread  # once per process
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert result_store() is store and store.decoded >= 1  # the stored results were decoded ahead of any page
    profile_misses, mixing_misses = cache_counters(cached_counts)[0], cache_counters(cached_stage_mixing)[0]
    for config in warmup.warm_configs():
        cached_counts(config)
        cached_stage_mixing(config, warmup.WARM_STAGE)
        cached_stage_mixing(config.with_(shuffle=False), warmup.WARM_STAGE)
    assert cache_counters(cached_counts)[0] == profile_misses  # no new miss: all warm
    assert cache_counters(cached_stage_mixing)[0] == mixing_misses
