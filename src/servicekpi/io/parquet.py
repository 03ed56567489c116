"""Parquet files through pyarrow: tables, panels and frames out, validated tables in.

:func:`write_parquet` writes a servicekpi table (ids, choices and zones as text,
timestamps as UTC microseconds, missing values as nulls, complaint flags as their bit
mask), a :class:`~servicekpi.KpiPanel` (as :func:`~servicekpi.io.frames.panel_to_frame`
lays it out) or any pandas, polars or pyarrow dataframe. :func:`read_parquet` reads a
file into a table with :func:`~servicekpi.io.frames.table_from_frame`, so it is
validated like every other input: a table written by :func:`write_parquet` reads back
with the same rows and values.

Needs the ``frames`` extra (``pip install 'servicekpi[frames]'``): pyarrow to import
this module, narwhals as well to read, and to write a panel or a dataframe.

>>> import tempfile, pathlib
>>> from servicekpi import TicketTable, synth
>>> data = synth.month(seed=1, tickets=500, agents=6, stations=1)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tickets.parquet"
>>> write_parquet(data.tickets, path)
>>> table, report = read_parquet(path, TicketTable)
>>> table.to_columns() == data.tickets.to_columns(), report.ok
(True, True)

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from typing import Any, Final, Literal, TypeVar

import numpy as np

from servicekpi.exceptions import MissingExtraError
from servicekpi.kernel import MISSING
from servicekpi.metrics import KpiPanel
from servicekpi.tables import Kind, Table, ValidationReport

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as error:
    raise MissingExtraError.for_extra("frames", "pyarrow") from error

__all__ = ("read_parquet", "write_parquet")

T = TypeVar("T", bound=Table)
_MICROS: Final = 1_000_000


def read_parquet(path: str | os.PathLike[str], table: type[T], *,
                 default_tz: str | None = None,
                 on_invalid: Literal["report", "raise"] = "report"
                 ) -> tuple[T, ValidationReport]:
    """Read a Parquet file into a table of class *table*, validating every row.

    Args:
        path: the file.
        table: the table class, e.g. :class:`~servicekpi.TicketTable`.
        default_tz: IANA zone of naive timestamps; without it they are rejected.
        on_invalid: ``"report"`` or ``"raise"``, as in
            :meth:`~servicekpi.tables.Table.from_columns`.

    Returns:
        The table of valid rows and the :class:`~servicekpi.tables.ValidationReport`
        (rows counted from 0 in file order).

    Raises:
        TypeError: *table* is not a table class.
        MissingExtraError: narwhals is not installed.
        SchemaError: the file's columns do not match the table's schema.
        ValidationFailedError: with ``on_invalid="raise"`` when a row is rejected.
        OSError: the file cannot be read.

    .. versionadded:: 0.1
    """
    if not (isinstance(table, type) and issubclass(table, Table)):
        raise TypeError(f"'table' must be a table class such as TicketTable (got {table!r})")
    from servicekpi.io.frames import table_from_frame

    return table_from_frame(table, pq.read_table(path), on_invalid=on_invalid,
                            default_tz=default_tz)


def write_parquet(data: Any, path: str | os.PathLike[str]) -> None:
    """Write a table, a KPI panel or a dataframe to a Parquet file.

    Args:
        data: a servicekpi table (:class:`~servicekpi.TicketTable`, …), a
            :class:`~servicekpi.KpiPanel`, or a pandas, polars or pyarrow dataframe.
        path: the file to write (replaced if it exists).

    Raises:
        TypeError: *data* is none of those.
        MissingExtraError: narwhals is not installed (for a panel or a dataframe).

    .. versionadded:: 0.1
    """
    pq.write_table(_arrow(data), path)


def _arrow(data: Any) -> pa.Table:
    if isinstance(data, Table):
        return pa.table({column.name: _column(data, column.name, column.kind)
                         for column in data.SCHEMA.columns})
    if isinstance(data, pa.Table):
        return data
    from servicekpi.io import frames  # raises MissingExtraError without narwhals

    import narwhals.stable.v1 as nw

    if isinstance(data, KpiPanel):
        panel: pa.Table = frames.panel_to_frame(data, backend="pyarrow")
        return panel
    try:
        arrow: pa.Table = nw.from_native(data, eager_only=True).to_arrow()
    except TypeError:
        raise TypeError(f"write_parquet expects a table, a KpiPanel or a pandas, polars or "
                        f"pyarrow dataframe (got {type(data).__name__})") from None
    return arrow


def _column(table: Table, name: str, kind: Kind) -> pa.Array:
    """One table column as arrow, missing values as nulls."""
    values = table[name]
    if kind in (Kind.ID, Kind.ZONE, Kind.CHOICE):
        labels = table.labels(name) if kind is not Kind.CHOICE else tuple(
            str(member.value) for member in table.SCHEMA.column(name).choices or ())
        codes = pa.array(values.astype(np.int32), mask=values < 0)
        return pa.DictionaryArray.from_arrays(codes, pa.array(labels, pa.string())) \
            .dictionary_decode()
    if kind is Kind.TIME:
        missing = values == MISSING
        micros = np.where(missing, 0, values) * _MICROS
        return pa.array(micros, pa.int64(), mask=missing).cast(pa.timestamp("us", tz="UTC"))
    if kind in (Kind.NUMBER, Kind.MONEY):
        return pa.array(values, pa.float64(), mask=np.isnan(values))
    if kind is Kind.TEXT:
        return pa.array(values.tolist(), pa.string())
    return pa.array(values)  # bool, count, flags: numpy already has the arrow type
