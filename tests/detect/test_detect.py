"""HaarDetector options: contrast normalisation (CLAHE for video passes) and bad arguments."""
import cv2
import numpy as np
import pytest

from vidkp.detect.haar import HaarDetector, video_detector
from vidkp.errors import ModelError


def test_unknown_contrast_is_refused() -> None:
    with pytest.raises(ModelError, match="contrast"):
        HaarDetector(contrast="gamma")


def test_clahe_finds_a_dark_face_on_a_bright_background_that_global_equalisation_misses(shared_data) -> None:
    from benchmarks.gtvideo import KINDS, load_faces, make_clip

    # a validation-people crossing clip (as track_bench --people val makes it) whose right face
    # is dark on a bright, colourful background
    faces = load_faces(shared_data, "val", limit=2 * len(KINDS) * 3, seed=1)
    j = 2 * (len(KINDS) + KINDS.index("cross"))
    clip = make_clip("cross", faces[j:j + 2], n_frames=90, seed=100 + KINDS.index("cross"))

    def hits(det: HaarDetector) -> int:
        n = 0
        for frame, truth in zip(clip.frames[:40:4], clip.points[:40:4]):
            boxes = det(frame).boxes
            for pts in truth:
                cx, cy = pts.mean(axis=0)
                n += any(x < cx < x + w and y < cy < y + h for x, y, w, h in boxes)
        return n

    assert video_detector().contrast == "clahe"
    clahe, equalize = hits(video_detector()), hits(HaarDetector(min_neighbors=3))
    assert clahe == 20 and equalize < 15, (clahe, equalize)


def test_replace_keeps_every_other_setting() -> None:
    det = video_detector(min_face=30, max_side=480)
    quick = det.replace(downscale=2)
    assert quick.settings == {**det.settings, "downscale": 2.0}
    assert HaarDetector(**det.settings).settings == det.settings


def _tilted_portrait(degrees: float) -> tuple[np.ndarray, tuple[float, float]]:
    """The sample portrait rolled by `degrees` (OpenCV's sense) about a point off the frame's
    centre, on a 640x360 gray frame, and where its face centre lands."""
    from vidkp.sample import render_frames

    frame = next(iter(render_frames(1.0, 1.0, (640, 360))))
    face = HaarDetector(min_neighbors=3)(frame).boxes
    assert len(face) == 1
    centre = face[0, :2] + face[0, 2:] / 2
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), degrees, 1.0)
    m[:, 2] += (120.0, -20.0)  # and moved, so the detector's own rotation centre is elsewhere
    tilted = cv2.warpAffine(frame, m, (640, 360), borderMode=cv2.BORDER_REPLICATE)
    cx, cy = m[:, :2] @ centre + m[:, 2]
    return tilted, (float(cx), float(cy))


@pytest.mark.parametrize("degrees", [-28.0, 28.0])
def test_rolled_searches_find_a_tilted_face_that_the_upright_search_misses(degrees: float) -> None:
    image, (cx, cy) = _tilted_portrait(degrees)

    def near(det: HaarDetector) -> bool:
        return any(abs(x + w / 2 - cx) < 0.2 * w and abs(y + h / 2 - cy) < 0.2 * h for x, y, w, h in det(image).boxes)

    upright = video_detector()
    assert upright.rolls == (0.0,) and not near(upright)
    assert near(upright.replace(rolls=(0.0, -degrees)))
    assert not near(upright.replace(rolls=(0.0, degrees)))  # the wrong way round tilts it further


def test_no_roll_angles_is_refused() -> None:
    with pytest.raises(ModelError, match="roll"):
        HaarDetector(rolls=())
