import numpy as np
import pytest

from training.fidelity import eye_aspect_ratio, fidelity, measures, pearson_and_spread, within_videos


def _face(lip_gap: float = 10.0, eye_open: float = 10.0, brow: float = 20.0) -> np.ndarray:
    """A schematic face (68, 2) in pixels: outer eye corners 100 px apart at y = 0, eyes 30 px wide."""
    p = np.zeros((68, 2))
    p[17:27] = np.stack([np.linspace(0, 100, 10), np.full(10, -brow)], axis=1)  # brows above the eyes
    for base, x0 in ((36, 0.0), (42, 70.0)):  # corners at x0 and x0 + 30, lids at thirds
        p[base], p[base + 3] = (x0, 0.0), (x0 + 30, 0.0)
        p[base + 1], p[base + 2] = (x0 + 10, -eye_open / 2), (x0 + 20, -eye_open / 2)
        p[base + 5], p[base + 4] = (x0 + 10, eye_open / 2), (x0 + 20, eye_open / 2)
    p[48], p[54] = (20.0, 80.0), (80.0, 80.0)
    p[50], p[52] = (40.0, 70.0 - lip_gap / 2), (60.0, 70.0 - lip_gap / 2)
    p[58], p[56] = (40.0, 90.0 + lip_gap / 2), (60.0, 90.0 + lip_gap / 2)
    p[62], p[66] = (50.0, 80.0 - lip_gap / 2), (50.0, 80.0 + lip_gap / 2)
    return p


def _rotate(p: np.ndarray, deg: float) -> np.ndarray:
    a = np.radians(deg)
    return p @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) + [300.0, 200.0]


def test_measures_are_the_named_distances_over_the_scale():
    m = measures(_face(lip_gap=10, eye_open=8, brow=20)[None], np.array([100.0]))
    assert m["inner_lip_gap"] == pytest.approx([0.10])
    assert m["outer_lip_height"] == pytest.approx([0.30])  # 20 px of lips plus the 10 px gap
    assert m["eye_opening"] == pytest.approx([0.08])
    assert m["mouth_width"] == pytest.approx([0.60])
    assert m["brow_raise"] == pytest.approx([0.20])


def test_brow_raise_is_signed_and_follows_the_eye_line_when_the_face_rolls():
    up, down = _face(brow=20), _face(brow=-5)
    for deg in (0, 30, 90, -60):
        m = measures(np.stack([_rotate(up, deg), _rotate(down, deg)]), np.array([100.0, 100.0]))
        assert m["brow_raise"] == pytest.approx([0.20, -0.05])


def test_eye_aspect_ratio_separates_open_from_closed_eyes():
    ear = eye_aspect_ratio(np.stack([_face(eye_open=10), _face(eye_open=3)]))
    assert ear == pytest.approx([10 / 30, 3 / 30])
    assert ear[0] > 0.2 > ear[1]


def test_pearson_and_spread_see_shrinkage_that_correlation_alone_hides():
    label = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    r, spread = pearson_and_spread(0.5 * label + 7, label)
    assert r == pytest.approx(1.0) and spread == pytest.approx(0.5)
    r, spread = pearson_and_spread(label[::-1].copy(), label)
    assert r == pytest.approx(-1.0) and spread == pytest.approx(1.0)
    assert np.isnan(pearson_and_spread(label[:2], label[:2])[0])
    r, spread = pearson_and_spread(np.full(5, 0.3), label)
    assert np.isnan(r) and spread == 0.0


def test_fidelity_of_a_mean_shape_predictor_and_of_a_perfect_one():
    rng = np.random.default_rng(0)
    gt = np.stack([_face(lip_gap=g, eye_open=e, brow=b) for g, e, b in
                   zip(rng.uniform(0, 30, 40), rng.uniform(2, 12, 40), rng.uniform(15, 30, 40))])
    perfect = fidelity(gt, gt)
    for name in ("inner_lip_gap", "outer_lip_height", "eye_opening", "brow_raise"):
        assert perfect[f"{name}_r"] == pytest.approx(1.0)
        assert perfect[f"{name}_spread"] == pytest.approx(1.0)
    assert perfect["closed_n"] == int((eye_aspect_ratio(gt) < 0.2).sum()) > 0
    assert perfect["closed_recall"] == 1.0
    halfway = 0.5 * gt + 0.5 * gt.mean(axis=0)  # shapes pulled half-way to the mean shape
    f = fidelity(halfway, gt)
    assert f["inner_lip_gap_r"] == pytest.approx(1.0)
    assert f["inner_lip_gap_spread"] == pytest.approx(0.5)
    assert f["closed_recall"] < 1.0
    assert perfect["closed_false"] == 0.0
    assert fidelity(0.0 * gt + _face(eye_open=3), gt)["closed_false"] == 1.0  # every eye called closed


def test_fidelity_measures_each_shape_over_its_own_eye_distance():
    gt = np.stack([_face(lip_gap=g) for g in (0.0, 5.0, 10.0, 20.0)])
    bigger = 1.5 * gt  # the same shapes, predicted 1.5x too large: the ratios are unchanged
    f = fidelity(bigger, gt)
    assert f["inner_lip_gap_spread"] == pytest.approx(1.0)
    assert np.isnan(f["mouth_width_r"])  # the labelled width does not vary: no r


def test_fidelity_leaves_out_faces_not_found():
    gt = np.stack([_face(lip_gap=g) for g in (0.0, 5.0, 10.0, 20.0)])
    pred = gt.copy()
    pred[3] = np.nan
    f = fidelity(pred, gt, found=np.array([True, True, True, False]))
    assert f["inner_lip_gap_r"] == pytest.approx(1.0)
    assert fidelity(pred, gt)["inner_lip_gap_spread"] == pytest.approx(1.0)  # NaN rows found-masked by default


def test_within_videos_scores_only_changes_inside_each_video():
    """Two videos whose mouths differ by identity (gaps around 5 and 25 px) and change by +-4 px inside:
    a prediction that knows each video's mean but keeps half of each change has slope 0.5 and r 1;
    a video with one frame counts for nothing."""
    gaps = {"a": [1.0, 5.0, 9.0], "b": [21.0, 25.0, 29.0], "c": [50.0]}
    videos = [v for v, g in gaps.items() for _ in g]
    label = np.stack([_face(lip_gap=g) for v in gaps for g in gaps[v]])
    half = np.stack([_face(lip_gap=np.mean(gaps[v]) + (g - np.mean(gaps[v])) / 2) for v in gaps for g in gaps[v]])
    w = within_videos(half, label, videos)
    assert w["inner_lip_gap_slope"] == pytest.approx(0.5)
    assert w["inner_lip_gap_r"] == pytest.approx(1.0)
    assert w["inner_lip_gap_spread"] == pytest.approx(0.5)
    assert within_videos(label, label, videos)["inner_lip_gap_slope"] == pytest.approx(1.0)
    lost = half.copy()
    lost[-1] = np.nan  # an unfound face leaves its video out, not the set
    assert within_videos(lost, label, videos)["inner_lip_gap_slope"] == pytest.approx(0.5)


def test_table_shows_within_video_shares_where_a_row_has_them():
    from training.fidelity import table

    label = np.stack([_face(lip_gap=g, eye_open=e) for g, e in ((4, 8), (10, 10), (16, 12), (6, 9))])
    row = {"model": "m", "set": "val", "setting": "s", "n": 4, **fidelity(label, label)}
    with_videos = {**row, **{f"within_{k}": v for k, v in within_videos(label, label, ["a", "a", "b", "b"]).items()}}
    single = {**row, **{f"within_{k}": v for k, v in within_videos(label, label, ["a", "b", "c", "d"]).items()}}
    lines = table([row, with_videos, single]).splitlines()
    assert lines[3].endswith("| - |") and lines[4].endswith("| 1.00 / 1.00 / 1.00 |")
    assert lines[5].endswith("| - |")  # no video with two frames: nothing to show
