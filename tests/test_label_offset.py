"""The labels' left-right offset: stored in the weights' metadata, added to x by `predict`."""
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests._data import data_dir
from training.dataset import make_splits
from training.label_offset import main, residuals, write_offset
from vidkp.landmarks import LandmarkModel, default_weights_path


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple:
    src = default_weights_path()
    if not src.is_file():
        pytest.skip(f"no shipped weights at {src}")
    with safe_open(str(src), "pt") as f:
        meta = {k: v for k, v in f.metadata().items() if not k.startswith("label_")}
    tmp = tmp_path_factory.mktemp("offset")
    plain, shifted = tmp / "plain.safetensors", tmp / "shifted.safetensors"
    save_file(load_file(str(src)), str(plain), metadata=meta)
    write_offset(plain, shifted, 1.234, {"test": True})
    return plain, shifted


def test_offset_travels_with_the_weights_and_moves_x_only(weights):
    plain, shifted = weights
    a, b = load_file(str(plain)), load_file(str(shifted))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    m0, m1 = LandmarkModel(plain), LandmarkModel(shifted)
    assert m0.label_x_offset == 0.0 and m1.label_x_offset == pytest.approx(1.23)
    image = np.random.default_rng(0).integers(0, 255, (160, 200, 3), np.uint8)
    boxes = np.array([[40, 30, 90, 90], [100, 50, 60, 70]], np.float32)
    for kw in ({}, {"mirror": True, "jitter": 0.08}):
        (p0, s0), (p1, s1) = m0.predict(image, boxes, **kw), m1.predict(image, boxes, **kw)
        np.testing.assert_allclose(p1 - p0, np.broadcast_to([1.23, 0.0], p0.shape), atol=1e-4)
        np.testing.assert_array_equal(s0, s1)


def test_residuals_are_measured_without_the_stored_offset(weights):
    data = make_splits(data_dir())["val"].subset(np.arange(0, 40, 8)).load_images()
    m0, m1 = LandmarkModel(weights[0]), LandmarkModel(weights[1])
    r0, r1 = residuals(m0, data), residuals(m1, data)
    assert r0.shape == (5, 2)
    np.testing.assert_allclose(r1, r0, atol=1e-4)
    assert m1.label_x_offset == pytest.approx(1.23)


def test_weights_trained_on_the_validation_people_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["unused-data-dir", "--weights", str(default_weights_path())])
    assert "trained on the validation people" in capsys.readouterr().err
