import numpy as np

from vidkp.landmarks.crop import CropSpec, apply_matrix, box_matrix, invert, warp
from vidkp.landmarks.shape import BoxRelation, box_from_landmarks, landmark_frame


def test_box_matrix_round_trip():
    spec = CropSpec(size=64, scale=1.3, shift=0.1)
    m = box_matrix(np.array([40.0, 30.0, 100.0, 90.0]), spec, angle_deg=17.0)
    pts = np.random.default_rng(0).uniform(0, 200, (68, 2))
    back = apply_matrix(apply_matrix(pts, m), invert(m))
    assert np.abs(back - pts).max() < 1e-9


def test_box_centre_maps_to_crop_centre_and_side_to_size():
    spec = CropSpec(size=64, scale=1.5, shift=0.0)
    m = box_matrix(np.array([10.0, 20.0, 80.0, 80.0]), spec)
    assert np.allclose(apply_matrix(np.array([50.0, 60.0]), m), [32, 32])
    a, b = apply_matrix(np.array([[10.0, 60.0], [130.0, 60.0]]), m)
    assert np.isclose(b[0] - a[0], 64.0 * 120 / (1.5 * 80))


def test_warp_moves_a_mark_where_the_matrix_says():
    img = np.zeros((200, 200), np.uint8)
    img[120, 70] = 255
    m = box_matrix(np.array([50.0, 50.0, 100.0, 100.0]), CropSpec(size=100, scale=1.0))
    crop = warp(img, m, 100)
    y, x = np.unravel_index(np.argmax(crop), crop.shape)
    assert np.allclose(apply_matrix(np.array([70.0, 120.0]), m), [x, y], atol=0.51)


def test_box_from_landmarks_follows_relation():
    rel = BoxRelation(dx=0.0, dy=-0.2, log_side=np.log(1.2), sd_x=0.1, sd_y=0.05, sd_log_side=0.1)
    kps = np.random.default_rng(1).uniform(100, 200, (3, 68, 2))
    c, s = landmark_frame(kps)
    boxes = box_from_landmarks(kps, rel)
    assert boxes.shape == (3, 4)
    assert np.allclose(boxes[:, 0] + boxes[:, 2] / 2, c[:, 0], atol=1e-3)
    assert np.allclose(boxes[:, 1] + boxes[:, 3] / 2, c[:, 1] - 0.2 * s, atol=1e-3)
    assert np.allclose(boxes[:, 2], 1.2 * s, rtol=1e-5)
    jittered = box_from_landmarks(kps, rel, np.tile([1.0, 0.0, 0.0], (3, 1)))
    assert np.allclose(jittered[:, 0] - boxes[:, 0], 0.1 * s, atol=1e-3)
