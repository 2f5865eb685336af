"""A greedy IoU `Tracker` for per-frame detections: a baseline for the benchmarks.

`vidkp run` follows faces with `vidkp.tracking.follow.FaceFollower`; this
`Tracker` gives ids to detectors that run on every frame (the detect-every-frame and dlib
baselines of benchmarks/track_bench.py). Each frame's detections are matched to the live tracks
by descending IoU (at least `iou_threshold`); unmatched detections open new tracks; a track
unmatched for more than `max_age` frames is retired, so a face that comes back gets a new id.
Ids start at 0 for each input (`reset()`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidkp.boxes import iou_matrix
from vidkp.faces import Faces



@dataclass
class _Track:
    id: int
    box: np.ndarray
    missed: int = 0


class Tracker:
    """Greedy IoU association of detections frame to frame. Never modifies its inputs."""

    def __init__(self, iou_threshold: float = 0.3, max_age: int = 5) -> None:
        self.iou_threshold = float(iou_threshold)
        self.max_age = int(max_age)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks; ids restart at 0 (call at each new input or at a scene cut)."""
        self._tracks: list[_Track] = []
        self._next_id = 0

    def update(self, faces: Faces) -> Faces:
        """Return `faces` with `track_ids` set; advances the tracker by one processed frame."""
        n = len(faces)
        ids = np.full(n, -1, np.int64)
        if self._tracks and n:
            iou = iou_matrix(np.stack([t.box for t in self._tracks]), faces.boxes)
            order = np.dstack(np.unravel_index(np.argsort(-iou, axis=None), iou.shape))[0]
            used_t: set[int] = set()
            for ti, di in order:
                if iou[ti, di] < self.iou_threshold:
                    break
                if ti in used_t or ids[di] >= 0:
                    continue
                used_t.add(int(ti))
                ids[di] = self._tracks[ti].id
                self._tracks[ti].box = faces.boxes[di].copy()
        matched = set(ids[ids >= 0].tolist())
        for t in self._tracks:
            t.missed = 0 if t.id in matched else t.missed + 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_age]
        for di in np.flatnonzero(ids < 0):
            ids[di] = self._next_id
            self._tracks.append(_Track(self._next_id, faces.boxes[di].copy()))
            self._next_id += 1
        return faces.with_track_ids(ids)
