"""What every inference backend (ONNX Runtime on CPU, TensorRT on Jetson) promises.

Backends are interchangeable: they take a batch of named input arrays and return named
output arrays, with the batch dimension first. Model-family code (preprocess, decode) never
knows which backend ran.
"""

from __future__ import annotations

from typing import Dict, Mapping, Sequence

import numpy as np
from typing_extensions import Protocol

from edge_agent.models.tensor_spec import TensorSpec


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
