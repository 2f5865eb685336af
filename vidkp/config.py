"""One config tree: `RunConfig` holds every setting of `vidkp run` once, with its type and meaning,
and nests the tracker's (`follow`: `vidkp.tracking.follow.FollowConfig`), the video detector's
(`video`: `vidkp.detect.haar.VideoDetectorConfig`) and the still-image search's (`still`:
`vidkp.landmarker.StillConfig`) settings instead of copying them.

Precedence is decided in one place (`RunConfig.from_options`): explicit argument, else default.
No settings file is read. `output_params()` lists the settings that change the rows written;
a resumed run must match them exactly.
"""
from __future__ import annotations

import json
import os
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vidkp.detect.haar import VideoDetectorConfig
from vidkp.errors import InputError
from vidkp.io.storage import is_uri
from vidkp.landmarker import StillConfig
from vidkp.output.filters import STYLES
from vidkp.tracking.follow import FollowConfig


def default_workers() -> int:
    """One worker per CPU core of this machine."""
    return os.cpu_count() or 1


SHORTHANDS = {"detect_every": "follow.detect_every", "smooth": "follow.smooth"}
"""Flat option names (`vidkp.run` keywords, CLI flags) that set a nested setting."""


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
    refine: bool = True
    """Re-place eye and mouth points from image patches when the model has a refinement stage
    (False: the first stage's points, about 0.9 ms less per face and frame)."""
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
    segment_seconds: float = 300.0
    """Videos longer than this are split into equal segments of at most this length, processed in
    parallel and stitched back (face ids continue across boundaries); 0 = never split. Videos are
    not split when annotating."""
    overlap_seconds: float = 2.0
    """Each segment after the first starts its tracker this long before its own first frame."""
    follow: FollowConfig = field(default_factory=FollowConfig)
    """How faces are followed through a video (detector schedule, thresholds, smoothing)."""
    video: VideoDetectorConfig = field(default_factory=VideoDetectorConfig)
    """How video frames are searched for faces (Haar settings)."""
    still: StillConfig = field(default_factory=StillConfig)
    """How a still image is searched."""

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
        """Build from keyword options; None means 'use the default' (the one precedence rule).

        Keys are field names; `follow`, `video` and `still` take their config object or a dict of its
        fields; "follow.max_gap"-style dotted keys and the `SHORTHANDS` set one nested field. A
        string value for a nested field is converted to the field's type ("30", "0.4", "true",
        "none", "auto"), as `vidkp run --set KEY=VALUE` passes them."""
        known = {f.name for f in fields(cls)}
        nested: dict[str, dict[str, Any]] = {"follow": {}, "still": {}, "video": {}}
        given: dict[str, Any] = {}
        for key, value in options.items():
            if value is None:
                continue
            key = SHORTHANDS.get(key, key)
            part, _, name = key.partition(".")
            if name and part in nested:
                nested[part][name] = value
            elif key in nested and isinstance(value, dict):
                nested[key].update(value)
            elif key in known:
                given[key] = value
            else:
                raise InputError(f"unknown run option {key!r}; known: {sorted(known | set(SHORTHANDS))} "
                                "and follow.* / still.* / video.* fields")
        for key in ("weights", "annotate"):
            if key in given:
                given[key] = str(given[key])
        hints = typing.get_type_hints(cls)
        given = {k: _convert(v, hints[k], k) if isinstance(v, str) else v for k, v in given.items()}
        base = cls()
        for part, values in nested.items():
            if values:
                given[part] = _with(given.get(part, getattr(base, part)), values, part)
        return replace(base, **given)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        """Inverse of `to_json`."""
        return cls.from_options(**json.loads(text))

    def output_params(self) -> dict[str, Any]:
        """The options that change what is written, as JSON values (tuples become lists); stored in
        OUT/_run.json and compared on resume."""
        return json.loads(json.dumps({
            "every": self.every,
            "max_frames": self.max_frames,
            "min_face": self.min_face,
            "max_side": self.max_side,
            "image_max_side": self.image_max_side,
            "refine": self.refine,
            "segment_seconds": self.segment_seconds,
            "overlap_seconds": self.overlap_seconds,
            "annotate": (self.annotate if is_uri(self.annotate) else str(Path(self.annotate).resolve()))
            if self.annotate else None,
            "follow": asdict(self.follow),
            "video": asdict(self.video),
            "still": asdict(self.still),
            **({"style": self.style} if self.annotate else {}),
        }))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _with(obj: Any, values: dict[str, Any], name: str) -> Any:
    """`obj` (a config dataclass) with `values` replaced, strings converted to each field's type."""
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in fields(obj)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"unknown setting {name}.{unknown[0]}; known: {', '.join(sorted(names))}")
    converted = {k: _convert(v, hints[k], f"{name}.{k}") if isinstance(v, str)
                 else tuple(v) if isinstance(v, list) and typing.get_origin(hints[k]) is tuple else v
                 for k, v in values.items()}
    return replace(obj, **converted)


def _convert(text: str, hint: Any, name: str) -> Any:
    """`text` as a value of type `hint` (int, float, bool, None, str, literals and unions of them)."""
    if typing.get_origin(hint) is tuple:  # tuple[T, ...]: comma-separated values
        item = typing.get_args(hint)[0]
        return tuple(_convert(part, item, name) for part in text.split(",") if part.strip())
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else (hint,)
    low = text.strip().lower()
    for opt in options:
        if opt is type(None) and low == "none":
            return None
        if typing.get_origin(opt) is typing.Literal and text in typing.get_args(opt):
            return text
        if opt is bool and low in ("true", "false", "1", "0", "yes", "no"):
            return low in ("true", "1", "yes")
        try:
            if opt in (int, float):
                return opt(text)
        except ValueError:
            continue
        if opt is str:
            return text
    raise InputError(f"setting {name}: cannot read {text!r} as {hint}")
