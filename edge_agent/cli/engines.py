"""`edge-agent engines build|list|verify|clean`: the TensorRT engine cache from the command line.

`build` runs the same EngineBuilder the agent uses (settings from the device profile, smoke
inference before anything is cached) but waits for it and prints progress. `list` and `verify`
read only engine headers, so they work without TensorRT installed; `verify` exits 1 when an
engine is corrupt or was built for another device or TensorRT version. `clean` removes those
(or everything with --all).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict, Tuple

from edge_agent.errors import ExitCode, ServiceUnavailableError, UsageError
from edge_agent.inference.tensorrt_version import same_release

DEFAULT_ENGINE_DIR = Path("/var/cache/edge-agent/engines")  # = models.engine_dir default
DEFAULT_MODELS_DIR = Path("/var/lib/edge-agent/models")


def register(subparsers: Any) -> None:
    """Add `engines` and its actions."""
    engines = subparsers.add_parser("engines", help="TensorRT engines: build, list, verify, clean")
    engines.add_argument("--engine-dir", type=Path, default=DEFAULT_ENGINE_DIR,
                         help="where built engines are cached (models.engine_dir)")
    engines.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)
    actions = engines.add_subparsers(dest="engines_command", metavar="ACTION")
    build = actions.add_parser("build", help="build (or reuse) the engine for a model")
    build.add_argument("name", help="model name, e.g. peoplesemsegnet_shuffleseg")
    build.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR,
                       help="folder of the ONNX models to build from (models.dir)")
    build.add_argument("--calibration-dir", type=Path,
                       default=Path("/var/lib/edge-agent/calibration"),
                       help="INT8 calibration store (models.calibration_dir)")
    build.add_argument("--profile", default="", help="device profile instead of auto-detection")
    actions.add_parser("list", help="cached engines and whether each is valid here")
    actions.add_parser("verify", help="exit 1 if any cached engine is corrupt or foreign")
    clean = actions.add_parser("clean", help="remove corrupt and foreign engines")
    clean.add_argument("--all", action="store_true", help="remove every cached engine")
    engines.set_defaults(handler=run_engines)


def _validity(header: Dict[str, Any], device_id: str, tensorrt: str) -> Tuple[bool, str]:
    key = header.get("key", {})
    problems = []
    if key.get("device") != device_id:
        problems.append(f"built for device {key.get('device')}, this is {device_id}")
    if not same_release(str(key.get("tensorrt_version", "")), tensorrt):
        problems.append(f"built with TensorRT {key.get('tensorrt_version')}, "
                        f"installed {tensorrt or 'none'}")
    return not problems, "; ".join(problems)


def run_engines(args: argparse.Namespace) -> int:
    """Dispatch the action."""
    from edge_agent.device.identity import read_identity
    from edge_agent.inference.tensorrt_cache import EngineCache

    command = args.engines_command
    if command is None:
        raise UsageError("engines needs an action", "use build, list, verify or clean")
    identity = read_identity(args.root)
    cache = EngineCache(args.engine_dir)
    if command == "build":
        return _build(args, identity)
    bad = 0
    entries = list(cache.entries())
    if not entries and command in ("list", "verify", "clean"):
        print(f"no engine is cached in {args.engine_dir} (engines are built on first use, or "
              "ahead with `edge-agent engines build NAME`)")
        return ExitCode.OK
    for entry in entries:
        if entry.valid and entry.header is not None:
            ok, why = _validity(entry.header, identity.device_id, identity.tensorrt)
        else:
            ok, why = False, f"{entry.status}: {entry.detail}"
        bad += 0 if ok else 1
        if command == "clean" and (args.all or not ok):
            cache.remove(entry.path)
            print(f"removed {entry.path.name}" + ("" if ok else f" ({why})"))
        elif command in ("list", "verify"):
            header: Dict[str, Any] = dict(entry.header or {})
            summary = ""
            if command == "list":
                shown = dict(header.get("key", {}))
                shown.update({k: header.get(k) for k in ("dla_layers", "gpu_layers")})
                summary = json.dumps(shown, sort_keys=True)
            print(f"{'valid  ' if ok else 'INVALID'} {entry.path.name} {why} {summary}".rstrip())
    if command == "verify" and bad:
        print(f"{bad} engine(s) not valid for {identity.device_id}; they will be rebuilt, "
              "never loaded (`edge-agent engines clean` removes them)")
        return ExitCode.FAILURE
    return ExitCode.OK


def _build(args: argparse.Namespace, identity: Any) -> int:
    from edge_agent.device.profiles import load_profiles, select_profile
    from edge_agent.inference.tensorrt_build import EngineBuilder, plan_build
    from edge_agent.inference.tensorrt_cache import EngineCache
    from edge_agent.inference.tensorrt_settings import describe
    from edge_agent.models.store import load_model_record

    choice = select_profile(identity, load_profiles(), args.profile)
    print(f"profile: {choice.reason}")
    record = load_model_record(args.models_dir, args.name)
    try:
        from edge_agent.inference.tensorrt_api import TensorRtToolkit

        toolkit = TensorRtToolkit()
    except ImportError as exc:
        raise ServiceUnavailableError(
            f"TensorRT is not importable here ({exc})",
            "install JetPack's python3-libnvinfer (Jetson) or the tensorrt wheel (x86), "
            "or run with backend = 'onnxruntime'") from exc
    caps = toolkit.capabilities()
    from edge_agent.pipeline.calibration_choice import calibration_for_build

    request = plan_build(identity, choice.profile, record, caps,
                         calibration_for_build(record, caps.version, args.calibration_dir))
    print("settings: " + json.dumps(describe(request.settings)))
    builder = EngineBuilder(toolkit, EngineCache(args.engine_dir), progress=print)
    status = builder.build_now(request)
    if status.state != "ready":
        print(f"build failed: {status.detail}")
        return ExitCode.FAILURE
    print(f"engine: {status.path} ({status.detail})")
    return ExitCode.OK
