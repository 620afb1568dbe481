"""What it costs: multiply-adds, FLOPs, parameters and activations of a model, each with its convention.

``trace`` profiles the built model once (fvcore and forward hooks) for the Table 1
layout, the per-unit table and every count; ``estimate`` says what a count or a
measurement will need before anything is built; ``budget`` finds the widest ShuffleNet
within a multiply-add budget; ``tables`` turns results into plain records.
"""

from .budget import BudgetAnswer, budget_table, widest_within
from .conventions import CONVENTIONS, PAPER_CONVENTION, Convention
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
from .shapes import ShapeRecorder, layer_macs
from .trace import (
    Complexity,
    Figure,
    LayoutRow,
    ModelProfile,
    UnitRow,
    complexity,
    layout,
    measure,
    profile,
    unit_table,
)
