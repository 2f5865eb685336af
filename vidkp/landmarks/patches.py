"""Eye and mouth patches for the refinement stage, shared by training and inference.

A patch is a square around the centre of a part's points (an eye's 6, the mouth's 20), rotated so
the outer eye corners (points 36, 45) are level, of side `side` x their distance, resampled to
`size` x `size` pixels, gray or (`PatchSpec.colour`) BGR. The image-right eye is mirrored
left-right so that it looks like the image-left one, and one network serves both eyes. Patch points
are in the networks' output units: patch side 1, origin at the patch centre.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidkp.landmarks.crop import to_bgr, to_gray, warp
from vidkp.landmarks.shape import MIRROR_PERM

LEFT_EYE = np.arange(36, 42)
"""Points of the image-left eye (0-based iBUG), in the order the eye network outputs them."""
RIGHT_EYE = MIRROR_PERM[LEFT_EYE]
"""Points of the image-right eye, in the order of their mirrored twins in `LEFT_EYE`."""
MOUTH = np.arange(48, 68)
"""Points of the mouth (outer lips 48-59, inner lips 60-67)."""
MOUTH_MIRRORED = MIRROR_PERM[MOUTH]
"""The mouth's points in the order of their twins once the patch is mirrored (training flips)."""


@dataclass(frozen=True)
class PatchSpec:
    """A part's patch: `size` pixels a side, covering `side` x the outer-eye distance (stored in a
    part checkpoint's metadata as JSON of these fields, `patch`)."""

    size: int
    side: float
    colour: bool = False
    """BGR patches (3 channels; a gray image's gray repeated) instead of gray."""


def eye_line(kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outer-eye distances (n,) in pixels and eye-line angles (n,) in degrees of faces (n, 68, 2):
    the scale and turn every patch of a face shares."""
    kps = np.asarray(kps, np.float64).reshape(-1, 68, 2)
    line = kps[:, 45] - kps[:, 36]
    return np.maximum(np.linalg.norm(line, axis=1), 1e-3), np.degrees(np.arctan2(line[:, 1], line[:, 0]))


def frame_params(kps: np.ndarray, part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patch frames of faces (n, 68, 2): centres (n, 2) of the `part` points in image pixels, then
    `eye_line`'s distances and angles."""
    kps = np.asarray(kps, np.float64).reshape(-1, 68, 2)
    return (kps[:, part].mean(axis=1), *eye_line(kps))


def frame_matrices(centres: np.ndarray, dists: np.ndarray, angles: np.ndarray, spec: PatchSpec,
                   mirror: bool = False) -> np.ndarray:
    """Image->patch matrices (n, 2, 3) of frames (`frame_params`), each the `crop_matrix` of its
    centre, side `spec.side` x distance and angle; `mirror`: the patch is also flipped left-right
    about the frame's centre (patch x -> size - x), so that a mirrored part lies where its
    unmirrored twin would."""
    centres = np.asarray(centres, np.float64).reshape(-1, 2)
    k = spec.size / (spec.side * np.asarray(dists, np.float64))
    a = np.deg2rad(np.asarray(angles, np.float64))
    c, s = np.cos(a) * k, np.sin(a) * k
    mats = np.zeros((len(k), 2, 3))
    mats[:, 0, 0], mats[:, 0, 1], mats[:, 1, 0], mats[:, 1, 1] = c, s, -s, c
    mats[:, :, 2] = spec.size / 2.0 - np.einsum("nij,nj->ni", mats[:, :, :2], centres)
    if mirror:
        mats[:, 0] = -mats[:, 0]
        mats[:, 0, 2] += spec.size
    return mats


def cut(image: np.ndarray, mats: np.ndarray, size: int, colour: bool = False) -> np.ndarray:
    """Patches of `image` (BGR, BGRA or gray) under matrices (n, 2, 3): gray (n, size, size) uint8,
    or with `colour` BGR (n, size, size, 3)."""
    if len(mats) == 0:
        return np.zeros((0, size, size, 3) if colour else (0, size, size), np.uint8)
    convert = to_bgr if colour else to_gray
    return np.stack([convert(warp(image, m, size)) for m in mats])


def to_patch_units(points: np.ndarray, mats: np.ndarray, size: int) -> np.ndarray:
    """Image points (n, k, 2) -> output units of each patch (n, k, 2)."""
    pts = np.einsum("nkj,nij->nki", np.asarray(points, np.float64), mats[:, :, :2]) + mats[:, None, :, 2]
    return (pts / size - 0.5).astype(np.float32)


def to_image(units: np.ndarray, mats: np.ndarray, size: int) -> np.ndarray:
    """Patch output units (n, k, 2) -> image pixels (n, k, 2) through each patch's matrix."""
    inv = np.linalg.inv(mats[:, :, :2])
    pix = (np.asarray(units, np.float64) + 0.5) * size - mats[:, None, :, 2]
    return np.einsum("nkj,nij->nki", pix, inv)
