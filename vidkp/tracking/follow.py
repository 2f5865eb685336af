"""Follow faces through a video: detect rarely, track every frame from the previous landmarks.

Per frame: a scene cut ends every track; each live track is re-cropped from its previous
points (a Haar-like box and the eye-line roll, as training crops are made) and re-predicted;
the model's face score decides when a track is lost. The detector runs on the first frame,
after a cut, right after a loss, and on every `detect_every`-th frame while faces are tracked
(every `detect_every_empty`-th while none is or a lost one may come back, and every
`detect_every`-th again once no face has been followed for `empty_patience` frames), counted
from the start of the video, so a follower started mid-video (a segment of a split video,
`reset(start)`) keeps the schedule of an unsplit run (in a faceless stretch it searches more
often during its first `empty_patience` frames, as at a video's start). Each detector (the full
one and each quick one) keeps the change of the picture since it last searched; a periodic pass
searches only where that changed outside the tracked faces (a new face cannot appear without
changing it; `changed_only`, `vidkp.detect.regions`), and is skipped when nothing did, so a
segment's first periods, which have seen no change yet, search more than an unsplit run's. Every
`detect_max_every`-th frame the full detector searches the whole frame. With a `quick` detector,
most periodic passes use it (large faces only, about a third of the cost; `full_every`); with
several, the quick passes take them in turn (`vidkp.detect.haar.video_quick_detectors`: rotated
by +20 and -20 degrees, upright). Detections go through
`vidkp.detect.candidates.find_faces` (face score, shift test, duplicates merged); one on a tracked
face re-seeds that track (undoing drift), one where a face lost within `max_gap` frames should
be gives it its id back, one on no face starts a track if its face score reaches
`accept_score`. Tracks that end up on the same face are merged (the track that moved least
stays; the other is kept as lost). Each track's points are One-Euro filtered (`smooth=False`
gives the raw predictions).

`face_id` contract: an id stays the same while a face stays tracked, and when a lost face is
found again within `max_gap` frames near where it was lost; a face lost for longer, and every
face after a scene cut, gets a new id. Ids count up from 0 per video.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from vidkp.detect.candidates import (ACCEPT_SCORE, Detector, PointModel, ShiftLimit, centre_distances, find_faces,
                                     predict_from_points, same_face, steady)
from vidkp.detect.regions import CELL, box_mask, changed_cells, search_regions, thumb_scale
from vidkp.errors import InputError
from vidkp.faces import Faces
from vidkp.landmarks.shape import roll_degrees
from vidkp.tracking.cuts import CutDetector
from vidkp.tracking.smooth import OneEuroFilter


@dataclass(frozen=True)
class FollowConfig:
    """Tracking knobs; defaults are chosen on generated clips, never on the people hold-out."""

    detect_every: int = 10
    """Run the detector at least every N frames to pick up new faces."""
    accept_score: float = ACCEPT_SCORE
    """Least model face score for a detection to start a track."""
    keep_score: float = 0.3
    """A tracked face whose score falls below this is lost."""
    merge_iou: float = 0.3
    """Tracks (or a detection and a track) whose boxes overlap more than this are one face."""
    detect_every_empty: int = 3
    """With no live track, or a lost face that may come back, run the detector every N frames."""
    empty_patience: int | None = 30
    """Once no face has been tracked or lost-but-expected for this many frames (after the
    video's start or a cut, or since the last face went), search only every `detect_every`
    frames, not `detect_every_empty`: footage without faces costs a third of the detector
    passes. None: always `detect_every_empty`."""
    max_shift_error: ShiftLimit = "auto"
    """Shift test for detections (`vidkp.detect.candidates.find_faces`): most point movement, in
    outer-eye distances, when the crop is shifted; "auto": the model's own limit; None turns
    the test off."""
    smooth: bool = True
    """One-Euro filter the points (False: the raw per-frame predictions)."""
    mirror: bool = False
    """Flip test-time averaging of every prediction (`LandmarkModel.forward`): twice the network
    work per face; off by default in video (it did not help on clips; stills use it)."""
    still_change: float | None = 6.0
    """The picture changed where a window of 4x4 pixels of the 64x36 gray thumbnail changed by
    more than this (mean absolute, 0-255) from one periodic frame to the next. Each detector (the
    full one and each quick one) keeps the change since it last searched; a periodic pass whose
    detector has no change outside the tracked faces to look at is skipped (a new face cannot
    appear without changing the picture), and with `changed_only` it searches only the changed
    parts. None: never skip, always search the whole frame."""
    changed_only: bool = True
    """Periodic passes search only where the picture changed (`still_change`) since their
    detector last searched, outside tracked faces, each changed part grown
    (`vidkp.detect.regions`); the whole frame when that is most of it. False: a periodic pass
    with anything changed searches the whole frame."""
    detect_max_every: int = 120
    """Every Nth frame (counted from the video's start) the full detector searches the whole
    frame, whatever the schedule and the change (120: a multiple of both periods' full-pass
    frames, so no pass is added, only widened)."""
    motion: bool = False
    """Crop each tracked face where its points would be if it kept its last frame-to-frame motion
    (helps fast faces at low frame rates; off by default: the motion state makes a split video's
    segments differ from an unsplit run by up to ~2 px instead of < 0.01 px)."""
    max_gap: int = 60
    """A lost face found again within this many frames, where its motion puts it, gets its id
    back (an occlusion, a miss, a short trip out of the frame); after a longer gap it gets a new
    id (chosen on validation-people clips)."""
    revive: bool = True
    """Each frame, look with the model alone for each face lost within `max_gap` frames where it
    was lost (score >= `accept_score` and the shift test), besides the detector passes."""
    full_every: int = 2
    """With a `quick` detector (`FaceFollower`), a periodic pass searches every face size only on
    frames that are multiples of this many periods; the others use the quick detector. The first
    frame, cuts and losses always get a full pass (2 was chosen on validation-people clips)."""
    min_cutoff: float = 0.3
    beta: float = 30.0

    def __post_init__(self) -> None:
        for name in ("detect_every", "detect_every_empty", "detect_max_every", "full_every", "max_gap"):
            if getattr(self, name) < 1:
                raise InputError(f"FollowConfig.{name}: expected >= 1, got {getattr(self, name)!r}")
        if self.empty_patience is not None and self.empty_patience < 0:
            raise InputError(f"FollowConfig.empty_patience: expected >= 0 or None, got {self.empty_patience!r}")


LOST_GROW = 0.5
"""Periodic passes search where each lost face was, its box grown by this share of its side on
every side (it may come back a little off, from behind an occluder or another face)."""

REVIVE_DISTANCE = 0.75
"""A detection whose centre is within this many box sides of where a lost face should be is
that face (the nearest one, if several)."""


@dataclass
class _Track:
    id: int
    raw: np.ndarray
    score: float
    filt: OneEuroFilter
    smooth: np.ndarray = field(default=None)  # type: ignore[assignment]
    velocity: np.ndarray | float = 0.0
    """Last frame-to-frame motion of the points (68, 2), 0 when unknown."""
    lost_at: int = -1
    """Frame index at which the face was lost (-1 while it is live)."""
    jump: float = 0.0
    """How far (in outer-eye distances) the last update moved the points from where expected."""

    def steps(self, index: int) -> int:
        """Frames from the last points (`raw`) to frame `index`."""
        return 1 if self.lost_at < 0 else index - self.lost_at + 1

    def expected(self, index: int) -> np.ndarray:
        """Where the points should be at frame `index` if the face kept its motion."""
        return self.raw + self.steps(index) * self.velocity

    def update(self, kps: np.ndarray, score: float, index: int, motion: bool) -> None:
        """New points at frame `index`; the motion is re-estimated (over the gap if it was lost)."""
        iod = float(np.linalg.norm(kps[45] - kps[36])) or 1.0
        self.jump = float(np.linalg.norm(kps - self.expected(index), axis=1).mean()) / iod
        self.velocity = (kps - self.raw) / self.steps(index) if motion else 0.0
        self.raw, self.score, self.lost_at = kps, float(score), -1


def _rotates(detector: Detector) -> bool:
    """Whether `detector` scans rotated frames (a `HaarDetector` with `rolls` other than 0), so
    finds heads an upright scan misses."""
    return any(r != 0 for r in getattr(detector, "rolls", (0.0,)))


class FaceFollower:
    """Stateful per-video face follower; call `step(image, t, frame)` for consecutive frames,
    `reset()` between videos. After each step, `detected` and `cut` tell whether the detector ran
    and a scene cut started on that frame, and `times` the seconds it spent in the detector
    ("detect") and the landmark model ("landmarks")."""

    def __init__(self, model: PointModel, detector: Detector, config: FollowConfig | None = None,
                 quick: Detector | Sequence[Detector] | None = None) -> None:
        """`quick`: a cheaper detector for most periodic passes (`FollowConfig.full_every`), for
        example `detector` at half resolution (large faces only), or several that the quick passes
        take in turn (the k-th quick period of the video, counted from its start, uses the
        (k mod n)-th); None: always `detector`."""
        self.model = model
        self.detector = detector
        self.quick: tuple[Detector, ...] = (
            () if quick is None else tuple(quick) if isinstance(quick, (list, tuple)) else (quick,))
        self.cfg = config or FollowConfig()
        self.cuts = CutDetector()
        self.detected = self.cut = False
        self.times: dict[str, float] = {"detect": 0.0, "landmarks": 0.0}
        self.reset()

    def reset(self, start: int = 0) -> None:
        """Forget every track; the next frame is the video's `start`-th processed frame."""
        self._tracks: list[_Track] = []
        self._gone: list[_Track] = []  # lost within the last `max_gap` frames
        self._next_id = 0
        self._index = start
        self._lost = False
        self._fresh = True  # the first frame is always searched
        self._ref_thumb: np.ndarray | None = None  # thumbnail at the previous periodic frame
        # per detector (full, then quick): the change since it last searched; set on the first frame
        self._pending: list[np.ndarray] = []
        self._seen = start  # last frame with a face to follow (or the start: search often at first)
        self.cuts.reset()

    def _predict_from_points(self, image: np.ndarray, kps: np.ndarray, refine: bool = True
                             ) -> tuple[np.ndarray, np.ndarray]:
        t0 = time.perf_counter()
        out = predict_from_points(self.model, image, kps, self.cfg.mirror, refine=refine)
        self.times["landmarks"] += time.perf_counter() - t0
        return out

    def _same_face(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return same_face(a, b, self.cfg.merge_iou)

    def _detect(self, image: np.ndarray, detector: Detector, regions: np.ndarray | None = None) -> None:
        """Run `detector` (through `find_faces`) on `regions` (None: the whole frame):
        a face on a tracked face re-seeds that track (undoing drift); one where a recently lost
        face should be gives that face its id back; one on no face starts a track; both only if
        its face score reaches `accept_score`."""
        found, times = find_faces(self.model, detector, image, self.cfg.keep_score, self.cfg.max_shift_error,
                                  self.cfg.merge_iou, self.cfg.mirror, regions=regions)
        for k, v in times.items():
            self.times[k] += v
        if not len(found):
            return
        same = self._same_face(found.boxes, self._boxes([t.raw for t in self._tracks]))
        gone = centre_distances(found.boxes, self._boxes([t.expected(self._index - 1) for t in self._gone]))
        revived: set[int] = set()
        for k, s, hits, back in zip(found.keypoints, found.scores, same, gone):
            back[list(revived)] = np.inf
            if hits.any():  # re-seed: the detection's points, the track's motion
                tr = self._tracks[int(np.argmax(hits))]
                tr.raw, tr.score = k, float(s)
            elif len(back) and back.min() < REVIVE_DISTANCE and s >= self.cfg.accept_score:
                j = int(np.argmin(back))
                revived.add(j)
                self._gone[j].update(k, s, self._index - 1, self.cfg.motion)
                self._tracks.append(self._gone[j])
            elif s >= self.cfg.accept_score:
                self._tracks.append(_Track(self._next_id, k, float(s), OneEuroFilter(self.cfg.min_cutoff, self.cfg.beta)))
                self._next_id += 1
        self._gone = [t for j, t in enumerate(self._gone) if j not in revived]
        self._tracks.sort(key=lambda t: t.id)

    def _revive(self, image: np.ndarray) -> None:
        """Look for each recently lost face where it was lost, with the model alone: it is back
        (same id) when the crop there scores at least `accept_score`, passes the shift test and
        holds no tracked face (a lost track lying under a tracked face is not looked at).
        Catches a face coming out from behind an occluder or back into the frame before the
        detector would."""
        taken = self._boxes([t.raw for t in self._tracks])
        where = np.stack([t.expected(self._index) for t in self._gone])
        free = ~self._same_face(self.model.box_from_landmarks(where), taken).any(axis=1)  # not under a tracked face
        if not free.any():
            return
        kps = np.full(where.shape, np.nan, np.float32)
        scores = np.zeros(len(where), np.float32)
        kps[free], scores[free] = self._predict_from_points(image, where[free], refine=False)
        idx = np.flatnonzero((scores >= self.cfg.accept_score) & np.isfinite(kps).all(axis=(1, 2)))
        if not len(idx):
            return
        t0 = time.perf_counter()
        idx = idx[steady(self.model, image, self.model.box_from_landmarks(where[idx]), roll_degrees(where[idx]),
                         kps[idx], self.cfg.max_shift_error)]
        kps[idx] = self.model.refine(image, kps[idx], self.cfg.mirror)
        self.times["landmarks"] += time.perf_counter() - t0
        back: list[int] = []
        for j, box in zip(idx, self._boxes([kps[j] for j in idx])):
            if len(taken) and self._same_face(box[None], taken).any():
                continue
            self._gone[j].update(kps[j], scores[j], self._index, self.cfg.motion)
            self._tracks.append(self._gone[j])
            taken = np.vstack([taken, box[None]])
            back.append(int(j))
        self._gone = [t for j, t in enumerate(self._gone) if j not in back]
        self._tracks.sort(key=lambda t: t.id)

    def _boxes(self, points: list[np.ndarray]) -> np.ndarray:
        """Haar-like boxes (n, 4) framing each set of points ((0, 4) for none)."""
        return self.model.box_from_landmarks(np.stack(points)) if points else np.zeros((0, 4), np.float32)

    def _search_regions(self, image: np.ndarray, slot: int) -> np.ndarray | None:
        """Where a periodic pass of detector `slot` (0: full; 1...: quick) searches
        (`vidkp.detect.regions`): the cells changed since that detector last searched, outside
        the tracked faces (boxes grown by a quarter); while a lost face may come back, the tracked
        faces stay in (it may come out from behind one) and the boxes where lost faces were, grown
        by `LOST_GROW`, are added. None: the whole frame (also with `changed_only` off once
        anything changed); (0, 4): nowhere (nothing changed)."""
        if self.cfg.still_change is None:
            return None
        diff = self._pending[slot].copy()
        scale = thumb_scale(diff.shape, image.shape)
        self._mask_tracked(diff, scale)
        cells = changed_cells(diff, self.cfg.still_change)
        cell = (scale[0] * CELL, scale[1] * CELL)
        if self._gone:
            cells |= box_mask(cells.shape, self._boxes([t.raw for t in self._gone]), cell, LOST_GROW)
        if not self.cfg.changed_only:
            return None if cells.any() else np.zeros((0, 4), np.float32)
        return search_regions(cells, cell, image.shape)

    def _mask_tracked(self, diff: np.ndarray, scale: tuple[float, float]) -> None:
        """Zero the difference map `diff` (`scale`: image pixels per pixel of it) over the tracked
        faces (boxes grown by a quarter): a tracked face moving is no new face. Not while a lost
        face may come back (it may come out from behind a tracked one)."""
        if not self._gone:
            diff[box_mask(diff.shape, self._boxes([t.raw for t in self._tracks]), scale)] = 0.0

    def _note_change(self, first: bool, image: np.ndarray) -> None:
        """On a periodic frame (or the first of a shot): add the thumbnail's change since the
        previous periodic frame, outside the tracked faces as they are now (a face that moves on
        leaves no change behind), to what each detector has to look at. After a shot's first
        frame, which the full detector searched whole, each quick detector that scans rotated
        frames (`_rotates`) has the whole frame to look at; an upright one, a cheaper look at what
        the full one just saw, has nothing."""
        thumb = self.cuts.thumb  # set by this frame's cut test
        if first:
            self._pending = [np.zeros_like(thumb)] + [np.full_like(thumb, 255.0 if _rotates(q) else 0.0)
                                                      for q in self.quick]
        else:
            change = np.abs(thumb - self._ref_thumb)
            self._mask_tracked(change, thumb_scale(change.shape, image.shape))
            for p in self._pending:
                np.maximum(p, change, out=p)
        self._ref_thumb = thumb

    def _merge(self) -> None:
        """Tracks that ended up on one face become one: the track that moved least this frame
        (relative to where its motion put it) stays; the other slid over from a face now hidden,
        so it is kept as lost (its face may come back within `max_gap`)."""
        if len(self._tracks) < 2:
            return
        boxes = self.model.box_from_landmarks(np.stack([t.raw for t in self._tracks]))
        same = self._same_face(boxes, boxes)
        order = sorted(range(len(self._tracks)), key=lambda k: (self._tracks[k].jump, self._tracks[k].id))
        keep: list[int] = []
        for k in order:
            if any(same[k, j] for j in keep):
                tr = self._tracks[k]
                tr.lost_at, tr.velocity = self._index - 1, 0.0
                self._gone.append(tr)
            else:
                keep.append(k)
        self._tracks = [self._tracks[k] for k in sorted(keep)]

    def step(self, image: np.ndarray, t: float, frame: int = -1) -> Faces:
        """Process the next frame (BGR image) at time `t` seconds, decode index `frame`: its faces
        (keypoints filtered unless `smooth` is off, track ids set), stamped with `frame` and `t`."""
        self.times = {"detect": 0.0, "landmarks": 0.0}
        cut = self.cuts.is_cut(image)
        if cut:
            self._tracks, self._gone = [], []
        self._gone = [t for t in self._gone if self._index - t.lost_at < self.cfg.max_gap]
        if self._tracks:
            kps, scores = self._predict_from_points(image, np.stack([tr.expected(self._index) for tr in self._tracks]))
            live = []
            for tr, k, s in zip(self._tracks, kps, scores):
                if s >= self.cfg.keep_score and np.isfinite(k).all():
                    tr.update(k, s, self._index, self.cfg.motion)
                    live.append(tr)
                else:
                    self._lost = True
                    tr.lost_at = self._index
                    self._gone.append(tr)
            self._tracks = live
        if self._gone and self.cfg.revive:
            self._revive(image)
        # search often while no face is tracked or a lost one may come back, unless none for long
        if cut or self._tracks or self._gone:
            self._seen = self._index
        busy = bool(self._tracks) and not self._gone  # faces tracked, none expected back
        patient = self.cfg.empty_patience is None or self._index - self._seen < self.cfg.empty_patience
        period = self.cfg.detect_every if busy or not patient else self.cfg.detect_every_empty
        on_period = self._index % period == 0
        first, self._fresh = cut or self._fresh, False
        if first or on_period:
            self._note_change(first, image)
        whole = first or self._lost or self._index % self.cfg.detect_max_every == 0
        slot = 0 if whole or not self.quick or self._index % (period * self.cfg.full_every) == 0 else \
            1 + self._index // (period * self.cfg.full_every) % len(self.quick)
        regions = None if whole or not on_period else self._search_regions(image, slot)
        detect = whole or (on_period and (regions is None or len(regions) > 0))
        self._index += 1
        if detect:
            self._lost = False
            self._detect(image, self.detector if slot == 0 else self.quick[slot - 1], regions)
            self._pending[slot][:] = 0.0
        self._merge()
        for tr in self._tracks:
            size = float(np.linalg.norm(tr.raw[45] - tr.raw[36])) or 1.0
            tr.smooth = tr.filt(tr.raw, t, scale=size) if self.cfg.smooth else tr.raw
        self.detected, self.cut = detect, cut
        if not self._tracks:
            return Faces.empty(frame, t)
        smooth = np.stack([tr.smooth for tr in self._tracks]).astype(np.float32)
        return Faces(self.model.box_from_landmarks(smooth), np.array([tr.score for tr in self._tracks]), smooth,
                     np.array([tr.id for tr in self._tracks]), frame, t)
