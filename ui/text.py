"""Safe text for Streamlit: user-supplied values never reach markdown or HTML unescaped."""

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
