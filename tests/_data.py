"""Where the shared facial-keypoints data lives for tests (skipped cleanly when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "facial_keypoints"


def data_dir() -> Path:
    if not (DATA / "training_frames_keypoints.csv").is_file():
        pytest.skip(f"facial keypoints data not found at {DATA} (../shared/data beside the checkout)")
    return DATA
