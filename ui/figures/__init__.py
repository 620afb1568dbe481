"""Figures and diagrams: plotly charts (``charts``), graphviz DOT of units and networks
(``diagrams``), the toy's wiring diagram and figures (``toy_diagram``, ``toy_figures``) and the
measured channel-mixing figures (``mixing``)."""
