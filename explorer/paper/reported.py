"""The paper's reported numbers, as data tied to the configs they describe.

Source: Zhang et al., "ShuffleNet", arXiv 1707.01083v1 (the version with "arch2"),
through ``shared/PAPER.md``. Everything here is *reported in the paper*: complexities
are the paper's "MFLOPs", which count multiply-adds; errors are ImageNet top-1 %, which
the explorer cannot reproduce on a CPU; Table 8 times are from one Snapdragon 820 core.
Nothing in this module is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..shufflenet import PAPER_GROUPS, REFERENCE_INPUT, AlexNetConfig, MobileNetConfig, ModelConfig, ShuffleNetConfig
from .table1 import TABLE1_MFLOPS

SOURCE = "Zhang et al., ShuffleNet, arXiv 1707.01083v1"
REPORTED = "reported in the paper"


@dataclass(frozen=True)
class Reported:
    """One row of one of the paper's tables."""

    table: str
    model: str  # the paper's own row label
    config: ModelConfig | None  # None: a model the explorer does not build (VGG-16, ...)
    mflops: float | None = None  # the paper's complexity column: millions of multiply-adds
    error: float | None = None  # top-1 classification error, %
    note: str = ""


def _sn(groups: int, width: float, variant: str = "standard", shuffle: bool = True) -> ShuffleNetConfig:
    return ShuffleNetConfig(groups=groups, width=width, variant=variant, shuffle=shuffle)


TABLE1 = tuple(Reported("Table 1", f"ShuffleNet 1x (g = {g})", _sn(g, 1.0), TABLE1_MFLOPS[g]) for g in PAPER_GROUPS)

# Table 2: error (%) vs g; one complexity per row.
_TABLE2_ROWS = (
    (1.0, "standard", 140, (35.1, 34.2, 34.1, 34.3, 34.7)),
    (0.5, "standard", 38, (46.1, 45.1, 44.4, 43.7, 43.8)),
    (0.25, "standard", 13, (56.7, 56.3, 55.6, 54.5, 53.7)),
    (0.5, "arch2", 40, (45.7, 44.3, 43.8, 43.2, 42.7)),
    (0.25, "arch2", 13, (56.5, 55.3, 55.5, 54.3, 53.3)),
)
TABLE2 = tuple(
    Reported("Table 2", f"ShuffleNet {w:g}x{' (arch2)' if v == 'arch2' else ''} (g = {g})", _sn(g, w, v), mflops, err)
    for w, v, mflops, errors in _TABLE2_ROWS
    for g, err in zip(PAPER_GROUPS, errors)
)

# Table 3: error without / with channel shuffle.
_TABLE3_ROWS = (
    (3, 1.0, "standard", 36.4, 34.1),
    (3, 0.5, "standard", 46.1, 44.4),
    (3, 0.25, "standard", 56.5, 55.6),
    (3, 0.25, "arch2", 56.6, 55.5),
    (8, 0.5, "arch2", 46.2, 42.7),
    (8, 0.25, "arch2", 57.3, 53.3),
)
TABLE3 = tuple(
    Reported(
        "Table 3",
        f"ShuffleNet {w:g}x{' (arch2)' if v == 'arch2' else ''} (g = {g}), {'shuffle' if shuffle else 'no shuffle'}",
        _sn(g, w, v, shuffle),
        error=err,
    )
    for g, w, v, no_shuffle, with_shuffle in _TABLE3_ROWS
    for shuffle, err in ((False, no_shuffle), (True, with_shuffle))
)


@dataclass(frozen=True)
class ShuffleAblation:
    """One model of Table 3: its top-1 error without and with channel shuffle (reported)."""

    model: str  # the paper's row label, e.g. "ShuffleNet 1x (g = 3)"
    config: ShuffleNetConfig  # with shuffle on, 224x224
    error_without: float
    error_with: float

    @property
    def gain(self) -> float:
        """Points of top-1 error the shuffle removes."""
        return round(self.error_without - self.error_with, 1)


TABLE3_PAIRS = tuple(
    ShuffleAblation(
        f"ShuffleNet {w:g}x{' (arch2)' if v == 'arch2' else ''} (g = {g})", _sn(g, w, v), no_shuffle, with_shuffle
    )
    for g, w, v, no_shuffle, with_shuffle in _TABLE3_ROWS
)


def table3_row_for(config: ModelConfig) -> ShuffleAblation | None:
    """The Table 3 model ``config`` is (shuffle and input size ignored), or None when the paper has none."""
    if not isinstance(config, ShuffleNetConfig):
        return None
    key = at_reference(replace(config, shuffle=True))
    return next((pair for pair in TABLE3_PAIRS if pair.config == key), None)


TABLE5 = (
    Reported("Table 5", "1.0 MobileNet-224", MobileNetConfig(1.0), 569, 29.4),
    Reported("Table 5", "ShuffleNet 2x (g = 3)", _sn(3, 2.0), 524, 29.1),
    Reported("Table 5", "0.75 MobileNet-224", MobileNetConfig(0.75), 325, 31.6),
    Reported("Table 5", "ShuffleNet 1.5x (g = 3)", _sn(3, 1.5), 292, 31.0),
    Reported("Table 5", "0.5 MobileNet-224", MobileNetConfig(0.5), 149, 36.3),
    Reported("Table 5", "ShuffleNet 1x (g = 3)", _sn(3, 1.0), 140, 34.1),
    Reported("Table 5", "0.25 MobileNet-224", MobileNetConfig(0.25), 41, 49.4),
    Reported("Table 5", "ShuffleNet 0.5x (arch2, g = 8)", _sn(8, 0.5, "arch2"), 40, 42.7),
    Reported("Table 5", "ShuffleNet 0.5x (shallow, g = 3)", _sn(3, 0.5, "shallow"), 40, 45.2),
)

TABLE6 = (
    Reported("Table 6", "VGG-16", None, 15300, 28.5),
    Reported("Table 6", "ShuffleNet 2x (g = 3)", _sn(3, 2.0), 524, 29.1),
    Reported("Table 6", "PVANET (the authors' implementation)", None, 557, 35.3),
    Reported("Table 6", "ShuffleNet 1x (g = 3)", _sn(3, 1.0), 140, 34.1),
    Reported("Table 6", "AlexNet", AlexNetConfig(), 720, 42.8),
    Reported("Table 6", "SqueezeNet", None, 833, 42.5),
    Reported("Table 6", "ShuffleNet 0.5x (arch2, g = 8)", _sn(8, 0.5, "arch2"), 40, 42.7),
)

TABLE8_INPUTS: tuple[tuple[int, int], ...] = ((224, 224), (480, 640), (720, 1280))
TABLE8_DEVICE = "one Snapdragon 820 core, single thread, the authors' own runtime"
TABLE8_THEORETICAL_SPEEDUP = 18.0
TABLE8_MEASURED_SPEEDUP = 13.0


@dataclass(frozen=True)
class Table8Row:
    model: str
    config: ModelConfig  # at 224x224; ``at(input)`` gives the other sizes
    mflops: float
    error: float
    milliseconds: tuple[float, float, float]  # at TABLE8_INPUTS

    def at(self, input_size: tuple[int, int]) -> ModelConfig:
        return replace(self.config, input_size=input_size)

    def ms_at(self, input_size: tuple[int, int]) -> float:
        return self.milliseconds[TABLE8_INPUTS.index(tuple(input_size))]


TABLE8 = (
    Table8Row("ShuffleNet 0.5x (arch2, g = 3)", _sn(3, 0.5, "arch2"), 40, 43.8, (15.2, 87.4, 260.1)),
    Table8Row("ShuffleNet 1x (g = 3)", _sn(3, 1.0), 140, 34.1, (37.8, 222.2, 684.5)),
    Table8Row("AlexNet", AlexNetConfig(), 720, 42.8, (184.0, 1156.7, 3633.9)),
)

ALL_REPORTED: tuple[Reported, ...] = TABLE1 + TABLE2 + TABLE3 + TABLE5 + TABLE6

# Why a computed complexity may sit more than 5% from the reported one (shown beside it).
NOTE_STEM_G8 = (
    "At 0.25x the paper's 13M fits a 12-channel conv1; g=8 needs a multiple of 8 (16 channels) so that "
    "the stride-2 concat divides by g, which adds about 2.7M."
)
NOTE_WIDENED = (
    "The paper reports its arch2 and shallow models about 2M above the standard ones (40M vs 38M at 0.5x); "
    "the explorer widens them to match the standard model at the same g and width within 3%, as the "
    "paper's text says, so the g=3 models land 6-9% under the reported 40M."
)


def at_reference(config: ModelConfig) -> ModelConfig:
    """The config at the paper's 224x224 input and 1000 classes: how the paper's rows are keyed."""
    changes = {"input_size": REFERENCE_INPUT}
    if isinstance(config, ShuffleNetConfig):
        changes["num_classes"] = 1000
    return replace(config, **changes)


def reported_for(config: ModelConfig) -> tuple[Reported, ...]:
    """Every table row the paper reports for this model at 224x224 (input size ignored)."""
    key = at_reference(config)
    return tuple(r for r in ALL_REPORTED if r.config == key)


def reported_mflops(config: ModelConfig) -> float | None:
    """The paper's complexity for this model, preferring Table 1's per-g number at 1x."""
    rows = [r for r in reported_for(config) if r.mflops is not None]
    return rows[0].mflops if rows else None


def residual_note(config: ModelConfig) -> str:
    """Why this model's computed complexity may differ from the paper's by more than 5%."""
    if not isinstance(config, ShuffleNetConfig):
        return ""
    if config.width == 0.25 and config.groups == 8:
        return NOTE_STEM_G8
    if config.variant != "standard":
        return NOTE_WIDENED
    return ""
