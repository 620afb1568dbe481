"""OpenVINO on the CPU: compile an exported ONNX model (FP32, INT8, BF16) and run it; its MatMul for the roofline.

The ``openvino`` backends run the same ONNX files as ONNX Runtime (``explorer.latency.export``):
``openvino`` the FP32 export, ``openvino-int8`` ONNX Runtime's INT8 (QDQ) quantisation of it,
which OpenVINO's CPU plugin turns into INT8 kernels, and ``openvino-bf16`` the FP32 export
computed in bfloat16. Each is compiled with:

* ``INFERENCE_PRECISION_HINT`` set explicitly (``f32``; ``bf16`` for the BF16 backend):
  on a CPU with AVX-512 BF16 or AMX OpenVINO's default is bf16, which would silently
  turn an "FP32" number into a reduced-precision one;
* a **static input shape**: the model is reshaped to ``[batch, 3, H, W]`` before compiling
  (AlexNet's and MobileNet's exports have dynamic axes; a static shape lets the plugin
  pick its kernels and memory layout once);
* the ``LATENCY`` performance hint, one stream (``NUM_STREAMS=1``) and
  ``INFERENCE_NUM_THREADS`` = the runner's thread count, so OpenVINO uses exactly the
  threads PyTorch and ONNX Runtime are given. ``compile_onnx`` reads the compiled
  model's properties back and refuses a compilation that did not take them.

BF16 is offered only where the CPU plugin lists ``BF16`` among its
``OPTIMIZATION_CAPABILITIES`` (AVX-512 BF16 or AMX); ``bf16_unavailable_reason()`` says
why not otherwise. ``import openvino`` takes about a second, so it happens on first use.
OpenVINO's usage telemetry lives in its model-conversion tool (``ovc``, opt-in), which
the explorer never calls.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .export import INPUT_NAME

PRECISIONS = {"openvino": "f32", "openvino-int8": "f32", "openvino-bf16": "bf16"}  # INFERENCE_PRECISION_HINT
DEVICE = "CPU"
_CORE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def core():
    """The process's ``openvino.Core`` with its CPU plugin loaded (one per process: the plugin owns the thread
    pools), so that loading it is not counted as any model's compile time."""
    import openvino as ov

    with _CORE_LOCK:
        instance = ov.Core()
        instance.get_property(DEVICE, "FULL_DEVICE_NAME")  # loads the plugin
        return instance


def capabilities() -> tuple[str, ...]:
    """The CPU plugin's ``OPTIMIZATION_CAPABILITIES`` (e.g. FP32, INT8, BF16)."""
    return tuple(str(c) for c in core().get_property(DEVICE, "OPTIMIZATION_CAPABILITIES"))


@functools.lru_cache(maxsize=1)
def bf16_unavailable_reason() -> str | None:
    """Why ``openvino-bf16`` is not offered on this machine, or None when it is."""
    try:
        found = capabilities()
    except Exception as error:  # noqa: BLE001 - OpenVINO missing or broken: BF16 is not offered, and why
        return f"OpenVINO's CPU plugin could not be asked ({type(error).__name__}: {error})"
    if "BF16" in found:
        return None
    return (
        "OpenVINO's CPU plugin reports no BF16 support on this CPU (its OPTIMIZATION_CAPABILITIES are "
        f"{', '.join(found) or 'empty'}); bfloat16 needs AVX-512 BF16 or AMX"
    )


def properties(threads: int, precision: str = "f32") -> dict:
    """What every OpenVINO compilation here is given: precision, LATENCY hint, one stream, ``threads`` threads."""
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    return {
        hints.inference_precision: {"f32": ov.Type.f32, "bf16": ov.Type.bf16}[precision],
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        props.num_streams: 1,
        props.inference_num_threads: threads,
    }


def _check_compiled(compiled, threads: int, precision: str) -> None:
    """The compiled model must run as asked: OpenVINO may otherwise adjust hints silently."""
    import openvino.properties as props
    import openvino.properties.hint as hints

    got_precision = str(compiled.get_property(hints.inference_precision))
    got_threads = int(compiled.get_property(props.inference_num_threads))
    expected = {"f32": "f32", "bf16": "bf16"}[precision]
    if expected not in got_precision.lower().replace("float32", "f32").replace("bfloat16", "bf16"):
        raise RuntimeError(f"OpenVINO compiled with inference precision {got_precision}, not the {precision} asked")
    if got_threads != threads:
        raise RuntimeError(f"OpenVINO compiled with INFERENCE_NUM_THREADS={got_threads}, not the {threads} asked")


@dataclass
class Compiled:
    """A compiled model with one infer request whose input is bound to ``image`` (no copy per run)."""

    request: object
    image: np.ndarray  # kept alive: the request reads it in place
    compile_s: float  # read + reshape + compile, seconds

    def run(self) -> None:
        self.request.infer()

    def output(self) -> np.ndarray:
        return np.array(self.request.get_output_tensor(0).data, copy=True)


def compile_onnx(
    path: str, image: np.ndarray, threads: int, precision: str = "f32", profiling: bool = False
) -> Compiled:
    """Read ``path``, reshape its input to ``image``'s shape (static), compile it, bind ``image`` to a request;
    ``profiling`` turns on the per-layer times (``request.profiling_info``)."""
    import openvino as ov
    import openvino.properties as props

    runtime = core()
    start = time.perf_counter()
    model = runtime.read_model(path)
    model.reshape({INPUT_NAME: list(image.shape)})
    settings = {**properties(threads, precision), props.enable_profiling: profiling}
    compiled = runtime.compile_model(model, DEVICE, settings)
    _check_compiled(compiled, threads, precision)
    compile_s = time.perf_counter() - start
    image = np.ascontiguousarray(image, dtype=np.float32)
    request = compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(image, shared_memory=True))
    return Compiled(request, image, compile_s)


def matmul(a: np.ndarray, b: np.ndarray, threads: int) -> Callable[[], np.ndarray]:
    """One FP32 ``a @ b`` compiled by OpenVINO at ``threads`` threads (for the GEMM roofline); returns a run
    that computes it and returns the product."""
    import openvino as ov
    from openvino import opset13 as ops

    left = ops.parameter(list(a.shape), ov.Type.f32, name="a")
    right = ops.parameter(list(b.shape), ov.Type.f32, name="b")
    model = ov.Model([ops.matmul(left, right, False, False)], [left, right], "gemm")
    compiled = core().compile_model(model, DEVICE, properties(threads, "f32"))
    _check_compiled(compiled, threads, "f32")
    request = compiled.create_infer_request()
    inputs = [np.ascontiguousarray(a, dtype=np.float32), np.ascontiguousarray(b, dtype=np.float32)]
    for index, array in enumerate(inputs):
        request.set_input_tensor(index, ov.Tensor(array, shared_memory=True))

    def run(keep: list[np.ndarray] = inputs) -> np.ndarray:  # the request reads ``keep`` in place: hold on to it
        request.infer()
        return request.get_output_tensor(0).data  # a view of OpenVINO's output buffer, no copy

    return run
