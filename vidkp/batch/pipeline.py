"""Process one input: Frame -> Faces -> landmarks -> tracks -> Parquet rows (+ annotated copy).

`Pipeline` holds one loaded `FaceLandmarker` (its model follows faces in videos; its still-image
search is the one used for images) and is reused for many inputs (one per worker process).
`Pipeline.process()` never raises for a bad input: it returns an `InputSummary` with status
"failed" and a one-line error, so one bad file never stops a batch.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vidkp.batch.manifest import InputSummary
from vidkp.batch.resume import SEGMENTS_DIR, current_attempt, write_marker
from vidkp.batch.segments import Segment, segment_dir
from vidkp.config import RunConfig
from vidkp.detect.haar import video_detector, video_quick_detectors
from vidkp.errors import InputError, OutputError, VidkpError
from vidkp.faces import Faces
from vidkp.io.decode import VideoReader, read_image
from vidkp.io.sources import ANNOTATED_IMAGE_EXTS, Source
from vidkp.io.storage import join, local_file
from vidkp.landmarker import FaceLandmarker
from vidkp.output.annotate import AnnotatedVideo, Annotator
from vidkp.output.parquet import PartWriter, out_fs, part_name
from vidkp.tracking.follow import FaceFollower

log = logging.getLogger(__name__)

STAGES = ("decode", "detect", "landmarks", "track", "write", "annotate")


def worker_name() -> str:
    """host plus, inside Ray, the node IP and a short node id."""
    name = socket.gethostname()
    ray = sys.modules.get("ray")  # not imported: not in Ray (importing it costs half a second)
    try:
        if ray is not None and ray.is_initialized():
            ctx = ray.get_runtime_context()
            node = ray._private.worker.global_worker.node_ip_address  # the IP Ray uses for this node
            name += f" {node} node:{ctx.get_node_id()[:12]}"
    except Exception:  # noqa: BLE001 - the worker name is informational only
        pass
    return f"{name} pid:{os.getpid()}"


def one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split()) or exc.__class__.__name__
    kind = "" if isinstance(exc, VidkpError) else f"{exc.__class__.__name__}: "
    return (kind + msg)[:500]


def _output_trouble(exc: BaseException) -> bool:
    """Errors of the output side (unwritable OUT/ANN, a temp file removed under us), not of the input."""
    if isinstance(exc, InputError):
        return False
    return isinstance(exc, (OutputError, FileNotFoundError, PermissionError, IsADirectoryError))


def annotation_path(ann_dir: str, source: Source) -> str:
    """Where the annotated copy of `source` goes under `ann_dir` (a path or URI)."""
    stem, ext = os.path.splitext(source.rel)
    if source.kind == "image":
        ext = ext.lower() if ext.lower() in ANNOTATED_IMAGE_EXTS else ".png"
    else:
        ext = ".mp4"
    return join(ann_dir, f"{stem}{ext}")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Pipeline:
    """Loaded model + per-input processing. One instance per worker process."""

    def __init__(self, config: RunConfig, params: dict[str, Any] | None = None,
                 attempt: str | None = None, threads: int | None = 1) -> None:
        """`threads`: the landmark network's threads (1 in a worker; None: ONNX Runtime's default)."""
        from vidkp import __version__

        self.config = config
        # a still is searched by `FaceLandmarker.search` itself (what `detect` returns); video frames
        # are followed with the video detectors, single pass
        self.landmarker = FaceLandmarker(config.weights, config.min_face, config=config.still, threads=threads,
                                         max_side=config.image_max_side, refine=config.refine)
        video = config.video
        self.video_follower = FaceFollower(
            self.landmarker.model, video_detector(config.min_face, config.max_side, config=video), config.follow,
            quick=video_quick_detectors(config.min_face, config.max_side, video))
        self.annotator = Annotator(style=config.style)
        self.vidkp_version = __version__
        self.params_json = json.dumps(params if params is not None else config.output_params(), sort_keys=True)
        self.worker = worker_name()
        self.attempt = attempt

    @property
    def model_version(self) -> str:
        return str(self.landmarker.model.version)

    def process(self, source: Source, out_dir: str | Path, on_frames: Callable[[int], None] | None = None,
                segment: Segment | None = None) -> InputSummary:
        """Process one input (or one `segment` of a video) into its part file and completion
        marker; never raises for bad input."""
        t_start, cpu_start = time.perf_counter(), time.process_time()
        part_dir, key = (segment_dir(out_dir, source.key), segment.key) if segment else (out_dir, source.key)
        summary = InputSummary(video=source.path, kind=source.kind, worker=self.worker,
                               vidkp_version=self.vidkp_version, model_version=self.model_version,
                               params=self.params_json, part=part_name(key),
                               segment=segment.index if segment else None)
        if segment:
            summary.part = f"{SEGMENTS_DIR}/{source.key}/{summary.part}"
        times = dict.fromkeys(STAGES, 0.0)
        try:
            if source.kind == "image":
                self._image(source, out_dir, summary, times)
                if on_frames is not None:
                    on_frames(1)
            else:
                if segment:  # OUT/_segments/<key>/ (OUT itself exists)
                    fs, path = out_fs(part_dir)
                    fs.create_dir(path, recursive=True)
                self._video(source, part_dir, key, summary, times, on_frames, segment)
        except Exception as e:  # noqa: BLE001 - a bad input must never stop the batch
            log.debug("input %s failed", source.path, exc_info=True)
            summary.status, summary.error = "failed", one_line(e)
            summary.face_rows = 0
            if _output_trouble(e):  # not the input's fault: leave it unmarked so a rerun retries it
                summary.marked, summary.part = False, ""
            else:
                try:  # an empty part keeps the dataset's schema even when every input failed
                    with PartWriter(part_dir, key):
                        pass
                except OSError:
                    summary.part = ""
        summary.seconds = round(time.perf_counter() - t_start, 4)
        times["cpu"] = time.process_time() - cpu_start  # CPU time of this process (all its threads)
        summary.timings_ms = json.dumps({k: round(v * 1000, 1) for k, v in times.items()})
        if self.attempt is not None and current_attempt(out_dir) != self.attempt:
            # a newer driver took over OUT (this worker outlived a killed driver): commit nothing
            log.warning("output %s was taken over by a newer run; not marking %s", out_dir, source.path)
            summary.status, summary.error = "failed", "superseded by a newer run on the same output"
            summary.marked = False
            return summary
        if not summary.marked:
            return summary
        try:
            write_marker(part_dir, key, summary.record())
        except OSError as e:
            summary.status, summary.error = "failed", f"cannot write completion marker: {e}"
            summary.marked = False
        return summary

    def _image(self, source: Source, out_dir, summary: InputSummary, times: dict[str, float]) -> None:
        t0 = time.perf_counter()
        image = read_image(source.location)
        times["decode"] += time.perf_counter() - t0
        summary.frames = summary.processed_frames = 1
        summary.height, summary.width = image.shape[:2]
        faces, st = self.landmarker.search(image)
        faces = faces.with_track_ids(np.arange(len(faces)))  # face ids 0..n-1, left to right
        for k, v in st.items():
            times[k] += v
        t0 = time.perf_counter()
        ann = self.config.annotate
        if ann:
            path = annotation_path(ann, source)
            with AnnotatedVideo(path, 0, still=True) as sink:
                sink.write(self.annotator(image, faces))
            summary.annotated = path
        times["annotate"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        with PartWriter(out_dir, source.key) as part:
            part.add(source.path, faces.at(0, 0.0))
        summary.face_rows = part.rows
        times["write"] += time.perf_counter() - t0

    def _video(self, source: Source, part_dir: str | Path, key: str, summary: InputSummary, times: dict[str, float],
               on_frames: Callable[[int], None] | None, segment: Segment | None) -> None:
        """Rows of a video, or of one segment: decoded from its warm-up start, rows for every
        selected frame (the stitcher drops the warm-up ones), frames counted from its own start."""
        cfg = self.config
        follower = self.video_follower
        follower.reset(segment.warm // cfg.every if segment else 0)
        ann_path = annotation_path(cfg.annotate, source) if cfg.annotate else None
        last, reported, reached = Faces.empty(), 0, 0
        own_start = segment.start if segment else 0
        stops = [n for n in (cfg.max_frames, segment.end if segment else None) if n is not None]
        with contextlib.ExitStack() as stack:
            t0 = time.perf_counter()
            reader = stack.enter_context(VideoReader(stack.enter_context(local_file(source.location))))
            summary.fps = reader.info.fps
            part = stack.enter_context(PartWriter(part_dir, key))
            sink = stack.enter_context(AnnotatedVideo(ann_path, reader.info.fps)) if ann_path else None
            frames = reader.frames(cfg.every, min(stops, default=None), keep_all=sink is not None,
                                   start=segment.warm if segment else 0)
            for frame, selected in frames:
                times["decode"] += time.perf_counter() - t0
                if summary.height == 0 and frame.image.size:
                    summary.height, summary.width = frame.image.shape[:2]
                reached, own = frame.index + 1, int(frame.index >= own_start)
                summary.frames += own
                if selected:
                    t1 = time.perf_counter()
                    last = follower.step(frame.image, frame.timestamp, frame.index)
                    for k, v in follower.times.items():
                        times[k] += v
                    times["track"] += time.perf_counter() - t1 - sum(follower.times.values())
                    summary.processed_frames += own
                    t1 = time.perf_counter()
                    part.add(source.path, last)
                    times["write"] += time.perf_counter() - t1
                if sink is not None:
                    t1 = time.perf_counter()
                    sink.write(self.annotator(frame.image, last))
                    times["annotate"] += time.perf_counter() - t1
                if on_frames is not None and summary.frames - reported >= 25:
                    on_frames(summary.frames - reported)
                    reported = summary.frames
                t0 = time.perf_counter()
            t_close = time.perf_counter()
        times["write"] += time.perf_counter() - t_close  # flushing the part (and closing the sinks)
        if on_frames is not None and summary.frames > reported:
            on_frames(summary.frames - reported)
        summary.face_rows = part.rows
        summary.annotated = ann_path or ""
        summary.duration = round(summary.frames / summary.fps, 4) if summary.fps else 0.0
        announced = reader.info.frames
        expected = min([announced, *stops])
        if expected > reached:
            summary.error = f"warning: decoded {reached} of {announced} frames the container announces (truncated?)"
