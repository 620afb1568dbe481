"""How fast it runs here: CPU latency of any model the explorer builds, measured on this machine, and the paper's Table 8.

``backends`` names the runtimes and their faults, ``runner`` measures (one loop for the
CLI, the pages and background jobs), ``timing`` is the harness, ``results`` what a
measurement yields, ``stored`` how measurements are kept in ``explorer.store``,
``threads`` the thread and batch limits, ``roofline`` the GEMM peak a latency is
compared with, ``export`` the ONNX files, ``openvino`` the OpenVINO runtime,
``kernel_profile`` where the time goes, ``verdict`` why a speedup differs from the
multiply-add ratio, and ``table8`` the paper's Table 8 on this machine. Nothing here
imports ``sizing`` or ``devices``: they build on it.
"""

from .backends import (
    BACKENDS,
    DEFAULT_BACKENDS,
    FAILURE_STAGES,
    FP32_PARITY_TOLERANCE,
    TABLE8_BACKENDS,
    Backend,
    BackendFailed,
    BackendFailure,
    ParityMismatch,
    available_backends,
    default_backends,
    one_line,
    parity,
    parse_backends,
    unavailable_reason,
)
from .kernel_profile import KernelProfile, ProfileRow
from .results import Measurement, Results, fastest, model_key
from .roofline import machine_dict
from .runner import LatencyRunner, counted, measure
from .stored import ResultStore, measurement_row, open_store
from .table8 import (
    ALEXNET_DEFINITION,
    REFERENCE_MODELS,
    backend_speedups,
    best_speedup,
    explain,
    summary,
    table8_jobs,
    table8_records,
    to_profile,
    verdict_configs,
)
from .threads import MAX_BATCH, MAX_THREADS, check_threads, default_threads
from .timing import Cancelled, Timing, flags_text, measurement_lock
