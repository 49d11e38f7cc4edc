"""The tensor contract vocabulary: a named input or output with its element types and shape.

Shared by the model manifests (what a model must have) and the inference backends (what a
loaded model has), so it lives with the models, below the backends that implement them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple, Union

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
