"""Landmark accuracy: NME normalised by the outer eye corners (points 36 and 45), per face."""
from __future__ import annotations

import numpy as np

REGIONS = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36), "eyes": range(36, 48),
           "mouth": range(48, 68)}
FAIL_NME = 0.10


def interocular(gt: np.ndarray) -> np.ndarray:
    """Outer eye-corner distance (n,) of ground-truth points (n, 68, 2)."""
    return np.linalg.norm(gt[:, 36] - gt[:, 45], axis=-1)


def nme(pred: np.ndarray, gt: np.ndarray, idx=None) -> np.ndarray:
    """Per-face mean point error / outer interocular distance (n,); NaN predictions give NaN."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    sel = slice(None) if idx is None else list(idx)
    err = np.linalg.norm(pred[:, sel] - gt[:, sel], axis=-1).mean(axis=1)
    return err / interocular(gt)


def summarize(pred: np.ndarray, gt: np.ndarray, found: np.ndarray | None = None) -> dict[str, float]:
    """Mean/median NME, failure rate (NME > 10% or face not found), per-region mean NME.

    Mean, median and regions are over found faces; `failure` counts a missed face as a failure.
    """
    n = len(gt)
    found = np.ones(n, bool) if found is None else np.asarray(found, bool)
    e = nme(pred[found], gt[found]) if found.any() else np.zeros(0)
    out = {"n": int(n), "found": float(found.mean()) if n else 0.0,
           "mean": float(e.mean()) if len(e) else float("nan"),
           "median": float(np.median(e)) if len(e) else float("nan"),
           "failure": float(((~found).sum() + (e > FAIL_NME).sum()) / n) if n else float("nan")}
    for name, idx in REGIONS.items():
        out[name] = float(nme(pred[found], gt[found], idx).mean()) if len(e) else float("nan")
    return out
