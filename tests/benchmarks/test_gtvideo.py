"""The ground-truth video generator puts each true point exactly where the face's mark is drawn."""
import numpy as np
import pytest

from benchmarks.gtvideo import EXTRA_KINDS, KINDS, LabelledFace, make_clip


def _marked_face(seed: int) -> LabelledFace:
    rng = np.random.default_rng(seed)
    img = np.full((220, 220, 3), 60, np.uint8)
    pts = rng.uniform(60, 160, (68, 2)).astype(np.float32)
    pts[36], pts[45] = (60, 100), (160, 100)
    for x, y in pts.astype(int):
        img[y - 2 : y + 3, x - 2 : x + 3] = 255
    return LabelledFace(img, pts, f"synthetic_{seed}")


@pytest.mark.parametrize("kind", ["pan", "zoom", "rotate", "cross", "leave_return", "tilt", "edge"])
def test_true_points_land_on_drawn_marks(kind: str) -> None:
    clip = make_clip(kind, [_marked_face(0), _marked_face(1)], n_frames=30)
    assert len(clip.frames) == 30 and clip.points.shape[0] == 30 and clip.points.shape[2:] == (68, 2)
    checked = 0
    for frame, faces in zip(clip.frames, clip.points):
        for pts in faces:
            if np.isnan(pts[0, 0]):
                continue
            for x, y in np.round(pts).astype(int):
                if 1 <= x < frame.shape[1] - 1 and 1 <= y < frame.shape[0] - 1:
                    # the top-most face may cover the other's marks when crossing
                    checked += 1 if frame[y - 1 : y + 2, x - 1 : x + 2].min(axis=2).max() > 225 else 0
    visible = np.isfinite(clip.points[..., 0]).sum()
    assert checked >= 0.9 * visible


def test_leave_return_hides_then_shows_the_face() -> None:
    vis = np.isfinite(make_clip("leave_return", [_marked_face(0)], n_frames=60).points[:, 0, 0, 0])
    assert vis[0] and vis[-1] and not vis[30]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a clip kind"):
        make_clip("spin", [_marked_face(0)])
    assert "still" in KINDS and not set(EXTRA_KINDS) & set(KINDS)


def _roll(points: np.ndarray) -> np.ndarray:
    """Eye-line roll in degrees (outer eye corners 36 -> 45) per frame."""
    d = points[:, 45] - points[:, 36]
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


def test_tilt_rolls_the_head_20_to_33_degrees_either_way_from_the_first_frame() -> None:
    signs = set()
    for seed in range(6):
        clip = make_clip("tilt", [_marked_face(0)], n_frames=45, seed=seed)
        assert clip.full[:, 0].all()
        roll = _roll(clip.points[:, 0])
        assert (np.abs(roll) >= 17).all() and (np.abs(roll) <= 33).all() and len(set(np.sign(roll))) == 1
        signs.add(float(np.sign(roll[0])))
    assert signs == {-1.0, 1.0}


def test_edge_face_starts_outside_and_ends_fully_visible() -> None:
    for seed in range(6):
        clip = make_clip("edge", [_marked_face(0)], n_frames=60, seed=seed)
        vis, full = np.isfinite(clip.points[:, 0, 0, 0]), clip.full[:, 0]
        assert not vis[0] and full[-20:].all()
        assert not (full & ~vis).any()  # fully visible implies visible
        assert 0 < int(np.argmax(vis)) <= int(np.argmax(full)) < 20  # slides in over the first third


def test_full_visibility_drops_while_a_face_is_partly_covered() -> None:
    clip = make_clip("cross", [_marked_face(0), _marked_face(1)], n_frames=31)
    vis, full = np.isfinite(clip.points[:, 0, 0, 0]), clip.full[:, 0]
    assert full[0] and full[-1] and not full[15]
    assert (vis & ~full).any()  # partly covered, still counted visible


def test_a_face_covered_by_the_other_is_not_visible() -> None:
    clip = make_clip("cross", [_marked_face(0), _marked_face(1)], n_frames=31)
    under, top = np.isfinite(clip.points[:, 0, 0, 0]), np.isfinite(clip.points[:, 1, 0, 0])
    assert top.all()  # the face drawn last is never covered
    assert under[0] and under[-1] and not under[15]  # mid-crossing the lower face is hidden
