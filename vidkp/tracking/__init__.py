"""Tracking stage: follow faces over frames (ids, scene cuts, One-Euro smoothing)."""
