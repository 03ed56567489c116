"""Dataframes in and out: pandas, polars and pyarrow, through narwhals.

**In.** :func:`table_from_frame` (behind :meth:`Table.from_frame
<servicekpi.tables.Table.from_frame>`) reads any eager frame narwhals knows and hands
each column to :meth:`~servicekpi.tables.Table.from_columns` in the form it reads
fastest: text ids and choices as dictionary codes (:class:`~servicekpi.tables.Coded`),
aware timestamps as int64 UTC epoch seconds (floored, as ``from_columns`` floors),
numbers as float64 with ``NaN`` for nulls, booleans and counts with nulls as the
column default. ``from_columns`` then validates every row, so the rules, the table and
the report are exactly those of the same data given as plain columns:

- a column of naive timestamps is never silently given a zone: without ``default_tz``
  every value is rejected (rule ``naive_datetime``), with it each is read in that zone
  exactly as ``from_columns`` reads a naive ``datetime``;
- anything the fast forms cannot carry unchanged (ids with surrounding spaces, text in
  a number column, decimals, mixed objects) goes in as Python values, and is judged by
  the same rules;
- every rejected row is in the report, with its 0-based row index in the frame, its
  key, the field, the rule, and the value as the frame holds it (``None`` for a null).

**Out.** :func:`panel_to_frame`, :func:`scorecard_to_frame`, :func:`followups_to_frame`
and :func:`evaluation_to_frames` (behind the ``to_frame`` / ``to_frames`` methods)
build frames with narwhals in the backend asked for — ``"pandas"``, ``"polars"`` or
``"pyarrow"``; ``None`` takes the first of them that is installed — so a polars user
never needs pandas. KPI and score columns are float64, group keys strings (enum
values) or dates, timestamps aware in the zone of the plan or period, and a value
that may be missing is a null (pandas: the nullable ``Int64`` / ``boolean`` dtypes).

Needs the ``frames`` extra (``pip install 'servicekpi[frames]'``); importing this
module without narwhals raises :class:`~servicekpi.exceptions.MissingExtraError`.

>>> import polars as pl
>>> from servicekpi import TicketTable
>>> frame = pl.DataFrame({
...     "ticket_id": ["T-1", "T-2"], "agent_id": ["A-1", "A-2"], "station_id": ["S1", "S1"],
...     "customer_id": ["C-1", "C-2"], "service_type": ["repair", "repair"],
...     "channel": ["phone", "online"],
...     "opened_at": ["2026-10-05T09:00:00+08:00", "2026-10-05T10:00:00"]})
>>> table, report = TicketTable.from_frame(frame)
>>> print(report)
tickets: 2 rows in, 1 valid, 1 rejected
  row 1 (T-2): opened_at='2026-10-05T10:00:00': a timezone-aware datetime (or pass default_tz) [naive_datetime]

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi.calendar import to_epoch, utc_offsets
from servicekpi.domain import Loyalty, _checks
from servicekpi.exceptions import (
    CalendarError,
    InvalidChoiceError,
    MissingExtraError,
    SchemaError,
    ValidationFailedError,
)
from servicekpi.kernel import MISSING
from servicekpi.tables import Coded, Column, Kind, Table, ValidationReport, _KnownGoodLabels

try:
    import narwhals.stable.v1 as nw
    from narwhals.exceptions import DuplicateError
except ImportError as error:
    raise MissingExtraError.for_extra("frames", "narwhals") from error

if TYPE_CHECKING:
    from servicekpi.evaluation import MonthlyEvaluation
    from servicekpi.metrics import KpiPanel
    from servicekpi.rules.followup import FollowUpPlan
    from servicekpi.scoring.scorecard import Scorecard

__all__ = ("BACKENDS", "evaluation_to_frames", "followups_to_frame", "panel_to_frame",
           "scorecard_to_frame", "table_from_frame")

Backend = Literal["pandas", "polars", "pyarrow"]
BACKENDS: Final[tuple[Backend, ...]] = ("pandas", "polars", "pyarrow")
"""The backends frames are built in, in the order ``backend=None`` tries them."""

T = TypeVar("T", bound=Table)
Series = nw.Series[Any]

_TIME_DIMENSIONS: Final = ("day", "week", "month")  # the panel keys that are dates
_DAY: Final = 86_400


# --------------------------------------------------------------------------- in


def table_from_frame(cls: type[T], frame: Any, *,
                     on_invalid: Literal["report", "raise"] = "report",
                     default_tz: str | None = None) -> tuple[T, ValidationReport]:
    """Validate a pandas, polars or pyarrow dataframe into a table of *cls*.

    What :meth:`Table.from_frame <servicekpi.tables.Table.from_frame>` calls. Columns
    are matched by name; optional ones may be left out. The columns are converted as
    the module says and validated by :meth:`~servicekpi.tables.Table.from_columns`, so
    the result equals ``cls.from_columns`` on the same data.

    Args:
        cls: the table class (:class:`~servicekpi.tables.TicketTable`, …).
        frame: an eager dataframe (pandas, polars, pyarrow, or a narwhals DataFrame).
        on_invalid: ``"report"`` keeps the valid rows and reports the others;
            ``"raise"`` raises if any row is rejected.
        default_tz: IANA zone of naive timestamps; without it they are rejected.

    Returns:
        The table of valid rows and the :class:`~servicekpi.tables.ValidationReport`,
        whose issues carry the values as the frame holds them.

    Raises:
        SchemaError: *frame* is not a dataframe, or a column is unknown, a required
            column missing, a column name repeated, or *default_tz* unknown.
        InvalidChoiceError: *on_invalid* is neither ``"report"`` nor ``"raise"``.
        ValidationFailedError: with ``on_invalid="raise"`` when a row is rejected.

    >>> import pandas as pd
    >>> from servicekpi import TicketTable
    >>> frame = pd.DataFrame({
    ...     "ticket_id": ["T-1", "T-2"], "agent_id": ["A-1", "A-1"],
    ...     "station_id": ["S1", "S1"], "customer_id": ["C-1", "C-2"],
    ...     "service_type": ["repair", "repair"], "channel": ["phone", "phone"],
    ...     "opened_at": pd.to_datetime(["2026-10-05 09:00", "2026-10-05 10:00"]
    ...                                 ).tz_localize("Asia/Shanghai"),
    ...     "satisfaction": [4.5, 9.0]})
    >>> table, report = table_from_frame(TicketTable, frame)
    >>> table["opened_at"].tolist(), [str(issue) for issue in report.issues]
    ([1791162000], ['row 1 (T-2): satisfaction=9.0: a number in [1, 5] [out_of_range]'])

    .. versionadded:: 0.1
    """
    name = cls.SCHEMA.name
    data = _eager(frame, name)
    names = list(data.columns)
    # from_columns on zero rows checks the column names, on_invalid and default_tz with
    # its own messages, before any column is converted.
    cls.from_columns(dict.fromkeys(names, ()), on_invalid=on_invalid, default_tz=default_tz)
    columns = {column: _column(cls.SCHEMA.column(column), data[column], default_tz)
               for column in names}
    table, report = cls.from_columns(columns, default_tz=default_tz)
    report = _frame_values(report, data)
    if report.issues and on_invalid == "raise":
        raise ValidationFailedError(str(report))
    return table, report


def _eager(frame: Any, table: str) -> nw.DataFrame[Any]:
    """*frame* as a narwhals eager DataFrame, or a SchemaError saying what it is."""
    try:
        return nw.from_native(frame, eager_only=True)
    except DuplicateError as error:
        raise SchemaError(f"{table}: column names must be unique ({error})".replace("\n", " ")
                          ) from None
    except TypeError:
        hint = ""
        if isinstance(frame, Mapping):
            hint = "; for a mapping of columns use from_columns"
        elif hasattr(frame, "collect"):
            hint = "; collect() a lazy frame first"
        raise SchemaError(f"{table}: expected a pandas, polars or pyarrow dataframe "
                          f"(got {type(frame).__name__}){hint}") from None


def _column(column: Column, series: Series, default_tz: str | None) -> Any:
    """The column in the fastest form ``from_columns`` reads unchanged; Python values
    when no fast form carries it exactly."""
    dtype = series.dtype
    kind = column.kind
    if kind in (Kind.ID, Kind.ZONE, Kind.CHOICE) and _is_text(dtype):
        coded = _coded(series, column)
        if coded is not None:
            return coded
    elif kind is Kind.TIME and isinstance(dtype, nw.Datetime):
        return _times(series, naive=dtype.time_zone is None, default_tz=default_tz)
    elif kind is Kind.BOOL and dtype == nw.Boolean:
        return series.fill_null(bool(column.default)).to_numpy().astype(bool)
    elif kind is Kind.COUNT and dtype.is_integer():
        filled = series.fill_null(int(column.default or 0)) if series.null_count() else series
        return np.asarray(filled.to_numpy(), dtype=np.int64)
    elif kind in (Kind.NUMBER, Kind.MONEY, Kind.COUNT) and (dtype.is_integer()
                                                             or dtype.is_float()):
        return np.asarray(series.cast(nw.Float64).to_numpy(), dtype=np.float64)
    elif kind is Kind.FLAGS and (dtype.is_integer() or dtype.is_float()):
        masks = _masks(series)
        if masks is not None:
            return masks
    elif kind is Kind.TEXT and dtype == nw.String:  # a null is "" (pandas' NA is no str)
        return series.fill_null("").to_numpy()
    return _python(series)


def _masks(series: Series) -> NDArray[np.int64] | None:
    """Complaint flag bit masks (a null has no flag; pandas stores ints with nulls as
    floats); ``None`` if a value is not a whole number."""
    values = np.asarray(series.fill_null(0).to_numpy())
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), 0.0, values)
        if not np.array_equal(values, np.floor(values)):
            return None
    return values.astype(np.int64)


def _is_text(dtype: Any) -> bool:
    return bool(dtype == nw.String or dtype == nw.Categorical or dtype == nw.Enum)


def _coded(series: Series, column: Column) -> Coded | None:
    """Text codes with labels in Python's sort order (as ``from_columns`` makes them),
    or ``None`` when a label is not a clean id or choice (then the Python path judges
    each value)."""
    text = series if series.dtype == nw.String else series.cast(nw.String)
    encoded = _arrow_codes(text)
    if encoded is not None:
        codes, labels = encoded
    else:
        found = _backend_codes(text)
        if found is None or not all(isinstance(label, str) for label in found[1]):
            return None
        codes, labels = found
    if column.kind is Kind.CHOICE:
        return Coded(codes=codes, labels=tuple(labels)) if _choices(labels, column) else None
    if not all(labels) or list(map(str.strip, labels)) != labels \
            or _checks.CONTROL.search("".join(labels)):
        return None
    # Checked here, unique by construction: from_columns need not check them again.
    return Coded(codes=codes, labels=_KnownGoodLabels(labels))


def _arrow_codes(text: Series) -> tuple[NDArray[np.int64], list[Any]] | None:
    """Codes and sorted labels by Arrow (C++, no Python per row); ``None`` without
    pyarrow. Arrow orders strings by their UTF-8 bytes, which is the order of their code
    points: Python's order. Mostly distinct columns (ticket ids) are ranked by one sort;
    the others hash-encoded, then only their distinct values sorted."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - the frames extra brings pyarrow
        return None
    array = text.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_null(array.type):  # every value null
        return np.full(len(array), -1, dtype=np.int64), []
    head = array.slice(0, _SAMPLE)
    distinct = pc.count_distinct(head).as_py()
    if len(array) > _SAMPLE and distinct >= 0.995 * (len(head) - head.null_count):
        return _sorted_codes(array)
    return _dictionary_codes(array)


# Rows looked at to tell a distinct column (a sort ranks 10 M ticket ids in 1 s, a hash
# table of them takes 3 s) from a repetitive one. Customer ids, four tickets each, look
# 97 % distinct in such a sample and hash faster: only a nearly all-distinct head sorts.
_SAMPLE: Final = 65_536


def _sorted_codes(array: Any) -> tuple[NDArray[np.int64], list[Any]]:
    """Dense ranks from one sort of the values (nulls sort last: code -1)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = pc.sort_indices(array).to_numpy()
    n = len(array) - array.null_count
    codes = np.full(len(array), -1, dtype=np.int64)
    if not n:
        return codes, []
    values = array.take(pa.array(order[:n]))
    change = np.empty(n, dtype=bool)
    change[0] = True
    change[1:] = pc.not_equal(values.slice(1), values.slice(0, n - 1)) \
        .to_numpy(zero_copy_only=False)
    codes[order[:n]] = np.cumsum(change) - 1
    return codes, values.filter(pa.array(change)).to_pylist()


def _dictionary_codes(array: Any) -> tuple[NDArray[np.int64], list[Any]]:
    """Codes from Arrow's hash dictionary, its distinct values sorted."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = array.dictionary_encode()
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary) + 1, dtype=np.int64)
    rank[order] = np.arange(len(dictionary))
    rank[-1] = -1  # a null's index
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return rank[indices], dictionary.take(pa.array(order)).to_pylist()


def _backend_codes(text: Series) -> tuple[NDArray[np.int64], list[Any]] | None:
    """Codes and labels by the backend's own unique and rank (no pyarrow)."""
    uniques = text.drop_nulls().unique()
    if not len(uniques):  # every value null (an empty look-up fails in pyarrow)
        return np.full(len(text), -1, dtype=np.int64), []
    if 2 * len(uniques) <= len(text):  # values repeat: one hash look-up per row
        labels = sorted(uniques.to_list())
        codes = np.asarray(text.replace_strict(labels, list(range(len(labels))),
                                               return_dtype=nw.Int64)
                           .fill_null(-1).to_numpy(), dtype=np.int64)
    else:  # mostly distinct (ticket ids): a dense rank, which is one sort
        codes = np.asarray(text.rank("dense").fill_null(0).to_numpy()).astype(np.int64) - 1
        if text.implementation is nw.Implementation.POLARS:
            labels = uniques.sort().to_list()  # polars sorts as it ranks, by UTF-8 bytes
        else:  # pandas and pyarrow make Python strings faster than they sort them
            present = codes >= 0
            table = np.empty(len(uniques), dtype=object)
            table[codes[present]] = text.to_numpy()[present]
            labels = table.tolist()
        # The codes are those from_columns would make only if the backend's order is
        # Python's: strictly increasing labels, one per rank.
        if (len(labels) and int(codes.max()) + 1 != len(labels)) \
                or any(a >= b for a, b in pairwise(labels)):
            return None
    return codes, labels


def _choices(labels: Sequence[str], column: Column) -> bool:
    choices = column.choices
    if choices is None:  # pragma: no cover - schema definition error
        return False
    try:
        for label in labels:
            choices(label)
    except (ValueError, TypeError):
        return False
    return True


def _times(series: Series, *, naive: bool, default_tz: str | None) -> Any:
    """Timestamps as int64 UTC epoch seconds (floored; null = MISSING). Naive ones are
    placed in *default_tz* as ``from_columns`` places a naive datetime, or go in as
    Python datetimes (so that ``from_columns`` rejects them, or places those the
    vectorised rule cannot)."""
    if not naive:
        series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    values = series.to_numpy()
    if values.dtype.kind != "M":  # pragma: no cover - no backend gives other than datetime64
        return _python(series)
    # numpy floors when it coarsens a datetime64 unit, and NaT's bit pattern is MISSING.
    seconds = values.astype("datetime64[s]").view(np.int64)
    if not naive:
        return seconds
    placed = None if default_tz is None else _placed(seconds, default_tz)
    return values.astype("datetime64[us]").astype(object) if placed is None else placed


def _placed(wall: NDArray[np.int64], tz: str) -> NDArray[np.int64] | None:
    """UTC epoch seconds of local wall-clock seconds in *tz*, exactly as ``from_columns``
    reads a naive datetime with ``default_tz`` (dateutil, fold=0, ``resolve_imaginary``);
    ``None`` outside 1970..2100 or for a zone :func:`utc_offsets` does not take.

    With *before* and *after* the zone's offsets a day either side: a repeated wall
    time is its first occurrence, ``wall - before``; a time only the later offset
    reads back is ``wall - after``; a skipped time moves forward by the gap
    ``after - before`` and then reads with *after*, which is ``wall - before`` again.
    """
    present = wall != MISSING
    local = wall[present]
    try:
        before = utc_offsets(local - _DAY, tz)
        after = utc_offsets(local + _DAY, tz)
        early = utc_offsets(local - before, tz) == before
        late = utc_offsets(local - after, tz) == after
    except CalendarError:
        return None
    out = wall.copy()
    out[present] = np.where(~early & late, local - after, local - before)
    return out


def _python(series: Series) -> list[Any]:
    """The values as Python objects, every kind of null (NaN, NaT, NA) as ``None``."""
    values = series.to_list()
    for row in np.flatnonzero(series.is_null().to_numpy()):
        values[row] = None
    return values


def _frame_values(report: ValidationReport, data: nw.DataFrame[Any]) -> ValidationReport:
    """The report with each issue's value as the frame holds it (not its fast form)."""
    rows: dict[str, set[int]] = {}
    for issue in report.issues:
        if issue.field in data.columns:
            rows.setdefault(issue.field, set()).add(issue.row)
    if not rows:
        return report
    values: dict[tuple[str, int], Any] = {}
    for field, wanted in rows.items():
        ordered = sorted(wanted)
        values.update(zip(((field, row) for row in ordered),
                          _python(data[field][ordered]), strict=True))
    return attrs.evolve(report, issues=tuple(
        attrs.evolve(issue, value=values[issue.field, issue.row])
        if (issue.field, issue.row) in values else issue for issue in report.issues))


# --------------------------------------------------------------------------- out


def _backend(backend: str | None) -> Backend:
    """The backend to build in; checks the name and that it is installed."""
    if backend is None:
        for name in BACKENDS:
            if _installed(name):
                return name
        raise MissingExtraError("this feature needs one of the optional dependencies "
                                "'pandas', 'polars' or 'pyarrow': "
                                "pip install 'servicekpi[frames]'")
    chosen = next((name for name in BACKENDS if name == backend), None)
    if chosen is None:
        raise InvalidChoiceError.for_value("backend", backend, BACKENDS)
    if not _installed(chosen):
        raise MissingExtraError.for_extra("frames", chosen)
    return chosen


def _installed(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


class _Builder:
    """Columns of one frame with their narwhals dtypes, built in one backend."""

    def __init__(self, backend: str | None) -> None:
        self.backend = _backend(backend)
        self.data: dict[str, Any] = {}
        self.schema: dict[str, Any] = {}
        self.zones: dict[str, str] = {}

    def floats(self, name: str, values: Iterable[float] | NDArray[Any]) -> None:
        self.data[name] = np.array(values, dtype=np.float64)  # a writable copy
        self.schema[name] = nw.Float64()

    def ints(self, name: str, values: Iterable[int] | NDArray[Any]) -> None:
        self.data[name] = np.array(values, dtype=np.int64)
        self.schema[name] = nw.Int64()

    def optional_ints(self, name: str, values: Sequence[int | None]) -> None:
        if self.backend == "pandas":  # numpy ints have no null
            import pandas as pd

            self.data[name] = pd.array(list(values), dtype="Int64")
        else:
            self.data[name] = list(values)
        self.schema[name] = nw.Int64()

    def bools(self, name: str, values: Iterable[bool] | NDArray[Any]) -> None:
        self.data[name] = np.array(values, dtype=bool)
        self.schema[name] = nw.Boolean()

    def optional_bools(self, name: str, values: Sequence[bool | None]) -> None:
        if self.backend == "pandas":  # numpy bools have no null
            import pandas as pd

            self.data[name] = pd.array(list(values), dtype="boolean")
        else:
            self.data[name] = list(values)
        self.schema[name] = nw.Boolean()

    def texts(self, name: str, values: Sequence[str | None] | NDArray[Any]) -> None:
        # A list, not an object array: polars cannot build a string column from an
        # object array that starts with None.
        self.data[name] = values.tolist() if isinstance(values, np.ndarray) else list(values)
        self.schema[name] = nw.String()

    def text_lists(self, name: str, values: Iterable[Sequence[str]]) -> None:
        self.data[name] = [list(value) for value in values]
        self.schema[name] = nw.List(nw.String())

    def dates(self, name: str, values: Iterable[date | None]) -> None:
        self.data[name] = list(values)
        self.schema[name] = nw.Date()

    def times(self, name: str, seconds: NDArray[np.int64], tz: str) -> None:
        """UTC epoch seconds (MISSING = null), shown aware in zone *tz*."""
        self.data[name] = np.asarray(seconds, dtype=np.int64).view("datetime64[s]") \
            .astype("datetime64[us]")
        self.schema[name] = nw.Datetime("us")
        self.zones[name] = tz

    def build(self) -> Any:
        frame = nw.from_dict(self.data, schema=self.schema, backend=self.backend)
        if self.zones:
            frame = frame.with_columns(*(
                nw.col(name).dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
                for name, tz in self.zones.items()))
        return frame.to_native()


def _key_text(part: Any) -> str | None:
    if part is None:
        return None
    return str(part.value) if isinstance(part, enum.Enum) else str(part)


def panel_to_frame(panel: KpiPanel, *, backend: str | None = None) -> Any:
    """A KPI panel as a dataframe: one row per group, a column per dimension of
    ``panel.by`` (ids and enum values as strings, day/week/month as dates, null for a
    missing key), then one float64 column per KPI, equal to ``panel[kpi]``.

    Args:
        panel: the panel.
        backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; ``None`` takes the first
            installed of them, in that order.

    Returns:
        A native dataframe of the backend.

    Raises:
        InvalidChoiceError: an unknown backend (with a did-you-mean hint).
        MissingExtraError: the backend is not installed.

    >>> from servicekpi import kpi_panel, synth
    >>> data = synth.month(seed=5, tickets=3_000, agents=12, stations=2)
    >>> panel = kpi_panel(data.tickets, period=data.period, by=("station", "channel"))
    >>> frame = panel_to_frame(panel, backend="polars")
    >>> frame.columns[:4], frame.height == len(panel)
    (['station', 'channel', 'tickets', 'resolved'], True)
    >>> frame["tickets"].sum()
    3000.0

    .. versionadded:: 0.1
    """
    frame = _Builder(backend)
    keys = panel.keys if len(panel.by) > 1 else [(key,) for key in panel.keys]
    for i, dim in enumerate(panel.by):
        parts = [key[i] for key in keys]
        if dim in _TIME_DIMENSIONS:
            frame.dates(dim, parts)
        else:
            frame.texts(dim, [_key_text(part) for part in parts])
    for name in panel.names:
        frame.floats(name, panel[name])
    return frame.build()


def scorecard_to_frame(card: Scorecard, *, backend: str | None = None) -> Any:
    """A scorecard as a dataframe with the columns of ``card.to_records()``, in roster
    order: ``agent_id``, ``group``, ``tickets``, the parts and ``composite`` (float64,
    NaN where absent), ``grade``, ``rank`` (null when not ranked), ``group_size``,
    ``status``.

    Args:
        card: the scorecard.
        backend: as in :func:`panel_to_frame`.

    Raises:
        InvalidChoiceError: an unknown backend.
        MissingExtraError: the backend is not installed.

    >>> from servicekpi import synth
    >>> from servicekpi.scoring import score_agents
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> frame = scorecard_to_frame(score_agents(data, period=data.period), backend="pandas")
    >>> frame.sort_values("rank")["agent_id"].head(2).tolist(), str(frame["rank"].dtype)
    (['A0008', 'A0006'], 'Int64')

    .. versionadded:: 0.1
    """
    frame = _Builder(backend)
    frame.texts("agent_id", card.agent_ids)
    frame.texts("group", card.groups)
    frame.ints("tickets", card.tickets)
    for name in ("kpi_score", "appraisal_score", "rater_score", "composite"):
        frame.floats(name, getattr(card, name))
    frame.texts("grade", card.grades)
    frame.optional_ints("rank", [int(rank) or None for rank in card.ranks])
    frame.ints("group_size", card.group_sizes)
    frame.texts("status", card.status)
    return frame.build()


def followups_to_frame(plan: FollowUpPlan, *, backend: str | None = None) -> Any:
    """A follow-up plan as a dataframe: the fields of ``plan.contacts()`` plus the
    ``trigger`` instant, one row per contact in plan order.

    Columns: ``rule_id``, ``kind``, ``subject`` (text), ``subject_id``,
    ``customer_id``, ``assignee``, ``substitute_for`` (text, null where missing),
    ``trigger``, ``earliest``, ``latest`` (aware, in the plan's zone ``plan.tz``) and
    ``overdue`` (the window closed at or before the plan's ``now``).

    Args:
        plan: the plan.
        backend: as in :func:`panel_to_frame`.

    Raises:
        InvalidChoiceError: an unknown backend.
        MissingExtraError: the backend is not installed.

    >>> from servicekpi import evaluate, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> plan = evaluate(data, period=data.period).followups
    >>> frame = followups_to_frame(plan, backend="pyarrow")
    >>> frame.num_rows == len(plan), str(frame.schema.field("earliest").type)
    (True, 'timestamp[us, tz=Asia/Shanghai]')

    .. versionadded:: 0.1
    """
    # The kind and subject follow from the rule; the plan stores only the rule index.
    from servicekpi.rules.followup import _RULES, RULE_IDS

    frame = _Builder(backend)
    rule = np.asarray(plan["rule"], dtype=np.int64)
    frame.texts("rule_id", np.array(RULE_IDS, dtype=object)[rule])
    frame.texts("kind", np.array([_RULES[r][0].value for r in RULE_IDS], dtype=object)[rule])
    frame.texts("subject", np.array([_RULES[r][1].value for r in RULE_IDS],
                                    dtype=object)[rule])
    for name in ("subject_id", "customer_id", "assignee", "substitute_for"):
        frame.texts(name, plan[name])
    for name in ("trigger", "earliest", "latest"):
        frame.times(name, plan[name], plan.tz)
    frame.bools("overdue", plan["latest"] <= plan.now)
    return frame.build()


def evaluation_to_frames(ev: MonthlyEvaluation, *,
                         backend: str | None = None) -> dict[str, Any]:
    """Every table of a monthly evaluation as a dataframe, by name.

    ``panel`` and ``team_panel`` (:func:`panel_to_frame`), ``scorecard``
    (:func:`scorecard_to_frame`), ``consequences`` (``due`` aware in the period's zone),
    ``stations`` (complaint share and rank), ``penalties`` (``complaint_ids`` a list
    column), ``followups`` (:func:`followups_to_frame`), ``team`` (targets against
    actuals, ``met`` null without data) and ``loyalty`` (class and previous class per
    customer).

    Args:
        ev: the evaluation.
        backend: as in :func:`panel_to_frame`.

    Raises:
        InvalidChoiceError: an unknown backend.
        MissingExtraError: the backend is not installed.

    >>> from servicekpi import evaluate, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> frames = evaluation_to_frames(evaluate(data, period=data.period), backend="polars")
    >>> list(frames)
    ['panel', 'team_panel', 'scorecard', 'consequences', 'stations', 'penalties', 'followups', 'team', 'loyalty']
    >>> frames["loyalty"].columns
    ['customer_id', 'visits', 'loyalty', 'previous_loyalty']

    .. versionadded:: 0.1
    """
    name = _backend(backend)
    return {
        "panel": panel_to_frame(ev.panel, backend=name),
        "team_panel": panel_to_frame(ev.team_panel, backend=name),
        "scorecard": scorecard_to_frame(ev.scorecard, backend=name),
        "consequences": _consequences(ev, name),
        "stations": _stations(ev, name),
        "penalties": _penalties(ev, name),
        "followups": followups_to_frame(ev.followups, backend=name),
        "team": _team(ev, name),
        "loyalty": _loyalty(ev, name),
    }


def _consequences(ev: MonthlyEvaluation, backend: Backend) -> Any:
    rows = ev.consequences
    frame = _Builder(backend)
    frame.texts("agent_id", [c.agent_id for c in rows])
    frame.texts("kind", [c.kind.value for c in rows])
    frame.floats("amount", [c.amount for c in rows])
    frame.times("due", np.array([MISSING if c.due is None else to_epoch(c.due)
                                 for c in rows], dtype=np.int64), ev.period.tz)
    frame.texts("group", [c.group for c in rows])
    frame.texts("reason", [c.reason for c in rows])
    return frame.build()


def _stations(ev: MonthlyEvaluation, backend: Backend) -> Any:
    rows = ev.complaints.stations
    frame = _Builder(backend)
    frame.texts("station_id", [s.station_id for s in rows])
    frame.ints("complaints", [s.complaints for s in rows])
    frame.floats("volume", [s.volume for s in rows])
    frame.floats("share", [s.share for s in rows])
    frame.optional_ints("rank", [s.rank for s in rows])
    return frame.build()


def _penalties(ev: MonthlyEvaluation, backend: Backend) -> Any:
    rows = ev.complaints.penalties
    frame = _Builder(backend)
    frame.texts("responsible", [p.responsible for p in rows])
    frame.texts("station_id", [p.station_id for p in rows])
    frame.ints("repeat", [p.repeat for p in rows])
    frame.ints("severe", [p.severe for p in rows])
    frame.floats("amount", [p.amount for p in rows])
    frame.texts("status", [p.status.value for p in rows])
    frame.text_lists("complaint_ids", [p.complaint_ids for p in rows])
    return frame.build()


def _team(ev: MonthlyEvaluation, backend: Backend) -> Any:
    rows = ev.team.rows
    frame = _Builder(backend)
    frame.texts("name", [r.name for r in rows])
    for name in ("target", "actual", "attainment"):
        frame.floats(name, [getattr(r, name) for r in rows])
    frame.texts("direction", [r.direction.value for r in rows])
    frame.optional_bools("met", [r.met for r in rows])
    frame.texts("unit", [r.unit for r in rows])
    frame.texts("basis", [r.basis for r in rows])
    return frame.build()


def _loyalty(ev: MonthlyEvaluation, backend: Backend) -> Any:
    table = ev.loyalty
    # Class codes index Loyalty's members in order (LoyaltyTable's documented encoding).
    names = np.array([member.value for member in Loyalty] + [None], dtype=object)
    frame = _Builder(backend)
    frame.texts("customer_id", table.customer_ids)
    frame.ints("visits", table.visits)
    for column, codes in (("loyalty", table.classes), ("previous_loyalty", table.previous)):
        codes = np.asarray(codes, dtype=np.int64)
        frame.texts(column, names[np.where(codes < 0, len(names) - 1, codes)])
    return frame.build()
