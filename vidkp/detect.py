"""Face detection. `HaarDetector` wraps OpenCV's frontal-face Haar cascade.

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


class HaarDetector:
    """OpenCV Haar cascade face detector on a (possibly downscaled) gray image.

    `max_side` bounds the longer image side that the cascade sees (larger frames are
    downscaled first, for speed); `min_face` is the smallest face side in original pixels.
    Scores are the cascade's level weights (higher is more face-like).
    """

    box_convention = "haar"

    def __init__(self, min_face: int = 24, max_side: int = 640, scale_factor: float = 1.1,
                 min_neighbors: int = 5, cascade: str | Path | None = None) -> None:
        path = Path(cascade) if cascade else Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelError(f"could not load Haar cascade from {path}")
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
        boxes, _, weights = self._cascade.detectMultiScale3(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(min_px, min_px), outputRejectLevels=True)
        if len(boxes) == 0:
            return Faces.empty()
        boxes = np.asarray(boxes, np.float32) / k
        order = np.lexsort((boxes[:, 1], boxes[:, 0]))  # OpenCV's order varies with its thread count
        return Faces(boxes[order], np.asarray(weights, np.float32).reshape(-1)[order])
