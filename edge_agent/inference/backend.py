"""What every inference backend (ONNX Runtime on CPU, TensorRT on Jetson) promises.

Backends are interchangeable: they take a batch of named input arrays and return named
output arrays, with the batch dimension first. Model-family code (preprocess, decode) never
knows which backend ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Sequence, Tuple, Union

import numpy as np
from typing_extensions import Protocol

# A dimension is a fixed size or a symbolic name (e.g. "N" for a dynamic batch).
Dim = Union[int, str]


@dataclass(frozen=True)
class TensorSpec:
    """Name, accepted element types and shape of one model input or output.

    dtypes lists every element type the contract accepts (PeopleSemSegNet's `argmax_1` is
    INT64 in the ONNX but may be INT32 in a TensorRT engine), the first being the canonical one.
    """

    name: str
    dtypes: Tuple[str, ...]
    shape: Tuple[Dim, ...]
    layout: str = ""

    def accepts_dtype(self, dtype: str) -> bool:
        """True when `dtype` (a numpy name such as 'float32') satisfies the contract."""
        return dtype in self.dtypes

    def accepts_shape(self, shape: Sequence[Dim]) -> bool:
        """True when a concrete or symbolic shape fits: fixed dims equal, symbolic dims free."""
        if len(shape) != len(self.shape):
            return False
        for want, got in zip(self.shape, shape):
            if isinstance(want, int) and isinstance(got, int) and want != got:
                return False
        return True


class InferenceBackend(Protocol):
    """A loaded model ready to run; `close()` releases it."""

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        """Input tensors as the loaded model declares them."""
        ...

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        """Output tensors as the loaded model declares them."""
        ...

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Run one batch; keys are tensor names, arrays have the batch dimension first."""
        ...

    def close(self) -> None:
        """Release the model's memory and threads."""
        ...
