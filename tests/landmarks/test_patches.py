"""The refinement stage's geometry: patches framed by the points, mirrored eyes, points mapped back."""
import numpy as np
import pytest

from vidkp.landmarks.patches import (LEFT_EYE, MOUTH, RIGHT_EYE, PatchSpec, cut, frame_matrices, frame_params,
                                     to_image, to_patch_units)
from vidkp.landmarks.refine import Refiner, ShapeGain
from vidkp.landmarks.shape import MIRROR_PERM

EYE = PatchSpec(size=32, side=0.6)


def patch_frames(kps: np.ndarray, part: np.ndarray, spec: PatchSpec, mirror: bool = False) -> np.ndarray:
    """Image->patch matrices of the `part` points of faces (n, 68, 2), as the Refiner frames them."""
    return frame_matrices(*frame_params(kps, part), spec, mirror)


def symmetric_face(angle_deg: float = 0.0, centre=(200.0, 150.0), scale: float = 1.0) -> np.ndarray:
    """68 points symmetric about x = 0 (a mean-like face), rotated and placed at `centre`."""
    rng = np.random.default_rng(3)
    half = rng.uniform(-60, 60, (68, 2))
    pts = half.copy()
    for a, b in [(a, b) for a, b in zip(range(68), MIRROR_PERM) if a < b]:
        pts[b] = pts[a] * [-1, 1]
    for i in np.flatnonzero(MIRROR_PERM == np.arange(68)):
        pts[i, 0] = 0.0
    pts[36], pts[45] = [-50, -20], [50, -20]
    pts[37:42] = pts[36] + rng.uniform([5, -8], [30, 8], (5, 2))
    pts[MIRROR_PERM[37:42]] = pts[37:42] * [-1, 1]
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (pts * scale) @ rot.T + centre


def test_patches_are_level_and_sized_by_the_eye_distance():
    for angle in (0.0, 25.0, -40.0):
        kps = symmetric_face(angle)[None]
        units = to_patch_units(kps[:, [36, 45]], patch_frames(kps, LEFT_EYE, EYE), EYE.size)[0]
        assert abs(units[0, 1] - units[1, 1]) < 1e-6  # eye corners level in the patch
        assert abs((units[1, 0] - units[0, 0]) - 1 / EYE.side) < 1e-6  # distance 1 / side patch sides


def test_mirrored_right_eye_looks_like_the_left_eye():
    kps = symmetric_face(15.0)[None]
    left = to_patch_units(kps[:, LEFT_EYE], patch_frames(kps, LEFT_EYE, EYE), EYE.size)
    right = to_patch_units(kps[:, RIGHT_EYE], patch_frames(kps, RIGHT_EYE, EYE, mirror=True), EYE.size)
    np.testing.assert_allclose(right, left, atol=1e-3)


def test_units_round_trip_to_image_pixels():
    kps = symmetric_face(-20.0, scale=0.7)[None]
    for part, mirror in ((LEFT_EYE, False), (RIGHT_EYE, True), (MOUTH, False)):
        mats = patch_frames(kps, part, EYE, mirror)
        back = to_image(to_patch_units(kps[:, part], mats, EYE.size), mats, EYE.size)
        np.testing.assert_allclose(back, kps[:, part], atol=1e-3)


def test_cut_gives_gray_patches_of_the_spec_size():
    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)
    mats = patch_frames(np.stack([symmetric_face(), symmetric_face(10.0)]), MOUTH, EYE)
    assert cut(image, mats, EYE.size).shape == (2, 32, 32)
    assert cut(image, mats[:0], EYE.size).shape == (0, 32, 32)


def test_colour_patches_are_bgr_and_gray_images_repeat_their_gray():
    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)
    mats = patch_frames(np.stack([symmetric_face(), symmetric_face(10.0)]), MOUTH, EYE)
    colour = cut(image, mats, EYE.size, colour=True)
    assert colour.shape == (2, 32, 32, 3) and colour.dtype == np.uint8
    np.testing.assert_array_equal(colour[..., 1], cut(image[..., 1].copy(), mats, EYE.size))  # each channel warped alike
    gray = cut(image[..., 0].copy(), mats, EYE.size, colour=True)
    assert (gray == gray[..., :1]).all()
    assert cut(image, mats[:0], EYE.size, colour=True).shape == (0, 32, 32, 3)


class Fixed:
    """A part network that outputs the same patch units for every patch."""

    def __init__(self, units: np.ndarray) -> None:
        self.units = units.reshape(1, -1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.repeat(self.units, len(x), axis=0)


def test_refiner_replaces_both_eyes_and_nothing_else():
    kps = symmetric_face(10.0)[None]
    moved = np.array([[0.05 * i, -0.02 * i] for i in range(6)])  # units the "network" puts the eye at
    out = Refiner({"eye": Fixed(moved)}, {"eye": EYE})(np.zeros((300, 400), np.uint8), kps)
    np.testing.assert_allclose(out[:, LEFT_EYE], to_image(moved[None], patch_frames(kps, LEFT_EYE, EYE), 32), atol=1e-3)
    np.testing.assert_allclose(out[:, RIGHT_EYE],
                               to_image(moved[None], patch_frames(kps, RIGHT_EYE, EYE, mirror=True), 32), atol=1e-3)
    rest = np.setdiff1d(np.arange(68), np.r_[LEFT_EYE, RIGHT_EYE])
    np.testing.assert_allclose(out[:, rest], kps[:, rest], atol=1e-4)


def test_shape_gain_moves_the_mean_shape_and_widens_its_deviations():
    rng = np.random.default_rng(0)
    pred_mean, label_mean = rng.normal(0, 0.1, (2, 6, 2))
    pred_mean, label_mean = pred_mean - pred_mean.mean(0), label_mean - label_mean.mean(0)
    gain = ShapeGain(pred_mean, label_mean, (1.0, 2.0))
    dev = rng.normal(0, 0.01, (4, 6, 2))
    dev -= dev.mean(axis=1, keepdims=True)
    centre = rng.normal(0, 0.05, (4, 1, 2))
    out = gain(centre + pred_mean + dev)
    np.testing.assert_allclose(out, centre + label_mean + dev * [1.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(out.mean(axis=1, keepdims=True), centre, atol=1e-12)  # the part stays where it was
    back = ShapeGain.from_json(gain.to_json())
    np.testing.assert_allclose(back(centre + pred_mean + dev), out, atol=1e-5)


def test_refiner_applies_a_part_gain_to_the_networks_points():
    kps = symmetric_face(10.0)[None]
    moved = np.array([[0.05 * i, -0.02 * i] for i in range(6)])
    gain = ShapeGain(np.zeros((6, 2)), np.full((6, 2), 0.01), (1.0, 3.0))
    refiner = Refiner({"eye": Fixed(moved)}, {"eye": EYE}, {"eye": gain})
    out = refiner(np.zeros((300, 400), np.uint8), kps)
    np.testing.assert_allclose(out[:, LEFT_EYE], to_image(gain(moved[None]), patch_frames(kps, LEFT_EYE, EYE), 32),
                               atol=1e-3)
    first = kps.astype(np.float64)
    mats = refiner.frames(first, "eye", both=True)
    units = refiner.units(np.zeros((300, 400), np.uint8), "eye", mats, refiner.points(first, "eye", both=True),
                          gain=False)
    np.testing.assert_allclose(units[0], moved, atol=1e-6)


def test_refiner_blends_the_first_stages_points_before_the_gain():
    """Weight w of the first stage: the output is (1 - w) x the network's + w x the framing points,
    in patch units, and the gain acts on that blend; w = 1 without a gain gives the first stage back."""
    kps = symmetric_face(10.0)[None]
    moved = np.array([[0.05 * i, -0.02 * i] for i in range(6)])
    image = np.zeros((300, 400), np.uint8)
    np.testing.assert_allclose(Refiner({"eye": Fixed(moved)}, {"eye": EYE}, blends={"eye": 1.0})(image, kps), kps,
                               atol=1e-3)
    gain = ShapeGain(np.zeros((6, 2)), np.zeros((6, 2)), (2.0, 3.0))
    out = Refiner({"eye": Fixed(moved)}, {"eye": EYE}, {"eye": gain}, {"eye": 0.25})(image, kps)
    mats = patch_frames(kps, LEFT_EYE, EYE)
    first = to_patch_units(kps[:, LEFT_EYE], mats, 32)
    np.testing.assert_allclose(out[:, LEFT_EYE], to_image(gain(0.75 * moved[None] + 0.25 * first), mats, 32), atol=1e-3)
    with pytest.raises(ValueError, match="blend"):
        Refiner({"eye": Fixed(moved)}, {"eye": EYE}, blends={"eye": 1.5})


def test_mirror_averaging_of_the_mouth_is_symmetric():
    """On a mirror-symmetric face a network that outputs the true points gives them back, both ways."""
    kps = symmetric_face(0.0)[None]
    spec = PatchSpec(size=40, side=1.0)
    truth = to_patch_units(kps[:, MOUTH], patch_frames(kps, MOUTH, spec), spec.size)[0]
    refiner = Refiner({"mouth": Fixed(truth)}, {"mouth": spec})
    image = np.zeros((300, 400), np.uint8)
    np.testing.assert_allclose(refiner(image, kps, mirror=True), kps, atol=1e-3)
    np.testing.assert_allclose(refiner(image, kps), kps, atol=1e-3)


def test_frames_are_the_crop_geometry_of_the_first_stage():
    """Each patch matrix is `crop_matrix` of the part's centre, side x eye distance and eye-line angle."""
    from vidkp.landmarks.crop import crop_matrix
    kps = np.stack([symmetric_face(a, scale=s) for a, s in ((0, 1), (30, 0.5), (-70, 2))])
    mats = patch_frames(kps, MOUTH, EYE)
    for m, c, d, a in zip(mats, *frame_params(kps, MOUTH)):
        np.testing.assert_allclose(m, crop_matrix(tuple(c), EYE.side * d, EYE.size, a), atol=1e-9)
