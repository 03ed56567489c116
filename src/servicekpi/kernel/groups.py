"""Group reductions over int32 group codes: counts, sums, means, rates, min/max, quantiles.

Every function takes ``codes`` (integers in ``[-1, n_groups)``; ``-1`` = the row belongs
to no group) and returns one value per group, so a panel is a handful of ``bincount``
calls and one sort per quantile column. Missing values are masks (``mask=False`` rows
are skipped), never NaN propagation; an empty group gives ``NaN`` with count ``0``,
without a warning.

Quantiles are exact and equal to ``np.quantile(values_of_group, q)`` (numpy's default
"linear" method, reproduced operation for operation). For integer values (durations in
seconds) one ``np.sort`` of a combined int64 key — the group code in the high bits,
the value in the low bits — replaces ``lexsort``; any number of quantiles is then
index arithmetic on the sorted keys.

>>> import numpy as np
>>> codes = np.array([0, 0, 1, 0, 1], dtype=np.int32)
>>> values = np.array([10, 30, 5, 20, 7])
>>> group_count(codes, 3).tolist()
[3, 2, 0]
>>> mean, count = group_mean(codes, values, 3)
>>> mean.tolist(), count.tolist()
([20.0, 6.0, nan], [3, 2, 0])
>>> group_quantiles(codes, values, 3, [0.5, 0.9]).tolist()
[[20.0, 28.0], [6.0, 6.8], [nan, nan]]

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = (
    "Moments",
    "combine",
    "group_count",
    "group_counts",
    "group_max",
    "group_mean",
    "group_min",
    "group_moments",
    "group_quantiles",
    "group_quantiles_many",
    "group_rate",
    "group_sum",
    "group_summaries",
    "Summary",
    "ratio",
)

Codes = NDArray[np.integer[Any]]
Mask = NDArray[np.bool_] | None


def _check_codes(codes: ArrayLike, n_groups: int) -> NDArray[np.intp]:
    array = np.asarray(codes)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(f"'codes' must be a 1-D integer array (got {array.dtype} with "
                        f"shape {array.shape})")
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) \
            or n_groups < 0:
        raise ValueError(f"'n_groups' must be an integer >= 0 (got {n_groups!r})")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < -1 or high >= n_groups:
            raise ValueError(f"'codes' must lie in [-1, {n_groups}) (got [{low}, {high}])")
    return array


def _check_like(name: str, array: ArrayLike | None, codes: NDArray[Any],
                kind: str = "biuf") -> NDArray[Any] | None:
    if array is None:
        return None
    out = np.asarray(array)
    if out.shape != codes.shape:
        raise ValueError(f"{name!r} must have the shape of 'codes' {codes.shape} "
                         f"(got {out.shape})")
    if out.dtype.kind not in kind:
        raise TypeError(f"{name!r} has unsupported dtype {out.dtype}")
    return out


def _selected(codes: NDArray[np.intp], mask: NDArray[Any] | None) -> NDArray[np.bool_]:
    keep = codes >= 0
    return keep if mask is None else keep & mask.astype(bool, copy=False)


def ratio(numerator: ArrayLike, denominator: ArrayLike) -> NDArray[np.float64]:
    """``numerator / denominator`` with ``NaN`` (and no warning) where the denominator is 0.

    >>> ratio([1, 2], [2, 0]).tolist()
    [0.5, nan]
    """
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def group_count(codes: ArrayLike, n_groups: int, mask: Mask = None) -> NDArray[np.int64]:
    """Rows per group (rows with ``mask`` False or code ``-1`` are not counted)."""
    c = _check_codes(codes, n_groups)
    m = _check_like("mask", mask, c, "b")
    keep = _selected(c, m)
    if m is None and keep.all():
        return np.bincount(c, minlength=n_groups).astype(np.int64)
    return np.bincount(c[keep], minlength=n_groups).astype(np.int64)


def group_counts(codes: ArrayLike, masks: Sequence[ArrayLike],
                 n_groups: int) -> NDArray[np.int64]:
    """Rows per group under each of several masks, in one pass per eight masks.

    Row ``j`` of the result equals ``group_count(codes, n_groups, masks[j])``. The masks
    are packed into the bits of a byte, the byte is appended to the group code, and one
    ``bincount`` over ``code * 256 + bits`` counts every combination; a 0/1 matrix then
    reads each mask's counts. Ten boolean columns cost about two passes, not ten.

    >>> codes = np.array([0, 1, 1, 0])
    >>> group_counts(codes, [np.array([True, True, False, False]),
    ...                      np.array([False, True, True, True])], 2).tolist()
    [[1, 1], [1, 2]]
    """
    c = _check_codes(codes, n_groups)
    checked = []
    for mask in masks:
        m = _check_like("mask", mask, c, "b")
        if m is None:
            raise TypeError("'masks' must hold boolean arrays (got None)")
        checked.append(m.astype(bool, copy=False))
    out = np.zeros((len(checked), n_groups), dtype=np.int64)
    if not checked or n_groups == 0:
        return out
    # Bits per pass: keep the bincount table (groups × 2**bits) modest.
    bits = max(1, min(8, (1 << 24) // max(n_groups + 1, 1)).bit_length() - 1)
    bits = min(bits, 8)
    has_negative = bool(c.size) and int(c.min()) < 0
    for first in range(0, len(checked), bits):
        chunk = checked[first:first + bits]
        width = len(chunk)
        packed = np.zeros(c.shape, dtype=np.uint8)
        for j, mask in enumerate(chunk):
            packed |= mask.view(np.uint8) << np.uint8(j)
        key_type = np.int32 if (n_groups + 1) << width < 2**31 else np.int64
        key: NDArray[np.signedinteger[Any]] = c.astype(key_type)
        if has_negative:
            key[key < 0] = n_groups
        key <<= width
        key |= packed
        table = np.bincount(key, minlength=(n_groups + 1) << width)
        table = table.reshape(n_groups + 1, 1 << width)[:n_groups]
        combos = np.arange(1 << width)
        selector = ((combos[:, None] >> np.arange(width)[None, :]) & 1).astype(np.int64)
        out[first:first + width] = (table @ selector).T
    return out


def group_sum(codes: ArrayLike, values: ArrayLike, n_groups: int,
              mask: Mask = None) -> NDArray[np.float64]:
    """Sum of ``values`` per group; an empty group sums to 0.

    Integer-valued inputs (seconds, cents) sum exactly while totals stay below 2**53.
    """
    c = _check_codes(codes, n_groups)
    v = _check_like("values", values, c)
    m = _check_like("mask", mask, c, "b")
    if v is None:  # pragma: no cover - _check_like only returns None for None
        raise TypeError("'values' is required")
    keep = _selected(c, m)
    if m is None and keep.all():
        total = np.bincount(c, weights=v.astype(np.float64, copy=False), minlength=n_groups)
    else:
        total = np.bincount(c[keep], weights=v[keep].astype(np.float64, copy=False),
                            minlength=n_groups)
    return np.asarray(total, dtype=np.float64)


class Moments(NamedTuple):
    """Mergeable partial state of a mean: per-group row count ``n`` and ``total``.

    States of the same groups merge by addition (:func:`combine`), which is what makes
    a month the exact sum of its days and a partitioned computation exact.
    """

    n: NDArray[np.int64]
    total: NDArray[np.float64]

    @property
    def mean(self) -> NDArray[np.float64]:
        """``total / n``, ``NaN`` for empty groups."""
        return ratio(self.total, self.n)


def group_moments(codes: ArrayLike, values: ArrayLike, n_groups: int,
                  mask: Mask = None) -> Moments:
    """Count and total of ``values`` per group."""
    return Moments(group_count(codes, n_groups, mask),
                   group_sum(codes, values, n_groups, mask))


def combine(*states: Moments) -> Moments:
    """Merge partial states of the same groups by adding counts and totals.

    >>> a = Moments(np.array([1, 0]), np.array([5.0, 0.0]))
    >>> b = Moments(np.array([1, 2]), np.array([7.0, 4.0]))
    >>> combine(a, b).mean.tolist()
    [6.0, 2.0]
    """
    if not states:
        raise ValueError("combine() needs at least one state")
    shape = states[0].n.shape
    for state in states:
        if state.n.shape != shape or state.total.shape != shape:
            raise ValueError(f"states must cover the same groups (got shapes "
                             f"{state.n.shape} and {shape})")
    return Moments(np.sum([s.n for s in states], axis=0, dtype=np.int64),
                   np.sum([s.total for s in states], axis=0, dtype=np.float64))


def group_mean(codes: ArrayLike, values: ArrayLike, n_groups: int,
               mask: Mask = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Mean per group and its denominator (the count); ``NaN`` where the count is 0."""
    moments = group_moments(codes, values, n_groups, mask)
    return moments.mean, moments.n


def group_rate(codes: ArrayLike, hits: ArrayLike, eligible: ArrayLike | None,
               n_groups: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Share of eligible rows that are hits, per group, and its denominator.

    Hits outside the eligible rows do not count, so the rate always lies in [0, 1].

    >>> rate, den = group_rate(np.array([0, 0, 1]), np.array([True, False, True]),
    ...                        np.array([True, True, False]), 2)
    >>> rate.tolist(), den.tolist()
    ([0.5, nan], [2, 0])
    """
    c = _check_codes(codes, n_groups)
    h = _check_like("hits", hits, c, "b")
    e = _check_like("eligible", eligible, c, "b")
    if h is None:  # pragma: no cover - guarded by the signature
        raise TypeError("'hits' is required")
    denominator = group_count(c, n_groups, e)
    numerator = group_count(c, n_groups, h if e is None else h & e)
    return ratio(numerator, denominator), denominator


def _extreme(codes: ArrayLike, values: ArrayLike, n_groups: int, mask: Mask,
             largest: bool) -> NDArray[np.float64]:
    c = _check_codes(codes, n_groups)
    v = _check_like("values", values, c)
    m = _check_like("mask", mask, c, "b")
    if v is None:  # pragma: no cover
        raise TypeError("'values' is required")
    keep = _selected(c, m)
    out = np.full(n_groups, -np.inf if largest else np.inf)
    ufunc = np.maximum if largest else np.minimum
    ufunc.at(out, c[keep], v[keep].astype(np.float64, copy=False))
    out[group_count(c, n_groups, keep) == 0] = np.nan
    return out


def group_min(codes: ArrayLike, values: ArrayLike, n_groups: int,
              mask: Mask = None) -> NDArray[np.float64]:
    """Smallest value per group; ``NaN`` for an empty group."""
    return _extreme(codes, values, n_groups, mask, largest=False)


def group_max(codes: ArrayLike, values: ArrayLike, n_groups: int,
              mask: Mask = None) -> NDArray[np.float64]:
    """Largest value per group; ``NaN`` for an empty group."""
    return _extreme(codes, values, n_groups, mask, largest=True)


def group_quantiles(codes: ArrayLike, values: ArrayLike, n_groups: int,
                    qs: Sequence[float] | ArrayLike, mask: Mask = None) -> NDArray[np.float64]:
    """Exact quantiles per group: row ``g`` equals ``np.quantile(values[codes == g], qs)``.

    Args:
        codes: group code per row (``-1`` = no group).
        values: int or float values; NaN values are rejected (mask them instead).
        n_groups: number of groups.
        qs: quantiles in [0, 1], any number at once (one sort serves them all).
        mask: rows to use.

    Returns:
        float64 array of shape ``(n_groups, len(qs))``; ``NaN`` rows for empty groups.
    """
    return group_quantiles_many(codes, [(values, mask)], n_groups, qs, threads=1)[0]


class Summary(NamedTuple):
    """Per-group count ``n``, exact ``total`` and quantiles of one column."""

    n: NDArray[np.int64]
    total: NDArray[np.float64]
    quantiles: NDArray[np.float64]


def group_summaries(codes: ArrayLike, columns: Sequence[tuple[ArrayLike, ArrayLike | None]],
                    n_groups: int, qs: Sequence[float] | ArrayLike,
                    threads: int = 2) -> list[Summary]:
    """Count, sum and quantiles of several ``(values, mask)`` columns from one sort each.

    For integer values the sums are exact integers (taken from the sorted keys), so a
    mean from a summary is ``total / n`` without rounding in the sum.

    >>> s = group_summaries(np.array([0, 0, 1]), [(np.array([4, 6, 9]), None)], 2, [0.5])[0]
    >>> s.n.tolist(), s.total.tolist(), s.quantiles.tolist()
    ([2, 1], [10.0, 9.0], [[5.0], [9.0]])
    """
    return _many(codes, columns, n_groups, qs, threads)


def group_quantiles_many(codes: ArrayLike,
                         columns: Sequence[tuple[ArrayLike, ArrayLike | None]],
                         n_groups: int, qs: Sequence[float] | ArrayLike,
                         threads: int = 2) -> list[NDArray[np.float64]]:
    """:func:`group_quantiles` of several ``(values, mask)`` columns over the same groups.

    The sorts are independent and numpy releases the GIL while sorting, so *threads*
    workers use the cores; each worker reuses one key buffer across its columns.
    """
    return [summary.quantiles for summary in _many(codes, columns, n_groups, qs, threads)]


def _many(codes: ArrayLike, columns: Sequence[tuple[ArrayLike, ArrayLike | None]],
          n_groups: int, qs: Sequence[float] | ArrayLike, threads: int) -> list[Summary]:
    c = _check_codes(codes, n_groups)
    q = np.atleast_1d(np.asarray(qs, dtype=np.float64))
    if q.ndim != 1 or np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise ValueError(f"'qs' must be quantiles in [0, 1] (got {np.asarray(qs).tolist()!r})")
    checked = []
    for values, mask in columns:
        v = _check_like("values", values, c)
        m = _check_like("mask", mask, c, "b")
        if v is None:  # pragma: no cover
            raise TypeError("'values' is required")
        keep = _selected(c, m)
        if v.dtype.kind == "f" and np.isnan(v[keep]).any():
            raise ValueError("'values' contains NaN: pass a mask for missing values")
        checked.append((v, keep))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"'threads' must be an integer >= 1 (got {threads!r})")
    if not checked:
        return []
    if threads == 1 or len(checked) == 1:
        buffer: list[NDArray[np.int64]] = []
        return [_quantiles_of(c, v, keep, n_groups, q, buffer) for v, keep in checked]
    workers = min(threads, len(checked))
    buffers: list[list[NDArray[np.int64]]] = [[] for _ in range(workers)]
    results: list[Summary | None] = [None] * len(checked)

    def run(worker: int) -> None:
        for index in range(worker, len(checked), workers):
            v, keep = checked[index]
            results[index] = _quantiles_of(c, v, keep, n_groups, q, buffers[worker])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, w) for w in range(workers)]:
            future.result()
    return [r for r in results if r is not None]


def _quantiles_of(codes: NDArray[Any], values: NDArray[Any], keep: NDArray[np.bool_],
                  n_groups: int, q: NDArray[np.float64],
                  buffer: list[NDArray[np.int64]]) -> Summary:
    """Sort one column by (group, value); read counts, sums and every quantile."""
    if not keep.any():
        return Summary(np.zeros(n_groups, dtype=np.int64), np.zeros(n_groups),
                       np.full((n_groups, len(q)), np.nan))
    if values.dtype.kind in "iub" and values.dtype != np.int64:
        fits = values.dtype.kind != "u" or values.dtype.itemsize < 8 or (
            not values.size or int(values.max()) <= np.iinfo(np.int64).max)
        values = values.astype(np.int64 if fits else np.float64)
    if values.dtype.kind == "i":
        if np.count_nonzero(keep) * 2 < keep.size:
            # A sparse selection sorts faster compressed than parked in an extra group.
            codes, values = codes[keep], values[keep]
            keep = np.ones(codes.shape, dtype=bool)
        low = int(values.min(where=keep, initial=np.iinfo(np.int64).max))
        high = int(values.max(where=keep, initial=np.iinfo(np.int64).min))
        bits = max(1, (high - low).bit_length())
        if bits + int(n_groups + 1).bit_length() <= 62:
            # Rows outside the selection go to the extra group n_groups, which sorts
            # last and is never read: no compressed copies of codes and values.
            if len(buffer) == 1 and buffer[0].shape == codes.shape:
                key = buffer[0]
                np.copyto(key, codes, casting="unsafe")
            else:
                key = codes.astype(np.int64)
                buffer[:] = [key]
            key[~keep] = n_groups
            key <<= bits
            np.add(key, values, out=key, where=keep, casting="unsafe")
            if low:
                np.subtract(key, low, out=key, where=keep)
            key.sort()
            edges = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << bits)
            counts = np.diff(edges)
            value_mask = (1 << bits) - 1
            used = int(edges[-1])
            # Exact integer sums per group: the value bits of the group's keys, summed
            # over its slice (low is added back once per row).
            # reduceat over the starts of the non-empty groups only: consecutive starts
            # then bound exactly one group's slice each.
            present = counts > 0
            stripped = np.bitwise_and(key[:used], value_mask)
            sums = np.zeros(n_groups, dtype=np.int64)
            sums[present] = np.add.reduceat(stripped, edges[:-1][present])
            sums[present] += counts[present] * low

            def read(index: NDArray[np.intp]) -> NDArray[Any]:
                # int64, as numpy interpolates integers: b - a in int64, then floats.
                return (key[index] & value_mask) + low

            return Summary(counts.astype(np.int64), sums.astype(np.float64),
                           _pick(read, edges[:-1], counts, q))
    order = np.lexsort((values[keep], codes[keep]))
    ordered = values[keep][order].astype(np.float64)
    counts = np.bincount(codes[keep], minlength=n_groups)
    starts = np.cumsum(counts) - counts

    def read_float(index: NDArray[np.intp]) -> NDArray[np.float64]:
        return ordered[index]

    totals = np.bincount(codes[keep], weights=values[keep].astype(np.float64),
                         minlength=n_groups)
    return Summary(counts.astype(np.int64), np.asarray(totals, dtype=np.float64),
                   _pick(read_float, starts, counts, q))


def _pick(read: Callable[[NDArray[np.intp]], NDArray[Any]], starts: NDArray[Any],
          counts: NDArray[Any], q: NDArray[np.float64]) -> NDArray[np.float64]:
    """numpy's "linear" quantile on each group's slice of the sorted values."""
    n_groups = len(counts)
    out = np.full((n_groups, len(q)), np.nan)
    present = counts > 0
    if not present.any():
        return out
    n = counts[present].astype(np.float64)[:, None]
    first = starts[present].astype(np.float64)[:, None]
    # Same operations, in the same order, as numpy's "linear" method: the virtual
    # index (n - 1) * q, then _get_indexes and _lerp.
    virtual = (n - 1) * q[None, :]
    previous = np.floor(virtual)
    nxt = previous + 1
    last = n - 1
    above = virtual >= last
    previous = np.where(above, last, previous)
    nxt = np.where(above, last, nxt)
    below = virtual < 0
    previous = np.where(below, 0, previous)
    nxt = np.where(below, 0, nxt)
    gamma = virtual - previous
    a = read((first + previous).astype(np.intp))
    b = read((first + nxt).astype(np.intp))
    diff = b - a
    result = a + diff * gamma
    upper = gamma >= 0.5
    result[upper] = (b - diff * (1 - gamma))[upper]
    out[present] = result
    return out
