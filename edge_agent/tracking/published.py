"""What a subscriber sees of a camera's tracks: the one selection both the agent and eval use.

The tracker keeps more than it publishes (tentative tracks, tracks lost for up to
`max_lost_s`). Publishing, counting and scoring must agree on the rest, or `eval tracking`
measures a stream nobody receives: a confirmed track matched in this frame is published with
its detection box; a confirmed track lost for at most `predict_gap_s` whose prediction the
tracker still trusts (`predicted`: e.g. not walked out of the frame) is published with its
predicted box; nothing else is. Zone and line counts are built from this
list only, so a person lost longer than the gap is never counted.
"""

from __future__ import annotations

from typing import List, Sequence

from edge_agent.tracking.track import Track, TrackState

GAP_TOLERANCE_S = 1e-6
"""Frame times are sums of float intervals: 2.2 - 1.9 is 0.30000000000000027, and a frame
exactly one gap after the last match must still be inside it."""


def published_tracks(tracks: Sequence[Track], now_s: float, predict_gap_s: float) -> List[Track]:
    """Tracks a subscriber sees for the frame at `now_s` (tracker order)."""
    out: List[Track] = []
    for track in tracks:
        if track.state == TrackState.CONFIRMED or (
            track.state == TrackState.LOST and track.predicted
            and track.lost_s(now_s) <= predict_gap_s + GAP_TOLERANCE_S
        ):
            out.append(track)
    return out
