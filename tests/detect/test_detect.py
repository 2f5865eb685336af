"""HaarDetector options: contrast normalisation (CLAHE for video passes) and bad arguments."""
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
