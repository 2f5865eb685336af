"""Generated test media: face clips, bad files, rotated and 4K videos (all written to tmp paths)."""
from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from vidkp.sample import render_frames, write_clip

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def face_clip(path: Path, frames: int = 12, size: tuple[int, int] = (320, 180), fps: float = 12.0) -> Path:
    """A clip of the moving grace_hopper face (one face in every frame)."""
    return write_clip(path, render_frames(frames / fps, fps, size), fps, size)


def grace_hopper(degrees: float = 0.0) -> np.ndarray:
    """matplotlib's grace_hopper sample photo (BGR), rotated by `degrees` (OpenCV's
    counter-clockwise sense) about its centre, same size, edges replicated."""
    import matplotlib.cbook

    img = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    if degrees == 0:
        return img
    h, w = img.shape[:2]
    return cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), (w, h),
                          borderMode=cv2.BORDER_REPLICATE)


def plain_clip(path: Path, frames: int = 6, size: tuple[int, int] = (160, 120), fps: float = 10.0,
               seed: int = 0) -> Path:
    """A clip of smooth noise with no face."""
    rng = np.random.default_rng(seed)
    imgs = [cv2.GaussianBlur(rng.integers(0, 255, (size[1], size[0], 3), np.uint8), (15, 15), 5)
            for _ in range(frames)]
    return write_clip(path, imgs, fps, size)


def set_mp4_rotation(path: Path, degrees: int) -> None:
    """Patch the video track's tkhd display matrix of an mp4 so players rotate it by `degrees`."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0, "no tkhd box"
    start = at - 4
    version = data[start + 8]
    matrix_at = start + 8 + 4 + (32 if version == 1 else 20) + 16
    one, zero, minus = 1 << 16, 0, (-1 << 16) & 0xFFFFFFFF
    cos, sin = {0: (one, zero), 90: (zero, one), 180: ((-1 << 16) & 0xFFFFFFFF, zero), 270: (zero, minus)}[degrees]
    msin = {one: minus, minus: one, zero: zero}[sin]
    m = [cos, sin, 0, msin, cos, 0, 0, 0, 1 << 30]
    data[matrix_at:matrix_at + 36] = struct.pack(">9I", *m)
    path.write_bytes(bytes(data))


def portrait_rotated_clip(path: Path, frames: int = 4) -> Path:
    """A phone-style clip: stored landscape 320x180 with a sideways face plus 90-degree rotation
    metadata, so it plays (and must decode) as an upright 180x320 portrait with a face."""
    portrait = list(render_frames(frames / 8.0, 8.0, (180, 320)))
    stored = [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in portrait]
    write_clip(path, stored, 8.0, (320, 180))
    set_mp4_rotation(path, 90)
    return path


def truncated_copy(src: Path, dst: Path, keep: float = 0.6) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst
