"""Decoding: `VideoInfo.from_path()`, `iter_frames()` for videos and `read_image()` for stills
(local paths or URIs).

Frames stream from a generator (memory does not grow with video length). Timestamps come
from the container (CAP_PROP_POS_MSEC) and fall back to index / fps when the container gives
none. Rotation metadata is honoured: OpenCV 4.x rotates frames itself when
CAP_PROP_ORIENTATION_AUTO is on, which `open_video` asks for and checks. The FFmpeg decoder
runs on as many threads as OpenCV's own setting (`cv2.getNumThreads()`, at most 16), so a worker
that called `cv2.setNumThreads(1)` decodes on its one CPU too (FFmpeg alone would start one
thread per CPU of the machine in every worker).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from vidkp.errors import InputError
from vidkp.io.storage import local_path, read_input_bytes

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0  # only when the container states no usable frame rate; logged when used
MAX_DECODER_THREADS = 16  # FFmpeg's own limit for frame threading in OpenCV's backend


@dataclass(frozen=True)
class Frame:
    """One decoded frame: 0-based decode `index`, `timestamp` in seconds, BGR uint8 `image`."""

    index: int
    timestamp: float
    image: np.ndarray


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (frames may be an estimate; `rotation` in degrees)."""

    path: str
    frames: int
    fps: float
    width: int
    height: int
    rotation: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps if self.fps > 0 else 0.0

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> "VideoInfo":
        cap = open_video(path)
        try:
            return _info(cap, os.fspath(path))
        finally:
            cap.release()


def quiet_opencv() -> None:
    """Silence OpenCV's own stderr warnings (bad inputs are reported as InputError instead)."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # builds without the logging module
        pass


def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise InputError(f"input not found: {path}")
    if not os.path.isfile(path):
        raise InputError(f"expected a regular file, got something else at {path}")
    if not os.access(path, os.R_OK):
        raise InputError(f"permission denied reading {path}")
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e
    if size == 0:
        raise InputError(f"empty file (0 bytes): {path}")


def decoder_threads(threads: int | None = None) -> int:
    """Decoder threads for `open_video`: `threads`, or None for OpenCV's thread setting
    (`cv2.getNumThreads()`); clipped to 1..`MAX_DECODER_THREADS`."""
    n = cv2.getNumThreads() if threads is None else int(threads)
    return min(max(n, 1), MAX_DECODER_THREADS)


def open_video(path: str | os.PathLike, threads: int | None = None) -> cv2.VideoCapture:
    """Open a video with FFmpeg on `decoder_threads(threads)` threads, auto-rotation on;
    InputError when it is not a readable video."""
    p = os.fspath(path)
    _check_file(p)
    cap = cv2.VideoCapture(p, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, decoder_threads(threads)])
    if not cap.isOpened():
        cap.release()
        raise InputError(f"not a readable video (OpenCV/FFmpeg could not open it): {p}")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _info(cap: cv2.VideoCapture, path: str) -> VideoInfo:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        log.info("no usable frame rate in %s; using %.0f fps for timestamps", path, DEFAULT_FPS)
        fps = DEFAULT_FPS
    frames = int(max(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0, 0))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
    # with CAP_PROP_ORIENTATION_AUTO on, OpenCV already reports the displayed (rotated) size
    return VideoInfo(path, frames, fps, w, h, rotation)


class VideoReader:
    """Context manager over one opened video: `info`, then `frames()` once, streaming.
    `threads`: decoder threads (`decoder_threads`; None follows `cv2.getNumThreads()`)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        self.path = os.fspath(path)
        self.threads = threads
        self._cap = open_video(self.path, threads)
        self.info = _info(self._cap, self.path)

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._cap.release()

    def frames(self, every: int = 1, max_frames: int | None = None,
               keep_all: bool = False, start: int = 0) -> Iterator[tuple[Frame, bool]]:
        """Yield `(frame, selected)` in decode order from frame `start` (exact, see `_grab_at`);
        `selected` marks every `every`-th frame of the whole video (index % every == 0).

        Frames that are not selected are only grabbed, not converted to images (their `image`
        is empty), unless `keep_all` (annotation needs every picture). Stops before frame index
        `max_frames`. Raises InputError when no frame at all can be decoded from frame 0 (a
        later `start` past the real end of a truncated video yields nothing).
        """
        fps = self.info.fps
        index, last_ts = start, -1.0
        empty = np.zeros((0, 0, 3), np.uint8)
        while max_frames is None or index < max_frames:
            selected = index % every == 0
            if not (self._grab_at(start) if index == start > 0 else self._cap.grab()):
                break
            cap = self._cap
            ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            ts = ms / 1000.0 if ms is not None and np.isfinite(ms) and ms >= 0 else -1.0
            if ts < 0 or (index > 0 and ts <= last_ts):
                ts = index / fps  # the container gave no (or a non-increasing) time
            last_ts = ts
            image = empty
            if selected or keep_all:
                ok, image = cap.retrieve()
                if not ok or image is None:
                    break
                image = _to_bgr8(image)
            yield Frame(index, float(ts), image), selected
            index += 1
        if index == 0:
            raise InputError(f"no decodable frames in {self.path} (truncated or corrupt video?)")

    def _grab_at(self, start: int) -> bool:
        """Grab frame `start` exactly. OpenCV seeks by frame number (a keyframe seek, then decoding
        on, counted by container time); the seek is kept when the frame it lands on has the
        container time start/fps. Otherwise (variable frame rate, no usable time, seek refused)
        the video is reopened and decoded from frame 0 up to `start`: slower, never wrong."""
        cap, fps = self._cap, self.info.fps
        if cap.set(cv2.CAP_PROP_POS_FRAMES, start) and cap.grab():
            ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            if ms is not None and abs(ms / 1000.0 - start / fps) <= 0.25 / fps:
                return True
        log.info("seeking %s to frame %d by number is not exact here; decoding up to it", self.path, start)
        cap.release()
        self._cap = cap = open_video(self.path, self.threads)
        for _ in range(start):
            if not cap.grab():
                return False
        return cap.grab()


def iter_frames(path: str | os.PathLike, every: int = 1, max_frames: int | None = None,
                keep_all: bool = False, start: int = 0) -> Iterator[tuple[Frame, bool]]:
    """`VideoReader(path).frames(...)` as one generator that closes the video when done."""
    with VideoReader(path) as reader:
        yield from reader.frames(every, max_frames, keep_all, start)


def _to_bgr8(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(float(img.max()), 1.0))
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return _composite(img)
    if img.shape[2] == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img


def _composite(bgra: np.ndarray) -> np.ndarray:
    """8-bit BGRA -> BGR over a white background (transparent overlays become white, not
    garbage), rounded, in 16-bit integers (a few bytes per pixel of working memory)."""
    alpha = bgra[..., 3:4].astype(np.uint16)
    out = bgra[..., :3].astype(np.uint16)
    out *= alpha
    out += (255 - alpha) * 255 + 127
    out //= 255
    return out.astype(np.uint8)


JPEG_MAGIC = b"\xff\xd8\xff"


def read_image(path: str | os.PathLike) -> np.ndarray:
    """A still (local path or URI) as BGR uint8 (EXIF orientation applied; gray, 16-bit and RGBA
    converted). Decoded from its bytes, so remote images need no temp file."""
    p = os.fspath(path)
    local = local_path(p)
    if local is None:
        data = read_input_bytes(p)
    else:
        _check_file(local)
        data = Path(local).read_bytes()
    buf = np.frombuffer(data, np.uint8)
    if not data.startswith(JPEG_MAGIC):  # a JPEG has no alpha: decoded once, below
        raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if raw is None or raw.size == 0:
            raise InputError(f"not a readable image (OpenCV could not decode it): {p}")
        if raw.ndim == 3 and raw.shape[2] == 4:
            if raw.dtype != np.uint8:
                raw = (raw.astype(np.float32) * (255.0 / np.iinfo(raw.dtype).max)).astype(np.uint8)
            return _composite(raw)
        del raw  # one decoded copy at a time
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)  # applies EXIF orientation, 8-bit BGR
    if img is None:
        raise InputError(f"not a readable image (OpenCV could not decode it): {p}")
    return img
