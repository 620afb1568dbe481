"""Shared Streamlit helpers of the ShuffleNet Explorer app (the library stays in ``explorer``).

``ui.controls.shared_controls()`` draws the sidebar every page shares and returns the
``ShuffleNetConfig``; ``ui.cache`` holds the bounded caches; ``ui.charts`` and
``ui.diagrams`` turn library results into plotly figures and graphviz DOT (``ui.mixing``,
``ui.toy_diagram`` and ``ui.toy_figures`` those of the Channel shuffle page); ``ui.style``
holds the colours and font sizes, ``ui.presentation`` presentation mode, ``ui.warmup`` the
background warm-up of the caches.
"""
