"""Long videos split into segments: planning, exact seeking, id stitching, same rows as an unsplit
run (up to measured warm-up differences), the Ray path, and resume of a half-done split video."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

import vidkp
from tests._media import face_clip, plain_clip
from vidkp.io.decode import VideoReader, iter_frames
from vidkp.batch.pipeline import Pipeline
from vidkp.sample import render_frames, write_clip
from vidkp.batch.segments import Segment, plan_segments, stitch

FPS = 12.0
SPLIT = {"segment_seconds": 4.0, "overlap_seconds": 1.0}  # 140 frames -> segments at 0, 50, 100; warm-up 20
POINTS = [f"{a}_{i}" for a in "xy" for i in range(68)]


def test_plan_covers_every_frame_once_on_the_detection_grid():
    segs = plan_segments(36_000, 30.0, 300.0, 2.0, step=10)
    assert len(segs) == 4 and [s.index for s in segs] == [0, 1, 2, 3]
    assert [s.start for s in segs] == [0, 9000, 18000, 27000] and segs[-1].end is None
    assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
    assert segs[0].warm == 0 and all(s.start - s.warm == 60 for s in segs[1:])
    odd = plan_segments(1001, 25.0, 10.0, 0.5, step=30)
    assert all(s.start % 30 == 0 and s.warm % 30 == 0 for s in odd) and odd[-1].start < 1001
    assert plan_segments(9000, 30.0, 300.0, 2.0, 10) == []  # not longer than one segment
    assert plan_segments(36_000, 30.0, 0.0, 2.0, 10) == []  # splitting off


def _rows(frames, ids, x0):
    """One row per (frame, id) with a 100-px box at x0[id] (+ frame) and points inside it."""
    recs = [{"frame": f, "face_id": i, "box_x": x0[i] + f, "box_y": 10.0, "box_w": 100.0, "box_h": 100.0}
            for f in frames for i in ids]
    return pd.DataFrame(recs)


def test_stitch_carries_ids_across_a_boundary_and_numbers_new_faces_on():
    segs = [Segment(0, 2, 0, 0, 20), Segment(1, 2, 10, 20, None)]
    first = pd.concat([_rows(range(0, 20), [0, 3], {0: 0.0, 3: 400.0})])  # ids 1, 2 merged away earlier
    # the second segment's tracker numbered the same faces the other way round, and found a new one
    second = pd.concat([_rows(range(10, 40), [0, 1], {1: 0.0, 0: 400.0}),
                        _rows(range(30, 40), [2], {2: 800.0})])
    rows, carried = stitch([first, second], segs)
    assert carried == [2]
    assert rows.frame.tolist() == sorted(rows.frame) and rows.frame.min() == 0 and rows.frame.max() == 39
    assert len(rows) == 20 * 2 + 20 * 2 + 10, "warm-up rows are dropped"
    at = rows.set_index(["frame", "face_id"]).box_x
    assert at[(25, 0)] == 25.0 and at[(25, 3)] == 425.0, "each face keeps its id across the boundary"
    assert sorted(rows[rows.frame >= 30].face_id.unique()) == [0, 3, 4], "a new face gets the next id"


def _sequential(path):
    return [(f.timestamp, f.image) for f, _ in iter_frames(path)]


@pytest.mark.parametrize("real", [False, True], ids=["mp4v", "h264"])
def test_seeking_gives_the_frames_and_times_of_a_sequential_decode(real, tmp_path, request):
    path = (request.getfixturevalue("shared_data") / "videos" / "short_hamilton_clip.mp4" if real
            else face_clip(tmp_path / "f.mp4", frames=60))
    ref = _sequential(path)
    for start in (1, 7, 30, 41, len(ref) - 3):
        got = [(f.index, f.timestamp, f.image) for f, _ in iter_frames(path, start=start, max_frames=start + 3)]
        assert [g[0] for g in got] == list(range(start, start + 3))
        for i, ts, img in got:
            assert ts == ref[i][0] and np.array_equal(img, ref[i][1]), f"{path.name} frame {i} after a seek"


def test_a_seek_the_container_times_contradict_falls_back_to_decoding(tmp_path):
    path = face_clip(tmp_path / "f.mp4", frames=40)
    ref = _sequential(path)
    with VideoReader(path) as r:  # a frame rate the container's times disagree with: the seek is not trusted
        r.info = dataclasses.replace(r.info, fps=r.info.fps * 2)
        got = [(f.index, f.image) for f, _ in r.frames(start=30, max_frames=33)]
    assert [i for i, _ in got] == [30, 31, 32]
    assert all(np.array_equal(img, ref[i][1]) for i, img in got)


@pytest.fixture(scope="module")
def leave_return_clip(tmp_path_factory):
    """140 frames at 12 fps: a moving face (0-39), no face (40-59), the face again (60-139); at the
    split, id 1 (the returned face) runs across both boundaries."""
    frames = list(render_frames(140 / FPS, FPS, (320, 180)))
    for i in range(40, 60):
        frames[i] = np.full_like(frames[i], 128)
    return write_clip(tmp_path_factory.mktemp("seg") / "leave_return.mp4", frames, FPS, (320, 180))


@pytest.fixture(scope="module")
def unsplit(leave_return_clip, weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("unsplit") / "o"
    vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, segment_seconds=0)
    return pd.read_parquet(out)


@pytest.fixture(scope="module")
def split(leave_return_clip, weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("split") / "o"
    s = vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    assert s.ok == 1 and not s.failed
    return out


def test_split_run_gives_the_rows_of_an_unsplit_run(unsplit, split, leave_return_clip):
    rows = pd.read_parquet(split)
    assert list(rows.columns) == list(unsplit.columns)
    assert sorted(unsplit.face_id.unique()) == [0, 1], "the clip should give two tracks"
    keys = ["frame", "face_id"]
    pd.testing.assert_frame_equal(rows[["video", *keys, "timestamp"]], unsplit[["video", *keys, "timestamp"]])
    err = np.abs(rows[POINTS].to_numpy() - unsplit[POINTS].to_numpy())
    assert err.max() < 0.01, f"warm-up differences of {err.max():.4f} px (measured: under 0.0001 px)"
    m = vidkp.load_manifest(split).iloc[0]
    assert (m.segments, m.frames, m.face_rows, m.status) == (3, 140, len(rows), "ok")
    assert not list(split.glob("_segments/*")), "segment files are removed once stitched"


def test_split_on_two_ray_workers(leave_return_clip, split, weights, ray_session, tmp_path):
    s = vidkp.run(str(leave_return_clip), tmp_path / "o", workers=2, weights=weights, **SPLIT)
    assert s.ok == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o"), pd.read_parquet(split), atol=1e-3)
    workers = vidkp.load_manifest(tmp_path / "o").worker.iloc[0].split("; ")
    assert len(workers) == 2, f"segments should have run on both workers: {workers}"


def test_interrupted_split_video_resumes_only_its_unfinished_segments(leave_return_clip, split, weights, tmp_path,
                                                                      monkeypatch):
    done = []
    original = Pipeline.process

    def process(self, source, out, on_frames=None, segment=None):
        if segment.index == 1 and "interrupted" not in done:
            done.append("interrupted")
            raise KeyboardInterrupt
        done.append(segment.index)
        return original(self, source, out, on_frames, segment)

    monkeypatch.setattr(Pipeline, "process", process)
    out = tmp_path / "o"
    with pytest.raises(KeyboardInterrupt):
        vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    assert done == [0, "interrupted"] and not list(out.glob("part-*")), "no rows before the input is stitched"
    s = vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    assert s.ok == 1 and done[2:] == [1, 2], "only the unfinished segments are redone"
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(split))
    m = vidkp.load_manifest(out).iloc[0]
    assert (m.segments, m.frames, m.status) == (3, 140, "ok")


def test_stitching_interrupted_is_redone_without_reprocessing(leave_return_clip, split, weights, tmp_path,
                                                              monkeypatch):
    import vidkp.batch.segments as segments

    def fail(*a, **k):
        raise KeyboardInterrupt

    out = tmp_path / "o"
    with monkeypatch.context() as m:
        m.setattr(segments, "finish_video", fail)
        with pytest.raises(KeyboardInterrupt):
            vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    assert len(list(out.glob("_segments/*/_done/*.json"))) == 3
    monkeypatch.setattr(Pipeline, "process", lambda *a, **k: pytest.fail("a finished segment was redone"))
    s = vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    assert s.ok == 1
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(split))


def test_cli_flags_split_as_the_api_does(leave_return_clip, split, weights, tmp_path):
    from typer.testing import CliRunner

    from vidkp.cli import app

    res = CliRunner().invoke(app, ["run", str(leave_return_clip), "--out", str(tmp_path / "o"), "--workers", "0",
                                   "--weights", weights, "-q", "--segment-seconds", "4", "--overlap-seconds", "1"])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o"), pd.read_parquet(split))


def test_short_videos_and_annotated_runs_are_not_split(tmp_path, weights):
    clip = plain_clip(tmp_path / "p.mp4", frames=60, fps=FPS)
    vidkp.run(str(clip), tmp_path / "a", workers=0, weights=weights, segment_seconds=10)
    vidkp.run(str(clip), tmp_path / "b", workers=0, weights=weights, annotate=tmp_path / "ann", **SPLIT)
    assert vidkp.load_manifest(tmp_path / "a").segments.tolist() == [1]
    assert vidkp.load_manifest(tmp_path / "b").segments.tolist() == [1]


def test_split_run_with_out_a_file_uri_gives_the_rows_of_a_plain_path(leave_return_clip, split, weights, tmp_path,
                                                                      monkeypatch):
    """Segment parts, markers, stitching, temp-file cleanup and segment removal go through the
    filesystem layer: OUT as file:// works, also resumed after a kill during stitching."""
    import vidkp.batch.segments as segments

    out_dir = tmp_path / "o"
    out = out_dir.as_uri()

    def fail(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(segments, "finish_video", fail)
        with pytest.raises(KeyboardInterrupt):
            vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    seg_dirs = list(out_dir.glob("_segments/*"))
    assert len(seg_dirs) == 1 and len(list(seg_dirs[0].glob("_done/*.json"))) == 3
    (seg_dirs[0] / ".tmp-123-abc-part-s0001.parquet").write_bytes(b"PAR1 half")  # a killed writer's leftover
    s = vidkp.run(str(leave_return_clip), out, workers=0, weights=weights, **SPLIT)
    assert (s.ok, s.processed) == (1, 1)
    pd.testing.assert_frame_equal(vidkp.load_tracks(out), pd.read_parquet(split))
    m = vidkp.load_manifest(out).iloc[0]
    assert (m.segments, m.frames, m.status) == (3, 140, "ok")
    assert not list(out_dir.glob("_segments/*")), "segment files are removed once stitched"
    assert not list(out_dir.rglob(".tmp-*"))
