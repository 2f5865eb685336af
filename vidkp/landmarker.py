"""`FaceLandmarker`: the public API for images: Haar detection, then the landmark model."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from vidkp.detect.candidates import ACCEPT_SCORE, ShiftLimit, check_jitter, find_faces
from vidkp.detect.haar import FALLBACK_ROLLS, STILL_CASCADES, HaarDetector, fallback_detector, still_detector
from vidkp.errors import InputError
from vidkp.faces import Faces
from vidkp.landmarks import STILL_JITTER, LandmarkModel


@dataclass(frozen=True)
class StillConfig:
    """How a still image is searched (`FaceLandmarker`, and `vidkp run` for stills): see there."""

    accept_score: float = ACCEPT_SCORE
    """Least face score (model, [0, 1]) for a candidate to be a face."""
    max_shift_error: ShiftLimit = "auto"
    """Shift-test limit in outer-eye distances; "auto": the one stored with the weights; None: no test."""
    mirror: bool = True
    """Average the final points with those of the mirrored crop."""
    jitter: float = STILL_JITTER
    """Also average over crops moved by this share of their side (0: off)."""
    fallback: bool = True
    """Search again at min_neighbors=1, also on the image rotated by `fallback_rolls`, when no
    face is found."""
    cascades: tuple[str, ...] = STILL_CASCADES
    """Haar cascades of the search (`vidkp.detect.haar.CASCADES` names or XML paths)."""
    min_neighbors: int = 3
    """Haar `min_neighbors` of the first search (the second one uses 1)."""
    fallback_rolls: tuple[float, ...] = FALLBACK_ROLLS
    """The second search also scans the image rotated by these angles (degrees)."""

    def __post_init__(self) -> None:
        check_jitter(self.jitter, "StillConfig.jitter")
        if isinstance(self.cascades, (str, Path)) or not self.cascades:
            raise InputError(f"StillConfig.cascades: expected a non-empty tuple of cascade names or paths, "
                             f"got {self.cascades!r}")
        if self.min_neighbors < 0:
            raise InputError(f"StillConfig.min_neighbors: expected >= 0, got {self.min_neighbors!r}")
        try:
            rolls = tuple(float(r) for r in self.fallback_rolls)
        except (TypeError, ValueError):
            raise InputError(f"StillConfig.fallback_rolls: expected a tuple of angles in degrees, "
                             f"got {self.fallback_rolls!r}") from None
        object.__setattr__(self, "cascades", tuple(str(c) for c in self.cascades))
        object.__setattr__(self, "fallback_rolls", rolls)


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
    which no face is found is searched again with the detector at `min_neighbors=1`, also on the
    image rotated by `fallback_rolls` (`vidkp.detect.haar.fallback_detector`), as `vidkp run` does
    for still images. The detector: `cascades` at `min_neighbors` (`still_detector`), unless
    `detector` is given. These settings are a `StillConfig` (`config`); keyword arguments of the
    same names override its fields. `threads`: the network's threads (`LandmarkModel`); `max_side`:
    the longest image side the cascades see (pixels; larger images are downscaled for them);
    `refine=False`: no eye and mouth refinement stage (`LandmarkModel`).
    """

    def __init__(self, weights: str | Path | None = None, min_face: int = 24, detector: HaarDetector | None = None,
                 config: StillConfig | None = None, threads: int | None = None, max_side: int = 1280,
                 refine: bool = True, **settings: Any) -> None:
        known = {f.name for f in fields(StillConfig)}
        if set(settings) - known:
            raise TypeError(f"unknown FaceLandmarker settings {sorted(set(settings) - known)}; known: {sorted(known)}")
        self.config = replace(config or StillConfig(), **settings)
        self.model = LandmarkModel(weights, threads, refine=refine)
        c = self.config
        self.detector = detector or still_detector(min_face, max_side, c.cascades, c.min_neighbors)
        self.fallback = fallback_detector(self.detector, c.fallback_rolls) if c.fallback else None

    def search(self, image_bgr: np.ndarray) -> tuple[Faces, dict[str, float]]:
        """`detect_faces`, plus the seconds spent in the detectors ("detect") and the model ("landmarks")."""
        c = self.config
        return find_faces(self.model, self.detector, image_bgr, c.accept_score, c.max_shift_error,
                          mirror=c.mirror, jitter=c.jitter, fallback=self.fallback)

    def detect_faces(self, image_bgr: np.ndarray) -> Faces:
        """Columnar result for one image: boxes (Haar-like, framing the points), face scores, keypoints."""
        return self.search(image_bgr)[0]

    def detect(self, image_bgr: np.ndarray) -> list[Face]:
        """Find the faces of one image and return one `Face` per face, left to right."""
        return _to_list(self.detect_faces(image_bgr))

    def landmarks(self, image_bgr: np.ndarray, boxes) -> list[Face]:
        """Predict landmarks for boxes (n, 4) = x, y, w, h that the caller already has."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        kps, scores = self.model.predict(image_bgr, boxes, mirror=self.config.mirror, jitter=self.config.jitter)
        return _to_list(Faces(boxes, scores, kps))


def _to_list(faces: Faces) -> list[Face]:
    return [Face(faces.boxes[i].copy(), float(faces.scores[i]), faces.keypoints[i].copy()) for i in range(len(faces))]
