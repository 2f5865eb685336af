"""vidkp: batch 68-point facial keypoints for videos and images."""
from importlib.metadata import PackageNotFoundError, version

from vidkp.faces import Faces
from vidkp.landmarker import Face, FaceLandmarker

try:
    __version__ = version("vidkp")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

from vidkp.config import RunConfig  # noqa: E402 - after __version__, which they report
from vidkp.batch.run import RunSummary, load_manifest, load_tracks, run  # noqa: E402

__all__ = ["Face", "FaceLandmarker", "Faces", "RunConfig", "RunSummary", "__version__", "load_manifest",
           "load_tracks", "run"]
