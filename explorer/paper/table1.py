"""The paper's Table 1: its layout and channels, and a cell-by-cell comparison with a computed layout.

Pure data (no Streamlit): the app shows the computed Table 1 beside the paper's and
marks the cells that differ. Everything here is *reported in the paper*; the comparison
never mixes it with computed numbers, it only says where they agree.
"""

from __future__ import annotations

from ..shufflenet import REFERENCE_INPUT, ShuffleNetConfig

# Table 1's columns, in its order: the app and the CLI lay out every model's layout this way.
LAYOUT_COLUMNS = ("Layer", "Output size", "KSize", "Stride", "Repeat", "Output channels")
# Table 1: Stage2..4 output channels and complexity at 1x, 224x224.
TABLE1_CHANNELS: dict[int, tuple[int, int, int]] = {
    1: (144, 288, 576),
    2: (200, 400, 800),
    3: (240, 480, 960),
    4: (272, 544, 1088),
    8: (384, 768, 1536),
}
TABLE1_CONV1_CHANNELS = 24
TABLE1_MFLOPS = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}
# Table 1 as the paper lays it out (``paper_table1_records`` fills in a g's column). Rows:
# (Layer, Output size, KSize, Stride, Repeat, channels), where channels is a number,
# None, "conv1" or ("stage", k): Stage k+2's column for the chosen g.
TABLE1_LAYOUT = (
    ("Image", "224x224", "", None, None, 3),
    ("Conv1", "112x112", "3x3", 2, 1, "conv1"),
    ("MaxPool", "56x56", "3x3", 2, None, None),
    ("Stage2", "28x28", "", 2, 1, ("stage", 0)),
    ("", "28x28", "", 1, 3, ("stage", 0)),
    ("Stage3", "14x14", "", 2, 1, ("stage", 1)),
    ("", "14x14", "", 1, 7, ("stage", 1)),
    ("Stage4", "7x7", "", 2, 1, ("stage", 2)),
    ("", "7x7", "", 1, 3, ("stage", 2)),
    ("GlobalPool", "1x1", "7x7", None, None, None),
    ("FC", "", "", None, None, 1000),
)


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
