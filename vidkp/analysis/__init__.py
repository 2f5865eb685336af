"""Analysis of vidkp tracks (a pandas DataFrame of the output contract): head pose, eye and mouth
openness, blinks, short-gap filling, per-track summaries and Procrustes alignment.

Importing this package also registers the `tracks.vidkp` pandas accessor. Reference: docs/analysis.md.
"""
from vidkp.analysis.blinks import BLINK_COLUMNS, blinks
from vidkp.analysis.gaps import fill_gaps
from vidkp.analysis.openness import OPENNESS_COLUMNS, openness
from vidkp.analysis.pose import POSE_COLUMNS, head_pose
from vidkp.analysis.procrustes import mean_shape, procrustes_align
from vidkp.analysis.reference import REFERENCE_FACE
from vidkp.analysis.summary import SUMMARY_COLUMNS, analyse, summarize
from vidkp.analysis import accessor  # noqa: F401,E402 - registers DataFrame.vidkp


__all__ = ["BLINK_COLUMNS", "OPENNESS_COLUMNS", "POSE_COLUMNS", "REFERENCE_FACE", "SUMMARY_COLUMNS", "analyse",
           "blinks", "fill_gaps", "head_pose", "mean_shape", "openness", "procrustes_align", "summarize"]
