"""`edge-agent calibrate MODEL --video FILE | --images DIR | --tensors FILE.npy`.

Registered through cli.COMMAND_MODULES. ONNX Runtime, OpenCV and numpy are imported inside the
handler so `edge-agent --help` stays fast. Progress goes to stderr (one rewritten line on a
terminal, a line per step otherwise); the verdict and figures go to stdout. A calibration the
gate refuses ends with exit code 1 and the failing figures; its report stays in `refused/`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO

from edge_agent.errors import ConfigError, EdgeAgentError, ExitCode

_GATE_NAMES = ("mask_iou", "mask_iou_worst", "box_precision", "box_recall",
               "embedding_cosine", "rank1_agreement", "class_agreement")


class CalibrationRefusedError(EdgeAgentError):
    """The INT8 model disagreed with FP32 beyond the gate; nothing was installed."""

    exit_code = ExitCode.FAILURE


def register(subparsers: Any) -> None:
    """Add the `calibrate` command."""
    parser = subparsers.add_parser(
        "calibrate", help="INT8 calibration: QDQ model + TensorRT cache, gated on accuracy")
    parser.add_argument("model", help="model name (see `models list`)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="calibrate on frames of this video")
    source.add_argument("--images", type=Path, help="calibrate on the images of this folder")
    source.add_argument("--tensors", type=Path,
                        help="recorded input tensors [K,...] (.npy), for non-image models")
    parser.add_argument("--models-dir", type=Path, default=Path("/var/lib/edge-agent/models"),
                        help="folder holding MODEL (and PeopleNet for crop models)")
    parser.add_argument("--root", type=Path, default=Path("calibration"),
                        help="calibration folder (recipes, caches, reports)")
    parser.add_argument("--tensorrt-version", default="",
                        help="TensorRT of the devices, e.g. 8.5.2 (JetPack 5.1), 8.6.2 "
                             "(JetPack 6.0), 10.3.0 (JetPack 6.1/6.2); with --tensorrt the "
                             "installed one")
    parser.add_argument("--tensorrt", action="store_true",
                        help="measure ranges with TensorRT's entropy calibrator (on a Jetson)")
    parser.add_argument("--detector", type=Path, default=None,
                        help="PeopleNet ONNX for the crops of crop models "
                             "(default MODELS_DIR/peoplenet.onnx)")
    parser.add_argument("--method", choices=("entropy", "percentile", "minmax"), default=None,
                        help="how activation ranges are measured (recipe default)")
    parser.add_argument("--samples", type=int, default=None, help="calibration samples")
    parser.add_argument("--held-out", type=int, default=None, help="frames for the gate")
    parser.add_argument("--op-types", default=None,
                        help="comma-separated op types to run in INT8 (recipe default)")
    parser.add_argument("--exclude-nodes", default=None,
                        help="comma-separated node names kept in float (recipe default)")
    parser.add_argument("--crops-per-frame", type=int, default=None,
                        help="person crops taken per sampled frame (crop models)")
    parser.add_argument("--min", action="append", default=[], metavar="FIGURE=VALUE",
                        help="gate threshold, repeatable; figures: " + ", ".join(_GATE_NAMES))
    parser.set_defaults(handler=_cmd_calibrate)


def _overrides(args: argparse.Namespace) -> Dict[str, Any]:
    gate: Dict[str, float] = {}
    for item in args.min:
        name, sep, value = item.partition("=")
        if not sep or name not in _GATE_NAMES:
            raise ConfigError(f"--min {item!r} is not FIGURE=VALUE with a known figure",
                              "use one of: " + ", ".join(_GATE_NAMES))
        try:
            gate[name] = float(value)
        except ValueError:
            raise ConfigError(f"--min {item!r}: {value!r} is not a number",
                              "give a value between 0 and 1") from None
    op_types: Optional[List[str]] = None
    if args.op_types is not None:
        op_types = [t.strip() for t in args.op_types.split(",") if t.strip()]
    excluded: Optional[List[str]] = None
    if args.exclude_nodes is not None:
        excluded = [n.strip() for n in args.exclude_nodes.split(",") if n.strip()]
    return {"method": args.method, "nodes_to_exclude": excluded, "samples": args.samples,
            "held_out": args.held_out, "op_types": op_types,
            "crops_per_frame": args.crops_per_frame, "gate": gate}


class ProgressPrinter:
    """Shows `stage done/total`; rewrites one line on a terminal, prints steps otherwise."""

    def __init__(self, stream: TextIO, min_interval_s: float = 0.5) -> None:
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._interval_s = min_interval_s
        self._last_s = 0.0
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if stage == self._stage and not finished and now - self._last_s < self._interval_s:
            return
        self._stage, self._last_s = stage, now
        percent = 100.0 * done / total if total else 100.0
        text = f"calibrate: {stage} {done}/{total} ({percent:.0f}%)"
        if self._tty:
            self._stream.write("\r\x1b[2K" + text + ("\n" if finished else ""))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from edge_agent.calibration.report import summary_lines
    from edge_agent.calibration.run import CalibrationJob, calibrate

    version = args.tensorrt_version
    if args.tensorrt and not version:
        from edge_agent.calibration.tensorrt_calibrator import tensorrt_version

        version = tensorrt_version()
    if not version:
        raise ConfigError("calibrate needs --tensorrt-version (the cache header names it and "
                          "TensorRT refuses a cache of another version)",
                          "pass the devices' TensorRT version, e.g. --tensorrt-version 8.6.2")
    job = CalibrationJob(
        model_name=args.model, models_dir=args.models_dir, root=args.root,
        tensorrt_version=version, video=args.video, images=args.images, tensors=args.tensors,
        detector=args.detector, use_tensorrt=args.tensorrt, recipe_overrides=_overrides(args))
    outcome = calibrate(job, ProgressPrinter(sys.stderr))
    verdict = "installed" if outcome.passed else "REFUSED"
    sys.stdout.write(f"{args.model}: calibration {verdict} ({outcome.tensors} tensors, "
                     f"{outcome.recipe.method}); report {outcome.report_path}\n")
    for line in summary_lines(outcome.gate):
        sys.stdout.write(line + "\n")
    if not outcome.passed:
        raise CalibrationRefusedError(
            f"INT8 calibration of {args.model} refused: "
            + "; ".join(outcome.gate.failures()),
            f"nothing was installed; see {outcome.report_path}. Try another --method, more "
            "varied footage, fewer --op-types, or (knowingly) lower a --min threshold")
    sys.stdout.write(f"  cache {outcome.cache_path}\n  qdq   {outcome.qdq_path}\n")
    return ExitCode.OK
