import numpy as np

from training import transforms as T
from vidkp.landmarks.crop import CropSpec
from vidkp.landmarks.shape import MIRROR_PAIRS, MIRROR_PERM, BoxRelation

REL = BoxRelation(dx=0.0, dy=-0.19, log_side=0.16, sd_x=0.11, sd_y=0.04, sd_log_side=0.08)
GEOMETRY_ONLY = T.AugmentConfig(jitter=2.0, scale=0.1, rotate=15.0, flip=0.5, colour=0.0, brightness=0.0,
                                contrast=0.0, gamma=0.0, blur=0.0, lowres=0.0, noise=0.0, jpeg=0.0)


def _marked_image(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A gray-on-black image with a Gaussian blob at each of 68 well-separated points."""
    gy, gx = np.mgrid[0:8, 0:9]
    pts = np.stack([gx.ravel(), gy.ravel()], 1)[:68] * 16.0 + 80 + rng.uniform(-2, 2, (68, 2))
    yy, xx = np.mgrid[0:300, 0:300]
    img = np.zeros((300, 300), np.float64)
    for x, y in pts:
        img += np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.2 ** 2))
    img = np.clip(img * 255, 0, 255).astype(np.uint8)
    return np.dstack([img] * 3), pts


def _centroid(crop: np.ndarray, p: np.ndarray, r: int = 2) -> np.ndarray:
    x0, y0 = int(round(p[0])), int(round(p[1]))
    win = crop[y0 - r:y0 + r + 1, x0 - r:x0 + r + 1].astype(np.float64)
    yy, xx = np.mgrid[y0 - r:y0 + r + 1, x0 - r:x0 + r + 1]
    return np.array([(win * xx).sum(), (win * yy).sum()]) / win.sum()


def test_keypoints_follow_the_image_under_geometric_augmentation():
    rng = np.random.default_rng(0)
    img, kps = _marked_image(rng)
    spec = CropSpec(size=128, scale=1.3)
    for _ in range(8):
        crop, tgt = T.positive(img, kps, REL, spec, rng, GEOMETRY_ONLY)
        px = (tgt + 0.5) * spec.size
        inside = np.all((px > 4) & (px < spec.size - 5), axis=1)
        assert inside.sum() > 30
        errs = [np.linalg.norm(_centroid(crop, p) - p) for p in px[inside]]
        assert np.max(errs) < 0.3, np.max(errs)


def test_flip_permutation_is_a_mirror_involution():
    assert np.array_equal(MIRROR_PERM[MIRROR_PERM], np.arange(68))
    for a, b in [(0, 16), (36, 45), (39, 42), (17, 26), (48, 54), (31, 35), (60, 64)]:
        assert MIRROR_PERM[a] == b
    for fixed in (8, 27, 30, 33, 51, 57, 62, 66):
        assert MIRROR_PERM[fixed] == fixed


def test_flip_keeps_left_right_semantics():
    """A face whose mirror pairs satisfy x[a] < x[b] still does after a flipped crop."""
    kps = np.zeros((68, 2))
    kps[:, 1] = np.linspace(60, 200, 68)
    kps[:, 0] = 150.0
    for a, b in MIRROR_PAIRS:
        d = 10 + a % 7 * 5
        kps[a, 0], kps[b, 0] = 150 - d, 150 + d
    img = np.zeros((300, 300, 3), np.uint8)
    cfg = T.AugmentConfig(jitter=0, scale=0, rotate=0, flip=1.0)
    _, tgt = T.positive(img, kps, REL, CropSpec(size=64, scale=1.3), np.random.default_rng(0), cfg)
    for a, b in MIRROR_PAIRS:
        assert tgt[a, 0] < tgt[b, 0]


def test_photometric_keeps_shape_and_type():
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    cfg = T.AugmentConfig(blur=1.0, lowres=1.0, noise=1.0, jpeg=1.0)
    out = T.photometric(crop, rng, cfg)
    assert out.shape == (64, 64) and out.dtype == np.uint8
    out = T.photometric(crop, rng, T.AugmentConfig(**{**cfg.__dict__, "desaturate": 0.0}), colour=True)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8 and (out != out[..., :1]).any()
    gray = T.photometric(crop, rng, T.AugmentConfig(**{**cfg.__dict__, "desaturate": 1.0}), colour=True)
    assert (gray == gray[..., :1]).all()


def test_negative_boxes_miss_the_face():
    rng = np.random.default_rng(0)
    img, kps = _marked_image(rng)
    face = T.box_from_landmarks(kps, REL)[0]
    for _ in range(50):
        b = T.negative_box(img.shape, kps, REL, rng)
        off = np.hypot(*(b[:2] + b[2:] / 2 - face[:2] - face[2:] / 2)) / face[2]
        ratio = b[2] / face[2]
        assert off > 0.45 or ratio < 0.5 or ratio > 2.5


def test_erase_paints_one_rectangle_and_off_draws_nothing():
    """`erase` (occlusion) paints over one rectangle of 15-40% of the side and moves no keypoint;
    at 0 it takes no random draw, so the recipe's batches stay those it was trained on."""
    plain = T.AugmentConfig(colour=0.0, brightness=0.0, contrast=0.0, gamma=0.0, blur=0.0, lowres=0.0,
                            noise=0.0, jpeg=0.0)
    crop = np.full((80, 80, 3), 128, np.uint8)
    for seed in range(10):
        out = T.photometric(crop, np.random.default_rng(seed), T.AugmentConfig(**{**plain.__dict__, "erase": 1.0}))
        ys, xs = np.nonzero(out != 128)
        assert len(ys) > 0
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert 0.14 * 80 <= h <= 0.4 * 80 and 0.14 * 80 <= w <= 0.4 * 80

    class Counting:
        def __init__(self) -> None:
            self.rng, self.coins = np.random.default_rng(0), 0

        def random(self):
            self.coins += 1
            return self.rng.random()

        def __getattr__(self, name):
            return getattr(self.rng, name)

    for erase, coins in ((0.0, 4), (1.0, 6)):  # blur, low-res, noise, JPEG (+ erase, flat or noise)
        rng = Counting()
        T.photometric(crop, rng, T.AugmentConfig(**{**plain.__dict__, "erase": erase}))
        assert rng.coins == coins
    rng = np.random.default_rng(3)
    img, kps = _marked_image(rng)
    spec = CropSpec(size=128, scale=1.3)
    _, with_erase = T.positive(img, kps, REL, spec, np.random.default_rng(5), T.AugmentConfig(erase=1.0))
    _, without = T.positive(img, kps, REL, spec, np.random.default_rng(5), T.AugmentConfig())
    np.testing.assert_array_equal(with_erase, without)
