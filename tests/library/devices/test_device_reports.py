"""Everything a browser sends is untrusted: each hostile value is refused by name, nothing else gets through.

``parse_report`` is fed what a modified browser could send through Streamlit's websocket
(Python's ``json`` accepts NaN and Infinity, so they arrive as floats), and ``RateLimit``
a flood of results from one and from many sessions.
"""

from __future__ import annotations

import math

import pytest

from explorer.devices.reports import (
    ChunkRequest,
    DeviceError,
    DeviceResult,
    RateLimit,
    ReportRefused,
    parse_report,
)

TOKEN = "0123456789abcdef"


def good_result(**changes) -> dict:
    report = {
        "kind": "result",
        "token": TOKEN,
        "seq": 3,
        "median_ms": 4.2,
        "iqr_ms": 0.3,
        "runs": 120,
        "warmup_runs": 12,
        "backend": "wasm",
        "simd": True,
        "threads": 1,
        "cross_origin_isolated": False,
        "hardware_concurrency": 8,
        "ua": "Chrome 140 on Android ARM64",
        "outputs": [0.01 * i for i in range(10)],
        "checksum": -0.17,
        "session_ms": 150.0,
    }
    report.update(changes)
    return report


def test_a_good_result_parses_into_typed_fields():
    result = parse_report(good_result())
    assert isinstance(result, DeviceResult)
    assert result.median_ms == 4.2 and result.runs == 120 and result.outputs[1] == 0.01
    assert result.device == "Chrome 140 on Android ARM64, 8 logical cores"
    assert "1 thread (not cross-origin isolated)" in result.runtime
    assert parse_report(good_result(hardware_concurrency=None)).device.endswith("cores unknown")


def test_chunk_requests_and_errors_parse():
    assert parse_report({"kind": "chunk", "token": TOKEN, "seq": 1, "next": 2}) == ChunkRequest(TOKEN, 1, 2)
    error = parse_report({"kind": "error", "token": TOKEN, "seq": 2, "stage": "session", "reason": "out\x00of memory"})
    assert error == DeviceError(TOKEN, 2, "session", "out of memory")  # control characters become spaces


HUGE_TEXT = "x" * 10_000_000
HOSTILE = {
    "NaN median": (good_result(median_ms=math.nan), "median_ms"),
    "infinite median": (good_result(median_ms=math.inf), "median_ms"),
    "1e308 median": (good_result(median_ms=1e308), "median_ms"),
    "zero median": (good_result(median_ms=0), "median_ms"),
    "negative IQR": (good_result(iqr_ms=-1.0), "iqr_ms"),
    "median as text": (good_result(median_ms="4.2"), "median_ms"),
    "median as bool": (good_result(median_ms=True), "median_ms"),
    "runs as float": (good_result(runs=12.5), "runs"),
    "runs as bool": (good_result(runs=True), "runs"),
    "runs huge": (good_result(runs=10**400), "runs"),
    "threads zero": (good_result(threads=0), "threads"),
    "cores 1e308": (good_result(hardware_concurrency=1e308), "hardware_concurrency"),
    "backend webgpu": (good_result(backend="webgpu"), "backend"),
    "simd as string": (good_result(simd="yes"), "simd"),
    "isolated as int": (good_result(cross_origin_isolated=1), "cross_origin_isolated"),
    "huge ua": (good_result(ua=HUGE_TEXT), "ua"),
    "markup ua": (good_result(ua="<img src=x onerror=alert(1)>"), "ua"),
    "markdown ua": (good_result(ua="![x](http://evil.example/x.png)"), "ua"),
    "empty ua": (good_result(ua=""), "ua"),
    "ua as list": (good_result(ua=["Chrome"]), "ua"),
    "huge outputs": (good_result(outputs=[0.0] * 1_000_000), "outputs"),
    "nine outputs": (good_result(outputs=[0.0] * 9), "outputs"),
    "NaN output": (good_result(outputs=[0.0] * 9 + [math.nan]), "outputs[]"),
    "1e308 output": (good_result(outputs=[1e308] + [0.0] * 9), "outputs[]"),
    "text output": (good_result(outputs=["0"] * 10), "outputs[]"),
    "nested output": (good_result(outputs=[[0.0]] * 10), "outputs[]"),
    "outputs as dict": (good_result(outputs={str(i): 0.0 for i in range(10)}), "outputs"),
    "NaN checksum": (good_result(checksum=math.nan), "checksum"),
    "1e308 session": (good_result(session_ms=1e308), "session_ms"),
    "bad token": (good_result(token="'; DROP TABLE device_results; --"), "token"),
    "huge token": (good_result(token=HUGE_TEXT), "token"),
    "seq zero": (good_result(seq=0), "seq"),
    "seq as text": (good_result(seq="1"), "seq"),
    "unknown field": (good_result(__class__="os.system"), "field"),
    "missing field": ({k: v for k, v in good_result().items() if k != "outputs"}, "outputs"),
    "unknown kind": (good_result(kind="eval"), "kind"),
    "no kind": ({k: v for k, v in good_result().items() if k != "kind"}, "kind"),
    "many keys": ({**good_result(), **{f"k{i}": i for i in range(1000)}}, "report keys"),
    "huge key": ({**good_result(), "k" * 100_000: 1}, "report keys"),
    "not a dict": ([good_result()], "report"),
    "a string": ("__import__('os').system('true')", "report"),
    "a number": (1e308, "report"),
    "chunk out of range": ({"kind": "chunk", "token": TOKEN, "seq": 1, "next": 10**9}, "next"),
    "negative chunk": ({"kind": "chunk", "token": TOKEN, "seq": 1, "next": -1}, "next"),
    "huge reason": ({"kind": "error", "token": TOKEN, "seq": 1, "stage": "run", "reason": HUGE_TEXT}, "reason"),
    "unknown stage": ({"kind": "error", "token": TOKEN, "seq": 1, "stage": "shell", "reason": "x"}, "stage"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_values_are_refused_naming_the_field_in_a_short_message(name):
    raw, field = HOSTILE[name]
    with pytest.raises(ReportRefused) as refused:
        parse_report(raw)
    message = str(refused.value)
    assert message.startswith(f"{field}=") and "is not allowed" in message, message
    assert len(message) < 250, message  # a 10 MB value is shown cut, never whole


def test_a_flood_from_one_session_stops_at_the_per_minute_then_the_per_session_bound():
    now = [0.0]
    limit = RateLimit(per_session=5, per_session_minute=3, per_minute=100, clock=lambda: now[0])
    answers = [limit.take("a") for _ in range(50)]
    assert answers[:3] == [None] * 3 and all("per session and minute" in a for a in answers[3:])
    now[0] += 61
    assert [limit.take("a") for _ in range(3)][:2] == [None, None]  # two more: five in all
    assert "at most 5 per session" in limit.take("a")
    now[0] += 3600
    assert "at most 5 per session" in limit.take("a")  # a session's bound does not reset


def test_a_flood_from_many_sessions_stops_at_the_server_bound():
    now = [0.0]
    limit = RateLimit(per_session=5, per_session_minute=3, per_minute=10, clock=lambda: now[0])
    answers = [limit.take(f"session {i}") for i in range(1000)]
    assert answers.count(None) == 10
    assert all("per minute" in a for a in answers[10:])
    now[0] += 60
    assert limit.take("session 999") is None


def test_the_rate_limit_forgets_the_oldest_sessions_beyond_its_bound():
    limit = RateLimit(per_session=1, per_session_minute=1, per_minute=10**9)
    limit.SESSIONS = 10
    for i in range(100):
        assert limit.take(f"s{i}") is None
    assert len(limit._sessions) == 10
