"""Per-frame cost of SegIC and per-crop cost of human parts, on the stand-ins, by stage.

What a scheduler needs to know: SegIC costs preprocess (once per frame) + model and
postprocess (once per prompt per frame) + event encoding; parts cost crop preprocessing, the
model and decoding per person crop. Stages are timed separately, in interleaved rounds (every
round runs every measurement once, so machine noise hits all of them alike), and reported as
medians with min..max over rounds. The exact (PyTorch-map) letterbox is compared with a
cv2.resize letterbox run in the same rounds, as a ratio: the price of contract exactness.

The model figures are the *stand-ins'* on this CPU; on a Jetson the real SegIC's model step is
the card's ~240 ms (AGX Orin) / ~790 ms (Orin NX) per call, and pre/post stay on the CPU.

Run: .venv/bin/python bench/bench_segic.py [--rounds N] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np

from edge_agent.events.segic_payloads import CocoRle
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import write_standin
from edge_agent.parts.crops import PersonCrop, crop_blob
from edge_agent.parts.decode import decode_people
from edge_agent.segic.cache import FeatureCache
from edge_agent.segic.decode import decode_prompt
from edge_agent.segic.features import PromptFeatureExtractor
from edge_agent.segic.letterbox import NET_SIDE_PX, preprocess_image
from edge_agent.segic.prompts import PromptExample, make_prompt
from edge_agent.segic.tokens import WordTokenizer

CPU = ["CPUExecutionProvider"]


def since(start: float) -> float:
    """Milliseconds from `start` (a perf_counter reading) to now."""
    return (time.perf_counter() - start) * 1000.0


def cv2_letterbox(rgb: np.ndarray) -> np.ndarray:
    """Baseline: cv2.resize (in/out source map, not the contract's), same padding."""
    scale = NET_SIDE_PX / max(rgb.shape[:2])
    h, w = int(rgb.shape[0] * scale), int(rgb.shape[1] * scale)
    out = np.full((1, 3, NET_SIDE_PX, NET_SIDE_PX), 128.0, np.float32)
    out[0, :, :h, :w] = cv2.resize(rgb.astype(np.float32), (w, h)).transpose(2, 0, 1)
    return out


def scene(height: int, width: int) -> np.ndarray:
    rng = np.random.RandomState(height)
    frame = rng.randint(150, 256, size=(height, width, 3)).astype(np.uint8)
    frame[height // 3: height // 2, width // 2: width // 2 + width // 8] = (20, 20, 220)
    for i in range(4):
        x = width // 10 + i * width // 5
        frame[height // 4: height // 4 + height // 2, x: x + width // 20] = 25
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="where stand-ins are written")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_segic_"))
    segic = OnnxRuntimeBackend(write_standin("segic", out), CPU)
    extract = OnnxRuntimeBackend(write_standin("segic_prompt_feature_extract", out), CPU)
    parts = OnnxRuntimeBackend(write_standin("human_parts", out), CPU)
    parts_manifest = load_manifest("human_parts")
    if parts_manifest.preprocess is None:
        raise SystemExit("human_parts manifest has no [preprocess] table")

    example_image = np.full((240, 320, 3), 128, np.uint8)
    example_image[60:180, 80:240] = (220, 20, 20)
    example_mask = np.zeros((240, 320), np.uint8)
    example_mask[60:180, 80:240] = 255
    prompt = make_prompt("box", [PromptExample(example_image, example_mask)], "box", ["c"],
                         ["c"])
    cache = FeatureCache(out / "cache", 4)
    extractor = PromptFeatureExtractor(extract, cache, WordTokenizer(), "bench")
    feats = extractor.features(prompt)

    frames = {"1080p": scene(1080, 1920), "720p": scene(720, 1280)}
    crops = [PersonCrop(i, (192 + i * 384, 270, 288 + i * 384, 810)) for i in range(4)]
    samples: Dict[str, List[float]] = {}

    def add(name: str, value: float) -> None:
        samples.setdefault(name, []).append(value)

    for round_no in range(args.rounds):
        t0 = time.perf_counter()
        extractor.features(make_prompt("p", [PromptExample(example_image, example_mask)],
                                       f"box {round_no}", ["c"], ["c"]))
        add("prompt extract (cold, 1 example)", since(t0))
        t0 = time.perf_counter()
        extractor.features(prompt)
        add("prompt extract (cache hit)", since(t0))
        for label, bgr in frames.items():
            t0 = time.perf_counter()
            cv2_letterbox(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            add(f"segic {label} preprocess (cv2 baseline)", since(t0))
            t0 = time.perf_counter()
            image, box = preprocess_image(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            add(f"segic {label} preprocess", since(t0))
            t0 = time.perf_counter()
            logits = segic.run({"images": image, "ori_sizes": box.ori_sizes,
                                "input_prompts": feats.input_prompts,
                                "inst_feats": feats.inst_feats})["masks_pred"]
            add(f"segic {label} model / prompt", since(t0))
            t0 = time.perf_counter()
            mask = decode_prompt("box", logits, box, 0.0)
            add(f"segic {label} postprocess / prompt", since(t0))
            t0 = time.perf_counter()
            CocoRle.from_mask(mask.mask)
            add(f"segic {label} encode / prompt", since(t0))
        bgr = frames["1080p"]
        t0 = time.perf_counter()
        blob = crop_blob(bgr, crops, parts_manifest.preprocess)
        add("parts preprocess / crop", since(t0) / len(crops))
        t0 = time.perf_counter()
        parts.run({"input": blob[:1]})
        add("parts model / crop (batch 1)", since(t0))
        t0 = time.perf_counter()
        part_logits = parts.run({"input": blob})["output"]
        add("parts model / crop (batch 4)", since(t0) / len(crops))
        t0 = time.perf_counter()
        decode_people(part_logits, crops)
        add("parts decode / crop", since(t0) / len(crops))

    print(f"{args.rounds} interleaved rounds; median [min..max] ms")
    for name, values in samples.items():
        print(f"  {name:42s} {statistics.median(values):9.2f} "
              f"[{min(values):.2f}..{max(values):.2f}]")
    for label in frames:
        ours = statistics.median(samples[f"segic {label} preprocess"])
        base = statistics.median(samples[f"segic {label} preprocess (cv2 baseline)"])
        print(f"  exact letterbox / cv2 letterbox ({label}): {ours / base:.2f}x")
    for backend in (segic, extract, parts):
        backend.close()




if __name__ == "__main__":
    main()
