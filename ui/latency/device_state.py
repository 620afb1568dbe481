"""One session's "on this device" run: which models are queued, what the browser was asked, what it reported.

Streamlit-free state, kept in ``st.session_state`` by ``ui.latency.device``. A run is a queue of
configs; each becomes a ``DeviceJob`` with a fresh random token that the component must
echo. ``handle_report`` takes the component's last value (untrusted: validated by
``explorer.devices.reports.parse_report``) and acts only on a report for the job in
progress, once per sequence number: a chunk request selects the piece of the ONNX file the
next render carries, an error or a result finishes the job. A result whose outputs do not
match PyTorch is shown as a mismatch and its timing is neither shown as a latency nor
stored; one that matches is kept for this session and, within the ``RateLimit``, in the
class view. Every refused report is logged and said once on the page; nothing is stored.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.devices.reports import (
    ChunkRequest,
    DeviceError,
    DeviceResult,
    RateLimit,
    ReportRefused,
    parse_report,
)
from explorer.devices.served import DeviceModel, Parity, check_parity, chunk
from explorer.shufflenet import ModelConfig
from explorer.store import ClassRow, ClassViewStore

log = logging.getLogger("explorer.device")

BUDGET_S = 1.0  # seconds of timed runs in the browser, after WARMUP_S of warm-up
WARMUP_S = 0.5
MIN_RUNS = 5  # 3 when one run takes more than a second
OUTCOMES = 60  # results kept per session (the oldest go first)


def size_text(config: ModelConfig) -> str:
    return f"{config.input_size[0]}x{config.input_size[1]}"


@dataclass
class DeviceJob:
    """One model the browser is asked to measure."""

    token: str
    config: ModelConfig
    index: int
    total: int
    model: DeviceModel
    send_chunk: int | None  # the piece of the ONNX file renders carry (None: wait for the browser to ask)
    last_seq: int = 0
    chunk_requests: int = 0

    def args(self) -> dict:
        return {
            "token": self.token,
            "label": f"{self.config.label} at {size_text(self.config)}",
            "index": self.index,
            "total": self.total,
            "input": list(self.model.input_shape),
            "seed": self.model.seed,
            "budget_s": BUDGET_S,
            "warmup_s": WARMUP_S,
            "min_runs": MIN_RUNS,
            "model_key": self.model.digest,
            "chunks": self.model.chunks,
        }


@dataclass
class DeviceOutcome:
    """What became of one model: a result (with its parity), or the browser's or server's error."""

    config: ModelConfig
    result: DeviceResult | None = None
    parity: Parity | None = None
    error: str = ""
    stored: str = ""  # "stored in the class view", or why not

    @property
    def usable(self) -> bool:
        """A timing that may be shown and compared: the browser computed this very model."""
        return self.result is not None and self.parity is not None and self.parity.ok


@dataclass
class DeviceRun:
    """A session's queue, current job and results."""

    session_id: str = field(default_factory=lambda: secrets.token_hex(8))
    name: str = ""
    queue: list = field(default_factory=list)
    total: int = 0
    done: int = 0
    job: DeviceJob | None = None
    outcomes: list = field(default_factory=list)
    notice: str = ""  # why the last refused report was refused (shown once)
    last_raw: object = None  # the last component value handled
    cancelled: bool = False

    @property
    def active(self) -> bool:
        return self.job is not None or bool(self.queue)

    def start(self, name: str, configs: list[ModelConfig]) -> None:
        self.name, self.queue, self.total, self.done, self.job, self.cancelled = (
            name,
            list(configs),
            len(configs),
            0,
            None,
            False,
        )

    def cancel(self) -> None:
        if self.active:
            self.cancelled = True
        self.queue, self.job = [], None

    def record(self, outcome: DeviceOutcome) -> None:
        self.outcomes = [o for o in self.outcomes if o.config != outcome.config][-(OUTCOMES - 1) :] + [outcome]
        self.done += 1
        self.job = None

    def next_job(self, get_model: Callable[[ModelConfig], DeviceModel]) -> DeviceJob | None:
        """The job in progress, or the next queued config exported and made a job (an export refused or
        failed is recorded as that config's outcome and the queue goes on)."""
        while self.job is None and self.queue:
            config = self.queue.pop(0)
            try:
                model = get_model(config)
                first = 0 if model.chunks == 1 else None  # one piece: sent at once; more: when asked
            except ValueError as error:  # refused: the memory estimate, or a bad EXPLORER_DEVICE_CHUNK_MB
                self.record(DeviceOutcome(config, error=str(error)))
                continue
            except Exception as error:  # an export fault: said on the page, traceback in the server log
                log.exception("ONNX export for the browser failed: %s", config.label)
                self.record(DeviceOutcome(config, error=f"the ONNX export failed: {type(error).__name__}: {error}"))
                continue
            self.job = DeviceJob(secrets.token_hex(8), config, self.done, self.total, model, first)
        return self.job


def handle_report(run: DeviceRun, raw: object, class_view: ClassViewStore | None, limit: RateLimit) -> None:
    """Act on the component's last value (see the module docstring); never raises on what a browser sends."""
    if raw is None or raw == run.last_raw:
        return  # nothing sent yet, or the value this session already handled (a rerun, not a new report)
    run.last_raw = raw
    try:
        report = parse_report(raw)
    except ReportRefused as refused:
        log.warning("browser report refused: %s", refused)
        run.notice = f"A report from your browser was refused and not used: {refused}"
        return
    job = run.job
    if job is None or report.token != job.token or report.seq <= job.last_seq:
        log.info("browser report for no job in progress (kind %s): ignored", type(report).__name__)
        return
    job.last_seq = report.seq
    if isinstance(report, ChunkRequest):
        job.chunk_requests += 1
        if report.next >= job.model.chunks or job.chunk_requests > 2 * job.model.chunks + 2:
            log.warning(
                "browser asked for piece %d of %d (request %d): job stopped",
                report.next,
                job.model.chunks,
                job.chunk_requests,
            )
            run.notice = f"the browser asked for piece {report.next} of a {job.model.chunks}-piece model: stopped"
            run.record(DeviceOutcome(job.config, error="the browser asked for pieces of the model that do not exist"))
        else:
            job.send_chunk = report.next
        return
    if isinstance(report, DeviceError):
        run.record(DeviceOutcome(job.config, error=f"in the browser ({report.stage}): {report.reason}"))
        return
    run.record(_finished(run, job, report, class_view, limit))


def _finished(
    run: DeviceRun, job: DeviceJob, result: DeviceResult, class_view: ClassViewStore | None, limit: RateLimit
) -> DeviceOutcome:
    parity = check_parity(job.model, result.outputs, result.checksum)
    outcome = DeviceOutcome(job.config, result, parity)
    if not parity.ok:
        log.warning("browser result for %s does not match PyTorch (%s): not used", job.config.label, parity.describe())
        outcome.stored = "not stored: the outputs do not match PyTorch"
    elif class_view is None:
        outcome.stored = "not stored: the class view is off on this server"
    elif (reason := limit.take(run.session_id)) is not None:
        log.info("browser result not stored in the class view: %s", reason)
        outcome.stored = f"not stored: {reason}"
    else:
        class_view.add(ClassRow(result.device, job.config.label, size_text(job.config), result.median_ms, time.time()))
        outcome.stored = "stored in the class view"
    return outcome


def component_args(job: DeviceJob | None) -> tuple[dict | None, int | None, bytes | None]:
    """What the component is rendered with: the job, and the piece of its ONNX file to carry (if any)."""
    if job is None:
        return None, None, None
    if job.send_chunk is None:
        return job.args(), None, None
    return job.args(), job.send_chunk, chunk(job.model, job.send_chunk)
