"""The Streamlit side of the app (pages import ``ui`` and ``explorer``), grouped by concern.

``ui.shell``: the page shell every page runs (``page.page_setup``, the shared sidebar
``controls.shared_controls()`` that returns the ``ShuffleNetConfig``, presentation mode, colours
and font sizes, shown text, the bounded caches and their warm-up). ``ui.figures``: plotly figures
and graphviz DOT (charts, diagrams, the Channel shuffle page's toy and mixing figures).
``ui.lecture``: the Lecture page (its steps, figures and navigation). ``ui.latency``: latency
tables, background jobs and their view, and the in-browser device measurement. ``ui.sizing``: the
budget decision's tables.
"""
