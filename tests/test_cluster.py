"""A real two-node Ray cluster (jobs/local_cluster.sh: nodes in network namespaces) gives exactly
the rows of a local serial run, with work done on both nodes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests._media import face_clip
from vidkp.distributed import run

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "jobs" / "local_cluster.sh"
ENV = {**os.environ, "VIDKP_CLUSTER_PREFIX": "vkpt", "VIDKP_CLUSTER_NET": "10.213.7",
       "RAY": str(Path(sys.executable).parent / "ray"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


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


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = _netns_usable()
    if reason:
        pytest.skip(reason)
    env = {**ENV, "VIDKP_CLUSTER_DIR": str(tmp_path_factory.mktemp("cluster"))}
    subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True)
    up = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    yield env
    subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, timeout=60)


def test_two_node_cluster_matches_local_run(cluster, weights, tmp_path: Path) -> None:
    clips = [face_clip(tmp_path / f"clip{i}.mp4", frames=8 + i) for i in range(4)]
    local = run([str(c) for c in clips], tmp_path / "local", workers=0, weights=weights)
    assert local.ok == 4
    out = tmp_path / "cluster"
    proc = subprocess.run([str(SCRIPT), "exec", sys.executable, "-m", "vidkp", "run", *map(str, clips),
                           "--out", str(out), "--workers", "2", "--weights", weights, "--quiet"],
                          env=cluster, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    key = ["video", "frame", "face_id"]
    a = pd.read_parquet(tmp_path / "local").sort_values(key).reset_index(drop=True)
    b = pd.read_parquet(out).sort_values(key).reset_index(drop=True)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)
    workers = pd.read_parquet(out / "_manifest.parquet")["worker"]
    assert workers.str.contains("10.213.7.1").any() and workers.str.contains("10.213.7.2").any(), workers.tolist()
