import numpy as np
import torch

from training.train import OPENING_PAIRS, crop_units, opening_loss
from vidkp.landmarks.crop import CropSpec, apply_matrix, box_matrix, invert


def _target() -> torch.Tensor:
    rng = np.random.default_rng(0)
    return torch.from_numpy(rng.uniform(-0.3, 0.3, (4, 136)))


def test_opening_loss_ignores_where_the_face_is_but_not_how_open_it_is():
    t = _target()
    moved = (t.reshape(4, 68, 2) + torch.tensor([0.05, -0.02])).reshape(4, 136)
    assert opening_loss(moved, t).item() < 1e-9
    closed = t.clone().reshape(4, 68, 2)
    closed[:, 66] = closed[:, 62]  # inner lips shut
    assert opening_loss(closed.reshape(4, 136), t).item() > 0.1
    other = t.clone().reshape(4, 68, 2)
    other[:, 8] += 0.1  # the chin is in no pair
    assert opening_loss(other.reshape(4, 136), t).item() == 0.0
    assert all(a != b for a, b in OPENING_PAIRS["all"])
    assert opening_loss(closed.reshape(4, 136), t, pairs="eyes").item() < 1e-9  # lips are not in the eye pairs
    assert opening_loss(closed.reshape(4, 136), t, pairs="lips").item() > 0.1


def test_crop_units_are_the_network_output_units_of_the_crop():
    spec = CropSpec(size=80, scale=1.3, shift=0.0, gray=True)
    boxes = np.array([[40.0, 30.0, 100.0, 100.0], [0.0, 0.0, 50.0, 60.0]])
    pts = np.random.default_rng(1).uniform(0, 150, (2, 68, 2))
    u = crop_units(pts, boxes, spec)
    back = np.stack([apply_matrix((q + 0.5) * spec.size, invert(box_matrix(b, spec))) for q, b in zip(u, boxes)])
    assert np.allclose(back, pts)
    assert np.abs(crop_units(pts, boxes, spec)).max() > 0.5  # points outside the crop stay outside
