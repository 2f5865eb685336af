"""Id association by box overlap: `iou_matrix`, and a greedy IoU `Tracker` for per-frame detections.

`vidkp run` follows faces with `vidkp.follow.FaceFollower` (which uses `iou_matrix`); this
`Tracker` gives ids to detectors that run on every frame (the detect-every-frame and dlib
baselines of benchmarks/track_bench.py). Each frame's detections are matched to the live tracks
by descending IoU (at least `iou_threshold`); unmatched detections open new tracks; a track
unmatched for more than `max_age` frames is retired, so a face that comes back gets a new id.
Ids start at 0 for each input (`reset()`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidkp.faces import Faces


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in `a` (n, 4) with every box in `b` (m, 4); boxes are x, y, w, h."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0, None], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1, None], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


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
