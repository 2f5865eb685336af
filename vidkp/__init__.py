"""vidkp: batch 68-point facial keypoints for videos and images."""
from importlib.metadata import PackageNotFoundError, version

from vidkp.faces import Faces
from vidkp.landmarks import Face, FaceLandmarker

try:
    __version__ = version("vidkp")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["Face", "FaceLandmarker", "Faces", "__version__"]
