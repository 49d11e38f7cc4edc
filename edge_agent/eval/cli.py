"""`edge-agent eval tracking|reid`: offline quality numbers for the tracker and ReID model.

Registered through cli.COMMAND_MODULES. Heavy imports (motmetrics, pandas, ONNX Runtime)
happen inside the handlers so `edge-agent --help` stays fast and a device without the
`eval` extra still runs the agent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge_agent.errors import ConfigError, EdgeAgentError, ExitCode


def register(subparsers: Any) -> None:
    """Add the `eval` command and its two actions."""
    parser = subparsers.add_parser("eval", help="evaluate tracking (MOT) or ReID (Market-1501)")
    actions = parser.add_subparsers(dest="eval_command", metavar="ACTION")
    tracking = actions.add_parser(
        "tracking", help="MOTChallenge metrics (MOTA, IDF1, IDSW, FP, FN, MT, ML) with motmetrics",
        description="Score a tracker output against MOTChallenge ground truth. With --replay "
        "the --hyp detections run through edge-agent's tracker and exactly the boxes a "
        "subscriber would receive are scored (the only mode: there is no unpublished view).")
    tracking.add_argument("--gt", type=Path, required=True, help="MOTChallenge ground truth")
    tracking.add_argument("--hyp", type=Path, required=True,
                          help="tracker output, or raw detections with --replay")
    tracking.add_argument("--replay", action="store_true",
                          help="run --hyp detections through edge-agent's tracker first")
    tracking.add_argument("--embeddings", type=Path, default=None,
                          help="with --replay: .npy [lines, D] appearance vectors, one row per "
                               "line of --hyp (the tracker then uses appearance)")
    tracking.add_argument("--fps", type=float, default=None,
                          help="frame rate for --replay (default: seqinfo.ini, else 25)")
    tracking.add_argument("--frame-size", default=None, metavar="WxH",
                          help="frame size for --replay, e.g. 640x480 (default: seqinfo.ini)")
    tracking.add_argument("--min-conf", type=float, default=-1e9,
                          help="ignore --hyp rows below this confidence")
    tracking.add_argument("--min-hits", type=int, default=None, help="tracker min_hits (replay)")
    tracking.add_argument("--max-lost-s", type=float, default=None,
                          help="tracker max_lost_s (replay)")
    tracking.add_argument("--iou", type=float, default=0.5, help="IoU needed for a match")
    tracking.add_argument("--save", type=Path, default=None,
                          help="write the replayed (published) tracks as a MOTChallenge file")
    reid = actions.add_parser("reid", help="mAP and rank-1/5/10 on a Market-1501 folder")
    reid.add_argument("dataset", type=Path, help="folder with query/ and bounding_box_test/")
    reid.add_argument("--models-dir", type=Path, required=True, help="folder of model files")
    reid.add_argument("--model", default="reidentificationnet", help="model name")
    reid.add_argument("--batch", type=int, default=16, help="crops per inference call")
    for action in (tracking, reid):
        action.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.eval_command == "tracking":
        result = _tracking(args)
    elif args.eval_command == "reid":
        result = _reid(args)
    else:
        raise EdgeAgentError("eval needs an action", "use `edge-agent eval tracking` or `reid`")
    if args.json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    else:
        for key, value in result.items():
            if key == "appearance":
                text = "used" if value else "not used (motion only)"
            elif isinstance(value, float):
                text = f"{value:.4f}"
            else:
                text = str(value)
            sys.stdout.write(f"{key:18s} {text}\n")
    return ExitCode.OK


def _need_motmetrics() -> None:
    try:
        import motmetrics  # noqa: F401
    except ImportError:
        raise ConfigError("`eval tracking` needs the motmetrics package",
                          "pip install 'edge-agent[eval]' (or motmetrics)") from None


def _tracking(args: argparse.Namespace) -> Any:
    from edge_agent.eval.mot_files import read_detections, read_ground_truth, write_mot
    from edge_agent.eval.sequence_info import load_embeddings, replay_settings
    from edge_agent.eval.tracking_eval import evaluate, replay

    _need_motmetrics()
    gt = read_ground_truth(args.gt)
    hyp = read_detections(args.hyp, args.min_conf)
    if not args.replay:
        if args.embeddings is not None:
            raise ConfigError("--embeddings needs --replay",
                              "add --replay to run the detections through the tracker")
        return evaluate(gt, hyp.rows, args.iou).as_dict()
    fps, frame_size, params = replay_settings(args.gt, args.fps, args.frame_size,
                                              args.min_hits, args.max_lost_s)
    if frame_size is None:
        sys.stderr.write("note: frame size unknown (no seqinfo.ini beside the ground truth, no "
                         "--frame-size): people walking out of the image are predicted past "
                         "its edge, as the agent never does\n")
    embeddings = None
    if args.embeddings is not None:
        embeddings = load_embeddings(args.embeddings, hyp.lines)
    replayed = replay(hyp, fps, params, embeddings, frame_size)
    if args.save is not None:
        write_mot(args.save, replayed.rows)
    return evaluate(gt, replayed.rows, args.iou, replayed).as_dict()


def _reid(args: argparse.Namespace) -> Any:
    import cv2
    import numpy as np  # here, not at the top: `edge-agent --help` must not load numpy

    from edge_agent.eval.reid_eval import evaluate, list_split
    from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
    from edge_agent.models import reid
    from edge_agent.models.store import load_model_record

    record = load_model_record(args.models_dir, args.model)
    backend = OnnxRuntimeBackend(record.onnx_path, [])
    dim = int(record.manifest.output_specs()[0].shape[-1])

    def embed(items: Any) -> np.ndarray:
        parts = []
        for start in range(0, len(items), max(args.batch, 1)):
            crops = []
            for path, _, _ in items[start : start + args.batch]:
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is None:
                    raise ConfigError(f"cannot decode image {path}", "remove or replace it")
                crops.append(image)
            raw = backend.run({reid.INPUT_NAME: reid.preprocess_crops(crops)})[reid.OUTPUT_NAME]
            parts.append(reid.check_embeddings(raw, len(crops), dim))
        return np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)

    try:
        query = list_split(args.dataset / "query")
        gallery = list_split(args.dataset / "bounding_box_test")
        scores = evaluate(
            embed(query), [q[1] for q in query], [q[2] for q in query],
            embed(gallery), [g[1] for g in gallery], [g[2] for g in gallery],
        )
    finally:
        backend.close()
    result = scores.as_dict()
    result["standin"] = record.standin
    return result
