import cv2
import numpy as np
import pytest

from tests._media import face_clip, plain_clip, set_mp4_rotation
from vidkp.io.decode import VideoInfo, VideoReader, decoder_threads, iter_frames, read_image
from vidkp.errors import InputError


def test_info_frames_and_container_timestamps(tmp_path):
    p = plain_clip(tmp_path / "c.mp4", frames=7, fps=10.0)
    info = VideoInfo.from_path(p)
    assert (info.frames, info.fps, info.width, info.height, info.rotation) == (7, 10.0, 160, 120, 0)
    frames = [f for f, _ in iter_frames(p)]
    assert [f.index for f in frames] == list(range(7))
    assert np.allclose([f.timestamp for f in frames], np.arange(7) / 10.0, atol=1e-3)
    assert all(f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8 for f in frames)


def test_every_and_max_frames(tmp_path):
    p = plain_clip(tmp_path / "c.mp4", frames=7, fps=10.0)
    got = [(f.index, sel, f.image.size > 0) for f, sel in iter_frames(p, every=3, max_frames=5)]
    assert got == [(0, True, True), (1, False, False), (2, False, False), (3, True, True), (4, False, False)]
    kept = [f.image.size > 0 for f, _ in iter_frames(p, every=3, keep_all=True)]
    assert all(kept) and len(kept) == 7


def test_real_clip_timestamps_from_container(shared_data):
    frames = [(f.index, f.timestamp) for f, _ in iter_frames(shared_data / "videos" / "short_hamilton_clip.mp4",
                                                            every=100)]
    assert len(frames) == 275
    assert frames[100][1] == pytest.approx(100 / 29.97, abs=2e-3)


def test_rotation_metadata_is_applied(tmp_path):
    p = face_clip(tmp_path / "r.mp4", frames=3, size=(320, 180))
    set_mp4_rotation(p, 90)
    info = VideoInfo.from_path(p)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (180, 320)
    first = next(iter_frames(p))[0]
    assert first.image.shape == (320, 180, 3)


@pytest.mark.parametrize("content,match", [(b"", "empty file"), (b"hello, not a video\n" * 20, "not a readable video")])
def test_bad_video_files_raise_input_error(tmp_path, content, match):
    p = tmp_path / "bad.mp4"
    p.write_bytes(content)
    with pytest.raises(InputError, match=match):
        list(iter_frames(p))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        VideoInfo.from_path(tmp_path / "nope.mp4")


def test_images_rgba_gray_and_16bit_become_bgr8(tmp_path):
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 2] = 200
    rgba[:, :6, 3] = 255  # left half opaque red, right half transparent
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    img = read_image(tmp_path / "a.png")
    assert img.shape == (10, 12, 3) and img.dtype == np.uint8
    assert tuple(img[0, 0]) == (0, 0, 200) and tuple(img[0, -1]) == (255, 255, 255)
    cv2.imwrite(str(tmp_path / "g.png"), np.full((5, 7), 9, np.uint16) * 1000)
    assert read_image(tmp_path / "g.png").shape == (5, 7, 3)
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError, match="not a readable image"):
        read_image(tmp_path / "bad.jpg")


def test_decoder_threads_follow_opencv_setting_or_the_caller(tmp_path):
    p = plain_clip(tmp_path / "c.mp4", frames=3, fps=10.0)
    saved = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        with VideoReader(p) as r:  # a worker pinned to one thread decodes on one
            assert r._cap.get(cv2.CAP_PROP_N_THREADS) == 1
        with VideoReader(p, threads=3) as r:
            assert r._cap.get(cv2.CAP_PROP_N_THREADS) == 3
            assert len(list(r.frames())) == 3
    finally:
        cv2.setNumThreads(saved)
    assert decoder_threads(0) == 1 and decoder_threads(100) == 16


def test_jpeg_is_decoded_once_as_opencv_reads_it(tmp_path, monkeypatch):
    """A JPEG (no alpha) is decoded once, as cv2.imread reads it; a PNG twice (alpha check first);
    a corrupt JPEG is refused by name."""
    import vidkp.io.decode as decode

    img = np.random.default_rng(0).integers(0, 255, (30, 40, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "a.jpg"), img)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    calls = []
    real = cv2.imdecode
    monkeypatch.setattr(decode.cv2, "imdecode", lambda buf, flags: calls.append(flags) or real(buf, flags))
    assert np.array_equal(read_image(tmp_path / "a.jpg"), cv2.imread(str(tmp_path / "a.jpg")))
    assert calls == [cv2.IMREAD_COLOR]
    assert np.array_equal(read_image(tmp_path / "a.png"), img) and len(calls) == 3
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(InputError, match="not a readable image"):
        read_image(tmp_path / "bad.jpg")


def test_rgba_is_composited_over_white_with_rounding(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., :3] = (10, 100, 200)
    rgba[..., 3] = (0, 128, 255)
    cv2.imwrite(str(tmp_path / "t.png"), rgba)
    got = read_image(tmp_path / "t.png")[0]
    alpha = np.array([0, 128, 255], np.float64)[:, None] / 255
    want = np.floor(np.array([10, 100, 200]) * alpha + 255 * (1 - alpha) + 0.5)
    assert np.array_equal(got, want.astype(np.uint8))
