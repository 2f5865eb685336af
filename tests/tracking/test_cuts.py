"""Scene-cut detection on synthetic shots and on the real clip."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidkp.tracking.cuts import CutDetector

CLIP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "videos" / "short_hamilton_clip.mp4"


def _shot(color: tuple[int, int, int], n: int, rng: np.random.Generator, pan: int = 0) -> list[np.ndarray]:
    base = np.zeros((180, 320, 3), np.uint8)
    base[:] = color
    cv2.circle(base, (160, 90), 50, (255 - color[0], 128, color[2] // 2), -1)
    out = []
    for i in range(n):
        f = np.roll(base, i * pan, axis=1).astype(np.int16) + rng.integers(-8, 9, base.shape)
        out.append(np.clip(f, 0, 255).astype(np.uint8))
    return out


def test_cuts_found_between_shots_not_within() -> None:
    rng = np.random.default_rng(0)
    frames = _shot((200, 40, 40), 10, rng, pan=3) + _shot((30, 180, 60), 10, rng) + _shot((20, 20, 220), 10, rng, pan=-4)
    det = CutDetector()
    cuts = [i for i, f in enumerate(frames) if det.is_cut(f)]
    assert cuts == [10, 20]


def test_reset_forgets_previous_frame() -> None:
    rng = np.random.default_rng(1)
    a, b = _shot((200, 40, 40), 1, rng)[0], _shot((20, 20, 220), 1, rng)[0]
    det = CutDetector()
    det.is_cut(a)
    det.reset()
    assert not det.is_cut(b)


@pytest.mark.skipif(not CLIP.exists(), reason=f"real clip not found at {CLIP} (../shared/data absent)")
def test_real_clip_has_exactly_its_three_cuts() -> None:
    cap = cv2.VideoCapture(str(CLIP))
    det, cuts, i = CutDetector(), [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if det.is_cut(frame):
            cuts.append(i)
        i += 1
    assert i == 275
    assert cuts == [20, 82, 211]
