import cv2
import numpy as np
import pytest

from vidkp.output.annotate import AnnotatedVideo
from vidkp.output import video

av = pytest.importorskip("av", reason="PyAV (a vidkp dependency) is not installed")


def _codec(path) -> tuple[str, str]:
    with av.open(str(path)) as f:
        s = f.streams.video[0]
        return s.codec_context.name, s.codec_context.pix_fmt


def test_annotated_video_is_h264_yuv420p_with_frames_and_fps(tmp_path):
    path = tmp_path / "a.mp4"
    with AnnotatedVideo(path, fps=29.97) as sink:
        for i in range(15):
            sink.write(np.full((61, 83, 3), 10 * i, np.uint8))  # odd sides are padded to even
    assert _codec(path) == ("h264", "yuv420p")
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 15
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(29.97, abs=1e-3)
    ok, frame = cap.read()
    assert ok and frame.shape == (62, 84, 3)


def test_without_h264_encoder_it_warns_and_still_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(video, "h264_available", lambda: False)
    path = tmp_path / "b.mp4"
    with pytest.warns(RuntimeWarning, match="mp4v"):
        with AnnotatedVideo(path, fps=10) as sink:
            for _ in range(5):
                sink.write(np.zeros((48, 64, 3), np.uint8))
    assert _codec(path)[0] == "mpeg4"
    assert int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_h264_writer_keeps_the_picture(tmp_path):
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 255, (96, 128, 3), np.uint8), (15, 15), 5)
    w = video.H264Writer(str(tmp_path / "c.mp4"), 25)
    for _ in range(3):
        w.write(img)
    w.close()
    ok, back = cv2.VideoCapture(str(tmp_path / "c.mp4")).read()
    assert ok and np.abs(back.astype(int) - img).mean() < 3.0
