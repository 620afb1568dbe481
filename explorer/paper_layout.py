"""The paper's Table 1 as layout records, and a cell-by-cell comparison with a computed layout.

Pure data (no Streamlit): the app shows the computed Table 1 beside the paper's and
marks the cells that differ. Everything built here from ``explorer.paper`` is *reported
in the paper*; the comparison never mixes it with computed numbers, it only says where
they agree.
"""

from __future__ import annotations

from .config import REFERENCE_INPUT, ShuffleNetConfig
from .paper import TABLE1_CHANNELS, TABLE1_CONV1_CHANNELS, TABLE1_LAYOUT
from .tables import LAYOUT_COLUMNS


def has_paper_table1(config: ShuffleNetConfig) -> bool:
    """Table 1 covers g = 1, 2, 3, 4, 8 at width 1x, 224x224, the standard variant, 1000 classes.

    Channel shuffle does not change the layout, so both settings match the table.
    """
    return (
        isinstance(config, ShuffleNetConfig)
        and config.groups in TABLE1_CHANNELS
        and config.width == 1.0
        and config.variant == "standard"
        and tuple(config.input_size) == REFERENCE_INPUT
        and config.num_classes == 1000
    )


def paper_table1_records(groups: int) -> list[dict]:
    """Table 1's column for ``groups`` in the same record format as ``tables.layout_records``."""
    stages = TABLE1_CHANNELS[groups]
    records = []
    for layer, size, kernel, stride, repeat, channels in TABLE1_LAYOUT:
        if channels == "conv1":
            channels = TABLE1_CONV1_CHANNELS
        elif isinstance(channels, tuple):
            channels = stages[channels[1]]
        records.append(dict(zip(LAYOUT_COLUMNS, (layer, size, kernel, stride, repeat, channels))))
    return records


def _same(a: object, b: object) -> bool:
    blank = lambda v: v is None or v == ""  # noqa: E731
    if blank(a) and blank(b):
        return True
    return a == b


def layout_differences(computed: list[dict], paper: list[dict]) -> list[dict[str, bool]]:
    """Per row, per column: True where the computed cell differs from the paper's.

    Rows are matched by position (both follow Table 1's row order); a row missing on
    either side counts as different in every column.
    """
    rows = max(len(computed), len(paper))
    result = []
    for i in range(rows):
        if i >= len(computed) or i >= len(paper):
            result.append({column: True for column in LAYOUT_COLUMNS})
            continue
        result.append({column: not _same(computed[i].get(column), paper[i].get(column)) for column in LAYOUT_COLUMNS})
    return result
