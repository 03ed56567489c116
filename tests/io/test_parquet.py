"""Tests of servicekpi.io.parquet: tables, panels and frames out, validated tables in."""

from __future__ import annotations

import importlib
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from servicekpi import Dataset, TicketTable, kpi_panel, synth
from servicekpi.exceptions import MissingExtraError, ValidationFailedError
from servicekpi.io.frames import panel_to_frame
from servicekpi.io.parquet import read_parquet, write_parquet
from servicekpi.tables import Table

T0 = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
TABLES = ("tickets", "complaints", "callbacks", "ratings", "orders", "customers", "agents")


@pytest.fixture(scope="module")
def data() -> Dataset:
    return synth.month(seed=4, tickets=800, agents=8, stations=2)


def tickets(n: int, **overrides: list[Any]) -> dict[str, list[Any]]:
    """*n* valid tickets as plain columns, some columns replaced by *overrides*."""
    columns: dict[str, list[Any]] = {
        "ticket_id": [f"T-{i}" for i in range(n)], "agent_id": ["A-1"] * n,
        "station_id": ["S1"] * n, "customer_id": [f"C-{i}" for i in range(n)],
        "service_type": ["repair"] * n, "channel": ["phone"] * n,
        "opened_at": [T0 + timedelta(hours=i) for i in range(n)]}
    columns.update(overrides)
    return columns


def hide(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """Make *packages* (and their submodules) unimportable for the test."""
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            monkeypatch.setitem(sys.modules, name, None)
    for name in packages:
        monkeypatch.setitem(sys.modules, name, None)


class TestTables:
    """A table written to Parquet reads back with the same rows and values."""

    @pytest.mark.parametrize("name", TABLES)
    def test_round_trip(self, name: str, data: Dataset, tmp_path: Path) -> None:
        table: Table = getattr(data, name)
        path = tmp_path / f"{name}.parquet"
        write_parquet(table, path)
        back, report = read_parquet(path, type(table))
        assert (table.to_columns(), True) == (back.to_columns(), report.ok)

    def test_file_layout(self, data: Dataset, tmp_path: Path) -> None:
        write_parquet(data.tickets, tmp_path / "t.parquet")
        schema = pq.read_schema(tmp_path / "t.parquet")
        assert (pa.string(), pa.string(), pa.timestamp("us", tz="UTC"), pa.float64()) == (
            schema.field("agent_id").type, schema.field("channel").type,
            schema.field("opened_at").type, schema.field("satisfaction").type)

    def test_missing_values_are_nulls(self, data: Dataset, tmp_path: Path) -> None:
        write_parquet(data.tickets, tmp_path / "t.parquet")
        file = pq.read_table(tmp_path / "t.parquet")
        expected = [(~data.tickets.present(name)).sum() for name in
                    ("resolved_at", "satisfaction", "customer_tier")]
        assert expected == [file[name].null_count for name in
                            ("resolved_at", "satisfaction", "customer_tier")]


class TestRead:
    """Reading validates every row like from_columns."""

    def test_bad_rows_are_reported(self, tmp_path: Path) -> None:
        pq.write_table(pa.table(tickets(3, satisfaction=[4.0, 8.0, None])),
                       tmp_path / "t.parquet")
        table, report = read_parquet(tmp_path / "t.parquet", TicketTable)
        assert (2, ["row 1 (T-1): satisfaction=8.0: a number in [1, 5] [out_of_range]"]) == (
            len(table), [str(issue) for issue in report.issues])

    def test_raise(self, tmp_path: Path) -> None:
        pq.write_table(pa.table(tickets(2, satisfaction=[4.0, 8.0])), tmp_path / "t.parquet")
        with pytest.raises(ValidationFailedError, match=r"row 1 \(T-1\): satisfaction=8\.0"):
            read_parquet(tmp_path / "t.parquet", TicketTable, on_invalid="raise")

    def test_naive_timestamps_need_default_tz(self, tmp_path: Path) -> None:
        naive = [datetime(2026, 10, 5, 9), datetime(2026, 10, 5, 10)]
        pq.write_table(pa.table(tickets(2, opened_at=naive)), tmp_path / "t.parquet")
        rejected = read_parquet(tmp_path / "t.parquet", TicketTable)[1].counts()
        table, _ = read_parquet(tmp_path / "t.parquet", TicketTable, default_tz="Asia/Shanghai")
        assert ({"naive_datetime": 2}, [1791162000, 1791165600]) == (
            rejected, table["opened_at"].tolist())

    def test_not_a_table_class(self, tmp_path: Path) -> None:
        with pytest.raises(TypeError, match=r"^'table' must be a table class such as "
                                            r"TicketTable \(got 'tickets'\)$"):
            read_parquet(tmp_path / "t.parquet", "tickets")  # type: ignore[arg-type]

    def test_no_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            read_parquet(tmp_path / "nothing.parquet", TicketTable)


class TestWrite:
    """Panels and frames of every backend are written as they are."""

    def test_panel(self, data: Dataset, tmp_path: Path) -> None:
        assert data.period is not None
        panel = kpi_panel(data.tickets, period=data.period, by=("station", "day"))
        write_parquet(panel, tmp_path / "p.parquet")
        back, expected = pq.read_table(tmp_path / "p.parquet"), panel_to_frame(
            panel, backend="pyarrow")
        # pandas' equals takes NaN for NaN (arrow's does not); the types are arrow's
        assert (expected.schema, True) == (back.schema,
                                           back.to_pandas().equals(expected.to_pandas()))

    @pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
    def test_frames(self, backend: str, tmp_path: Path) -> None:
        columns = tickets(3, satisfaction=[4.0, None, 5.0])
        frame: Any = {"pandas": pd.DataFrame, "polars": pl.DataFrame,
                      "pyarrow": pa.table}[backend](columns)
        write_parquet(frame, tmp_path / "f.parquet")
        table, report = read_parquet(tmp_path / "f.parquet", TicketTable)
        assert (TicketTable.from_columns(columns)[0], True) == (table, report.ok)

    def test_not_writable(self, tmp_path: Path) -> None:
        with pytest.raises(TypeError, match=r"^write_parquet expects a table, a KpiPanel or a "
                                            r"pandas, polars or pyarrow dataframe "
                                            r"\(got dict\)$"):
            write_parquet({"a": [1]}, tmp_path / "x.parquet")


class TestMissingExtras:
    """Without pyarrow (or narwhals to read) the error names the extra."""

    def test_without_pyarrow(self, monkeypatch: pytest.MonkeyPatch) -> None:
        hide(monkeypatch, "pyarrow")
        monkeypatch.delitem(sys.modules, "servicekpi.io.parquet")
        with pytest.raises(MissingExtraError,
                           match=r"^this feature needs the optional dependency 'pyarrow': "
                                 r"pip install 'servicekpi\[frames\]'$"):
            importlib.import_module("servicekpi.io.parquet")

    def test_read_without_narwhals(self, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
        pq.write_table(pa.table(tickets(1)), tmp_path / "t.parquet")
        hide(monkeypatch, "narwhals")
        monkeypatch.delitem(sys.modules, "servicekpi.io.frames")
        with pytest.raises(MissingExtraError,
                           match=r"^this feature needs the optional dependency 'narwhals': "
                                 r"pip install 'servicekpi\[frames\]'$"):
            read_parquet(tmp_path / "t.parquet", TicketTable)

    def test_write_a_table_without_narwhals(self, monkeypatch: pytest.MonkeyPatch,
                                            data: Dataset, tmp_path: Path) -> None:
        hide(monkeypatch, "narwhals")
        monkeypatch.delitem(sys.modules, "servicekpi.io.frames")
        write_parquet(data.agents, tmp_path / "a.parquet")
        assert len(data.agents) == pq.read_table(tmp_path / "a.parquet").num_rows
