"""`edge-agent doctor`: what this device is and whether the agent can run well on it.

Each check yields a line with a status: `ok`, `warn` (works, but not as well as it could: e.g.
no cached engine yet, a hot device) or `fail` (blocking: the agent cannot do its job, e.g. the
broker is unreachable or a configured model is missing). The command exits non-zero when any
check fails, so provisioning scripts can gate on it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from edge_agent.device.identity import CPU_ONLY, DeviceIdentity
from edge_agent.device.profiles import ProfileChoice
from edge_agent.inference.tensorrt_cache import EngineCache, check_file
from edge_agent.inference.tensorrt_version import same_release

HOT_C = 85.0  # Orin/Xavier start throttling in the high 80s °C; UNCONFIRMED exact trip points


@dataclass(frozen=True)
class Check:
    """One doctor line."""

    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str

    def render(self) -> str:
        """`[ ok ] name: detail`."""
        return f"[{self.status:^4}] {self.name}: {self.detail}"


def identity_checks(identity: DeviceIdentity, choice: ProfileChoice) -> List[Check]:
    """Device, software stack and the chosen profile."""
    checks = [Check("device", "ok", f"{identity.kind} {identity.module or ''} "
                    f"{identity.model or ''}".strip())]
    if identity.l4t:
        checks.append(Check("l4t", "ok", f"L4T {identity.l4t} (JetPack "
                            f"{identity.jetpack or 'unknown'})"))
    checks.append(Check(
        "tensorrt", "ok" if identity.tensorrt or identity.kind == CPU_ONLY else "warn",
        f"TensorRT {identity.tensorrt or 'not installed'}, CUDA {identity.cuda or 'not found'}"))
    checks.append(Check("profile", "warn" if choice.fallback else "ok", choice.reason))
    return checks


def telemetry_checks(snapshot: dict) -> List[Check]:  # type: ignore[type-arg]
    """Power mode and temperatures from a DeviceTelemetry snapshot."""
    mode = snapshot.get("power_mode") or {}
    checks = []
    if mode:
        budget = "uncapped" if mode.get("uncapped") else f"{mode.get('budget_w') or '?'} W"
        checks.append(Check("power mode", "ok", f"{mode.get('name')} (id {mode.get('id')}, "
                            f"{budget})"))
    hottest = snapshot.get("max_temp_c")
    if hottest is not None:
        status = "warn" if hottest >= HOT_C else "ok"
        checks.append(Check("temperature", status, f"hottest zone {hottest:.1f} °C"))
    if snapshot.get("power_mw") is not None:
        checks.append(Check("power", "ok", f"{snapshot['power_mw'] / 1000:.2f} W"))
    return checks


def software_checks(identity: DeviceIdentity, wants_tensorrt: bool,
                    root: Path = Path("/")) -> List[Check]:
    """numpy vs the system's compiled modules; on the TensorRT path also TensorRT's version
    (minimum, package vs module) and the CUDA binding - all before any engine build."""
    from edge_agent.device import python_env
    from edge_agent.inference import tensorrt_cuda, tensorrt_version

    checks: List[Check] = []
    venv, system = python_env.numpy_versions(root)
    problem = python_env.numpy_problem(venv, system)
    checks.append(Check("numpy", "fail", f"{problem}; fix: {python_env.numpy_fix()}")
                  if problem else Check("numpy", "ok", f"numpy {venv}" + (
                      f" (system {system})" if system else "")))
    if not wants_tensorrt:
        return checks
    module = _tensorrt_module_version()
    installed = identity.tensorrt or module
    refusal = tensorrt_version.refusal(installed) if installed else ""
    if refusal:
        checks.append(Check("tensorrt version", "fail", refusal))
    elif module and identity.tensorrt and not tensorrt_version.same_release(
            module, identity.tensorrt):
        checks.append(Check("tensorrt version", "fail", f"the tensorrt module is {module} but "
                            f"the installed package is {identity.tensorrt}: a second TensorRT "
                            "shadows JetPack's (remove the pip one from the venv)"))
    elif installed:
        checks.append(Check("tensorrt version", "ok", f"TensorRT {installed}"
                            + (f" (module {module})" if module and module != installed else "")))
    probe = tensorrt_cuda.probe()
    checks.append(Check("cuda binding", "ok" if probe.ok else "fail", probe.detail))
    return checks


def _tensorrt_module_version() -> str:
    """`tensorrt.__version__` ('' when it does not import)."""
    try:
        import importlib

        return str(importlib.import_module("tensorrt").__version__)
    except Exception:  # noqa: BLE001 - a broken install is reported by the version line
        return ""


def _dla_text(header: Dict[str, object], key: Dict[str, object]) -> str:
    """'dla core 0: 12 layer(s) on the DLA' etc. for one engine header."""
    core = key.get("dla_core")
    if not isinstance(core, int) or core < 0:
        return "GPU"
    layers = header.get("dla_layers")
    if not isinstance(layers, int):
        return f"dla core {core}: DLA layer count unknown (engine built before it was recorded)"
    return f"dla core {core}: {layers} layer(s) on the DLA" + (
        " — everything fell back to the GPU" if layers == 0 else "")


def engine_checks(cache_dir: Path, device_id: str, tensorrt: str) -> List[Check]:
    """Engines in the cache: intact and built for this device and TensorRT version?"""
    cache = EngineCache(cache_dir)
    entries = cache.entries()
    if not entries:
        return [Check("engines", "warn", f"no cached engines in {cache_dir}")]
    checks = []
    valid_here = 0
    for entry in entries:
        if not entry.valid:
            checks.append(Check("engine", "warn", f"{entry.path.name}: {entry.status} "
                                f"({entry.detail}); `edge-agent engines clean` removes it"))
            continue
        header = entry.header or {}
        key = header.get("key", {})
        assert isinstance(key, dict)
        here = key.get("device") == device_id and same_release(
            str(key.get("tensorrt_version", "")), tensorrt)
        valid_here += 1 if here else 0
        dla = _dla_text(header, key)
        fell_back = "fell back" in dla
        checks.append(Check(
            "engine", "ok" if here and not fell_back else "warn",
            f"{entry.path.name}: {key.get('model_name')} {key.get('precision')} "
            f"batch {key.get('batch_min', '?')}..{key.get('batch_max')} {dla}"
            + ("" if here else f" — built for {key.get('device')} / TensorRT "
               f"{key.get('tensorrt_version')}, not valid here")))
    summary = Check("engines", "ok" if valid_here else "warn",
                    f"{valid_here} of {len(entries)} cached engine(s) in {cache_dir} valid for "
                    f"{device_id} / TensorRT {tensorrt or 'none'}")
    return [summary] + checks


def broker_check(host: str, port: int, timeout_s: float = 3.0) -> Check:
    """A TCP connection to the MQTT broker (blocking: without it no event leaves the box)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return Check("broker", "ok", f"{host}:{port} reachable")
    except OSError as exc:
        return Check("broker", "fail", f"{host}:{port} unreachable: {exc}")


def model_check(models_dir: Path, name: str) -> Check:
    """An enabled model is present, matches its recorded hash, loads, and has the tensor
    contract of its packaged manifest — what `run` checks before it starts (blocking when
    not), each failure with the command that fixes it."""
    from edge_agent.errors import EdgeAgentError
    from edge_agent.inference.contract import check_contract
    from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
    from edge_agent.models.manifest import load_manifest
    from edge_agent.models.store import load_model_record

    try:
        record = load_model_record(models_dir, name)
        backend = OnnxRuntimeBackend(record.onnx_path, ["CPUExecutionProvider"], 1)
        try:
            check_contract(backend.inputs, backend.outputs, load_manifest(name))
        finally:
            backend.close()
    except EdgeAgentError as err:
        fix = f"; fix: {err.fix}" if err.fix else ""
        return Check("model", "fail", f"{name}: {err.problem}{fix}")
    kind = "stand-in" if record.standin else "NGC"
    return Check("model", "ok", f"{name} ({kind}, contract ok, sha256 {record.sha256[:12]}…)")


def engine_file_check(path: Path) -> Optional[Check]:
    """Integrity of one engine file, for callers that name it."""
    verdict = check_file(path, None)
    return None if verdict.valid else Check("engine", "warn", f"{path}: {verdict.detail}")
