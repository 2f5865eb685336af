"""Face detection. `HaarDetector` wraps OpenCV's frontal-face Haar cascades.

Box convention: the Haar box is a near-square around brows, eyes, nose and mouth (roughly
from mid-forehead to just below the lower lip); the landmark crop (`CropSpec`) was fitted to
exactly that convention, so boxes from another detector should be mapped to it first.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from vidkp.errors import ModelError
from vidkp.faces import Faces
from vidkp.landmarks.crop import to_gray

CASCADES = {"default": "haarcascade_frontalface_default.xml", "alt2": "haarcascade_frontalface_alt2.xml",
            "alt": "haarcascade_frontalface_alt.xml", "profile": "haarcascade_profileface.xml"}
"""Short names of OpenCV's bundled cascades. The frontal ones draw boxes in one convention; the
profile cascade (faces turned to one side) frames them differently, which `find_faces` absorbs:
it re-crops every box from its own predicted points."""


CONTRAST: dict[str, Callable[[], Callable[[np.ndarray], np.ndarray]]] = {
    "equalize": lambda: cv2.equalizeHist,
    "clahe": lambda: cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply,
}
"""How the gray image is normalised before the cascades: one histogram equalisation of the whole
image, or CLAHE (per 8x8 tile, clip limit 2: a dark face on a bright background gets contrast)."""


@functools.lru_cache(maxsize=None)
def load_cascade(name: str | Path) -> cv2.CascadeClassifier:
    """A bundled cascade by short name (`CASCADES`) or a cascade XML file by path. Loaded once per
    process and shared by every detector using it for images up to `SHARED_SCAN_PIXELS` (a
    classifier keeps working buffers as large as the largest image it has scanned; sharing keeps
    one set per cascade). Detectors are not thread-safe."""
    return read_cascade(name)


def read_cascade(name: str | Path) -> cv2.CascadeClassifier:
    """A new classifier for `name` (as `load_cascade`, not shared)."""
    path = Path(cv2.data.haarcascades) / CASCADES[name] if name in CASCADES else Path(name)
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise ModelError(f"could not load Haar cascade from {path}")
    return cascade


SHARED_SCAN_PIXELS = 640 * 640
"""Images up to this many pixels (after the `max_side` and `downscale` resizing) are scanned with
the shared classifiers (`load_cascade`). A larger one is scanned with classifiers read for that
call (about 10 ms each), one at a time, each dropped after its scans: a classifier keeps a buffer
of some 60 bytes per pixel of the largest image it has scanned, which a process holding one per
cascade would keep for its life."""


class HaarDetector:
    """OpenCV Haar cascade face detector on a (possibly downscaled) gray image.

    `max_side` bounds the longer image side that the cascades see (larger frames are
    downscaled first, for speed); `min_face` is the smallest face side in original pixels.
    With several `cascades` the boxes of all are returned (a face found by two gives two
    near-identical boxes: `vidkp.detect.candidates.find_faces` merges them); the union finds more
    faces than any one cascade, at the cost of one pass per cascade. Scores are the cascades'
    level weights (higher is more face-like). `rolls`: angles in degrees at which the image is
    searched (0: as it is; others: the image rotated by that angle, counter-clockwise as OpenCV
    counts, about its centre on a canvas holding all of it, so heads rolled by about the opposite
    angle stand upright); each rotated search scans that larger canvas (1.75x the image's area at
    20 degrees for 16:9). A box found on a rotated image is returned upright around its centre
    mapped back (the landmark model re-crops it from its own points, roll included).
    """

    box_convention = "haar"

    def __init__(self, min_face: int = 24, max_side: int = 640, scale_factor: float = 1.1,
                 min_neighbors: int = 5, cascades: tuple[str | Path, ...] = ("default",),
                 contrast: str = "equalize", downscale: float = 1.0, rolls: tuple[float, ...] = (0.0,)) -> None:
        if not cascades:
            raise ModelError("HaarDetector needs at least one cascade")
        self._cascades = [load_cascade(c) for c in cascades]
        self.cascades = tuple(str(c) for c in cascades)
        self.min_face = int(min_face)
        self.max_side = int(max_side)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        if contrast not in CONTRAST:
            raise ModelError(f"contrast must be one of {sorted(CONTRAST)}, got {contrast!r}")
        self.contrast = contrast
        if downscale < 1:
            raise ModelError(f"downscale must be at least 1, got {downscale}")
        self.downscale = float(downscale)
        if not rolls:
            raise ModelError("HaarDetector needs at least one roll angle (0: the image as it is)")
        self.rolls = tuple(float(r) for r in rolls)
        self._normalize = CONTRAST[contrast]()

    @property
    def settings(self) -> dict[str, Any]:
        """The constructor arguments this detector was built with."""
        return {"min_face": self.min_face, "max_side": self.max_side, "scale_factor": self.scale_factor,
                "min_neighbors": self.min_neighbors, "cascades": self.cascades, "contrast": self.contrast,
                "downscale": self.downscale, "rolls": self.rolls}

    def replace(self, **changes: Any) -> HaarDetector:
        """A new detector with this one's settings except `changes` (constructor arguments)."""
        return HaarDetector(**{**self.settings, **changes})

    def also_rotated(self, angles: tuple[float, ...], **changes: Any) -> HaarDetector:
        """`replace(**changes)`, also scanning at `angles` (degrees) besides this one's `rolls`,
        each angle once."""
        return self.replace(rolls=tuple(dict.fromkeys(self.rolls + tuple(float(a) for a in angles))), **changes)

    def __call__(self, image: np.ndarray, regions: np.ndarray | None = None) -> Faces:
        """Faces in `image` (BGR or gray); `regions` (n, 4; x, y, w, h in image pixels): search
        only inside these (a face must lie inside one to be found; `vidkp.detect.regions`), None:
        the whole image. The image is resized and normalised as a whole either way, so a face
        inside a region is searched about as in a whole-image pass (the scan grid starts at the
        region's corner, so a face the cascade barely finds may be found in one and not the other)."""
        gray = to_gray(image)
        h, w = gray.shape[:2]
        k = min(1.0, self.max_side / float(max(h, w))) / self.downscale
        small = cv2.resize(gray, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else gray
        small = self._normalize(small)
        min_px = max(int(round(self.min_face * k)), 12)
        found, weights = [], []
        views = [(corner, *_rotated(part, roll)) for corner, part in _parts(small, regions, k, min_px)
                 for roll in self.rolls]
        for name, shared in zip(self.cascades, self._cascades):
            cascade = shared if small.size <= SHARED_SCAN_PIXELS else read_cascade(name)
            for (x0, y0), view, back in views:
                boxes, _, level = cascade.detectMultiScale3(
                    view, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                    minSize=(min_px, min_px), outputRejectLevels=True)
                if len(boxes):
                    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
                    if back is not None:  # upright box around the centre mapped back
                        centres = (boxes[:, :2] + boxes[:, 2:] / 2) @ back[:, :2].T + back[:, 2]
                        boxes = np.concatenate([centres - boxes[:, 2:] / 2, boxes[:, 2:]], axis=1)
                    found.append(boxes + np.float32([x0, y0, 0, 0]))
                    weights.append(np.asarray(level, np.float32).reshape(-1))
        if not found:
            return Faces.empty()
        boxes, scores = np.concatenate(found) / k, np.concatenate(weights)
        order = np.lexsort((boxes[:, 1], boxes[:, 0]))  # OpenCV's order varies with its thread count
        return Faces(boxes[order], scores[order])


def _parts(small: np.ndarray, regions: np.ndarray | None, k: float, min_px: int
           ) -> list[tuple[tuple[int, int], np.ndarray]]:
    """The views of `small` (the image scaled by `k`) to scan, with their top-left corners: all of
    it, or the `regions` (image pixels) scaled and cut out, leaving those smaller than `min_px`."""
    if regions is None:
        return [((0, 0), small)]
    h, w = small.shape[:2]
    out = []
    for x, y, rw, rh in np.asarray(regions, np.float64).reshape(-1, 4) * k:
        x0, y0 = max(int(np.floor(x)), 0), max(int(np.floor(y)), 0)
        x1, y1 = min(int(np.ceil(x + rw)), w), min(int(np.ceil(y + rh)), h)
        if min(x1 - x0, y1 - y0) >= min_px:
            out.append(((x0, y0), small[y0:y1, x0:x1]))
    return out


def _rotated(gray: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray | None]:
    """`gray` rotated by `degrees` (counter-clockwise, OpenCV's sense) about its centre on a canvas
    that holds all of it (edges replicated), and the 2x3 matrix from canvas pixels back to
    `gray`'s (None, and `gray` itself, for 0)."""
    if degrees == 0:
        return gray, None
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    cw, ch = int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))
    m[:, 2] += (cw / 2 - w / 2, ch / 2 - h / 2)
    view = cv2.warpAffine(gray, m, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return view, cv2.invertAffineTransform(m)


STILL_CASCADES = ("default", "alt2", "profile")
"""The still search's cascades: the two frontal ones and the profile one."""


def still_detector(min_face: int = 24, max_side: int = 1280, cascades: tuple[str, ...] = STILL_CASCADES,
                   min_neighbors: int = 3) -> HaarDetector:
    """The detector for still images: by default the two frontal cascades and the profile cascade
    at `min_neighbors=3`, global histogram equalisation; the extra false alarms are left to the
    model's face score and shift test (`vidkp.detect.candidates.find_faces`). Why these settings:
    docs/experiments/2026-11-detector-and-tracker-settings.md."""
    return HaarDetector(min_face=min_face, max_side=max_side, min_neighbors=min_neighbors, cascades=cascades)


FALLBACK_ROLLS = (-20.0, 20.0)
"""Angles (degrees) at which the second search of a still also scans the image rotated: a head
rolled by 5-35 degrees either way, which the upright cascades miss, stands upright in one of them."""


def fallback_detector(detector: HaarDetector, rolls: tuple[float, ...] = FALLBACK_ROLLS) -> HaarDetector:
    """The second search of a still in which `detector` found no face (`find_faces(fallback=)`):
    the same cascades at `min_neighbors=1`, on the image as it is and rotated by `rolls`.
    Its extra false alarms meet the face score (refitted on the frontal cascades' false alarms at
    `min_neighbors=1`, `training.score_head`) and the shift test. Why: docs/experiments/
    2026-11-29-stills-rotated-second-search.md."""
    return detector.also_rotated(rolls, min_neighbors=1)


@dataclass(frozen=True)
class VideoDetectorConfig:
    """The Haar settings of video passes (`HaarDetector`'s arguments besides `min_face` and
    `max_side`, which `RunConfig` holds). Defaults: the default cascade at `min_neighbors=3` on a
    CLAHE-normalised frame (local contrast finds dark or low-contrast faces)."""

    cascades: tuple[str, ...] = ("default",)
    min_neighbors: int = 3
    scale_factor: float = 1.1
    contrast: str = "clahe"
    rolls: tuple[float, ...] = (0.0,)
    """Also search the frame rotated by these angles (degrees; 0: as it is)."""
    quick_downscale: float = 2.0
    """The follower's quick passes search the frame downscaled this much more (large faces only)."""
    quick_rolls: tuple[float, ...] = (20.0, -20.0)
    """Every other quick pass scans the frame rotated by each of these angles (degrees; OpenCV's
    counter-clockwise sense) instead of upright, so a head that appears rolled by about 5-35
    degrees either way, which the upright scans miss, is found (`video_quick_detectors`).
    (): upright only."""


def video_quick_detectors(min_face: int = 24, max_side: int = 640,
                          config: VideoDetectorConfig | None = None) -> list[HaarDetector]:
    """The follower's quick detectors, which its quick passes take in turn: one that scans the
    frame rotated by each angle of `config.quick_rolls`, then an upright one (`[+20 and -20,
    upright]` by default; `[upright]` without angles); the frame downscaled by
    `config.quick_downscale`."""
    c = config or VideoDetectorConfig()
    upright = video_detector(min_face, max_side, c.quick_downscale, c)
    return [upright.replace(rolls=c.quick_rolls), upright] if c.quick_rolls else [upright]


def video_detector(min_face: int = 24, max_side: int = 640, downscale: float = 1.0,
                   config: VideoDetectorConfig | None = None) -> HaarDetector:
    """The detector for video passes, with `config`'s settings (default `VideoDetectorConfig()`);
    `downscale=config.quick_downscale` gives the follower's quick passes."""
    c = config or VideoDetectorConfig()
    return HaarDetector(min_face=min_face, max_side=max_side, scale_factor=c.scale_factor,
                        min_neighbors=c.min_neighbors, cascades=c.cascades, contrast=c.contrast,
                        downscale=downscale, rolls=c.rolls)
