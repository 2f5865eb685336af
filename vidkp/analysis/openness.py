"""Eye and mouth openness per row, from the 68 points.

`eye_open_right` (points 36-41, the subject's right eye, on the image's left) and `eye_open_left`
(42-47) are eye aspect ratios: the mean of the two eyelid gaps over the eye's width (about 0.3 open,
near 0 closed; no unit). `eye_open` is their mean. `mouth_open` is the mean of the three inner-lip
gaps (61-67, 62-66, 63-65) over the mouth width (48-54): 0 closed, about 0.3-0.6 wide open.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from vidkp.analysis.columns import points

OPENNESS_COLUMNS = ["eye_open_right", "eye_open_left", "eye_open", "mouth_open"]


def _dist(p: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(p[:, a] - p[:, b], axis=1)


def _eye(p: np.ndarray, c0: int) -> np.ndarray:
    """Eye aspect ratio of the eye whose six points start at `c0` (corner, 2 upper, corner, 2 lower)."""
    gaps = _dist(p, c0 + 1, c0 + 5) + _dist(p, c0 + 2, c0 + 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        return gaps / (2.0 * _dist(p, c0, c0 + 3))


def openness(tracks: pd.DataFrame) -> pd.DataFrame:
    """`eye_open_right, eye_open_left, eye_open, mouth_open` for every row, on the same index."""
    p = points(tracks, "openness")
    right, left = _eye(p, 36), _eye(p, 42)
    with np.errstate(invalid="ignore", divide="ignore"):
        mouth = (_dist(p, 61, 67) + _dist(p, 62, 66) + _dist(p, 63, 65)) / (3.0 * _dist(p, 48, 54))
    return pd.DataFrame({"eye_open_right": right, "eye_open_left": left, "eye_open": (right + left) / 2.0,
                         "mouth_open": mouth}, index=tracks.index)
