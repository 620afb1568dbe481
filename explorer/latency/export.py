"""Export a model to ONNX, check it, and run it with ONNX Runtime (FP32 or INT8).

* **Exporter.** ``torch.onnx.export(..., dynamo=False)``: the TorchScript exporter. On
  this project's machines it exports ShuffleNet 1x several times faster than the dynamo
  exporter (``dynamo=True``, onnxscript), and both graphs run equally fast
  in ONNX Runtime once optimised.
* **Static or dynamic shapes.** ShuffleNet's channel shuffle is a reshape whose target
  shape contains the feature map's height and width. Exported with dynamic axes, that
  becomes Shape/Gather/Unsqueeze/Concat arithmetic on every run and blocks ORT's
  Add+ReLU fusion: measured slower at 224x224. So models with such reshapes are
  exported with static shapes, once per input size and batch; AlexNet and MobileNet have
  none, so they are exported once with dynamic batch/height/width and the one file
  serves every input (AlexNet's 244 MB export is the expensive one).
* **Check.** ``onnx.checker.check_model`` on the file, then the outputs against
  PyTorch's on the same random input (max absolute difference reported).
* **BN folding.** ``fold_batchnorm`` folds every eval-mode BatchNorm into the
  convolution before it (``torch.nn.utils.fusion.fuse_conv_bn_eval``). ONNX Runtime
  does the same fusion itself at its basic optimisation level, so the ``ort`` backend
  exports the plain model; the folded copy speeds up PyTorch eager (``torch-fold``).
* **INT8.** ``quantize_int8``: ONNX Runtime's static quantisation (QDQ format, signed
  8-bit per-channel weights, unsigned 8-bit activations calibrated with MinMax on a
  few random inputs, 7-bit ``reduce_range`` on CPUs without VNNI to avoid the u8s8
  saturation of AVX2 kernels). Random weights and random calibration inputs: the drift
  against FP32 says how much the numbers move, not what accuracy a trained model keeps.

Files live in a directory the caller owns (``tempfile.TemporaryDirectory``). A failed
export or quantisation removes what it had written before re-raising, so a long-lived
directory (a Table 8 job's) does not keep half-written files.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

INPUT_NAME = "image"
OUTPUT_NAME = "scores"
OPSET = 17
CALIBRATION_INPUTS = 4


def cpu_has_vnni() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return False
    return "avx512_vnni" in text or "avx_vnni" in text


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's tracer warnings (shape-dependent Python code is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _removed_on_error(*paths: str) -> Iterator[None]:
    """Delete ``paths`` (if they exist) when the block raises, then re-raise."""
    try:
        yield
    except BaseException:
        for path in paths:
            with contextlib.suppress(OSError):
                os.remove(path)
        raise


@contextlib.contextmanager
def _no_logging() -> Iterator[None]:
    """onnxruntime.quantization logs advice at WARNING on the root logger; keep it off the CLI/app."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def export_onnx(model: nn.Module, input_size: tuple[int, int], path: str, batch: int = 1, dynamic: bool = True) -> str:
    """Export ``model`` (eval mode) to ``path``; check it. ``dynamic``: batch/height/width axes."""
    import onnx

    example = torch.randn(batch, 3, *input_size)
    axes = {0: "batch", 2: "height", 3: "width"}
    dynamic_axes = {INPUT_NAME: axes, OUTPUT_NAME: {0: "batch"}} if dynamic else None
    with _removed_on_error(path):
        with _quiet(), torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(
                model,
                (example,),
                path,
                dynamo=False,
                opset_version=OPSET,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes=dynamic_axes,
            )
        onnx.checker.check_model(path)
    return path


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with each Conv2d -> BatchNorm2d pair folded into the conv."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        children = list(module.named_children())
        for (name_a, a), (name_b, b) in zip(children, children[1:]):
            if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                setattr(module, name_a, fuse_conv_bn_eval(a, b))
                setattr(module, name_b, nn.Identity())
    return folded


def session_options(threads: int, optimization: str = "all"):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    levels = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }
    options.graph_optimization_level = levels[optimization]
    options.log_severity_level = 3  # errors only
    return options


def ort_session(path: str, threads: int, optimization: str = "all", profile_prefix: str | None = None):
    import onnxruntime as ort

    options = session_options(threads, optimization)
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class _RandomImages:
    """Calibration data reader: a few random normal images (seeded)."""

    def __init__(self, shape: tuple[int, ...], count: int, seed: int = 1) -> None:
        generator = np.random.default_rng(seed)
        self._items = iter([{INPUT_NAME: generator.standard_normal(shape, dtype=np.float32)} for _ in range(count)])

    def get_next(self):
        return next(self._items, None)

    def rewind(self) -> None:  # pragma: no cover - not used by MinMax
        pass


def quantize_int8(
    fp32_path: str,
    out_path: str,
    input_size: tuple[int, int],
    batch: int = 1,
    calibration_inputs: int = CALIBRATION_INPUTS,
) -> str:
    """Statically quantise ``fp32_path`` to INT8 (QDQ) into ``out_path``; returns it."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = out_path + ".pre.onnx"
    with _removed_on_error(out_path, prepared):
        with _quiet(), _no_logging(), contextlib.redirect_stdout(io.StringIO()):
            # ORT's own optimiser first (folds BN into the convs), then shape inference, then quantise.
            quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
            quantize_static(
                prepared,
                out_path,
                _RandomImages((batch, 3, *input_size), calibration_inputs),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=not cpu_has_vnni(),
                calibrate_method=CalibrationMethod.MinMax,
            )
        os.remove(prepared)
        onnx.checker.check_model(out_path)
    return out_path


def max_abs_difference(reference: np.ndarray, candidate: np.ndarray) -> float:
    if reference.shape != candidate.shape:
        raise ValueError(f"output shapes differ: {reference.shape} vs {candidate.shape}")
    return float(np.max(np.abs(reference.astype(np.float64) - candidate.astype(np.float64))))
