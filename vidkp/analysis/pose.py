"""Head pose per row of the tracks: pitch, yaw, roll in radians, OpenFace's axes and signs.

The rotation R takes the reference face (`vidkp.analysis.reference`) into camera coordinates
(x right, y down, z forward, from the camera); a face looking straight into the camera has all
three angles near 0. Signs: pose_Rx > 0 the face looks down, pose_Ry > 0 it turns toward the
image's left (the subject's right), pose_Rz > 0 it is rotated clockwise on screen.

Two orders of the angles (`CONVENTIONS`):
- "screen" (default): R = Rz(pose_Rz) @ Ry(pose_Ry) @ Rx(pose_Rx), roll applied last about the
  camera axis, so pose_Rz is the face's in-plane angle on screen at any pitch and yaw (rotating
  the image by a adds exactly a to it);
- "openface": R = Rx(pose_Rx) @ Ry(pose_Ry) @ Rz(pose_Rz), OpenFace 2's order, where roll adds
  the image's rotation only for faces near frontal.
The two agree for a face rotated about one axis only; a face turned and rolled or pitched gets
different pitch and roll in the two (several degrees at 30 degrees of yaw: docs/analysis.md).
Camera: a pinhole with focal length = frame width in pixels and the principal point at the frame
centre, no lens distortion.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Union

import cv2
import numpy as np
import pandas as pd

from vidkp.analysis.columns import points, track_groups
from vidkp.analysis.reference import REFERENCE_FACE, RIGID_POINTS

POSE_COLUMNS = ["pose_Rx", "pose_Ry", "pose_Rz"]
CONVENTIONS = ("screen", "openface")
FrameSize = Union[tuple[float, float], Mapping[str, tuple[float, float]], pd.DataFrame, None]
"""(width, height) for every row, or per video: a {video: (width, height)} mapping or the
manifest (columns video, width, height); None: the extent of the points and boxes of each video."""

_MODEL = REFERENCE_FACE[RIGID_POINTS].astype(np.float64)
_EYE_SPAN_MM = float(np.linalg.norm(REFERENCE_FACE[45] - REFERENCE_FACE[36]))


def rotation_matrix(pitch: float, yaw: float, roll: float, convention: str = "screen") -> np.ndarray:
    """R from angles in radians: Rz @ Ry @ Rx ("screen") or Rx @ Ry @ Rz ("openface")."""
    cx, sx, cy, sy, cz, sz = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw), np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx if _check(convention) == "screen" else rx @ ry @ rz


def euler_angles(r: np.ndarray, convention: str = "screen") -> tuple[float, float, float]:
    """(pitch, yaw, roll) in radians of a rotation matrix, inverse of `rotation_matrix`."""
    if _check(convention) == "screen":
        yaw = float(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
        return float(np.arctan2(r[2, 1], r[2, 2])), yaw, float(np.arctan2(r[1, 0], r[0, 0]))
    yaw = float(np.arcsin(np.clip(r[0, 2], -1.0, 1.0)))
    return float(np.arctan2(-r[1, 2], r[2, 2])), yaw, float(np.arctan2(-r[0, 1], r[0, 0]))


def _check(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown pose convention {convention!r}; expected one of {', '.join(CONVENTIONS)}")
    return convention


def camera_matrix(width: float, height: float) -> np.ndarray:
    """The stated camera: focal length = width (pixels), principal point at the frame centre."""
    return np.array([[width, 0, width / 2.0], [0, width, height / 2.0], [0, 0, 1]], np.float64)


def _frame_sizes(tracks: pd.DataFrame, frame_size: FrameSize) -> np.ndarray:
    """(n, 2) width and height of the frame of every row."""
    n = len(tracks)
    if isinstance(frame_size, tuple):
        return np.tile(np.asarray(frame_size, np.float64), (n, 1))
    if isinstance(frame_size, pd.DataFrame):
        frame_size = {str(v): (w, h) for v, w, h in frame_size[["video", "width", "height"]].itertuples(index=False)}
    videos = tracks["video"].astype(str).to_numpy() if "video" in tracks.columns else np.full(n, "")
    out = np.full((n, 2), np.nan)
    for video in np.unique(videos):
        rows = videos == video
        size = frame_size.get(video) if frame_size is not None else None
        if size is None or not np.all(np.asarray(size, np.float64) > 0):
            sub = tracks.loc[rows]
            pts = points(sub, "head_pose")
            right = np.nanmax(pts[..., 0], initial=1.0)
            bottom = np.nanmax(pts[..., 1], initial=1.0)
            if {"box_x", "box_w", "box_y", "box_h"} <= set(sub.columns):
                right = max(right, float((sub["box_x"] + sub["box_w"]).max()))
                bottom = max(bottom, float((sub["box_y"] + sub["box_h"]).max()))
            size = (right, bottom)
        out[rows] = np.asarray(size, np.float64)
    return out


def _frontal_guess(img: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pose of a frontal face with the eye line's roll, at the distance the eye span implies."""
    eye_r, eye_l = img[36 - 17], img[45 - 17]   # RIGID_POINTS starts at 17: outer eye corners
    d = eye_l - eye_r
    roll = np.arctan2(d[1], d[0])
    span = max(float(np.hypot(*d)), 1e-3)
    z = k[0, 0] * _EYE_SPAN_MM / span
    centre = img.mean(axis=0)
    t = np.array([(centre[0] - k[0, 2]) * z / k[0, 0], (centre[1] - k[1, 2]) * z / k[1, 1], z])
    t -= rotation_matrix(0, 0, roll) @ _MODEL.mean(axis=0)
    rvec, _ = cv2.Rodrigues(rotation_matrix(0.0, 0.0, roll))
    return rvec, t.reshape(3, 1)


def _solve(img: np.ndarray, k: np.ndarray, rvec: np.ndarray, tvec: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    ok, rvec, tvec = cv2.solvePnP(_MODEL, np.ascontiguousarray(img), k, None, rvec.copy(), tvec.copy(),
                                  useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return None
    r, _ = cv2.Rodrigues(rvec)
    # the face must be in front of the camera and turned towards it (no flipped solution)
    if tvec[2, 0] <= 0 or r[2, 2] <= 0.05:
        return None
    return rvec, tvec


def head_pose(tracks: pd.DataFrame, frame_size: FrameSize = None, convention: str = "screen") -> pd.DataFrame:
    """`pose_Rx, pose_Ry, pose_Rz` (radians, in `convention`'s order) for every row of `tracks`,
    on the same index.

    Each track (video, face_id) is solved in frame order with solvePnP on the reference face's
    rigid points, seeded with the previous row's pose (the first row, and any row whose seeded
    solution is behind the camera or turned away, starts from a frontal guess); rows with
    missing points are NaN. `frame_size` sets the camera (see `FrameSize`).
    """
    _check(convention)
    pts = points(tracks, "head_pose")[:, RIGID_POINTS]
    sizes = _frame_sizes(tracks, frame_size)
    out = np.full((len(tracks), 3), np.nan)
    for rows in track_groups(tracks):
        seed = None
        for i in rows:
            img = pts[i]
            if not np.isfinite(img).all():
                continue
            k = camera_matrix(*sizes[i])
            sol = _solve(img, k, *seed) if seed is not None else None
            if sol is None:
                sol = _solve(img, k, *_frontal_guess(img, k))
            if sol is None:
                continue
            seed = sol
            out[i] = euler_angles(cv2.Rodrigues(sol[0])[0], convention)
    return pd.DataFrame(out, index=tracks.index, columns=POSE_COLUMNS)


def project_reference(pitch: float, yaw: float, roll: float, distance_mm: float,
                      frame_size: tuple[float, float], convention: str = "screen") -> np.ndarray:
    """The reference face's 68 points (68, 2), pixels, at this pose, `distance_mm` straight in
    front of the stated camera (for tests and examples)."""
    k = camera_matrix(*frame_size)
    cam = REFERENCE_FACE @ rotation_matrix(pitch, yaw, roll, convention).T + [0.0, 0.0, distance_mm]
    uv = cam @ k.T
    return uv[:, :2] / uv[:, 2:3]
