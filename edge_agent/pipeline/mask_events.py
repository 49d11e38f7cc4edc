"""Turn a decoded segmentation into the mask event a camera publishes.

Pure: frame metadata and class map in, typed payload out. Coverage is measured on the
network-resolution map (the most detail the model has); the carried mask is resized to the
configured output size first, because RLE length and MQTT payload grow with it.
"""

from __future__ import annotations

import time
from typing import Dict, Sequence

from edge_agent.analytics.zone_coverage import Zone, ZoneCoverageMeter
from edge_agent.events.payloads import SCHEMA_VERSION, MaskEvent, MaskRle
from edge_agent.events.payloads import ZoneCoverage as ZonePayload
from edge_agent.events.rle import encode_rle
from edge_agent.events.sequence import SequenceCounter, new_event_id
from edge_agent.frames import Frame
from edge_agent.models import semseg
from edge_agent.settings import CameraSettings, SemSegSettings


class MaskEventBuilder:
    """Builds MaskEvents for every camera of a device; owns the zone rasters."""

    def __init__(
        self,
        device_id: str,
        cameras: Sequence[CameraSettings],
        settings: SemSegSettings,
        sequence: SequenceCounter,
    ) -> None:
        self._device_id = device_id
        self._sequence = sequence
        self._zones: Dict[str, ZoneCoverageMeter] = {}
        self.set_cameras(cameras, settings)

    def set_cameras(self, cameras: Sequence[CameraSettings], settings: SemSegSettings) -> None:
        """Zone rasters of these cameras (rebuilt only where zones changed) and mask size."""
        self._settings = settings
        old = self._zones
        zones: Dict[str, ZoneCoverageMeter] = {}
        for camera in cameras:
            specs = [Zone(zone.name, tuple((x, y) for x, y in zone.polygon))
                     for zone in camera.zones]
            kept = old.get(camera.id)
            zones[camera.id] = kept if kept is not None and kept.zones == tuple(specs) else (
                ZoneCoverageMeter(specs))
        self._zones = zones

    def build(
        self,
        frame: Frame,
        output: semseg.SegOutput,
        model_name: str,
        standin: bool,
        inference_ms: float,
    ) -> MaskEvent:
        """The mask event for one frame's segmentation."""
        person = semseg.person_mask(output.class_map)
        zones = self._zones.get(frame.camera_id)
        coverage = zones.measure(person) if zones is not None else []
        small = semseg.resize_class_map(
            output.class_map, self._settings.mask_width, self._settings.mask_height
        )
        rle = encode_rle(semseg.person_mask(small))
        width, height = output.frame_size
        return MaskEvent(
            type="mask",
            schema_version=SCHEMA_VERSION,
            event_id=new_event_id(),
            device_id=self._device_id,
            camera_id=frame.camera_id,
            capture_ts=frame.capture_ts,
            emitted_ts=time.time(),
            seq=self._sequence.next(),
            standin=standin,
            model=model_name,
            frame_seq=frame.seq,
            frame_width=width,
            frame_height=height,
            person_fraction=output.person_fraction(),
            zones=[ZonePayload(name=value.name, coverage=value.coverage) for value in coverage],
            mask=MaskRle.from_rle(rle),
            inference_ms=inference_ms,
        )
