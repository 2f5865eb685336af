"""Face detection. `HaarDetector` wraps OpenCV's frontal-face Haar cascades.

Box convention: the Haar box is a near-square around brows, eyes, nose and mouth (roughly
from mid-forehead to just below the lower lip); the landmark crop (`CropSpec`) was fitted to
exactly that convention, so boxes from another detector should be mapped to it first.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidkp.crop import to_gray
from vidkp.errors import ModelError
from vidkp.faces import Faces

CASCADES = {"default": "haarcascade_frontalface_default.xml", "alt2": "haarcascade_frontalface_alt2.xml",
            "alt": "haarcascade_frontalface_alt.xml"}
"""Short names of OpenCV's bundled frontal cascades (all draw boxes in the same convention)."""


def load_cascade(name: str | Path) -> cv2.CascadeClassifier:
    """A bundled cascade by short name (`CASCADES`) or a cascade XML file by path."""
    path = Path(cv2.data.haarcascades) / CASCADES[name] if name in CASCADES else Path(name)
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise ModelError(f"could not load Haar cascade from {path}")
    return cascade


class HaarDetector:
    """OpenCV Haar cascade face detector on a (possibly downscaled) gray image.

    `max_side` bounds the longer image side that the cascades see (larger frames are
    downscaled first, for speed); `min_face` is the smallest face side in original pixels.
    With several `cascades` the boxes of all are returned (a face found by two gives two
    near-identical boxes: `vidkp.candidates.find_faces` merges them); the union finds more
    faces than any one cascade, at the cost of one pass per cascade. Scores are the cascades'
    level weights (higher is more face-like).
    """

    box_convention = "haar"

    def __init__(self, min_face: int = 24, max_side: int = 640, scale_factor: float = 1.1,
                 min_neighbors: int = 5, cascades: tuple[str | Path, ...] = ("default",)) -> None:
        if not cascades:
            raise ModelError("HaarDetector needs at least one cascade")
        self._cascades = [load_cascade(c) for c in cascades]
        self.cascades = tuple(str(c) for c in cascades)
        self.min_face = int(min_face)
        self.max_side = int(max_side)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)

    def __call__(self, image: np.ndarray) -> Faces:
        gray = to_gray(image)
        h, w = gray.shape[:2]
        k = min(1.0, self.max_side / float(max(h, w)))
        small = cv2.resize(gray, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else gray
        small = cv2.equalizeHist(small)
        min_px = max(int(round(self.min_face * k)), 12)
        found, weights = [], []
        for cascade in self._cascades:
            boxes, _, level = cascade.detectMultiScale3(
                small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                minSize=(min_px, min_px), outputRejectLevels=True)
            if len(boxes):
                found.append(np.asarray(boxes, np.float32).reshape(-1, 4))
                weights.append(np.asarray(level, np.float32).reshape(-1))
        if not found:
            return Faces.empty()
        boxes, scores = np.concatenate(found) / k, np.concatenate(weights)
        order = np.lexsort((boxes[:, 1], boxes[:, 0]))  # OpenCV's order varies with its thread count
        return Faces(boxes[order], scores[order])


def still_detector(min_face: int = 24, max_side: int = 1280) -> HaarDetector:
    """The detector for still images: two cascades at `min_neighbors=3` find more faces
    (validation people: 99.1% vs 94.5% for one cascade at 5); the extra false alarms are left
    to the model's face score and shift test (`vidkp.candidates.find_faces`)."""
    return HaarDetector(min_face=min_face, max_side=max_side, min_neighbors=3, cascades=("default", "alt2"))


def video_detector(min_face: int = 24, max_side: int = 640) -> HaarDetector:
    """The detector for video passes: the default cascade at `min_neighbors=3`. On clips made
    from validation people it kept the tracks' coverage of two cascades (0.900 vs 0.901) at
    half the cost; alternating the two between passes was worse (0.873), one cascade at
    `min_neighbors=5` too (0.868)."""
    return HaarDetector(min_face=min_face, max_side=max_side, min_neighbors=3)
