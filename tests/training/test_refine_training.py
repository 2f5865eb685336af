"""training.refine: part networks learn, save as checkpoints the runtime loads, and only move their points."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.training.test_training import REL, _toy_faces
from training import nets
from training.dataset import person_folds
from training.export import add_metadata
from training.refine import (ARCH, RECIPES, FrameNoise, assemble, fit_gain, install, part_loss, same_video, sample_batch,
                             save_part, train_part)
from training.train import export
from training.transforms import NO_AUGMENT
from vidkp.errors import ModelError
from vidkp.landmarks import LandmarkModel, read_metadata
from vidkp.landmarks.crop import CropSpec
from vidkp.landmarks.patches import LEFT_EYE, MOUTH, RIGHT_EYE
from vidkp.landmarks.refine import part_path


def part_net(name: str) -> torch.nn.Module:
    return nets.create(ARCH, **RECIPES[name].arch_kwargs)


def test_samples_are_patches_with_targets_inside():
    data = _toy_faces(4, np.random.default_rng(0))
    x, y = sample_batch(data, np.arange(4), "mouth", np.random.default_rng(1), FrameNoise(), NO_AUGMENT)
    assert x.shape == (4, 40, 40) and x.dtype == np.uint8 and y.shape == (4, 20, 2)
    _, still = sample_batch(data, np.arange(4), "eye", np.random.default_rng(1), FrameNoise(0, 0, 0), NO_AUGMENT)
    np.testing.assert_allclose(still.mean(axis=1), 0, atol=1e-5)  # unperturbed: centred on the part
    assert np.abs(y.mean(axis=1)).max() > 1e-3  # perturbed frames move it


def test_a_colour_part_trains_saves_and_runs_on_bgr_patches(tmp_path, monkeypatch):
    """`PatchSpec.colour`: the part sees BGR patches in training and at run time (ONNX input with 3 channels)."""
    from dataclasses import replace

    r = RECIPES["mouth"]
    monkeypatch.setitem(RECIPES, "mouth", replace(r, spec=replace(r.spec, colour=True),
                                                  arch_kwargs={**r.arch_kwargs, "channels": 3}))
    data = _toy_faces(4, np.random.default_rng(0))
    x, _ = sample_batch(data, np.arange(4), "mouth", np.random.default_rng(1), FrameNoise(), NO_AUGMENT)
    assert x.shape == (4, 40, 40, 3)
    path = assembled(tmp_path)
    assert LandmarkModel(path).refiner.specs["mouth"].colour
    assert json.loads(read_metadata(part_path(path, "mouth"))["crop"])["gray"] is False
    image = np.random.default_rng(0).integers(0, 255, (120, 120, 3), np.uint8)
    box = np.array([[30, 30, 50, 50]], np.float32)
    plain, _ = LandmarkModel(path).predict(image, box, refine=False)
    refined, _ = LandmarkModel(path).predict(image, box)
    assert np.abs(refined[:, MOUTH] - plain[:, MOUTH]).max() > 1e-3
    LandmarkModel(path).predict(image[..., 0].copy(), box)  # a gray frame feeds the colour part too


def test_opening_term_penalises_a_closed_prediction_of_an_open_mouth():
    target = torch.zeros(1, 20, 2)
    target[0, 14, 1], target[0, 18, 1] = -0.1, 0.1  # inner-lip middles 62 and 66 apart
    closed = torch.zeros(1, 40)
    pairs = ((14, 18),)
    assert part_loss(closed, target, pairs, 1.0) > part_loss(closed, target, pairs, 0.0)
    assert part_loss(target.reshape(1, 40), target, pairs, 1.0) == 0


def test_short_training_lowers_the_loss():
    data = _toy_faces(8, np.random.default_rng(0))
    rng = np.random.default_rng(5)
    still = FrameNoise(0.0, 0.0, 0.0)
    x, y = sample_batch(data, np.arange(8), "eye", rng, still, NO_AUGMENT)
    before = part_net("eye").eval()
    after = train_part(data, "eye", 150, 16, 5e-3, 0, 1.0, still, NO_AUGMENT, loss_kind="wing")
    xt, yt = torch.from_numpy(x.astype(np.float32)[:, None] / 255), torch.from_numpy(y)
    with torch.no_grad():
        assert part_loss(after(xt), yt, (), 0) < 0.8 * part_loss(before(xt), yt, (), 0)


def test_same_video_lists_the_other_frames_of_each_video():
    names = ["Ann_Lee_10.jpg", "Ann_Lee_12.jpg", "Ann_Lee_20.jpg", "Bo_Li_31.jpg", "Ann_Lee_14.jpg"]
    others = same_video(names)
    assert [sorted(o.tolist()) for o in others] == [[1, 4], [0, 4], [], [], [0, 1]]


def test_pair_training_runs_on_frames_of_one_video_and_learns():
    data = _toy_faces(8, np.random.default_rng(0))
    data.names = [f"toy_{i // 2}_0{i % 2}.jpg" for i in range(8)]  # four videos of two frames
    still = FrameNoise(0.0, 0.0, 0.0)
    x, y = sample_batch(data, np.arange(8), "eye", np.random.default_rng(5), still, NO_AUGMENT)
    xt, yt = torch.from_numpy(x.astype(np.float32)[:, None] / 255), torch.from_numpy(y)
    torch.manual_seed(0)
    before = part_net("eye").eval()  # the network train_part starts from (seed 0)
    after = train_part(data, "eye", 300, 16, 5e-3, 0, 1.0, still, NO_AUGMENT, loss_kind="wing", pair_weight=1.0)
    with torch.no_grad():
        assert part_loss(after(xt), yt, (), 0) < 0.9 * part_loss(before(xt), yt, (), 0)  # 0.77-0.83 by thread count


def assembled(tmp_path: Path, seed: int = 1) -> Path:
    """A tiny first stage with untrained eye and mouth parts (initialised from `seed`), assembled in `tmp_path`."""
    kw = {"size": 32, "widths": [8, 16, 16, 32], "hidden": 32}
    first = tmp_path / "first.safetensors"
    export(nets.create("kpnet", **kw).eval(), "kpnet", kw, CropSpec(size=32, scale=1.3), REL, first)
    for name in ("eye", "mouth"):
        torch.manual_seed(seed)
        save_part(part_net(name).eval(), name, tmp_path / f"landmarks.{name}.safetensors", {})
    return assemble(first, tmp_path / "landmarks.safetensors", ["eye", "mouth"])


def test_assembled_model_refines_only_eyes_and_mouth(tmp_path):
    path = assembled(tmp_path)
    model = LandmarkModel(path)
    assert set(model.refiner.networks) == {"eye", "mouth"}
    image = np.random.default_rng(0).integers(0, 255, (120, 120, 3), np.uint8)
    box = np.array([[30, 30, 50, 50]], np.float32)
    plain, s0 = model.predict(image, box, refine=False)
    refined, s1 = model.predict(image, box)
    parts = np.r_[LEFT_EYE, RIGHT_EYE, MOUTH]
    rest = np.setdiff1d(np.arange(68), parts)
    np.testing.assert_allclose(refined[:, rest], plain[:, rest], atol=1e-4)
    np.testing.assert_array_equal(s0, s1)
    assert np.abs(refined[:, parts] - plain[:, parts]).max() > 1e-3
    np.testing.assert_allclose(model.refine(image, plain), refined, atol=1e-4)


def test_fitted_gains_are_centred_shapes_that_the_runtime_loads(tmp_path):
    path = assembled(tmp_path)
    data = _toy_faces(6, np.random.default_rng(2))
    data.names = [f"toy_{i // 2}_0{i % 2}.jpg" for i in range(6)]  # three videos of two frames
    gains = fit_gain(path, data)
    assert set(gains) == {"eye", "mouth"}
    for name, k in (("eye", 6), ("mouth", 20)):
        g = gains[name]
        assert g.pred_mean.shape == g.label_mean.shape == (k, 2)
        np.testing.assert_allclose(g.label_mean.mean(axis=0), 0, atol=1e-9)  # centred shapes
        assert g.scale.shape == (k, 2) and np.isfinite(g.scale).all() and g.scale.min() > 0
        add_metadata(part_path(path, name), part_path(path, name), {"gain": g.to_json()})
    assert (gains["eye"].scale[:, 0] == 1).all()  # no eye measure runs along the eye line
    inner, outer = gains["mouth"].scale[12:, 1], gains["mouth"].scale[:12, 1]
    assert np.ptp(inner) == 0 and np.ptp(outer) == 0  # one scale per lip group
    loaded = LandmarkModel(path).refiner.gains
    np.testing.assert_allclose(loaded["mouth"].label_mean, gains["mouth"].label_mean, atol=1e-5)


def test_a_gain_fitted_within_videos_matches_how_one_face_changes(tmp_path, monkeypatch):
    from dataclasses import replace

    path = assembled(tmp_path)
    data = _toy_faces(8, np.random.default_rng(2))
    data.names = [f"toy_{i // 2}_0{i % 2}.jpg" for i in range(8)]  # four videos of two frames
    assert RECIPES["mouth"].gain_spread == "videos" and RECIPES["eye"].gain_spread == "faces"
    videos = fit_gain(path, data)
    monkeypatch.setitem(RECIPES, "mouth", replace(RECIPES["mouth"], gain_spread="faces"))
    faces = fit_gain(path, data)
    np.testing.assert_array_equal(videos["eye"].scale, faces["eye"].scale)  # the eye's recipe says faces in both
    assert np.isfinite(videos["mouth"].scale).all() and not np.allclose(videos["mouth"].scale, faces["mouth"].scale)
    monkeypatch.setitem(RECIPES, "mouth", replace(RECIPES["mouth"], gain_spread="videos"))
    data.names = [f"toy_{i}_00.jpg" for i in range(8)]  # every video one frame: nothing to fit within
    with pytest.raises(ValueError, match="within-video gain needs videos"):
        fit_gain(path, data)


def test_out_of_fold_gains_keep_the_mean_shapes_and_take_the_spread_from_the_fold_models(tmp_path):
    """`fit_gain(folds=...)`: mean shapes from the model itself; spreads from each fold's points as
    predicted by that fold's model (here the same first stage with parts whose heatmaps are peaky,
    so that their points move with the image far more than the untrained parts' do)."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    path, other = assembled(tmp_path / "a"), assembled(tmp_path / "b")
    for name in ("eye", "mouth"):
        torch.manual_seed(1)
        net = part_net(name)
        with torch.no_grad():
            net.fuse[-1].weight.mul_(200.0), net.fuse[-1].bias.mul_(200.0)
        save_part(net.eval(), name, part_path(other, name), {})
    other = assemble(path.with_name("first.safetensors"), other, ["eye", "mouth"])  # path's first stage
    data = _toy_faces(8, np.random.default_rng(2))
    data.names = [f"toy_{i // 2}_0{i % 2}.jpg" for i in range(8)]  # four people, one video of two frames each
    folds = person_folds(data.names, 2)
    inside = fit_gain(path, data)
    self_folds = fit_gain(path, data, [(path, held) for held in folds])
    outside = fit_gain(path, data, [(other, held) for held in folds])
    for name in ("eye", "mouth"):
        for g in (self_folds[name], outside[name]):
            np.testing.assert_array_equal(g.pred_mean, inside[name].pred_mean)
            np.testing.assert_array_equal(g.label_mean, inside[name].label_mean)
        assert (outside[name].scale[:, 1] < 0.5 * inside[name].scale[:, 1]).all()  # wider points, smaller gain


def test_a_part_blend_is_loaded_from_its_metadata_and_fitted_alike_by_the_fold_models(tmp_path):
    """Blend weight 1 in the parts' metadata: refined points are the first stage's, and an out-of-fold
    fit through fold models with other networks (and no blend of their own) equals one through the
    model itself, because the fold models are blended as the model is and the networks no longer count."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    path, other = assembled(tmp_path / "a"), assembled(tmp_path / "b")
    other = assemble(path.with_name("first.safetensors"), other, ["eye", "mouth"])  # path's first stage
    for name in ("eye", "mouth"):
        add_metadata(part_path(path, name), part_path(path, name), {"blend": "1.0"})
    model = LandmarkModel(path)
    assert model.refiner.blends == {"eye": 1.0, "mouth": 1.0}
    image = np.random.default_rng(0).integers(0, 255, (120, 120, 3), np.uint8)
    box = np.array([[30, 30, 50, 50]], np.float32)
    np.testing.assert_allclose(model.predict(image, box)[0], model.predict(image, box, refine=False)[0], atol=1e-3)
    data = _toy_faces(8, np.random.default_rng(2))
    data.names = [f"toy_{i // 2}_0{i % 2}.jpg" for i in range(8)]
    folds = person_folds(data.names, 2)
    itself = fit_gain(path, data, [(path, held) for held in folds])
    outside = fit_gain(path, data, [(other, held) for held in folds])
    for name in ("eye", "mouth"):
        np.testing.assert_allclose(outside[name].scale, itself[name].scale, rtol=1e-6)


def test_a_missing_part_file_is_refused(tmp_path):
    kw = {"size": 32, "widths": [8, 16, 16, 32], "hidden": 32}
    first = tmp_path / "first.safetensors"
    export(nets.create("kpnet", **kw).eval(), "kpnet", kw, CropSpec(size=32, scale=1.3), REL, first)
    with pytest.raises(FileNotFoundError, match="part checkpoints missing"):
        assemble(first, tmp_path / "landmarks.safetensors", ["eye"])
    path = assemble(first, tmp_path / "landmarks.safetensors", [])
    save_part(part_net("eye").eval(), "eye", part_path(path, "eye"), {})
    assemble(first, path, ["eye"])
    part_path(path, "eye").unlink()
    with pytest.raises(ModelError, match="refinement weights not found"):
        LandmarkModel(path)


def test_install_adds_parts_to_those_already_listed(tmp_path):
    kw = {"size": 32, "widths": [8, 16, 16, 32], "hidden": 32}
    target = tmp_path / "model.safetensors"
    export(nets.create("kpnet", **kw).eval(), "kpnet", kw, CropSpec(size=32, scale=1.3), REL, target)
    out = tmp_path / "run"
    out.mkdir()
    for name in ("eye", "mouth"):
        save_part(part_net(name).eval(), name, out / f"landmarks.{name}.safetensors", {})
    install(out, ["mouth"], target)
    install(out, ["eye"], target)
    assert json.loads(read_metadata(target)["refine"]) == ["mouth", "eye"]
    assert set(LandmarkModel(target).refiner.networks) == {"eye", "mouth"}


def test_heatmap_loss_is_least_for_a_peak_at_the_target():
    from training.refine import heatmap_loss

    grid = part_net("eye").grid
    k = len(grid)

    def bump(col: int, row: int) -> torch.Tensor:
        d2 = (torch.arange(k)[None, :] - col) ** 2 + (torch.arange(k)[:, None] - row) ** 2
        m = torch.exp(-0.5 * d2.float())
        return (m / m.sum())[None, None]

    target = torch.tensor([[[float(grid[5]), float(grid[9])]]])
    uniform = torch.full((1, 1, k, k), 1.0 / k ** 2)
    at, near, far = (heatmap_loss(bump(c, r), target, grid) for c, r in ((5, 9), (7, 9), (13, 2)))
    assert at < near < far and at < heatmap_loss(uniform, target, grid) < far
