"""Find the faces of one image: detect -> landmarks -> refine -> face score -> shift test -> merge.

Shared by `FaceLandmarker.detect` (stills, the public API) and `FaceFollower` (each detector
pass in a video), so a still and a video frame are searched by the same code. Detector false
alarms are rejected twice: by the landmark model's face score, and by a shift test (a real
face's points stay where they are when its crop is moved by `SHIFT` of its side; points the
model imagines on a non-face move with the crop). Several boxes on one face (one per cascade,
or neighbouring windows) are merged, keeping the best-scoring one. Stills search once more with
a more permissive detector when the first search keeps no face.
"""
from __future__ import annotations

import time
from typing import Literal, Protocol

import numpy as np

from vidkp.boxes import iou_matrix
from vidkp.errors import InputError
from vidkp.faces import Faces
from vidkp.landmarks.shape import roll_degrees


class Detector(Protocol):
    """Proposes face boxes in a BGR image (`vidkp.detect.haar.HaarDetector` is one): `Faces` with
    boxes and detector scores; keypoints and ids are filled by later stages. `regions` (n, 4;
    x, y, w, h in image pixels): only faces inside these need be found; None: the whole image."""

    def __call__(self, image: np.ndarray, regions: np.ndarray | None = None) -> Faces: ...


class PointModel(Protocol):
    """What the finder needs from a landmark model (`vidkp.landmarks.model.LandmarkModel`)."""

    max_shift_error: float
    """The model's own shift-test limit (calibrated with it on validation faces)."""

    def predict(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None,
                mirror: bool = False, jitter: float = 0.0, refine: bool = True) -> tuple[np.ndarray, np.ndarray]: ...

    def refine(self, image: np.ndarray, kps: np.ndarray, mirror: bool = False) -> np.ndarray: ...

    def box_from_landmarks(self, kps: np.ndarray) -> np.ndarray: ...


def centre_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) distances between box centres, in mean box sides of each pair."""
    ca, cb = a[:, None, :2] + a[:, None, 2:] / 2, b[None, :, :2] + b[None, :, 2:] / 2
    return np.linalg.norm(ca - cb, axis=2) / (0.5 * (a[:, None, 2] + b[None, :, 2]))


def same_face(a: np.ndarray, b: np.ndarray, merge_iou: float = 0.3) -> np.ndarray:
    """(len(a), len(b)) mask of box pairs on one face: IoU above `merge_iou`, or centres closer
    than half their mean side."""
    return (centre_distances(a, b) < 0.5) | (iou_matrix(a, b) > merge_iou)


def predict_from_points(model: PointModel, image: np.ndarray, kps: np.ndarray, mirror: bool = False,
                        jitter: float = 0.0, refine: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Re-predict faces from their points (n, 68, 2): Haar-like box and eye-line roll, as a tracker
    crops (`mirror`, `jitter`, `refine`: `LandmarkModel.predict`)."""
    return model.predict(image, model.box_from_landmarks(kps), roll_degrees(kps), mirror, jitter, refine)


ACCEPT_SCORE = 0.5
"""Least face score (model, [0, 1]) for a candidate to become a face, in stills and videos alike."""

SHIFT = (0.15, 0.10)
"""Crop shift (right, down; in crop-box sides) of the shift test."""

ShiftLimit = float | Literal["auto"] | None
"""A shift-test limit: a number (outer-eye distances), "auto" (the model's own), None (no test)."""


def check_jitter(jitter: float, name: str) -> float:
    """`jitter` (a share of the box side, `LandmarkModel.predict`) as a float; `InputError`
    naming `name` unless it is in [0, 0.5)."""
    if not 0 <= jitter < 0.5:
        raise InputError(f"{name}: expected a share of the box side in [0, 0.5), got {jitter!r}")
    return float(jitter)


def shift_limit(model: PointModel, limit: ShiftLimit) -> float | None:
    """The number `limit` stands for with `model`."""
    return model.max_shift_error if limit == "auto" else limit


def shift_error(model: PointModel, image: np.ndarray, box: np.ndarray, angles: np.ndarray, kps: np.ndarray
                ) -> np.ndarray:
    """Mean point movement (n,), in outer-eye-corner distances of `kps`, when the crop boxes
    (n, 4) that gave `kps` are shifted by `SHIFT`. First-stage points (`predict(..., refine=False)`)
    on both sides: the limits are calibrated on them."""
    moved = box.copy()
    moved[:, 0] += SHIFT[0] * box[:, 2]
    moved[:, 1] += SHIFT[1] * box[:, 3]
    again, _ = model.predict(image, moved, angles, refine=False)
    iod = np.linalg.norm(kps[:, 36] - kps[:, 45], axis=1)
    return np.linalg.norm(again - kps, axis=2).mean(axis=1) / np.maximum(iod, 1e-6)


def refine(model: PointModel, image: np.ndarray, boxes: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Predict each box (n, 4), then again from a box framing its own points (as a tracker
    crops): first-stage points (not refined), scores, and the crop boxes and angles of that second
    prediction."""
    first, _ = model.predict(image, boxes, refine=False)
    crops, angles = model.box_from_landmarks(first), roll_degrees(first)
    kps, scores = model.predict(image, crops, angles, refine=False)
    return kps, scores, crops, angles


def steady(model: PointModel, image: np.ndarray, crops: np.ndarray, angles: np.ndarray, kps: np.ndarray,
           limit: ShiftLimit) -> np.ndarray:
    """Mask (n,) of the predictions `kps` (from `crops`, `angles`) that pass the shift test at
    `limit` ("auto": the model's own; None: all pass)."""
    limit = shift_limit(model, limit)
    if limit is None or not len(kps):
        return np.ones(len(kps), bool)
    return shift_error(model, image, crops, angles, kps) <= limit


def find_faces(model: PointModel, detector: Detector, image: np.ndarray,
               min_score: float, max_shift_error: ShiftLimit = "auto", merge_iou: float = 0.3,
               mirror: bool = False, jitter: float = 0.0, fallback: Detector | None = None,
               regions: np.ndarray | None = None) -> tuple[Faces, dict[str, float]]:
    """Faces of `image` whose model face score is at least `min_score` and whose points move
    at most `max_shift_error` in the shift test ("auto": the model's own limit; None: no test),
    duplicates merged (the best score stays), left to right; boxes are Haar-like boxes framing
    the points. Each detector box is predicted twice: from the box, then from a box framing its
    own points (as a tracker crops), all on first-stage points; the faces kept get their final
    points from that second prediction through the model's refinement stage (`model.refine`), or,
    with `mirror` or `jitter`, from one more prediction of that crop with test-time averaging
    (`LandmarkModel.predict`, refined).
    `fallback`: a second, more permissive detector searched the same way when `detector` gives
    no face (stills: `vidkp.detect.haar.fallback_detector`). `regions`: the detectors search only
    these (`Detector`). Also returns the seconds spent in the detectors ("detect") and the model
    ("landmarks")."""
    faces, times = _search(model, detector, image, min_score, max_shift_error, merge_iou, mirror, jitter, regions)
    if fallback is not None and not len(faces):
        faces, more = _search(model, fallback, image, min_score, max_shift_error, merge_iou, mirror, jitter, regions)
        times = {k: times[k] + more[k] for k in times}
    return faces, times


def _search(model: PointModel, detector: Detector, image: np.ndarray, min_score: float,
            max_shift_error: ShiftLimit, merge_iou: float, mirror: bool, jitter: float,
            regions: np.ndarray | None) -> tuple[Faces, dict[str, float]]:
    """`find_faces` with one detector."""
    t0 = time.perf_counter()
    det = detector(image) if regions is None else detector(image, regions)
    t1 = time.perf_counter()
    times = {"detect": t1 - t0, "landmarks": 0.0}
    if not len(det):
        return Faces.empty(), times
    kps, scores, crop_boxes, angles = refine(model, image, det.boxes)
    ok = np.isfinite(kps).all(axis=(1, 2)) & (scores >= min_score)
    kps, scores, crop_boxes, angles = kps[ok], scores[ok], crop_boxes[ok], angles[ok]
    still = steady(model, image, crop_boxes, angles, kps, max_shift_error)
    kps, scores, crop_boxes, angles = kps[still], scores[still], crop_boxes[still], angles[still]
    if not len(kps):
        times["landmarks"] = time.perf_counter() - t1
        return Faces.empty(), times
    boxes = model.box_from_landmarks(kps)
    same = same_face(boxes, boxes, merge_iou)
    keep: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if not any(same[i, j] for j in keep):
            keep.append(int(i))
    keep.sort(key=lambda i: (boxes[i, 0], boxes[i, 1]))
    kps, scores, boxes = kps[keep], scores[keep], boxes[keep]
    if mirror or jitter:
        kps = model.predict(image, crop_boxes[keep], angles[keep], mirror, jitter)[0]
    else:
        kps = model.refine(image, kps)
    boxes = model.box_from_landmarks(kps)
    times["landmarks"] = time.perf_counter() - t1
    return Faces(boxes, scores.astype(np.float32), kps.astype(np.float32)), times
