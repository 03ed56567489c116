"""Tests of servicekpi.io.frames: frames in (validated like from_columns) and frames out."""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import narwhals.stable.v1 as nw
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi import Dataset, MonthlyEvaluation, Period, TicketTable, evaluate, kpi_panel, synth
from servicekpi.domain import Ticket
from servicekpi.exceptions import (
    InvalidChoiceError,
    MissingExtraError,
    SchemaError,
    ValidationFailedError,
)
from servicekpi.io import frames
from servicekpi.io.frames import (
    evaluation_to_frames,
    followups_to_frame,
    panel_to_frame,
    scorecard_to_frame,
    table_from_frame,
)
from servicekpi.kernel import MISSING
from servicekpi.metrics import KpiPanel
from servicekpi.tables import ComplaintTable, CustomerTable, ValidationIssue

if TYPE_CHECKING:
    import strategies as S
else:
    from tests import strategies as S

BACKENDS = ("pandas", "polars", "pyarrow")
FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None)
UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


# -- helpers --------------------------------------------------------------------------


def native(columns: Mapping[str, Sequence[Any]], backend: str) -> Any:
    """A native frame of *backend* holding *columns* (lists of Python values)."""
    if backend == "pandas":
        return pd.DataFrame({name: list(values) for name, values in columns.items()})
    if backend == "polars":
        return pl.DataFrame({name: list(values) for name, values in columns.items()},
                            strict=False)
    return pa.table({name: list(values) for name, values in columns.items()})


def plain(value: Any, zone: ZoneInfo) -> Any:
    """A record field as a frame cell: enums as their values, instants in *zone*."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(zone)
    return value


def ticket_columns(tickets: Sequence[Ticket], zone: ZoneInfo) -> dict[str, list[Any]]:
    """The tickets as plain columns, every timestamp in one zone (as a frame holds it)."""
    return {column.name: [plain(getattr(t, column.name), zone) for t in tickets]
            for column in TicketTable.SCHEMA.columns}


def base(n: int = 3, **overrides: Sequence[Any]) -> dict[str, list[Any]]:
    """*n* valid tickets as plain columns, some columns replaced by *overrides*."""
    columns: dict[str, list[Any]] = {
        "ticket_id": [f"T-{i}" for i in range(n)],
        "agent_id": ["A-1"] * n, "station_id": ["S1"] * n,
        "customer_id": [f"C-{i}" for i in range(n)],
        "service_type": ["repair"] * n, "channel": ["phone"] * n,
        "opened_at": [T0 + timedelta(hours=i) for i in range(n)],
    }
    columns.update({name: list(values) for name, values in overrides.items()})
    return columns


def frame_of(native_frame: Any) -> nw.DataFrame[Any]:
    return nw.from_native(native_frame, eager_only=True)


def synth_month(seed: int, tickets: int, agents: int, stations: int
                ) -> tuple[Dataset, Period]:
    """A synthetic month and its period."""
    data = synth.month(seed=seed, tickets=tickets, agents=agents, stations=stations)
    assert data.period is not None
    return data, data.period


def hide(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """Make *packages* (and their submodules) unimportable for the test."""
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            monkeypatch.setitem(sys.modules, name, None)
    for name in packages:
        monkeypatch.setitem(sys.modules, name, None)


# -- in -------------------------------------------------------------------------------


class TestRoundTrip:
    """A frame gives the same table and report as from_columns on the same data."""

    @FAST
    @given(tickets=st.lists(S.tickets(ticket_ids=st.sampled_from(["T-1", "T-2", "T-3",
                                                                   "T-4", "T-5"])),
                            max_size=6),
           zone=st.sampled_from([UTC, SHANGHAI, ZoneInfo("America/New_York")]),
           backend=st.sampled_from(BACKENDS))
    def test_random_tickets(self, tickets: list[Ticket], zone: ZoneInfo, backend: str
                            ) -> None:
        columns = ticket_columns(tickets, zone)
        expected = TicketTable.from_columns(columns)
        assert expected == TicketTable.from_frame(native(columns, backend))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_synth_month(self, backend: str) -> None:
        tickets = synth.month(seed=3, tickets=400, agents=6, stations=2).tickets
        columns = {name: list(values) for name, values in tickets.to_columns().items()}
        for name in ("service_type", "channel", "priority", "customer_tier"):
            columns[name] = [None if m is None else m.value for m in columns[name]]
        table, report = table_from_frame(TicketTable, native(columns, backend))
        assert (tickets.to_columns(), True) == (table.to_columns(), report.ok)

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_nulls_everywhere_optional(self, backend: str) -> None:
        columns = base(3, team_id=["TM-1", None, None],
                       first_response_at=[None, T0 + timedelta(hours=2), None],
                       satisfaction=[None, 4.5, None], reopen_count=[1, None, None],
                       rework=[True, None, None], priority=["high", None, None],
                       customer_tier=[None, "a", None], labour_cost=[None, None, 10.5])
        expected = TicketTable.from_columns(columns)
        assert expected == TicketTable.from_frame(native(columns, backend))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_typed_column_of_nulls(self, backend: str) -> None:
        columns = base(3, team_id=[None, None, None], agent_id=[None, None, None])
        data = frame_of(native(base(3), backend)).with_columns(
            nw.lit(None, nw.String()).alias("team_id"),
            nw.lit(None, nw.String()).alias("agent_id"),
            nw.lit(None, nw.Float64()).alias("satisfaction")).to_native()
        expected = TicketTable.from_columns({**columns, "satisfaction": [None] * 3})
        assert expected == TicketTable.from_frame(data)

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_empty_frame(self, backend: str) -> None:
        table, report = TicketTable.from_frame(native(base(0), backend))
        assert (0, 0, True) == (len(table), report.rows_in, report.ok)

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_mostly_distinct_ids_in_python_order(self, backend: str) -> None:
        ids = ["Ä-1", "Z-1", "a-1", "ö-2", "T-10", "T-9", "東-1", None]
        columns = base(8, ticket_id=[*ids[:7], "T-0"], customer_id=ids)
        table, _ = TicketTable.from_frame(native(columns, backend))
        assert TicketTable.from_columns(columns)[0] == table
        assert tuple(sorted(i for i in ids if i)) == table.labels("customer_id")

    @FAST
    @given(st.lists(st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                        min_size=1, max_size=4), max_size=30),
           st.sampled_from(BACKENDS))
    def test_arrow_codes_equal_the_backends_and_python(self, values: list[str | None],
                                                       backend: str) -> None:
        """Arrow's byte order is Python's code point order, for any text."""
        series = nw.from_native(native({"x": values}, backend), eager_only=True)["x"]
        arrow = frames._arrow_codes(series)
        assert arrow is not None
        codes, labels = arrow
        present = sorted({v for v in values if v is not None})
        assert present == labels
        assert [labels[c] if c >= 0 else None for c in codes.tolist()] == values
        other = frames._backend_codes(series)
        if other is not None:  # the backend's rank may disagree with Python: then None
            assert (codes.tolist(), labels) == (other[0].tolist(), other[1])
        array = pa.array(values, type=pa.string())
        for found in (frames._sorted_codes(array), frames._dictionary_codes(array)):
            assert (codes.tolist(), labels) == (found[0].tolist(), found[1])

    def test_mostly_distinct_columns_are_ranked_by_a_sort(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        ids = [f"T-{i:06d}" for i in range(70_000)][::-1]
        series = nw.from_native(pd.DataFrame({"x": [*ids, None]}), eager_only=True)["x"]

        def not_this_way(array: Any) -> Any:
            raise AssertionError("a mostly distinct column was hash-encoded")

        monkeypatch.setattr(frames, "_dictionary_codes", not_this_way)
        codes, labels = frames._arrow_codes(series) or (np.zeros(0), [])
        assert labels == sorted(ids) and codes[0] == 69_999 and codes[-1] == -1

    def test_without_pyarrow_the_backend_codes_the_same(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = synth.month(seed=2, tickets=300, agents=5, stations=2)
        frame = pl.DataFrame(data.tickets.to_columns())
        monkeypatch.setattr(frames, "_arrow_codes", lambda text: None)
        assert data.tickets == TicketTable.from_frame(frame)[0]

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_sub_second_instants_floor(self, backend: str) -> None:
        opened = [datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
                  datetime(2026, 10, 5, 9, 0, 0, 999_999, tzinfo=UTC)]
        table, _ = TicketTable.from_frame(native(base(2, opened_at=opened), backend))
        assert [-1, 1791190800] == table["opened_at"].tolist()

    def test_nat_is_missing(self) -> None:
        # aware timestamps go in as datetime64 viewed as int64: NaT must read as missing
        assert MISSING == np.datetime64("NaT").view(np.int64)

    def test_narwhals_frame(self) -> None:
        columns = base(2)
        assert TicketTable.from_columns(columns) == table_from_frame(
            TicketTable, nw.from_native(pl.DataFrame(columns), eager_only=True))

    def test_nanoseconds_floor(self) -> None:
        frame = pd.DataFrame(base(1))
        frame["opened_at"] = pd.to_datetime(["2026-10-05 09:00:00.999999999"]) \
            .tz_localize("UTC")
        assert [1791190800] == TicketTable.from_frame(frame)[0]["opened_at"].tolist()


class TestColumnForms:
    """Every column form a backend offers reads as from_columns reads the values."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_categorical_ids_and_choices(self, backend: str) -> None:
        columns = base(3, agent_id=["A-2", None, "A-1"], channel=["online", "phone", "phone"])
        data = native(columns, backend)
        if backend == "pandas":
            data = data.astype({"agent_id": "category", "channel": "category"})
        elif backend == "polars":
            data = data.with_columns(pl.col("agent_id", "channel").cast(pl.Categorical))
        else:
            data = data.set_column(1, "agent_id", data["agent_id"].dictionary_encode())
        assert TicketTable.from_columns(columns) == TicketTable.from_frame(data)

    def test_pandas_nullable_dtypes(self) -> None:
        columns = base(3, reopen_count=[1, None, 2], satisfaction=[4.0, None, 5.0],
                       rework=[True, None, False], team_id=["TM-1", None, "TM-2"])
        data = pd.DataFrame(columns).astype({"reopen_count": "Int64", "satisfaction": "Float64",
                                             "rework": "boolean", "team_id": "string"})
        assert TicketTable.from_columns(columns) == TicketTable.from_frame(data)

    def test_pandas_nullable_text(self) -> None:
        columns: dict[str, list[Any]] = {"customer_id": ["C-1", "C-2"], "name": ["Li", None],
                                         "tz": ["UTC", None]}
        data = pd.DataFrame(columns).astype({"name": "string", "tz": "string[pyarrow]"})
        assert CustomerTable.from_columns(columns) == CustomerTable.from_frame(data)

    @pytest.mark.parametrize("backend", ["polars", "pyarrow"])
    def test_decimal_money(self, backend: str) -> None:
        columns = base(3, revenue=[Decimal("0.10"), None, Decimal("1234567.89")])
        assert TicketTable.from_columns(columns) == TicketTable.from_frame(
            native(columns, backend))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_text_in_typed_columns(self, backend: str) -> None:
        columns = base(3, opened_at=["2026-10-05T09:00:00+08:00", None, "2026-10-05T09:00Z"],
                       satisfaction=["4.5", "5", None], rework=["yes", "no", None],
                       reopen_count=["2", None, "0"])
        assert TicketTable.from_columns(columns) == TicketTable.from_frame(
            native(columns, backend))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_integer_ids(self, backend: str) -> None:
        columns = base(3, customer_id=[7, 8, 7])
        table, _ = TicketTable.from_frame(native(columns, backend))
        assert (TicketTable.from_columns(columns)[0], ("7", "8")) == (
            table, table.labels("customer_id"))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_zone_and_text_columns(self, backend: str) -> None:
        columns: dict[str, list[Any]] = {"customer_id": ["C-1", "C-2", "C-3"],
                                         "tz": ["Europe/Berlin", None, "Mars/Base"],
                                         "name": ["Li", None, "Wang"],
                                         "tier": ["a", "c", None]}
        expected = CustomerTable.from_columns(columns)
        assert expected == CustomerTable.from_frame(native(columns, backend))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_flag_masks(self, backend: str) -> None:
        columns: dict[str, list[Any]] = {
            "complaint_id": ["Q-1", "Q-2", "Q-3"], "customer_id": ["C-1"] * 3,
            "station_id": ["S1"] * 3, "responsible": ["Li"] * 3,
            "source": ["hotline"] * 3, "complaint_type": ["noise"] * 3,
            "received_at": [T0] * 3, "flags": [3, None, 99]}
        expected = ComplaintTable.from_columns(
            {**columns, "flags": np.array([3, 0, 99])})
        assert expected == ComplaintTable.from_frame(native(columns, backend))


class TestNaiveDatetimes:
    """Naive timestamps are rejected unless default_tz names their zone."""

    NAIVE = [datetime(2026, 10, 5, 9), None, datetime(2026, 10, 5, 10)]

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_rejected_into_the_report(self, backend: str) -> None:
        columns = base(3, opened_at=[datetime(2026, 10, 5, 9)] * 3,
                       closed_at=self.NAIVE)
        table, report = TicketTable.from_frame(native(columns, backend))
        actual = [(i.row, i.key, i.field, i.value, i.code) for i in report.issues]
        assert (0, [
            (0, "T-0", "closed_at", datetime(2026, 10, 5, 9), "naive_datetime"),
            (0, "T-0", "opened_at", datetime(2026, 10, 5, 9), "naive_datetime"),
            (1, "T-1", "opened_at", datetime(2026, 10, 5, 9), "naive_datetime"),
            (2, "T-2", "closed_at", datetime(2026, 10, 5, 10), "naive_datetime"),
            (2, "T-2", "opened_at", datetime(2026, 10, 5, 9), "naive_datetime"),
        ]) == (len(table), actual)

    @pytest.mark.parametrize("backend", BACKENDS)
    @pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
    def test_read_in_default_tz(self, backend: str, zone: str) -> None:
        # 02:30 on 2026-03-08 does not exist in New York; 01:30 on 2026-11-01 twice.
        naive = [datetime(2026, 3, 8, 2, 30), datetime(2026, 11, 1, 1, 30),
                 datetime(2026, 10, 5, 9, 0, 0, 999_999)]
        columns = base(3, opened_at=naive)
        expected = TicketTable.from_columns(columns, default_tz=zone)
        assert expected == TicketTable.from_frame(native(columns, backend), default_tz=zone)


# Wall times near offset changes: gaps, repeats, 30-minute DST, midnight skipped and
# repeated, a whole day skipped (Apia 2011), a standard-offset change (Moscow 2014).
TRANSITIONS = (
    ("America/New_York", datetime(2026, 3, 8, 2)), ("America/New_York", datetime(2026, 11, 1, 1)),
    ("Europe/Berlin", datetime(2026, 3, 29, 2)), ("Europe/Berlin", datetime(2026, 10, 25, 2)),
    ("America/Santiago", datetime(2026, 9, 6, 0)), ("America/Santiago", datetime(2026, 4, 4, 23)),
    ("America/Havana", datetime(2026, 3, 8, 0)), ("America/Havana", datetime(2026, 11, 1, 0)),
    ("Australia/Lord_Howe", datetime(2026, 10, 4, 2)),
    ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 30)),
    ("Pacific/Apia", datetime(2011, 12, 30, 12)), ("Europe/Moscow", datetime(2014, 10, 26, 1)),
    ("Asia/Kathmandu", datetime(1986, 1, 1, 0, 15)),
)


def near(anchor: datetime) -> list[datetime]:
    """Wall times every 7.5 minutes over 4 hours either side, and a second either side of
    each of them, some with microseconds."""
    steps = [anchor + timedelta(minutes=7.5 * k) for k in range(-32, 33)]
    return [moment + timedelta(seconds=d, microseconds=u) for moment in steps
            for d, u in ((-1, 0), (0, 0), (0, 999_999), (1, 0))]


class TestNaivePlacement:
    """Naive wall times are placed in default_tz exactly as from_columns places them."""

    @pytest.mark.parametrize(("zone", "anchor"), TRANSITIONS,
                             ids=[f"{z}-{a:%Y%m%d}" for z, a in TRANSITIONS])
    def test_around_transitions(self, zone: str, anchor: datetime) -> None:
        walls = near(anchor) + near(anchor - timedelta(days=1))
        columns = base(len(walls), opened_at=walls)
        expected = TicketTable.from_columns(columns, default_tz=zone)[0]["opened_at"]
        actual = TicketTable.from_frame(pl.DataFrame(columns), default_tz=zone)[0]
        assert expected.tolist() == actual["opened_at"].tolist()

    @FAST
    @given(walls=st.lists(st.datetimes(min_value=datetime(1965, 1, 1),
                                       max_value=datetime(2105, 12, 31)), max_size=8),
           zone=st.sampled_from(S.IANA_ZONES), backend=st.sampled_from(BACKENDS))
    def test_any_wall_time(self, walls: list[datetime], zone: str, backend: str) -> None:
        columns = base(len(walls), opened_at=walls)
        expected = TicketTable.from_columns(columns, default_tz=zone)
        assert expected == TicketTable.from_frame(native(columns, backend), default_tz=zone)

    def test_gap_moves_forward_repeat_takes_the_first(self) -> None:
        walls = [datetime(2026, 3, 8, 2, 30), datetime(2026, 11, 1, 1, 30)]
        table, _ = TicketTable.from_frame(pl.DataFrame(base(2, opened_at=walls)),
                                          default_tz="America/New_York")
        expected = [datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # 03:30 EDT
                    datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]  # 01:30 EDT, not EST
        assert [int(e.timestamp()) for e in expected] == table["opened_at"].tolist()

    def test_outside_the_tabulated_years(self) -> None:
        walls = [datetime(1960, 6, 1, 12), datetime(2026, 6, 1, 12), None]
        columns = base(3, opened_at=walls)
        expected = TicketTable.from_columns(columns, default_tz="Europe/Berlin")
        assert expected == TicketTable.from_frame(pl.DataFrame(columns),
                                                  default_tz="Europe/Berlin")


class TestReport:
    """Rejected rows are reported with row, key, field, value as the frame holds it, rule."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_bad_values(self, backend: str) -> None:
        columns = base(6, ticket_id=["T-0", " T-1", "T-2", "T-3", "T-4", "T-0"],
                       agent_id=["A-1", "A-1", None, "A-1", "A-1", "A-1"],
                       channel=["phone", "phone", "phone", "fax", "phone", "phone"],
                       satisfaction=[4.0, None, None, None, 7.0, None],
                       closed_at=[None, None, None, None, T0 - timedelta(days=1), None])
        table, report = TicketTable.from_frame(native(columns, backend))
        actual = [(i.row, i.key, i.field, i.value, i.rule, i.code) for i in report.issues]
        assert (1, [
            (1, None, "ticket_id", " T-1",
             "a non-empty string without surrounding spaces or control characters",
             "invalid_id"),
            (2, "T-2", "agent_id", None, "a value is required", "required"),
            (3, "T-3", "channel", "fax",
             "one of: phone, online, email, walk_in, on_site, letter", "unknown_choice"),
            (4, "T-4", "closed_at", T0 - timedelta(days=1),
             "'closed_at' must not be before 'opened_at'", "time_order"),
            (4, "T-4", "satisfaction", 7.0, "a number in [1, 5]", "out_of_range"),
            (5, "T-0", "ticket_id", "T-0", "unique: seen on an earlier row", "unique"),
        ]) == (len(table), actual)

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_issues_equal_from_columns(self, backend: str) -> None:
        columns = base(5, ticket_id=["T-0", "", "T-2", "T-3", "T-0"],
                       reopen_count=[0, -1, 2, 3, 1], answers=[1, 2, 3, 4, 5],
                       answer_errors=[0, 3, 0, 9, 0],
                       satisfaction=[1.0, 2.0, 6.5, None, 3.0])
        expected = TicketTable.from_columns(columns)[1]
        actual = TicketTable.from_frame(native(columns, backend))[1]
        assert (expected.rows_in, expected.rows_valid, expected.issues) == (
            actual.rows_in, actual.rows_valid, actual.issues)

    def test_mixed_objects(self) -> None:
        columns = base(4, satisfaction=[4.5, "bad", None, Decimal("2.5")],
                       opened_at=[T0, "2026-10-05", None, T0.astimezone(SHANGHAI)],
                       rework=[True, 2, None, "no"])
        data = pd.DataFrame(columns, dtype=object)
        assert TicketTable.from_columns(columns) == TicketTable.from_frame(data)

    def test_values_are_the_frames_own(self) -> None:
        data = pl.DataFrame(base(2, opened_at=[T0, None]))
        issue = TicketTable.from_frame(data)[1].issues[0]
        assert ValidationIssue(row=1, key="T-1", field="opened_at", value=None,
                               rule="a value is required", code="required") == issue

    def test_raise_names_the_frames_values(self) -> None:
        data = pl.DataFrame(base(2, satisfaction=[4.0, 9.5]))
        with pytest.raises(ValidationFailedError,
                           match=r"(?s)tickets: 2 rows in, 1 valid, 1 rejected.*"
                                 r"row 1 \(T-1\): satisfaction=9\.5: a number in \[1, 5\]"):
            TicketTable.from_frame(data, on_invalid="raise")

    def test_report_rows_add_up(self) -> None:
        data = pd.DataFrame(base(4, satisfaction=[9.0, 9.0, None, None]))
        report = TicketTable.from_frame(data)[1]
        assert (4, 2, 2, (0, 1)) == (report.rows_in, report.rows_valid, report.rows_rejected,
                                     report.rejected_rows)


class TestErrors:
    """Wrong input raises typed errors with pinned messages."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_unknown_column(self, backend: str) -> None:
        data = native(base(1, bogus=[1]), backend)
        with pytest.raises(SchemaError, match=r"^tickets: unknown column 'bogus'$"):
            TicketTable.from_frame(data)

    def test_misspelt_column(self) -> None:
        data = pl.DataFrame(base(1, agnet_id=["A-1"]))
        with pytest.raises(SchemaError, match=r"^tickets: unknown column 'agnet_id'\. "
                                              r"Did you mean 'agent_id'\?$"):
            TicketTable.from_frame(data)

    def test_missing_required_column(self) -> None:
        columns = base(1)
        del columns["channel"]
        with pytest.raises(SchemaError,
                           match=r"^tickets: missing required columns \['channel'\]$"):
            TicketTable.from_frame(pa.table(columns))

    @pytest.mark.parametrize(("value", "message"), [
        ({"ticket_id": ["T-1"]}, r"^tickets: expected a pandas, polars or pyarrow dataframe "
                                 r"\(got dict\); for a mapping of columns use from_columns$"),
        ([1, 2], r"^tickets: expected a pandas, polars or pyarrow dataframe \(got list\)$"),
        (pl.LazyFrame({"a": [1]}), r"^tickets: expected a pandas, polars or pyarrow "
                                   r"dataframe \(got LazyFrame\); collect\(\) a lazy frame "
                                   r"first$"),
        (pd.Series([1]), r"^tickets: expected a pandas, polars or pyarrow dataframe "
                         r"\(got Series\)$"),
    ])
    def test_not_a_frame(self, value: Any, message: str) -> None:
        with pytest.raises(SchemaError, match=message):
            TicketTable.from_frame(value)

    def test_repeated_column(self) -> None:
        data = pd.DataFrame([["T-1", "T-2"]], columns=["ticket_id", "ticket_id"])
        with pytest.raises(SchemaError, match=r"^tickets: column names must be unique"):
            TicketTable.from_frame(data)

    def test_unknown_default_tz(self) -> None:
        with pytest.raises(SchemaError,
                           match=r"^unknown time zone 'Mars/Base' for 'default_tz'$"):
            TicketTable.from_frame(pl.DataFrame(base(1)), default_tz="Mars/Base")

    def test_unknown_on_invalid(self) -> None:
        with pytest.raises(InvalidChoiceError,
                           match=r"^unknown on_invalid 'rase'\. Did you mean 'raise'\?$"):
            TicketTable.from_frame(pl.DataFrame(base(1)), on_invalid="rase")  # type: ignore[arg-type]


# -- out ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month() -> MonthlyEvaluation:
    data, period = synth_month(1, 2_000, 12, 1)
    return evaluate(data, period=period)


def column(native_frame: Any, name: str) -> list[Any]:
    """A column of any backend's frame as Python values, nulls as None."""
    series = frame_of(native_frame)[name]
    values = series.to_list()
    for row in np.flatnonzero(series.is_null().to_numpy()):
        values[row] = None
    return values


def epochs(native_frame: Any, name: str) -> NDArray[np.int64]:
    """A datetime column as int64 UTC epoch seconds (MISSING for nulls)."""
    series = frame_of(native_frame)[name].dt.convert_time_zone("UTC") \
        .dt.replace_time_zone(None)
    return np.asarray(series.to_numpy().astype("datetime64[s]").view(np.int64))


def nullable(value: Any) -> Any:
    """NaN, NA and None as None, so that rows compare with ==."""
    return None if value is None or value is pd.NA or (
        isinstance(value, float) and value != value) else value


class TestPanelToFrame:
    """A panel's frame holds its keys and exactly its KPI arrays."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_values_exact(self, backend: str, month: MonthlyEvaluation) -> None:
        panel = month.panel
        data = panel_to_frame(panel, backend=backend)
        df = frame_of(data)
        assert ["agent", *panel.names] == df.columns
        assert list(panel.keys) == column(data, "agent")
        for name in panel.names:
            assert nw.Float64() == df.schema[name]
            assert np.array_equal(panel[name], df[name].to_numpy(), equal_nan=True), name

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_keys_of_several_dimensions(self, backend: str) -> None:
        data, period = synth_month(2, 600, 6, 2)
        panel = kpi_panel(data.tickets, period=period, by=("channel", "week"))
        frame = panel_to_frame(panel, backend=backend)
        schema = frame_of(frame).schema
        assert (nw.String(), nw.Date()) == (schema["channel"], schema["week"])
        expected = [(c.value, w) for c, w in panel.keys]
        assert expected == list(zip(column(frame, "channel"), column(frame, "week"),
                                    strict=True))
        assert all(isinstance(w, date) for w in column(frame, "week"))

    def test_missing_key_is_null(self) -> None:
        data, period = synth_month(2, 600, 6, 2)
        panel = kpi_panel(data.tickets, period=period, by="customer_tier")
        assert [None if k is None else k.value for k in panel.keys] == column(
            panel_to_frame(panel, backend="polars"), "customer_tier")

    def test_method_delegates(self, month: MonthlyEvaluation) -> None:
        assert isinstance(month.panel.to_frame("polars"), pl.DataFrame)

    def test_default_backend_is_pandas(self, month: MonthlyEvaluation) -> None:
        assert isinstance(panel_to_frame(month.team_panel), pd.DataFrame)

    def test_frame_is_writable(self, month: MonthlyEvaluation) -> None:
        data = panel_to_frame(month.panel, backend="pandas")
        data.loc[0, "tickets"] = -1.0
        assert -1.0 != month.panel["tickets"][0]


class TestScorecardToFrame:
    """A scorecard's frame holds the rows of to_records."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_rows(self, backend: str, month: MonthlyEvaluation) -> None:
        records = month.scorecard.to_records()
        data = scorecard_to_frame(month.scorecard, backend=backend)
        columns = list(records[0])
        assert columns == frame_of(data).columns
        actual = [{name: nullable(value) for name, value in row.items()}
                  for row in frame_of(data).rows(named=True)]
        assert [{name: nullable(value) for name, value in row.items()}
                for row in records] == actual

    def test_unranked_rank_is_null(self) -> None:
        data, period = synth_month(1, 1_000, 8, 1)
        card = evaluate(data, period=period).scorecard
        ranks = [int(rank) or None for rank in card.ranks]
        for backend in BACKENDS:
            assert ranks == column(scorecard_to_frame(card, backend=backend), "rank")
            assert nw.Int64() == frame_of(scorecard_to_frame(card, backend=backend)
                                        ).schema["rank"]


class TestFollowupsToFrame:
    """A plan's frame holds its contacts, aware in the plan's zone."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_contacts(self, backend: str, month: MonthlyEvaluation) -> None:
        plan = month.followups
        data = followups_to_frame(plan, backend=backend)
        schema = frame_of(data).schema
        assert nw.Datetime("us", plan.tz) == schema["earliest"]
        for name in ("trigger", "earliest", "latest"):
            assert np.array_equal(plan[name], epochs(data, name)), name
        head = plan.contacts()[:50]
        assert [c.rule_id for c in head] == column(data, "rule_id")[:50]
        assert [c.kind.value for c in head] == column(data, "kind")[:50]
        assert [c.subject.value for c in head] == column(data, "subject")[:50]
        assert [c.earliest for c in head] == column(data, "earliest")[:50]
        assert list(plan["substitute_for"]) == column(data, "substitute_for")
        assert (plan["latest"] <= plan.now).tolist() == column(data, "overdue")


class TestEvaluationToFrames:
    """Every table of an evaluation comes out as a frame."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_every_table(self, backend: str, month: MonthlyEvaluation) -> None:
        out = evaluation_to_frames(month, backend=backend)
        assert ["panel", "team_panel", "scorecard", "consequences", "stations", "penalties",
                "followups", "team", "loyalty"] == list(out)
        assert [c.agent_id for c in month.consequences] == column(out["consequences"],
                                                                  "agent_id")
        assert [c.due for c in month.consequences] == column(out["consequences"], "due")
        assert [s.rank for s in month.complaints.stations] == column(out["stations"], "rank")
        assert [list(p.complaint_ids) for p in month.complaints.penalties] == column(
            out["penalties"], "complaint_ids")
        assert [r.met for r in month.team.rows] == column(out["team"], "met")
        loyalty = month.loyalty
        assert [loyalty.class_of(c).value for c in loyalty.customer_ids[:20]] == column(
            out["loyalty"], "loyalty")[:20]
        assert loyalty.visits.tolist() == column(out["loyalty"], "visits")

    def test_method_delegates(self, month: MonthlyEvaluation) -> None:
        assert all(isinstance(f, pa.Table) for f in month.to_frames("pyarrow").values())

    def test_empty_tables_keep_their_types(self, month: MonthlyEvaluation) -> None:
        quiet = attrs.evolve(month, consequences=())
        data = evaluation_to_frames(quiet, backend="polars")["consequences"]
        assert (0, pl.Datetime("us", "Asia/Shanghai")) == (data.height, data.schema["due"])


class TestBackends:
    """The backend is checked, and only installed backends are used."""

    def test_unknown_backend(self, month: MonthlyEvaluation) -> None:
        with pytest.raises(InvalidChoiceError,
                           match=r"^unknown backend 'polar'\. Did you mean 'polars'\?$"):
            panel_to_frame(month.panel, backend="polar")

    def test_backend_not_installed(self, monkeypatch: pytest.MonkeyPatch,
                                   month: MonthlyEvaluation) -> None:
        hide(monkeypatch, "polars")
        with pytest.raises(MissingExtraError,
                           match=r"^this feature needs the optional dependency 'polars': "
                                 r"pip install 'servicekpi\[frames\]'$"):
            month.panel.to_frame("polars")

    def test_default_skips_missing_pandas(self, monkeypatch: pytest.MonkeyPatch,
                                          month: MonthlyEvaluation) -> None:
        hide(monkeypatch, "pandas")
        assert isinstance(panel_to_frame(month.panel), pl.DataFrame)

    def test_no_backend_at_all(self, monkeypatch: pytest.MonkeyPatch,
                               month: MonthlyEvaluation) -> None:
        hide(monkeypatch, "pandas", "polars", "pyarrow")
        with pytest.raises(MissingExtraError,
                           match=r"^this feature needs one of the optional dependencies "
                                 r"'pandas', 'polars' or 'pyarrow': "
                                 r"pip install 'servicekpi\[frames\]'$"):
            panel_to_frame(month.panel)


class TestWithoutNarwhals:
    """Without narwhals the frames edge says which extra to install."""

    MESSAGE = (r"^this feature needs the optional dependency 'narwhals': "
               r"pip install 'servicekpi\[frames\]'$")

    @pytest.fixture
    def no_narwhals(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        hide(monkeypatch, "narwhals")
        monkeypatch.delitem(sys.modules, "servicekpi.io.frames")
        yield

    @pytest.mark.usefixtures("no_narwhals")
    def test_import(self) -> None:
        with pytest.raises(MissingExtraError, match=self.MESSAGE):
            importlib.import_module("servicekpi.io.frames")

    @pytest.mark.usefixtures("no_narwhals")
    def test_from_frame(self) -> None:
        with pytest.raises(MissingExtraError, match=self.MESSAGE):
            TicketTable.from_frame(pd.DataFrame(base(1)))

    def test_to_frame(self, monkeypatch: pytest.MonkeyPatch, month: MonthlyEvaluation) -> None:
        panel: KpiPanel = month.panel
        hide(monkeypatch, "narwhals")
        monkeypatch.delitem(sys.modules, "servicekpi.io.frames")
        with pytest.raises(MissingExtraError, match=self.MESSAGE):
            panel.to_frame()


@pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
def test_text_column_starting_with_null(backend: str) -> None:
    """polars cannot build a string column from an object array that starts with None."""
    from servicekpi.io.frames import _Builder

    builder = _Builder(backend)
    builder.texts("customer_id", [None, "C-1"])
    column = nw.from_native(builder.build(), eager_only=True)["customer_id"]
    assert ([True, False], "C-1") == (column.is_null().to_list(), column.to_list()[1])
