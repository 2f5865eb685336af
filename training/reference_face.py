"""Print the 2D part of vidkp's 3D reference face (`vidkp/analysis/reference.py`, `MEAN_FRONT_2D`).

The mean frontal shape of the training people's labels (Udacity P1 keypoints, MIT licence; the
hold-out people are left out): every face is similarity-aligned to the running mean (generalised
Procrustes), averaged with its left-right mirror, then scaled so the outer eye corners are
`EYE_CORNER_MM` apart and centred between the inner eye corners. Faces turned more than
`MAX_TURN` (jaw widths, `training.dataset.turn`) are left out, so the mean is frontal.

    python -m training.reference_face ../shared/data/facial_keypoints
"""
from __future__ import annotations

import sys

import numpy as np

from training.dataset import holdout_people, load_split, turn
from vidkp.landmarks.shape import MIRROR_PERM

EYE_CORNER_MM = 90.0  # outer canthal width (ex-ex) of an adult, a round anthropometric figure
MAX_TURN = 0.06


def _align(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """`src` (68, 2) moved onto `dst` by the least-squares similarity transform."""
    a, b = src - src.mean(0), dst - dst.mean(0)
    za, zb = a[:, 0] + 1j * a[:, 1], b[:, 0] + 1j * b[:, 1]
    s = (np.conj(za) @ zb) / (np.conj(za) @ za)
    z = s * za
    return np.stack([z.real, z.imag], 1) + dst.mean(0)


def mean_front(root: str) -> np.ndarray:
    held = holdout_people(root)
    tr = load_split(root, "training")
    keep = [i for i, p in enumerate(tr.people()) if p not in held]
    kps = tr.keypoints[keep].astype(np.float64)
    kps = kps[np.abs(turn(kps)) < MAX_TURN]
    mirrored = kps.copy()
    mirrored[..., 0] *= -1
    kps = np.concatenate([kps, mirrored[:, MIRROR_PERM]])
    mean = kps[0] - kps[0].mean(0)
    for _ in range(10):
        mean = np.mean([_align(k, mean) for k in kps], axis=0)
        mean /= np.linalg.norm(mean)
    mean = (mean + (mean * [-1, 1])[MIRROR_PERM]) / 2  # exactly symmetric
    # eye line horizontal, scaled to mm, origin between the inner eye corners
    d = mean[45] - mean[36]
    c, s = d / np.linalg.norm(d)
    mean = mean @ np.array([[c, -s], [s, c]])
    mean *= EYE_CORNER_MM / np.linalg.norm(mean[45] - mean[36])
    return mean - (mean[39] + mean[42]) / 2, len(kps) // 2


if __name__ == "__main__":
    shape, n = mean_front(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/facial_keypoints")
    print(f"# {n} frontal faces")
    print("MEAN_FRONT_2D = np.array([")
    for i in range(0, 68, 4):
        print("    " + " ".join(f"[{x:.1f}, {y:.1f}]," for x, y in shape[i:i + 4]))
    print("])")
