"""`FaceLandmarker`: the public API for images: Haar detection, then the landmark model."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidkp.detect.candidates import ACCEPT_SCORE, ShiftLimit, check_jitter, find_faces
from vidkp.detect.haar import HaarDetector, fallback_detector, still_detector
from vidkp.faces import Faces
from vidkp.landmarks import STILL_JITTER, LandmarkModel


@dataclass(frozen=True)
class Face:
    """One face: `box` (x, y, w, h), `score` (detector or model confidence), `keypoints` (68, 2)."""

    box: np.ndarray
    score: float
    keypoints: np.ndarray


class FaceLandmarker:
    """Detect faces and predict their 68 iBUG landmarks (CPU, default weights).

    >>> lm = FaceLandmarker()
    >>> faces = lm.detect(image_bgr)   # [Face(box, score, keypoints), ...]

    `detect` searches like `vidkp run` does for a still image (`vidkp.detect.candidates.find_faces`):
    the detector's boxes are predicted (twice: from the box, then from the points); boxes whose
    face score is below `accept_score`, or whose points move with a shifted crop (more than
    `max_shift_error`; "auto": the limit stored with the weights; None: no shift test), are
    dropped as false alarms; duplicates on one face are merged. `mirror` (default on): the final
    points are averaged with those of the mirrored crop (flip test-time averaging: each face kept
    is predicted once more, its crop and the mirrored crop in one batch of two), as `vidkp run`
    does for still images. `jitter` (default `STILL_JITTER`; 0: off): those final points are also
    averaged over crops moved by that share of their side right, left, down and up (five crops,
    each with its mirror: ten network passes per face kept). `fallback` (default on): an image in
    which no face is found is searched again with the detector at `min_neighbors=1`
    (`vidkp.detect.haar.fallback_detector`), as `vidkp run` does for still images. `threads`: the
    network's threads (`LandmarkModel`).
    """

    def __init__(self, weights: str | Path | None = None, min_face: int = 24,
                 detector: HaarDetector | None = None, accept_score: float = ACCEPT_SCORE,
                 max_shift_error: ShiftLimit = "auto", mirror: bool = True, jitter: float = STILL_JITTER,
                 fallback: bool = True, threads: int | None = None) -> None:
        self.model = LandmarkModel(weights, threads)
        self.detector = detector or still_detector(min_face)
        self.fallback = fallback_detector(self.detector) if fallback else None
        self.accept_score = float(accept_score)
        self.max_shift_error = max_shift_error
        self.mirror = bool(mirror)
        self.jitter = check_jitter(jitter, "FaceLandmarker jitter")

    def search(self, image_bgr: np.ndarray) -> tuple[Faces, dict[str, float]]:
        """`detect_faces`, plus the seconds spent in the detectors ("detect") and the model ("landmarks")."""
        return find_faces(self.model, self.detector, image_bgr, self.accept_score, self.max_shift_error,
                          mirror=self.mirror, jitter=self.jitter, fallback=self.fallback)

    def detect_faces(self, image_bgr: np.ndarray) -> Faces:
        """Columnar result for one image: boxes (Haar-like, framing the points), face scores, keypoints."""
        return self.search(image_bgr)[0]

    def detect(self, image_bgr: np.ndarray) -> list[Face]:
        """Find the faces of one image and return one `Face` per face, left to right."""
        return _to_list(self.detect_faces(image_bgr))

    def landmarks(self, image_bgr: np.ndarray, boxes) -> list[Face]:
        """Predict landmarks for boxes (n, 4) = x, y, w, h that the caller already has."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        kps, scores = self.model.predict(image_bgr, boxes, mirror=self.mirror, jitter=self.jitter)
        return _to_list(Faces(boxes, scores, kps))


def _to_list(faces: Faces) -> list[Face]:
    return [Face(faces.boxes[i].copy(), float(faces.scores[i]), faces.keypoints[i].copy()) for i in range(len(faces))]
