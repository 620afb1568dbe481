"""How fast it runs in visitors' browsers: the server side of measuring with ONNX Runtime Web.

``served`` is what a visitor's browser is sent and checked against (the ONNX bytes, the
seeded input, the parity check), ``reports`` what it sends back, validated, and
``class_view`` what the class's browsers measured, grouped by device (the rows are kept by
``explorer.store.device_results``).
"""

from .class_view import CLASS_VIEW_ENV, ClassSummary, class_view_enabled, summarize
from .reports import REPORT_STAGES, ChunkRequest, DeviceError, DeviceResult, RateLimit, ReportRefused, parse_report
from .served import (
    OUTPUTS_CHECKED,
    SEED,
    DeviceModel,
    DeviceModels,
    Parity,
    check_parity,
    chunk,
    chunk_bytes,
    device_model,
    seeded_input,
)
