"""ONNX Runtime backend: runs the ONNX models (real or stand-in) where there is no TensorRT.

Used on development machines and CI (CPU) and as a fallback on Jetson. `onnxruntime` is
imported inside the constructor, so importing this module (e.g. for type checks or the CLI's
help) works on a device that only has TensorRT. Every failure ONNX Runtime can raise while
loading or running a model is re-raised as a ModelContractError naming the model file, because
ORT's own messages do not say which of several loaded models failed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from edge_agent.errors import ConfigError, EdgeAgentError, InputNotFoundError, ModelContractError
from edge_agent.inference.contract import UNNAMED_DIM, check_batch
from edge_agent.models.tensor_spec import Dim, TensorSpec

DEFAULT_PROVIDERS: Tuple[str, ...] = ("CPUExecutionProvider",)

# ORT reports element types as 'tensor(<onnx name>)'; the contract speaks numpy names.
_ORT_TO_NUMPY: Dict[str, str] = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "str",
}


def numpy_dtype_name(ort_type: str) -> str:
    """'tensor(float)' -> 'float32'; unknown types pass through unchanged (and fail contracts)."""
    return _ORT_TO_NUMPY.get(ort_type, ort_type)


def _to_spec(node: Any) -> TensorSpec:
    """TensorSpec of an ORT NodeArg; unnamed dynamic dims become '?'."""
    dims: List[Dim] = []
    for d in node.shape:
        if isinstance(d, int) or (isinstance(d, str) and d):
            dims.append(d)
        else:
            dims.append(UNNAMED_DIM)
    return TensorSpec(name=node.name, dtypes=(numpy_dtype_name(node.type),), shape=tuple(dims))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a systemd CPUAffinity=)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def thread_counts(requested: int, cpus: int) -> Tuple[int, int]:
    """(intra-op, inter-op) thread counts, both explicit.

    With intra_op_num_threads left at 0 ONNX Runtime sizes its pool itself and pins each
    thread to a core with pthread_setaffinity_np; under the unit's `SystemCallFilter=
    ~@resources` that call fails with EPERM and ORT logs an error per thread ("Specify the
    number of threads explicitly so the affinity is not set", onnxruntime
    core/platform/posix/env.cc). An explicit count means no pinning. Inter-op is 1: the models
    run sequentially (ORT_SEQUENTIAL is the default execution mode).
    """
    return (requested if requested > 0 else max(1, cpus)), 1


class OnnxRuntimeBackend:
    """An ONNX model loaded in an ONNX Runtime InferenceSession (implements InferenceBackend).

    `providers` are ORT execution provider names in priority order (empty = CPU); each must be
    available in the installed onnxruntime build. `threads` > 0 sets the intra-op threads
    (useful when several models share a small CPU); 0 means one per usable core. Either way
    the count is passed explicitly, so ORT never pins threads (see thread_counts).
    """

    def __init__(self, model_path: Path, providers: Sequence[str], threads: int = 0) -> None:
        import onnxruntime

        self.model_path = Path(model_path)
        available = list(onnxruntime.get_available_providers())
        wanted = list(providers) or list(DEFAULT_PROVIDERS)
        unknown = [p for p in wanted if p not in available]
        if unknown:
            raise ConfigError(
                f"models.providers names {', '.join(unknown)}, which this onnxruntime build "
                f"does not have",
                f"set models.providers to some of: {', '.join(available)}",
            )
        if threads < 0:
            raise ConfigError(
                f"ONNX Runtime thread count {threads} is negative", "use 0 (all cores) or more"
            )
        if not self.model_path.is_file():
            raise InputNotFoundError(
                f"model file {self.model_path} does not exist",
                "check the models directory, or generate a stand-in with "
                "`edge-agent models standin <name> --out <dir>`",
            )
        options = onnxruntime.SessionOptions()
        self.thread_counts = thread_counts(threads, usable_cpus())
        options.intra_op_num_threads, options.inter_op_num_threads = self.thread_counts
        # Worker threads that spin while idle steal the CPU that capture and preprocessing
        # need on a 2- to 6-core Jetson; blocking waits cost ~1 ms per run and leave it free.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session: Optional[Any] = onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=wanted
            )
        except Exception as exc:  # ORT's pybind errors share no base but Exception
            raise ModelContractError(
                f"ONNX Runtime cannot load model file {self.model_path}: {exc}",
                "the file is corrupt or not an ONNX model: download or regenerate it",
            ) from exc
        self._inputs = tuple(_to_spec(n) for n in self._session.get_inputs())
        self._outputs = tuple(_to_spec(n) for n in self._session.get_outputs())
        self.providers: Tuple[str, ...] = tuple(self._session.get_providers())

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        """Input tensors as the model file declares them."""
        return self._inputs

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        """Output tensors as the model file declares them."""
        return self._outputs

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Run one batch; returns every output by name."""
        session = self._session
        if session is None:
            raise EdgeAgentError(f"model {self.model_path} was used after close()")
        check_batch(feeds, self._inputs)
        names = [o.name for o in self._outputs]
        try:
            results = session.run(names, dict(feeds))
        except Exception as exc:  # ORT's pybind errors share no base but Exception
            raise ModelContractError(
                f"ONNX Runtime failed running model {self.model_path}: {exc}",
                "check that the model file is the one its manifest describes; if it is, "
                "report this message as a bug",
            ) from exc
        return {name: np.asarray(value) for name, value in zip(names, results)}

    def close(self) -> None:
        """Drop the session; ORT frees its memory and thread pool when it is collected."""
        self._session = None
