"""Table 8's frames: the measured rows beside the paper's, the per-backend speedups, ONNX Runtime's profile.

* ``table8_frame(records)`` with ``TABLE8_COLUMNS``: ``explorer.latency.table8_records`` as
  the page shows them, each paper column (``PAPER``) beside its measured one.
* ``speedup_frame(rows)``: both models on one backend, one row per backend.
* ``profile_frame(profile, peak)`` with ``PROFILE_COLUMNS``: ONNX Runtime's grouped profile
  against the GEMM peak.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from explorer.latency import KernelProfile
from explorer.latency.timing import flags_text
from ui.latency.tables import MISSING, shown

PAPER = "(reported in the paper)"


def table8_frame(records: Sequence[dict]) -> pd.DataFrame:
    """``explorer.latency.table8_records`` as the page shows them: each paper column beside its measured one."""
    return pd.DataFrame(
        [
            {
                "Model": r["model"],
                "Input": "×".join(map(str, r["input"])),
                "Backend": r["backend_label"],
                "Median (ms)": r["median_ms"],
                f"Paper ms {PAPER}": r["paper_ms"],
                "Measured speedup over AlexNet": shown(r["measured_speedup"], 1, suffix="×"),
                f"Paper speedup {PAPER}": f"{r['paper_speedup']:.1f}×",
                "Flags": flags_text(r["noisy"], r["contended"]),
                "IQR (ms)": r["iqr_ms"],
                "Theoretical speedup (multiply-adds incl. FC)": f"{r['theoretical_speedup']:.1f}×",
                "Measured / theoretical": shown(r["speedup_efficiency"]),
                "% of GEMM peak": shown(r["roofline_fraction"], 0, 100),
                "Busy because": r["busy_reason"] or MISSING,
            }
            for r in records
        ]
    )


TABLE8_COLUMNS = {
    "Model": st.column_config.TextColumn(width=230, pinned=True),
    "Input": st.column_config.TextColumn(width=90, pinned=True),
    "Backend": st.column_config.TextColumn(width=200, pinned=True),
    "Median (ms)": st.column_config.NumberColumn(format="%.2f", pinned=True),
    f"Paper ms {PAPER}": st.column_config.NumberColumn(
        format="%.1f", pinned=True, help="One Snapdragon 820 core, single thread, the authors' runtime"
    ),
    "IQR (ms)": st.column_config.NumberColumn(format="%.2f"),
}


def profile_frame(profile: KernelProfile, peak_macs_per_s: float | None) -> pd.DataFrame:
    """ONNX Runtime's grouped profile, each group's time scaled to the median without the profiler."""
    rows = []
    for r in profile.rows:
        rate = profile.rate(r)
        rows.append(
            {
                "Where": r.category,
                "ms per run (share × median)": profile.scaled_ms(r),
                "Share (%)": 100 * r.share,
                "Nodes": r.nodes,
                "Multiply-adds (M)": r.macs / 1e6,
                "G multiply-adds/s": shown(rate, 2, 1e-9),
                "% of GEMM peak": shown(
                    None if rate is None or not peak_macs_per_s else rate / peak_macs_per_s, 0, 100
                ),
            }
        )
    return pd.DataFrame(rows)


PROFILE_COLUMNS = {
    "Where": st.column_config.TextColumn(width=300),
    **{
        n: st.column_config.NumberColumn(format="%.2f")
        for n in ("ms per run (share × median)", "Share (%)", "Multiply-adds (M)")
    },
}


def speedup_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """``explorer.latency.backend_speedups``: both models on one backend, one row per backend."""
    return pd.DataFrame(
        [
            {
                "Backend (both models)": r["backend_label"],
                "0.5x arch2 (ms)": r["model_ms"],
                "AlexNet (ms)": r["alexnet_ms"],
                "Speedup": f"{r['measured_speedup']:.1f}×",
                "Of the multiply-add ratio": f"{r['efficiency']:.2f}",
            }
            for r in rows
        ]
    )
