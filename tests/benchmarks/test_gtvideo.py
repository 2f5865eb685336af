"""The ground-truth video generator puts each true point exactly where the face's mark is drawn."""
import numpy as np
import pytest

from benchmarks.gtvideo import KINDS, LabelledFace, make_clip


def _marked_face(seed: int) -> LabelledFace:
    rng = np.random.default_rng(seed)
    img = np.full((220, 220, 3), 60, np.uint8)
    pts = rng.uniform(60, 160, (68, 2)).astype(np.float32)
    pts[36], pts[45] = (60, 100), (160, 100)
    for x, y in pts.astype(int):
        img[y - 2 : y + 3, x - 2 : x + 3] = 255
    return LabelledFace(img, pts, f"synthetic_{seed}")


@pytest.mark.parametrize("kind", ["pan", "zoom", "rotate", "cross", "leave_return"])
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
    assert "still" in KINDS


def test_a_face_covered_by_the_other_is_not_visible() -> None:
    clip = make_clip("cross", [_marked_face(0), _marked_face(1)], n_frames=31)
    under, top = np.isfinite(clip.points[:, 0, 0, 0]), np.isfinite(clip.points[:, 1, 0, 0])
    assert top.all()  # the face drawn last is never covered
    assert under[0] and under[-1] and not under[15]  # mid-crossing the lower face is hidden
