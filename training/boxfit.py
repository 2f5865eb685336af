"""Match cached Haar boxes to ground-truth landmarks and fit `vidkp.landmarks.shape.BoxRelation`."""
from __future__ import annotations

import numpy as np

from vidkp.landmarks.shape import BoxRelation, landmark_frame

# a Haar box counts as the labelled face when its centre is within this many landmark-frame sizes
# of the landmark centre and its side within this factor of the landmark size
MATCH_CENTER = 0.4
MATCH_SIDE = (0.6, 2.0)


def box_residuals(box: np.ndarray, kps: np.ndarray) -> np.ndarray:
    """Residuals (k, 3) of boxes (k, 4+) in the landmark frame: centre dx, dy / s and log(side / s)."""
    c, s = landmark_frame(kps[None])
    b = np.asarray(box, np.float64).reshape(-1, box.shape[-1])[:, :4]
    side = np.sqrt(b[:, 2] * b[:, 3])
    return np.stack([(b[:, 0] + b[:, 2] / 2 - c[0, 0]) / s[0], (b[:, 1] + b[:, 3] / 2 - c[0, 1]) / s[0],
                     np.log(side / s[0])], axis=1)


def match(boxes: np.ndarray, kps: np.ndarray) -> int:
    """Index of the Haar box (k, 4+) that frames the labelled face `kps` (68, 2), or -1."""
    if len(boxes) == 0:
        return -1
    r = box_residuals(boxes, kps)
    ok = (np.hypot(r[:, 0], r[:, 1]) < MATCH_CENTER) & (r[:, 2] > np.log(MATCH_SIDE[0])) & (r[:, 2] < np.log(MATCH_SIDE[1]))
    if not ok.any():
        return -1
    d = np.hypot(r[:, 0], r[:, 1]) + np.abs(r[:, 2] - np.median(r[ok, 2]))
    d[~ok] = np.inf
    return int(np.argmin(d))


def fit_relation(residuals: np.ndarray) -> BoxRelation:
    """Robust fit (median, MAD-based sd) of matched residuals (n, 3)."""
    med = np.median(residuals, axis=0)
    sd = 1.4826 * np.median(np.abs(residuals - med), axis=0)
    return BoxRelation(*(float(v) for v in med), *(float(v) for v in sd))


def matched_residuals(haar: dict[str, np.ndarray], keys: list[str], kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals (m, 3) of matched boxes and a found-mask (n,) for samples `keys` with points `kps`."""
    res, found = [], np.zeros(len(keys), bool)
    for i, k in enumerate(keys):
        boxes = haar.get(k, np.zeros((0, 5), np.float32))
        j = match(boxes, kps[i])
        if j >= 0:
            found[i] = True
            res.append(box_residuals(boxes[j:j + 1], kps[i])[0])
    return np.asarray(res).reshape(-1, 3), found
