"""Why a measured speedup differs from the multiply-add ratio, in plain words computed from this run's profiles.

Measured speedup / theoretical speedup is exactly the ratio of the two models' rates
(multiply-adds per second on their fastest backends), so the question is *why one model
does its multiply-adds faster than the other*. ``speedup_verdict`` answers it from ONNX
Runtime's profiles of both models at the same input and threads
(``explorer.latency.kernel_profile``), against the FP32 GEMM peak:

* for the smaller model, the share of time in layers running below half the GEMM rate
  (depthwise and grouped 1x1 convolutions: few multiply-adds per byte moved) and in pure
  data movement with no multiply-adds (channel shuffle, layout conversions, pooling,
  concat);
* for AlexNet, how its time splits between its convolutions and its classifier; when
  the classifier's weights are used only a few times per image (one position at
  224x224), it is limited by streaming them from memory, and the sentence says so with
  the bandwidth that implies.

Every number in the text comes from the arguments: nothing here is canned but the
sentence frames. The profiles are ONNX Runtime's, whichever backend was fastest; the
text says so.
"""

from __future__ import annotations

from .kernel_profile import KernelProfile, ProfileRow

SLOW_FRACTION = 0.5  # a layer "below GEMM speed": under half the FP32 GEMM peak
STREAMED_REUSE = 4.0  # weights used at most this many times per image are streamed, not computed on
BYTES_PER_WEIGHT = 4  # FP32
LISTED = 3  # categories named per group


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _short(category: str) -> str:
    return category.split(" (")[0] if "(" in category and "classifier" not in category else category


def _rate_fraction(profile: KernelProfile, row: ProfileRow, peak: float) -> float | None:
    """The row's multiply-adds per second (over its time scaled to the plain median) / the GEMM peak."""
    rate = profile.rate(row)
    return None if rate is None else rate / peak


def _slow_and_moving(profile: KernelProfile, peak: float) -> tuple[list[ProfileRow], list[ProfileRow]]:
    slow = [r for r in profile.rows if r.macs > 0 and (_rate_fraction(profile, r, peak) or 0) < SLOW_FRACTION]
    moving = [r for r in profile.rows if r.macs == 0]
    return sorted(slow, key=lambda r: -r.share), sorted(moving, key=lambda r: -r.share)


def _listing(profile: KernelProfile, rows: list[ProfileRow], peak: float | None) -> str:
    shown = []
    for row in rows[:LISTED]:
        rate = None if peak is None else _rate_fraction(profile, row, peak)
        at = "" if rate is None else f" at {_percent(rate)} of the peak"
        shown.append(f"{_short(row.category)} {_percent(row.share)}{at}")
    return "; ".join(shown)


def model_sentence(profile: KernelProfile, peak: float) -> str:
    """Where the small model's time goes: slow layers and data movement, with shares and rates."""
    slow, moving = _slow_and_moving(profile, peak)
    parts = []
    if slow:
        parts.append(
            f"{_percent(sum(r.share for r in slow))} of the time goes to layers running below "
            f"{_percent(SLOW_FRACTION)} of the GEMM rate ({_listing(profile, slow, peak)})"
        )
    if moving:
        parts.append(
            f"{_percent(sum(r.share for r in moving))} to data movement with no multiply-adds "
            f"({_listing(profile, moving, None)})"
        )
    if not parts:
        return f"In ONNX Runtime's profile of {profile.config.label}, every layer runs near the GEMM rate."
    return f"In ONNX Runtime's profile of {profile.config.label}, " + " and ".join(parts) + "."


def alexnet_sentence(profile: KernelProfile, peak: float) -> str:
    """Where AlexNet's time goes: convolutions at (near) GEMM speed, and a classifier that streams its weights."""
    classifier = profile.part(lambda c: "classifier" in c)
    convolutions = profile.part(lambda c: "classifier" not in c and "conv" in c)
    size = "×".join(map(str, profile.config.input_size))
    conv_rate = _rate_fraction(profile, convolutions, peak)
    conv_text = (
        ""
        if conv_rate is None
        else (
            f"its convolutions ({_percent(convolutions.share)} of its time) run at "
            f"{_percent(conv_rate)} of the GEMM peak"
        )
    )
    if classifier.weights <= 0 or classifier.ms <= 0:
        return f"In {profile.config.label}, {conv_text}." if conv_text else ""
    reuse = classifier.macs / classifier.weights
    megabytes = classifier.weights * BYTES_PER_WEIGHT / 1e6
    classifier_rate = _rate_fraction(profile, classifier, peak) or 0.0
    if reuse <= STREAMED_REUSE:
        scaled_s = profile.scaled_ms(classifier) / 1e3
        bandwidth = classifier.weights * BYTES_PER_WEIGHT / scaled_s / 1e9 if scaled_s > 0 else float("nan")
        used = "once" if round(reuse) == 1 else f"{reuse:.0f} times"
        text = (
            f"{profile.config.label} spends {_percent(classifier.share)} of its time in its classifier, whose "
            f"{classifier.weights / 1e6:.1f} M weights ({megabytes:.0f} MB) are each used {used} per image at "
            f"{size}: it streams them from memory (about {bandwidth:.1f} GB/s) at {_percent(classifier_rate)} "
            "of the GEMM peak"
        )
    else:
        text = (
            f"{profile.config.label}'s classifier ({_percent(classifier.share)} of its time) reuses each weight "
            f"{reuse:.0f} times at {size} and runs at {_percent(classifier_rate)} of the GEMM peak"
        )
    return text + (f", while {conv_text}." if conv_text else ".")


def speedup_verdict(
    best: dict, model_profile: KernelProfile, alexnet_profile: KernelProfile, peak_macs_per_s: float
) -> str:
    """Plain sentences: why ``best`` (``explorer.latency.best_speedup``) is above or below the multiply-add ratio."""
    model_rate = best["model_macs"] / (best["model_ms"] / 1e3)
    alex_rate = best["alexnet_macs"] / (best["alexnet_ms"] / 1e3)
    measured, theoretical = best["measured_speedup"], best["theoretical_speedup"]
    backends = (
        f"{best['model_backend_label']} and {best['alexnet_backend_label']}"
        if best["model_backend"] != best["alexnet_backend"]
        else best["model_backend_label"]
    )
    rates = (
        f"{alex_rate / 1e9:.1f} G multiply-adds/s for AlexNet on {best['alexnet_backend_label']} against "
        f"{model_rate / 1e9:.1f} for {best['model']} on {best['model_backend_label']} (each model's fastest "
        f"FP32 backend), {_percent(alex_rate / peak_macs_per_s)} and {_percent(model_rate / peak_macs_per_s)} "
        "of the FP32 GEMM peak"
    )
    if alex_rate > model_rate:
        head = (
            f"Measured {measured:.1f}× against {theoretical:.1f}× in multiply-adds ({measured / theoretical:.2f} "
            f"of it) because, per multiply-add, AlexNet ran {alex_rate / model_rate:.1f}× faster than "
            f"{best['model']} here: {rates}."
        )
    else:
        head = (
            f"Measured {measured:.1f}× against {theoretical:.1f}× in multiply-adds ({measured / theoretical:.2f} "
            f"of it): per multiply-add {best['model']} ran at least as fast as AlexNet here "
            f"({rates})."
        )
    parts = [head, model_sentence(model_profile, peak_macs_per_s), alexnet_sentence(alexnet_profile, peak_macs_per_s)]
    if best["model_backend"] != "ort" or best["alexnet_backend"] != "ort":
        parts.append(
            f"(The split by layer comes from ONNX Runtime's profiler; the fastest backends here were "
            f"{backends}, whose own split may differ.)"
        )
    return " ".join(p for p in parts if p)
