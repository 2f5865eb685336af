"""The shipped default weights: load, size, and sane predictions on real faces."""
import numpy as np
import pytest

from training.dataset import make_splits
from training.metrics import nme
from tests._data import data_dir
from vidkp.errors import ModelError
from vidkp.landmarker import FaceLandmarker
from vidkp.landmarks import LandmarkModel, default_weights_path
from vidkp.landmarks.shape import MIRROR_PERM

MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def model() -> LandmarkModel:
    path = default_weights_path()
    if not path.is_file():
        pytest.skip(f"no shipped weights at {path}")
    return LandmarkModel(path)


def test_shipped_weights_are_small_and_complete(model):
    assert model.path.stat().st_size <= MAX_BYTES
    assert model.has_score and model.box_relation is not None


@pytest.fixture(scope="module")
def holdout():
    return make_splits(data_dir())["holdout"].subset(np.arange(0, 622, 31))


def test_predicts_hold_out_faces_from_their_boxes(model, holdout):
    boxes = model.box_from_landmarks(holdout.keypoints)
    pred = np.stack([model.predict(holdout.image(i), boxes[i:i + 1])[0][0] for i in range(len(holdout))])
    scores = np.array([model.predict(holdout.image(i), boxes[i:i + 1])[1][0] for i in range(len(holdout))])
    e = nme(pred, holdout.keypoints)
    assert np.median(e) < 0.08, e
    assert (scores > 0.5).mean() > 0.9


def test_shipped_onnx_graph_runs_the_network_of_the_weights(model, holdout):
    """The ONNX graph shipped beside the weights is the safetensors network: same points and scores
    as eager PyTorch on the weights (and as a graph exported from them now)."""
    from training import nets

    torch_model = nets.landmark_model(model.path, "torch")
    assert LandmarkModel(model.path, threads=1).threads == 1
    boxes = model.box_from_landmarks(holdout.keypoints)
    for i in range(0, len(holdout), 5):
        img = holdout.image(i)
        both = np.stack([boxes[i], boxes[i] + [5, -3, 10, 10]])  # batch of two
        (p1, s1), (p2, s2) = model.predict(img, both, mirror=True), torch_model.predict(img, both, mirror=True)
        np.testing.assert_allclose(p1, p2, atol=0.01)
        np.testing.assert_allclose(s1, s2, atol=1e-4)


def test_missing_onnx_graph_names_the_export_command(model, tmp_path):
    import shutil

    alone = tmp_path / "alone.safetensors"
    shutil.copy(model.path, alone)
    with pytest.raises(ModelError, match="training.export"):
        LandmarkModel(alone)


def test_scores_reject_boxes_off_the_face(model, holdout):
    boxes = model.box_from_landmarks(holdout.keypoints)
    off = boxes.copy()
    off[:, 0] += 1.2 * boxes[:, 2]  # one and a bit box widths to the side
    scores = np.array([model.predict(holdout.image(i), off[i:i + 1])[1][0] for i in range(len(holdout))])
    assert (scores < 0.5).mean() > 0.8


def test_face_landmarker_finds_a_face_end_to_end(holdout):
    path = default_weights_path()
    if not path.is_file():
        pytest.skip(f"no shipped weights at {path}")
    lm = FaceLandmarker()
    faces = lm.detect(holdout.image(0))
    assert faces and faces[0].keypoints.shape == (68, 2)
    best = min(float(nme(f.keypoints[None], holdout.keypoints[:1])[0]) for f in faces)
    assert best < 0.15


def test_shift_limit_travels_with_the_weights(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file

    from training.export import save_checkpoint
    from vidkp.detect.candidates import shift_limit
    from vidkp.landmarks import MAX_SHIFT_ERROR

    src = default_weights_path()
    with safe_open(str(src), "pt") as f:
        meta = {k: v for k, v in f.metadata().items() if k not in ("max_shift_error", "refine")}
    plain, tuned = tmp_path / "plain.safetensors", tmp_path / "tuned.safetensors"
    save_checkpoint(load_file(str(src)), plain, meta)
    save_checkpoint(load_file(str(src)), tuned, {**meta, "max_shift_error": "0.123"})
    assert LandmarkModel(plain).max_shift_error == MAX_SHIFT_ERROR
    m = LandmarkModel(tuned)
    assert m.max_shift_error == pytest.approx(0.123)
    assert shift_limit(m, "auto") == pytest.approx(0.123)
    assert shift_limit(m, 0.05) == 0.05 and shift_limit(m, None) is None


def test_mirror_averaging_is_the_same_for_a_crop_and_its_mirror_image(model, holdout):
    """Flip test-time averaging predicts a crop and its mirror alike: the points of the mirrored
    crop are the mirror image of the crop's (catches a wrong point swap or pixel-centre offset)."""
    size = model.spec.size
    crops, _ = model.crops(holdout.image(1), model.box_from_landmarks(holdout.keypoints[1:2]))
    plain, _ = model.forward(crops)
    pts, scores = model.forward(crops, mirror=True)
    back, _ = model.forward(np.ascontiguousarray(crops[:, :, ::-1]), mirror=True)
    back = back[:, MIRROR_PERM]
    back[..., 0] = size - 1 - back[..., 0]
    np.testing.assert_allclose(back, pts, atol=1e-3)
    assert 0 < np.abs(pts - plain).mean() < 0.05 * size
    np.testing.assert_array_equal(scores, model.forward(crops)[1])


def test_jitter_averaging_averages_each_face_over_its_five_moved_boxes(model, holdout):
    """Each face's points are the mean of its predictions from the box as given and moved by
    `jitter` of its width right and left, of its height down and up; faces are not mixed (first
    stage: the refinement stage runs once, on the averaged points)."""
    img = holdout.image(2)
    box = model.box_from_landmarks(holdout.keypoints[2:3])[0]
    boxes = np.stack([box * [1, 1, 1.1, 0.9], box + [0.3 * box[2], 0, 0, 0]]).astype(np.float32)
    angles, d = np.array([5.0, -8.0]), 0.08
    pts, scores = model.predict(img, boxes, angles, mirror=True, jitter=d, refine=False)
    for i, (x, y, w, h) in enumerate(boxes):
        moved = np.array([[x, y], [x + d * w, y], [x - d * w, y], [x, y + d * h], [x, y - d * h]])
        each = [model.predict(img, np.array([[*m, w, h]], np.float32), angles[i:i + 1], mirror=True, refine=False)[0][0]
                for m in moved]
        np.testing.assert_allclose(pts[i], np.mean(each, axis=0), atol=1e-3)
    np.testing.assert_array_equal(scores, model.predict(img, boxes, angles)[1])
    assert np.abs(pts[0] - pts[1]).mean() > 0.1  # two different predictions: a mix-up would show


def test_jitter_outside_its_range_is_refused():
    from vidkp.detect.candidates import check_jitter
    from vidkp.errors import InputError

    with pytest.raises(InputError, match="some jitter"):
        check_jitter(0.5, "some jitter")
    if default_weights_path().is_file():
        with pytest.raises(InputError, match="jitter"):
            FaceLandmarker(jitter=-0.1)


def test_still_settings_live_in_one_config_and_keywords_override_it():
    from vidkp import StillConfig

    if not default_weights_path().is_file():
        pytest.skip("no shipped weights")
    base = StillConfig(mirror=False, jitter=0.0)
    lm = FaceLandmarker(config=base, accept_score=0.7)
    assert lm.config == StillConfig(accept_score=0.7, mirror=False, jitter=0.0)
    assert FaceLandmarker(fallback=False).fallback is None
    with pytest.raises(TypeError, match="unknown FaceLandmarker settings"):
        FaceLandmarker(mirorr=True)


def test_many_crops_run_in_bounded_batches_with_the_same_points(model):
    """More crops than MAX_BATCH (a photo of many faces) go through the network in several calls,
    each of at most MAX_BATCH crops, and give what one crop at a time gives."""
    from vidkp.landmarks import model as model_module

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (model_module.MAX_BATCH * 2 + 3, model.spec.size, model.spec.size), np.uint8)
    sizes = []
    network = model.network
    model.network = lambda x: sizes.append(len(x)) or network(x)
    try:
        pts, scores = model.forward(crops, mirror=True)
    finally:
        model.network = network
    assert max(sizes) == model_module.MAX_BATCH and sum(sizes) == 2 * len(crops)
    for i in (0, len(crops) - 1):
        one_pts, one_score = model.forward(crops[i:i + 1], mirror=True)
        assert np.allclose(pts[i], one_pts[0], atol=1e-3) and np.isclose(scores[i], one_score[0], atol=1e-5)


def test_shipped_refinement_moves_only_eyes_and_mouth_and_follows_the_mouth(model, holdout):
    """The shipped model refines (its metadata lists eye and mouth parts); refine=False is the first
    stage; only eye and mouth points differ, and the refined inner-lip gap follows the labels better."""
    from training.fidelity import measures
    from training.metrics import interocular
    from vidkp.landmarks.patches import LEFT_EYE, MOUTH, RIGHT_EYE

    assert set(model.refiner.networks) == {"eye", "mouth"}
    assert LandmarkModel(model.path, refine=False).refiner is None
    boxes = model.box_from_landmarks(holdout.keypoints)
    first = np.stack([model.predict(holdout.image(i), boxes[i:i + 1], refine=False)[0][0] for i in range(len(holdout))])
    refined = np.stack([model.predict(holdout.image(i), boxes[i:i + 1])[0][0] for i in range(len(holdout))])
    rest = np.setdiff1d(np.arange(68), np.r_[LEFT_EYE, RIGHT_EYE, MOUTH])
    np.testing.assert_allclose(refined[:, rest], first[:, rest], atol=1e-4)
    gap = lambda p: measures(p, interocular(p))["inner_lip_gap"]  # noqa: E731
    label = gap(holdout.keypoints)
    assert np.corrcoef(gap(refined), label)[0, 1] > np.corrcoef(gap(first), label)[0, 1] + 0.1
    assert nme(refined, holdout.keypoints).mean() < nme(first, holdout.keypoints).mean()
