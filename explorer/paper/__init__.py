"""What the paper reports: its tables as data tied to the configs they describe, and Table 1's layout.

Everything here is *reported in the paper* (Zhang et al., arXiv 1707.01083v1), never
computed; anything in the library may read it.
"""

from .reported import (
    ALL_REPORTED,
    NOTE_STEM_G8,
    NOTE_WIDENED,
    REPORTED,
    SOURCE,
    TABLE1,
    TABLE2,
    TABLE3,
    TABLE3_PAIRS,
    TABLE5,
    TABLE6,
    TABLE8,
    TABLE8_DEVICE,
    TABLE8_INPUTS,
    TABLE8_MEASURED_SPEEDUP,
    TABLE8_THEORETICAL_SPEEDUP,
    Reported,
    ShuffleAblation,
    Table8Row,
    reported_for,
    reported_mflops,
    residual_note,
    table3_row_for,
)
from .table1 import (
    LAYOUT_COLUMNS,
    TABLE1_CHANNELS,
    TABLE1_CONV1_CHANNELS,
    TABLE1_LAYOUT,
    TABLE1_MFLOPS,
    has_paper_table1,
    layout_differences,
    paper_table1_records,
)
from .tradeoff import NO_SHUFFLE_NOTE, ReportedPoint, pareto_front, point_for, reported_points
