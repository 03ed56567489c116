"""servicekpi.dask: the Dask panel equals the in-memory panel, on an in-process cluster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402

if TYPE_CHECKING:
    import strategies as S
else:
    from tests import strategies as S
from servicekpi import KpiPanel, Period, Ticket, TicketTable, kpi_panel, synth  # noqa: E402
from servicekpi import dask as skd  # noqa: E402
from servicekpi.exceptions import InvalidChoiceError  # noqa: E402

BYS = ["agent", "team", "station", "service_type", "channel", "customer_tier", "day", "week",
       "month", ("team", "day"), ("station", "service_type"), ("week", "agent")]


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[Any]:
    """An in-process LocalCluster: the tests' dask.compute calls run on it."""
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as local, \
            distributed.Client(local) as client:
        yield client


def frame_of(table: TicketTable) -> pd.DataFrame:
    return pd.DataFrame(table.to_columns())


def assert_same(got: KpiPanel, want: KpiPanel) -> None:
    assert got.keys == want.keys
    assert got.names == want.names
    for name in want.names:
        for part in ("value", "numerator", "denominator"):
            a = got[name] if part == "value" else getattr(got, part)(name)
            b = want[name] if part == "value" else getattr(want, part)(name)
            assert np.array_equal(a, b, equal_nan=True), (name, part, a, b)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Period, list[Ticket]]:
    period = Period.month(2026, draw(st.sampled_from([3, 10])),
                          tz=draw(st.sampled_from(["Asia/Shanghai", "UTC",
                                                   "America/New_York"])))
    start = period.start.astimezone(timezone.utc)
    moments = st.integers(min_value=-3 * 86_400, max_value=34 * 86_400).map(
        lambda s: start + timedelta(seconds=s))
    n = draw(st.integers(min_value=0, max_value=40))
    tickets = [draw(S.tickets(
        ticket_ids=st.just(f"T-{i}"), agent_ids=st.sampled_from(["A-1", "A-2", "A-3"]),
        station_ids=st.sampled_from(["S-1", "S-2"]),
        team_ids=st.none() | st.sampled_from(["TM-1", "TM-2"]), datetimes=moments))
        for i in range(n)]
    return period, tickets


class TestEqualsInMemory:
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(histories(), st.integers(min_value=1, max_value=8), st.sampled_from(BYS))
    def test_any_data_any_partitions(self, history: tuple[Period, list[Ticket]],
                                     partitions: int, by: Any) -> None:
        period, records = history
        table = TicketTable.from_records(records)
        want = kpi_panel(table, period=period, by=by)
        got, reports = skd.kpi_panel(dd.from_pandas(frame_of(table), npartitions=partitions),
                                     period=period, by=by)
        assert (reports["tickets"].rows_in, reports["tickets"].rows_rejected) == (
            len(records), 0)
        assert_same(got, want)

    def test_a_synthetic_month_by_agent(self) -> None:
        data = synth.month(seed=11, tickets=3_000, agents=30, stations=3)
        assert data.period is not None
        frame = frame_of(data.tickets)
        got, _ = skd.kpi_panel(dd.from_pandas(frame, npartitions=7), period=data.period)
        assert_same(got, kpi_panel(data.tickets, period=data.period))


class TestBadInput:
    def test_rejected_rows_keep_their_place_in_the_input(self) -> None:
        data = synth.month(seed=5, tickets=300, agents=6, stations=1)
        assert data.period is not None
        frame = frame_of(data.tickets).astype({"service_type": object})
        frame.loc[[7, 250], "service_type"] = "repiar"
        got, reports = skd.kpi_panel(dd.from_pandas(frame, npartitions=3),
                                     period=data.period)
        report = reports["tickets"]
        assert [(i.row, i.key, i.code) for i in report.issues] == [
            (7, frame.loc[7, "ticket_id"], "unknown_choice"),
            (250, frame.loc[250, "ticket_id"], "unknown_choice")]
        assert (report.rows_in, report.rows_valid) == (300, 298)
        good, whole = TicketTable.from_frame(frame)  # the same frame, in memory
        assert [(i.row, i.code) for i in whole.issues] == [(7, "unknown_choice"),
                                                          (250, "unknown_choice")]
        assert_same(got, kpi_panel(good, period=data.period))

    def test_wrong_arguments(self) -> None:
        period = Period.parse("2026-10", tz="UTC")
        with pytest.raises(TypeError, match="'tickets' must be a dask DataFrame"):
            skd.kpi_panel(pd.DataFrame(), period=period)
        frame = dd.from_pandas(pd.DataFrame({"ticket_id": ["T-1"]}), npartitions=1)
        with pytest.raises(InvalidChoiceError, match="unknown dimension 'planet'"):
            skd.kpi_panel(frame, period=period, by="planet")

    def test_stack_refuses_split_quantiles(self) -> None:
        data = synth.month(seed=5, tickets=200, agents=6, stations=1)
        assert data.period is not None
        panel = kpi_panel(data.tickets, period=data.period)
        with pytest.raises(InvalidChoiceError, match="stack\\(\\) needs whole groups: "
                                                     "'first_response_seconds_median'"):
            KpiPanel.stack([panel, panel])
        assert_same(KpiPanel.stack([panel]), panel)


def test_naive_times_need_a_zone() -> None:
    at = datetime(2026, 10, 5, 9, 0)
    frame = pd.DataFrame({"ticket_id": ["T-1"], "agent_id": ["A-1"], "station_id": ["S1"],
                          "customer_id": ["C-1"], "service_type": ["repair"],
                          "channel": ["phone"], "opened_at": [at]})
    period = Period.parse("2026-10", tz="Asia/Shanghai")
    _, reports = skd.kpi_panel(dd.from_pandas(frame, npartitions=1), period=period)
    assert [i.code for i in reports["tickets"].issues] == ["naive_datetime"]
    panel, reports = skd.kpi_panel(dd.from_pandas(frame, npartitions=1), period=period,
                                   default_tz="Asia/Shanghai")
    assert reports["tickets"].ok and panel.row("A-1")["tickets"] == 1.0


class TestEventsAndDuplicates:
    def test_events_travel_with_their_tickets(self) -> None:
        data = synth.month(seed=12, tickets=1_500, agents=12, stations=2)
        assert data.period is not None
        history = synth.events(data.tickets, seed=12)
        events = pd.DataFrame(history.to_columns())
        for by, partitions in (("agent", 5), ("day", 3), (("team", "week"), 4)):
            got, reports = skd.kpi_panel(
                dd.from_pandas(frame_of(data.tickets), npartitions=partitions),
                events=dd.from_pandas(events, npartitions=partitions + 1),
                period=data.period, by=by)
            assert reports["ticket_events"].rows_in == len(history)
            assert reports["ticket_events"].ok
            assert_same(got, kpi_panel(data.tickets, period=data.period, by=by,
                                       events=history))

    def test_a_repeated_ticket_id_is_rejected_across_partitions(self) -> None:
        data = synth.month(seed=13, tickets=200, agents=6, stations=1)
        assert data.period is not None
        frame = frame_of(data.tickets)
        twin = frame.iloc[[3]].assign(agent_id=str(frame.loc[150, "agent_id"]))
        frame = pd.concat([frame, twin], ignore_index=True)  # row 200 repeats row 3's id
        got, reports = skd.kpi_panel(dd.from_pandas(frame, npartitions=4),
                                     period=data.period)
        issues = reports["tickets"].issues
        assert [(i.row, i.code, i.value) for i in issues] == [
            (200, "unique", frame.loc[3, "ticket_id"])]
        assert_same(got, kpi_panel(TicketTable.from_frame(frame)[0], period=data.period))


class TestWholeGroups:
    def test_partitions_that_hold_whole_groups_need_no_shuffle(self) -> None:
        data = synth.month(seed=14, tickets=900, agents=12, stations=3)
        assert data.period is not None
        frame = frame_of(data.tickets).sort_values("station_id", ignore_index=True)
        parts = [dd.from_pandas(group, npartitions=1)
                 for _, group in frame.groupby("station_id", sort=True)]
        by_station = dd.concat(parts)
        got, reports = skd.kpi_panel(by_station, period=data.period,
                                     by=("station", "agent"), whole_groups=True)
        assert reports["tickets"].ok
        want = kpi_panel(TicketTable.from_frame(frame)[0], period=data.period,
                         by=("station", "agent"))
        assert_same(got, want)

    def test_a_group_split_over_partitions_is_refused(self) -> None:
        data = synth.month(seed=14, tickets=300, agents=4, stations=1)
        assert data.period is not None
        with pytest.raises(InvalidChoiceError, match="stack\\(\\) needs whole groups"):
            skd.kpi_panel(dd.from_pandas(frame_of(data.tickets), npartitions=3),
                          period=data.period, whole_groups=True)
