"""`vidkp sample DIR`: a short synthetic clip of a real face for trying vidkp without data.

The face is matplotlib's sample photo `grace_hopper.jpg`, panned and zoomed over a plain
background, written as DIR/grace_hopper.mp4 (mp4v).
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import cv2
import numpy as np

from vidkp.errors import InputError, OutputError

log = logging.getLogger(__name__)


def grace_hopper() -> np.ndarray:
    """matplotlib's sample portrait as a BGR uint8 image."""
    try:
        from matplotlib import cbook

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            data = np.frombuffer(f.read(), np.uint8)
    except (ImportError, OSError, ValueError) as e:
        raise InputError(f"matplotlib's sample image grace_hopper.jpg is not available: {e}") from e
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        raise InputError("could not decode matplotlib's grace_hopper.jpg")
    return img


def render_frames(seconds: float = 4.0, fps: float = 25.0, size: tuple[int, int] = (640, 360),
                  face: np.ndarray | None = None):
    """Yield BGR frames of the portrait moving left-right and zooming in and out."""
    w, h = size
    face = grace_hopper() if face is None else face
    fh, fw = face.shape[:2]
    n = max(1, int(round(seconds * fps)))
    for i in range(n):
        t = i / max(n - 1, 1)
        scale = (0.5 + 0.3 * (0.5 - 0.5 * math.cos(2 * math.pi * t))) * h / 360.0  # face ~115-185 px at 360p
        cx = w * (0.35 + 0.3 * math.sin(math.pi * t))
        cy = h * (0.55 + 0.05 * math.sin(2 * math.pi * t))
        m = np.array([[scale, 0, cx - scale * fw / 2], [0, scale, cy - scale * fh / 2]], np.float64)
        frame = np.full((h, w, 3), (128, 128, 128), np.uint8)
        cv2.warpAffine(face, m, (w, h), dst=frame, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
        yield frame


def write_clip(path: str | os.PathLike, frames, fps: float, size: tuple[int, int]) -> Path:
    """Write frames to an mp4 (mp4v) at `path`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise OutputError(f"cannot write video {path}")
    try:
        for f in frames:
            writer.write(f)
    finally:
        writer.release()
    return path


def make_sample(out_dir: str | os.PathLike, seconds: float = 4.0, fps: float = 25.0,
                size: tuple[int, int] = (640, 360)) -> Path:
    """Write DIR/grace_hopper.mp4 and return its path."""
    path = write_clip(Path(out_dir) / "grace_hopper.mp4", render_frames(seconds, fps, size), fps, size)
    log.info("wrote %s", path)
    return path
