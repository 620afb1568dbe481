"""The Latency page's "On your device" section through AppTest, fed what a browser's component returns.

AppTest renders a v1 custom component as an element whose arguments can be read
(``component_instance``) but does not run its JavaScript; the value a browser would send
back is set where Streamlit puts it, ``at.session_state["dev_component"]``, and the page
then runs exactly as after a real report. Correct outputs come from the library's own
reference (what a browser computing the model returns); hostile ones from
``test_device_reports.HOSTILE``. The real component runs in ``test_browser_device.py``.
"""

from __future__ import annotations

import json

import pytest
from conftest import assert_clean, open_app
from test_device_reports import HOSTILE

import ui.latency.device
import ui.latency.device_component
from explorer.devices.served import device_model

PAGE = "pages/4_Latency.py"
ARCH2 = {"groups": "3", "width": "0.5", "variant": "arch2", "input": "224x224"}  # Table 8's first row
SMALL = {"groups": "3", "width": "0.25", "input": "64x64"}  # exports in about a second


@pytest.fixture(autouse=True)
def empty_class_view():
    ui.latency.device.class_view_store().clear()
    yield
    ui.latency.device.class_view_store().clear()
    ui.latency.device.rate_limit.clear()


def stored() -> int:
    return len(ui.latency.device.class_view_store().rows())


def press(at, key: str = "dev_measure"):
    at.button(key=key).click().run()
    assert_clean(at)
    return at.session_state["dev_run"]


def browser_result(at, **changes) -> dict:
    """What a browser that computed the current job's model returns."""
    job = at.session_state["dev_run"].job
    model = device_model(job.config)
    report = {
        "kind": "result",
        "token": job.token,
        "seq": 7,
        "median_ms": 9.5,
        "iqr_ms": 0.4,
        "runs": 60,
        "warmup_runs": 6,
        "backend": "wasm",
        "simd": True,
        "threads": 1,
        "cross_origin_isolated": False,
        "hardware_concurrency": 8,
        "ua": "Chrome 140 on Android ARM64",
        "outputs": list(model.reference),
        "checksum": model.checksum,
        "session_ms": 120.0,
    }
    report.update(changes)
    return report


def send(at, value) -> None:
    at.session_state["dev_component"] = value
    at.run()


def device_table(at) -> list[dict]:
    frames = [d.value for d in at.dataframe if ui.latency.device.DEVICE_COLUMN in d.value.columns]
    return frames[0].to_dict("records") if frames else []


def class_table(at) -> list[dict]:
    frames = [d.value for d in at.dataframe if "Median of medians (ms)" in d.value.columns]
    return frames[0].to_dict("records") if frames else []


def component_args(at) -> dict:
    (element,) = at.get("component_instance")
    args = {k: v for k, v in json.loads(element.proto.json_args).items() if k not in ("key", "default")}
    args["bytes"] = {special.key: len(special.bytes) for special in element.proto.special_args}
    return args


def test_the_section_is_ready_labelled_and_sends_nothing_until_asked():
    at = open_app(PAGE, SMALL)
    assert_clean(at)
    assert "On your device" in [h.value for h in at.header]
    assert [b.label for b in at.button if b.key.startswith("dev_")] == [
        "Measure on this device",
        "Table 8 on this device",
        "Cancel",
    ]
    assert at.button(key="dev_cancel").disabled
    assert "244 MB" in at.checkbox(key="dev_alexnet").label
    assert any("reported by visitors' browsers" in s.value for s in at.subheader)
    assert component_args(at) == {
        "job": None,
        "chunk_index": None,
        "model_chunk": None,
        "ort_version": ui.latency.device_component.installed_version() or "",
        "bytes": {},
    }


@pytest.fixture
def server_results():
    """The process-wide result store, emptied afterwards (other tests expect no stored measurement)."""
    from ui.latency.jobs import result_store

    yield result_store()
    result_store().clear()


def test_a_result_fills_the_row_beside_the_server_and_the_paper(server_results):
    at = open_app(PAGE, ARCH2)
    at.select_slider(key="lat_min_time").set_value(0.02)
    at.multiselect(key="lat_backends").set_value(["ort"])
    at.button(key="lat_measure").click().run()  # a real server measurement of the same model
    run = press(at)
    args = component_args(at)
    assert args["job"]["token"] == run.job.token and args["job"]["input"] == [1, 3, 224, 224]
    assert args["chunk_index"] == 0 and args["bytes"] == {"model_chunk": len(run.job.model.onnx)}
    assert not at.button(key="dev_cancel").disabled
    send(at, browser_result(at))
    assert_clean(at)
    (row,) = device_table(at)
    assert row[ui.latency.device.DEVICE_COLUMN] == 9.5 and row["Outputs vs PyTorch"].startswith("matches")
    assert row[ui.latency.device.PAPER_COLUMN] == 15.2 and row["Speedup vs the paper (×)"] == pytest.approx(15.2 / 9.5)
    assert row[ui.latency.device.SERVER_COLUMN] > 0 and row["Server backend"].startswith("ONNX Runtime FP32")
    assert row["Class view"] == "stored in the class view" and stored() == 1
    (group,) = class_table(at)
    assert group["Device (reported by the browser)"] == "Chrome 140 on Android ARM64, 8 logical cores"
    assert group["Results"] == 1 and group["Median of medians (ms)"] == 9.5
    assert component_args(at)["job"] is None  # finished: the component is idle again


def test_a_parity_mismatch_is_shown_and_its_time_not_used():
    at = open_app(PAGE, SMALL)
    press(at)
    send(at, browser_result(at, outputs=[0.5] * 10))
    assert_clean(at)
    (row,) = device_table(at)
    assert row["Outputs vs PyTorch"].startswith("MISMATCH, timing not used")
    assert row[ui.latency.device.DEVICE_COLUMN] is None and row["Speedup vs the paper (×)"] is None
    assert stored() == 0


@pytest.mark.parametrize(
    "names",
    [
        (
            "NaN median",
            "1e308 median",
            "huge ua",
            "huge outputs",
            "markdown ua",
            "median as text",
            "runs as bool",
            "unknown field",
            "not a dict",
            "bad token",
        )
    ],
)
def test_hostile_values_are_refused_nothing_is_stored_and_the_page_keeps_working(names):
    at = open_app(PAGE, SMALL)
    run = press(at)
    token = run.job.token
    for name in names:
        raw, field = HOSTILE[name]
        send(at, {**raw, "token": token} if isinstance(raw, dict) and name != "bad token" else raw)
        assert_clean(at)
        (warning,) = [w.value for w in at.warning if "refused" in w.value]
        assert field.split("[")[0] in warning.replace("\\", ""), (name, warning)
        assert "![" not in warning and "<img" not in warning  # shown escaped
        assert stored() == 0 and at.session_state["dev_run"].job.token == token  # still waiting for a real one
    send(at, browser_result(at))  # the page still takes the real result
    assert device_table(at)[0]["Outputs vs PyTorch"].startswith("matches") and stored() == 1


def test_values_that_are_not_json_are_refused_too():
    """A modified browser can send bytes or an Arrow table instead of JSON; Streamlit decodes the latter itself."""
    from streamlit.proto.Components_pb2 import ArrowTable

    at = open_app(PAGE, SMALL)
    press(at)
    for value in (b"\x00" * 1000, ArrowTable(data=b"not arrow", index=b"\xff", columns=b"")):
        send(at, value)
        assert not at.exception, [e.value for e in at.exception]
        assert any("refused" in w.value or "could not be read" in w.value for w in at.warning)
        assert stored() == 0 and at.session_state["dev_run"].job is not None
    send(at, browser_result(at))
    assert device_table(at)[0]["Outputs vs PyTorch"].startswith("matches")


def test_a_flood_of_results_stores_at_most_the_bounds(monkeypatch):
    monkeypatch.setattr(
        ui.latency.device, "RATE_LIMITS", {"per_session": 3, "per_session_minute": 2, "per_minute": 100}
    )
    ui.latency.device.rate_limit.clear()
    at = open_app(PAGE, SMALL)
    answers = []
    for _ in range(4):
        press(at)
        send(at, browser_result(at))
        answers.append(device_table(at)[0]["Class view"])
    assert answers[:2] == ["stored in the class view"] * 2
    assert all("at most 2 results per session and minute" in a for a in answers[2:]) and stored() == 2
    finished = at.session_state["dev_run"].outcomes[-1].result.token
    for seq in range(100, 130):  # replays of a finished job and made-up tokens: no job of this session
        send(at, browser_result_for_no_job(finished if seq % 2 else f"{seq:016x}", seq))
    assert_clean(at)
    assert stored() == 2 and device_table(at)[0]["Class view"] == answers[-1]  # nothing replaced the last result


def browser_result_for_no_job(token: str, seq: int) -> dict:
    return {
        "kind": "result",
        "token": token,
        "seq": seq,
        "median_ms": 1.0,
        "iqr_ms": 0.1,
        "runs": 5,
        "warmup_runs": 1,
        "backend": "wasm",
        "simd": True,
        "threads": 1,
        "cross_origin_isolated": False,
        "hardware_concurrency": 2,
        "ua": "Chrome 140 on Linux",
        "outputs": [0.0] * 10,
        "checksum": 0.0,
        "session_ms": 1.0,
    }


def test_table8_on_this_device_queues_alexnet_only_after_the_confirmation_and_cancels():
    at = open_app(PAGE, SMALL)
    at.multiselect(key="dev_inputs").set_value(["224×224"]).run()
    run = press(at, "dev_table8")
    assert run.total == 2 and [c.label for c in [run.job.config, *run.queue]] == [
        "ShuffleNet 0.5x arch2 (g=3)",
        "ShuffleNet 1x (g=3)",
    ]
    assert any("Table 8 on your device: 0 of 2 done" in p.proto.text for p in at.get("progress"))
    run = press(at, "dev_cancel")
    assert not run.active and any("cancelled after 0 of 2" in i.value for i in at.info)
    at.checkbox(key="dev_alexnet").check().run()
    run = press(at, "dev_table8")
    assert run.total == 3 and run.queue[-1].label == "AlexNet"
    press(at, "dev_cancel")


def test_without_onnxruntime_web_the_section_says_how_to_enable_it(monkeypatch, tmp_path):
    monkeypatch.setattr(ui.latency.device_component, "COMPONENT_DIR", tmp_path)  # an empty folder: npm never ran
    at = open_app(PAGE, SMALL)
    assert_clean(at)
    assert any("scripts/install-ort-web.sh" in i.value and "npm" in i.value for i in at.info)
    assert at.button(key="dev_measure").disabled and at.button(key="dev_table8").disabled
    assert not at.get("component_instance")


def test_the_class_view_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("EXPLORER_CLASS_VIEW", "off")
    at = open_app(PAGE, SMALL)
    assert any("class view is off on this server" in c.value for c in at.caption)
    press(at)
    send(at, browser_result(at))
    assert device_table(at)[0]["Class view"] == "not stored: the class view is off on this server" and stored() == 0
    monkeypatch.setenv("EXPLORER_CLASS_VIEW", "<maybe>")
    at.run()
    (error,) = [e.value.replace("\\", "") for e in at.error]
    assert "EXPLORER_CLASS_VIEW='<maybe>' is not allowed" in error and "must be on or off" in error
