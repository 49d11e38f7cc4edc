"""Pinned host + device buffers per tensor, allocated once and reused for every shape that fits.

The first TensorRT path allocated a page-locked output array on every inference and let the
garbage collector free it later, on whatever thread and context happened to be current; with
pycuda that free was refused and the memory leaked (2 MB of `argmax_1` per frame). Here every
tensor owns one pinned host block and one device block. A shape that fits in them (a smaller
batch: ReID sees a different number of crops every frame) gets a view of the same blocks; only
a larger one replaces them, so after the largest batch has been seen once, inference
allocates nothing. `close()` frees everything explicitly. `allocations` counts every malloc,
which is what the tests and `selftest` check.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Dict, Tuple

import numpy as np
from typing_extensions import Protocol


class Allocator(Protocol):
    """What the buffers need from CUDA (tensorrt_cuda.CudaRuntime, or a test FAKE)."""

    def malloc_host(self, nbytes: int) -> int: ...

    def free_host(self, pointer: int) -> None: ...

    def malloc(self, nbytes: int) -> int: ...

    def free(self, pointer: int) -> None: ...


@dataclass
class Binding:
    """One tensor's buffers: `host` is a numpy view of `shape` over the pinned block;
    `nbytes` is what that shape uses, `capacity` what the blocks hold."""

    shape: Tuple[int, ...]
    dtype: "np.dtype[Any]"
    host_pointer: int
    device_pointer: int
    host: np.ndarray
    nbytes: int
    capacity: int


def pinned_view(pointer: int, shape: Tuple[int, ...], dtype: "np.dtype[Any]") -> np.ndarray:
    """A numpy array over `pointer` (no copy); the memory stays owned by the allocator."""
    nbytes = max(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, 1)
    raw = memoryview((ctypes.c_uint8 * nbytes).from_address(pointer)).cast("B")
    flat: np.ndarray = np.frombuffer(raw, dtype=np.uint8, count=nbytes)
    count = int(np.prod(shape, dtype=np.int64))
    view: np.ndarray = flat[:count * dtype.itemsize].view(dtype).reshape(shape)
    return view


class BindingBuffers:
    """Buffers of every tensor of one engine."""

    def __init__(self, allocator: Allocator) -> None:
        self._allocator = allocator
        self._bindings: Dict[str, Binding] = {}
        self.allocations = 0  # mallocs (host + device) since construction

    def get(self, name: str, shape: Tuple[int, ...], dtype: "np.dtype[Any]") -> Binding:
        """The buffers for `name` viewed at `shape`; new blocks only when it does not fit."""
        nbytes = max(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, 1)
        current = self._bindings.get(name)
        if current is not None and current.capacity >= nbytes:
            if current.shape != shape or current.dtype != dtype:
                current.host = pinned_view(current.host_pointer, shape, dtype)
                current.shape, current.dtype, current.nbytes = shape, dtype, nbytes
            return current
        if current is not None:
            self._release(current)
            del self._bindings[name]
        host_pointer = self._allocator.malloc_host(nbytes)
        try:
            device_pointer = self._allocator.malloc(nbytes)
        except BaseException:
            self._allocator.free_host(host_pointer)
            raise
        self.allocations += 2
        binding = Binding(shape, dtype, host_pointer, device_pointer,
                          pinned_view(host_pointer, shape, dtype), nbytes, nbytes)
        self._bindings[name] = binding
        return binding

    def _release(self, binding: Binding) -> None:
        binding.host = np.empty(0, dtype=binding.dtype)  # drop the view before the memory
        self._allocator.free(binding.device_pointer)
        self._allocator.free_host(binding.host_pointer)

    def close(self) -> None:
        """Free every buffer (idempotent)."""
        bindings, self._bindings = self._bindings, {}
        for binding in bindings.values():
            self._release(binding)
