"""Tests of servicekpi.kernel.groups: every reduction against a naive per-group reference.

The references loop over the groups in plain Python (``np.quantile`` per group for the
quantiles); the properties run over random codes (``-1`` = no group), int and float
values, masks and group counts that leave some groups empty.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi.kernel import MISSING
from servicekpi.kernel.groups import (
    Moments,
    Summary,
    combine,
    group_count,
    group_counts,
    group_max,
    group_mean,
    group_min,
    group_moments,
    group_quantiles,
    group_quantiles_many,
    group_rate,
    group_sum,
    group_summaries,
    ratio,
)

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

QS = (0.0, 0.1, 0.25, 0.5, 0.9, 1.0)

Array = NDArray[Any]


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


@contextmanager
def no_warnings() -> Iterator[None]:
    """Fail on any warning (also without the pytest configuration)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------- strategies


class Case(NamedTuple):
    """Codes, values and an optional mask over ``n_groups`` groups."""

    codes: NDArray[np.int32]
    values: Array
    mask: NDArray[np.bool_] | None
    n_groups: int


INTS = st.integers(min_value=-10**9, max_value=10**9)
FEW_INTS = st.integers(min_value=-3, max_value=3)  # many ties
FLOATS = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def cases(draw: st.DrawFn, kind: str = "int", *, with_mask: bool | None = None,
          min_groups: int = 0) -> Case:
    """Random codes in [-1, n_groups), values of *kind*, maybe a mask."""
    n_groups = draw(st.integers(min_value=min_groups, max_value=6))
    n = draw(st.integers(min_value=0, max_value=40))
    codes = draw(st.lists(st.integers(min_value=-1, max_value=n_groups - 1),
                          min_size=n, max_size=n))
    if kind == "int":
        elements: st.SearchStrategy[Any] = st.one_of(INTS, FEW_INTS)
        values: Array = np.array(draw(st.lists(elements, min_size=n, max_size=n)),
                                 dtype=np.int64)
    else:
        elements = st.one_of(FLOATS, FEW_INTS.map(float))
        values = np.array(draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64)
    masked = draw(st.booleans()) if with_mask is None else with_mask
    mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool) \
        if masked else None
    return Case(np.array(codes, dtype=np.int32), values, mask, n_groups)


any_cases = st.one_of(cases("int"), cases("float"))


# --------------------------------------------------------------------------- references


def members(case: Case) -> list[list[Any]]:
    """The values of each group, in row order (code -1 and masked-out rows dropped)."""
    out: list[list[Any]] = [[] for _ in range(case.n_groups)]
    for i, code in enumerate(case.codes.tolist()):
        if code >= 0 and (case.mask is None or bool(case.mask[i])):
            out[code].append(case.values[i].item())
    return out


def ref_quantiles(case: Case, qs: tuple[float, ...]) -> NDArray[np.float64]:
    rows = []
    for group in members(case):
        if group:
            rows.append(np.quantile(np.array(group, dtype=case.values.dtype), qs))
        else:
            rows.append(np.full(len(qs), np.nan))
    return np.array(rows, dtype=np.float64).reshape(case.n_groups, len(qs))


def ref_total(group: list[Any]) -> float:
    """The exact total (ints) or the correctly rounded one (floats)."""
    if all(isinstance(v, int) for v in group):
        return float(sum(group))
    return math.fsum(group)


def assert_sums_close(expected: list[float], actual: NDArray[np.float64],
                      groups: list[list[Any]]) -> None:
    """Float sums: equal up to rounding (relative to the sum of magnitudes)."""
    for exp, got, group in zip(expected, actual.tolist(), groups, strict=True):
        scale = math.fsum(abs(v) for v in group)
        assert abs(exp - got) <= 1e-12 * scale + 0.0


def permuted(case: Case, order: NDArray[np.intp]) -> Case:
    mask = None if case.mask is None else case.mask[order]
    return Case(case.codes[order], case.values[order], mask, case.n_groups)


orders = st.integers(min_value=0, max_value=2**32 - 1).map(
    lambda seed: np.random.default_rng(seed))


def permutation(rng: np.random.Generator, n: int) -> NDArray[np.intp]:
    return rng.permutation(n).astype(np.intp)


# --------------------------------------------------------------------------- properties


class TestAgainstReference:
    """Every reduction equals a naive per-group loop in plain Python."""

    @PROPERTY
    @given(any_cases)
    def test_group_count(self, case: Case) -> None:
        expected = [len(g) for g in members(case)]
        with no_warnings():
            actual = group_count(case.codes, case.n_groups, case.mask)
        assert np.int64 == actual.dtype
        assert expected == actual.tolist()

    @PROPERTY
    @given(cases("int"))
    def test_group_sum_of_ints_is_exact(self, case: Case) -> None:
        expected = [ref_total(g) for g in members(case)]
        with no_warnings():
            actual = group_sum(case.codes, case.values, case.n_groups, case.mask)
        assert np.float64 == actual.dtype
        assert expected == actual.tolist()

    @PROPERTY
    @given(cases("float"))
    def test_group_sum_of_floats(self, case: Case) -> None:
        groups = members(case)
        with no_warnings():
            actual = group_sum(case.codes, case.values, case.n_groups, case.mask)
        assert_sums_close([ref_total(g) for g in groups], actual, groups)

    @PROPERTY
    @given(cases("int"))
    def test_group_mean_and_moments(self, case: Case) -> None:
        groups = members(case)
        with no_warnings():
            mean, count = group_mean(case.codes, case.values, case.n_groups, case.mask)
            moments = group_moments(case.codes, case.values, case.n_groups, case.mask)
        assert [len(g) for g in groups] == count.tolist() == moments.n.tolist()
        assert [ref_total(g) for g in groups] == moments.total.tolist()
        expected = [sum(g) / len(g) if g else math.nan for g in groups]
        np.testing.assert_allclose(mean, expected, rtol=1e-15)
        assert np.array_equal(mean, moments.mean, equal_nan=True)

    @PROPERTY
    @given(any_cases)
    def test_group_min_and_max(self, case: Case) -> None:
        groups = members(case)
        with no_warnings():
            low = group_min(case.codes, case.values, case.n_groups, case.mask)
            high = group_max(case.codes, case.values, case.n_groups, case.mask)
        expected_low = [float(min(g)) if g else math.nan for g in groups]
        expected_high = [float(max(g)) if g else math.nan for g in groups]
        assert np.array_equal(np.array(expected_low), low, equal_nan=True)
        assert np.array_equal(np.array(expected_high), high, equal_nan=True)

    @PROPERTY
    @given(any_cases, st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=4))
    def test_group_quantiles_equal_np_quantile_exactly(self, case: Case,
                                                       qs: list[float]) -> None:
        with no_warnings():
            actual = group_quantiles(case.codes, case.values, case.n_groups, qs, case.mask)
        assert (case.n_groups, len(qs)) == actual.shape
        assert np.array_equal(ref_quantiles(case, tuple(qs)), actual, equal_nan=True)

    @PROPERTY
    @given(any_cases, st.booleans())
    def test_group_rate(self, case: Case, all_eligible: bool) -> None:
        rng = np.random.default_rng(len(case.codes))
        hits = rng.random(len(case.codes)) < 0.5
        eligible = None if all_eligible else case.mask
        numerator = [0] * case.n_groups
        denominator = [0] * case.n_groups
        for i, code in enumerate(case.codes.tolist()):
            if code >= 0 and (eligible is None or bool(eligible[i])):
                denominator[code] += 1
                numerator[code] += bool(hits[i])
        with no_warnings():
            rate, den = group_rate(case.codes, hits, eligible, case.n_groups)
        assert denominator == den.tolist()
        expected = [n / d if d else math.nan for n, d in zip(numerator, denominator)]
        assert np.array_equal(np.array(expected), rate, equal_nan=True)

    @PROPERTY
    @given(any_cases, st.integers(min_value=0, max_value=20))
    def test_group_counts_is_one_group_count_per_mask(self, case: Case, n_masks: int) -> None:
        rng = np.random.default_rng(n_masks)
        masks = [rng.random(len(case.codes)) < p for p in rng.random(n_masks)]
        with no_warnings():
            actual = group_counts(case.codes, masks, case.n_groups)
        assert (n_masks, case.n_groups) == actual.shape
        assert np.int64 == actual.dtype
        for j, mask in enumerate(masks):
            expected = [len(g) for g in members(case._replace(mask=mask))]
            assert expected == actual[j].tolist()
            assert expected == group_count(case.codes, case.n_groups, mask).tolist()

    @PROPERTY
    @given(st.lists(any_cases.map(lambda c: (c.values, c.mask)), min_size=1, max_size=4),
           st.integers(min_value=0, max_value=5), st.data())
    def test_group_summaries(self, columns: list[tuple[Array, Array | None]],
                             n_groups: int, data: st.DataObject) -> None:
        # One set of codes for every column: re-draw codes of the columns' length.
        n = min((len(v) for v, _ in columns), default=0)
        columns = [(v[:n], None if m is None else m[:n]) for v, m in columns]
        codes = np.array(data.draw(st.lists(st.integers(-1, n_groups - 1), min_size=n,
                                            max_size=n)), dtype=np.int32)
        with no_warnings():
            summaries = group_summaries(codes, columns, n_groups, QS)
        assert len(columns) == len(summaries)
        for (values, mask), summary in zip(columns, summaries, strict=True):
            case = Case(codes, values, mask, n_groups)
            groups = members(case)
            assert isinstance(summary, Summary)
            assert [len(g) for g in groups] == summary.n.tolist()
            if values.dtype.kind == "i":
                assert [ref_total(g) for g in groups] == summary.total.tolist()
            else:
                assert_sums_close([ref_total(g) for g in groups], summary.total, groups)
            assert np.array_equal(ref_quantiles(case, QS), summary.quantiles, equal_nan=True)

    @PROPERTY
    @given(st.lists(any_cases.map(lambda c: (c.values, c.mask)), min_size=1, max_size=5),
           st.integers(min_value=1, max_value=4), st.data())
    def test_group_quantiles_many_is_group_quantiles_per_column(
            self, columns: list[tuple[Array, Array | None]], n_groups: int,
            data: st.DataObject) -> None:
        n = min(len(v) for v, _ in columns)
        columns = [(v[:n], None if m is None else m[:n]) for v, m in columns]
        codes = np.array(data.draw(st.lists(st.integers(-1, n_groups - 1), min_size=n,
                                            max_size=n)), dtype=np.int32)
        many = group_quantiles_many(codes, columns, n_groups, QS)
        for (values, mask), actual in zip(columns, many, strict=True):
            single = group_quantiles(codes, values, n_groups, QS, mask)
            assert np.array_equal(single, actual, equal_nan=True)
            assert np.array_equal(ref_quantiles(Case(codes, values, mask, n_groups), QS),
                                  actual, equal_nan=True)


class TestProperties:
    """Order independence, rates in [0, 1], mergeable moments, threads."""

    @PROPERTY
    @given(any_cases, orders)
    def test_permuting_rows_changes_nothing(self, case: Case,
                                            rng: np.random.Generator) -> None:
        other = permuted(case, permutation(rng, len(case.codes)))
        c, n = case.n_groups, case.mask
        assert np.array_equal(group_count(case.codes, c, n),
                              group_count(other.codes, c, other.mask))
        for reduce in (group_min, group_max):
            assert np.array_equal(reduce(case.codes, case.values, c, n),
                                  reduce(other.codes, other.values, c, other.mask),
                                  equal_nan=True)
        assert np.array_equal(group_quantiles(case.codes, case.values, c, QS, n),
                              group_quantiles(other.codes, other.values, c, QS, other.mask),
                              equal_nan=True)
        a = group_summaries(case.codes, [(case.values, n)], c, QS)[0]
        b = group_summaries(other.codes, [(other.values, other.mask)], c, QS)[0]
        assert np.array_equal(a.n, b.n)
        assert np.array_equal(a.quantiles, b.quantiles, equal_nan=True)
        if case.values.dtype.kind == "i":  # integer sums are exact, so order-free
            assert np.array_equal(a.total, b.total)
            assert np.array_equal(group_sum(case.codes, case.values, c, n),
                                  group_sum(other.codes, other.values, c, other.mask))
        else:  # float sums round in row order: equal up to rounding
            assert_sums_close(a.total.tolist(), b.total, members(case))

    @PROPERTY
    @given(any_cases)
    def test_rates_lie_in_unit_interval(self, case: Case) -> None:
        hits = case.values > 0
        rate, den = group_rate(case.codes, hits, case.mask, case.n_groups)
        present = den > 0
        assert np.isnan(rate[~present]).all()
        assert ((0 <= rate[present]) & (rate[present] <= 1)).all()

    @PROPERTY
    @given(cases("int"), st.integers(min_value=0, max_value=40), st.integers(1, 4))
    def test_combine_of_a_split_is_the_whole(self, case: Case, cut: int, parts: int) -> None:
        n = len(case.codes)
        bounds = sorted({0, n, *(min(n, cut * k) for k in range(1, parts))})
        states = []
        for start, stop in zip(bounds, bounds[1:]):
            mask = None if case.mask is None else case.mask[start:stop]
            states.append(group_moments(case.codes[start:stop], case.values[start:stop],
                                        case.n_groups, mask))
        whole = group_moments(case.codes, case.values, case.n_groups, case.mask)
        if not states:
            states = [whole]
        merged = combine(*states)
        assert np.array_equal(whole.n, merged.n)
        assert np.array_equal(whole.total, merged.total)  # integer totals: exact
        assert np.array_equal(whole.mean, merged.mean, equal_nan=True)

    @PROPERTY
    @given(cases("float"), st.integers(min_value=0, max_value=40))
    def test_combine_of_float_moments(self, case: Case, cut: int) -> None:
        a = group_moments(case.codes[:cut], case.values[:cut], case.n_groups,
                          None if case.mask is None else case.mask[:cut])
        b = group_moments(case.codes[cut:], case.values[cut:], case.n_groups,
                          None if case.mask is None else case.mask[cut:])
        whole = group_moments(case.codes, case.values, case.n_groups, case.mask)
        merged = combine(a, b)
        assert np.array_equal(whole.n, merged.n)
        assert_sums_close(whole.total.tolist(), merged.total, members(case))

    @PROPERTY
    @given(st.lists(any_cases.map(lambda c: (c.values, c.mask)), min_size=1, max_size=5),
           st.integers(min_value=0, max_value=4), st.data())
    def test_threads_do_not_change_results(self, columns: list[tuple[Array, Array | None]],
                                           n_groups: int, data: st.DataObject) -> None:
        n = min(len(v) for v, _ in columns)
        columns = [(v[:n], None if m is None else m[:n]) for v, m in columns]
        codes = np.array(data.draw(st.lists(st.integers(-1, n_groups - 1), min_size=n,
                                            max_size=n)), dtype=np.int32)
        one = group_summaries(codes, columns, n_groups, QS, threads=1)
        two = group_summaries(codes, columns, n_groups, QS, threads=2)
        three = group_quantiles_many(codes, columns, n_groups, QS, threads=3)
        for a, b, q in zip(one, two, three, strict=True):
            assert np.array_equal(a.n, b.n)
            assert np.array_equal(a.total, b.total)
            assert np.array_equal(a.quantiles, b.quantiles, equal_nan=True)
            assert np.array_equal(a.quantiles, q, equal_nan=True)

    @PROPERTY
    @given(st.lists(st.integers(min_value=0, max_value=10), max_size=20),
           st.lists(st.integers(min_value=0, max_value=10), max_size=20))
    def test_ratio(self, numerator: list[int], denominator: list[int]) -> None:
        size = min(len(numerator), len(denominator))
        num, den = np.array(numerator[:size]), np.array(denominator[:size])
        with no_warnings():
            actual = ratio(num, den)
        expected = [a / b if b else math.nan for a, b in zip(num.tolist(), den.tolist())]
        assert np.array_equal(np.array(expected, dtype=np.float64), actual, equal_nan=True)


# --------------------------------------------------------------------------- units


class TestEmptyGroups:
    """Empty groups give NaN (count 0) without a warning; sums give 0."""

    CODES = np.array([0, 0, 2, -1], dtype=np.int32)
    VALUES = np.array([3, 5, 7, 100])

    def test_every_reduction(self) -> None:
        with no_warnings():
            assert [2, 0, 1, 0] == group_count(self.CODES, 4).tolist()
            assert [8.0, 0.0, 7.0, 0.0] == group_sum(self.CODES, self.VALUES, 4).tolist()
            mean, count = group_mean(self.CODES, self.VALUES, 4)
            assert [4.0, 7.0] == mean[[0, 2]].tolist()
            assert np.isnan(mean[[1, 3]]).all()
            assert [2, 0, 1, 0] == count.tolist()
            assert np.isnan(group_min(self.CODES, self.VALUES, 4)[[1, 3]]).all()
            assert np.isnan(group_max(self.CODES, self.VALUES, 4)[[1, 3]]).all()
            quantiles = group_quantiles(self.CODES, self.VALUES, 4, [0.5, 0.9])
            assert np.isnan(quantiles[[1, 3]]).all()
            assert [[4.0, 4.8], [7.0, 7.0]] == quantiles[[0, 2]].tolist()
            rate, den = group_rate(self.CODES, self.VALUES > 4, None, 4)
            assert [0, 2] == [i for i in range(4) if not np.isnan(rate[i])]
            assert [2, 0, 1, 0] == den.tolist()

    def test_every_row_masked_out(self) -> None:
        mask = np.zeros(4, dtype=bool)
        with no_warnings():
            summary = group_summaries(self.CODES, [(self.VALUES, mask)], 4, [0.5])[0]
            assert [0, 0, 0, 0] == summary.n.tolist()
            assert [0.0, 0.0, 0.0, 0.0] == summary.total.tolist()
            assert np.isnan(summary.quantiles).all()
            assert np.isnan(group_mean(self.CODES, self.VALUES, 4, mask)[0]).all()

    def test_no_rows_and_no_groups(self) -> None:
        empty = np.zeros(0, dtype=np.int32)
        with no_warnings():
            assert (0,) == group_count(empty, 0).shape
            assert (0, 2) == group_quantiles(empty, np.zeros(0), 0, [0.1, 0.2]).shape
            assert (3, 0) == group_counts(empty, [empty.astype(bool)] * 3, 0).shape
            assert (0, 0) == group_counts(empty, [], 0).shape
            assert [0, 0] == group_count(empty, 2).tolist()

    def test_no_group_rows_are_ignored(self) -> None:
        codes = np.array([-1, -1, -1])
        with no_warnings():
            assert [0, 0] == group_count(codes, 2).tolist()
            assert np.isnan(group_quantiles(codes, np.array([1.0, 2.0, 3.0]), 2, [0.5])).all()


class TestExamples:
    """Small worked examples (the module docstring's, and masks)."""

    def test_docstring_example(self) -> None:
        codes = np.array([0, 0, 1, 0, 1], dtype=np.int32)
        values = np.array([10, 30, 5, 20, 7])
        assert [3, 2, 0] == group_count(codes, 3).tolist()
        quantiles = group_quantiles(codes, values, 3, [0.5, 0.9])
        assert [[20.0, 28.0], [6.0, 6.8]] == quantiles[:2].tolist()
        assert np.isnan(quantiles[2]).all()

    def test_mask_skips_rows(self) -> None:
        codes = np.array([0, 0, 0, 1])
        values = np.array([1.0, np.nan, 3.0, 4.0])
        mask = np.array([True, False, True, True])
        assert [4.0, 4.0] == group_sum(codes, values, 2, mask).tolist()
        assert [[2.0], [4.0]] == group_quantiles(codes, values, 2, [0.5], mask).tolist()
        assert [1.0, 4.0] == group_min(codes, values, 2, mask).tolist()

    def test_combine_docstring(self) -> None:
        a = Moments(np.array([1, 0]), np.array([5.0, 0.0]))
        b = Moments(np.array([1, 2]), np.array([7.0, 4.0]))
        merged = combine(a, b)
        assert [2, 2] == merged.n.tolist()
        assert [6.0, 2.0] == merged.mean.tolist()
        single = combine(a)
        assert (a.n.tolist(), a.total.tolist()) == (single.n.tolist(), single.total.tolist())

    def test_group_rate_ignores_hits_outside_eligible(self) -> None:
        rate, den = group_rate(np.array([0, 0, 1]), np.array([True, True, True]),
                               np.array([True, False, False]), 2)
        assert [1.0] == rate[:1].tolist()
        assert [1, 0] == den.tolist()

    def test_timestamps_as_values(self) -> None:
        """Epoch seconds (int64) work; MISSING rows are masked, never read."""
        values = np.array([1_700_000_000, MISSING, 1_700_000_100])
        mask = values != MISSING
        quantiles = group_quantiles(np.zeros(3, dtype=np.int32), values, 1, [0.5], mask)
        assert [[1_700_000_050.0]] == quantiles.tolist()

    def test_many_groups_in_group_counts(self) -> None:
        """Enough groups to shrink the bits per bincount pass still counts right."""
        n_groups = 2**21
        codes = np.array([0, n_groups - 1, n_groups - 1, -1, 5])
        masks = [np.array([True, True, False, True, True]),
                 np.array([False, True, True, True, False]),
                 np.array([True] * 5)]
        actual = group_counts(codes, masks, n_groups)
        for j, mask in enumerate(masks):
            assert np.array_equal(group_count(codes, n_groups, mask), actual[j])

    @pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8,
                                       np.uint16, np.uint32, np.uint64])
    def test_code_dtypes(self, dtype: type[np.integer[Any]]) -> None:
        codes = np.array([0, 1, 1], dtype=dtype)
        assert [1, 2] == group_count(codes, 2).tolist()
        assert [[1, 1]] == group_counts(codes, [np.array([True, True, False])], 2).tolist()
        assert [[1.0], [2.5]] == group_quantiles(codes, np.array([1, 2, 3]), 2, [0.5]).tolist()


# --------------------------------------------------------------------------- errors


ONE = np.array([0, 1, 1])


class TestErrors:
    """Every input error is raised with a message naming the argument and the value."""

    @pytest.mark.parametrize(("codes", "n_groups", "message"), [
        (np.array([0, 3]), 3, "'codes' must lie in [-1, 3) (got [0, 3])"),
        (np.array([-2, 0]), 3, "'codes' must lie in [-1, 3) (got [-2, 0])"),
        (np.array([0]), 0, "'codes' must lie in [-1, 0) (got [0, 0])"),
        (np.array([0]), -1, "'n_groups' must be an integer >= 0 (got -1)"),
        (np.array([0]), True, "'n_groups' must be an integer >= 0 (got True)"),
        (np.array([0]), 1.0, "'n_groups' must be an integer >= 0 (got 1.0)"),
    ])
    def test_codes_and_n_groups(self, codes: Array, n_groups: Any, message: str) -> None:
        with pytest.raises(ValueError, match=exactly(message)):
            group_count(codes, n_groups)

    @pytest.mark.parametrize(("codes", "message"), [
        (np.array([0.0, 1.0]), "'codes' must be a 1-D integer array (got float64 with "
                               "shape (2,))"),
        (np.array([[0, 1]]), "'codes' must be a 1-D integer array (got int64 with "
                             "shape (1, 2))"),
        (np.array([True]), "'codes' must be a 1-D integer array (got bool with shape (1,))"),
    ])
    def test_codes_type(self, codes: Array, message: str) -> None:
        with pytest.raises(TypeError, match=exactly(message)):
            group_count(codes, 2)

    @pytest.mark.parametrize("call", [
        lambda: group_sum(ONE, np.array([1, 2]), 2),
        lambda: group_mean(ONE, np.array([1, 2]), 2),
        lambda: group_min(ONE, np.array([1, 2]), 2),
        lambda: group_max(ONE, np.array([1, 2]), 2),
        lambda: group_quantiles(ONE, np.array([1, 2]), 2, [0.5]),
        lambda: group_summaries(ONE, [(np.array([1, 2]), None)], 2, [0.5]),
    ])
    def test_values_of_the_wrong_shape(self, call: Callable[[], object]) -> None:
        with pytest.raises(ValueError,
                           match=exactly("'values' must have the shape of 'codes' (3,) "
                                         "(got (2,))")):
            call()

    @pytest.mark.parametrize("call", [
        lambda: group_count(ONE, 2, np.array([True])),
        lambda: group_sum(ONE, np.array([1, 2, 3]), 2, np.array([True])),
        lambda: group_quantiles(ONE, np.array([1, 2, 3]), 2, [0.5], np.array([True])),
        lambda: group_counts(ONE, [np.array([True])], 2),
    ])
    def test_mask_of_the_wrong_shape(self, call: Callable[[], object]) -> None:
        with pytest.raises(ValueError,
                           match=exactly("'mask' must have the shape of 'codes' (3,) "
                                         "(got (1,))")):
            call()

    def test_rate_arguments_of_the_wrong_shape(self) -> None:
        with pytest.raises(ValueError, match=exactly("'hits' must have the shape of 'codes' "
                                                     "(3,) (got (2,))")):
            group_rate(ONE, np.array([True, False]), None, 2)
        with pytest.raises(ValueError, match=exactly("'eligible' must have the shape of "
                                                     "'codes' (3,) (got (1,))")):
            group_rate(ONE, np.array([True] * 3), np.array([True]), 2)

    @pytest.mark.parametrize(("call", "message"), [
        (lambda: group_count(ONE, 2, np.array([1, 0, 1])), "'mask' has unsupported dtype int64"),
        (lambda: group_sum(ONE, np.array(["a", "b", "c"]), 2),
         "'values' has unsupported dtype <U1"),
        (lambda: group_rate(ONE, np.array([1, 0, 1]), None, 2),
         "'hits' has unsupported dtype int64"),
        (lambda: group_rate(ONE, np.array([True] * 3), np.array([1.0] * 3), 2),
         "'eligible' has unsupported dtype float64"),
        (lambda: group_counts(ONE, [None], 2),  # type: ignore[list-item]
         "'masks' must hold boolean arrays (got None)"),
    ])
    def test_wrong_dtypes(self, call: Callable[[], object], message: str) -> None:
        with pytest.raises(TypeError, match=exactly(message)):
            call()

    def test_nan_values_need_a_mask(self) -> None:
        values = np.array([1.0, np.nan, 2.0])
        message = exactly("'values' contains NaN: pass a mask for missing values")
        with pytest.raises(ValueError, match=message):
            group_quantiles(ONE, values, 2, [0.5])
        with pytest.raises(ValueError, match=message):
            group_summaries(ONE, [(np.array([1.0, 2.0, 3.0]), None), (values, None)], 2, [0.5])
        # NaN on a row of no group, or masked out, is fine.
        masked = group_quantiles(ONE, values, 2, [0.5], np.array([True, False, True]))
        assert [[1.0], [2.0]] == masked.tolist()
        assert [[1.0], [2.0]] == group_quantiles(np.array([0, -1, 1]), values, 2,
                                                 [0.5]).tolist()

    @pytest.mark.parametrize(("qs", "shown"), [
        ([1.5], "[1.5]"), ([-0.1, 0.5], "[-0.1, 0.5]"), ([0.5, math.nan], "[0.5, nan]"),
        (2, "2"), ([[0.5]], "[[0.5]]"),
    ])
    def test_quantiles_outside_unit_interval(self, qs: Any, shown: str) -> None:
        message = exactly(f"'qs' must be quantiles in [0, 1] (got {shown})")
        with pytest.raises(ValueError, match=message):
            group_quantiles(ONE, np.array([1, 2, 3]), 2, qs)
        with pytest.raises(ValueError, match=message):
            group_summaries(ONE, [(np.array([1, 2, 3]), None)], 2, qs)

    @pytest.mark.parametrize("threads", [0, -1, True, 1.5])
    def test_threads(self, threads: Any) -> None:
        with pytest.raises(ValueError,
                           match=exactly(f"'threads' must be an integer >= 1 (got {threads!r})")):
            group_summaries(ONE, [(np.array([1, 2, 3]), None)], 2, [0.5], threads=threads)

    def test_combine_of_nothing(self) -> None:
        with pytest.raises(ValueError, match=exactly("combine() needs at least one state")):
            combine()

    def test_combine_of_mismatched_shapes(self) -> None:
        a = Moments(np.array([1, 0]), np.array([5.0, 0.0]))
        b = Moments(np.array([1, 2, 3]), np.array([7.0, 4.0, 1.0]))
        with pytest.raises(ValueError, match=exactly("states must cover the same groups "
                                                     "(got shapes (3,) and (2,))")):
            combine(a, b)
        c = Moments(np.array([1, 2]), np.array([7.0, 4.0, 1.0]))
        with pytest.raises(ValueError, match=r"^states must cover the same groups"):
            combine(a, c)


# --------------------------------------------------------------------------- bugs


class TestEdgeInputs:
    """Inputs at the edges: no columns, narrow and huge integers."""

    def test_no_columns_with_one_thread(self) -> None:
        assert [] == group_summaries(ONE, [], 2, [0.5], threads=1)

    @pytest.mark.parametrize("function", [group_summaries, group_quantiles_many])
    def test_no_columns_with_default_threads(self, function: Callable[..., list[Any]]) -> None:
        assert [] == function(ONE, [], 2, [0.5])

    @pytest.mark.parametrize("dtype", [np.int32, np.int16, np.uint8, np.uint64])
    def test_quantiles_of_narrow_int_values(self, dtype: type[np.integer[Any]]) -> None:
        values = np.array([5, 1, 3, 4], dtype=dtype)
        codes = np.array([0, 0, 0, 1])
        actual = group_quantiles(codes, values, 2, [0.5, 0.9])
        expected = np.array([np.quantile(values[:3], [0.5, 0.9]),
                             np.quantile(values[3:], [0.5, 0.9])])
        assert np.array_equal(expected, actual)

    def test_quantiles_of_large_int_values(self) -> None:
        values = np.array([-30834899593955828, 34178698373060151])
        actual = group_quantiles(np.zeros(2, dtype=np.int32), values, 1, [0.5])
        assert np.quantile(values, 0.5) == actual[0, 0]
