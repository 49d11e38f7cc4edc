"""`edge-agent eval poseclass`: accuracy and confusion matrix of a pose classifier.

Input is the model card's data format (a skeleton array (N,3,300,V,1) saved with numpy and a
pickle of [names, labels]) or, with --synthetic, labelled kinematic sequences generated on the
spot and sent through the same lifting and normalisation as live poses. The classifier is any
model file in --models-dir with a verified sidecar: the stand-in, the NGC model or a retrained
one; its class names come from its manifest, so swapping it needs no code change.

Registered through cli.COMMAND_MODULES; `eval` itself belongs to edge_agent.eval.cli, so this
module adds its action to that parser and chains the handler (heavy imports stay inside).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from edge_agent.errors import ConfigError, EdgeAgentError, ExitCode

ACTION = "poseclass"
Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    """Add `poseclass` to the `eval` command (creating `eval` if no module has yet)."""
    eval_parser = subparsers.choices.get("eval")
    if eval_parser is None:
        eval_parser = subparsers.add_parser("eval", help="offline evaluation")
    actions = next(
        (a for a in eval_parser._actions if isinstance(a, argparse._SubParsersAction)), None
    )
    if actions is None:
        actions = eval_parser.add_subparsers(dest="eval_command", metavar="ACTION")
    parser = actions.add_parser(
        ACTION, help="per-class accuracy and confusion matrix of a pose classifier"
    )
    parser.add_argument("--models-dir", type=Path, required=True, help="folder of model files")
    parser.add_argument("--model", default="poseclassificationnet", help="model name")
    parser.add_argument("--data", type=Path, default=None, help="skeleton array (.npy)")
    parser.add_argument("--labels", type=Path, default=None, help="[names, labels] pickle")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="instead of --data: this many generated sequences per class")
    parser.add_argument("--seed", type=int, default=0, help="seed of --synthetic")
    parser.add_argument("--save-synthetic", type=Path, default=None,
                        help="also write the generated set (data.npy, labels.pkl) here")
    parser.add_argument("--normalisation", choices=["tao_training", "deepstream_app"],
                        default="tao_training", help="input normalisation of --synthetic")
    parser.add_argument("--layout", choices=["nvidia", "coco", "openpose"], default="nvidia",
                        help="joint layout of --synthetic")
    parser.add_argument("--threshold", type=float, default=0.51,
                        help="count predictions at or below this probability apart")
    parser.add_argument("--batch", type=int, default=4, help="sequences per inference call")
    parser.add_argument("--png", type=Path, default=None, help="write the confusion matrix")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(pose_eval_handler=_cmd_poseclass)
    previous: Optional[Handler] = eval_parser.get_default("handler")
    eval_parser.set_defaults(handler=_chain(previous))


def _chain(previous: Optional[Handler]) -> Handler:
    """`eval`'s handler: ours for `poseclass`, the one registered before for the rest."""

    def handler(args: argparse.Namespace) -> int:
        if getattr(args, "eval_command", None) == ACTION:
            return int(args.pose_eval_handler(args))
        if previous is None:
            raise EdgeAgentError("eval needs an action", f"use `edge-agent eval {ACTION}`")
        return int(previous(args))

    return handler


def _cmd_poseclass(args: argparse.Namespace) -> int:
    from edge_agent.pose.eval_run import evaluate_poseclass

    if args.batch < 1:
        raise ConfigError(f"--batch {args.batch} must be at least 1", "use --batch 4")
    if (args.data is None) != (args.labels is None):
        raise ConfigError("--data and --labels go together", "pass both, or --synthetic N")
    if args.data is None and args.synthetic <= 0:
        raise ConfigError("no evaluation data", "pass --data X.npy --labels Y.pkl or --synthetic N")
    result = evaluate_poseclass(args)
    _print(result, args.json)
    return ExitCode.OK


def _print(result: Dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
        return
    confusion = result.pop("confusion")
    classes = result.pop("classes")
    for key, value in result.items():
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        sys.stdout.write(f"{key:32s} {text}\n")
    sys.stdout.write("confusion (rows: labelled, columns: predicted)\n")
    width = max(len(c) for c in classes) + 1
    sys.stdout.write(" " * width + " ".join(f"{c[:6]:>6s}" for c in classes) + "\n")
    for name, row in zip(classes, confusion):
        sys.stdout.write(f"{name:<{width}s}" + " ".join(f"{v:6d}" for v in row) + "\n")
