"""Sample footage for demos and tests: OpenCV's vtest.avi, else a clearly-labelled synthetic clip.

vtest.avi (768x576, 10 fps, 795 frames of people walking in a hall) ships in Debian/Ubuntu's
opencv-doc package, so it can be had without a browser and without root: copy it from an
installed opencv-doc, or `apt-get download` the .deb and extract just that one member. When
none of that works (no apt, offline, no package lists) a deterministic synthetic clip keeps
the pipeline runnable, and `log` says loudly that it is synthetic and why.
"""

from __future__ import annotations

import logging
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List

import cv2
import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_NAME = "vtest.avi"
SYNTHETIC_NAME = "synthetic_walkers.avi"
SYSTEM_SAMPLE = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
_DEB_MEMBER = "./usr/share/doc/opencv-doc/examples/data/vtest.avi"
_PACKAGE = "opencv-doc"  # about 96 MB on Debian 12

LogFn = Callable[[str], None]


@dataclass(frozen=True)
class SampleClip:
    """Where the clip is, whether it is synthetic, and where it came from (for the log)."""

    path: Path
    synthetic: bool
    source: str


class _Unavailable(Exception):
    """The real clip could not be obtained; the message says why."""


def ensure_sample(
    dest_dir: Path,
    log: LogFn = logger.info,
    allow_apt: bool = True,
    system_sample: Path = SYSTEM_SAMPLE,
    apt_timeout_s: float = 600.0,
) -> SampleClip:
    """Return a playable clip in dest_dir, obtaining vtest.avi if at all possible."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / SAMPLE_NAME
    if target.is_file():
        return SampleClip(target, False, f"already present at {target}")
    if system_sample.is_file():
        _install(system_sample, target)
        log(f"sample footage: copied {system_sample} to {target}")
        return SampleClip(target, False, f"copied from {system_sample}")
    reason = f"{system_sample} is absent (package {_PACKAGE} not installed)"
    if not allow_apt:
        reason += "; apt download disabled"
    elif not all(shutil.which(tool) for tool in ("apt-get", "dpkg-deb", "tar")):
        reason += "; apt-get, dpkg-deb or tar not found"
    else:
        try:
            _download_with_apt(target, apt_timeout_s)
            log(f"sample footage: extracted vtest.avi from `apt-get download {_PACKAGE}`")
            return SampleClip(target, False, f"apt-get download {_PACKAGE}")
        except _Unavailable as exc:
            reason += f"; {exc}"
    synthetic = dest_dir / SYNTHETIC_NAME
    if not synthetic.is_file():
        write_synthetic_clip(synthetic, 768, 576, 10.0, 8.0)
    log(
        f"sample footage: USING A SYNTHETIC CLIP {synthetic} (dark ellipses walking on a light "
        f"floor, not real people; detection results on it mean little) because {reason}"
    )
    return SampleClip(synthetic, True, f"synthetic: {reason}")


def _install(source: Path, target: Path) -> None:
    """Copy via a temporary name so a crash never leaves a truncated vtest.avi behind."""
    partial = target.with_name(target.name + ".part")
    shutil.copyfile(source, partial)
    partial.replace(target)


def _download_with_apt(target: Path, timeout_s: float) -> None:
    """apt-get download the package into a temp dir and extract only vtest.avi."""
    with tempfile.TemporaryDirectory(prefix="edge-agent-sample-") as tmp:
        tmp_dir = Path(tmp)
        try:
            done = subprocess.run(
                ["apt-get", "download", _PACKAGE],
                cwd=tmp_dir,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise _Unavailable(f"apt-get download {_PACKAGE} took over {timeout_s:g} s") from exc
        debs = sorted(tmp_dir.glob(f"{_PACKAGE}_*.deb"))
        if done.returncode != 0 or not debs:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise _Unavailable(
                f"apt-get download {_PACKAGE} failed (exit {done.returncode}: {last}); "
                "`sudo apt-get update` may be needed, or the machine is offline"
            )
        _extract_member(debs[0], tmp_dir / "root", timeout_s)
        _install(tmp_dir / "root" / _DEB_MEMBER, target)


def _extract_member(deb: Path, out_dir: Path, timeout_s: float) -> None:
    """dpkg-deb --fsys-tarfile DEB | tar -x -C OUT MEMBER, without a shell."""
    out_dir.mkdir()
    dpkg = subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(deb)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert dpkg.stdout is not None  # stdout=PIPE above
    tar = subprocess.Popen(
        ["tar", "-x", "-C", str(out_dir), _DEB_MEMBER],
        stdin=dpkg.stdout,
        stderr=subprocess.PIPE,
    )
    dpkg.stdout.close()  # tar holds the only read end now, so dpkg sees SIGPIPE if tar quits
    try:
        _, tar_err = tar.communicate(timeout=timeout_s)
        dpkg.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        tar.kill()
        dpkg.kill()
        tar.wait()
        dpkg.wait()
        raise _Unavailable(
            f"extracting vtest.avi from {deb.name} took over {timeout_s:g} s"
        ) from exc
    if tar.returncode != 0 or not (out_dir / _DEB_MEMBER).is_file():
        message = tar_err.decode(errors="replace").strip() or f"exit {tar.returncode}"
        raise _Unavailable(f"vtest.avi not found in {deb.name}: {message}")


def write_synthetic_clip(path: Path, width: int, height: int, fps: float, seconds: float) -> Path:
    """Write a deterministic MJPG .avi of dark 'people' ellipses walking across a light floor.

    Same arguments, same pixels: the walkers come from a fixed-seed RNG, so tests can rely on
    frame counts and content. Written under a temporary name and renamed when complete.
    """
    frames = max(1, round(fps * seconds))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".part" + path.suffix)
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write an MJPG video to {partial}")
    try:
        floor = _floor(width, height)
        walkers = _walkers(width, height)
        for index in range(frames):
            image = floor.copy()
            for walker in walkers:
                walker.draw(image, index)
            writer.write(image)
    finally:
        writer.release()
    partial.replace(path)
    return path


def _floor(width: int, height: int) -> np.ndarray:
    image = np.full((height, width, 3), (196, 202, 206), dtype=np.uint8)
    tile = max(8, height // 12)
    image[::tile, :] = (176, 182, 186)
    image[:, ::tile] = (176, 182, 186)
    return image


@dataclass(frozen=True)
class _Walker:
    x0: float
    y: float
    speed_px: float  # per frame, negative walks left
    drift_px: float  # vertical per frame
    body_w: int
    body_h: int
    shade: int
    span: float  # distance after which a walker re-enters on the other side

    def draw(self, image: np.ndarray, index: int) -> None:
        height = image.shape[0]
        x = (self.x0 + self.speed_px * index) % self.span - self.body_w * 2
        y = (self.y + self.drift_px * index) % height
        centre = (int(x), int(y))
        colour = (self.shade, self.shade + 8, self.shade + 4)
        shadow = (int(x) + self.body_w // 2, int(y) + self.body_h)
        cv2.ellipse(image, shadow, (self.body_w, self.body_w // 3), 0, 0, 360, (150, 155, 160), -1)
        cv2.ellipse(image, centre, (self.body_w, self.body_h), 0, 0, 360, colour, -1)
        head = (int(x), int(y) - self.body_h - self.body_w // 2)
        cv2.circle(image, head, max(2, self.body_w * 2 // 3), colour, -1)


def _walkers(width: int, height: int, count: int = 6) -> List[_Walker]:
    rng = random.Random(20240607)
    scale = height / 576.0
    walkers: List[_Walker] = []
    for _ in range(count):
        body_w = max(3, int(rng.uniform(12, 18) * scale))
        walkers.append(
            _Walker(
                x0=rng.uniform(0, width),
                y=rng.uniform(0.3, 0.85) * height,
                speed_px=rng.choice((-1, 1)) * rng.uniform(4, 9) * scale,
                drift_px=rng.uniform(-1.0, 1.0) * scale,
                body_w=body_w,
                body_h=body_w * 3,
                shade=rng.randint(30, 80),
                span=width + body_w * 4,
            )
        )
    return walkers
