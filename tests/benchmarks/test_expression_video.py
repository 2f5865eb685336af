import numpy as np
import pytest

from benchmarks.expression_video import EYE_LEFT, EYE_RIGHT, expression_clip, eye_similarity, kept_share


def test_eye_similarity_puts_the_outer_eye_corners_in_place():
    pts = np.random.default_rng(0).uniform(0, 200, (68, 2))
    m = eye_similarity(pts)
    assert pts[[36, 45]] @ m[:, :2].T + m[:, 2] == pytest.approx(np.array([EYE_LEFT, EYE_RIGHT]))


def test_kept_share_is_the_slope_within_clips():
    y1, y2 = np.array([0.1, 0.3, 0.1, 0.3]), np.array([0.5, 0.9, 0.7])
    assert kept_share([0.5 * y1 + 2, 0.5 * y2 - 1], [y1, y2]) == pytest.approx(0.5)
    # a constant offset between clips is not a change the output keeps
    assert kept_share([np.full(4, 0.2), np.full(3, 0.7)], [y1, y2]) == pytest.approx(0.0)
    assert kept_share([np.array([0.1, np.nan, 0.1, 0.3])], [y1]) == pytest.approx(1.0)  # lost frames left out


def test_expression_clip_holds_each_frame_and_plays_back():
    rng = np.random.default_rng(1)
    frames = []
    for k in range(3):
        pts = rng.uniform(20, 100, (68, 2))
        frames.append((f"A_1{k}", np.full((120, 120, 3), 40 * k, np.uint8), pts))
    clip, last = expression_clip(frames, hold=4)
    assert len(clip.frames) == 4 * 5 and clip.points.shape == (20, 1, 68, 2)  # frames 0 1 2 1 0
    assert last.sum() == 5 and last[3] and not last[0]
    assert clip.frames[8].mean() == pytest.approx(80) and clip.frames[12].mean() == pytest.approx(40)
    assert clip.points[0, 0, [36, 45]] == pytest.approx(np.array([EYE_LEFT, EYE_RIGHT]), abs=1e-3)
