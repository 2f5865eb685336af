import numpy as np
import pandas as pd
import pytest

import vidkp.analysis  # noqa: F401 - registers the accessor
from tests._tracks import tracks_from_points, with_eyes
from vidkp.analysis import SUMMARY_COLUMNS, mean_shape, procrustes_align, summarize
from vidkp.analysis.pose import project_reference

SIZE = (640, 480)


def _face_track(n, yaw_deg, blink_at=(), face_id=0, video="v.mp4", talk=False):
    face = project_reference(0, np.radians(yaw_deg), 0, 700.0, SIZE)
    kps = np.repeat(face[None], n, axis=0)
    eyes = np.ones(n)
    for a in blink_at:
        eyes[a:a + 4] = 0.1
    kps = with_eyes(kps, eyes)
    if talk:
        kps[:, 65:68, 1] += 8 * (1 + np.sin(np.arange(n) / 3.0))[:, None]
    return tracks_from_points(kps + np.random.default_rng(face_id).normal(0, 0.1, kps.shape),
                              face_id=face_id, video=video)


def test_summary_per_track():
    t = pd.concat([_face_track(300, 20, blink_at=[60, 150, 240], face_id=0),
                   _face_track(150, -10, face_id=1, talk=True).query("frame % 10 != 5")], ignore_index=True)
    s = summarize(t, SIZE)
    assert list(s.columns) == SUMMARY_COLUMNS
    a, b = s.iloc[0], s.iloc[1]
    assert (a.face_id, b.face_id) == (0, 1)
    assert a.duration == pytest.approx(10.0) and a.coverage == 1.0 and a.rows == 300
    assert b.coverage == pytest.approx(135 / 150)
    assert np.degrees(a.pose_Ry) == pytest.approx(20, abs=1) and np.degrees(b.pose_Ry) == pytest.approx(-10, abs=1)
    assert (a.blinks, b.blinks) == (3, 0) and a.blink_rate == pytest.approx(18.0)
    assert b.mouth_activity > 5 * a.mouth_activity


def test_procrustes_removes_position_scale_and_rotation():
    face = project_reference(0, 0, 0, 700.0, SIZE)
    c = face.mean(0)
    rot = np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
    moved = (face - c) @ rot.T * 1.7 + c + [50, -20]
    other = face.copy()
    other[48:68, 1] += 10  # another shape: mouth lower
    t = tracks_from_points(np.stack([face, moved, other]))
    al = procrustes_align(t, reference=face)
    x = al[[f"x_{i}" for i in range(68)]].to_numpy()
    assert np.allclose(x[0], x[1], atol=1e-5)
    assert al["procrustes_distance"].iloc[1] < 1e-5 < 0.01 < al["procrustes_distance"].iloc[2]
    m = mean_shape(t)
    assert m.shape == (68, 2) and np.isclose(np.linalg.norm(m), 1.0) and np.allclose(m.mean(0), 0, atol=1e-9)


def test_accessor_matches_the_functions():
    t = _face_track(40, 15)
    assert t.vidkp.head_pose(SIZE).equals(vidkp.analysis.head_pose(t, SIZE))
    full = t.vidkp.analyse(SIZE)
    assert {"pose_Ry", "eye_open", "mouth_open"} <= set(full.columns) and len(full) == len(t)


def test_clear_errors_on_bad_input():
    with pytest.raises(TypeError, match="DataFrame"):
        summarize([1, 2, 3])
    with pytest.raises(ValueError, match="timestamp"):
        summarize(_face_track(5, 0).drop(columns=["timestamp"]))
