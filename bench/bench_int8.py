"""INT8 (QDQ, ONNX Runtime CPU) against FP32 for the stand-ins: speed ratio and agreement.

Each stand-in is calibrated with `edge_agent.calibration.run.calibrate` on the sample clip
(vtest.avi when installed, else the labelled synthetic clip), exactly as the command does; the
gate's agreement figures are reported as measured on its held-out samples. Speed: FP32 and the
QDQ model run the same held-out inputs in interleaved rounds (FP32 then INT8, per round, in one
process), so machine load hits both alike; the ratio is FP32 time / INT8 time per round
(> 1 means INT8 is faster), reported as median and min..max over rounds.

This is the CPU only. It says whether the INT8 graph keeps the answers, not how fast INT8 is
on a Jetson, where TensorRT runs INT8 on tensor cores or the DLA.

Usage: python bench/bench_int8.py [--rounds 5] [--repeats 3] [--samples 8] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np
import onnxruntime as ort

from edge_agent.calibration.run import CalibrationJob, calibrate
from edge_agent.capture.sample_footage import ensure_sample, write_synthetic_clip
from edge_agent.models.standin import write_standin

# Per stand-in: command-line style recipe overrides. The PeopleNet stand-in's box branch
# encodes coordinates that INT8 cannot hold (see tests/test_calibration_run.py), so only its
# coverage branch runs in INT8.
STANDINS: Dict[str, Dict[str, Any]] = {
    "peoplesemsegnet_shuffleseg": {},
    "peoplesemsegnet_vanilla_unet": {},
    "peoplenet": {"op_types": ["Add", "Sigmoid", "Concat"],
                  "nodes_to_exclude": ["peoplenet/concat_43_node",
                                       "output_bbox/BiasAdd:0_node"]},
    "reidentificationnet": {},
    "poseclassificationnet": {},
}


def _time_s(session: ort.InferenceSession, feeds: Sequence[Dict[str, np.ndarray]],
            repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        for feed in feeds:
            session.run(None, feed)
    return time.perf_counter() - start


def _feeds(model_path: Path, name: str, count: int) -> List[Dict[str, np.ndarray]]:
    """Inputs to time: preprocessed-like random tensors in the model's input shape."""
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    shape = [1 if not isinstance(d, int) else d for d in spec.shape]
    rng = np.random.RandomState(zlib.crc32(name.encode("utf-8")))
    return [{spec.name: rng.uniform(-1.0, 1.0, shape).astype(np.float32)} for _ in range(count)]


def bench_model(name: str, overrides: Dict[str, Any], workdir: Path, clip: Path,
                args: argparse.Namespace) -> Dict[str, Any]:
    models = workdir / "models"
    model_path = write_standin(name, models)
    recipe = {"samples": args.samples, "held_out": args.held_out, **overrides}
    if name == "poseclassificationnet":
        tensors = workdir / "skeletons.npy"
        rng = np.random.RandomState(5)
        np.save(str(tensors), rng.standard_normal(
            (args.samples + args.held_out, 3, 300, 34, 1)).astype(np.float32))
        job = CalibrationJob(name, models, workdir / "cal", "8.6.2", tensors=tensors,
                             recipe_overrides=recipe)
    else:
        write_standin("peoplenet", models)
        job = CalibrationJob(name, models, workdir / "cal", "8.6.2", video=clip,
                             recipe_overrides=recipe)
    started = time.perf_counter()
    outcome = calibrate(job, lambda stage, done, total: None)
    calibrate_s = time.perf_counter() - started
    fp32 = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(outcome.qdq_path), providers=["CPUExecutionProvider"])
    feeds = _feeds(model_path, name, 2)
    _time_s(int8, feeds, 1)  # warm-up: first runs allocate
    # Tiny models run in microseconds: repeat until a round takes ~0.3 s, so scheduler noise
    # on a shared machine does not dominate.
    repeats = max(args.repeats, int(np.ceil(0.3 / max(_time_s(fp32, feeds, 1), 1e-6))))
    ratios = []
    for _ in range(args.rounds):
        t_fp32 = _time_s(fp32, feeds, repeats)
        t_int8 = _time_s(int8, feeds, repeats)
        ratios.append(t_fp32 / t_int8)
    return {
        "model": name, "passed": outcome.passed, "tensors_int8": outcome.tensors,
        "method": outcome.recipe.method, "calibrate_s": round(calibrate_s, 2),
        "figures": {f.name: round(f.value, 4) for f in outcome.gate.figures},
        "speed_ratio_median": round(statistics.median(ratios), 3),
        "speed_ratio_min": round(min(ratios), 3), "speed_ratio_max": round(max(ratios), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the inputs a round")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--held-out", type=int, default=6)
    parser.add_argument("--models", default=",".join(STANDINS))
    parser.add_argument("--clip", choices=("sample", "synthetic"), default="sample",
                        help="sample: vtest.avi if obtainable; synthetic: the generated clip")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-int8-") as tmp:
        workdir = Path(tmp)
        if args.clip == "synthetic":
            clip = write_synthetic_clip(workdir / "synthetic.avi", 768, 576, 10.0, 8.0)
        else:
            clip = ensure_sample(workdir / "footage",
                                 log=lambda m: print(m, file=sys.stderr)).path
        for name in args.models.split(","):
            print(f"calibrating and timing {name} on {clip.name} ...", file=sys.stderr)
            results.append(bench_model(name, STANDINS[name], workdir, clip, args))
    print("| stand-in | INT8 tensors | gate | agreement | FP32/INT8 time (median, min..max) |")
    print("|---|---|---|---|---|")
    for r in results:
        figures = ", ".join(f"{k} {v:.4f}" for k, v in r["figures"].items())
        print(f"| {r['model']} | {r['tensors_int8']} | {'pass' if r['passed'] else 'FAIL'} | "
              f"{figures} | {r['speed_ratio_median']:.2f} ({r['speed_ratio_min']:.2f}.."
              f"{r['speed_ratio_max']:.2f}) |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
