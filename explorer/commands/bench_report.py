"""How ``bench`` prints what it measured: the header naming the machine, the table of measurements
(with Table 8's speedup and paper columns under ``--table8``), the failed backends, the
repeatability table and the footer explaining the columns and Table 8's summary.

``explorer.commands.bench`` measures and builds the JSON payload; this module only turns it into text.
"""

from __future__ import annotations

import argparse

from .. import latency, paper
from ..latency.timing import NOISY_IQR_FRACTION
from .common import format_table


def fmt(value, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def record_flags(record: dict) -> str:
    """ "noisy", "busy" or both, a busy one with why (``Timing.busy_reason``)."""
    text = latency.flags_text(record["noisy"], bool(record.get("contended")))
    reason = record.get("busy_reason") if record.get("contended") else None
    return f"{text} ({reason})" if reason else text


def print_measurements(measurements, table8: bool) -> None:
    records = latency.table8_records(measurements) if table8 else [m.to_dict() for m in measurements]
    headers = [
        "Model",
        "Input",
        "Backend",
        "Median ms",
        "IQR ms",
        "Min ms",
        "Runs",
        "Noisy",
        "MACs (M)",
        "GMAC/s",
        "Floor ms",
        "% of GEMM",
        "Max |diff|",
        "Compile s",
    ]
    if table8:
        headers += ["Speedup", "Theor.", "Paper ms*", "Paper speedup*"]
    rows = []
    for r in records:
        row = [
            r["model"],
            "x".join(map(str, r["input"])),
            r["backend"],
            fmt(r["median_ms"]),
            fmt(r["iqr_ms"]),
            fmt(r["min_ms"]),
            r["runs"],
            record_flags(r),
            fmt(r["macs"] / 1e6, 1),
            fmt(r["achieved_gmacs"], 1),
            fmt(r["floor_ms"]),
            fmt(None if r["roofline_fraction"] is None else 100 * r["roofline_fraction"], 1),
            "" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}",
            fmt(r["compile_s"]),
        ]
        if table8:
            row += [
                fmt(r["measured_speedup"], 1) + ("x" if r["measured_speedup"] else ""),
                f"{r['theoretical_speedup']:.1f}x",
                f"{r['paper_ms']:g}",
                f"{r['paper_speedup']:.1f}x",
            ]
        rows.append(row)
    print(format_table(headers, rows))


def _peakrecord_flags(machine: dict) -> str:
    flags = latency.flags_text(machine["gemm_noisy"], bool(machine.get("gemm_contended")))
    return f"  [{flags}]" if flags else ""


def print_header(machine: dict, args: argparse.Namespace) -> None:
    print(
        f"CPU: {machine['cpu']} ({machine['cores']} cores); threads {machine['threads']} for every backend; "
        f"batch {args.batch}; torch {machine['torch']}, onnxruntime {machine['onnxruntime']}, "
        f"openvino {machine['openvino']}"
    )
    if machine.get("gemm_gflops"):
        print(
            f"FP32 GEMM peak ({machine['gemm_library']} {machine['gemm_size']}^2, median): "
            f"{machine['gemm_gmacs']:.1f} G multiply-adds/s"
            f" = {machine['gemm_gflops']:.1f} GFLOP/s{_peakrecord_flags(machine)}"
        )
    print()


def print_footer(payload: dict, table8: bool) -> None:
    print(
        f"\nMedian of time-based runs after warm-up; NOISY = IQR > {NOISY_IQR_FRACTION:.0%} of the median "
        "(re-measure); BUSY n% = other processes used n% of all CPUs while it was timed, more than the cores "
        "this measurement left free plus 10% (the number is probably too slow). MACs: multiply-adds per image incl. FC. "
        "Floor: latency at the FP32 GEMM peak; % of GEMM: floor / median (INT8 may exceed 100%). "
        "Max |diff|: ONNX Runtime / OpenVINO output vs PyTorch FP32 on the same input (INT8, BF16: drift). "
        "Compile s: creating the ORT session or compiling in OpenVINO, not in the latency."
    )
    if table8:
        s = payload["summary"]
        print(
            "Speedup: AlexNet ms / model ms, same input and backend. Theor.: ratio of multiply-adds incl. FC. "
            f"* reported in the paper ({paper.TABLE8_DEVICE})."
        )
        best = s["speedup_0_5x_arch2_vs_alexnet_224"]
        if best:
            print(
                f"0.5x arch2 on its fastest FP32 backend ({best['model_backend']}) vs AlexNet on its fastest FP32 "
                f"backend ({best['alexnet_backend']}) at 224x224: {best['measured_speedup']:.1f}x measured vs "
                f"{best['theoretical_speedup']:.1f}x theoretical = {best['efficiency']:.2f} of the theoretical "
                "ratio."
            )
            print(
                "  Both on one backend: "
                + "; ".join(
                    f"{r['backend']} {r['measured_speedup']:.1f}x ({r['efficiency']:.2f})"
                    for r in s["speedup_0_5x_arch2_vs_alexnet_224_per_backend"]
                )
                + "."
            )
        if s.get("verdict"):
            print(f"Why: {s['verdict']}")
        one = s["shufflenet_1x_g3_224_fastest"]
        if one and one["roofline_fraction"] is not None:
            print(
                f"Fastest ShuffleNet 1x g=3 at 224x224 ({one['backend']}): {one['median_ms']:.2f} ms = "
                f"{100 * one['roofline_fraction']:.0f}% of the GEMM roofline."
            )
        print(f"Wall time {payload['wall_s']:.1f} s (exports and quantisation {payload['export_s']:.1f} s).")
    if payload.get("repeat") and payload["repeat"]["worst_ratio"] is not None:
        rep = payload["repeat"]
        print(
            f"Repeatability: {rep['runs']} passes; worst ratio of medians (max/min) {rep['worst_ratio']:.3f} "
            f"({'within' if rep['within_10_percent'] else 'NOT within'} 10%)."
        )


def failure_line(failure: latency.BackendFailure) -> str:
    return f"{failure.where} {failure.backend}: FAILED at {failure.stage}: {failure.reason}"


def print_failures(failures: list) -> None:
    print(
        f"\nFailed, not measured ({len(failures)}; steps: "
        + "; ".join(f"{k} = {v}" for k, v in latency.FAILURE_STAGES.items())
        + "):"
    )
    print(
        format_table(
            ("Model", "Input", "Backend", "Step", "Reason"),
            [(f.config.label, "x".join(map(str, f.config.input_size)), f.backend, f.stage, f.reason) for f in failures],
        )
    )


def print_repeat(items: list[dict]) -> None:
    print()
    print(
        format_table(
            ("Model", "Input", "Backend", "Medians ms", "Ratio max/min"),
            [
                (
                    r["model"],
                    "x".join(map(str, r["input"])),
                    r["backend"],
                    ", ".join(f"{v:.2f}" for v in r["medians_ms"]),
                    f"{r['ratio']:.3f}",
                )
                for r in items
            ],
        )
    )
