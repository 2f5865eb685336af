"""Landmark stage: 68 iBUG points for face boxes (crop geometry, shape helpers, the network at run time)."""
from vidkp.landmarks.model import (DEFAULT_WEIGHTS, MAX_SHIFT_ERROR, STILL_JITTER, LandmarkModel, PointNetwork,
                                   default_weights_path, read_metadata)

__all__ = ["DEFAULT_WEIGHTS", "MAX_SHIFT_ERROR", "STILL_JITTER", "LandmarkModel", "PointNetwork",
           "default_weights_path", "read_metadata"]
