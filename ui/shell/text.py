"""Text for Streamlit: user-supplied values never reach markdown or HTML unescaped; sizes read alike."""

from __future__ import annotations

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")
MAX_SHOWN = 40


def shown_value(value: object, limit: int = MAX_SHOWN) -> str:
    """A user value made inert for ``st.markdown``-based elements (warning, caption...).

    Control characters become spaces, the text is cut to ``limit`` characters and every
    markdown/HTML special character is backslash-escaped, so ``<script>`` or
    ``[link](javascript:...)`` show literally and do nothing.
    """
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    if len(text) > limit:
        text = text[:limit] + "…"
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def link_warning(key: str, value: object, allowed: str, default: str) -> str:
    """The one wording of an ignored link value: names the value (escaped), what is allowed, the default used."""
    return (
        f"Ignored the link's `{key}` value “{shown_value(value)}”: {key} must be {allowed}. "
        f"Using the default, {key}={default}."
    )


def input_size_text(size: tuple[int, int]) -> str:
    """An input size as every page writes it: height × width, e.g. ``224 × 224``."""
    return f"{size[0]} × {size[1]}"
