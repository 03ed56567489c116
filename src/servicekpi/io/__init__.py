"""Input and output at the edges: CSV files, dataframes (narwhals) and Parquet.

- :mod:`servicekpi.io.csv` — stdlib only: :func:`read_csv` (UTF-8, UTF-8 with BOM,
  GB18030; every bad row reported with its file line, and optionally written to a
  ``.rejected.csv``) and :func:`write_csv` (Excel-safe by default).
- :mod:`servicekpi.io.frames` — pandas, polars and pyarrow frames in and out (the
  ``frames`` extra); also reached as ``TicketTable.from_frame`` and ``panel.to_frame()``.
- :mod:`servicekpi.io.parquet` — Parquet files (the ``frames`` extra).

The frame and Parquet modules raise :class:`~servicekpi.exceptions.MissingExtraError`
naming the extra when their dependency is missing; this package imports neither.
"""

from servicekpi.io.csv import CsvReport, read_csv, write_csv

__all__ = ("CsvReport", "read_csv", "write_csv")
