"""Where multiply-adds predict speed: the latency chart against the GEMM roofline, and how it is measured.

``chart_section`` plots every stored measurement at the page's threads and batch against
the FP32 GEMM peak; ``method_section`` is the "How the numbers are measured" note with the
peak that the roofline uses.
"""

import streamlit as st

from explorer import latency as lat
from explorer.latency.roofline import GemmPeak
from ui.latency.chart import latency_figure
from ui.latency.jobs import ResultStore
from ui.latency.tables import method_markdown
from ui.shell.presentation import caption, method_note


def chart_section(store: ResultStore, threads: int, batch: int, peak: GemmPeak | None, present: bool) -> None:
    st.header("Where multiply-adds predict speed, and where not")
    measured = [m for m in store.all() if m.threads == threads and m.batch == batch]
    if not measured:
        st.info("Measure something above to see it here.", icon="ℹ️")
        return
    st.plotly_chart(latency_figure(measured, peak.macs_per_s if peak else None, present=present), key="lat_chart")
    caption(
        "Every model measured on this machine at these settings (the stored results). Colour: ShuffleNet by its g "
        "(as on every page), MobileNet grey, AlexNet black; symbol: backend (legend). Names are drawn where they fit "
        "(one per model and input when there are many points); hover a point for its model, input and backend. "
        "The dashed line is the latency if every "
        "multiply-add ran at the measured FP32 GEMM speed: points far above it are limited by memory traffic and "
        "per-operator overhead (depthwise and small grouped convolutions, channel shuffle), not by arithmetic."
    )


def method_section(threads: int, peak: GemmPeak | None) -> None:
    method_note("How the numbers are measured", method_markdown())
    if peak:
        flags = lat.flags_text(peak.timing.noisy, False)
        noisy = f" — {flags}" if flags else ""
        rates = ", ".join(f"{library} {rate / 1e9:.1f}" for library, rate in peak.rates)
        caption(
            f"FP32 GEMM peak at {threads} thread(s): {peak.gmacs:.1f} G multiply-adds/s "
            f"({peak.gflops:.1f} GFLOP/s), {peak.library} {peak.size}²{noisy}"
            f"{f' (best of {rates} G multiply-adds/s)' if rates else ''}."
        )
