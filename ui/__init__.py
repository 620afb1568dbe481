"""Shared Streamlit helpers of the ShuffleNet Explorer app (the library stays in ``explorer``).

``ui.controls.shared_controls()`` draws the sidebar every page shares and returns the
``ShuffleNetConfig``; ``ui.cache`` holds the bounded caches; ``ui.charts`` and
``ui.diagrams`` turn library results into plotly figures and graphviz DOT.
"""
