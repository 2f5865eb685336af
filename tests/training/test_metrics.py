import numpy as np

from training.metrics import nme, summarize


def _face() -> np.ndarray:
    gt = np.zeros((1, 68, 2))
    gt[0, :, 0] = np.linspace(0, 10, 68)
    gt[0, 36], gt[0, 45] = (0.0, 0.0), (10.0, 0.0)
    return gt


def test_nme_is_mean_error_over_outer_eye_distance():
    gt = _face()
    assert np.allclose(nme(gt + [1.0, 0.0], gt), [0.1])
    pred = gt.copy()
    pred[0, :34] += [0.0, 2.0]  # half the points off by 2 -> mean error 1
    assert np.allclose(nme(pred, gt), [0.1])
    assert np.allclose(nme(gt, gt), [0.0])


def test_summary_counts_missed_faces_as_failures():
    gt = np.concatenate([_face()] * 4)
    pred = gt.copy()
    pred[1] += [0.5, 0.0]   # 5%
    pred[2] += [1.5, 0.0]   # 15%: a failure
    found = np.array([True, True, True, False])
    s = summarize(pred, gt, found)
    assert np.isclose(s["mean"], (0 + 0.05 + 0.15) / 3)
    assert np.isclose(s["median"], 0.05)
    assert np.isclose(s["failure"], 2 / 4)
    assert np.isclose(s["found"], 0.75)
    assert np.isclose(s["eyes"], s["mean"])
