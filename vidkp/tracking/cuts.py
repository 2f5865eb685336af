"""Scene-cut (shot change) detection, so that no face track continues across a cut.

A cut is declared when both the colour histogram (Bhattacharyya distance of 16x8 H-S
histograms) and the mean absolute gray difference of a 64x36 thumbnail jump between two
consecutive frames. Both must fire: a fast pan changes pixels but not colours, a light change
shifts colours but keeps the layout.
"""
from __future__ import annotations

import cv2
import numpy as np


THUMB_SOURCE_WIDTH = 640
"""A wider frame is first subsampled (nearest pixel) to this width, so the thumbnail of a 1080p
frame costs what one of a 640x360 frame does."""


class CutDetector:
    """Stateful per-video detector: `is_cut(frame)` is True when `frame` starts a new shot.
    `thumb` is the 64x36 gray thumbnail (float32) of the last frame seen (None before any)."""

    def __init__(self, hist_threshold: float = 0.3, diff_threshold: float = 20.0) -> None:
        self.hist_threshold = hist_threshold
        self.diff_threshold = diff_threshold
        self._prev: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def thumb(self) -> np.ndarray | None:
        return None if self._prev is None else self._prev[1]

    def reset(self) -> None:
        self._prev = None

    def is_cut(self, frame_bgr: np.ndarray) -> bool:
        h, w = frame_bgr.shape[:2]
        if w > THUMB_SOURCE_WIDTH:
            frame_bgr = cv2.resize(frame_bgr, (THUMB_SOURCE_WIDTH, max(1, round(h * THUMB_SOURCE_WIDTH / w))),
                                   interpolation=cv2.INTER_NEAREST)
        small = cv2.resize(frame_bgr, (64, 36), interpolation=cv2.INTER_AREA)
        if small.ndim == 2:
            small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
        hist = cv2.normalize(hist, None, 1, 0, cv2.NORM_L1)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
        prev, self._prev = self._prev, (hist, gray)
        if prev is None:
            return False
        hist_dist = cv2.compareHist(prev[0], hist, cv2.HISTCMP_BHATTACHARYYA)
        diff = float(np.abs(gray - prev[1]).mean())
        return hist_dist > self.hist_threshold and diff > self.diff_threshold
