"""A session's run of browser measurements: tokens, pieces of the model, results, cancel, the class view.

``DeviceModel`` is plain data, so these tests give the run a small model of known bytes
and reference instead of exporting one, and feed ``handle_report`` what a browser sends.
"""

from __future__ import annotations

import statistics

import pytest

from explorer.devices import served as device
from explorer.devices import summarize
from explorer.devices.reports import RateLimit
from explorer.devices.served import DeviceModel
from explorer.shufflenet import ShuffleNetConfig
from explorer.store import DEVICE_RESULT_ROWS, ClassRow, open_class_view
from ui.latency.device_state import DeviceRun, component_args, handle_report

CONFIGS = [ShuffleNetConfig(groups=3, width=0.5, variant="arch2", input_size=size) for size in ((224, 224), (480, 640))]
REFERENCE = tuple(0.01 * i for i in range(10))


def model_for(config, size: int = 3 * 2**20) -> DeviceModel:
    return DeviceModel(
        config, bytes(range(256)) * (size // 256), f"{hash(config) & 0xFFFF:016x}", device.SEED, REFERENCE, 0.45
    )


def result(token: str, seq: int = 1, outputs=REFERENCE, checksum: float = 0.45, median: float = 12.5) -> dict:
    return {
        "kind": "result",
        "token": token,
        "seq": seq,
        "median_ms": median,
        "iqr_ms": 0.5,
        "runs": 40,
        "warmup_runs": 5,
        "backend": "wasm",
        "simd": True,
        "threads": 1,
        "cross_origin_isolated": False,
        "hardware_concurrency": 4,
        "ua": "Safari 18 on iPhone",
        "outputs": list(outputs),
        "checksum": checksum,
        "session_ms": 80.0,
    }


@pytest.fixture
def store():
    return open_class_view(":memory:")


def limit(per_session: int = 40) -> RateLimit:
    return RateLimit(per_session=per_session, per_session_minute=40, per_minute=1000)


def test_a_run_measures_each_config_in_turn_and_stores_matching_results(store):
    run = DeviceRun()
    run.start("Table 8", CONFIGS)
    first = run.next_job(model_for)
    args, index, piece = component_args(first)
    assert args["token"] == first.token and args["input"] == [1, 3, 224, 224] and args["chunks"] == 1
    assert (index, len(piece)) == (0, 3 * 2**20)  # one piece: sent with the job, no round trip
    handle_report(run, result(first.token), store, limit())
    second = run.next_job(model_for)
    assert second.token != first.token and second.config == CONFIGS[1] and run.done == 1
    handle_report(run, result(second.token, median=50.0), store, limit())
    assert run.next_job(model_for) is None and not run.active
    assert [o.stored for o in run.outcomes] == ["stored in the class view"] * 2
    assert [(r.model, r.input, r.median_ms) for r in store.rows()] == [
        ("ShuffleNet 0.5x arch2 (g=3)", "224x224", 12.5),
        ("ShuffleNet 0.5x arch2 (g=3)", "480x640", 50.0),
    ]


def test_a_rerun_with_the_same_value_is_not_a_second_report(store):
    run = DeviceRun()
    run.start("Your model", CONFIGS[:1])
    job = run.next_job(model_for)
    report = result(job.token)
    for _ in range(5):
        handle_report(run, dict(report), store, limit())
    assert run.done == 1 and len(store.rows()) == 1


def test_large_models_travel_in_pieces_the_browser_asks_for(store, monkeypatch):
    monkeypatch.setenv(device.CHUNK_ENV, "1")
    run = DeviceRun()
    run.start("Your model", CONFIGS[:1])
    job = run.next_job(model_for)
    assert job.model.chunks == 3 and component_args(job)[1:] == (None, None)  # nothing until asked
    pieces = []
    for seq, wanted in enumerate(range(3), start=1):
        handle_report(run, {"kind": "chunk", "token": job.token, "seq": seq, "next": wanted}, store, limit())
        _, index, piece = component_args(job)
        assert index == wanted
        pieces.append(piece)
    assert b"".join(pieces) == job.model.onnx
    handle_report(run, {"kind": "chunk", "token": job.token, "seq": 9, "next": 3}, store, limit())  # no piece 3
    assert run.job is None and "do not exist" in run.outcomes[-1].error and not store.rows()


def test_a_mismatch_is_shown_but_its_time_is_neither_used_nor_stored(store):
    run = DeviceRun()
    run.start("Your model", CONFIGS[:1])
    job = run.next_job(model_for)
    handle_report(run, result(job.token, outputs=(0.5,) * 10), store, limit())
    (outcome,) = run.outcomes
    assert not outcome.parity.ok and not outcome.usable and outcome.result.median_ms == 12.5
    assert outcome.stored == "not stored: the outputs do not match PyTorch" and not store.rows()


def test_reports_for_other_tokens_and_refused_values_change_nothing(store):
    run = DeviceRun()
    run.start("Your model", CONFIGS[:1])
    job = run.next_job(model_for)
    handle_report(run, result("f" * 16), store, limit())  # another job's token
    handle_report(run, result(job.token, median=float("nan")), store, limit())
    assert "median_ms=nan is not allowed" in run.notice
    assert run.job is job and run.done == 0 and not store.rows()


def test_cancel_drops_the_job_and_a_late_result_is_ignored(store):
    run = DeviceRun()
    run.start("Table 8", CONFIGS)
    job = run.next_job(model_for)
    run.cancel()
    assert not run.active and run.cancelled and component_args(run.job) == (None, None, None)
    handle_report(run, result(job.token), store, limit())
    assert not run.outcomes and not store.rows()


def test_the_class_view_off_or_over_its_bound_keeps_nothing_more(store):
    run = DeviceRun()
    run.start("Table 8", CONFIGS)
    handle_report(run, result(run.next_job(model_for).token), None, limit())
    assert run.outcomes[-1].stored == "not stored: the class view is off on this server"
    bound = limit(per_session=0)
    handle_report(run, result(run.next_job(model_for).token), store, bound)
    assert "at most 0 per session" in run.outcomes[-1].stored and not store.rows()


def test_an_export_that_is_refused_is_that_configs_outcome_and_the_queue_goes_on():
    def refuse_first(config):
        if config == CONFIGS[0]:
            raise ValueError("memory estimate 9 GB is over the limit")
        return model_for(config)

    run = DeviceRun()
    run.start("Table 8", CONFIGS)
    assert run.next_job(refuse_first).config == CONFIGS[1]
    assert run.outcomes[0].error == "memory estimate 9 GB is over the limit"


def test_the_class_view_table_is_bounded_and_summarised_by_device():
    store = open_class_view(":memory:")
    rows = [
        ClassRow(f"phone {i % 3}", "ShuffleNet 1x (g=3)", "224x224", float(i), 1000.0 + i)
        for i in range(DEVICE_RESULT_ROWS + 7)
    ]
    for row in rows:
        store.add(row)
    kept = store.rows()
    assert len(kept) == DEVICE_RESULT_ROWS and kept[0] == rows[7]  # the oldest went
    summary = {s.device: s for s in summarize(kept)}
    assert summary["phone 0"].count == len([r for r in kept if r.device == "phone 0"])
    assert summary["phone 1"].median_ms == statistics.median(r.median_ms for r in kept if r.device == "phone 1")
    store.clear()
    assert store.rows() == []


def test_class_view_rows_outlive_the_process_in_the_data_directory(location):
    open_class_view(location).add(ClassRow("Chrome 140 on Android, 8 logical cores", "m", "224x224", 5.0, 1.0))
    assert [r.median_ms for r in open_class_view(location).rows()] == [5.0]
    assert isinstance(location, str) or (location / "explorer.sqlite3").is_file()
