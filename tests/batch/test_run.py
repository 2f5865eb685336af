"""The Ray path: same rows as the serial path, work spread over workers, a killed worker is
replaced, the local Ray listens on loopback only, and the real data set runs end to end."""
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

import vidkp
from tests._media import face_clip
from vidkp.sample import render_frames

KEYS = ["video", "frame", "face_id"]


def _rows(out):
    return pd.read_parquet(out).sort_values(KEYS).reset_index(drop=True)


def _assert_same_rows(a, b):
    """Identical rows; keypoints to 1e-3 px (worker processes pin torch to one thread)."""
    assert len(a) == len(b) > 0
    exact = ["video", "frame", "timestamp", "face_id", "box_x", "box_y", "box_w", "box_h"]
    pd.testing.assert_frame_equal(a[exact], b[exact])
    pts = [c for c in a.columns if c[:2] in ("x_", "y_")] + ["confidence"]
    assert np.allclose(a[pts].to_numpy(), b[pts].to_numpy(), atol=1e-3)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    clips = [face_clip(d / f"v{i}.mp4", frames=8) for i in range(3)]
    stills = []
    for i, f in enumerate(render_frames(0.5, 4, (320, 180))):
        cv2.imwrite(str(d / f"s{i}.jpg"), f)
        stills.append(d / f"s{i}.jpg")
    (d / "broken.mp4").write_text("not a video")
    return [str(p) for p in clips + stills + [d / "broken.mp4"]]


def _ray_pids() -> set[int]:
    """Processes of our local Ray session: this process and its descendants (gcs, raylet, agents,
    workers). Other people's Ray instances on the machine are not ours to judge."""
    parent: dict[int, int] = {}
    names: dict[int, str] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
                parent[int(p.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                names[int(p.name)] = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
    mine, grew = {os.getpid()}, True
    while grew:
        new = {pid for pid, pp in parent.items() if pp in mine} - mine
        grew, mine = bool(new), mine | new
    return mine


def test_local_ray_listens_on_loopback_only(ray_session):
    if not shutil.which("ss"):
        pytest.skip("`ss` (iproute2) is not installed")
    pids = _ray_pids()
    out = subprocess.run(["ss", "-tlnpH"], capture_output=True, text=True, check=True).stdout
    checked = 0
    for line in out.splitlines():
        owners = {int(x) for x in __import__("re").findall(r"pid=(\d+)", line)}
        if not owners & pids:
            continue
        local = line.split()[3]
        host = local.rsplit(":", 1)[0].strip("[]")
        assert host in ("127.0.0.1", "::1", "::ffff:127.0.0.1"), f"Ray listens beyond loopback: {line}"
        checked += 1
    assert checked >= 3, f"expected to see Ray's listening sockets, saw {checked}:\n{out}"


def test_ray_rows_equal_serial_rows_and_both_workers_work(batch, weights, ray_session, tmp_path):
    s_serial = vidkp.run(batch, tmp_path / "serial", workers=0, weights=weights)
    s_ray = vidkp.run(batch, tmp_path / "ray", workers=2, weights=weights, images_per_task=2)
    assert s_serial.ok == s_ray.ok == len(batch) - 1
    assert [(os.path.basename(v), e[:20]) for v, e in s_ray.failed] == [("broken.mp4", "not a readable video")]
    _assert_same_rows(_rows(tmp_path / "ray"), _rows(tmp_path / "serial"))
    m = vidkp.load_manifest(tmp_path / "ray")
    assert m.worker.str.contains("node:").all()
    assert m.worker.nunique() == 2, "both workers should have processed inputs"


def _worker_pids() -> list[int]:
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if b"ray::PipelineWorker" in (p / "cmdline").read_bytes():
                    found.append(int(p.name))
            except OSError:
                continue
    return found


def test_killed_worker_is_replaced_and_its_input_redone(batch, weights, ray_session, tmp_path):
    videos = [b for b in batch if b.endswith(".mp4") and "broken" not in b]
    result = {}
    t = threading.Thread(target=lambda: result.update(s=vidkp.run(videos, tmp_path / "o", workers=1,
                                                                  weights=weights)))
    t.start()
    deadline, killed = time.time() + 90, None
    while time.time() < deadline and t.is_alive() and killed is None:
        pids = _worker_pids()
        if pids and list((tmp_path / "o").glob(".tmp-*")):
            killed = pids[0]
            os.kill(killed, 9)
        time.sleep(0.05)
    t.join(180)
    assert killed is not None, "no worker was seen working"
    s = result["s"]
    assert s.ok == len(videos) and not s.failed
    ref = tmp_path / "ref"
    vidkp.run(videos, ref, workers=0, weights=weights)
    _assert_same_rows(_rows(tmp_path / "o"), _rows(ref))


def test_real_videos_and_photos_end_to_end(shared_data, weights, ray_session, tmp_path):
    s = vidkp.run([shared_data / "videos", shared_data / "images"], tmp_path / "o", workers=2, weights=weights,
                  every=25, annotate=tmp_path / "ann")
    assert not s.failed, s.failed
    df = vidkp.load_tracks(tmp_path / "o")
    per = df.video.map(os.path.basename).value_counts()
    assert per["short_hamilton_clip.mp4"] > 0
    photos = ["obamas.jpg", "the_beatles.jpg", "mona_lisa.jpg", "two_people.jpg", "obama_and_biden.jpg",
              "bald_guys.jpg", "2008_002506.jpg", "2009_004587.jpg"]
    for name in photos:
        assert per.get(name, 0) >= 1, f"no face found in {name}"
    m = vidkp.load_manifest(tmp_path / "o").set_index("video")
    assert (m.status == "ok").all()
    for name in ("sunglasses.png", "landmarks_numbered.jpg"):
        assert m.loc[str(shared_data / "images" / name), "status"] == "ok"
    cap = cv2.VideoCapture(str(tmp_path / "ann" / "short_hamilton_clip.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 275


def test_files_passed_over_are_in_the_summary_and_the_manifest_as_skipped(tmp_path, weights):
    data = tmp_path / "data"
    data.mkdir()
    (data / "party.gif").write_bytes(b"GIF89a")
    (data / "loop").symlink_to(data)
    s = vidkp.run([data], tmp_path / "out", workers=0, weights=weights)
    assert s.skipped_files == [(str(data / "loop"), f"directory already walked as {data}"),
                               (str(data / "party.gif"), "not a known video or image extension (.gif)")]
    m = vidkp.load_manifest(tmp_path / "out").set_index("video")
    assert m.loc[str(data / "party.gif"), ["kind", "status"]].tolist() == ["video", "skipped"]
    assert m.loc[str(data / "loop"), ["kind", "status"]].tolist() == ["directory", "skipped"]
    assert s.exit_code == 0 and not s.failed
