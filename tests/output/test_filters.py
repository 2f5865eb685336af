import cv2
import numpy as np
import pytest

from vidkp.output.annotate import Annotator
from vidkp.config import RunConfig
from vidkp.errors import InputError
from vidkp.faces import Faces
from vidkp.analysis.pose import project_reference
from vidkp.output.filters import STYLES, apply_filter, placement

SIZE = (640, 480)


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 255, (SIZE[1], SIZE[0], 3), np.uint8), (9, 9), 3)


def _face(roll_deg: float = 0.0, shift=(0.0, 0.0), distance: float = 600.0) -> np.ndarray:
    return project_reference(0.0, 0.0, np.radians(roll_deg), distance, SIZE) + np.asarray(shift)


# where each filter may draw, in the face frame (origin between the eye centres, x along the eye
# line, unit = inter-eye distance): u (across) and v (down) limits
LIMITS = {"sunglasses": ((-1.3, 1.3), (-0.6, 0.6)), "moustache": ((-0.9, 0.9), (0.45, 1.4)),
          "hat": ((-1.4, 1.4), (-3.6, -0.5))}


def _region(kps: np.ndarray, style: str) -> np.ndarray:
    """Mask of where a filter may draw: its part of the face (`LIMITS`), and for the sunglasses
    and the moustache also inside the points' bounding box grown by 10%."""
    right, left = kps[36:42].mean(0), kps[42:48].mean(0)
    origin, ex = (right + left) / 2, left - right
    ey = np.array([-ex[1], ex[0]])
    yy, xx = np.mgrid[0:SIZE[1], 0:SIZE[0]]
    d = np.stack([xx - origin[0], yy - origin[1]], axis=-1)
    u, v = d @ ex / (ex @ ex), d @ ey / (ey @ ey)
    (u0, u1), (v0, v1) = LIMITS[style]
    mask = (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
    if style != "hat":
        lo, hi = kps.min(0), kps.max(0)
        lo, hi = lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)
        mask &= (xx >= lo[0]) & (xx <= hi[0]) & (yy >= lo[1]) & (yy <= hi[1])
    return mask


@pytest.mark.parametrize("style", ["sunglasses", "moustache", "hat"])
@pytest.mark.parametrize("roll", [0.0, 25.0, -40.0])
def test_filter_draws_inside_the_face_and_leaves_the_rest_as_it_was(style, roll):
    img = _scene()
    kps = _face(roll)
    out = apply_filter(img, kps[None], style)
    changed = (out != img).any(axis=2)
    assert changed.sum() > 1000, "the art must be visible"
    assert not (changed & ~_region(kps, style)).any()
    assert img.base is None or not np.shares_memory(img, out)


def test_sunglasses_cover_both_eyes_and_roll_with_the_eye_line():
    img = np.full((SIZE[1], SIZE[0], 3), 200, np.uint8)
    for roll in (0.0, 30.0):
        kps = _face(roll)
        out = apply_filter(img, kps[None], "sunglasses")
        for eye in (kps[36:42].mean(0), kps[42:48].mean(0)):
            x, y = np.round(eye).astype(int)
            assert out[y - 3:y + 4, x - 3:x + 4].mean() < 120, "dark lens over each eye"
        m = placement("sunglasses", kps)
        assert np.degrees(np.arctan2(m[1, 0], m[0, 0])) == pytest.approx(roll, abs=0.5)


def test_filter_is_clipped_at_the_frame_edges():
    img = _scene(1)
    kps = _face(10.0, shift=(-300.0, 0.0))  # the face's right half beyond the left edge
    out = apply_filter(img, kps[None], "sunglasses")
    changed = (out != img).any(axis=2)
    assert out.shape == img.shape and changed[:, :3].any() and not changed[:, 110:].any()


def test_annotator_styles_and_bad_style():
    img = _scene(2)
    kps = _face()
    faces = Faces(np.array([[200, 150, 240, 240]], np.float32), np.ones(1, np.float32), kps[None].astype(np.float32),
                  np.array([0]))
    outs = {s: Annotator(style=s)(img, faces) for s in STYLES}
    assert all((o != img).any() for o in outs.values())
    assert len({o.tobytes() for o in outs.values()}) == len(STYLES)
    assert np.array_equal(Annotator(style="hat")(img, Faces.empty()), img)
    with pytest.raises(ValueError, match="sunglasses"):
        Annotator(style="monocle")
    with pytest.raises(ValueError, match="unknown filter"):
        apply_filter(img, kps[None], "points")


def test_faces_without_points_are_skipped():
    img = _scene(3)
    assert np.array_equal(apply_filter(img, np.full((1, 68, 2), np.nan), "sunglasses"), img)


def test_style_is_a_run_option_of_annotated_runs():
    assert RunConfig(annotate="ann", style="hat").output_params()["style"] == "hat"
    assert "style" not in RunConfig().output_params()  # runs without --annotate resume as before
    with pytest.raises(InputError, match="--annotate"):
        RunConfig(style="sunglasses")
    with pytest.raises(InputError, match="style"):
        RunConfig(annotate="ann", style="monocle")
