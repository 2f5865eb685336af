"""The labels' left-right offset: stored in the weights' metadata, added to x by `predict`."""
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from tests._data import data_dir
from training.dataset import make_splits
from training.export import save_checkpoint
from training.label_offset import main, residuals, write_offsets
from vidkp.landmarks import LandmarkModel, default_weights_path


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple:
    src = default_weights_path()
    if not src.is_file():
        pytest.skip(f"no shipped weights at {src}")
    with safe_open(str(src), "pt") as f:
        meta = {k: v for k, v in f.metadata().items() if not k.startswith("label_") and k != "refine"}
    tmp = tmp_path_factory.mktemp("offset")
    plain, shifted = tmp / "plain.safetensors", tmp / "shifted.safetensors"
    save_checkpoint(load_file(str(src)), plain, meta)
    write_offsets(plain, shifted, 1.234, -0.5, {"test": True})
    return plain, shifted


def test_offsets_travel_with_the_weights_and_move_x_only(weights):
    plain, shifted = weights
    a, b = load_file(str(plain)), load_file(str(shifted))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    m0, m1 = LandmarkModel(plain), LandmarkModel(shifted)
    assert m0.label_x_offset == m0.label_x_offset_mirror == 0.0
    assert (m1.label_x_offset, m1.label_x_offset_mirror) == (pytest.approx(1.23), pytest.approx(-0.5))
    image = np.random.default_rng(0).integers(0, 255, (160, 200, 3), np.uint8)
    boxes = np.array([[40, 30, 90, 90], [100, 50, 60, 70]], np.float32)
    for kw, dx in (({}, 1.23), ({"jitter": 0.08}, 1.23), ({"mirror": True}, -0.5), ({"mirror": True, "jitter": 0.08}, -0.5)):
        (p0, s0), (p1, s1) = m0.predict(image, boxes, **kw), m1.predict(image, boxes, **kw)
        np.testing.assert_allclose(p1 - p0, np.broadcast_to([dx, 0.0], p0.shape), atol=1e-4)
        np.testing.assert_array_equal(s0, s1)


def test_one_stored_offset_serves_both_kinds_of_points(tmp_path, weights):
    """Weights with only `label_x_offset` (written before mirror-averaged points had their own)."""
    with safe_open(str(weights[1]), "pt") as f:
        meta = {k: v for k, v in f.metadata().items() if k not in ("label_x_offset_mirror", "refine")}
    path = tmp_path / "one.safetensors"
    save_checkpoint(load_file(str(weights[1])), path, meta)
    m = LandmarkModel(path)
    assert m.label_x_offset == m.label_x_offset_mirror == pytest.approx(1.23)


def test_residuals_are_measured_without_the_stored_offset(weights):
    data = make_splits(data_dir())["val"].subset(np.arange(0, 40, 8)).load_images()
    m0, m1 = LandmarkModel(weights[0]), LandmarkModel(weights[1])
    for mirror in (False, True):
        r0, r1 = residuals(m0, data, mirror), residuals(m1, data, mirror)
        assert r0.shape == (5, 2)
        np.testing.assert_allclose(r1, r0, atol=1e-4)
    assert (m1.label_x_offset, m1.label_x_offset_mirror) == (pytest.approx(1.23), pytest.approx(-0.5))


def test_weights_trained_on_the_validation_people_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["unused-data-dir", "--weights", str(default_weights_path())])
    assert "trained on the validation people" in capsys.readouterr().err
