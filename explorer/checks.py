"""Argument checks shared by the whole library: one wording for every refusal.

A refused value raises ``ValueError("name=value is not allowed: name must be ALLOWED")``:
the message names the field, shows the value and says what is allowed, so the CLI and
the app can print it as it is.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping


def refusal(name: str, value: object, allowed: str) -> ValueError:
    """The ``ValueError`` every check raises: ``name=value is not allowed: name must be allowed``."""
    return ValueError(f"{name}={value!r} is not allowed: {name} must be {allowed}")


def is_integer(value: object) -> bool:
    """Python and numpy integers, but not bools (``True`` is an int to Python, not a count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(
    name: str, value: object, low: int | None = None, high: int | None = None, allowed: str | None = None
) -> int:
    """``value`` as an ``int`` if it is an integer within ``[low, high]`` (either bound optional)."""
    if not is_integer(value) or (low is not None and value < low) or (high is not None and value > high):
        raise refusal(name, value, allowed or _integer_range(low, high))
    return int(value)


def check_number(name: str, value: object, low: float, high: float, allowed: str | None = None) -> float:
    """``value`` as a ``float`` if it is a finite real number within ``[low, high]``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise refusal(name, value, allowed or f"a number from {low:g} to {high:g}")
    return float(value)


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise refusal(name, value, "True or False")
    return value


def check_choice(name: str, value: object, choices: Iterable[str], allowed: str | None = None) -> str:
    """``value`` if it is one of the strings ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise refusal(name, value, allowed or "one of " + ", ".join(choices))
    return value


def _integer_range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"an integer from {low} to {high}"
    if low == 1:
        return "a positive integer"
    if low is not None:
        return f"an integer of at least {low}"
    return "an integer" if high is None else f"an integer up to {high}"


ON_WORDS, OFF_WORDS = ("on", "1", "true", "yes"), ("off", "0", "false", "no")


def on_off_setting(name: str, environ: Mapping[str, str]) -> bool:
    """An operator's on/off switch ``name`` in ``environ``: on when unset, one wording for every refusal."""
    text = environ.get(name, "").strip().lower()
    if not text or text in ON_WORDS:
        return True
    if text in OFF_WORDS:
        return False
    shown = text if len(text) <= 20 else text[:19] + "…"
    raise ValueError(f"{name}={shown!r} is not allowed: {name} must be on or off (default on)")
