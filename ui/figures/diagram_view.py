"""Diagrams on a page: DOT laid out to SVG on the server (``dot -Tsvg``, cached) and shown as an image.

The browser gets a finished drawing (``st.image`` of the SVG text: a ``data:image/svg+xml`` image),
so a phone or a school laptop runs no graphviz layout of its own; an SVG shown as an image runs no
script and loads nothing, so no HTML of ours reaches the page (``tests/app/test_exposure.py``).
Natural size: the SVG's width is in points and the browser draws 1 pt as 4/3 px, so the DOT's font
sizes (``ui.shell.style``) are what a reader sees; a diagram wider than its column scrolls sideways
(``ui.shell.presentation.DIAGRAM_CSS``) instead of shrinking. When ``dot`` is missing or fails, a
warning saying so stands in the diagram's place.
"""

from __future__ import annotations

import streamlit as st

from ui.figures.diagrams import DiagramError
from ui.shell.cache import cached_svg

DIAGRAM_KEY = "diagram"  # every diagram sits in a container keyed ``diagram_...`` (the stylesheet finds it)


def show_diagram(dot: str, alt: str, key: str, container=None) -> str | None:
    """Draw ``dot`` (server-side SVG, natural size) with ``alt`` naming it; returns the SVG, or None
    when ``dot`` could not draw it (a warning then says why, in the diagram's place)."""
    place = (container or st).container(key=f"{DIAGRAM_KEY}_{key}")
    try:
        svg = cached_svg(dot)
    except DiagramError as error:
        place.warning(f"{alt}: {error}", icon=":material/image_not_supported:")
        return None
    place.image(svg, alt=alt, width="content")
    return svg
