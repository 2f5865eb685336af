"""Shape fidelity: do predicted points open and close with the face, not only sit near it on average?

Measures per face, from 68 iBUG points (0-based: 36-41 the image-left eye, 42-47 the other,
48-59 the outer lips, 60-67 the inner lips), each over the outer-eye distance (points 36 and 45)
of the same points, as an analyst computes them from predicted points alone:
- `inner_lip_gap`: |62 - 66|;
- `outer_lip_height`: mean of |50 - 58| and |52 - 56|;
- `eye_opening`: mean of |37 - 41|, |38 - 40|, |43 - 47|, |44 - 46|;
- `mouth_width`: |48 - 54|;
- `brow_raise`: mean distance of the brow points 17-26 above the line through the outer eye
  corners 36 and 45 (signed, positive above the eyes).
For each measure over a set of faces: Pearson r of predicted with labelled values and the spread
ratio (sd predicted / sd labelled; 1 keeps the labels' range, under 1 shrinks toward a mean
shape). Closed eyes: the eye aspect ratio (EAR, mean over both eyes of (|37-41| + |38-40|) /
(2 |36-39|) and its twin) under 0.2 marks an eye pair closed; `closed_recall` is the share of
labelled-closed faces also predicted closed, `closed_false` the share of labelled-open faces
predicted closed.

Within videos (`within_videos`): the same measures less each video's mean, so that only how one
person's face changes counts; the slope of predicted on labelled is the share of a labelled change
that the points keep (what `benchmarks.expression_video` measures on clips).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from training.metrics import interocular

CLOSED_EAR = 0.2


def _dist(p: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(p[:, a] - p[:, b], axis=-1)


def _brow_height(p: np.ndarray) -> np.ndarray:
    """Mean signed distance (px) of points 17-26 above the line 36-45 of each face (n,)."""
    left, right = p[:, 36], p[:, 45]
    d = right - left
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    normal_up = np.stack([d[:, 1], -d[:, 0]], axis=-1)  # image y grows downwards: (dy, -dx) points up
    rel = p[:, 17:27] - left[:, None]
    return (rel * normal_up[:, None]).sum(-1).mean(-1)


MEASURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "inner_lip_gap": lambda p: _dist(p, 62, 66),
    "outer_lip_height": lambda p: (_dist(p, 50, 58) + _dist(p, 52, 56)) / 2,
    "eye_opening": lambda p: (_dist(p, 37, 41) + _dist(p, 38, 40) + _dist(p, 43, 47) + _dist(p, 44, 46)) / 4,
    "mouth_width": lambda p: _dist(p, 48, 54),
    "brow_raise": _brow_height,
}


def measures(points: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Every measure (n,) of points (n, 68, 2) in pixels, divided by `scale` (n,) pixels."""
    p = np.asarray(points, np.float64)
    return {name: f(p) / scale for name, f in MEASURES.items()}


def eye_aspect_ratio(points: np.ndarray) -> np.ndarray:
    """Mean eye aspect ratio of the two eyes (n,) of points (n, 68, 2); unitless, about 0.3 open."""
    p = np.asarray(points, np.float64)
    a = (_dist(p, 37, 41) + _dist(p, 38, 40)) / (2 * _dist(p, 36, 39))
    b = (_dist(p, 43, 47) + _dist(p, 44, 46)) / (2 * _dist(p, 42, 45))
    return (a + b) / 2


def pearson_and_spread(pred: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """Pearson r of `pred` with `label` and sd(pred) / sd(label), over finite pairs (NaN if < 3)."""
    ok = np.isfinite(pred) & np.isfinite(label)
    x, y = pred[ok], label[ok]
    if ok.sum() < 3 or y.std() == 0:
        return float("nan"), float("nan")
    if x.std() == 0:  # a constant prediction: no correlation, no spread
        return float("nan"), 0.0
    return float(np.corrcoef(x, y)[0, 1]), float(x.std() / y.std())


def fidelity(pred: np.ndarray, gt: np.ndarray, found: np.ndarray | None = None) -> dict[str, float]:
    """Fidelity of predicted points (n, 68, 2) against labels (n, 68, 2) over the found faces
    (each set of points measured over its own outer-eye distance): `<measure>_r`,
    `<measure>_spread` for each of `MEASURES`, `closed_n` (labelled-closed faces among them),
    `closed_recall` (share of those predicted closed; NaN when there are none) and `closed_false`
    (share of the other faces predicted closed)."""
    found = np.isfinite(pred).all(axis=(1, 2)) if found is None else np.asarray(found, bool)
    p, g = np.asarray(pred, np.float64)[found], np.asarray(gt, np.float64)[found]
    mp, mg = measures(p, interocular(p)), measures(g, interocular(g))
    out: dict[str, float] = {}
    for name in MEASURES:
        out[f"{name}_r"], out[f"{name}_spread"] = pearson_and_spread(mp[name], mg[name])
    closed, pred_closed = eye_aspect_ratio(g) < CLOSED_EAR, eye_aspect_ratio(p) < CLOSED_EAR
    out["closed_n"] = int(closed.sum())
    out["closed_recall"] = float(pred_closed[closed].mean()) if closed.any() else float("nan")
    out["closed_false"] = float(pred_closed[~closed].mean()) if (~closed).any() else float("nan")
    return out


def centred_within(pred: np.ndarray, label: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values (n,) of `pred` and `label` less their group's means (`groups` (n,) keys), over the pairs
    where both are finite, in groups with at least 2 such pairs: two arrays (m,)."""
    ok = np.isfinite(pred) & np.isfinite(label)
    x, y = np.asarray(label, np.float64)[ok], np.asarray(pred, np.float64)[ok]
    _, group, counts = np.unique(np.asarray(groups)[ok], return_inverse=True, return_counts=True)
    x, y = (v - np.bincount(group, v, len(counts))[group] / counts[group] for v in (x, y))
    keep = counts[group] >= 2
    return y[keep], x[keep]


def slope(pred: np.ndarray, label: np.ndarray) -> float:
    """Least-squares slope (through 0) of `pred` on `label` (n,): the share of a labelled change that
    `pred` keeps; NaN when the labels do not change."""
    den = float(label @ label)
    return float(pred @ label) / den if den > 0 else float("nan")


def within_videos(pred: np.ndarray, gt: np.ndarray, videos: list[str], found: np.ndarray | None = None
                  ) -> dict[str, float]:
    """Fidelity within videos of predicted points (n, 68, 2) against labels (n, 68, 2), the faces
    grouped by `videos` (n,) keys: each measure less its video's mean over the found faces (videos
    with at least 2, `centred_within`), then `<measure>_r`, `<measure>_spread` (`pearson_and_spread`)
    and `<measure>_slope` (`slope`: 1 keeps the whole change)."""
    found = np.isfinite(pred).all(axis=(1, 2)) if found is None else np.asarray(found, bool)
    p, g = np.asarray(pred, np.float64)[found], np.asarray(gt, np.float64)[found]
    keys = np.asarray(videos)[found]
    mp, mg = measures(p, interocular(p)), measures(g, interocular(g))
    out: dict[str, float] = {}
    for name in MEASURES:
        y, x = centred_within(mp[name], mg[name], keys)
        out[f"{name}_r"], out[f"{name}_spread"] = pearson_and_spread(y, x)
        out[f"{name}_slope"] = slope(y, x)
    return out


WITHIN_SHOWN = ("inner_lip_gap", "outer_lip_height", "eye_opening")
"""The measures whose within-video slope `table` shows."""


def table(rows: list[dict]) -> str:
    """Markdown table of the fidelity keys of evaluation rows (r / spread per measure), with the
    within-video slopes of `WITHIN_SHOWN` where a row has them."""
    head = ["model", "set", "setting", "n", *MEASURES, "closed eyes found closed", "open eyes called closed",
            "within videos: share kept"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
             "| | | | | " + " | ".join("r / spread" for _ in MEASURES) + " | | | " + " / ".join(WITHIN_SHOWN) + " |"]
    for r in rows:
        if "inner_lip_gap_r" not in r:
            continue
        n = round(r["n"] * r.get("found", 1.0))
        cells = [str(r["model"]), str(r["set"]), str(r["setting"]), str(n)]
        cells += [f"{r[f'{m}_r']:.2f} / {r[f'{m}_spread']:.2f}" for m in MEASURES]
        cells.append(f"{round(r['closed_recall'] * r['closed_n'])} of {r['closed_n']}" if r["closed_n"] else "-")
        cells.append(f"{100 * r['closed_false']:.1f}%")
        shown = [r.get(f"within_{m}_slope", float("nan")) for m in WITHIN_SHOWN]
        cells.append(" / ".join(f"{v:.2f}" for v in shown) if np.isfinite(shown).all() else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
