"""One input through the whole pipeline, in process (workers=0)."""
import json

import cv2
import numpy as np
import pytest

import vidkp
from vidkp.output.parquet import COLUMNS

MANIFEST_COLUMNS = ["video", "status", "error", "frames", "fps", "width", "height", "duration", "face_rows",
                    "seconds", "worker", "vidkp_version", "model_version", "params"]


def summary_weights(result) -> str:
    return result[2]


@pytest.fixture(scope="module")
def result(clip, weights, tmp_path_factory):
    base = tmp_path_factory.mktemp("pipe")
    summary = vidkp.run(str(clip), base / "out", workers=0, weights=weights, annotate=base / "ann")
    return base, summary, weights


def test_rows_follow_the_contract(result, clip):
    base, summary, _ = result
    df = vidkp.load_tracks(base / "out")
    assert list(df.columns) == COLUMNS
    assert summary.ok == 1 and not summary.failed and summary.frames == 12 and summary.faces == len(df)
    assert (df.video == str(clip)).all()
    assert df.frame.nunique() >= 10 and df.frame.is_monotonic_increasing
    assert np.allclose(df.timestamp, df.frame / 12.0, atol=1e-3)
    assert (df.face_id == df.face_id.mode()[0]).mean() >= 0.8, "one face should keep one id"
    xs = df[[f"x_{i}" for i in range(68)]].to_numpy()
    ys = df[[f"y_{i}" for i in range(68)]].to_numpy()
    cx, cy = np.median(xs, 1), np.median(ys, 1)
    assert ((cx > df.box_x) & (cx < df.box_x + df.box_w) & (cy > df.box_y) & (cy < df.box_y + df.box_h)).all()
    if vidkp.FaceLandmarker(summary_weights(result)).model.has_score:
        assert df.confidence.between(0, 1).all() and df.confidence.median() > 0.5


def test_manifest_row(result, clip):
    base, _, _ = result
    m = vidkp.load_manifest(base / "out")
    assert set(MANIFEST_COLUMNS) <= set(m.columns) and len(m) == 1
    row = m.iloc[0]
    assert (row.video, row.status, row.error, row.frames, row.fps, row.width, row.height) == (
        str(clip), "ok", "", 12, 12.0, 320, 180)
    assert row.duration == pytest.approx(1.0) and row.face_rows == len(vidkp.load_tracks(base / "out"))
    assert row.worker and row.model_version and row.vidkp_version == vidkp.__version__
    assert json.loads(row.params)["every"] == 1
    assert set(json.loads(row.timings_ms)) >= {"decode", "detect", "landmarks", "track", "write"}


def test_annotated_video_has_every_frame_at_the_same_fps(result):
    base, _, _ = result
    cap = cv2.VideoCapture(str(base / "ann" / "face.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12 and cap.get(cv2.CAP_PROP_FPS) == 12.0
    ok, frame = cap.read()
    assert ok and frame.shape == (180, 320, 3)


def test_every_and_max_frames_select_frames(clip, weights, tmp_path):
    vidkp.run([str(clip)], tmp_path / "o", workers=0, weights=weights, every=4, max_frames=9)
    df = vidkp.load_tracks(tmp_path / "o")
    assert set(df.frame) <= {0, 4, 8} and len(set(df.frame)) >= 2
    m = vidkp.load_manifest(tmp_path / "o").iloc[0]
    assert m.frames == 9 and m.error == ""


def test_image_input(shared_data, weights, tmp_path):
    img = shared_data / "images" / "obamas.jpg"
    s = vidkp.run([str(img)], tmp_path / "o", workers=0, weights=weights, annotate=tmp_path / "ann")
    df = vidkp.load_tracks(tmp_path / "o")
    assert s.ok == 1 and len(df) >= 2 and (df.frame == 0).all() and (df.timestamp == 0).all()
    assert sorted(df.face_id) == list(range(len(df)))
    assert cv2.imread(str(tmp_path / "ann" / "obamas.jpg")).shape == cv2.imread(str(img)).shape


def test_annotation_paths_keep_the_relative_layout():
    from vidkp.batch.pipeline import annotation_path
    from vidkp.io.sources import Source

    assert str(annotation_path("ANN", Source("in/sub/a.avi", "video", "sub/a.avi"))) == "ANN/sub/a.mp4"
    assert str(annotation_path("ANN", Source("x/b.JPG", "image", "b.JPG"))) == "ANN/b.jpg"
    assert str(annotation_path("ANN", Source("x/c.pgm", "image", "c.pgm"))) == "ANN/c.png"


def test_video_detector_settings_reach_the_follower(weights):
    from vidkp.batch.pipeline import Pipeline
    from vidkp.config import RunConfig

    config = RunConfig.from_options(weights=weights, **{"video.min_neighbors": "5", "video.quick_downscale": "3"})
    follower = Pipeline(config).video_follower
    assert follower.detector.min_neighbors == 5 and follower.detector.downscale == 1.0
    assert [q.downscale for q in follower.quick] == [3.0] * 2 and follower.quick[0].contrast == "clahe"
    # quick passes in turn: rotated by +20 and by -20, upright
    assert [q.rolls for q in follower.quick] == [(20.0, -20.0), (0.0,)]
    assert all(q.min_neighbors == 5 for q in follower.quick)
    upright = Pipeline(RunConfig.from_options(weights=weights, **{"video.quick_rolls": ""})).video_follower
    assert [q.rolls for q in upright.quick] == [(0.0,)]


def test_still_detector_settings_reach_the_still_search(weights):
    from vidkp.batch.pipeline import Pipeline
    from vidkp.config import RunConfig

    config = RunConfig.from_options(weights=weights, image_max_side=800, **{
        "still.cascades": "default", "still.min_neighbors": "5", "still.fallback_rolls": "15"})
    lm = Pipeline(config).landmarker
    assert lm.detector.cascades == ("default",) and lm.detector.min_neighbors == 5 and lm.detector.max_side == 800
    assert lm.fallback.rolls == (0.0, 15.0) and lm.fallback.min_neighbors == 1
    default = Pipeline(RunConfig.from_options(weights=weights)).landmarker
    assert default.detector.cascades == ("default", "alt2", "profile") and default.fallback.rolls == (0.0, -20.0, 20.0)
