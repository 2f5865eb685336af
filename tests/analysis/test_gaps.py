import numpy as np
import pandas as pd
import pytest

from tests._tracks import tracks_from_points
from vidkp.analysis import fill_gaps
from vidkp.analysis.pose import project_reference


def _track(frames, face_id=0, every=1):
    kps = np.stack([project_reference(0, 0, 0, 700.0, (640, 480)) + [f, 0] for f in frames])
    return tracks_from_points(kps, face_id=face_id, frames=np.asarray(frames) * every)


def test_short_gaps_are_filled_linearly_and_long_gaps_stay_empty():
    frames = [0, 1, 2, 5, 6, 20, 21]  # a gap of 2 frames (3, 4) and one of 13 (7..19)
    out = fill_gaps(_track(frames), max_missing=5)
    assert out["frame"].tolist() == [0, 1, 2, 3, 4, 5, 6, 20, 21]
    assert out["filled"].tolist() == [False] * 3 + [True] * 2 + [False] * 4
    assert np.allclose(out["x_0"].to_numpy(), _track(out["frame"].tolist())["x_0"].to_numpy(), atol=1e-3)
    assert np.allclose(out["timestamp"], out["frame"] / 30.0)
    assert out["face_id"].dtype == np.int64 and out["x_0"].dtype == np.float32


def test_unlike_pandas_interpolate_limit_no_row_enters_a_long_gap():
    out = fill_gaps(_track([0, 10]), max_missing=5)
    assert out["frame"].tolist() == [0, 10]


def test_tracks_are_filled_separately_and_stride_of_every_is_respected():
    t = pd.concat([_track([0, 1, 4], face_id=0, every=3), _track([0, 4], face_id=1, every=3)], ignore_index=True)
    out = fill_gaps(t, max_missing=2)
    assert out[out.face_id == 0]["frame"].tolist() == [0, 3, 6, 9, 12]
    assert out[out.face_id == 1]["frame"].tolist() == [0, 12]  # 3 processed frames missing: left empty


def test_bad_max_missing_is_refused():
    with pytest.raises(ValueError, match="max_missing"):
        fill_gaps(_track([0, 2]), max_missing=-1)
