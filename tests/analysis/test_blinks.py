import numpy as np
import pandas as pd

from tests._tracks import tracks_from_points, with_eyes
from vidkp.analysis import blinks, openness
from vidkp.analysis.pose import project_reference

FPS = 30.0
FACE = project_reference(0.0, 0.2, 0.05, 600.0, (640, 480))


def _blinking(n: int, at: list[int], noise_px: float, seed: int, length: int = 6) -> np.ndarray:
    """Points of a still face (with Gaussian point noise) that blinks at frames `at`: the eyelid
    gap closes to 10% and reopens over `length` frames."""
    rng = np.random.default_rng(seed)
    open_ = np.ones(n)
    shape = 1 - 0.9 * np.sin(np.linspace(0, np.pi, length + 2)[1:-1])
    for a in at:
        open_[a:a + length] = shape
    kps = with_eyes(np.repeat(FACE[None], n, axis=0), open_)
    return kps + rng.normal(0, noise_px, kps.shape)


def test_openness_of_open_closed_eyes_and_mouth():
    closed = with_eyes(FACE[None], np.array([0.0]))
    o = openness(tracks_from_points(np.concatenate([FACE[None], closed])))
    assert 0.15 < o["eye_open"].iloc[0] < 0.5 and o["eye_open"].iloc[1] < 0.05
    assert np.allclose(o["eye_open"], (o["eye_open_left"] + o["eye_open_right"]) / 2)
    wide = FACE.copy()
    wide[[65, 66, 67], 1] += 20
    m = openness(tracks_from_points(np.stack([FACE, wide])))["mouth_open"].to_numpy()
    assert m[1] > m[0] + 0.2


def test_blinks_found_at_their_times_with_durations():
    at = [40, 130, 200, 290]
    t = tracks_from_points(_blinking(360, at, noise_px=0.15, seed=0), fps=FPS)
    ev = blinks(t)
    assert list(ev.columns) == ["video", "face_id", "start", "end", "duration", "start_frame", "end_frame", "depth"]
    assert len(ev) == len(at)
    assert np.all(np.abs(ev["start_frame"].to_numpy() - np.array(at)) <= 2)
    assert np.allclose(ev["duration"], ev["end"] - ev["start"])
    assert np.all((ev["duration"] > 2 / FPS) & (ev["duration"] < 7 / FPS))
    assert np.allclose(ev["start"], ev["start_frame"] / FPS)


def test_no_blinks_on_a_still_face_with_noise():
    for seed in range(3):
        t = tracks_from_points(_blinking(600, [], noise_px=0.4, seed=seed), fps=FPS)
        assert blinks(t).empty


def test_blinks_per_track_and_a_long_closure_is_not_a_blink():
    a = tracks_from_points(_blinking(300, [100], 0.15, 1), face_id=0)
    b = tracks_from_points(_blinking(300, [50, 200], 0.15, 2), face_id=4)
    closed = tracks_from_points(_blinking(300, [100], 0.15, 3, length=60), face_id=7)  # 2 s shut
    ev = blinks(pd.concat([a, b, closed], ignore_index=True))
    assert ev.groupby("face_id").size().to_dict() == {0: 1, 4: 2}


def test_thresholds_are_relative_to_each_tracks_baseline():
    """A face with narrow eyes (half the usual gap) blinks like any other."""
    narrow = with_eyes(_blinking(300, [150], 0.1, 4), np.full(300, 0.5))
    assert len(blinks(tracks_from_points(narrow))) == 1
