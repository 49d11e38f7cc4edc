"""Builds the JSON of track events and count documents for one camera, rate-limiting updates.

'new' goes out when a track is confirmed, 'end' when it ends (both with the embedding),
'update' at most once per `update_interval_s` per track, except that a change of zones is
sent at once: dashboards care about entries and exits, not about every step in between.
"""

from __future__ import annotations

import time
from typing import Dict, List, Optional, Sequence, Tuple

from edge_agent.analytics.counting import CameraCounting
from edge_agent.analytics.lines import LineTotals
from edge_agent.analytics.occupancy import OccupancyStep, TrackPoint, ZoneCount
from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.sequence import SequenceCounter, new_event_id
from edge_agent.events.track_payloads import (
    LineCountPayload,
    TrackEvent,
    TrackZones,
    ZoneCountPayload,
    encode_embedding,
)
from edge_agent.frames import Frame
from edge_agent.tracking.track import Track

Message = Tuple[Optional[str], bytes]


class TrackEventBuilder:
    """Payload factory of one camera; remembers when each track was last reported."""

    def __init__(self, camera_id: str, device_id: str, sequence: SequenceCounter,
                 update_interval_s: float, standin: bool) -> None:
        self._camera_id = camera_id
        self._device_id = device_id
        self._sequence = sequence
        self._interval_s = update_interval_s
        self._standin = standin
        self._last_sent: Dict[str, float] = {}
        self._frame_size: Tuple[int, int] = (1, 1)
        self._frame_seq = 0
        # wall - monotonic of the latest frame: track times are monotonic (tracker clock),
        # payload times are wall clock.
        self._wall_offset_s = 0.0

    def _event(self, kind: str, track: Track, now: float, zones: TrackZones, active: bool,
               dwell: Dict[str, float], with_embedding: bool) -> bytes:
        emb = track.embedding if with_embedding else None
        width, height = self._frame_size
        event = TrackEvent(
            event_id=new_event_id(), device_id=self._device_id, camera_id=self._camera_id,
            capture_ts=max(now, 0.0), emitted_ts=time.time(), seq=self._sequence.next(),
            standin=self._standin, type=kind, id=track.uid, track_id=track.track_id,
            reid_id=track.reid_id, state="ended" if kind == "end" else track.state.value,
            frame_seq=self._frame_seq, frame_width=width, frame_height=height,
            box=[round(float(v), 1) for v in track.last_box],
            predicted=bool(getattr(track, "predicted", False)), score=track.score,
            top_score=track.top_score, active=active, zones=zones, dwell_s=dwell,
            start_ts=max(track.first_ts + self._wall_offset_s, 0.0),
            end_ts=now if kind == "end" else None,
            embedding=encode_embedding(emb) if emb is not None else None,
            embedding_dim=len(emb) if emb is not None else 0,
        )
        return to_json_bytes(event)

    def for_step(self, frame: Frame, tracks: Sequence[Track], born: Sequence[Track],
                 points: Sequence[TrackPoint], occupancy: OccupancyStep,
                 counting: CameraCounting, ended: Sequence[Track]) -> List[Message]:
        """Messages for one frame: new, due updates, and ends."""
        now = frame.capture_ts
        self._frame_size = frame.size_wh
        self._frame_seq = frame.seq
        self._wall_offset_s = frame.capture_ts - frame.monotonic_ts
        born_ids = {t.uid for t in born}
        out: List[Message] = []
        for track, point in zip(tracks, points):
            before = occupancy.before.get(track.uid, [])
            after = occupancy.after.get(track.uid, [])
            zones = TrackZones(before=before, after=after,
                               entered=[z for z in after if z not in before],
                               left=[z for z in before if z not in after])
            active = not point.lost and point.speed >= counting.occupancy.min_speed
            if track.uid in born_ids:
                kind = "new"
            elif before != after or now - self._last_sent.get(track.uid, -1e18) >= self._interval_s:
                kind = "update"
            else:
                continue
            self._last_sent[track.uid] = now
            dwell = counting.occupancy.dwell_s(track.uid, now)
            out.append((None, self._event(kind, track, now, zones, active, dwell,
                                          kind == "new")))
        out.extend((None, p) for p in self.end_all(ended, now, counting))
        return out

    def end_all(self, ended: Sequence[Track], now: float,
                counting: CameraCounting) -> List[bytes]:
        """'end' payloads of tracks that ended (their zones are left)."""
        out = []
        for track in ended:
            before = list(counting.occupancy.zones_of(track.uid))
            zones = TrackZones(before=before, after=[], entered=[], left=before)
            dwell = counting.forget(track.uid, now)
            self._last_sent.pop(track.uid, None)
            out.append(self._event("end", track, now, zones, False, dwell, True))
        return out

    def zone_payload(self, zone: str, value: ZoneCount, now: float, restored: bool) -> bytes:
        """Retained JSON count of one zone."""
        return to_json_bytes(ZoneCountPayload(
            camera_id=self._camera_id, zone=zone, count=value.current, active=value.active,
            ts=max(now, 0.0), restored=restored, standin=self._standin))

    def line_payload(self, line: str, totals: LineTotals, now: float) -> bytes:
        """Retained JSON counters of one line, keys "in"/"out"."""
        payload = LineCountPayload(
            camera_id=self._camera_id, line=line, count_in=totals.count_in,
            count_out=totals.count_out, since=max(totals.since_ts, 0.0), ts=max(now, 0.0),
            standin=self._standin)
        return payload.model_dump_json(by_alias=True).encode("utf-8")
