"""Tracking stage: follow faces over frames (ids, scene cuts, One-Euro smoothing)."""
from vidkp.tracking.follow import FaceFollower, FollowConfig

__all__ = ["FaceFollower", "FollowConfig"]
