"""One frozen `RunConfig`: every default of `vidkp run` once, with its type and meaning.

Precedence is decided in one line (`RunConfig.from_options`): explicit argument, else default.
No settings file is read. `output_params()` lists the fields that change the rows written;
a resumed run must match them exactly.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vidkp.errors import InputError
from vidkp.output.filters import STYLES
from vidkp.storage import is_uri


def default_workers() -> int:
    """One worker per CPU core of this machine."""
    return os.cpu_count() or 1


@dataclass(frozen=True)
class RunConfig:
    """Options of one batch run (CLI flags and `vidkp.run` keyword arguments alike)."""

    every: int = 1
    """Run detection and landmarks on every Nth decoded frame (1 = all frames)."""
    max_frames: int | None = None
    """Only the first N decoded frames of each video (None = whole video)."""
    min_face: int = 24
    """Smallest face side to detect, in original-frame pixels."""
    max_side: int = 640
    """Video frames are downscaled to this longer side for detection only (landmarks use full res)."""
    image_max_side: int = 1280
    """Still images are downscaled to this longer side for detection (one frame: a finer search
    is affordable, and the model's face score rejects the extra false alarms)."""
    weights: str | None = None
    """Landmark weights (.safetensors); None = the shipped default model."""
    annotate: str | None = None
    """Directory for annotated copies of each input (None = no annotation)."""
    style: str = "points"
    """What annotated copies show: `points` (boxes, ids, 68 points) or a face filter placed by the
    keypoints: `sunglasses`, `moustache`, `hat` (`vidkp.output.filters.STYLES`)."""
    workers: int | None = None
    """Parallel workers (Ray actors, one CPU each); 0 = serial, in this process, without Ray;
    None = one per CPU (of this machine for a local Ray, of the cluster when joining one)."""
    address: str | None = None
    """Ray cluster address to join (else RAY_ADDRESS, else a local loopback-only Ray)."""
    overwrite: bool = False
    """Delete an existing output dataset first instead of resuming it."""
    images_per_task: int = 8
    """Still images are sent to workers in batches of this many."""
    in_flight_per_worker: int = 2
    """Bound on submitted-but-unfinished tasks per worker (keeps memory and queues small)."""
    detect_every: int = 10
    """Run the face detector at least every N processed frames (faces are tracked in between)."""
    smooth: bool = True
    """One-Euro filter the points over time (False: raw per-frame predictions)."""
    segment_seconds: float = 300.0
    """Videos longer than this are split into equal segments of at most this length, processed in
    parallel and stitched back (face ids continue across boundaries); 0 = never split. Videos are
    not split when annotating."""
    overlap_seconds: float = 2.0
    """Each segment after the first starts its tracker this long before its own first frame."""

    def __post_init__(self) -> None:
        checks = [
            (self.every >= 1, "every", ">= 1", self.every),
            (self.max_frames is None or self.max_frames >= 1, "max_frames", ">= 1 or None", self.max_frames),
            (self.min_face >= 1, "min_face", ">= 1", self.min_face),
            (self.max_side >= 32, "max_side", ">= 32", self.max_side),
            (self.image_max_side >= 32, "image_max_side", ">= 32", self.image_max_side),
            (self.workers is None or self.workers >= 0, "workers", ">= 0 or None", self.workers),
            (self.images_per_task >= 1, "images_per_task", ">= 1", self.images_per_task),
            (self.in_flight_per_worker >= 1, "in_flight_per_worker", ">= 1", self.in_flight_per_worker),
            (self.detect_every >= 1, "detect_every", ">= 1", self.detect_every),
            (self.segment_seconds >= 0, "segment_seconds", ">= 0", self.segment_seconds),
            (self.overlap_seconds >= 0, "overlap_seconds", ">= 0", self.overlap_seconds),
            (self.style in STYLES, "style", " | ".join(STYLES), self.style),
        ]
        for ok, name, expected, got in checks:
            if not ok:
                raise InputError(f"option {name}: expected {expected}, got {got!r}")
        if self.style != "points" and not self.annotate:
            raise InputError(f"option style: {self.style!r} draws on annotated copies; give --annotate DIR too")

    @classmethod
    def from_options(cls, **options: Any) -> "RunConfig":
        """Build from keyword options; None means 'use the default' (the one precedence rule)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown run options {unknown}; known: {sorted(known)}")
        given = {k: v for k, v in options.items() if v is not None}
        for key in ("weights", "annotate"):
            if key in given:
                given[key] = str(given[key])
        return replace(cls(), **given)

    def output_params(self) -> dict[str, Any]:
        """The options that change what is written; stored in OUT/_run.json and compared on resume."""
        return {
            "every": self.every,
            "max_frames": self.max_frames,
            "min_face": self.min_face,
            "max_side": self.max_side,
            "image_max_side": self.image_max_side,
            "detect_every": self.detect_every,
            "smooth": self.smooth,
            "segment_seconds": self.segment_seconds,
            "overlap_seconds": self.overlap_seconds,
            "annotate": (self.annotate if is_uri(self.annotate) else str(Path(self.annotate).resolve()))
            if self.annotate else None,
            **({"style": self.style} if self.annotate else {}),
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)
