"""CSV files in and out, with the standard library's :mod:`csv` only.

:func:`read_csv` streams a file into a table, chunk by chunk, validating every row as
:meth:`Table.from_columns <servicekpi.tables.Table.from_columns>` does; nothing is
dropped silently (``rows_in == rows_valid + rows_rejected``, across chunks too), and
the rejected rows can be written to a file of their own for fixing.
:func:`write_csv` writes tables, panels, results and plain records for people (Excel:
UTF-8 with BOM, every cell quoted, guarded against CSV injection) or for machines.

Rows and lines
--------------

A :class:`~servicekpi.tables.ValidationIssue` keeps its meaning: ``row`` is the 0-based
*data row* (the first record after the header is row 0), counted over the whole file.
The file line is a different number: the header may come after blank lines, cells may
hold line breaks and blank lines are skipped, so ``line = row + 2`` holds only for
simple files. :meth:`CsvReport.line_of` gives the exact 1-based line where a row
starts, :meth:`CsvReport.where` gives ``"file:line"``, and ``str(report)`` lists the
issues as ``file:line (key): field='value': rule [code]``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import codecs
import csv
import enum
import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Generic, Literal, TypeVar, final

import attrs
import numpy as np
from dateutil import tz as dateutil_tz
from numpy.typing import NDArray

from servicekpi.domain import ComplaintFlag, _checks
from servicekpi.exceptions import (
    InvalidChoiceError,
    NaiveDatetimeError,
    SchemaError,
    UnknownKeyError,
    ValidationFailedError,
)
from servicekpi.kernel import MISSING
from servicekpi.metrics import KpiPanel
from servicekpi.tables import (
    Coded,
    Column,
    Kind,
    Schema,
    Table,
    ValidationIssue,
    ValidationReport,
)

__all__ = ("CHUNK_ROWS", "CsvReport", "read_csv", "write_csv")

CHUNK_ROWS: Final = 5_000
"""Rows validated at a time by :func:`read_csv` (its ``chunk_rows`` default).

Small chunks stay in the CPU caches: reading a million tickets took about 7.5 s in
chunks of 5 000 rows, 9 s in chunks of 10 000 and 11 s in chunks of 100 000."""

_T = TypeVar("_T", bound=Table)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND: Final = timedelta(seconds=1)
_META: Final = ("_line", "_field", "_rule", "_code")
# OWASP CSV injection: a spreadsheet runs a cell starting with these as a formula
# (tab and line breaks because Excel trims them before looking at the next character).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
_SNIFF_BLOCK: Final = 1 << 20
_ROW_SHAPE: Final = "_cells"
_BATCH_ROWS: Final = 2_000


# --------------------------------------------------------------------------- report


@final
@attrs.frozen(kw_only=True)
class CsvReport:
    """What :func:`read_csv` kept and rejected, with the file line of every row.

    It answers like the :class:`~servicekpi.tables.ValidationReport` it wraps
    (:attr:`validation`): ``rows_in``, ``rows_valid``, ``rows_rejected``, ``issues``,
    ``rejected_rows``, ``ok`` and ``counts()``; an issue's ``row`` is the 0-based data
    row, and :meth:`line_of` turns it into the 1-based line of the file.

    Attributes:
        path: the file read, as given.
        encoding: the encoding it was read in (``"utf-8-sig"`` when it had a BOM).
        validation: the validation report; rows count over the whole file.
        rejected_path: where the rejected rows were written, if asked.

    >>> import tempfile, pathlib
    >>> from servicekpi import TicketTable
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name, "tickets.csv")
    >>> _ = path.write_text(
    ...     "ticket_id,agent_id,station_id,customer_id,service_type,channel,opened_at\\n"
    ...     "T-1,A-1,S1,C-1,repair,phone,2026-10-05T09:00:00+08:00\\n"
    ...     "T-2,A-1,S1,C-2,repair,fax,2026-10-05T09:30:00+08:00\\n", encoding="utf-8")
    >>> table, report = read_csv(path, TicketTable)
    >>> report.rows_in, report.rows_valid, report.line_of(1)
    (2, 1, 3)
    >>> print(str(report).replace(folder.name, "tmp"))  # doctest: +ELLIPSIS
    tmp/tickets.csv: tickets: 2 rows in, 1 valid, 1 rejected
      tmp/tickets.csv:3 (T-2): channel='fax': one of: phone, ... [unknown_choice]
    >>> folder.cleanup()

    .. versionadded:: 0.1
    """

    path: str
    encoding: str
    validation: ValidationReport
    rejected_path: str | None = None
    # line_of(row) = row + offsets[i] for the last i with starts[i] <= row.
    _starts: tuple[int, ...] = (0,)
    _offsets: tuple[int, ...] = (2,)

    @property
    def table(self) -> str:
        """The table's name (``"tickets"`` …)."""
        return self.validation.table

    @property
    def rows_in(self) -> int:
        """Data rows read (blank lines are not rows)."""
        return self.validation.rows_in

    @property
    def rows_valid(self) -> int:
        """Rows kept in the table."""
        return self.validation.rows_valid

    @property
    def rows_rejected(self) -> int:
        """Rows rejected; ``rows_in == rows_valid + rows_rejected``."""
        return self.validation.rows_rejected

    @property
    def issues(self) -> tuple[ValidationIssue, ...]:
        """Every broken rule, by data row (``issue.row``) then field."""
        return self.validation.issues

    @property
    def rejected_rows(self) -> tuple[int, ...]:
        """Sorted data rows that were rejected."""
        return self.validation.rejected_rows

    @property
    def ok(self) -> bool:
        """Whether every row was kept."""
        return self.validation.ok

    def counts(self) -> dict[str, int]:
        """Issue count per code."""
        return self.validation.counts()

    def line_of(self, row: int) -> int:
        """The 1-based line of the file where data row *row* (0-based) starts.

        Raises:
            UnknownKeyError: *row* is not a data row of the file.
        """
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)) \
                or not 0 <= row < self.rows_in:
            raise UnknownKeyError(f"{self.path}: no data row {row!r} "
                                  f"(the file has {self.rows_in})")
        i = bisect.bisect_right(self._starts, int(row)) - 1
        return int(row) + self._offsets[i]

    def where(self, issue: ValidationIssue) -> str:
        """``"file:line"`` of an issue's row."""
        return f"{self.path}:{self.line_of(issue.row)}"

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per issue — file, line, row, key, field, value, rule, code —
        ready for :func:`write_csv`."""
        return [{"file": self.path, "line": self.line_of(issue.row), "row": issue.row,
                 "key": issue.key, "field": issue.field, "value": issue.value,
                 "rule": issue.rule, "code": issue.code} for issue in self.issues]

    def __str__(self) -> str:
        v = self.validation
        head = (f"{self.path}: {v.table}: {v.rows_in} rows in, {v.rows_valid} valid, "
                f"{v.rows_rejected} rejected")
        lines = [head]
        for issue in v.issues[:20]:
            key = f" ({issue.key})" if issue.key else ""
            lines.append(f"  {self.where(issue)}{key}: {issue.field}={issue.value!r}: "
                         f"{issue.rule} [{issue.code}]")
        if len(v.issues) > 20:
            lines.append(f"  … and {len(v.issues) - 20} more issues")
        if self.rejected_path is not None:
            lines.append(f"  rejected rows written to {self.rejected_path}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading


def read_csv(path: str | os.PathLike[str], table: type[_T], *,
             encoding: str = "auto", default_tz: str | None = None,
             date_formats: Sequence[str] = (), delimiter: str = ",",
             columns: Mapping[str, str] | None = None, ignore_unknown: bool = False,
             rejected: str | os.PathLike[str] | bool | None = None,
             on_invalid: Literal["report", "raise"] = "report",
             chunk_rows: int = CHUNK_ROWS) -> tuple[_T, CsvReport]:
    """Read a CSV file with a header row into *table*, validating every row.

    The file is streamed: *chunk_rows* records at a time are turned into columns and
    validated by ``table.from_columns``, so memory grows with the table, not the text.
    The result does not depend on the chunk size; ids must be unique across the whole
    file. Empty cells are missing values. Blank lines are skipped and are not rows.

    Args:
        path: the file.
        table: the table class, e.g. :class:`~servicekpi.TicketTable`.
        encoding: ``"auto"`` reads UTF-8 with a BOM (Excel's "CSV UTF-8"), UTF-8, then
            GB18030 (a superset of GBK and GB2312, for CRM exports from Chinese
            systems), trying them in that order over the whole file; any other value is
            a Python codec name used as is.
        default_tz: IANA zone for timestamps without a UTC offset; without it such
            values are rejected (rule ``naive_datetime``), never assumed.
        date_formats: :meth:`~datetime.datetime.strptime` patterns tried, in order,
            for time cells that are not ISO-8601, e.g. ``"%Y/%m/%d %H:%M"`` or
            ``"%d.%m.%Y %H:%M"``; without ``%z`` they are read in *default_tz*.
        delimiter: the cell separator (``","``, ``";"``, ``"\\t"`` …).
        columns: header -> schema column, for files whose headers differ, e.g.
            ``{"工单号": "ticket_id"}``. Headers are compared after trimming spaces;
            mapped headers absent from the file are ignored.
        ignore_unknown: skip columns the schema does not know instead of raising.
        rejected: also write the rejected rows to a CSV file: a path, or ``True`` for
            ``<input stem>.rejected.csv`` beside the input. It holds every original
            column of each rejected row (as read) plus ``_line`` (file line),
            ``_field`` (the header of each broken field), ``_rule`` and ``_code``
            (``"; "``-separated when a row breaks several rules), in the input's
            encoding and delimiter; a row with more cells than the header keeps the
            header's columns (``_code`` ``cell_count``; ``_line`` finds the rest).
            Text cells that start like a formula are guarded as :func:`write_csv`
            does (people mend this file in a spreadsheet), and reading undoes the
            guard (``'=x`` in an id or text column reads ``=x``), so a mended file
            and a table written for people both read back equal. It
            is written (header only) even when nothing was rejected, so an old one
            never lingers.
        on_invalid: ``"report"`` keeps going and reports rejected rows; ``"raise"``
            reads the whole file, writes *rejected*, then raises.
        chunk_rows: records validated at a time (default :data:`CHUNK_ROWS`).

    Returns:
        The table of valid rows and the :class:`CsvReport`.

    Raises:
        SchemaError: the file cannot be decoded (the message names the file and the
            encodings tried), is not valid CSV, has no header row, or its headers do
            not match the schema (unknown headers are named with a "Did you mean …?"
            hint; duplicated or missing required columns).
        ValidationFailedError: with ``on_invalid="raise"`` when a row is rejected.

    >>> import tempfile, pathlib
    >>> from servicekpi import TicketTable
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name, "export.csv")
    >>> _ = path.write_text(
    ...     "工单号,坐席,网点,客户,服务类型,渠道,受理时间\\n"
    ...     "T-1,A-1,S1,C-1,repair,phone,2026/10/05 09:00\\n"
    ...     "T-2,A-2,S1,C-2,consultation,online,2026-10-05T17:30:00+08:00\\n",
    ...     encoding="gb18030")
    >>> headers = {"工单号": "ticket_id", "坐席": "agent_id", "网点": "station_id",
    ...            "客户": "customer_id", "服务类型": "service_type", "渠道": "channel",
    ...            "受理时间": "opened_at"}
    >>> table, report = read_csv(path, TicketTable, columns=headers,
    ...                          date_formats=["%Y/%m/%d %H:%M"])
    >>> report.encoding, report.rows_valid, report.counts()
    ('gb18030', 1, {'naive_datetime': 1})
    >>> issue = report.issues[0]
    >>> report.line_of(issue.row), issue.field, issue.value
    (2, 'opened_at', '2026/10/05 09:00')
    >>> table, report = read_csv(path, TicketTable, columns=headers, rejected=True,
    ...                          date_formats=["%Y/%m/%d %H:%M"], default_tz="Asia/Shanghai")
    >>> report.ok, table["opened_at"].tolist()
    (True, [1791162000, 1791192600])
    >>> folder.cleanup()

    .. versionadded:: 0.1
    """
    if not (isinstance(table, type) and issubclass(table, Table)):
        raise TypeError(f"'table' must be a table class such as TicketTable (got {table!r})")
    if on_invalid not in ("report", "raise"):
        raise InvalidChoiceError.for_value("on_invalid", on_invalid, ["report", "raise"])
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"'chunk_rows' must be an integer >= 1 (got {chunk_rows!r})")
    if isinstance(date_formats, str) or not all(isinstance(f, str) for f in date_formats):
        raise TypeError(f"'date_formats' must be a sequence of strptime patterns "
                        f"(got {date_formats!r})")
    source = Path(path)
    name = os.fspath(path)
    zone = _zone(default_tz)
    target = _rejected_path(source, rejected)
    if encoding == "auto":
        encoding = _detect_encoding(source, name)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
    reader = _Reader(table=table, name=name, default_tz=default_tz,
                     clock=_Clock(zone, tuple(date_formats)), chunk_rows=chunk_rows)
    with source.open(encoding=encoding, newline="") as handle:
        records = csv.reader(handle, delimiter=delimiter)
        try:
            header = reader.start(records, columns or {}, ignore_unknown)
            if header[:1] and header[0].startswith("\ufeff"):  # a BOM read as text
                header[0] = header[0][1:]
                encoding = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" \
                    else encoding
            with _RejectedFile(target, encoding, delimiter, header) as out:
                reader.read(records, out)
        except UnicodeDecodeError as error:
            where = _decode_failure(source, encoding) or error.reason
            raise SchemaError(f"{name}: cannot decode as {encoding!r}: {where}") from error
        except csv.Error as error:
            raise SchemaError(f"{name}:{records.line_num}: not valid CSV: {error}") \
                from error
    result, validation = reader.finish()
    report = CsvReport(path=name, encoding=encoding, validation=validation,
                       rejected_path=None if target is None else os.fspath(target),
                       starts=tuple(reader.starts), offsets=tuple(reader.offsets))
    if on_invalid == "raise" and not report.ok:
        raise ValidationFailedError(str(report))
    return result, report


def _zone(default_tz: str | None) -> tzinfo | None:
    if default_tz is None:
        return None
    # gettz("") would return the machine's local zone: an ambient default we refuse.
    zone = dateutil_tz.gettz(default_tz) if isinstance(default_tz, str) \
        and default_tz.strip() else None
    if zone is None:
        raise SchemaError(f"unknown time zone {default_tz!r} for 'default_tz'")
    return zone


def _rejected_path(source: Path, rejected: str | os.PathLike[str] | bool | None) -> Path | None:
    if rejected is None or rejected is False:
        return None
    target = source.with_name(source.stem + ".rejected.csv") if rejected is True \
        else Path(rejected)
    if target.exists() and source.exists() and os.path.samefile(target, source):
        raise ValueError(f"'rejected' must not be the input file itself (got {rejected!r})")
    return target


def _detect_encoding(source: Path, name: str) -> str:
    """UTF-8 with BOM, UTF-8 or GB18030: the first that decodes the whole file."""
    with source.open("rb") as handle:
        if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            return "utf-8-sig"
    failures = []
    for candidate in ("utf-8", "gb18030"):
        failure = _decode_failure(source, candidate)
        if failure is None:
            return candidate
        failures.append(f"{candidate}: {failure}")
    raise SchemaError(f"{name}: not UTF-8 (with or without BOM) nor GB18030 "
                      f"({'; '.join(failures)}); pass encoding= if you know it")


def _decode_failure(source: Path, encoding: str) -> str | None:
    """Where *source* stops being *encoding* (byte, offset, line), or ``None``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = lines = 0
    block = b""
    with source.open("rb") as handle:
        try:
            while block := handle.read(_SNIFF_BLOCK):
                decoder.decode(block)
                offset += len(block)
                lines += block.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            # The failing input starts with the bytes the decoder held back; a decoder
            # that dropped a BOM hands over the block without it (held < 0).
            held = len(error.object) - len(block)
            at = offset - held + error.start
            line = lines - error.object[:max(held, 0)].count(b"\n") \
                + error.object[:error.start].count(b"\n")
            return (f"byte {error.object[error.start:error.end]!r} at offset {at} "
                    f"(line {line + 1}): {error.reason}")
    return None


class _RejectedFile:
    """The rejected-rows file, open for the length of the read (or nothing)."""

    def __init__(self, target: Path | None, encoding: str, delimiter: str,
                 header: list[str]) -> None:
        self._target = target
        self._encoding = encoding
        self._delimiter = delimiter
        self._header = header
        self._handle: Any = None
        self._writer: Any = None

    def __enter__(self) -> _RejectedFile:
        if self._target is not None:
            self._handle = self._target.open("w", encoding=self._encoding, newline="")
            self._writer = csv.writer(self._handle, delimiter=self._delimiter)
            self._writer.writerow([*self._header, *_META])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()

    @property
    def wanted(self) -> bool:
        return self._writer is not None

    def write(self, cells: Sequence[str], line: int, issues: Sequence[ValidationIssue],
              shown: Mapping[str, str]) -> None:
        width = len(self._header)
        row = [*cells[:width], *[""] * (width - len(cells))]
        # People open this file in a spreadsheet to mend the rows: guarded like
        # write_csv, and read_csv undoes the guard when the mended file comes back.
        self._writer.writerow([
            *map(_guard_text, row), line, "; ".join(shown.get(i.field, i.field) for i in issues),
            "; ".join(i.rule for i in issues), "; ".join(i.code for i in issues)])


class _Chunk:
    """Rows on their way to validation, held as columns of cell text."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.columns: list[list[str]] = [[] for _ in range(width)]
        self.odd: dict[int, list[str]] = {}  # chunk row -> record of the wrong length
        self.rows: list[int] = []  # chunk row of each column entry, once rows are odd
        self.lines: list[NDArray[np.int64]] = []
        self.n = 0

    @property
    def good_rows(self) -> Sequence[int]:
        """The chunk row of each entry of the columns."""
        return self.rows if self.odd else range(self.n)

    def add(self, batch: list[list[str]], lines: NDArray[np.int64]) -> None:
        if [] in batch:  # blank lines are not rows
            keep = [i for i, record in enumerate(batch) if record]
            batch = [batch[i] for i in keep]
            lines = lines[keep]
        if set(map(len, batch)) <= {self.width}:
            for column, values in zip(self.columns, zip(*batch), strict=False):
                column.extend(values)
            if self.odd:
                self.rows.extend(range(self.n, self.n + len(batch)))
        else:
            if not self.odd:
                self.rows = list(range(self.n))
            for i, record in enumerate(batch, start=self.n):
                if len(record) == self.width:
                    for column, value in zip(self.columns, record, strict=True):
                        column.append(value)
                    self.rows.append(i)
                else:
                    self.odd[i] = record
        self.lines.append(lines)
        self.n += len(batch)

    def record(self, row: int) -> list[str]:
        """The cells of chunk row *row*, as read."""
        if row in self.odd:
            return self.odd[row]
        at = bisect.bisect_left(self.rows, row) if self.odd else row
        return [column[at] for column in self.columns]


@attrs.define
class _Reader(Generic[_T]):
    """The state of one read: layout, chunk results, keys seen, line offsets."""

    table: type[_T]
    name: str
    default_tz: str | None
    clock: _Clock
    chunk_rows: int
    width: int = 0
    index: dict[str, int] = attrs.field(factory=dict)  # schema column -> position
    shown: dict[str, str] = attrs.field(factory=dict)  # schema column -> header
    parts: list[_T] = attrs.field(factory=list)
    issues: list[ValidationIssue] = attrs.field(factory=list)
    seen: set[str] = attrs.field(factory=set)  # readable keys of earlier chunks
    rows_in: int = 0
    line: int = 0  # lines consumed so far
    starts: list[int] = attrs.field(factory=list)
    offsets: list[int] = attrs.field(factory=list)

    @property
    def schema(self) -> Schema:
        return self.table.SCHEMA

    def start(self, records: Any, columns: Mapping[str, str],
              ignore_unknown: bool) -> list[str]:
        """Read the header and match it to the schema; return the header as read."""
        schema = self.schema
        for source, target in columns.items():
            if target not in schema.names:
                raise SchemaError(f"{schema.name}: columns= maps {source!r} to "
                                  f"{UnknownKeyError.for_key('column', target, schema.names)}")
        header = next((record for record in records if record), None)
        if header is None:
            raise SchemaError(f"{self.name}: no header row (the file is empty)")
        self.line = records.line_num
        self.width = len(header)
        unknown = []
        for position, cell in enumerate(header):
            text = cell.strip().removeprefix("\ufeff").strip()
            column = columns.get(text, text)
            if column not in schema.names:
                unknown.append(text)
                continue
            if column in self.index:
                raise SchemaError(f"{self.name}: {schema.name}: column {column!r} appears "
                                  f"twice (headers {self.shown[column]!r} and {text!r})")
            self.index[column] = position
            self.shown[column] = text
        if unknown and not ignore_unknown:
            problems = "; ".join(str(UnknownKeyError.for_key("column", text, schema.names))
                                 for text in unknown)
            raise SchemaError(f"{self.name}: {schema.name}: {problems} (rename headers with "
                              f"columns=, or pass ignore_unknown=True)")
        missing = sorted(c.name for c in schema.columns
                         if c.required and c.name not in self.index)
        if missing:
            raise SchemaError(f"{self.name}: {schema.name}: missing required columns "
                              f"{missing!r}")
        return list(header)

    def read(self, records: Any, out: _RejectedFile) -> None:
        chunk = _Chunk(self.width)
        # Records are moved into column lists a small batch at a time: a chunk's worth
        # of live record lists would keep the cyclic garbage collector busy.
        while batch := list(itertools.islice(records, min(self.chunk_rows - chunk.n,
                                                          _BATCH_ROWS))):
            end = records.line_num
            chunk.add(batch, _start_lines(batch, self.line + 1, end))
            self.line = end
            if chunk.n >= self.chunk_rows:
                self._validate(chunk, out)
                chunk = _Chunk(self.width)
        if chunk.n:
            self._validate(chunk, out)

    def _note_lines(self, lines: NDArray[np.int64]) -> None:
        if not len(lines):
            return
        offsets = lines - np.arange(self.rows_in, self.rows_in + len(lines))
        changes = np.flatnonzero(np.diff(offsets)) + 1
        for i in (0, *changes.tolist()):
            if not self.offsets or self.offsets[-1] != offsets[i]:
                self.starts.append(self.rows_in + i)
                self.offsets.append(int(offsets[i]))

    def _validate(self, chunk: _Chunk, out: _RejectedFile) -> None:
        schema, row0, width = self.schema, self.rows_in, self.width
        key = schema.key
        key_at = self.index.get(key) if key is not None else None
        lines = np.concatenate(chunk.lines)
        self._note_lines(lines)
        issues = [ValidationIssue(row=row0 + i, key=_readable_key(record, key_at),
                                  field=_ROW_SHAPE, value=len(record),
                                  rule=f"as many cells as the header ({width})",
                                  code="cell_count")
                  for i, record in chunk.odd.items()]
        cells, good_rows = chunk.columns, chunk.good_rows
        data = {name: _prepared(schema.column(name), cells[at], self.clock)
                for name, at in self.index.items()}
        part, report = self.table.from_columns(data, default_tz=self.default_tz)
        formats = self.clock.formats
        date_rule = (f"ISO-8601 text with a UTC offset, or text in one of the "
                     f"date_formats {', '.join(map(repr, formats))}")
        rejected = set()
        for issue in report.issues:
            at = self.index.get(issue.field)
            rejected.add(issue.row)
            issues.append(ValidationIssue(
                row=row0 + good_rows[issue.row], key=issue.key, field=issue.field,
                value=issue.value if at is None else cells[at][issue.row],
                rule=date_rule if issue.code == "bad_datetime" and formats
                else issue.rule, code=issue.code))
        if key is not None and key_at is not None:
            part = self._unique_across_chunks(part, cells[key_at], data[key], good_rows,
                                              rejected, report.issues, issues)
        issues.sort(key=lambda i: (i.row, i.field, i.rule, i.code))
        self.parts.append(part)
        self.issues.extend(issues)
        self.rows_in += chunk.n
        if out.wanted and issues:
            by_row: dict[int, list[ValidationIssue]] = {}
            for issue in issues:
                by_row.setdefault(issue.row, []).append(issue)
            for row, found in by_row.items():
                out.write(chunk.record(row - row0), int(lines[row - row0]), found, self.shown)

    def _unique_across_chunks(self, part: _T, keys: Sequence[str], given: Any,
                              good_rows: Sequence[int], rejected: set[int],
                              found: Sequence[ValidationIssue],
                              issues: list[ValidationIssue]) -> _T:
        """Reject rows whose key appeared in an earlier chunk, as one chunk would."""
        key = self.schema.key or ""
        readable = given.labels if isinstance(given, Coded) else \
            [text for text in keys if text and text == text.strip()]
        if self.seen and not self.seen.isdisjoint(readable):
            flagged = {i.row for i in found if i.code == "unique"}
            dupes = [i for i, text in enumerate(keys) if text in self.seen and i not in flagged]
            for i in dupes:
                issues.append(ValidationIssue(
                    row=self.rows_in + good_rows[i], key=keys[i], field=key, value=keys[i],
                    rule="unique: seen on an earlier row", code="unique"))
            valid_dupes = [i for i in dupes if i not in rejected]
            if valid_dupes:
                valid = np.ones(len(keys), dtype=bool)
                valid[list(rejected)] = False
                position = np.cumsum(valid) - 1  # row i's index in part, when valid
                keep = np.ones(len(part), dtype=bool)
                keep[position[valid_dupes]] = False
                part = part.take(keep)
        self.seen.update(readable)
        return part

    def finish(self) -> tuple[_T, ValidationReport]:
        if not self.parts:
            result, _ = self.table.from_columns({name: () for name in self.index})
        elif len(self.parts) == 1:
            result = self.parts[0]  # from_columns compacted its labels already
        else:
            result = _concat(self.table, self.parts)
        validation = ValidationReport(table=self.schema.name, rows_in=self.rows_in,
                                      rows_valid=len(result), issues=tuple(self.issues))
        return result, validation


# Column kinds read faster than cell by cell: each helper returns an input that
# ``from_columns`` reads to exactly what the text would give (numbers, codes), or the
# text itself whenever a value falls outside what it recognises, so ``from_columns``
# stays the one judge of bad values.


def _unguarded(cells: Sequence[str]) -> Sequence[str]:
    """Undo :func:`write_csv`'s formula guard: ``'=x`` reads as ``=x`` (a quote before a
    guarded character is the guard, never data), so a table written for people reads
    back equal."""
    if not any(cell[:1] == "'" for cell in cells):
        return cells
    return [cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_START and cell[1:2]
            else cell for cell in cells]


def _prepared(column: Column, cells: Sequence[str], clock: _Clock) -> Any:
    kind = column.kind
    if kind in (Kind.ID, Kind.ZONE, Kind.CHOICE, Kind.TEXT):
        cells = _unguarded(cells)
    if kind is Kind.TIME:
        return clock.read(cells)
    if kind in (Kind.ID, Kind.ZONE):
        return _coded_ids(cells)
    if kind is Kind.CHOICE:
        return _coded_choices(column, cells)
    if kind is Kind.BOOL:
        return _bools(column, cells)
    if kind is Kind.COUNT:
        return _counts(column, cells)
    if kind in (Kind.NUMBER, Kind.MONEY):
        return _floats(cells)
    return cells


def _coded_ids(cells: Sequence[str]) -> Any:
    uniques = dict.fromkeys(cells)
    uniques.pop("", None)  # missing
    labels = sorted(uniques)
    if list(map(str.strip, labels)) != labels \
            or _checks.CONTROL.search("".join(labels)):  # judged cell by cell instead
        return cells
    index = dict(zip(labels, range(len(labels))))
    index[""] = -1
    return Coded(codes=np.fromiter(map(index.__getitem__, cells), dtype=np.int32,
                                   count=len(cells)), labels=labels)


def _coded_choices(column: Column, cells: Sequence[str]) -> Any:
    uniques = dict.fromkeys(cells)
    labels = [text for text in uniques if text.strip()]
    if column.choices is None:
        return cells
    try:
        for text in labels:
            column.choices(text)
    except (ValueError, TypeError):
        return cells
    index = dict(zip(labels, range(len(labels))))
    index.update((text, -1) for text in uniques if not text.strip())
    return Coded(codes=np.fromiter(map(index.__getitem__, cells), dtype=np.int32,
                                   count=len(cells)), labels=labels)


def _bools(column: Column, cells: Sequence[str]) -> Any:
    lookup: dict[str, bool] = {}
    for text in dict.fromkeys(cells):
        word = text.strip().lower()
        if not word:
            lookup[text] = bool(column.default)
        elif word in ("true", "false"):
            lookup[text] = word == "true"
        else:
            return cells
    return np.fromiter(map(lookup.__getitem__, cells), dtype=bool, count=len(cells))


def _counts(column: Column, cells: Sequence[str]) -> Any:
    lookup: dict[str, int] = {}
    for text in dict.fromkeys(cells):
        digits = text.strip()
        if not digits:
            lookup[text] = int(column.default or 0)
        elif digits.isascii() and digits.isdigit() and len(digits) <= 15:
            lookup[text] = int(digits)
        else:
            return cells
    return np.fromiter(map(lookup.__getitem__, cells), dtype=np.int64, count=len(cells))


def _floats(cells: Sequence[str]) -> Any:
    lookup: dict[str, float] = {}
    for text in dict.fromkeys(cells):
        number = text.strip()
        if not number:
            lookup[text] = math.nan
            continue
        try:
            value = float(Decimal(number))  # as from_columns reads text
        except (ArithmeticError, ValueError):
            return cells
        if not math.isfinite(value):
            return cells
        lookup[text] = value
    return np.fromiter(map(lookup.__getitem__, cells), dtype=np.float64, count=len(cells))


def _iso_template() -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """Per character of ``YYYY-MM-DDTHH:MM:SS+HH:MM``: lowest code and span allowed
    (positions 10 and 19 take two characters each and are checked on their own)."""
    pattern = "dddd-dd-ddTdd:dd:dd+dd:dd"
    low = np.array([ord("0") if ch == "d" else ord(ch) for ch in pattern], dtype=np.uint32)
    span = np.array([9 if ch == "d" else 0 for ch in pattern], dtype=np.uint32)
    low[[10, 19]], span[[10, 19]] = 0, np.iinfo(np.uint32).max
    return low, span


_ISO_LOW, _ISO_SPAN = _iso_template()
_ISO_FIELDS: Final = {"Y": 0, "m": 5, "d": 8, "H": 11, "M": 14, "S": 17}
_FIELD_WIDTHS: Final = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
_MONTH_DAYS: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_DIGIT: Final = -1


def _fixed_width(pattern: str) -> tuple[NDArray[np.int64], dict[str, int]] | None:
    """A strptime pattern made of ``%Y %m %d`` (and optionally ``%H %M %S``) and plain
    characters as a fixed-width template — the code each character must have,
    :data:`_DIGIT` for a digit — and where each field starts; ``None`` otherwise."""
    template: list[int] = []
    fields: dict[str, int] = {}
    i = 0
    while i < len(pattern):
        if pattern[i] == "%":
            name = pattern[i + 1:i + 2]
            if name not in _FIELD_WIDTHS or name in fields:
                return None
            fields[name] = len(template)
            template.extend([_DIGIT] * _FIELD_WIDTHS[name])
            i += 2
        else:
            template.append(ord(pattern[i]))
            i += 1
    # strptime reads a space in the pattern as any run of spaces; cells are trimmed.
    if not {"Y", "m", "d"} <= fields.keys() or pattern[0].isspace() \
            or pattern[-1].isspace():
        return None
    return np.array(template, dtype=np.int64), fields


def _characters(text: NDArray[np.str_], rows: NDArray[np.intp],
                width: int) -> NDArray[np.int64]:
    """The characters of the cells *rows* (at most *width* long) as a code matrix,
    shorter cells padded with 0."""
    return text[rows].astype(f"U{width}").view(np.uint32).reshape(-1, width).astype(np.int64)


def _fields(c: NDArray[np.int64], starts: Mapping[str, int]) -> dict[str, NDArray[np.int64]]:
    out = {}
    for name, first in starts.items():
        value = np.zeros(len(c), dtype=np.int64)
        for i in range(first, first + _FIELD_WIDTHS[name]):
            value = value * 10 + c[:, i] - ord("0")
        out[name] = value
    return out


def _wall_seconds(fields: Mapping[str, NDArray[np.int64]]) -> tuple[NDArray[np.int64],
                                                                    NDArray[np.bool_]]:
    """Seconds since 1970-01-01 00:00 of a wall-clock date and time, and which fields
    make a real moment (as the ``datetime`` constructor checks them)."""
    year, month, day = fields["Y"], fields["m"], fields["d"]
    zero = np.zeros_like(year)
    hour, minute, second = (fields.get(name, zero) for name in ("H", "M", "S"))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days) \
        & (hour <= 23) & (minute <= 59) & (second <= 59)
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second, ok


class _Clock:
    """Reads the time cells of one file into epoch seconds.

    Cells written exactly ``YYYY-MM-DDTHH:MM:SS`` (``T`` or a space), with or without
    ``±HH:MM``, and cells written exactly as the first of the date formats (when it is
    fixed-width) are read at once, over their characters; every other cell is read
    like ``from_columns`` reads it (ISO-8601, then the date formats in order). Wall
    clock times go to UTC with the zone's offset asked once per hour, hours kept for
    the whole file. Cells that fail stay as given (naive ones as datetimes) so
    ``from_columns`` reports them with its own rule.
    """

    def __init__(self, zone: tzinfo | None, formats: tuple[str, ...]) -> None:
        self.zone = zone
        self.formats = formats
        self.fixed = _fixed_width(formats[0]) if formats else None
        self.hour_offsets: dict[int, int] = {}  # wall hour -> its start's UTC offset

    def read(self, cells: Sequence[str]) -> Any:
        n = len(cells)
        out = np.zeros(n, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        naive = np.zeros(n, dtype=bool)
        # Lengths from Python: numpy's strings drop trailing NULs, which would pass.
        lengths = np.fromiter(map(len, cells), dtype=np.int64, count=n)
        text = np.array(cells, dtype=str) if n else np.array([], dtype=str)
        self._iso(text, lengths, out, done, naive)
        if self.fixed is not None:
            self._formatted(text, lengths, *self.fixed, out, done, naive)
        failed = self._one_by_one(cells, out, done, naive)
        if naive.any():
            if self.zone is None:
                for i in np.flatnonzero(naive).tolist():
                    failed[i] = _NAIVE_EPOCH + timedelta(seconds=int(out[i]))
            else:
                out[naive] = self._to_utc(out[naive])
        if not failed:
            return out
        mixed = out.astype(object)
        mixed[out == MISSING] = None  # an int would be read as a time, not as missing
        for i, value in failed.items():
            mixed[i] = value
        return mixed

    @staticmethod
    def _iso(text: NDArray[np.str_], lengths: NDArray[np.int64], out: NDArray[np.int64],
             done: NDArray[np.bool_], naive: NDArray[np.bool_]) -> None:
        rows = np.flatnonzero((lengths == 19) | (lengths == 25))
        if not len(rows):
            return
        c = _characters(text, rows, 25)
        without = lengths[rows] == 19
        # Unsigned arithmetic wraps below the lowest code: one comparison checks both ends.
        codes = c.astype(np.uint32)
        ok = ((codes[:, :19] - _ISO_LOW[:19]) <= _ISO_SPAN[:19]).all(axis=1)
        ok &= (c[:, 10] == ord("T")) | (c[:, 10] == ord(" "))
        ok &= without | (((codes[:, 19:] - _ISO_LOW[19:]) <= _ISO_SPAN[19:]).all(axis=1)
                         & ((c[:, 19] == ord("+")) | (c[:, 19] == ord("-"))))
        seconds, real = _wall_seconds(_fields(c, _ISO_FIELDS))
        offset = _fields(c, {"H": 20, "M": 23})
        ok &= real & (without | ((offset["H"] <= 23) & (offset["M"] <= 59)))
        sign = np.where(c[:, 19] == ord("-"), -1, 1)
        seconds -= np.where(without, 0, sign * (offset["H"] * 3600 + offset["M"] * 60))
        out[rows[ok]] = seconds[ok]
        done[rows[ok]] = True
        naive[rows[ok & without]] = True

    @staticmethod
    def _formatted(text: NDArray[np.str_], lengths: NDArray[np.int64],
                   template: NDArray[np.int64], starts: dict[str, int],
                   out: NDArray[np.int64], done: NDArray[np.bool_],
                   naive: NDArray[np.bool_]) -> None:
        rows = np.flatnonzero(~done & (lengths == len(template)))
        if not len(rows):
            return
        c = _characters(text, rows, len(template))
        digits = template == _DIGIT
        ok = ((c[:, digits] >= ord("0")) & (c[:, digits] <= ord("9"))).all(axis=1)
        ok &= (c[:, ~digits] == template[~digits]).all(axis=1)
        # ISO-8601 goes first (as in from_columns): leave every cell that could be ISO
        # (it starts with a four-digit year and goes on with "-", a digit or a week "W")
        # to the cell-by-cell reading.
        year_first = ((c[:, :4] >= ord("0")) & (c[:, :4] <= ord("9"))).all(axis=1)
        fifth = c[:, 4]
        ok &= ~(year_first & ((fifth == ord("-")) | (fifth == ord("W"))
                              | ((fifth >= ord("0")) & (fifth <= ord("9")))))
        seconds, real = _wall_seconds(_fields(c, starts))
        ok &= real
        out[rows[ok]] = seconds[ok]
        done[rows[ok]] = True
        naive[rows[ok]] = True

    def _one_by_one(self, cells: Sequence[str], out: NDArray[np.int64],
                    done: NDArray[np.bool_], naive: NDArray[np.bool_]) -> dict[int, Any]:
        failed: dict[int, Any] = {}
        parse = datetime.fromisoformat
        zoned = self.zone is not None
        # Exports often repeat a moment (minutes, dates): parse each text once.
        seen: dict[str, tuple[int, bool] | str | datetime] = {}
        for i in np.flatnonzero(~done).tolist():
            cell = cells[i]
            text = cell.strip()
            if not text:
                out[i] = MISSING
                continue
            known = seen.get(text)
            if known is None:
                known = seen[text] = _parsed_time(text, parse, self.formats, zoned)
            if isinstance(known, tuple):
                out[i], naive[i] = known
            else:
                failed[i] = known if isinstance(known, datetime) else cell
        return failed

    def _to_utc(self, wall: NDArray[np.int64]) -> NDArray[np.int64]:
        """:func:`_utc_of_wall` of every element, asking the zone once per hour.

        Within an hour whose start and end have the same UTC offset the offset is
        taken as constant (no zone changes its offset and back within an hour); rows
        in the other hours (a transition) are converted one by one."""
        zone = self.zone
        if zone is None:  # pragma: no cover - only called with a zone
            raise SchemaError("a wall-clock time needs default_tz")
        known = self.hour_offsets
        hours = wall // 3600
        unique, inverse = np.unique(hours, return_inverse=True)
        for hour in {*unique.tolist(), *(unique + 1).tolist()} - known.keys():
            known[hour] = hour * 3600 - _utc_of_wall(hour * 3600, zone)
        start = np.fromiter(map(known.__getitem__, unique.tolist()), dtype=np.int64,
                            count=len(unique))
        end = np.fromiter(map(known.__getitem__, (unique + 1).tolist()), dtype=np.int64,
                          count=len(unique))
        out = wall - start[inverse]
        for i in np.flatnonzero((start != end)[inverse]).tolist():
            out[i] = _utc_of_wall(int(wall[i]), zone)
        return out


def _parsed_time(text: str, parse: Callable[[str], datetime], formats: tuple[str, ...],
                 zoned: bool) -> tuple[int, bool] | str | datetime:
    """``(epoch seconds, False)``, ``(wall seconds, True)`` when naive and *zoned*, the
    naive datetime when not *zoned*, or *text* when it is no time at all."""
    moment: datetime | None
    try:
        moment = parse(text)
    except ValueError:
        moment = _strptime(text, formats)
    if moment is None:
        return text
    if moment.tzinfo is None or moment.utcoffset() is None:
        return ((moment - _NAIVE_EPOCH) // _SECOND, True) if zoned else moment
    return (moment - _EPOCH) // _SECOND, False


def _utc_of_wall(wall: int, zone: tzinfo) -> int:
    """Epoch seconds of a wall-clock time in *zone*, as ``from_columns`` reads one:
    the first of a repeated hour, a time in a gap moved forward by the gap."""
    local = (_NAIVE_EPOCH + timedelta(seconds=wall)).replace(tzinfo=zone)
    return (dateutil_tz.resolve_imaginary(local) - _EPOCH) // _SECOND


def _strptime(text: str, formats: Sequence[str]) -> datetime | None:
    for pattern in formats:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _readable_key(record: Sequence[str], at: int | None) -> str | None:
    if at is None or at >= len(record):
        return None
    text = record[at]
    return text if text and text == text.strip() else None


def _start_lines(chunk: Sequence[Sequence[str]], first: int, end: int) -> NDArray[np.int64]:
    """The line where each record starts, the first at line *first*, the last ending on
    line *end* (records span one line plus the line breaks inside their cells)."""
    n = len(chunk)
    if end - first + 1 == n:
        return np.arange(first, first + n, dtype=np.int64)
    spans = np.fromiter(
        (1 + sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in record)
         for record in chunk), dtype=np.int64, count=n)
    return first + np.cumsum(spans) - spans


def _concat(cls: type[_T], parts: Sequence[Table]) -> _T:
    """One table from chunk tables: id labels merged, sorted and compacted as
    ``from_columns`` does, so the result does not depend on the chunk size."""
    out: dict[str, NDArray[Any]] = {}
    labels: dict[str, tuple[str, ...]] = {}
    for column in cls.SCHEMA.columns:
        name = column.name
        if column.kind not in (Kind.ID, Kind.ZONE):
            out[name] = np.concatenate([part[name] for part in parts])
            continue
        runs = [part.labels(name) for part in parts]
        pieces = []
        if all(a[-1] < b[0] for a, b in zip(runs, runs[1:]) if a and b):
            # Chunks hold ids in ascending ranges (a file sorted by id): append.
            merged: Sequence[str] = tuple(itertools.chain.from_iterable(runs))
            offset = 0
            for part, own in zip(parts, runs, strict=True):
                codes = part[name]
                pieces.append(np.where(codes < 0, -1, codes + offset).astype(np.int32))
                offset += len(own)
        else:
            merged = sorted(dict.fromkeys(itertools.chain.from_iterable(runs)))
            index = dict(zip(merged, range(len(merged))))
            for part, own in zip(parts, runs, strict=True):
                lookup = np.fromiter(itertools.chain(map(index.__getitem__, own), (-1,)),
                                     dtype=np.int32, count=len(own) + 1)
                codes = part[name]
                pieces.append(lookup[np.where(codes < 0, len(own), codes)])
        codes = np.concatenate(pieces)
        # Chunks may keep labels of rows rejected later (a key seen in an earlier chunk).
        used = np.bincount(codes[codes >= 0], minlength=len(merged)).astype(bool)
        if not used.all():
            renumber = np.full(len(merged) + 1, -1, dtype=np.int32)
            kept = np.flatnonzero(used)
            renumber[kept] = np.arange(len(kept), dtype=np.int32)
            codes = renumber[np.where(codes < 0, len(merged), codes)]
            merged = [merged[i] for i in kept.tolist()]
        out[name] = codes
        labels[name] = tuple(merged)
    return cls(out, labels, sum(len(part) for part in parts))


# --------------------------------------------------------------------------- writing


def write_csv(data: Any, path: str | os.PathLike[str], *, raw: bool = False,
              encoding: str | None = None) -> int:
    """Write *data* to a CSV file with a header row.

    *data* may be:

    - a table (:class:`~servicekpi.TicketTable` …): its schema columns; ids and
      choices as text, times as ISO-8601 in UTC, flags comma-separated — what
      :func:`read_csv` reads back to the same values;
    - a :class:`~servicekpi.KpiPanel`: one row per group, a column per dimension of
      ``by`` then one per KPI;
    - a mapping of columns (name -> sequence, all of one length);
    - records: an iterable of mappings (the header is every key, first seen first);
    - an object whose ``to_records()`` returns records: :class:`~servicekpi.Scorecard`,
      :class:`~servicekpi.EscalationTable`, :class:`~servicekpi.TeamReport`,
      :class:`CsvReport`. :class:`~servicekpi.ComplaintAnalysis` returns several
      sections; write one of them, e.g. ``write_csv(analysis.to_records()["penalties"],
      path)``.

    Cells: ``None`` and NaN are empty; numbers (``int``, ``float``, ``Decimal``, numpy
    numbers) are written as numbers, ``True``/``False`` as ``true``/``false``, enums as
    their value, aware datetimes as ISO-8601 with their offset (numpy ``datetime64`` as
    UTC, the library's convention), dates as ISO-8601, sets comma-separated (sorted),
    lists ``"; "``-separated, anything else as ``str()``.

    Args:
        data: what to write (see above).
        path: the file, overwritten.
        raw: ``False`` (for people) writes UTF-8 with a BOM so Excel detects it, quotes
            every cell and guards text against CSV injection: a text cell (or header)
            starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF gets a leading
            ``'`` so a spreadsheet shows it instead of running it (OWASP); numbers stay
            numbers, negative ones too. ``True`` (for machines) writes plain UTF-8,
            quotes only where needed and leaves text as it is.
        encoding: overrides the encoding (e.g. ``"gb18030"`` for an old Excel).

    Returns:
        The number of data rows written.

    Raises:
        TypeError: *data* is none of the accepted kinds.
        SchemaError: columns of unequal length.
        NaiveDatetimeError: a datetime without a time zone.

    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name, "scores.csv")
    >>> write_csv([{"agent": "=HYPERLINK(1)", "delta": -1.5}], path)
    1
    >>> path.read_bytes()
    b'\\xef\\xbb\\xbf"agent","delta"\\r\\n"\\'=HYPERLINK(1)","-1.5"\\r\\n'
    >>> write_csv({"agent": ["=HYPERLINK(1)"], "delta": [-1.5]}, path, raw=True)
    1
    >>> path.read_bytes()
    b'agent,delta\\r\\n=HYPERLINK(1),-1.5\\r\\n'
    >>> folder.cleanup()

    .. versionadded:: 0.1
    """
    guard = not raw
    header, rows = _rows(data, guard)
    chosen = encoding if encoding is not None else ("utf-8" if raw else "utf-8-sig")
    count = 0
    with Path(path).open("w", encoding=chosen, newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL) if raw \
            else csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow([_guard(h) if guard else h for h in header])
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _rows(data: Any, guard: bool) -> tuple[list[str], Iterator[Sequence[str]]]:
    if isinstance(data, Table):
        return _table_rows(data, guard)
    if isinstance(data, KpiPanel):
        return _records_rows(_panel_records(data), guard)
    if isinstance(data, Mapping):
        return _columns_rows(data, guard)
    to_records = getattr(data, "to_records", None)
    if callable(to_records):
        records = to_records()
        if isinstance(records, Mapping):
            raise TypeError(f"{type(data).__name__}.to_records() returns sections "
                            f"{sorted(records)!r}; write one of them, e.g. "
                            f"write_csv(x.to_records()[{next(iter(records), '')!r}], path)")
        return _records_rows(records, guard)
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        return _records_rows(data, guard)
    raise TypeError(f"write_csv writes a table, a KpiPanel, a mapping of columns, records "
                    f"(mappings) or an object with to_records() (got {type(data).__name__})")


def _columns_rows(data: Mapping[str, Any], guard: bool) -> tuple[list[str],
                                                                   Iterator[list[str]]]:
    header = [str(name) for name in data]
    columns = [list(values) for values in data.values()]
    lengths = {name: len(values) for name, values in zip(header, columns, strict=True)}
    if len(set(lengths.values())) > 1:
        raise SchemaError(f"columns differ in length {lengths!r}")
    cells = [[_cell(v, guard, name) for v in values]
             for name, values in zip(header, columns, strict=True)]
    return header, (list(row) for row in zip(*cells))


def _records_rows(records: Iterable[Any], guard: bool) -> tuple[list[str],
                                                                 Iterator[list[str]]]:
    items = list(records)
    header: dict[str, None] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise TypeError(f"records must be mappings (got {type(item).__name__})")
        header.update(dict.fromkeys(map(str, item)))
    names = list(header)
    # Formatted before the file is opened, so a bad value leaves no half-written file.
    rows = []
    for item in items:
        values = {str(k): v for k, v in item.items()}
        rows.append([_cell(values.get(name), guard, name) for name in names])
    return names, iter(rows)


def _panel_records(panel: KpiPanel) -> list[dict[str, Any]]:
    values = {name: panel[name] for name in panel.names}
    records = []
    for i, key in enumerate(panel.keys):
        parts = key if len(panel.by) > 1 else (key,)
        records.append({**dict(zip(panel.by, parts, strict=True)),
                        **{name: float(column[i]) for name, column in values.items()}})
    return records


def _table_rows(table: Table, guard: bool) -> tuple[list[str], Iterator[Sequence[str]]]:
    """The table's columns formatted whole, one numpy operation per column."""
    columns = [_table_column(table, column.name, column.kind, guard)
               for column in table.SCHEMA.columns]
    return list(table.columns), zip(*columns)


def _table_column(table: Table, name: str, kind: Kind, guard: bool) -> NDArray[Any]:
    values = table[name]
    if kind in (Kind.ID, Kind.ZONE, Kind.CHOICE):
        if kind is Kind.CHOICE:
            members = table.SCHEMA.column(name).choices or ()
            texts = [str(m.value) for m in members]
        else:
            texts = list(table.labels(name))
        lookup = np.array([*(_guard(t) if guard else t for t in texts), ""], dtype=object)
        return lookup[np.where(values < 0, len(texts), values)]
    if kind is Kind.TIME:
        stamps = np.char.add(np.datetime_as_string(values.view("datetime64[s]"), unit="s"),
                             "+00:00").astype(object)
        stamps[values == MISSING] = ""
        return stamps
    if kind is Kind.BOOL:
        return np.where(values, "true", "false").astype(object)
    if kind is Kind.COUNT:
        return values.astype(str).astype(object)
    if kind in (Kind.NUMBER, Kind.MONEY):
        numbers = np.array([repr(v) for v in values.tolist()], dtype=object)
        numbers[np.isnan(values)] = ""
        return numbers
    if kind is Kind.FLAGS:
        flags = {mask: _cell(frozenset(f for i, f in enumerate(ComplaintFlag) if mask >> i & 1),
                             guard, name) for mask in np.unique(values).tolist()}
        return np.array([flags[mask] for mask in values.tolist()], dtype=object)
    return np.array([_guard(v) if guard else v for v in values.tolist()], dtype=object)


def _guard(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _guard_text(text: str) -> str:
    """:func:`_guard` for a cell read as text: a number such as ``-1.5`` stays a number."""
    if text[:1] in ("-", "+"):
        try:
            float(text)
        except ValueError:
            return _guard(text)
        return text
    return _guard(text)


def _cell(value: Any, guard: bool, name: str = "") -> str:
    """One value as cell text (see :func:`write_csv`)."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return "" if math.isnan(number) else repr(number)
    if isinstance(value, Decimal):
        return "" if value.is_nan() else str(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise NaiveDatetimeError(f"{name!r} must be timezone-aware (got {value!r})")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return ""
        return f"{np.datetime_as_string(value, unit='s')}+00:00"
    if isinstance(value, str):
        text = value
    elif isinstance(value, (set, frozenset)):
        text = ",".join(sorted(_cell(v, False, name) for v in value))
    elif isinstance(value, (list, tuple)):
        text = "; ".join(_cell(v, False, name) for v in value)
    else:
        text = str(value)
    return _guard(text) if guard else text
