"""The latency chart: median latency vs multiply-adds (log-log) with the GEMM roofline line.

``latency_figure(measurements, peak)`` draws every measurement as a point (colour: the
model, as on every page; symbol: the backend), labels where they fit, and the dashed
roofline; ``model_color`` and ``ALEXNET_COLOR`` are shared with the Compare page and the
Lecture.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from explorer import MobileNetConfig, ShuffleNetConfig
from explorer.latency import BACKENDS, Measurement
from ui.figures.charts import log_axis, style_figure
from ui.figures.labels import fitting_positions
from ui.shell.style import NEUTRAL, groups_color

BACKEND_SYMBOLS = {
    "torch": "circle",
    "torch-cl": "square",
    "torch-fold": "triangle-up",
    "ort": "diamond",
    "ort-int8": "star",
    "openvino": "hexagon",
    "openvino-int8": "pentagon",
    "openvino-bf16": "hourglass",
}
ALEXNET_COLOR = "#000000"
LABEL_FONT_SIZE = 11
FULL_LABELS = 6  # up to this many points, each label names its backend too


def model_color(config) -> str:
    if isinstance(config, ShuffleNetConfig):
        return groups_color(config.groups)
    if isinstance(config, MobileNetConfig):
        return NEUTRAL
    return ALEXNET_COLOR


def point_label(m: Measurement) -> str:
    """What every point on the latency chart says: model, backend, input."""
    return f"{m.model} · {m.backend_label} · {m.input_size[0]}×{m.input_size[1]}"


def short_labels(measurements: Sequence[Measurement]) -> list[str]:
    """Model and input, once per pair (its fastest point): the backends of a pair nearly coincide, and the
    symbol and legend name the backend."""
    fastest: dict[tuple, int] = {}
    for i, m in enumerate(measurements):
        key = (m.model, m.input_size)
        if key not in fastest or m.median_ms < measurements[fastest[key]].median_ms:
            fastest[key] = i
    chosen = set(fastest.values())
    return [
        f"{m.model} · {m.input_size[0]}×{m.input_size[1]}" if i in chosen else "" for i, m in enumerate(measurements)
    ]


def latency_figure(
    measurements: Sequence[Measurement],
    gemm_macs_per_s: float | None = None,
    title: str = "Latency vs multiply-adds (measured here)",
    present: bool = False,
) -> go.Figure:
    """Median latency vs multiply-adds incl. FC, log-log; the dashed line is the GEMM roofline.

    Every point is named in its hover; its label is drawn where it fits (``ui.figures.labels``), so
    Table 8's 18 points stay readable."""
    figure = go.Figure()
    xs = [m.macs * m.batch / 1e6 for m in measurements]
    ys = [m.median_ms for m in measurements]
    line_x = line_y = []
    if gemm_macs_per_s and measurements:
        low = min(m.macs * m.batch for m in measurements) / 2
        high = max(m.macs * m.batch for m in measurements) * 2
        line_x, line_y = [low / 1e6, high / 1e6], [low / gemm_macs_per_s * 1e3, high / gemm_macs_per_s * 1e3]
    labels = [point_label(m) for m in measurements] if len(measurements) <= FULL_LABELS else short_labels(measurements)
    position = fitting_positions(xs, ys, labels, LABEL_FONT_SIZE, line_x, line_y)  # where they fit; hover names all
    for backend in BACKENDS:
        indices = [i for i, m in enumerate(measurements) if m.backend == backend]
        if not indices:
            continue
        points = [measurements[i] for i in indices]
        figure.add_trace(
            go.Scatter(
                x=[xs[i] for i in indices],
                y=[ys[i] for i in indices],
                mode="markers+text",
                name=BACKENDS[backend].label,
                text=[labels[i] if position[i] else "" for i in indices],
                textposition=[position[i] or "top center" for i in indices],
                textfont={"size": LABEL_FONT_SIZE},
                cliponaxis=False,  # a label near the edge stays whole
                marker={
                    "size": 13,
                    "symbol": BACKEND_SYMBOLS[backend],
                    "color": [model_color(m.config) for m in points],
                    "line": {"color": "#333", "width": 1},
                },
                customdata=[
                    [m.model, f"{m.input_size[0]}×{m.input_size[1]}", m.batch, 100 * (m.roofline_fraction or 0)]
                    for m in points
                ],
                hovertemplate=(
                    "%{customdata[0]} at %{customdata[1]}, batch %{customdata[2]}<br>"
                    "%{x:.1f} M multiply-adds<br>%{y:.2f} ms<br>%{customdata[3]:.0f}% of the GEMM peak"
                    f"<extra>{BACKENDS[backend].label}</extra>"
                ),
            )
        )
    if line_x:
        figure.add_trace(
            go.Scatter(
                x=line_x,
                y=line_y,
                mode="lines",
                name="GEMM roofline (FP32 peak)",
                line={"color": NEUTRAL, "dash": "dash"},
                hovertemplate="%{x:.1f} M multiply-adds at the GEMM peak: %{y:.2f} ms<extra></extra>",
            )
        )
        xs, ys = xs + line_x, ys + line_y
    style_figure(
        figure,
        title,
        "Multiply-adds per batch (millions, incl. FC; log scale)",
        "Median latency (ms, log scale)",
        height=560,
        present=present,
    )
    if xs:
        log_axis(figure, "x", xs)
        log_axis(figure, "y", ys)
    figure.update_yaxes(rangemode="normal")
    return figure
