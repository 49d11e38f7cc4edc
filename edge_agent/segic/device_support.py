"""Whether SegIC can run on this device, decided from the model card's published figures.

The SegIC card (NGC, segic_deployable_v1.0) publishes trtexec throughput at FP16, MAXN, batch 1:
AGX Orin 64GB 4.13 fps (prompt extractor 4.14), Orin NX 16GB 1.26 fps (1.28); data-centre GPUs
15 (A30) to 60 (H100) fps. It lists Nano, Xavier and Orin Nano as test hardware without any
figure, and the model is 1.15 GB of FP32 ONNX (a ViT-L image encoder), so on those SegIC is
disabled rather than guessed at: a disabled feature says so, a starved people pipeline does
not.

The rule: SegIC needs `rate_hz * prompts / fps` of the GPU (each prompt is one segic call per
frame); it is enabled when that is at most the configured `gpu_share`. The stand-in model runs
anywhere (it exists to exercise the pipeline), so a stand-in is always allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

# Device kind (edge_agent.device.identity) -> published SegIC fps at batch 1, FP16, MAXN.
PUBLISHED_FPS: Dict[str, float] = {"agx_orin": 4.13, "orin_nx": 1.26}
NO_FIGURE_KINDS = ("nano", "agx_xavier", "xavier_nx", "orin_nano", "unknown_jetson")


@dataclass(frozen=True)
class SegicSupport:
    """The decision, with the figure it rests on and, in words, why."""

    enabled: bool
    device_kind: str
    fps_batch1: Optional[float]
    gpu_share_needed: Optional[float]
    reason: str


def segic_support(device_kind: str, rate_hz: float, prompts: int, gpu_share: float,
                  standin: bool) -> SegicSupport:
    """Decide for one device kind, rate per camera-prompt pair count and allowed GPU share.

    `prompts` counts (camera, prompt) pairs: each is one segic call per SegIC frame.
    """
    calls_hz = rate_hz * max(prompts, 1)
    if standin:
        return SegicSupport(True, device_kind, None, None,
                            "stand-in SegIC model: runs anywhere, results are not meaningful")
    fps = PUBLISHED_FPS.get(device_kind)
    if fps is not None:
        share = calls_hz / fps
        if share <= gpu_share:
            return SegicSupport(True, device_kind, fps, share,
                                f"{device_kind}: the card gives {fps} fps at batch 1; "
                                f"{calls_hz:.2f} calls/s need {share:.0%} of the GPU "
                                f"(allowed {gpu_share:.0%})")
        return SegicSupport(False, device_kind, fps, share,
                            f"{device_kind}: the card gives {fps} fps at batch 1; "
                            f"{calls_hz:.2f} calls/s ({rate_hz} Hz x {max(prompts, 1)} prompt "
                            f"cameras) would need {share:.0%} of the GPU, over the allowed "
                            f"{gpu_share:.0%}: lower segic.rate_hz or the prompts")
    if device_kind == "x86_gpu":
        return SegicSupport(True, device_kind, None, None,
                            "x86 GPU: the card gives 15 (A30) to 60 (H100) fps; no figure for "
                            "this GPU, the scheduler's measured cost governs")
    if device_kind == "cpu":
        return SegicSupport(False, device_kind, None, None,
                            "CPU only: SegIC (ViT-L encoder, 1.15 GB) has no CPU figure and "
                            "would take seconds per frame; use the stand-in to test")
    if device_kind in NO_FIGURE_KINDS:
        return SegicSupport(False, device_kind, None, None,
                            f"{device_kind}: the SegIC card publishes no throughput for this "
                            "device (only AGX Orin 4.13 fps and Orin NX 1.26 fps at batch 1), "
                            "and the 1.15 GB model would crowd out the people models")
    return SegicSupport(False, device_kind, None, None,
                        f"{device_kind}: unknown device kind, no SegIC figure")
