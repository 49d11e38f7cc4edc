"""Which INT8 calibration cache an engine build uses: the calibration store's choice, checked.

The store (calibration/store.py) prefers a local calibration that passed its accuracy gate,
then the cache NVIDIA shipped with the model. It is validated against this model file and
this TensorRT before the build starts; a cache that does not fit is not used (the build
falls back to FP16 and says why) rather than failing the build or silently ruining accuracy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Optional, TextIO

from edge_agent.calibration.store import (
    CalibrationCacheError,
    cache_for_build,
    install_shipped_cache,
)
from edge_agent.models.fetch import FetchResult, download
from edge_agent.models.manifest import load_manifest
from edge_agent.models.store import ModelRecord

logger = logging.getLogger(__name__)


def calibration_for_build(record: ModelRecord, tensorrt_version: str,
                          calibration_dir: Path) -> Optional[Path]:
    """The validated cache for `record`, or None (no cache, or one that does not fit)."""
    try:
        choice = cache_for_build(record.name, record.manifest.ngc_version, record.onnx_path,
                                 record.sha256, tensorrt_version, calibration_dir)
    except CalibrationCacheError as err:
        logger.warning("%s: calibration cache not used, building without it: %s (fix: %s)",
                       record.name, err.problem, err.fix)
        return None
    except ImportError as err:  # the onnx extra reads the model's tensor names
        logger.warning("%s: calibration cache not checked (%s); install edge-agent[calibrate] "
                       "to build INT8 engines from it", record.name, err)
        return None
    if choice is not None:
        logger.info("%s: INT8 calibration from %s (%s)", record.name, choice.path, choice.source)
    return choice.path if choice is not None else None


def shipped_cache_installer(calibration_dir: Path, manifest_dir: Optional[Path] = None
                            ) -> Callable[[str, FetchResult, TextIO], None]:
    """For `models fetch`: after a model is installed, download the INT8 calibration cache
    NVIDIA publishes with that release (manifest `calibration_url`) into the store as 'ngc'.
    A local calibration that passed its gate still wins over it (store.select_calibration)."""

    def install(name: str, result: FetchResult, stream: TextIO) -> None:
        manifest = load_manifest(name, manifest_dir)
        if not manifest.calibration_url:
            return
        dest = result.path.parent / ".partial" / f"{name}.calibration"
        download(manifest.calibration_url, dest)
        try:
            choice = install_shipped_cache(calibration_dir, name, manifest.ngc_version,
                                           dest.read_bytes(), model_sha256=result.sha256,
                                           origin=manifest.calibration_url)
        finally:
            dest.unlink()
        print(f"{name}: NVIDIA's INT8 calibration cache installed in {choice.path}",
              file=stream)

    return install
