"""Ground-truth video generator: clips made from labelled hold-out faces, with true 68 points.

Each clip pastes one or two labelled faces (image + 68 points from the people hold-out) onto
a smooth synthetic background and moves them with a per-frame similarity transform, so the
true points of every frame are known exactly. Kinds: pan, zoom, rotate, cross (two faces
crossing), leave_return, occluder, still (sensor noise only); and `EXTRA_KINDS` for how soon a
new face is found: tilt (a head rolled 20-30 degrees either way from the first frame, swaying),
edge (a face sliding in from outside the frame, then swaying).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
import pandas as pd

KINDS = ("pan", "zoom", "rotate", "cross", "leave_return", "occluder", "still")
MOVING = ("pan", "zoom", "rotate", "cross", "leave_return")
EXTRA_KINDS = ("tilt", "edge")
"""Kinds outside `KINDS`, so that the clips of track_bench and equivalence (made from `KINDS`,
faces picked by position in it) stay as they were."""


@dataclass(frozen=True)
class LabelledFace:
    image: np.ndarray  # BGR
    points: np.ndarray  # (68, 2) pixels
    name: str


@dataclass(frozen=True)
class GTClip:
    """A generated clip: frames (BGR) and true points (n_frames, n_faces, 68, 2), NaN where a face
    is not visible: under 90% of its points in the frame, or over half of them covered by what
    is drawn over it (a later face where two cross, the occluder bar). `full` (n_frames,
    n_faces) is True where a face is fully visible: all 68 points in the frame, none covered."""

    kind: str
    fps: float
    frames: list[np.ndarray]
    points: np.ndarray
    full: np.ndarray

    def write(self, path: str | Path) -> Path:
        """Write the clip as mp4 (mp4v) and the truth beside it as `<path>.npz`."""
        path = Path(path)
        h, w = self.frames[0].shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
        for f in self.frames:
            writer.write(f)
        writer.release()
        np.savez_compressed(path.with_suffix(path.suffix + ".npz"), points=self.points, full=self.full,
                            kind=self.kind, fps=self.fps)
        return path


def load_faces(data_dir: str | Path, people: str = "holdout", limit: int | None = None, seed: int = 0
               ) -> list[LabelledFace]:
    """Labelled faces in a seeded random order: of the people hold-out (never trained on; the
    benchmark's figures), or of the validation people (`training.dataset.make_splits`; for
    choosing tracker settings without looking at the hold-out)."""
    root = Path(data_dir) / "facial_keypoints"
    faces = []
    if people == "holdout":
        names = set((root / "holdout_people.txt").read_text().split())
        for split, csv in (("training", "training_frames_keypoints.csv"), ("test", "test_frames_keypoints.csv")):
            table = pd.read_csv(root / csv)
            for row in table.itertuples(index=False):
                if row[0].rsplit("_", 1)[0] not in names:
                    continue
                img = cv2.imread(str(root / split / row[0]), cv2.IMREAD_COLOR)
                if img is not None:
                    faces.append(LabelledFace(img, np.asarray(row[1:], np.float32).reshape(68, 2), row[0]))
    elif people == "val":
        from training.dataset import make_splits

        val = make_splits(root)["val"]
        faces = [LabelledFace(val.image(i), val.keypoints[i].astype(np.float32), val.key(i)) for i in range(len(val))]
    else:
        raise ValueError(f"expected people 'holdout' or 'val', got {people!r}")
    order = np.random.default_rng(seed).permutation(len(faces))
    faces = [faces[i] for i in order]
    return faces[:limit] if limit else faces


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    w, h = size
    small = rng.integers(40, 215, (6, 10, 3)).astype(np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), (0, 0), 9)


def _face_mask(face: LabelledFace) -> np.ndarray:
    """Soft mask of the face region: landmark hull grown upwards to the forehead."""
    pts = face.points
    top = pts[17:27].copy()
    top[:, 1] -= 0.35 * (pts[:, 1].max() - pts[:, 1].min())
    hull = cv2.convexHull(np.concatenate([pts, top]).astype(np.int32))
    mask = np.zeros(face.image.shape[:2], np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    k = max(3, int(0.08 * (pts[:, 0].max() - pts[:, 0].min())) | 1)
    mask = cv2.dilate(mask, np.ones((k, k), np.uint8))
    return cv2.GaussianBlur(mask, (0, 0), k / 2.0)


def _similarity(face: LabelledFace, cx: float, cy: float, iod: float, angle_deg: float) -> np.ndarray:
    """Matrix placing the face centre at (cx, cy) with outer-eye distance `iod` px, rotated."""
    pts = face.points
    src_c = pts.mean(axis=0)
    k = iod / max(float(np.linalg.norm(pts[45] - pts[36])), 1.0)
    a = math.radians(angle_deg)
    m = np.array([[k * math.cos(a), -k * math.sin(a), 0.0], [k * math.sin(a), k * math.cos(a), 0.0]])
    m[:, 2] = np.array([cx, cy]) - m[:, :2] @ src_c
    return m


def _paste(frame: np.ndarray, face: LabelledFace, mask: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame with the face pasted, and the face's coverage mask (h, w) in frame pixels."""
    h, w = frame.shape[:2]
    img = cv2.warpAffine(face.image, m, (w, h), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR)
    return (frame * (1 - alpha[..., None]) + img * alpha[..., None]).astype(np.uint8), alpha


def _visible(points: np.ndarray, size: tuple[int, int], cover: np.ndarray) -> tuple[bool, bool]:
    """(visible, fully visible). Visible: at least 90% of the points are in the frame, and at
    most half of them are covered by whatever was drawn over the face (`cover`: 0-1 per pixel;
    another face, an occluder). Fully visible: every point in the frame, none covered."""
    inside = (points[:, 0] >= 0) & (points[:, 0] < size[0]) & (points[:, 1] >= 0) & (points[:, 1] < size[1])
    if inside.mean() < 0.9:
        return False, False
    xy = np.clip(np.round(points[inside]).astype(int), 0, [size[0] - 1, size[1] - 1])
    covered = cover[xy[:, 1], xy[:, 0]] > 0.5
    return bool(covered.mean() <= 0.5), bool(inside.all() and not covered.any())


def _poses(kind: str, n: int, size: tuple[int, int], seed: int = 0) -> list[list[tuple[float, float, float, float]]]:
    """Per frame, per face: (cx, cy, iod, angle). `seed` picks the roll of tilt (20-30 degrees,
    either sign) and the edge that edge enters from (left, right or top)."""
    w, h = size
    rng = np.random.default_rng([seed, 19])
    roll = float(rng.choice([-1.0, 1.0]) * rng.uniform(20.0, 30.0))
    side = int(rng.integers(3))
    out = []
    for i in range(n):
        s = i / max(n - 1, 1)
        wave = math.sin(2 * math.pi * s)
        sway = math.sin(2 * math.pi * i / 45.0)  # a 1.5 s sway at 30 fps
        if kind == "pan":
            poses = [(0.2 * w + 0.6 * w * s, 0.5 * h + 0.1 * h * wave, 60.0, 0.0)]
        elif kind == "zoom":
            poses = [(0.5 * w, 0.5 * h, 60.0 * (1.0 + 0.6 * wave), 0.0)]
        elif kind == "rotate":
            poses = [(0.5 * w, 0.5 * h, 60.0, 30.0 * wave)]
        elif kind == "cross":
            poses = [(0.15 * w + 0.7 * w * s, 0.5 * h, 55.0, 0.0), (0.85 * w - 0.7 * w * s, 0.45 * h, 60.0, 0.0)]
        elif kind == "leave_return":
            ramp = min(1.0, s / 0.3, (1.0 - s) / 0.3)  # out over 30% of the clip, away, back
            x = 0.4 * w + 0.9 * w * ramp
            poses = [(x, 0.5 * h, 60.0, 0.0)]
        elif kind == "tilt":
            poses = [(0.5 * w + 0.03 * w * sway, 0.5 * h, 60.0, roll + 3.0 * sway)]
        elif kind == "edge":  # from well outside (centre 100 px out) to 40% of the way in over a third of the clip
            ramp = min(1.0, s / 0.33)
            if side == 2:
                poses = [(0.5 * w + 0.03 * w * sway, -100.0 + (0.4 * h + 100.0) * ramp, 60.0, 0.0)]
            else:
                x = -100.0 + (0.4 * w + 100.0) * ramp + 0.03 * w * sway * ramp
                poses = [(x if side == 0 else w - x, 0.5 * h, 60.0, 0.0)]
        else:  # still, occluder
            poses = [(0.5 * w, 0.5 * h, 60.0, 0.0)]
        out.append(poses)
    return out


def make_clip(kind: str, faces: list[LabelledFace], n_frames: int = 90, fps: float = 30.0,
              size: tuple[int, int] = (640, 360), seed: int = 0) -> GTClip:
    """Generate one ground-truth clip of `kind` (`KINDS` or `EXTRA_KINDS`) from the first one or
    two `faces`."""
    if kind not in KINDS + EXTRA_KINDS:
        raise ValueError(f"expected a clip kind in {KINDS + EXTRA_KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    bg = _background(size, rng)
    poses = _poses(kind, n_frames, size, seed)
    used = faces[: len(poses[0])]
    masks = [_face_mask(f) for f in used]
    frames, truth = [], np.full((n_frames, len(used), 68, 2), np.nan, np.float32)
    full = np.zeros((n_frames, len(used)), bool)
    for i, frame_poses in enumerate(poses):
        frame = bg.copy()
        pts, alphas = [], []
        for face, mask, pose in zip(used, masks, frame_poses):
            m = _similarity(face, *pose)
            frame, alpha = _paste(frame, face, mask, m)
            pts.append(face.points @ m[:, :2].T + m[:, 2])
            alphas.append(alpha)
        occluder = np.zeros(frame.shape[:2], np.float32)
        if kind == "occluder":
            x = int(size[0] * (0.3 + 0.4 * i / max(n_frames - 1, 1)))
            cv2.rectangle(frame, (x - 15, 0), (x + 15, size[1]), (90, 90, 90), -1)
            cv2.rectangle(occluder, (x - 15, 0), (x + 15, size[1]), 1.0, -1)
        for j in range(len(used)):  # faces pasted later, and the occluder, cover face j
            cover = np.maximum.reduce([occluder, *alphas[j + 1:]])
            visible, full[i, j] = _visible(pts[j], size, cover)
            if visible:
                truth[i, j] = pts[j]
        if kind == "still":
            frame = np.clip(frame + rng.normal(0, 4.0, frame.shape), 0, 255).astype(np.uint8)
        frames.append(frame)
    return GTClip(kind, fps, frames, truth, full)


def generated_clips(faces: list[LabelledFace], kinds: Sequence[str], per_kind: int, n_frames: int,
                    folder: str | Path) -> Iterator[tuple[str, int, GTClip, Path]]:
    """(kind, index, clip, mp4 path) for `per_kind` clips of each kind, written to `folder`: two
    faces a clip, taken from `faces` in order (kind by kind, then the next round), seeded by position."""
    for r in range(per_kind):
        for i, kind in enumerate(kinds):
            j = 2 * (r * len(kinds) + i)
            clip = make_clip(kind, faces[j: j + 2], n_frames=n_frames, seed=100 * r + i)
            yield kind, r, clip, clip.write(Path(folder) / f"{kind}{r}.mp4")
