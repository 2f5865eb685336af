"""Detection stage: Haar cascades propose face boxes; candidates are verified by the landmark model.

Swap the detector by passing any `Detector` (a callable from a BGR image to `Faces`) to
`FaceLandmarker(detector=...)` or `FaceFollower(..., detector)`."""
from vidkp.detect.candidates import ACCEPT_SCORE, Detector, PointModel, find_faces
from vidkp.detect.haar import HaarDetector

__all__ = ["ACCEPT_SCORE", "Detector", "HaarDetector", "PointModel", "find_faces"]
