"""Checks that a loaded model, and each batch fed to it, match the reviewed manifest.

A model with a renamed tensor, an FP16 input or a different resolution would load and run and
silently produce garbage downstream. Checking once at load time turns that into one error that
lists every difference, naming the tensor, what the model has and what the manifest requires,
so a user swapping model files fixes everything in one go instead of one error per restart.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np

from edge_agent.errors import ModelContractError
from edge_agent.models.manifest import ModelManifest
from edge_agent.models.tensor_spec import Dim, TensorSpec

# Shape placeholder a backend reports for a dynamic dimension without a name.
UNNAMED_DIM = "?"


def _fmt_shape(shape: Sequence[Dim]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _compare(kind: str, have: TensorSpec, want: TensorSpec) -> List[str]:
    """Differences between one model tensor and its manifest entry."""
    problems: List[str] = []
    if not any(want.accepts_dtype(d) for d in have.dtypes):
        problems.append(
            f"{kind} {want.name!r}: model has dtype {'/'.join(have.dtypes)}, "
            f"manifest requires {' or '.join(want.dtypes)}"
        )
    if len(have.shape) != len(want.shape):
        problems.append(
            f"{kind} {want.name!r}: model has {len(have.shape)}-D shape {_fmt_shape(have.shape)}, "
            f"manifest requires {len(want.shape)}-D {_fmt_shape(want.shape)}"
        )
        return problems
    for axis, (got, need) in enumerate(zip(have.shape, want.shape)):
        if isinstance(need, int) and isinstance(got, int) and got != need:
            problems.append(
                f"{kind} {want.name!r}: model has dim {axis} = {got} "
                f"(shape {_fmt_shape(have.shape)}), manifest requires {need} "
                f"(shape {_fmt_shape(want.shape)})"
            )
    return problems


def contract_problems(
    backend_inputs: Sequence[TensorSpec],
    backend_outputs: Sequence[TensorSpec],
    manifest: ModelManifest,
) -> List[str]:
    """Every mismatch between a loaded model's tensors and the manifest, as sentences.

    Required: every manifest tensor exists with an accepted dtype, the same rank and equal fixed
    dims (a dynamic dim on either side matches anything). The model may declare extra outputs
    (they are ignored) but not extra inputs (nothing would feed them).
    """
    problems: List[str] = []
    for kind, have_list, want_list in (
        ("input", backend_inputs, manifest.input_specs()),
        ("output", backend_outputs, manifest.output_specs()),
    ):
        have_by_name = {t.name: t for t in have_list}
        for want in want_list:
            have = have_by_name.get(want.name)
            if have is None:
                names = ", ".join(repr(n) for n in have_by_name) or "none"
                problems.append(
                    f"{kind} {want.name!r}: missing from the model (model {kind}s: {names})"
                )
            else:
                problems.extend(_compare(kind, have, want))
    wanted_inputs = {t.name for t in manifest.inputs}
    for extra in backend_inputs:
        if extra.name not in wanted_inputs:
            problems.append(
                f"input {extra.name!r}: the model requires it but the manifest does not list it"
            )
    return problems


def check_contract(
    backend_inputs: Sequence[TensorSpec],
    backend_outputs: Sequence[TensorSpec],
    manifest: ModelManifest,
) -> None:
    """Raise one ModelContractError listing every mismatch; return quietly when they agree."""
    problems = contract_problems(backend_inputs, backend_outputs, manifest)
    if problems:
        raise ModelContractError(
            f"model {manifest.name!r} does not match its manifest "
            f"({len(problems)} problem{'s' if len(problems) > 1 else ''}): "
            + "; ".join(problems),
            f"use the model file the manifest describes ({manifest.ngc_model or 'NGC'} "
            f"{manifest.ngc_version} {manifest.file}) or regenerate the stand-in with "
            f"`edge-agent models standin {manifest.name} --out <dir>`",
        )


def check_batch(feeds: Mapping[str, np.ndarray], specs: Sequence[TensorSpec]) -> None:
    """Raise one ModelContractError if `feeds` cannot be fed to inputs `specs`.

    Checks every input is present and no unknown one is, dtypes (the canonical or an accepted
    one), ranks and fixed dims, and that a symbolic dim (e.g. the batch "N") has one size across
    all inputs that share its name.
    """
    problems: List[str] = []
    wanted = {s.name for s in specs}
    for name in feeds:
        if name not in wanted:
            problems.append(f"feed {name!r} is not a model input ({', '.join(sorted(wanted))})")
    bound: Dict[str, int] = {}
    for spec in specs:
        array = feeds.get(spec.name)
        if array is None:
            problems.append(f"input {spec.name!r} is missing from the batch")
            continue
        if not spec.accepts_dtype(array.dtype.name):
            problems.append(
                f"input {spec.name!r}: got dtype {array.dtype.name}, "
                f"needs {' or '.join(spec.dtypes)}"
            )
        if not spec.accepts_shape(array.shape):
            problems.append(
                f"input {spec.name!r}: got shape {_fmt_shape(array.shape)}, "
                f"needs {_fmt_shape(spec.shape)}"
            )
            continue
        for dim, size in zip(spec.shape, array.shape):
            if isinstance(dim, str) and dim != UNNAMED_DIM:
                first = bound.setdefault(dim, size)
                if first != size:
                    problems.append(
                        f"input {spec.name!r}: dim {dim} = {size} but another input has "
                        f"{dim} = {first}"
                    )
    if problems:
        raise ModelContractError(
            "batch does not fit the model inputs: " + "; ".join(problems),
            "this is a bug in the caller that built the batch; report it with this message",
        )
