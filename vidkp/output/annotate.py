"""Drawing: boxes, face ids and the 68 points joined as iBUG contours.

`Annotator` takes its style at construction and the data at call time, and returns a new
image (the input is never drawn on). `AnnotatedVideo` is a context-manager sink that writes an
H.264 mp4 (or, for stills, an image; local path or URI) under a temporary name and renames it when complete.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from vidkp.errors import OutputError
from vidkp.faces import Faces
from vidkp.output.filters import STYLES, apply_filter
from vidkp.output.video import VideoWriter, open_video_writer
from vidkp.io.storage import local_path, resolve, temp_path, upload_atomic

# (start, end, closed) index ranges of the iBUG 68-point contours
CONTOURS: tuple[tuple[int, int, bool], ...] = (
    (0, 17, False),   # jaw
    (17, 22, False),  # right brow
    (22, 27, False),  # left brow
    (27, 31, False),  # nose bridge
    (31, 36, False),  # lower nose
    (36, 42, True),   # right eye
    (42, 48, True),   # left eye
    (48, 60, True),   # outer lips
    (60, 68, True),   # inner lips
)


def _color(face_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per id."""
    hue = (int(face_id) * 47) % 180
    hsv = np.uint8([[[hue, 220, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


class Annotator:
    """Draws faces on a copy of a BGR image: boxes, ids and points (`style="points"`), or a face
    filter placed by the keypoints (`sunglasses`, `moustache`, `hat`; `vidkp.output.filters`)."""

    def __init__(self, thickness: int | None = None, point_radius: int | None = None,
                 draw_points: bool = True, draw_contours: bool = True, style: str = "points") -> None:
        if style not in STYLES:
            raise ValueError(f"unknown annotation style {style!r}; expected one of {', '.join(STYLES)}")
        self.style = style
        self.thickness = thickness
        self.point_radius = point_radius
        self.draw_points = draw_points
        self.draw_contours = draw_contours

    def __call__(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        if self.style != "points":
            return apply_filter(image, faces.keypoints, self.style)
        out = image.copy()
        scale = max(image.shape[:2]) / 640.0
        th = self.thickness or max(1, round(1.5 * scale))
        rad = self.point_radius or max(1, round(1.5 * scale))
        for i in range(len(faces)):
            fid = int(faces.track_ids[i])
            color = _color(fid if fid >= 0 else 0)
            x, y, w, h = (int(round(v)) for v in faces.boxes[i])
            cv2.rectangle(out, (x, y), (x + w, y + h), color, th, cv2.LINE_AA)
            label = f"id {fid}" if fid >= 0 else f"{faces.scores[i]:.2f}"
            cv2.putText(out, label, (x, max(y - 4 * th, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale,
                        color, th, cv2.LINE_AA)
            kp = faces.keypoints[i]
            if not np.isfinite(kp).all():
                continue
            pts = np.round(kp * 16).astype(np.int32)  # 4 bits of sub-pixel precision
            if self.draw_contours:
                for a, b, closed in CONTOURS:
                    cv2.polylines(out, [pts[a:b]], closed, color, th, cv2.LINE_AA, shift=4)
            if self.draw_points:
                for p in pts:
                    cv2.circle(out, (int(p[0]), int(p[1])), rad * 16, (255, 255, 255), -1, cv2.LINE_AA, shift=4)
        return out


class AnnotatedVideo:
    """Sink for annotated frames: an H.264 mp4 at `path` (a path or URI; `vidkp.output.video`, with
    its mp4v fallback), or one image when `still`.

    Written to a `.tmp-` name beside `path` and renamed on a clean exit; removed on error. The
    writers write local files only, so for other filesystems the file is written to the local temp
    directory and uploaded (under a temp name, then moved into place) on a clean exit.
    """

    def __init__(self, path: str | Path, fps: float, still: bool = False) -> None:
        self.path = os.fspath(path)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.still = still
        local = local_path(self.path)
        self._remote = None if local is not None else resolve(self.path, OutputError)
        self._final = local
        name = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.tmp = temp_path(local) if local is not None else temp_path(os.path.join(tempfile.gettempdir(), name))
        self.frames = 0
        self._writer: VideoWriter | None = None

    def __enter__(self) -> "AnnotatedVideo":
        if self._final is not None:
            parent = os.path.dirname(self._final)
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as e:
                raise OutputError(f"cannot create annotation directory {parent}: {e}") from e
        return self

    def write(self, image: np.ndarray) -> None:
        if self.still:
            if not cv2.imwrite(self.tmp, image):
                raise OutputError(f"cannot write annotated image {self.tmp}")
        else:
            try:
                if self._writer is None:
                    self._writer = open_video_writer(self.tmp, self.fps)
                self._writer.write(image)
            except OSError as e:
                raise OutputError(f"cannot write annotated video {self.tmp}: {e}") from e
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._writer is not None:
            self._writer.close()
        try:
            if exc_type is None and self.frames:
                if self._remote is None:
                    os.replace(self.tmp, self._final)
                else:
                    try:
                        upload_atomic(self.tmp, *self._remote)
                    except OSError as e:
                        raise OutputError(f"cannot write annotated file {self.path}: {e}") from e
        finally:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
