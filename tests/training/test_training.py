import json

import cv2
import numpy as np
import pytest
import torch

from training import transforms as T
from training.dataset import Samples
from training.train import batch_stream, create_net, epoch_batch, export, haar_batch, losses
from training import nets
from vidkp.landmarks.crop import CropSpec
from vidkp.landmarks import LandmarkModel
from vidkp.landmarks.shape import BoxRelation

REL = BoxRelation(dx=0.0, dy=-0.19, log_side=0.16, sd_x=0.11, sd_y=0.04, sd_log_side=0.08)


def _toy_faces(n: int, rng: np.random.Generator) -> Samples:
    """Dark ellipses with bright 'eyes' and 68 points on their outline and features."""
    imgs, kps = [], []
    for _ in range(n):
        img = np.full((160, 160, 3), 40, np.uint8)
        cx, cy, r = rng.uniform(70, 90), rng.uniform(70, 90), rng.uniform(35, 45)
        cv2.ellipse(img, (int(cx), int(cy)), (int(r), int(r * 1.2)), 0, 0, 360, (200, 200, 200), -1)
        for ex in (-0.4, 0.4):
            cv2.circle(img, (int(cx + ex * r), int(cy - 0.2 * r)), 4, (20, 20, 20), -1)
        a = np.linspace(0, 2 * np.pi, 68, endpoint=False)
        pts = np.stack([cx + 0.8 * r * np.cos(a), cy + 0.9 * r * np.sin(a)], 1)
        imgs.append(img)
        kps.append(pts)
    return Samples(root=None, names=[f"toy_{i}_00.jpg" for i in range(n)], splits=["training"] * n,
                   keypoints=np.asarray(kps, np.float32), images=imgs)


def test_tiny_training_run_lowers_the_loss():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = _toy_faces(8, rng)
    spec = CropSpec(size=32, scale=1.3)
    net = nets.create("kpnet", size=32, widths=(8, 16, 16, 32), hidden=32)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    cfg = T.AugmentConfig(jitter=0.5, rotate=3.0, negatives=0.25)
    first, last = [], []
    for step in range(40):
        srng = np.random.default_rng([0, step])
        crops, tgts, labels = haar_batch(data, srng.integers(0, 8, 16), REL, spec, srng, cfg, None)
        pl, sl = losses(net, crops, tgts, labels, "haar", spec.size)
        loss = pl + sl
        opt.zero_grad()
        loss.backward()
        opt.step()
        (first if step < 5 else last if step >= 35 else []).append(loss.item())
    assert np.mean(last) < 0.8 * np.mean(first)


def test_export_loads_through_landmark_model(tmp_path):
    kw = {"size": 32, "widths": [8, 16, 16, 32], "hidden": 32}
    net = nets.create("kpnet", **kw).eval()
    path = tmp_path / "w.safetensors"
    export(net, "kpnet", kw, CropSpec(size=32, scale=1.3), REL, path)
    model = LandmarkModel(path)
    assert model.spec.size == 32 and model.has_score and model.box_relation == REL
    img = np.zeros((100, 100, 3), np.uint8)
    kps, scores = model.predict(img, np.array([[20, 20, 50, 50]]))
    assert kps.shape == (1, 68, 2) and scores.shape == (1,)
    assert json.loads(json.dumps(model.box_from_landmarks(kps).tolist()))


def test_init_starts_from_given_weights_and_refuses_weights_of_another_net(tmp_path):
    kw = {"size": 32, "widths": [8, 16, 16, 32], "hidden": 32}
    trained = nets.create("kpnet", **kw)
    path = tmp_path / "w.safetensors"
    export(trained, "kpnet", kw, CropSpec(size=32, scale=1.3), REL, path)
    started = create_net("kpnet", kw, path).state_dict()
    assert all(torch.equal(v, started[k]) for k, v in trained.state_dict().items())
    fresh = create_net("kpnet", kw).state_dict()
    assert not all(torch.equal(v, fresh[k]) for k, v in trained.state_dict().items())
    with pytest.raises(ValueError, match="do not fit"):
        create_net("kpnet", {**kw, "hidden": 64}, path)


def test_batch_stream_gives_the_same_batches_with_worker_processes():
    data = _toy_faces(6, np.random.default_rng(1))
    spec = CropSpec(size=32, scale=1.3)

    def make(step: int):
        return haar_batch(data, epoch_batch(len(data), 4, step, 0), REL, spec, np.random.default_rng([0, step]),
                          T.AugmentConfig(), None)

    serial = list(batch_stream(make, 3, 12, workers=0))
    forked = list(batch_stream(make, 3, 12, workers=2))
    assert len(serial) == len(forked) == 9
    for a, b in zip(serial, forked):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(serial[0][0], serial[1][0])
