import cv2
import numpy as np

from vidkp.output.annotate import AnnotatedVideo, Annotator
from vidkp.faces import Faces


def _face():
    t = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    kp = np.stack([60 + 20 * np.cos(t), 60 + 20 * np.sin(t)], 1)[None].astype(np.float32)
    return Faces(np.array([[30, 30, 60, 60]], np.float32), np.ones(1, np.float32), kp, np.array([3]))


def test_draws_on_a_copy_inside_the_face_only():
    img = np.zeros((120, 160, 3), np.uint8)
    out = Annotator()(img, _face())
    assert img.max() == 0, "input image must not be drawn on"
    changed = out.any(axis=2)
    assert changed[30:92, 28:92].sum() > 200
    assert not changed[100:, 100:].any()
    assert np.array_equal(Annotator()(img, Faces.empty()), img)


def test_video_sink_frame_count_and_fps(tmp_path):
    path = tmp_path / "sub" / "a.mp4"
    with AnnotatedVideo(path, fps=12.5) as sink:
        for _ in range(9):
            sink.write(np.zeros((64, 80, 3), np.uint8))
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 9
    assert cap.get(cv2.CAP_PROP_FPS) == 12.5
    assert [p.name for p in path.parent.iterdir()] == ["a.mp4"]
