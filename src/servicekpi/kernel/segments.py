"""Operations over sorted runs (segments) of rows: forward fill, last-of, sums.

A *segment* is a run of consecutive rows that belong together (one ticket's events in
time order). Each function takes the rows' ``starts`` (the first row of each segment,
ascending, ``starts[0] == 0``) or a mask that is ``True`` on every segment's first row,
so nothing leaks from one segment into the next.

>>> import numpy as np
>>> values = np.array([0, 7, 0, 0, 0, 5, 0])
>>> defined = np.array([True, True, False, False, True, True, False])
>>> forward_fill(values, defined).tolist()
[0, 7, 7, 7, 0, 5, 5]
>>> segment_sums(np.array([1, 2, 3, 4, 5]), np.array([0, 2])).tolist()
[3, 12]

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = ("forward_fill", "last_index", "segment_sums")

_T = TypeVar("_T", bound=np.generic)


def _positions(defined: NDArray[np.bool_]) -> NDArray[np.integer[Any]]:
    if defined.size and not defined[0]:
        raise ValueError("forward_fill: the first row must be defined (a segment start)")
    # int32 halves the memory traffic of the running maximum when the rows allow it.
    index: NDArray[np.integer[Any]] = np.arange(
        defined.size, dtype=np.int32 if defined.size < 2**31 else np.int64)
    np.multiply(index, defined, out=index)
    np.maximum.accumulate(index, out=index)
    return index


def forward_fill(values: NDArray[_T], defined: NDArray[np.bool_]) -> NDArray[_T]:
    """Each row's value, or the value of the last ``defined`` row before it.

    Every segment's first row must be ``defined`` (it holds the segment's initial
    value), which keeps the fill inside segments.
    """
    filled: NDArray[_T] = values[_positions(defined)]
    return filled


def last_index(defined: NDArray[np.bool_]) -> NDArray[np.integer[Any]]:
    """For each row, the index of the last ``defined`` row at or before it."""
    return _positions(defined)


def segment_sums(values: NDArray[Any], starts: NDArray[np.integer[Any]],
                 dtype: Any = None) -> NDArray[Any]:
    """Sum of *values* over each segment ``[starts[i], starts[i + 1])`` (exact for ints).

    *starts* must be strictly increasing (``np.add.reduceat`` would give an empty
    segment the value of its first row); a start equal to ``len(values)`` sums to 0.
    *dtype* is the accumulator's (``np.int64`` for int32 values that may add up past
    2**31); default: the values' own.
    """
    kind = np.dtype(dtype) if dtype is not None else values.dtype
    out = np.zeros(starts.size, dtype=kind)
    inside = starts < values.size
    if inside.any():
        out[inside] = np.add.reduceat(values, starts[inside], dtype=kind)
    return out
