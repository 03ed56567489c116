"""Columnar tables: the one bridge between domain objects and numpy arrays.

Every table has a documented :class:`Schema` (see ``docs/tables.md``): column names,
kinds, dtypes, which are required, and the row rules. Columns are stored as read-only
numpy arrays:

==========  =========================  ==================================================
kind        dtype                      missing
==========  =========================  ==================================================
id          ``int32`` codes + labels   code ``-1``; labels sorted for plain input (codes
                                       do not depend on row order), kept for Coded
choice      ``int8`` enum index        code ``-1`` (member order of the enum)
time        ``int64`` epoch seconds    :data:`MISSING` (NaT's bit pattern); floored to
                                       whole seconds
bool        ``bool``                   the column default
count       ``int64``                  the column default
number      ``float64``                ``NaN``
money       ``float64``                ``NaN``; exact decimals come in, the kernel sums
                                       cents
text        ``object`` (str)           ``""``
flags       ``uint8`` bit mask         ``0``
zone        ``int32`` codes + labels   code ``-1``; labels are IANA zone names
==========  =========================  ==================================================

``from_columns`` validates every row, vectorised, and returns the table of valid rows
together with a :class:`ValidationReport` of the rejected ones (row, key, field,
value, rule, code): nothing is dropped silently and
``report.rows_in == report.rows_valid + report.rows_rejected`` always.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, Literal, Self, final

import attrs
import numpy as np
from dateutil import tz as dateutil_tz
from numpy.typing import NDArray

from servicekpi import _extras
from servicekpi._frozen import FrozenDict
from servicekpi.domain import _checks
from servicekpi.domain import (
    Agent,
    AppraisalTrack,
    CallbackOutcome,
    CallbackSubject,
    Channel,
    ComplaintFlag,
    ComplaintSource,
    Customer,
    EventKind,
    Loyalty,
    Priority,
    RaterRole,
    Role,
    ServiceType,
    Tier,
)
from servicekpi.domain import Callback, Complaint, Order, Rating, Ticket, TicketEvent
from servicekpi.exceptions import (
    DuplicateKeyError,
    InvalidChoiceError,
    SchemaError,
    UnknownKeyError,
    ValidationFailedError,
)
from servicekpi.kernel import MISSING

__all__ = (
    "AgentTable",
    "CallbackTable",
    "Coded",
    "Column",
    "ComplaintTable",
    "CustomerTable",
    "MISSING",
    "OrderTable",
    "RatingTable",
    "Schema",
    "TicketEventTable",
    "TicketTable",
    "ValidationIssue",
    "ValidationReport",
)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_COUNT_MAX: Final = 2**53  # counts stay exact through float64 on the way in
_SECOND: Final = timedelta(seconds=1)
_TRUE: Final = frozenset({"true", "t", "yes", "y", "1"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0"})


class Kind(enum.Enum):
    """How a column is stored and parsed."""

    ID = "id"
    CHOICE = "choice"
    TIME = "time"
    BOOL = "bool"
    COUNT = "count"
    NUMBER = "number"
    MONEY = "money"
    TEXT = "text"
    FLAGS = "flags"
    ZONE = "zone"


_DTYPES: Final = {
    Kind.ID: "int32", Kind.CHOICE: "int8", Kind.TIME: "int64", Kind.BOOL: "bool",
    Kind.COUNT: "int64", Kind.NUMBER: "float64", Kind.MONEY: "float64",
    Kind.TEXT: "object", Kind.FLAGS: "uint8", Kind.ZONE: "int32",
}


class _KnownGoodLabels(tuple[str, ...]):
    """Labels made by servicekpi itself (unique, non-empty, trimmed by construction).

    Checking ten million generated ids costs seconds and finds nothing, so
    :func:`_parse_id` skips the check for this private type; user input never has it.
    """

    __slots__ = ()


def _label_tuple(labels: Iterable[str]) -> tuple[str, ...]:
    return labels if isinstance(labels, _KnownGoodLabels) else tuple(labels)


@final
@attrs.frozen(kw_only=True)
class Coded:
    """A column already dictionary-encoded: ``labels[codes[i]]`` is row *i*'s value.

    The fast way in for large id and choice columns (``-1`` = missing).

    >>> Coded(codes=np.array([0, 1, 0]), labels=("A-1", "A-2")).decode().tolist()
    ['A-1', 'A-2', 'A-1']

    .. versionadded:: 0.1
    """

    codes: NDArray[np.integer[Any]] = attrs.field(converter=np.asarray)
    labels: tuple[str, ...] = attrs.field(converter=_label_tuple)

    def __len__(self) -> int:
        return len(self.codes)

    def decode(self) -> NDArray[np.object_]:
        """The values as an object array, ``None`` where missing."""
        table = np.array([*self.labels, None], dtype=object)
        return table[np.where(self.codes < 0, len(self.labels), self.codes)]


@final
@attrs.frozen(kw_only=True)
class Column:
    """One column of a table schema."""

    name: str
    kind: Kind
    required: bool = False
    choices: type[enum.Enum] | None = None
    default: Any = None
    low: float | None = None
    high: float | None = None
    doc: str = ""

    @property
    def dtype(self) -> str:
        """The numpy dtype the column is stored in."""
        return _DTYPES[self.kind]


Columns = Mapping[str, NDArray[Any]]


@final
@attrs.frozen(kw_only=True)
class Rule:
    """A row rule: *check* returns the mask of rows that break it."""

    code: str
    fields: tuple[str, ...]
    description: str
    check: Callable[[Columns], NDArray[np.bool_]]

    @property
    def field(self) -> str:
        """The field an issue is reported on (the first of ``fields``)."""
        return self.fields[0]


@final
@attrs.frozen(kw_only=True)
class Schema:
    """The columns, key and row rules of a table."""

    name: str
    noun: str
    key: str | None
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()
    label: str | None = None  # the id shown in reports when there is no key

    def column(self, name: str) -> Column:
        """The column called *name* (with a did-you-mean hint when unknown)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise UnknownKeyError.for_key(f"column of {self.name}", name, self.names)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in schema order."""
        return tuple(c.name for c in self.columns)

    def describe(self) -> str:
        """The schema as a Markdown table (what ``docs/tables.md`` shows)."""
        rows = ["| column | kind | dtype | required | default | meaning |",
                "|---|---|---|---|---|---|"]
        for c in self.columns:
            kind = c.kind.value + (f" ({', '.join(m.value for m in c.choices)})"
                                   if c.choices else "")
            bounds = ""
            if c.low is not None or c.high is not None:
                bounds = f" in [{c.low:g}, {c.high:g}]" if c.high is not None \
                    else f" >= {c.low:g}"
            default = "" if c.default is None else f"`{_show_default(c.default)}`"
            rows.append(f"| `{c.name}` | {kind}{bounds} | {c.dtype} | "
                        f"{'yes' if c.required else 'no'} | {default} | {c.doc} |")
        if self.rules:
            rows.append("")
            rows.extend(f"- rule `{r.code}`: {r.description}" for r in self.rules)
        return "\n".join(rows)


def _show_default(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


# --------------------------------------------------------------------------- report


@final
@attrs.frozen(kw_only=True)
class ValidationIssue:
    """One broken rule on one row.

    Attributes:
        row: 0-based row index in the input.
        key: the row's key (e.g. its ticket id) when it could be read, else ``None``.
        field: the column.
        value: the value as given.
        rule: what was expected, in words.
        code: a stable machine code (``required``, ``time_order``, ``unique``, …).

    .. versionadded:: 0.1
    """

    row: int
    key: str | None
    field: str
    value: Any
    rule: str
    code: str

    def __str__(self) -> str:
        key = f" ({self.key})" if self.key else ""
        return f"row {self.row}{key}: {self.field}={self.value!r}: {self.rule} [{self.code}]"


@final
@attrs.frozen(kw_only=True)
class ValidationReport:
    """What validation kept and rejected; every rejected row has at least one issue.

    >>> report = TicketTable.from_columns({"ticket_id": ["T-1"]})[1]
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.SchemaError: tickets: missing required columns ['agent_id', 'channel', 'customer_id', 'opened_at', 'service_type', 'station_id']

    .. versionadded:: 0.1
    """

    table: str
    rows_in: int
    rows_valid: int
    issues: tuple[ValidationIssue, ...] = ()

    @property
    def rejected_rows(self) -> tuple[int, ...]:
        """Sorted input row indices that were rejected."""
        return tuple(sorted({issue.row for issue in self.issues}))

    @property
    def rows_rejected(self) -> int:
        """How many input rows were rejected."""
        return self.rows_in - self.rows_valid

    @property
    def ok(self) -> bool:
        """Whether every row was kept."""
        return not self.issues

    def counts(self) -> dict[str, int]:
        """Issue count per code."""
        return dict(Counter(issue.code for issue in self.issues))

    def __str__(self) -> str:
        head = (f"{self.table}: {self.rows_in} rows in, {self.rows_valid} valid, "
                f"{self.rows_rejected} rejected")
        lines = [head, *(f"  {issue}" for issue in self.issues[:20])]
        if len(self.issues) > 20:
            lines.append(f"  … and {len(self.issues) - 20} more issues")
        return "\n".join(lines)


# --------------------------------------------------------------------------- parsing


@attrs.define
class _Parsed:
    """A column being parsed: values plus the rows that failed and why."""

    values: NDArray[Any]
    labels: tuple[str, ...] | None = None
    problems: list[tuple[NDArray[np.bool_], str, str]] = attrs.field(factory=list)

    def fail(self, mask: NDArray[np.bool_], code: str, rule: str) -> None:
        if mask.any():
            self.problems.append((mask, code, rule))


def _objects(raw: Any) -> NDArray[np.object_]:
    if isinstance(raw, np.ndarray):
        return raw.astype(object)
    out = np.empty(len(raw), dtype=object)
    out[:] = list(raw)
    return out


def _missing_mask(values: NDArray[np.object_]) -> NDArray[np.bool_]:
    return np.fromiter((_is_missing(v) for v in values), dtype=bool, count=len(values))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return bool(isinstance(value, (np.datetime64, np.timedelta64)) and np.isnat(value))


def _parse_id(column: Column, raw: Any, n: int) -> _Parsed:
    if isinstance(raw, Coded):
        codes = raw.codes.astype(np.int64, copy=False)
        labels = raw.labels
        bad_label = None if isinstance(labels, _KnownGoodLabels) else _first_bad_label(labels)
        if bad_label is not None:
            raise SchemaError(f"{column.name!r}: Coded labels must be non-empty strings "
                              f"without surrounding spaces or control characters "
                              f"(got {bad_label!r})")
        if not isinstance(labels, _KnownGoodLabels) and len(set(labels)) != len(labels):
            raise SchemaError(f"{column.name!r}: Coded labels must be unique")
        parsed = _Parsed(codes.astype(np.int32), labels)
        parsed.fail((codes < -1) | (codes >= len(labels)), "bad_code",
                    f"a code in [-1, {len(labels)})")
        missing = codes == -1
    else:
        values = _objects(raw)
        missing = _missing_mask(values)
        texts = np.array([_id_text(v) for v in values], dtype=object)
        bad = ~missing & (texts == None)  # noqa: E711 - element-wise
        parsed = _Parsed(np.full(n, -1, dtype=np.int32), ())
        parsed.fail(bad, "invalid_id", "a non-empty string without surrounding spaces or "
                                       "control characters")
        good = ~missing & ~bad
        if good.any():
            # Object arrays keep every character; astype(str) would drop trailing NULs.
            labels_arr, inverse = np.unique(texts[good], return_inverse=True)
            parsed.values[good] = inverse.astype(np.int32)
            parsed.labels = tuple(str(x) for x in labels_arr)
    if column.required:
        parsed.fail(missing, "required", "a value is required")
    return parsed


def _first_bad_label(labels: tuple[str, ...]) -> Any:
    """The first label that is not a good id, or ``None`` (fast path: C-level scans)."""
    if set(map(type, labels)) <= {str} and all(labels) \
            and list(map(str.strip, labels)) == list(labels) \
            and _checks.CONTROL.search("".join(labels)) is None:
        return None
    return next((label for label in labels if not _good_id(label)), None)


def _good_id(value: Any) -> bool:
    return isinstance(value, str) and _checks.clean_id(value)


def _id_text(value: Any) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (str, np.str_)) and _good_id(str(value)):
        return str(value)
    return None


def _parse_choice(column: Column, raw: Any, n: int) -> _Parsed:
    choices = column.choices
    if choices is None:  # pragma: no cover - schema definition error
        raise SchemaError(f"{column.name!r}: a choice column needs its enum")
    members = list(choices)
    if isinstance(raw, Coded):
        try:
            lookup = np.array([members.index(choices(label)) for label in raw.labels] + [-1],
                              dtype=np.int8)
        except ValueError as error:
            raise SchemaError(f"{column.name!r}: Coded labels must be choices: {error}") \
                from error
        codes = raw.codes.astype(np.int64, copy=False)
        inside = (codes >= -1) & (codes < len(raw.labels))
        parsed = _Parsed(lookup[np.where(inside & (codes >= 0), codes, len(raw.labels))])
        parsed.fail(~inside, "bad_code", f"a code in [-1, {len(raw.labels)})")
        missing = codes == -1
    else:
        values = _objects(raw)
        missing = _missing_mask(values)
        parsed = _Parsed(np.full(n, -1, dtype=np.int8))
        uniques: dict[Any, int] = {}
        codes_list = np.empty(n, dtype=np.int16)
        for i, value in enumerate(values):
            if missing[i]:
                codes_list[i] = -1
                continue
            key = value.value if isinstance(value, enum.Enum) else value
            try:
                code = uniques.get(key)
            except TypeError:  # unhashable (a list, a dict): not a choice
                codes_list[i] = -2
                continue
            if code is None:
                try:
                    code = members.index(choices(key))
                except (ValueError, TypeError):
                    code = -2
                uniques[key] = code
            codes_list[i] = code
        bad = codes_list == -2
        parsed.values = np.where(bad, -1, codes_list).astype(np.int8)
        names = ", ".join(m.value for m in members)
        parsed.fail(bad, "unknown_choice", f"one of: {names}")
    if column.default is not None:
        parsed.values[missing] = members.index(column.default)
    elif column.required:
        parsed.fail(missing, "required", "a value is required")
    return parsed


def _parse_time(column: Column, raw: Any, n: int, zone: tzinfo | None) -> _Parsed:
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
        parsed = _Parsed(raw.astype(np.int64))
        missing = parsed.values == MISSING
    elif isinstance(raw, np.ndarray) and raw.dtype.kind == "M":
        if zone is None or zone.utcoffset(datetime(2000, 1, 1)) != timedelta(0) \
                or zone.utcoffset(datetime(2000, 7, 1)) != timedelta(0):
            raise SchemaError(f"{column.name!r}: numpy datetime64 values have no time zone; "
                              f"convert them to aware datetimes or pass default_tz='UTC'")
        seconds = raw.astype("datetime64[s]")
        missing = np.isnat(seconds)
        parsed = _Parsed(np.where(missing, MISSING, seconds.astype(np.int64)))
    else:
        values = _objects(raw)
        out = np.full(n, MISSING, dtype=np.int64)
        status = np.zeros(n, dtype=np.int8)  # 0 ok, 1 missing, 2 naive, 3 unreadable
        for i, value in enumerate(values):
            out[i], status[i] = _epoch(value, zone)
        parsed = _Parsed(out)
        parsed.fail(status == 2, "naive_datetime",
                    "a timezone-aware datetime (or pass default_tz)")
        parsed.fail(status == 3, "bad_datetime",
                    "an aware datetime or ISO-8601 text with a UTC offset")
        missing = status == 1
    if column.required:
        parsed.fail(missing, "required", "a value is required")
    return parsed


def _epoch(value: Any, zone: tzinfo | None) -> tuple[int, int]:
    if _is_missing(value):
        return MISSING, 1
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value), 0
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return MISSING, 3
    if not isinstance(value, datetime):
        return MISSING, 3
    if value.tzinfo is None or value.utcoffset() is None:
        if zone is None:
            return MISSING, 2
        value = dateutil_tz.resolve_imaginary(value.replace(tzinfo=zone))
    return (value - _EPOCH) // _SECOND, 0


def _parse_bool(column: Column, raw: Any, n: int) -> _Parsed:
    default = bool(column.default)
    if isinstance(raw, np.ndarray) and raw.dtype == np.bool_:
        return _Parsed(raw.copy())
    values = _objects(raw)
    out = np.full(n, default, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for i, value in enumerate(values):
        if _is_missing(value):
            continue
        if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer))
                                                   and value in (0, 1)):
            out[i] = bool(value)
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            out[i] = value.strip().lower() in _TRUE
        else:
            bad[i] = True
    parsed = _Parsed(out)
    parsed.fail(bad, "bad_bool", "true or false")
    return parsed


def _parse_count(column: Column, raw: Any, n: int) -> _Parsed:
    default = int(column.default or 0)
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
        parsed = _Parsed(raw.astype(np.int64))
        parsed.fail((parsed.values < 0) | (parsed.values > _COUNT_MAX), "out_of_range",
                    "an integer in [0, 2**53]")
        return parsed
    numbers, missing, bad = _numbers(raw, n)
    with np.errstate(invalid="ignore"):
        integral = (numbers == np.floor(numbers)) & (numbers >= 0) & (numbers <= _COUNT_MAX)
    outside = ~missing & ~bad & ~integral
    parsed = _Parsed(np.where(missing | bad | outside, default, numbers).astype(np.int64))
    parsed.fail(bad, "not_a_number", "a finite number")
    parsed.fail(outside, "out_of_range", "an integer in [0, 2**53]")
    return parsed


def _numbers(raw: Any, n: int) -> tuple[NDArray[np.float64], NDArray[np.bool_],
                                        NDArray[np.bool_]]:
    """Floats, the missing mask and the unreadable mask of a numeric column."""
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf":
        numbers = raw.astype(np.float64)
        missing = np.isnan(numbers)
        return numbers, missing, ~missing & ~np.isfinite(numbers)
    values = _objects(raw)
    numbers = np.full(n, np.nan)
    missing = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for i, value in enumerate(values):
        if _is_missing(value):
            missing[i] = True
        elif isinstance(value, (bool, np.bool_)):
            bad[i] = True
        elif isinstance(value, (int, float, Decimal, np.integer, np.floating, str)):
            try:
                number = Decimal(value.strip()) if isinstance(value, str) else value
                numbers[i] = float(number)
            except (InvalidOperation, ValueError, OverflowError):  # text, sNaN, huge ints
                bad[i] = True
        else:
            bad[i] = True
    bad |= ~missing & ~np.isfinite(numbers)
    return numbers, missing, bad


def _parse_number(column: Column, raw: Any, n: int) -> _Parsed:
    numbers, missing, bad = _numbers(raw, n)
    if column.default is not None:
        numbers = np.where(missing, float(column.default), numbers)
        missing = np.zeros(n, dtype=bool)
    low = -np.inf if column.low is None else column.low
    high = np.inf if column.high is None else column.high
    with np.errstate(invalid="ignore"):
        outside = ~missing & ~bad & ((numbers < low) | (numbers > high))
    parsed = _Parsed(np.where(bad | outside, np.nan, numbers))
    parsed.fail(bad, "not_a_number", "a finite number")
    if column.high is not None:
        rule = f"a number in [{low:g}, {high:g}]"
    else:
        rule = f"a number >= {low:g}"
    parsed.fail(outside, "out_of_range", rule)
    if column.required:
        parsed.fail(missing, "required", "a value is required")
    return parsed


def _parse_text(column: Column, raw: Any, n: int) -> _Parsed:
    values = _objects(raw)
    out = np.empty(len(values), dtype=object)
    out[:] = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else v
              for v in values]
    bad = np.array([not isinstance(v, str) for v in out], dtype=bool)
    out[bad] = ""
    parsed = _Parsed(out)
    parsed.fail(bad, "not_text", "a string")
    return parsed


_FLAG_MEMBERS: Final = tuple(ComplaintFlag)


def _parse_flags(column: Column, raw: Any, n: int) -> _Parsed:
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
        parsed = _Parsed(raw.astype(np.uint8))
        parsed.fail((raw < 0) | (raw >= 1 << len(_FLAG_MEMBERS)), "out_of_range",
                    "a bit mask of complaint flags")
        return parsed
    values = _objects(raw)
    out = np.zeros(n, dtype=np.uint8)
    bad = np.zeros(n, dtype=bool)
    for i, value in enumerate(values):
        if _is_missing(value):
            continue
        items = value.replace(";", ",").split(",") if isinstance(value, str) else value
        try:
            mask = 0
            for item in items:
                if isinstance(item, str) and not item.strip():
                    continue
                mask |= 1 << _FLAG_MEMBERS.index(ComplaintFlag.parse(item))
            out[i] = mask
        except (ValueError, TypeError):
            bad[i] = True
    parsed = _Parsed(out)
    names = ", ".join(m.value for m in _FLAG_MEMBERS)
    parsed.fail(bad, "unknown_choice", f"complaint flags among: {names}")
    return parsed


def _parse_zone(column: Column, raw: Any, n: int) -> _Parsed:
    parsed = _parse_id(attrs.evolve(column, required=False), raw, n)
    labels = parsed.labels or ()
    unknown = np.array([dateutil_tz.gettz(label) is None for label in labels] + [False])
    codes = parsed.values
    bad = unknown[np.where(codes < 0, len(labels), codes)]
    parsed.fail(bad, "unknown_zone", "an IANA time zone such as 'Asia/Shanghai'")
    missing = codes < 0
    if column.default is not None:
        merged = sorted({*labels, column.default})
        remap = np.array([merged.index(label) for label in labels] + [-1], dtype=np.int32)
        codes = remap[np.where(codes < 0, len(labels), codes)]
        parsed.labels = tuple(merged)
        parsed.values = np.where(missing, merged.index(column.default), codes).astype(np.int32)
    elif column.required:
        parsed.fail(missing, "required", "a value is required")
    return parsed


def _parse(column: Column, raw: Any, n: int, zone: tzinfo | None) -> _Parsed:
    kind = column.kind
    if kind is Kind.ID:
        return _parse_id(column, raw, n)
    if kind is Kind.CHOICE:
        return _parse_choice(column, raw, n)
    if kind is Kind.TIME:
        return _parse_time(column, raw, n, zone)
    if kind is Kind.BOOL:
        return _parse_bool(column, raw, n)
    if kind is Kind.COUNT:
        return _parse_count(column, raw, n)
    if kind in (Kind.NUMBER, Kind.MONEY):
        return _parse_number(column, raw, n)
    if kind is Kind.FLAGS:
        return _parse_flags(column, raw, n)
    if kind is Kind.ZONE:
        return _parse_zone(column, raw, n)
    return _parse_text(column, raw, n)


def _absent(column: Column, n: int) -> _Parsed:
    """The column filled with its default (or missing) when the caller did not give it."""
    kind = column.kind
    if kind is Kind.CHOICE:
        value = -1 if column.default is None else list(column.choices or ()).index(column.default)
        return _Parsed(np.full(n, value, dtype=np.int8))
    if kind is Kind.ZONE and column.default is not None:
        return _Parsed(np.zeros(n, dtype=np.int32), (column.default,))
    if kind in (Kind.ID, Kind.ZONE):
        return _Parsed(np.full(n, -1, dtype=np.int32), ())
    if kind is Kind.TIME:
        return _Parsed(np.full(n, MISSING, dtype=np.int64))
    if kind is Kind.BOOL:
        return _Parsed(np.full(n, bool(column.default), dtype=bool))
    if kind is Kind.COUNT:
        return _Parsed(np.full(n, int(column.default or 0), dtype=np.int64))
    if kind in (Kind.NUMBER, Kind.MONEY):
        fill = np.nan if column.default is None else float(column.default)
        return _Parsed(np.full(n, fill))
    if kind is Kind.FLAGS:
        return _Parsed(np.zeros(n, dtype=np.uint8))
    return _Parsed(np.full(n, "", dtype=object))


def _raw_value(raw: Any, row: int) -> Any:
    if raw is None:
        return None
    if isinstance(raw, Coded):
        code = int(raw.codes[row])
        return raw.labels[code] if 0 <= code < len(raw.labels) else code
    value = raw[row]
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- tables


class Table:
    """Base of the columnar tables: read-only arrays plus the id look-ups.

    Subclasses set ``SCHEMA`` and ``RECORD``. Index a table by column name to get its
    array; ``labels(name)`` gives the id of each code; ``decode(name)`` the values.
    """

    SCHEMA: ClassVar[Schema]
    RECORD: ClassVar[type[Any]]

    __slots__ = ("_columns", "_index", "_labels", "_n")

    def __init__(self, columns: Mapping[str, NDArray[Any]],
                 labels: Mapping[str, tuple[str, ...]], n_rows: int) -> None:
        names = set(self.SCHEMA.names)
        if set(columns) != names:
            raise SchemaError(f"{self.SCHEMA.name}: internal columns do not match the schema")
        frozen: dict[str, NDArray[Any]] = {}
        for name in self.SCHEMA.names:
            array = columns[name]
            if len(array) != n_rows:
                raise SchemaError(f"{self.SCHEMA.name}: column {name!r} has {len(array)} "
                                  f"rows, expected {n_rows}")
            array = np.asarray(array)
            array.flags.writeable = False
            frozen[name] = array
        self._columns: FrozenDict[str, NDArray[Any]] = FrozenDict(frozen)
        self._labels: FrozenDict[str, tuple[str, ...]] = FrozenDict(labels)
        self._n = n_rows
        self._index: dict[str, dict[str, int]] = {}  # label -> code, built on demand

    # -- construction

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], *,
                     on_invalid: Literal["report", "raise"] = "report",
                     default_tz: str | None = None) -> tuple[Self, ValidationReport]:
        """Validate *columns* (name -> array, sequence or :class:`Coded`) row by row.

        Args:
            columns: the schema's columns; optional ones may be left out and get their
                default. Values may be domain-typed (aware datetimes, enums, Decimals)
                or text (ISO-8601 with offset, enum values, numbers).
            on_invalid: ``"report"`` keeps going and reports rejected rows;
                ``"raise"`` raises :class:`ValidationFailedError` if any row is bad.
            default_tz: IANA zone for timestamps given without an offset; without it
                such values are rejected (rule ``naive_datetime``).

        Returns:
            The table of valid rows and the :class:`ValidationReport`.

        Raises:
            SchemaError: unknown or missing required columns, or columns of unequal
                length.
            ValidationFailedError: with ``on_invalid="raise"`` when a row is rejected.
        """
        return cls._validate(columns, on_invalid=on_invalid, default_tz=default_tz,
                             context=None)

    @classmethod
    def _set_issues(cls, values: Mapping[str, NDArray[Any]],
                    labels: Mapping[str, tuple[str, ...]], alive: NDArray[np.bool_],
                    context: Any) -> list[tuple[int, str, str, str]]:
        """Issues that need the whole set of rows (or another table): none by default.

        *values* are the parsed columns (id codes index *labels*), *alive* the rows no
        cell or row rule rejected; returns ``(row, field, rule, code)`` tuples.
        """
        return []

    @classmethod
    def _validate(cls, columns: Mapping[str, Any], *, on_invalid: Literal["report", "raise"],
                  default_tz: str | None, context: Any) -> tuple[Self, ValidationReport]:
        schema = cls.SCHEMA
        if on_invalid not in ("report", "raise"):
            raise InvalidChoiceError.for_value("on_invalid", on_invalid, ["report", "raise"])
        # Positional access for every input (a pandas Series indexes by label).
        columns = {name: value if isinstance(value, (np.ndarray, Coded, list, tuple))
                   else list(value) for name, value in columns.items()}
        unknown = [name for name in columns if name not in schema.names]
        if unknown:
            raise SchemaError(f"{schema.name}: "
                              f"{UnknownKeyError.for_key('column', unknown[0], schema.names)}")
        missing = sorted(c.name for c in schema.columns if c.required and c.name not in columns)
        if missing:
            raise SchemaError(f"{schema.name}: missing required columns {missing!r}")
        lengths = {name: len(value) for name, value in columns.items()}
        if len(set(lengths.values())) > 1:
            raise SchemaError(f"{schema.name}: columns differ in length {lengths!r}")
        n = next(iter(lengths.values()), 0)
        zone = None
        if default_tz is not None:
            # gettz("") is the machine's local zone: an ambient default, refused.
            zone = dateutil_tz.gettz(default_tz) if str(default_tz).strip() else None
            if zone is None:
                raise SchemaError(f"unknown time zone {default_tz!r} for 'default_tz'")

        parsed = {c.name: (_parse(c, columns[c.name], n, zone) if c.name in columns
                           else _absent(c, n)) for c in schema.columns}
        issues: list[tuple[int, str, str, str]] = []  # (row, field, rule, code)
        cell_bad = {name: np.zeros(n, dtype=bool) for name in parsed}
        for name, column in parsed.items():
            for mask, code, text in column.problems:
                cell_bad[name] |= mask
                issues.extend((int(row), name, text, code) for row in np.flatnonzero(mask))
        values = {name: column.values for name, column in parsed.items()}
        for rule in schema.rules:
            broken = rule.check(values)
            for name in rule.fields:
                broken = broken & ~cell_bad[name]
            issues.extend((int(row), rule.field, rule.description, rule.code)
                          for row in np.flatnonzero(broken))
        if schema.key is not None:
            key_codes = values[schema.key]
            dupes = _duplicates(key_codes) & ~cell_bad[schema.key]
            issues.extend((int(row), schema.key, "unique: seen on an earlier row", "unique")
                          for row in np.flatnonzero(dupes))
        alive = ~np.any(np.stack([np.zeros(n, dtype=bool), *cell_bad.values()]), axis=0)
        if issues:
            alive[np.fromiter((row for row, *_ in issues), dtype=np.int64)] = False
        issues.extend(cls._set_issues(
            values, {name: c.labels for name, c in parsed.items() if c.labels is not None},
            alive, context))

        rejected = np.zeros(n, dtype=bool)
        if issues:
            rejected[np.fromiter((row for row, *_ in issues), dtype=np.int64)] = True
        keys = _keys(schema, columns, parsed)
        report = ValidationReport(
            table=schema.name, rows_in=n, rows_valid=int(n - rejected.sum()),
            issues=tuple(
                ValidationIssue(row=row, key=keys(row), field=field,
                                value=_raw_value(columns.get(field), row), rule=rule, code=code)
                for row, field, rule, code in sorted(issues)))
        if issues and on_invalid == "raise":
            raise ValidationFailedError(str(report))
        keep = ~rejected
        out: dict[str, NDArray[Any]] = {}
        labels: dict[str, tuple[str, ...]] = {}
        for name, column in parsed.items():
            kept = column.values[keep] if issues else column.values
            if column.labels is not None:
                kept, labels[name] = _compact(kept, column.labels)
            out[name] = kept
        return cls(out, labels, int(keep.sum())), report

    @classmethod
    def from_frame(cls, frame: Any, *, on_invalid: Literal["report", "raise"] = "report",
                   default_tz: str | None = None) -> tuple[Self, ValidationReport]:
        """Validate a pandas, polars or pyarrow dataframe (any frame narwhals reads).

        Columns are matched by name as in :meth:`from_columns`, which does the
        validation: every rejected row is in the report. Needs the ``frames`` extra
        (``pip install 'servicekpi[frames]'``); see :mod:`servicekpi.io.frames`.

        Raises:
            MissingExtraError: narwhals is not installed.
            SchemaError: as :meth:`from_columns`, or *frame* is not a dataframe.
        """
        result: tuple[Self, ValidationReport] = _extras.edge("io.frames").table_from_frame(
            cls, frame, on_invalid=on_invalid, default_tz=default_tz)
        return result

    @classmethod
    def from_records(cls, records: Iterable[Any]) -> Self:
        """A table from domain objects (already valid, so only duplicate keys can fail).

        Raises:
            DuplicateKeyError: two records share a key.
        """
        items = list(records)
        for item in items:
            if not isinstance(item, cls.RECORD):
                raise TypeError(f"{cls.__name__}.from_records expects {cls.RECORD.__name__} "
                                f"objects (got {item!r})")
        key = cls.SCHEMA.key
        if key is not None:
            seen: set[str] = set()
            for item in items:
                value = getattr(item, key)
                if value in seen:
                    raise DuplicateKeyError(f"{key} {value!r} appears twice")
                seen.add(value)
        columns = {c.name: [getattr(item, c.name) for item in items]
                   for c in cls.SCHEMA.columns}
        table, _ = cls.from_columns(columns, on_invalid="raise")
        return table

    # -- access

    def __len__(self) -> int:
        return self._n

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return self._n

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names in schema order."""
        return self.SCHEMA.names

    def __getitem__(self, name: str) -> NDArray[Any]:
        try:
            return self._columns[name]
        except KeyError:
            raise UnknownKeyError.for_key(f"column of {self.SCHEMA.name}", name,
                                          self.SCHEMA.names) from None

    def labels(self, name: str) -> tuple[str, ...]:
        """The id (or zone) behind each code of an id column."""
        if name not in self._labels:
            self.SCHEMA.column(name)
            raise SchemaError(f"{name!r} is not an id column of {self.SCHEMA.name}")
        return self._labels[name]

    def codes_of(self, name: str, labels: Iterable[str]) -> NDArray[np.int64]:
        """The codes of *labels* in id column *name*; ``-1`` for labels it does not have.

        The label index is built on first use and kept (tables are immutable).

        >>> table = TicketTable.from_records([])
        >>> table.codes_of("agent_id", ["A-1"]).tolist()
        [-1]
        """
        index = self._index.get(name)
        if index is None:
            index = dict(zip(self.labels(name), range(len(self.labels(name)))))
            self._index[name] = index
        return np.fromiter(map(index.get, labels, itertools.repeat(-1)), dtype=np.int64)

    def present(self, name: str) -> NDArray[np.bool_]:
        """Which rows have a value in column *name* (missing = ``False``)."""
        column = self.SCHEMA.column(name)
        values = self[name]
        if column.kind is Kind.TIME:
            return np.asarray(values != MISSING)
        if column.kind in (Kind.ID, Kind.ZONE, Kind.CHOICE):
            return np.asarray(values >= 0)
        if column.kind in (Kind.NUMBER, Kind.MONEY):
            return np.asarray(~np.isnan(values))
        return np.ones(self._n, dtype=bool)

    def decode(self, name: str) -> NDArray[Any]:
        """Column *name* as Python values: ids as ``str``, choices as enum members,
        times as ``datetime64[s]`` (UTC, ``NaT`` = missing); ``None`` where missing."""
        column = self.SCHEMA.column(name)
        values = self[name]
        if column.kind in (Kind.ID, Kind.ZONE):
            return Coded(codes=values, labels=self._labels[name]).decode()
        if column.kind is Kind.CHOICE:
            members = np.array([*(column.choices or ()), None], dtype=object)
            return members[np.where(values < 0, len(members) - 1, values)]
        if column.kind is Kind.TIME:
            return values.view("datetime64[s]")
        return values

    def take(self, rows: NDArray[np.bool_] | NDArray[np.integer[Any]]) -> Self:
        """The sub-table of the rows selected by a boolean mask or index array."""
        return type(self)({n: v[rows] for n, v in self._columns.items()},
                          dict(self._labels), int(len(self._columns[self.columns[0]][rows])))

    def to_columns(self) -> dict[str, list[Any]]:
        """Plain Python columns that :meth:`from_columns` reads back to an equal table."""
        out: dict[str, list[Any]] = {}
        for column in self.SCHEMA.columns:
            out[column.name] = [_to_python(column, v) for v in self._pythonish(column)]
        return out

    def _pythonish(self, column: Column) -> NDArray[Any]:
        if column.kind is Kind.TIME:
            return self[column.name]
        return self.decode(column.name)

    def to_records(self) -> list[Any]:
        """The rows as domain objects (times in UTC, amounts as Decimals)."""
        columns = self.to_columns()
        names = list(columns)
        return [self.RECORD(**{name: columns[name][i] for name in names})
                for i in range(self._n)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)) or type(other) is not type(self):
            return NotImplemented
        return self._n == other._n and all(
            self._labels.get(n) == other._labels.get(n)
            and np.array_equal(self._columns[n], other._columns[n], equal_nan=_nan_ok(self, n))
            for n in self.columns)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._n} rows × {len(self.columns)} columns>"


def _nan_ok(table: Table, name: str) -> bool:
    return table.SCHEMA.column(name).kind in (Kind.NUMBER, Kind.MONEY)


def _to_python(column: Column, value: Any) -> Any:
    kind = column.kind
    if kind is Kind.TIME:
        return None if value == MISSING else _EPOCH + timedelta(seconds=int(value))
    if kind in (Kind.NUMBER, Kind.MONEY):
        if np.isnan(value):
            return None
        return Decimal(repr(float(value))) if kind is Kind.MONEY else float(value)
    if kind is Kind.BOOL:
        return bool(value)
    if kind is Kind.COUNT:
        return int(value)
    if kind is Kind.FLAGS:
        return frozenset(f for i, f in enumerate(_FLAG_MEMBERS) if int(value) >> i & 1)
    return value


def _duplicates(codes: NDArray[Any]) -> NDArray[np.bool_]:
    """Rows whose (non-missing) code appeared on an earlier row."""
    n = len(codes)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    repeat = np.empty(n, dtype=bool)
    repeat[0] = False
    repeat[1:] = ordered[1:] == ordered[:-1]
    out[order] = repeat & (ordered >= 0)
    return out


def _compact(codes: NDArray[Any], labels: tuple[str, ...]) -> tuple[NDArray[np.int32],
                                                                    tuple[str, ...]]:
    """Drop labels no kept row uses, keeping their order; codes follow."""
    n = len(labels)
    used = np.bincount(codes[codes >= 0], minlength=n).astype(bool) if n else np.zeros(0, bool)
    if used.all():
        return codes.astype(np.int32, copy=False), labels
    new_code = np.full(n + 1, -1, dtype=np.int32)
    kept = np.flatnonzero(used)
    new_code[kept] = np.arange(len(kept), dtype=np.int32)
    return new_code[np.where(codes < 0, n, codes)], tuple(labels[i] for i in kept)


def _keys(schema: Schema, columns: Mapping[str, Any],
          parsed: Mapping[str, _Parsed]) -> Callable[[int], str | None]:
    name = schema.key or schema.label
    if name is None or name not in columns:
        return lambda row: None
    key = parsed[name]
    labels = key.labels or ()

    def lookup(row: int) -> str | None:
        code = int(key.values[row])
        return labels[code] if 0 <= code < len(labels) else None

    return lookup


# --------------------------------------------------------------------------- schemas


def _c(name: str, kind: Kind, doc: str, **options: Any) -> Column:
    return Column(name=name, kind=kind, doc=doc, **options)


def _after(later: str, earlier: str) -> Rule:
    def check(cols: Columns) -> NDArray[np.bool_]:
        a, b = cols[later], cols[earlier]
        return np.asarray((a != MISSING) & (b != MISSING) & (a < b))

    return Rule(code="time_order", fields=(later, earlier),
                description=f"{later!r} must not be before {earlier!r}", check=check)


def _not_above(small: str, big: str, code: str = "exceeds") -> Rule:
    def check(cols: Columns) -> NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            return np.asarray(cols[small] > cols[big])

    return Rule(code=code, fields=(small, big),
                description=f"{small!r} must not exceed {big!r}", check=check)


def _fcr_needs_resolution(cols: Columns) -> NDArray[np.bool_]:
    return np.asarray(cols["first_contact_resolved"] & (cols["resolved_at"] == MISSING))


TICKET_SCHEMA: Final = Schema(
    name="tickets", noun="ticket", key="ticket_id",
    columns=(
        _c("ticket_id", Kind.ID, "unique ticket id", required=True),
        _c("agent_id", Kind.ID, "the agent measured for it", required=True),
        _c("team_id", Kind.ID, "the agent's team"),
        _c("station_id", Kind.ID, "the station it belongs to", required=True),
        _c("customer_id", Kind.ID, "the customer served", required=True),
        _c("service_type", Kind.CHOICE, "kind of service", required=True,
           choices=ServiceType),
        _c("channel", Kind.CHOICE, "how the customer came in", required=True,
           choices=Channel),
        _c("priority", Kind.CHOICE, "HIGH/URGENT = complex problem", choices=Priority,
           default=Priority.NORMAL),
        _c("opened_at", Kind.TIME, "request received", required=True),
        _c("first_response_at", Kind.TIME, "first answer; missing = not yet"),
        _c("resolved_at", Kind.TIME, "solved; missing = not yet"),
        _c("closed_at", Kind.TIME, "closed; missing = still open"),
        _c("first_contact_resolved", Kind.BOOL, "solved on first contact", default=False),
        _c("rework", Kind.BOOL, "a repeat repair (返修)", default=False),
        _c("reopen_count", Kind.COUNT, "times reopened", default=0, low=0),
        _c("satisfaction", Kind.NUMBER, "customer rating; missing = not rated", low=1,
           high=5),
        _c("answers", Kind.COUNT, "answers given (consultations)", default=0, low=0),
        _c("answer_errors", Kind.COUNT, "wrong answers among them", default=0, low=0),
        _c("labour_cost", Kind.MONEY, "labour cost", low=0),
        _c("parts_cost", Kind.MONEY, "parts cost", low=0),
        _c("revenue", Kind.MONEY, "revenue of the job (单车产值)", low=0),
        _c("insurance", Kind.BOOL, "an insurance job (保险), paid by an insurer",
           default=False),
        _c("claim_approved", Kind.BOOL, "warranty claim approved (保修索赔)", default=False),
        _c("customer_tier", Kind.CHOICE, "the customer's ABC tier, if known", choices=Tier),
    ),
    rules=(
        _after("first_response_at", "opened_at"),
        _after("resolved_at", "opened_at"),
        _after("closed_at", "opened_at"),
        _after("closed_at", "resolved_at"),
        _not_above("answer_errors", "answers"),
        Rule(code="fcr_unresolved", fields=("first_contact_resolved", "resolved_at"),
             description="'first_contact_resolved' needs 'resolved_at'",
             check=_fcr_needs_resolution),
    ),
)


def _outcome_iff_done(cols: Columns) -> NDArray[np.bool_]:
    return np.asarray((cols["done_at"] != MISSING) != (cols["outcome"] >= 0))


CALLBACK_SCHEMA: Final = Schema(
    name="callbacks", noun="callback", key="callback_id",
    columns=(
        _c("callback_id", Kind.ID, "unique callback id", required=True),
        _c("subject", Kind.CHOICE, "what it is about", required=True,
           choices=CallbackSubject),
        _c("subject_id", Kind.ID, "id of the ticket/complaint/customer/event",
           required=True),
        _c("due_from", Kind.TIME, "earliest due moment", required=True),
        _c("due_by", Kind.TIME, "latest on-time moment", required=True),
        _c("done_at", Kind.TIME, "when made; missing = not yet"),
        _c("outcome", Kind.CHOICE, "result; required exactly when done",
           choices=CallbackOutcome),
        _c("agent_id", Kind.ID, "who made (or must make) it"),
        _c("substitute_for", Kind.ID, "absent assignee stood in for (代理)"),
    ),
    rules=(
        _after("due_by", "due_from"),
        Rule(code="outcome_iff_done", fields=("outcome", "done_at"),
             description="'outcome' is given exactly when 'done_at' is",
             check=_outcome_iff_done),
    ),
)

COMPLAINT_SCHEMA: Final = Schema(
    name="complaints", noun="complaint", key="complaint_id",
    columns=(
        _c("complaint_id", Kind.ID, "unique complaint id", required=True),
        _c("customer_id", Kind.ID, "who complained", required=True),
        _c("station_id", Kind.ID, "station it is attributed to", required=True),
        _c("responsible", Kind.ID, "the station's responsible person", required=True),
        _c("source", Kind.CHOICE, "where it came in", required=True,
           choices=ComplaintSource),
        _c("complaint_type", Kind.ID, "the matter (repeat detection key)", required=True),
        _c("received_at", Kind.TIME, "when it came in", required=True),
        _c("flags", Kind.FLAGS, "severity signals: media, regulator, safety, threat"),
        _c("ticket_id", Kind.ID, "the ticket it is about"),
        _c("agent_id", Kind.ID, "the agent it is about"),
        _c("closed_at", Kind.TIME, "closed after a solved callback"),
        _c("description", Kind.TEXT, "free text", default=""),
    ),
    rules=(_after("closed_at", "received_at"),),
)


def _scale_order(cols: Columns) -> NDArray[np.bool_]:
    return np.asarray(cols["scale_min"] >= cols["scale_max"])


def _score_in_scale(cols: Columns) -> NDArray[np.bool_]:
    score, low, high = cols["score"], cols["scale_min"], cols["scale_max"]
    with np.errstate(invalid="ignore"):
        return np.asarray((low < high) & ((score < low) | (score > high)))


RATING_SCHEMA: Final = Schema(
    name="ratings", noun="rating", key=None,
    columns=(
        _c("agent_id", Kind.ID, "the agent rated", required=True),
        _c("rater_role", Kind.CHOICE, "360° rater role", required=True, choices=RaterRole),
        _c("item", Kind.ID, "what is rated", required=True),
        _c("score", Kind.NUMBER, "the score, within its scale", required=True),
        _c("rated_at", Kind.TIME, "when given", required=True),
        _c("scale_min", Kind.NUMBER, "bottom of the scale", default=0.0),
        _c("scale_max", Kind.NUMBER, "top of the scale", default=100.0),
        _c("rater_id", Kind.ID, "who rated"),
        _c("rating_id", Kind.ID, "an id, if the source has one"),
    ),
    rules=(
        Rule(code="scale_order", fields=("scale_min", "scale_max"),
             description="'scale_min' must be below 'scale_max'", check=_scale_order),
        Rule(code="out_of_range", fields=("score", "scale_min", "scale_max"),
             description="'score' must lie in [scale_min, scale_max]", check=_score_in_scale),
    ),
)

ORDER_SCHEMA: Final = Schema(
    name="orders", noun="order", key="order_id",
    columns=(
        _c("order_id", Kind.ID, "unique order id", required=True),
        _c("customer_id", Kind.ID, "the buyer", required=True),
        _c("agent_id", Kind.ID, "the agent credited", required=True),
        _c("created_at", Kind.TIME, "when placed", required=True),
        _c("amount", Kind.MONEY, "order amount", required=True, low=0),
        _c("paid", Kind.MONEY, "amount paid", default=0.0, low=0),
        _c("refunded", Kind.MONEY, "amount refunded", default=0.0, low=0),
        _c("station_id", Kind.ID, "the station"),
        _c("valid", Kind.BOOL, "a valid order (有效订单)", default=True),
        _c("abnormal", Kind.BOOL, "an abnormal order (异常订单)", default=False),
        _c("consultation_ticket_id", Kind.ID, "the consultation it came from (咨询转化)"),
    ),
    rules=(_not_above("paid", "amount"), _not_above("refunded", "paid")),
)

def _event_needs_to(cols: Columns) -> NDArray[np.bool_]:
    kind = cols["kind"]
    changes = (kind == _EVENT_CODES[EventKind.STATUS]) \
        | (kind == _EVENT_CODES[EventKind.ASSIGNMENT])
    return np.asarray(changes & (cols["to_value"] < 0))


_EVENT_CODES: Final = {kind: np.int8(i) for i, kind in enumerate(EventKind)}

TICKET_EVENT_SCHEMA: Final = Schema(
    name="ticket_events", noun="event", key=None, label="ticket_id",
    columns=(
        _c("ticket_id", Kind.ID, "the ticket", required=True),
        _c("at", Kind.TIME, "when it happened", required=True),
        _c("kind", Kind.CHOICE, "what happened", required=True, choices=EventKind),
        _c("from_value", Kind.ID, "status before a status change / assignee before an "
                                  "assignment"),
        _c("to_value", Kind.ID, "the new status / the new assignee (agent id)"),
        _c("actor", Kind.ID, "who did it (the replying agent)"),
    ),
    rules=(Rule(code="needs_to_value", fields=("to_value", "kind"),
                description="'to_value' is required for status and assignment events",
                check=_event_needs_to),),
)

CUSTOMER_SCHEMA: Final = Schema(
    name="customers", noun="customer", key="customer_id",
    columns=(
        _c("customer_id", Kind.ID, "unique customer id", required=True),
        _c("tier", Kind.CHOICE, "ABC importance", choices=Tier, default=Tier.B),
        _c("loyalty", Kind.CHOICE, "loyal / ordinary / lost", choices=Loyalty,
           default=Loyalty.ORDINARY),
        _c("tz", Kind.ZONE, "the customer's IANA time zone", default="Asia/Shanghai"),
        _c("name", Kind.TEXT, "display name", default=""),
    ),
)

AGENT_SCHEMA: Final = Schema(
    name="agents", noun="agent", key="agent_id",
    columns=(
        _c("agent_id", Kind.ID, "unique agent id", required=True),
        _c("name", Kind.TEXT, "display name", default=""),
        _c("role", Kind.CHOICE, "job (岗位)", required=True, choices=Role),
        _c("team_id", Kind.ID, "team ranked with", required=True),
        _c("station_id", Kind.ID, "station worked at", required=True),
        _c("supervisor_id", Kind.ID, "direct supervisor"),
        _c("tz", Kind.ZONE, "IANA time zone", default="Asia/Shanghai"),
        _c("track", Kind.CHOICE, "appraisal track; missing = by role (policy)",
           choices=AppraisalTrack),
    ),
)


@final
class TicketTable(Table):
    """Service tickets, one row per ticket. Schema: ``docs/tables.md#tickets``.

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    >>> table, report = TicketTable.from_columns({
    ...     "ticket_id": ["T-1", "T-2", "T-2"], "agent_id": ["A-1", "A-2", "A-1"],
    ...     "station_id": ["S1"] * 3, "customer_id": ["C-1", "C-2", "C-3"],
    ...     "service_type": ["repair", "consultation", "repair"],
    ...     "channel": ["phone", "online", "phone"],
    ...     "opened_at": [t0, "2026-10-05T17:30:00+08:00", t0],
    ...     "satisfaction": [5, 7, None]})
    >>> len(table), report.rows_rejected
    (1, 2)
    >>> print(report)
    tickets: 3 rows in, 1 valid, 2 rejected
      row 1 (T-2): satisfaction=7: a number in [1, 5] [out_of_range]
      row 2 (T-2): ticket_id='T-2': unique: seen on an earlier row [unique]
    >>> table.labels("agent_id"), table["opened_at"].tolist()
    (('A-1',), [1791190800])

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = TICKET_SCHEMA
    RECORD: ClassVar[type[Any]] = Ticket
    __slots__ = ()


@final
class ComplaintTable(Table):
    """Complaints (投诉), one row per complaint. Schema: ``docs/tables.md#complaints``.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = COMPLAINT_SCHEMA
    RECORD: ClassVar[type[Any]] = Complaint
    __slots__ = ()


@final
class CallbackTable(Table):
    """Callbacks (回访), due or made. Schema: ``docs/tables.md#callbacks``.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = CALLBACK_SCHEMA
    RECORD: ClassVar[type[Any]] = Callback
    __slots__ = ()


@final
class RatingTable(Table):
    """360° ratings. Schema: ``docs/tables.md#ratings``.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = RATING_SCHEMA
    RECORD: ClassVar[type[Any]] = Rating
    __slots__ = ()


@final
class OrderTable(Table):
    """Orders for the commercial KPIs. Schema: ``docs/tables.md#orders``.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = ORDER_SCHEMA
    RECORD: ClassVar[type[Any]] = Order
    __slots__ = ()


@final
class TicketEventTable(Table):
    """A ticket's history: status changes, assignments, customer messages, agent replies.

    Schema: ``docs/tables.md#ticket-events``; how clocks read it: ``docs/clocks.md``.
    Besides the row rules, :meth:`from_columns` rejects ``duplicate`` events (all six
    fields equal to an earlier row's), ``same_instant`` status changes or assignments
    (two of one ticket at one second with different ``to_value``: their order is
    unknown) and, given ``tickets``, events of an ``unknown_ticket`` or
    ``before_opened``.

    >>> from datetime import datetime, timezone
    >>> t = [datetime(2026, 10, 5, h, tzinfo=timezone.utc) for h in (9, 10, 11)]
    >>> events, report = TicketEventTable.from_columns({
    ...     "ticket_id": ["T-1", "T-1", "T-1", "T-1"], "at": [t[1], t[1], t[2], t[2]],
    ...     "kind": ["status", "status", "customer_message", "customer_message"],
    ...     "to_value": ["waiting_customer", "solved", None, None]})
    >>> len(events)
    1
    >>> print(report)
    ticket_events: 4 rows in, 1 valid, 3 rejected
      row 0 (T-1): to_value='waiting_customer': another status change of this ticket at the same second (order unknown) [same_instant]
      row 1 (T-1): to_value='solved': another status change of this ticket at the same second (order unknown) [same_instant]
      row 3 (T-1): ticket_id='T-1': the same event as an earlier row [duplicate]

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = TICKET_EVENT_SCHEMA
    RECORD: ClassVar[type[Any]] = TicketEvent
    __slots__ = ()

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], *,
                     on_invalid: Literal["report", "raise"] = "report",
                     default_tz: str | None = None,
                     tickets: TicketTable | None = None) -> tuple[Self, ValidationReport]:
        """Validate *columns* as :meth:`Table.from_columns` does, plus the event rules.

        Args:
            columns, on_invalid, default_tz: as :meth:`Table.from_columns`.
            tickets: when given, events of tickets it does not have are rejected
                (``unknown_ticket``), and so are events before their ticket opened
                (``before_opened``).
        """
        if tickets is not None and not isinstance(tickets, TicketTable):
            raise TypeError(f"'tickets' must be a TicketTable (got {type(tickets).__name__})")
        table, report = cls._validate(columns, on_invalid=on_invalid, default_tz=default_tz,
                                      context=tickets)
        return (table if tickets is None else table._in_ids_of(tickets)), report

    def _in_ids_of(self, tickets: TicketTable) -> Self:
        """This table with ``ticket_id`` coded in *tickets*' own labels (every event's
        ticket is known), so the clocks find ticket rows without looking ids up again."""
        theirs = tickets.labels("ticket_id")
        if self._labels["ticket_id"] is theirs:
            return self
        mapping = np.append(tickets.codes_of("ticket_id", self._labels["ticket_id"]), -1)
        codes = mapping[self._columns["ticket_id"]]
        if len(self) and int(codes.min()) < 0:  # pragma: no cover - rejected as unknown
            return self
        columns = dict(self._columns)
        columns["ticket_id"] = codes.astype(np.int32)
        labels = dict(self._labels)
        labels["ticket_id"] = theirs
        return type(self)(columns, labels, self._n)

    def validate_against(self, tickets: TicketTable | None = None
                         ) -> tuple[TicketEventTable, ValidationReport]:
        """Check the whole table again: duplicates, same-second clashes and, given
        *tickets*, unknown tickets and events before their ticket opened.

        For tables built in parts (``io.read_csv`` validates chunk by chunk, so a
        duplicate in another chunk is not seen there) and for events validated before
        the tickets were at hand. Issue rows are rows of this table.

        >>> from datetime import datetime, timezone
        >>> t = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
        >>> events, _ = TicketEventTable.from_columns({"ticket_id": ["T-9"], "at": [t],
        ...                                            "kind": ["customer_message"]})
        >>> tickets = TicketTable.from_records([])
        >>> kept, report = events.validate_against(tickets)
        >>> len(kept), [issue.code for issue in report.issues]
        (0, ['unknown_ticket'])
        """
        if tickets is not None and not isinstance(tickets, TicketTable):
            raise TypeError(f"'tickets' must be a TicketTable (got {type(tickets).__name__})")
        found = self._set_issues(self._columns, self._labels, np.ones(len(self), dtype=bool),
                                 tickets)
        issues = tuple(ValidationIssue(
            row=row, key=str(self.decode("ticket_id")[row]), field=field,
            value=_to_python(self.SCHEMA.column(field), self._pythonish(
                self.SCHEMA.column(field))[row]), rule=rule, code=code)
            for row, field, rule, code in sorted(found))
        rejected = np.zeros(len(self), dtype=bool)
        rejected[[issue.row for issue in issues]] = True
        report = ValidationReport(table=self.SCHEMA.name, rows_in=len(self),
                                  rows_valid=int(len(self) - rejected.sum()), issues=issues)
        kept = self.take(~rejected) if issues else self
        return (kept if tickets is None else kept._in_ids_of(tickets)), report

    @classmethod
    def _set_issues(cls, values: Mapping[str, NDArray[Any]],
                    labels: Mapping[str, tuple[str, ...]], alive: NDArray[np.bool_],
                    context: Any) -> list[tuple[int, str, str, str]]:
        issues: list[tuple[int, str, str, str]] = []
        rows = np.flatnonzero(alive)
        if rows.size == 0:
            return issues
        ticket, at, kind = (values[n][rows] for n in ("ticket_id", "at", "kind"))
        from_value, to_value, actor = (values[n][rows]
                                       for n in ("from_value", "to_value", "actor"))
        order = np.lexsort((actor, from_value, to_value, kind, at, ticket))
        same_moment = (ticket[order][1:] == ticket[order][:-1]) \
            & (at[order][1:] == at[order][:-1]) & (kind[order][1:] == kind[order][:-1])
        same_event = same_moment & (to_value[order][1:] == to_value[order][:-1]) \
            & (from_value[order][1:] == from_value[order][:-1]) \
            & (actor[order][1:] == actor[order][:-1])
        # Equal events sort together; within them the earliest row is kept.
        duplicate = np.zeros(rows.size, dtype=bool)
        if same_event.any():
            run = np.concatenate(([0], np.cumsum(~same_event)))
            first_row = np.full(int(run[-1]) + 1, rows.size, dtype=np.int64)
            np.minimum.at(first_row, run, order)
            duplicate[order] = order != first_row[run]
        issues.extend((int(rows[i]), "ticket_id", "the same event as an earlier row",
                       "duplicate") for i in np.flatnonzero(duplicate))
        changes = (kind[order][1:] == _EVENT_CODES[EventKind.STATUS]) \
            | (kind[order][1:] == _EVENT_CODES[EventKind.ASSIGNMENT])
        clash = same_moment & changes & (to_value[order][1:] != to_value[order][:-1])
        if clash.any():
            moment = np.concatenate(([0], np.cumsum(~same_moment)))
            bad_moments = np.unique(moment[1:][clash])
            conflicted = np.zeros(rows.size, dtype=bool)
            conflicted[order] = np.isin(moment, bad_moments)
            for i in np.flatnonzero(conflicted & ~duplicate):
                noun = "status change" if kind[i] == _EVENT_CODES[EventKind.STATUS] \
                    else "assignment"
                issues.append((int(rows[i]), "to_value", f"another {noun} of this ticket "
                               f"at the same second (order unknown)", "same_instant"))
        if isinstance(context, TicketTable):
            issues.extend(_event_ticket_issues(context, rows, ticket, at,
                                               labels.get("ticket_id", ())))
        return issues


def _event_ticket_issues(tickets: TicketTable, rows: NDArray[np.int64],
                         ticket: NDArray[Any], at: NDArray[np.int64],
                         labels: tuple[str, ...]) -> list[tuple[int, str, str, str]]:
    """Events of tickets *tickets* does not have, or before their ticket opened."""
    code_to_row = np.full(len(tickets.labels("ticket_id")) + 1, -1, dtype=np.int64)
    code_to_row[tickets["ticket_id"]] = np.arange(len(tickets))
    wanted = tickets.codes_of("ticket_id", labels)
    row_of_label = np.append(code_to_row[np.where(wanted < 0, -1, wanted)], -1)
    ticket_row = row_of_label[np.where(ticket < 0, len(labels), ticket)]
    unknown = ticket_row < 0
    opened = tickets["opened_at"][np.maximum(ticket_row, 0)] if len(tickets) \
        else np.zeros(rows.size, dtype=np.int64)
    early = ~unknown & (at < opened)
    return [(int(rows[i]), "ticket_id", "no such ticket", "unknown_ticket")
            for i in np.flatnonzero(unknown)] + \
        [(int(rows[i]), "at", "before the ticket opened", "before_opened")
         for i in np.flatnonzero(early)]


@final
class CustomerTable(Table):
    """Customers with tier, loyalty and zone. Schema: ``docs/tables.md#customers``.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = CUSTOMER_SCHEMA
    RECORD: ClassVar[type[Any]] = Customer
    __slots__ = ()


@final
class AgentTable(Table):
    """The roster: agents with role, team, station, supervisor, zone and track.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = AGENT_SCHEMA
    RECORD: ClassVar[type[Any]] = Agent
    __slots__ = ()


ALL_TABLES: Final = (TicketTable, ComplaintTable, CallbackTable, RatingTable, OrderTable,
                     CustomerTable, AgentTable, TicketEventTable)

# Each table's docstring carries its schema, generated from the schema itself so the
# two cannot drift apart (docs/tables.md is checked against the same text by a test).
for _table in ALL_TABLES:
    _table.__doc__ = (_table.__doc__ or "") + "\n    Schema:\n\n" + "\n".join(
        "    " + line for line in _table.SCHEMA.describe().splitlines()) + "\n"
del _table
