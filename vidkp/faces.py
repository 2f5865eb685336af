"""`Faces`: the one data type between pipeline stages: the faces of one frame, columnar and validated.

The detector makes it (boxes, scores), the landmark stage fills `keypoints`, the tracker sets
`track_ids`, the writer turns it into rows; `frame` and `timestamp` say which frame it belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

N_POINTS = 68


def _as(arr: np.ndarray | None, shape_tail: tuple[int, ...], dtype, name: str, n: int) -> np.ndarray:
    a = np.asarray(arr, dtype=dtype)
    expected = (n, *shape_tail)
    if a.shape != expected:
        raise ValueError(f"Faces.{name}: expected shape {expected}, got {a.shape}")
    return a


@dataclass(frozen=True)
class Faces:
    """Faces of one frame. Boxes are (x, y, w, h) in image pixels.

    `keypoints` is (n, 68, 2) in image pixels, NaN until a landmark stage fills it;
    `track_ids` is -1 until a tracker assigns ids; `frame` is the 0-based decode index of the
    frame (-1 when unknown) and `timestamp` its time in seconds (NaN when unknown). Stages return
    new objects.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray = field(default=None)  # type: ignore[assignment]
    track_ids: np.ndarray = field(default=None)  # type: ignore[assignment]
    frame: int = -1
    timestamp: float = float("nan")

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4) if np.size(self.boxes) else np.zeros((0, 4), np.float32)
        n = len(boxes)
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", _as(self.scores, (), np.float32, "scores", n))
        kp = np.full((n, N_POINTS, 2), np.nan, np.float32) if self.keypoints is None else self.keypoints
        object.__setattr__(self, "keypoints", _as(kp, (N_POINTS, 2), np.float32, "keypoints", n))
        ids = np.full(n, -1, np.int64) if self.track_ids is None else self.track_ids
        object.__setattr__(self, "track_ids", _as(ids, (), np.int64, "track_ids", n))
        object.__setattr__(self, "frame", int(self.frame))
        object.__setattr__(self, "timestamp", float(self.timestamp))

    @classmethod
    def empty(cls, frame: int = -1, timestamp: float = float("nan")) -> "Faces":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), frame=frame, timestamp=timestamp)

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> "Faces":
        """Select faces by boolean mask, integer array or slice."""
        return replace(self, boxes=self.boxes[index], scores=self.scores[index], keypoints=self.keypoints[index],
                       track_ids=self.track_ids[index])

    def with_keypoints(self, keypoints: np.ndarray, scores: np.ndarray | None = None) -> "Faces":
        return replace(self, scores=self.scores if scores is None else scores, keypoints=keypoints)

    def with_track_ids(self, track_ids: np.ndarray) -> "Faces":
        return replace(self, track_ids=track_ids)

    def at(self, frame: int, timestamp: float) -> "Faces":
        """The same faces, stamped with their frame index and time (seconds)."""
        return replace(self, frame=frame, timestamp=timestamp)
