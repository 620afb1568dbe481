"""What it costs: multiply-adds, FLOPs, parameters and activations of a model, each with its convention.

``trace`` counts the built model in one traced pass (fvcore and forward hooks) for the Table 1
layout, the per-unit table and every count; ``estimate`` says what a count or a
measurement will need before anything is built; ``peak`` gives peak activation memory;
``tables`` turns results into plain records. (What fits a budget: ``explorer.sizing``.)
"""

from .conventions import CONVENTIONS, LATENCY, PAPER_CONVENTION, PEAK_ACTIVATIONS, Convention
from .estimate import (
    Cost,
    Footprint,
    Limits,
    MemoryEstimate,
    MemoryRefused,
    ResourceRefused,
    check_counting,
    check_memory,
    counting_cost,
    footprint,
    memory_estimate,
)
from .peak import peak_activation_bytes
from .shapes import ShapeRecorder, layer_macs
from .trace import (
    Complexity,
    LayoutRow,
    ModelCounts,
    Quantity,
    UnitRow,
    complexity,
    count_model,
    layout,
    trace_model,
    unit_table,
)
