"""The CUDA binding the TensorRT path uses: NVIDIA's cuda-python runtime API, thinly wrapped.

Why cuda-python and not pycuda (the evidence is in docs/engines.md, "CUDA binding"): PyPI has
aarch64 wheels of cuda-python for Python 3.8 (JetPack 5) and 3.10 (JetPack 6) while pycuda is
source-only and needs nvcc on the device; TensorRT's own samples moved to it
(NVIDIA/TensorRT samples/python/common_runtime.py: cudaMallocHost, cudaMalloc,
cudaMemcpyAsync, cudaStreamCreate, cudaStreamSynchronize, cudaFree, cudaFreeHost); and the
runtime API works on the device's primary context from any thread, so a buffer allocated on
the loading thread may be used and freed on the inference thread - pycuda's explicit contexts
refuse that ("cannot activate out-of-thread context", inducer/pycuda src/cpp/cuda.hpp).

Every call returns `(cudaError_t, value...)`; `_check` turns an error into CudaError naming the
call. The module is imported lazily (`cuda.bindings.runtime` from cuda-python 12.6.1 on,
`cuda.cudart` before), so importing this file costs nothing on the CPU path.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Tuple

INSTALL_HINT = ("install NVIDIA's CUDA Python bindings into the agent's venv with the JetPack "
                "constraints: `/opt/edge-agent/venv/bin/pip install -c "
                "/usr/share/edge-agent/constraints-jetpack6.txt cuda-python` (jetpack5 on "
                "JetPack 5; deploy/install.sh does this)")


class CudaError(RuntimeError):
    """A CUDA runtime call failed; the message names the call and CUDA's error."""


def import_cudart() -> Any:
    """The cuda-python runtime module; ImportError (with the install hint) when absent."""
    errors = []
    for name in ("cuda.bindings.runtime", "cuda.cudart"):
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise ImportError("no CUDA Python binding (" + "; ".join(errors) + ")")


@dataclass(frozen=True)
class CudaProbe:
    """Whether the binding is usable: importable, a driver answering, at least one device."""

    ok: bool
    detail: str


def probe(cudart: Any = None) -> CudaProbe:
    """Import the binding and ask the driver for its version and device count."""
    try:
        runtime = cudart if cudart is not None else import_cudart()
    except ImportError as exc:
        return CudaProbe(False, f"{exc}; {INSTALL_HINT}")
    try:
        driver = CudaRuntime(runtime).call("cudaDriverGetVersion")
        devices = CudaRuntime(runtime).call("cudaGetDeviceCount")
    except Exception as exc:  # noqa: BLE001 - cuda-python raises RuntimeError without a driver
        # e.g. "Failed to dlopen libcuda.so.1" (cuda-python 12.2.1 on a machine with no driver)
        return CudaProbe(False, f"CUDA driver not usable: {exc}")
    if int(devices) < 1:
        return CudaProbe(False, "CUDA reports no device (is /dev/nvhost-* or /dev/nvidia* "
                         "reachable from this process?)")
    version = int(driver)
    return CudaProbe(True, f"cuda-python, driver CUDA {version // 1000}.{version % 1000 // 10}, "
                     f"{int(devices)} device(s)")


class CudaRuntime:
    """The handful of runtime calls the engine needs, each checked."""

    def __init__(self, cudart: Any = None) -> None:
        self._rt = cudart if cudart is not None else import_cudart()

    def call(self, name: str, *args: Any) -> Any:
        """Call `cudart.<name>(*args)`; the value(s) after the error code, or CudaError."""
        result: Tuple[Any, ...] = getattr(self._rt, name)(*args)
        err, values = result[0], result[1:]
        if err != self._rt.cudaError_t.cudaSuccess:
            raise CudaError(f"{name} failed: {err}")
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def malloc_host(self, nbytes: int) -> int:
        """Page-locked host memory (cudaMallocHost)."""
        return int(self.call("cudaMallocHost", nbytes))

    def free_host(self, pointer: int) -> None:
        self.call("cudaFreeHost", pointer)

    def malloc(self, nbytes: int) -> int:
        """Device memory (cudaMalloc)."""
        return int(self.call("cudaMalloc", nbytes))

    def free(self, pointer: int) -> None:
        self.call("cudaFree", pointer)

    def stream_create(self) -> Any:
        return self.call("cudaStreamCreate")

    def stream_destroy(self, stream: Any) -> None:
        self.call("cudaStreamDestroy", stream)

    def synchronize(self, stream: Any) -> None:
        self.call("cudaStreamSynchronize", stream)

    def copy_to_device(self, device: int, host: int, nbytes: int, stream: Any) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self.call("cudaMemcpyAsync", device, host, nbytes, kind, stream)

    def copy_to_host(self, host: int, device: int, nbytes: int, stream: Any) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self.call("cudaMemcpyAsync", host, device, nbytes, kind, stream)
