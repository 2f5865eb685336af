"""detect_bench's new-face latency and its scaled H.264 copies."""
import numpy as np
import pytest

from benchmarks.detect_bench import new_face_latency, scaled_copy
from tests._media import plain_clip
from vidkp.io.decode import VideoInfo


def test_latency_counts_from_the_first_fully_visible_frame_of_each_appearance() -> None:
    visible = np.array([0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1], bool)[:, None]
    full = np.array([0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1], bool)[:, None]
    found = np.array([-1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, 0])[:, None]
    assert new_face_latency(found, visible, full) == (3, 0)  # 4 - 2 = 2 first, 11 - 8 = 3 after the gap
    early = found.copy()
    early[1] = 0  # found while partly visible: latency 0 for that appearance
    assert new_face_latency(early, visible, full) == (3, 0)
    never = np.where(np.arange(12)[:, None] >= 8, -1, found)
    assert new_face_latency(never, visible, full) == (4, 1)  # counted to the appearance's end


def test_an_appearance_never_fully_visible_is_not_counted() -> None:
    visible = np.ones((5, 1), bool)
    assert new_face_latency(np.full((5, 1), -1), visible, np.zeros((5, 1), bool)) == (0, 0)


def test_scaled_copy_is_h264_at_the_size_asked(tmp_path) -> None:
    pytest.importorskip("av")
    src = plain_clip(tmp_path / "c.mp4", frames=5, fps=10.0)
    out = scaled_copy(src, (320, 240), tmp_path / "big.mp4")
    info = VideoInfo.from_path(out)
    assert (info.width, info.height, info.frames) == (320, 240, 5)
    import av

    with av.open(str(out)) as f:
        assert f.streams.video[0].codec_context.name == "h264"
