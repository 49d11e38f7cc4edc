"""TensorRT data types as numpy dtypes, decided here rather than by `tensorrt.nptype()`.

TensorRT 8.5.2 (JetPack 5.1.x) builds its whole lookup table inside `nptype()`, including the
entry `trt.bool: np.bool` (NVIDIA/TensorRT tag 8.5.2, python/packaging/tensorrt/__init__.py).
numpy 1.24 removed the `np.bool` alias (it came back only in numpy 2.0), and pip installs
numpy 1.24.4 on Ubuntu 20.04's Python 3.8, so every `trt.nptype(...)` call there raises
AttributeError, whatever type is asked for. This table names numpy's own scalar types, looks
TensorRT's members up by name (a member a version lacks is simply absent) and says which type
it cannot map instead of failing somewhere deeper.
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np

# TensorRT DataType member name -> numpy dtype. Names from the TensorRT Python API reference
# ("tensorrt.DataType": FLOAT, HALF, INT8, INT32, BOOL, UINT8 in 8.5/8.6; INT64, BF16, FP8,
# INT4 added in 9.x/10.x). BF16/FP8/INT4/FP4 have no numpy dtype and are refused.
_NUMPY_BY_TRT_NAME: Dict[str, "np.dtype[Any]"] = {
    "FLOAT": np.dtype(np.float32),
    "HALF": np.dtype(np.float16),
    "INT8": np.dtype(np.int8),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
}


def trt_type_name(trt: Any, trt_dtype: Any) -> str:
    """The DataType member name (`FLOAT`, `HALF`, ...) of `trt_dtype`, found by identity."""
    for name in dir(trt.DataType):
        if not name.isupper():
            continue
        if getattr(trt.DataType, name, None) == trt_dtype:
            return name
    return str(trt_dtype)


def numpy_dtype(trt: Any, trt_dtype: Any) -> "np.dtype[Any]":
    """numpy dtype of a TensorRT tensor; TypeError naming the type when numpy has none."""
    name = trt_type_name(trt, trt_dtype)
    dtype = _NUMPY_BY_TRT_NAME.get(name)
    if dtype is None:
        raise TypeError(f"TensorRT data type {name} has no numpy equivalent; edge-agent binds "
                        f"only {', '.join(sorted(_NUMPY_BY_TRT_NAME))} tensors")
    return dtype
