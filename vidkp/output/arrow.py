"""Arrow arrays from numpy arrays and Python values, built from buffers.

`pyarrow.array` imports pandas the first time it runs (to test whether its input is a pandas
object): about half a second of start-up, and tens of MB in every worker, which only writes
Parquet. Building arrays from their buffers skips that check; the arrays are the same.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyarrow as pa

_NUMPY = {pa.int64(): np.int64, pa.float64(): np.float64, pa.float32(): np.float32}


def _validity(present: np.ndarray) -> pa.Buffer | None:
    """Arrow validity bitmap (LSB first) for a boolean mask; None when every value is present."""
    return None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))


def numeric(values: np.ndarray, type: pa.DataType | None = None) -> pa.Array:
    """A numeric array with `values`' data (cast to `type`'s numpy dtype when given); no nulls."""
    type = type or pa.from_numpy_dtype(values.dtype)
    data = np.ascontiguousarray(values, dtype=_NUMPY.get(type, values.dtype))
    return pa.Array.from_buffers(type, len(data), [None, pa.py_buffer(data)])


def strings(values: Sequence[str | None]) -> pa.Array:
    """A UTF-8 string array; None entries are nulls."""
    encoded = [b"" if v is None else str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    present = np.array([v is not None for v in values], bool)
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [_validity(present), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def column(values: Sequence[Any], type: pa.DataType) -> pa.Array:
    """An array of `type` (string, int64, float64 or float32) from Python values; None entries are nulls."""
    if type == pa.string():
        return strings(values)
    present = np.array([v is not None for v in values], bool)
    data = np.array([0 if v is None else v for v in values], dtype=_NUMPY[type])
    return pa.Array.from_buffers(type, len(data), [_validity(present), pa.py_buffer(data)])
