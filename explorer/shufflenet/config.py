"""The configs of every model the explorer builds: frozen, hashable, validated on construction.

A config that exists is a config that builds: ``ShuffleNetConfig`` checks every field
and raises ``ValueError`` naming the field, the value and what is allowed
(``explorer.checks``). ``ShuffleNetConfig.plan()`` gives its channel plan
(``explorer.shufflenet.plan``); ``AlexNetConfig`` and ``MobileNetConfig`` are the paper's
reference models.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal
from urllib.parse import urlencode

from ..checks import check_bool, check_choice, check_int, check_number, is_integer, refusal
from .plan import REFERENCE_INPUT, ChannelPlan, channel_plan

Variant = Literal["standard", "arch2", "shallow"]

PAPER_GROUPS = (1, 2, 3, 4, 8)
PAPER_WIDTHS = (0.25, 0.5, 1.0, 1.5, 2.0)
VARIANTS: tuple[str, ...] = ("standard", "arch2", "shallow")
MAX_GROUPS = 64
WIDTH_RANGE = (0.1, 4.0)
MIN_INPUT_SIDE = 32
MAX_INPUT_SIDE = 4096
MAX_CLASSES = 100_000
ALEXNET_MIN_SIDE = 223  # the smallest side whose features are at least the classifier's 6x6 kernel
WIDTH_ALLOWED = (
    f"a number from {WIDTH_RANGE[0]} to {WIDTH_RANGE[1]} (the paper uses {', '.join(map(str, PAPER_WIDTHS))})"
)


def _check_input_size(value: object) -> tuple[int, int]:
    allowed = f"(height, width), two integers from {MIN_INPUT_SIDE} to {MAX_INPUT_SIDE}"
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(is_integer(side) and MIN_INPUT_SIDE <= side <= MAX_INPUT_SIDE for side in value)
    ):
        raise refusal("input_size", value, allowed)
    return int(value[0]), int(value[1])


def _check_width(value: object) -> float:
    return check_number("width", value, *WIDTH_RANGE, allowed=WIDTH_ALLOWED)


def _set(config: object, **values: object) -> None:
    """Store checked, normalised values on a frozen config (numpy ints become ints, so equal configs hash equal)."""
    for name, value in values.items():
        object.__setattr__(config, name, value)


@dataclass(frozen=True)
class ShuffleNetConfig:
    """A ShuffleNet v1 as the user picks it. Invalid values raise ``ValueError``."""

    groups: int = 3
    width: float = 1.0
    variant: Variant = "standard"
    shuffle: bool = True
    input_size: tuple[int, int] = REFERENCE_INPUT
    num_classes: int = 1000

    family = "shufflenet"

    def __post_init__(self) -> None:
        groups = check_int("groups", self.groups, 1, MAX_GROUPS)
        width = _check_width(self.width)
        check_choice("variant", self.variant, VARIANTS)
        check_bool("shuffle", self.shuffle)
        input_size = _check_input_size(self.input_size)
        num_classes = check_int("num_classes", self.num_classes, 1, MAX_CLASSES)
        _set(self, groups=groups, width=width, input_size=input_size, num_classes=num_classes)

    @property
    def label(self) -> str:
        variant = "" if self.variant == "standard" else f" {self.variant}"
        shuffle = "" if self.shuffle else ", no shuffle"
        return f"ShuffleNet {self.width:g}x{variant} (g={self.groups}{shuffle})"

    def with_(self, **changes) -> ShuffleNetConfig:
        return replace(self, **changes)

    def plan(self) -> ChannelPlan:
        return channel_plan(self.groups, self.width, self.variant)


@dataclass(frozen=True)
class AlexNetConfig:
    """AlexNet as in the paper's Table 8, run fully convolutionally (see ``explorer.shufflenet.reference``)."""

    input_size: tuple[int, int] = REFERENCE_INPUT
    num_classes: int = 1000

    family = "alexnet"

    def __post_init__(self) -> None:
        input_size = _check_input_size(self.input_size)
        if min(input_size) < ALEXNET_MIN_SIDE:
            raise refusal(
                "input_size",
                self.input_size,
                f"at least {ALEXNET_MIN_SIDE}x{ALEXNET_MIN_SIDE} for AlexNet "
                "(its classifier is a 6x6 convolution over the 6x6 features of a 223-pixel side)",
            )
        _set(self, input_size=input_size, num_classes=check_int("num_classes", self.num_classes, 1, MAX_CLASSES))

    @property
    def label(self) -> str:
        return "AlexNet"


MOBILENET_WIDTHS = (1.0, 0.75, 0.5, 0.25)


@dataclass(frozen=True)
class MobileNetConfig:
    """MobileNet v1 (Howard et al. 2017) with width multiplier alpha (Table 5)."""

    width: float = 1.0
    input_size: tuple[int, int] = REFERENCE_INPUT
    num_classes: int = 1000

    family = "mobilenet"

    def __post_init__(self) -> None:
        width = _check_width(self.width)
        input_size = _check_input_size(self.input_size)
        _set(
            self,
            width=width,
            input_size=input_size,
            num_classes=check_int("num_classes", self.num_classes, 1, MAX_CLASSES),
        )

    @property
    def label(self) -> str:
        return f"{mobilenet_width_text(self.width)} MobileNet v1"


def mobilenet_width_text(width: float) -> str:
    """MobileNet's multiplier as the paper writes it: ``1.0``, ``0.75``, ``0.5``, ``0.25``."""
    text = f"{width:g}"
    return text if "." in text or "e" in text else f"{text}.0"


ModelConfig = ShuffleNetConfig | AlexNetConfig | MobileNetConfig


def query_values(config: ShuffleNetConfig) -> dict[str, str]:
    """The app's URL query parameters that reopen ``config`` (the link a user copies or the CLI prints).

    The one source of the link format: the sidebar writes and reads these keys
    (``ui.shell.controls``) and ``budget --json`` prints them as its ``url``.
    """
    return {
        "groups": str(config.groups),
        "width": f"{config.width:g}",
        "variant": config.variant,
        "shuffle": "on" if config.shuffle else "off",
        "input": f"{config.input_size[0]}x{config.input_size[1]}",
    }


def query_string(config: ShuffleNetConfig) -> str:
    """``?groups=8&width=0.5&variant=arch2&shuffle=on&input=224x224``: append it to the app's address."""
    return "?" + urlencode(query_values(config))


FAMILIES: dict[str, type] = {"shufflenet": ShuffleNetConfig, "alexnet": AlexNetConfig, "mobilenet": MobileNetConfig}


def config_to_dict(config: ModelConfig) -> dict:
    """The config as JSON-able values, ``family`` first: ``config_from_dict`` reads it back."""
    return {"family": config.family, **asdict(config), "input_size": list(config.input_size)}


def config_from_dict(values: object) -> ModelConfig:
    """The config ``config_to_dict`` wrote; ``ValueError`` naming what is wrong for anything else."""
    if not isinstance(values, dict):
        raise refusal("config", values, "a dict of config values")
    family = check_choice("family", values.get("family"), FAMILIES)
    kind = FAMILIES[family]
    fields = {name: value for name, value in values.items() if name != "family"}
    unknown = set(fields) - set(kind.__dataclass_fields__)
    if unknown:
        allowed = f"fields of a {family} config ({', '.join(kind.__dataclass_fields__)})"
        raise refusal("config", sorted(unknown), allowed)
    if isinstance(fields.get("input_size"), list):
        fields["input_size"] = tuple(fields["input_size"])
    return kind(**fields)


MAX_SIDE_DIGITS = 9  # longer digit strings are refused before int() (which also refuses > 4300 digits)


def parse_input_size(text: str) -> tuple[int, int]:
    """``"480x640"`` -> ``(480, 640)`` (height x width); ``ValueError`` names the text.

    Only ASCII digits count: ``str.isdigit`` also accepts superscripts such as ``"²"``,
    which ``int`` then refuses with a message that names neither field nor rule.
    """
    parts = text.lower().replace(" ", "").split("x") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= MAX_SIDE_DIGITS for p in parts):
        raise ValueError(
            f"input size {text!r} is not allowed: write HEIGHTxWIDTH with each side from "
            f"{MIN_INPUT_SIDE} to {MAX_INPUT_SIDE}, e.g. 224x224 or 480x640"
        )
    return _check_input_size((int(parts[0]), int(parts[1])))
