"""Follow faces through a video: detect rarely, track every frame from the previous landmarks.

Per frame: a scene cut ends every track; each live track is re-cropped from its previous
points (a Haar-like box and the eye-line roll, as training crops are made) and re-predicted;
the model's face score decides when a track is lost. The Haar detector runs on the first frame,
after a cut, right after a loss, and on every `detect_every`-th frame while faces are tracked
(every `detect_every_empty`-th while none is), counted from the start of the video: a follower
started mid-video (a segment of a split video, `reset(start)`) detects on the frames an unsplit
run does. A detection on a tracked face re-seeds that track (undoing drift), one on no tracked
face starts a track if the model's face score accepts it (this rejects detector false alarms).
Tracks that end up on the same face are merged (the older id stays). Each track's points are
One-Euro filtered (`smooth=False` gives the raw per-frame predictions).

`face_id` contract: an id stays the same while a face stays tracked; a lost face that comes
back, and every face after a scene cut, gets a new id. Ids count up from 0 per video.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import time

import numpy as np

from vidkp.cuts import CutDetector
from vidkp.detect import HaarDetector
from vidkp.faces import Faces
from vidkp.landmarks import LandmarkModel
from vidkp.smooth import OneEuroFilter
from vidkp.track import iou_matrix


@dataclass(frozen=True)
class FollowConfig:
    """Tracking knobs; defaults are chosen on generated clips, never on the people hold-out."""

    detect_every: int = 10
    """Run the detector at least every N frames to pick up new faces."""
    accept_score: float = 0.5
    """Least model face score for a detection to start a track."""
    keep_score: float = 0.3
    """A tracked face whose score falls below this is lost."""
    merge_iou: float = 0.3
    """Tracks (or a detection and a track) whose boxes overlap more than this are one face."""
    detect_every_empty: int = 3
    """With no live track, run the detector every N frames (1 = every frame)."""
    refine: bool = True
    """Predict a new detection twice: from the detector box, then from its own points."""
    smooth: bool = True
    """One-Euro filter the points (False: the raw per-frame predictions)."""
    min_cutoff: float = 0.3
    beta: float = 30.0


@dataclass
class _Track:
    id: int
    raw: np.ndarray
    score: float
    filt: OneEuroFilter
    smooth: np.ndarray = field(default=None)  # type: ignore[assignment]


def roll_degrees(kps: np.ndarray) -> np.ndarray:
    """In-plane roll (n,) in degrees from the eye centres of points (n, 68, 2)."""
    left, right = kps[:, 36:42].mean(axis=1), kps[:, 42:48].mean(axis=1)
    d = right - left
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


@dataclass(frozen=True)
class FollowResult:
    """Faces of one frame (keypoints filtered unless `smooth` is off, track ids set), and whether
    the detector ran and a cut started this frame."""

    faces: Faces
    detected: bool
    cut: bool
    times: dict[str, float]
    """Seconds spent this frame in the detector ("detect") and the landmark model ("landmarks")."""


class FaceFollower:
    """Stateful per-video face follower; call `step(frame, t)` for consecutive frames, `reset()`
    between videos."""

    def __init__(self, model: LandmarkModel, detector: HaarDetector, config: FollowConfig | None = None) -> None:
        self.model = model
        self.detector = detector
        self.cfg = config or FollowConfig()
        self.cuts = CutDetector()
        self.reset()

    def reset(self, start: int = 0) -> None:
        """Forget every track; the next frame is the video's `start`-th processed frame."""
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._index = start
        self._lost = True  # the first frame is always searched
        self.cuts.reset()

    def _predict(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        t0 = time.perf_counter()
        out = self.model.predict(image, boxes, angles)
        self._times["landmarks"] += time.perf_counter() - t0
        return out

    def _predict_from_points(self, image: np.ndarray, kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._predict(image, self.model.box_from_landmarks(kps), roll_degrees(kps))

    def _same_face(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(len(a), len(b)) mask: boxes overlap more than `merge_iou`, or their centres are closer
        than half their mean side."""
        ca, cb = a[:, None, :2] + a[:, None, 2:] / 2, b[None, :, :2] + b[None, :, 2:] / 2
        near = np.linalg.norm(ca - cb, axis=2) < 0.25 * (a[:, None, 2] + b[None, :, 2])
        return near | (iou_matrix(a, b) > self.cfg.merge_iou)

    def _detect(self, image: np.ndarray) -> None:
        """Run the detector: a detection on a tracked face re-seeds that track (undoing drift),
        one on no tracked face starts a track if the model's face score accepts it."""
        t0 = time.perf_counter()
        det = self.detector(image)
        self._times["detect"] += time.perf_counter() - t0
        if not len(det):
            return
        kps, scores = self._predict(image, det.boxes)
        if self.cfg.refine:
            kps, scores = self._predict_from_points(image, kps)
        boxes = self.model.box_from_landmarks(kps)
        tracked = self.model.box_from_landmarks(np.stack([t.raw for t in self._tracks])) if self._tracks else None
        same = self._same_face(boxes, tracked) if tracked is not None else np.zeros((len(boxes), 0), bool)
        for k, s, hits in zip(kps, scores, same):
            if hits.any():
                tr = self._tracks[int(np.argmax(hits))]
                if s >= self.cfg.keep_score:
                    tr.raw, tr.score = k, float(s)
            elif s >= self.cfg.accept_score:
                self._tracks.append(_Track(self._next_id, k, float(s), OneEuroFilter(self.cfg.min_cutoff, self.cfg.beta)))
                self._next_id += 1

    def _merge(self) -> None:
        if len(self._tracks) < 2:
            return
        boxes = self.model.box_from_landmarks(np.stack([t.raw for t in self._tracks]))
        same = self._same_face(boxes, boxes)
        drop: set[int] = set()
        for i in range(len(self._tracks)):
            for j in range(i + 1, len(self._tracks)):
                if same[i, j] and i not in drop:
                    drop.add(j)  # tracks are kept in id order: the older one stays
        self._tracks = [t for k, t in enumerate(self._tracks) if k not in drop]

    def step(self, image: np.ndarray, t: float) -> FollowResult:
        """Process the next frame (BGR) at time `t` seconds."""
        self._times = {"detect": 0.0, "landmarks": 0.0}
        cut = self.cuts.is_cut(image)
        if cut:
            self._tracks = []
        if self._tracks:
            kps, scores = self._predict_from_points(image, np.stack([tr.raw for tr in self._tracks]))
            live = []
            for tr, k, s in zip(self._tracks, kps, scores):
                if s >= self.cfg.keep_score and np.isfinite(k).all():
                    tr.raw, tr.score = k, float(s)
                    live.append(tr)
                else:
                    self._lost = True
            self._tracks = live
        period = self.cfg.detect_every if self._tracks else self.cfg.detect_every_empty
        detect = cut or self._lost or self._index % period == 0
        self._index += 1
        if detect:
            self._lost = False
            self._detect(image)
        self._merge()
        for tr in self._tracks:
            size = float(np.linalg.norm(tr.raw[45] - tr.raw[36])) or 1.0
            tr.smooth = tr.filt(tr.raw, t, scale=size) if self.cfg.smooth else tr.raw
        return self._result(detect, cut)

    def _result(self, detected: bool, cut: bool) -> FollowResult:
        if not self._tracks:
            return FollowResult(Faces.empty(), detected, cut, self._times)
        smooth = np.stack([t.smooth for t in self._tracks]).astype(np.float32)
        faces = Faces(self.model.box_from_landmarks(smooth), np.array([t.score for t in self._tracks]), smooth,
                      np.array([t.id for t in self._tracks]))
        return FollowResult(faces, detected, cut, self._times)
