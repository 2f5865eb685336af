"""`tracks.vidkp.<function>()`: the analysis functions as a pandas accessor (registered on import
of `vidkp.analysis`); each returns what the function of the same name returns."""
from __future__ import annotations

import numpy as np
import pandas as pd

from vidkp.analysis.blinks import blinks
from vidkp.analysis.gaps import fill_gaps
from vidkp.analysis.openness import openness
from vidkp.analysis.pose import FrameSize, head_pose
from vidkp.analysis.procrustes import mean_shape, procrustes_align
from vidkp.analysis.summary import analyse, summarize


@pd.api.extensions.register_dataframe_accessor("vidkp")
class VidkpAccessor:
    """Analysis of a vidkp tracks DataFrame."""

    def __init__(self, tracks: pd.DataFrame) -> None:
        self._t = tracks

    def head_pose(self, frame_size: FrameSize = None, convention: str = "screen") -> pd.DataFrame:
        return head_pose(self._t, frame_size, convention)

    def openness(self) -> pd.DataFrame:
        return openness(self._t)

    def blinks(self, **params: float) -> pd.DataFrame:
        return blinks(self._t, **params)

    def fill_gaps(self, max_missing: int = 5) -> pd.DataFrame:
        return fill_gaps(self._t, max_missing)

    def summarize(self, frame_size: FrameSize = None) -> pd.DataFrame:
        return summarize(self._t, frame_size)

    def mean_shape(self) -> np.ndarray:
        return mean_shape(self._t)

    def procrustes_align(self, reference: np.ndarray | None = None) -> pd.DataFrame:
        return procrustes_align(self._t, reference)

    def analyse(self, frame_size: FrameSize = None) -> pd.DataFrame:
        """The tracks with the pose and openness columns added."""
        return analyse(self._t, frame_size)
