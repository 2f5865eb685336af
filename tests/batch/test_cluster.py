"""A real two-node Ray cluster (jobs/local_cluster.sh: nodes in network namespaces) gives exactly
the rows of a local serial run, with work done on both nodes, also when the worker node is killed
in the middle of a task."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests._media import face_clip
from vidkp.batch.run import run

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "jobs" / "local_cluster.sh"
ENV = {**os.environ, "VIDKP_CLUSTER_PREFIX": "vkpt", "VIDKP_CLUSTER_NET": "10.213.7",
       "RAY": str(Path(sys.executable).parent / "ray"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
KEY = ["video", "frame", "face_id"]


def _netns_usable() -> str | None:
    if os.geteuid() != 0:
        return "needs root for ip netns"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    probe = subprocess.run(["ip", "netns", "add", "vkpt-probe"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"ip netns unusable here: {probe.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", "vkpt-probe"], check=True)
    return None


def _cluster(tmp: Path, **settings: str) -> dict[str, str]:
    env = {**ENV, "VIDKP_CLUSTER_DIR": str(tmp), **settings}
    subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True)
    up = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    return env


@pytest.fixture()
def cluster(tmp_path_factory):
    reason = _netns_usable()
    if reason:
        pytest.skip(reason)
    env = _cluster(tmp_path_factory.mktemp("cluster"))
    yield env
    subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def clips_and_reference(tmp_path_factory, weights):
    tmp = tmp_path_factory.mktemp("cluster_inputs")
    clips = [str(face_clip(tmp / f"clip{i}.mp4", frames=8 + i)) for i in range(6)]
    local = run(clips, tmp / "local", workers=0, weights=weights)
    assert local.ok == len(clips)
    return clips, pd.read_parquet(tmp / "local").sort_values(KEY).reset_index(drop=True)


def _vidkp_on_cluster(env: dict[str, str], clips: list[str], out: Path, weights: str) -> list[str]:
    return [str(SCRIPT), "exec", sys.executable, "-m", "vidkp", "run", *clips, "--out", str(out),
            "--workers", "2", "--weights", weights, "--quiet"]


def test_two_node_cluster_matches_local_run(cluster, clips_and_reference, weights, tmp_path: Path) -> None:
    clips, reference = clips_and_reference
    out = tmp_path / "cluster"
    proc = subprocess.run(_vidkp_on_cluster(cluster, clips, out, weights), env=cluster, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(reference) > 0
    pd.testing.assert_frame_equal(reference, pd.read_parquet(out).sort_values(KEY).reset_index(drop=True))
    workers = pd.read_parquet(out / "_manifest.parquet")["worker"]
    assert workers.str.contains("10.213.7.1").any() and workers.str.contains("10.213.7.2").any(), workers.tolist()


# its own namespaces and addresses, so it never meets the cluster above; Ray declares a node dead
# after 3 missed health checks 0.5 s apart (default: 5 x 3 s)
NODE_LOSS = {"VIDKP_CLUSTER_PREFIX": "vkpn", "VIDKP_CLUSTER_NET": "10.213.8", "RAY_health_check_period_ms": "500",
             "RAY_health_check_timeout_ms": "500", "RAY_health_check_failure_threshold": "3"}


@pytest.fixture()
def node_loss_cluster(tmp_path_factory):
    reason = _netns_usable()
    if reason:
        pytest.skip(reason)
    env = _cluster(tmp_path_factory.mktemp("cluster_loss"), **NODE_LOSS)
    yield env
    subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, timeout=60)


def _netns_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=True).stdout
    return [int(p) for p in out.split()]


def _busy_pid(out: Path, pids: list[int]) -> int | None:
    """A pid among `pids` that is writing a part file in OUT right now (`.tmp-<pid>-...`)."""
    for p in out.glob(".tmp-*"):
        m = re.match(r"\.tmp-(\d+)-", p.name)
        if m and int(m.group(1)) in pids:
            return int(m.group(1))
    return None


def test_killed_worker_node_mid_task_still_gives_every_row_once(node_loss_cluster, clips_and_reference, weights,
                                                                tmp_path: Path) -> None:
    clips, reference = clips_and_reference
    out = tmp_path / "cluster"
    driver = subprocess.Popen(_vidkp_on_cluster(node_loss_cluster, clips, out, weights), env=node_loss_cluster,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    killed: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and driver.poll() is None and not killed:
            node = _netns_pids("vkpn-worker")  # raylet, agents and Ray workers of the worker node only
            if _busy_pid(out, node) is not None:
                assert driver.pid not in node
                for pid in node:  # the whole node at once, as when the machine goes away
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                    except ProcessLookupError:
                        pass
            time.sleep(0.02)
        stdout, stderr = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert killed, "the worker node was never seen writing a part: " + stderr[-2000:]
    assert driver.returncode == 0, stdout[-2000:] + stderr[-2000:]
    assert "worker failed" in stderr, "the driver never saw the lost task: " + stderr[-2000:]
    rows = pd.read_parquet(out).sort_values(KEY).reset_index(drop=True)
    assert not rows.duplicated(KEY).any()
    pd.testing.assert_frame_equal(reference, rows)
    m = pd.read_parquet(out / "_manifest.parquet")
    assert sorted(m.video) == sorted(clips) and (m.status == "ok").all()
    assert m.worker.str.contains("10.213.8.1").any()
