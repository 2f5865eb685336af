"""H.264 (yuv420p) MP4 writing with PyAV, which browsers, Jupyter and VS Code play.

`open_video_writer` returns an `H264Writer` (libx264 through PyAV's bundled FFmpeg) or, when PyAV
or its H.264 encoder is missing, OpenCV's MPEG-4 Part 2 ('mp4v') writer with a warning, so the
output is still written. yuv420p needs even sides: a frame with an odd width or height is
padded by repeating its last column or row.
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from typing import Protocol

import cv2
import numpy as np

H264_OPTIONS = {"crf": "18", "preset": "veryfast"}
"""libx264 settings: constant quality 18 (visually lossless for annotations), a fast preset."""


class VideoWriter(Protocol):
    codec: str

    def write(self, image: np.ndarray) -> None: ...

    def close(self) -> None: ...


def h264_available() -> bool:
    """Whether PyAV is installed and its FFmpeg has the libx264 encoder."""
    try:
        import av

        av.codec.Codec("libx264", "w")
    except Exception:  # noqa: BLE001 - ImportError, or av's error for an unknown codec
        return False
    return True


def _even(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


class H264Writer:
    """BGR uint8 frames -> H.264 yuv420p MP4 at constant `fps`, moov atom first (streams on the web)."""

    codec = "h264"

    def __init__(self, path: str, fps: float, threads: int = 1) -> None:
        import av

        self.rate = Fraction(fps).limit_denominator(1001)
        self._av = av
        # FFmpeg creates the file only with its first packet, after the encoder's look-ahead; create
        # it now, so a file being written is visible from its first frame (as the temp-file cleanup
        # of an interrupted run expects)
        open(path, "wb").close()
        self._container = av.open(path, mode="w", format="mp4", container_options={"movflags": "+faststart"})
        self._stream = None
        self._threads = threads
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        image = _even(np.ascontiguousarray(image))
        if self._stream is None:
            s = self._container.add_stream("libx264", rate=self.rate, options=dict(H264_OPTIONS))
            s.height, s.width = image.shape[:2]
            s.pix_fmt = "yuv420p"
            s.codec_context.thread_count = self._threads
            self._stream = s
        frame = self._av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = self.frames, 1 / self.rate
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        if self._stream is not None:
            self._container.mux(self._stream.encode(None))
        self._container.close()


class Mp4vWriter:
    """OpenCV's MPEG-4 Part 2 writer (the fallback: most browsers cannot play it)."""

    codec = "mp4v"

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps = path, fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            self._writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise OSError(f"cannot open video writer for {self.path} ({w}x{h})")
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


def open_video_writer(path: str, fps: float) -> VideoWriter:
    """An H.264 writer for `path` (a local file, written as MP4 whatever its name), else mp4v with a warning."""
    if h264_available():
        return H264Writer(path, fps)
    warnings.warn("PyAV with libx264 is not available: writing MPEG-4 Part 2 ('mp4v') video, which "
                  "browsers do not play; `pip install av` for H.264", RuntimeWarning, stacklevel=2)
    return Mp4vWriter(path, fps)
