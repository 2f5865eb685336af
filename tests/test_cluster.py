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


def _cluster(tmp: Path) -> dict[str, str]:
    env = {**ENV, "VIDKP_CLUSTER_DIR": str(tmp)}
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
