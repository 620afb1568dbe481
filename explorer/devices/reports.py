"""What a visitor's browser reports back, validated: everything from the browser is untrusted input.

The "on this device" component returns one JSON value per message. ``parse_report`` turns
it into a ``DeviceResult``, ``ChunkRequest`` or ``DeviceError`` only if every field is
what the component sends: the right type (an int is not a bool, a number is finite), in
range, strings short and of a plain character set, lists of the exact length, no unknown
key. Anything else raises ``ReportRefused`` (a ``ValueError`` whose message names the
field, shows the value cut to ``SHOWN_CHARS`` and says what is allowed); the caller drops
and logs it. Nothing received is ever evaluated, formatted as markup or used as a path.

``RateLimit`` bounds what one server keeps from browsers: at most ``per_session`` rows per
session, ``per_session_minute`` per session and minute, and ``per_minute`` for the whole
server per minute.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from ..checks import is_integer, refusal
from .served import OUTPUTS_CHECKED

SHOWN_CHARS = 40
MAX_KEYS = 24
TOKEN = re.compile(r"[0-9a-f]{16}")
UA_SUMMARY = re.compile(r"[A-Za-z0-9 .,;:()/_+-]{1,80}")
MAX_MS = 3_600_000.0  # one hour: no single run takes longer
MAX_RUNS = 1_000_000
MAX_THREADS = 256
MAX_CORES = 1024
MAX_SEQ = 10**9
MAX_CHUNKS = 1000
MAX_OUTPUT = 1e6
MAX_CHECKSUM = 1e9
REASON_CHARS = 300
REPORT_STAGES = ("load", "session", "run")
BACKENDS = ("wasm",)

COMMON = {"kind", "token", "seq"}
RESULT_FIELDS = {
    "median_ms",
    "iqr_ms",
    "runs",
    "warmup_runs",
    "backend",
    "simd",
    "threads",
    "cross_origin_isolated",
    "hardware_concurrency",
    "ua",
    "outputs",
    "checksum",
    "session_ms",
}
FIELDS = {"result": COMMON | RESULT_FIELDS, "chunk": COMMON | {"next"}, "error": COMMON | {"stage", "reason"}}


class ReportRefused(ValueError):
    """A browser's value that does not validate; the message says which field and why."""


class _Cut:
    """A value shown in a refusal: its repr cut to SHOWN_CHARS (a refused string may be megabytes long)."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        if isinstance(self.value, (str, bytes, list, dict, tuple)) and len(self.value) > 4 * SHOWN_CHARS:
            text = f"<{type(self.value).__name__} of length {len(self.value)}>"
        else:
            text = repr(self.value)
        return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _refused(name: str, value: object, allowed: str) -> ReportRefused:
    return ReportRefused(str(refusal(name, _Cut(value), allowed)))


def _number(raw: dict, name: str, low: float, high: float, *, above_low: bool = False) -> float:
    value = raw[name]
    allowed = f"a finite number {'above' if above_low else 'from'} {low:g} up to {high:g}"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
        or (above_low and value == low)
    ):
        raise _refused(name, value, allowed)
    return float(value)


def _integer(raw: dict, name: str, low: int, high: int) -> int:
    value = raw[name]
    if not is_integer(value) or not low <= value <= high:
        raise _refused(name, value, f"an integer from {low} to {high}")
    return int(value)


def _flag(raw: dict, name: str) -> bool:
    if not isinstance(raw[name], bool):
        raise _refused(name, raw[name], "true or false")
    return raw[name]


def _choice(raw: dict, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(raw[name], str) or raw[name] not in choices:
        raise _refused(name, raw[name], "one of " + ", ".join(choices))
    return raw[name]


def _matching(raw: dict, name: str, pattern: re.Pattern, allowed: str) -> str:
    value = raw[name]
    if not isinstance(value, str) or len(value) > 200 or not pattern.fullmatch(value):
        raise _refused(name, value, allowed)
    return value


@dataclass(frozen=True)
class DeviceResult:
    """One timed model in a browser, as reported (validated, not yet checked against PyTorch)."""

    token: str
    seq: int
    median_ms: float
    iqr_ms: float
    runs: int
    warmup_runs: int
    backend: str
    simd: bool
    threads: int
    cross_origin_isolated: bool
    hardware_concurrency: int | None
    ua: str
    outputs: tuple[float, ...]
    checksum: float
    session_ms: float

    @property
    def device(self) -> str:
        """The device summary the class view groups by: browser, OS and logical cores."""
        cores = "cores unknown" if self.hardware_concurrency is None else f"{self.hardware_concurrency} logical cores"
        return f"{self.ua}, {cores}"

    @property
    def runtime(self) -> str:
        isolation = "cross-origin isolated" if self.cross_origin_isolated else "not cross-origin isolated"
        return (
            f"ONNX Runtime Web, WebAssembly{' SIMD' if self.simd else ''}, {self.threads} "
            f"thread{'s' if self.threads != 1 else ''} ({isolation})"
        )


@dataclass(frozen=True)
class ChunkRequest:
    """The browser asks for piece ``next`` of the model's ONNX file."""

    token: str
    seq: int
    next: int


@dataclass(frozen=True)
class DeviceError:
    """The browser could not load the runtime, create the session or run the model."""

    token: str
    seq: int
    stage: str
    reason: str


Report = DeviceResult | ChunkRequest | DeviceError


def parse_report(raw: object) -> Report:
    """Validate a value the component returned; ``ReportRefused`` names the first field that does not."""
    if not isinstance(raw, dict):
        raise _refused("report", raw, "a JSON object")
    if len(raw) > MAX_KEYS or not all(isinstance(key, str) and len(key) <= 32 for key in raw):
        raise _refused("report keys", list(raw)[:5], f"at most {MAX_KEYS} short field names")
    kind = _choice(raw, "kind", tuple(FIELDS)) if "kind" in raw else None
    if kind is None:
        raise _refused("kind", None, "one of " + ", ".join(FIELDS))
    unknown, missing = set(raw) - FIELDS[kind], FIELDS[kind] - set(raw)
    if unknown:
        raise _refused("field", min(unknown), f"one of the fields of a {kind!r} report")
    if missing:
        raise _refused(min(missing), None, f"present in a {kind!r} report")
    token = _matching(raw, "token", TOKEN, "16 lowercase hex digits")
    seq = _integer(raw, "seq", 1, MAX_SEQ)
    if kind == "chunk":
        return ChunkRequest(token, seq, _integer(raw, "next", 0, MAX_CHUNKS - 1))
    if kind == "error":
        reason = raw["reason"]
        if not isinstance(reason, str) or len(reason) > REASON_CHARS:
            raise _refused("reason", reason, f"a string of at most {REASON_CHARS} characters")
        return DeviceError(
            token, seq, _choice(raw, "stage", REPORT_STAGES), "".join(c if c.isprintable() else " " for c in reason)
        )
    return _result(raw, token, seq)


def _result(raw: dict, token: str, seq: int) -> DeviceResult:
    outputs = raw["outputs"]
    if not isinstance(outputs, list) or len(outputs) != OUTPUTS_CHECKED:
        raise _refused("outputs", outputs, f"a list of exactly {OUTPUTS_CHECKED} numbers")
    values = tuple(_number({"outputs[]": v}, "outputs[]", -MAX_OUTPUT, MAX_OUTPUT) for v in outputs)
    cores = raw["hardware_concurrency"]
    return DeviceResult(
        token=token,
        seq=seq,
        median_ms=_number(raw, "median_ms", 0, MAX_MS, above_low=True),
        iqr_ms=_number(raw, "iqr_ms", 0, MAX_MS),
        runs=_integer(raw, "runs", 1, MAX_RUNS),
        warmup_runs=_integer(raw, "warmup_runs", 0, MAX_RUNS),
        backend=_choice(raw, "backend", BACKENDS),
        simd=_flag(raw, "simd"),
        threads=_integer(raw, "threads", 1, MAX_THREADS),
        cross_origin_isolated=_flag(raw, "cross_origin_isolated"),
        hardware_concurrency=None if cores is None else _integer(raw, "hardware_concurrency", 1, MAX_CORES),
        ua=_matching(raw, "ua", UA_SUMMARY, "1-80 letters, digits, spaces and .,;:()/_+-"),
        outputs=values,
        checksum=_number(raw, "checksum", -MAX_CHECKSUM, MAX_CHECKSUM),
        session_ms=_number(raw, "session_ms", 0, MAX_MS),
    )


class RateLimit:
    """How many browser results one server keeps: per session, per session and minute, per minute (thread-safe)."""

    SESSIONS = 10_000  # sessions remembered (oldest forgotten first)

    def __init__(
        self, per_session: int, per_session_minute: int, per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_session, self.per_session_minute, self.per_minute = per_session, per_session_minute, per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, tuple[int, deque]] = OrderedDict()
        self._recent: deque = deque()

    def take(self, session: str) -> str | None:
        """Count one row for ``session`` if every bound allows it: None, else why not (nothing counted)."""
        now = self._clock()
        with self._lock:
            while self._recent and now - self._recent[0] >= 60:
                self._recent.popleft()
            total, times = self._sessions.get(session, (0, deque()))
            while times and now - times[0] >= 60:
                times.popleft()
            if total >= self.per_session:
                return f"this session already stored {total} results (at most {self.per_session} per session)"
            if len(times) >= self.per_session_minute:
                return f"at most {self.per_session_minute} results per session and minute"
            if len(self._recent) >= self.per_minute:
                return f"this server stores at most {self.per_minute} browser results per minute"
            times.append(now)
            self._recent.append(now)
            self._sessions[session] = (total + 1, times)
            self._sessions.move_to_end(session)
            while len(self._sessions) > self.SESSIONS:
                self._sessions.popitem(last=False)
            return None
