"""Stills are not fooled (issue 4): the face score and shift test reject detector false alarms,
and every face is found. Face centres below were marked by hand on each photo (x, y pixels)."""
from pathlib import Path

import numpy as np
import pandas as pd

from vidkp.batch.run import run

FACES = {
    "the_beatles.jpg": [(774, 868), (1590, 847), (2297, 875), (3126, 916)],  # Haar alone finds 10 boxes
    "obamas.jpg": [(263, 167), (456, 227)],
    "two_people.jpg": [(311, 118), (865, 148)],
    "2008_002506.jpg": [(157, 100), (266, 135), (389, 124)],
    "2009_004587.jpg": [(184, 78), (294, 305)],  # a dark sign at the right is no face
}


def test_multi_face_photos_give_exactly_their_faces(shared_data: Path, weights: str, tmp_path: Path) -> None:
    paths = [str(shared_data / "images" / name) for name in FACES]
    summary = run(paths, tmp_path / "out", workers=0, weights=weights)
    assert summary.ok == len(paths)
    rows = pd.read_parquet(tmp_path / "out")
    for name, centres in FACES.items():
        got = rows[rows.video.map(lambda v: Path(v).name) == name]
        assert len(got) == len(centres), f"{name}: {len(got)} faces, expected {len(centres)}"
        assert got.face_id.nunique() == len(got)
        boxes = got[["box_x", "box_y", "box_w", "box_h"]].to_numpy()
        for cx, cy in centres:
            inside = ((boxes[:, 0] <= cx) & (cx <= boxes[:, 0] + boxes[:, 2])
                      & (boxes[:, 1] <= cy) & (cy <= boxes[:, 1] + boxes[:, 3]))
            assert inside.sum() == 1, f"{name}: the face at {(cx, cy)} is in {inside.sum()} output boxes"
    assert np.isfinite(rows.filter(like="x_").to_numpy()).all()


def test_run_writes_for_a_still_what_face_landmarker_detect_finds(shared_data: Path, weights: str,
                                                                   tmp_path: Path) -> None:
    """`vidkp run` on a still and `FaceLandmarker.detect` (what the model card's end-to-end rows
    measure) are one search: same faces, boxes, scores and points."""
    import cv2

    from vidkp.landmarker import FaceLandmarker

    paths = [str(shared_data / "images" / name) for name in FACES]
    run(paths, tmp_path / "out", workers=0, weights=weights)
    rows = pd.read_parquet(tmp_path / "out")
    lm = FaceLandmarker(weights)
    for path in paths:
        got = rows[rows.video == path].sort_values("face_id")
        want = lm.detect(cv2.imread(path))
        assert len(got) == len(want), path
        np.testing.assert_allclose(got[["box_x", "box_y", "box_w", "box_h"]].to_numpy(),
                                   np.stack([f.box for f in want]), atol=1e-3)
        np.testing.assert_allclose(got.confidence.to_numpy(), [f.score for f in want], atol=1e-5)
        xs, ys = ([f"{c}_{i}" for i in range(68)] for c in "xy")
        pts = np.stack([got[xs].to_numpy(), got[ys].to_numpy()], -1)
        np.testing.assert_allclose(pts, np.stack([f.keypoints for f in want]), atol=1e-3)


def test_the_second_search_of_a_still_finds_a_head_rolled_30_degrees(weights):
    """grace_hopper rotated by 30 degrees either way: the upright searches find no face, the
    second search's rotated scans (FALLBACK_ROLLS) do."""
    from tests._media import grace_hopper
    from vidkp import FaceLandmarker
    from vidkp.detect.haar import FALLBACK_ROLLS, fallback_detector, still_detector

    assert fallback_detector(still_detector()).rolls == (0.0, *FALLBACK_ROLLS)
    upright, rotated = FaceLandmarker(weights, fallback_rolls=()), FaceLandmarker(weights)
    for angle in (30.0, -30.0):
        image = grace_hopper(angle)
        assert upright.detect(image) == []
        assert len(rotated.detect(image)) == 1
