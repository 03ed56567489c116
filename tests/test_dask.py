"""servicekpi.dask: the Dask panel equals the in-memory panel, on an in-process cluster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import attrs
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
    from test_metrics import Month, months
else:
    from tests import strategies as S
    from tests.test_metrics import Month, months
from servicekpi import (  # noqa: E402
    AgentTable,
    Policy,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    Dataset,
    KpiPanel,
    MonthlyEvaluation,
    OrderTable,
    Period,
    Ticket,
    TicketEventTable,
    TicketTable,
    evaluate,
    kpi_panel,
    synth,
)
from servicekpi.evaluation import _CODEC as CODEC  # noqa: E402
from servicekpi import dask as skd  # noqa: E402
from servicekpi.exceptions import (  # noqa: E402
    InvalidChoiceError,
    NaiveDatetimeError,
    SchemaError,
)

BYS = ["agent", "team", "station", "service_type", "channel", "customer_tier", "day", "week",
       "month", ("team", "day"), ("station", "service_type"), ("week", "agent")]


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[Any]:
    """An in-process LocalCluster: the tests' dask.compute calls run on it."""
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=":0") as local, \
            distributed.Client(local) as client:
        yield client


def frame_of(table: Any) -> pd.DataFrame:
    """The table's columns as a pandas frame; complaint flags as text ("media,safety"),
    as a file would hold them."""
    columns = table.to_columns()
    if "flags" in columns:
        columns["flags"] = [",".join(sorted(flag.value for flag in flags))
                            for flags in columns["flags"]]
    return pd.DataFrame(columns)


def dask_of(table: Any, partitions: int) -> Any:
    return dd.from_pandas(frame_of(table), npartitions=partitions)


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


AUX = ("callbacks", "complaints", "orders")


class TestOtherTables:
    """Callbacks, complaints and orders travel to their tickets' partitions."""

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(months(aux=True), st.integers(min_value=1, max_value=8), st.sampled_from(BYS))
    def test_any_data_any_partitions(self, month: Month, partitions: int, by: Any) -> None:
        tables = month.tables()
        want = kpi_panel(tables["tickets"], period=month.period, by=by, policy=month.policy,
                         **{name: tables[name] for name in AUX})
        got, reports = skd.kpi_panel(
            dask_of(tables["tickets"], partitions), period=month.period, by=by,
            policy=month.policy,
            **{name: dask_of(tables[name], partitions) for name in AUX})
        assert {name: (r.rows_in, r.rows_rejected) for name, r in reports.items()} == {
            name: (len(tables[name]), 0) for name in ("tickets", *AUX)}
        assert dict(got.unattributed) == dict(want.unattributed)
        assert_same(got, want)

    @pytest.mark.parametrize("by", ["agent", "team", ("station", "day"), "customer_tier"])
    def test_a_synthetic_month_with_every_table(self, by: Any) -> None:
        data = synth.month(seed=15, tickets=2_500, agents=12, stations=3)
        assert data.period is not None
        history = synth.events(data.tickets, seed=15)
        want = kpi_panel(data.tickets, period=data.period, by=by, callbacks=data.callbacks,
                         complaints=data.complaints, orders=data.orders, events=history)
        got, reports = skd.kpi_panel(
            dask_of(data.tickets, 5), period=data.period, by=by,
            callbacks=dask_of(data.callbacks, 3), complaints=dask_of(data.complaints, 2),
            orders=dask_of(data.orders, 4), events=dask_of(history, 6))
        assert sorted(reports) == ["callbacks", "complaints", "orders", "ticket_events",
                                   "tickets"]
        assert all(report.ok for report in reports.values())
        assert np.nansum(got["callback_completion_rate"]) > 0  # the test sees callbacks
        assert_same(got, want)

    def test_repeated_ids_are_rejected_across_partitions(self) -> None:
        data = synth.month(seed=16, tickets=400, agents=6, stations=2)
        assert data.period is not None
        frames = {"callbacks": frame_of(data.callbacks), "complaints": frame_of(data.complaints),
                  "orders": frame_of(data.orders)}
        for name, frame in frames.items():  # the last row repeats the first row's id
            frames[name] = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
        got, reports = skd.kpi_panel(
            dask_of(data.tickets, 3), period=data.period, by="team",
            **{name: dd.from_pandas(frame, npartitions=3) for name, frame in frames.items()})
        key = {"callbacks": "callback_id", "complaints": "complaint_id", "orders": "order_id"}
        for name, frame in frames.items():
            last = len(frame) - 1
            assert [(i.row, i.field, i.code, i.value) for i in reports[name].issues] == [
                (last, key[name], "unique", str(frame.loc[0, key[name]]))]
        callbacks = CallbackTable.from_frame(frames["callbacks"])[0]
        complaints = ComplaintTable.from_frame(frames["complaints"])[0]
        orders = OrderTable.from_frame(frames["orders"])[0]
        assert (len(callbacks), len(complaints), len(orders)) == (
            len(data.callbacks), len(data.complaints), len(data.orders))
        assert_same(got, kpi_panel(data.tickets, period=data.period, by="team",
                                   callbacks=callbacks, complaints=complaints, orders=orders))

    def test_links_to_rejected_or_unknown_tickets_count_as_in_memory(self) -> None:
        data = synth.month(seed=17, tickets=300, agents=6, stations=2)
        assert data.period is not None
        tickets = frame_of(data.tickets).astype({"channel": object})
        tickets.loc[[5, 120], "channel"] = "pigeon"  # rejected: their callbacks lose a link
        callbacks = frame_of(data.callbacks).astype({"subject_id": object})
        callbacks.loc[[0, 1], "subject_id"] = "T-unknown"
        got, reports = skd.kpi_panel(
            dd.from_pandas(tickets, npartitions=4), period=data.period, by="team",
            callbacks=dd.from_pandas(callbacks, npartitions=2))
        assert [(i.row, i.code) for i in reports["tickets"].issues] == [
            (5, "unknown_choice"), (120, "unknown_choice")]
        want = kpi_panel(TicketTable.from_frame(tickets)[0], period=data.period, by="team",
                         callbacks=CallbackTable.from_frame(callbacks)[0])
        assert want.unattributed["callbacks"] > 0
        assert dict(got.unattributed) == dict(want.unattributed)
        assert_same(got, want)

    def test_whole_groups_refuses_tables_that_need_a_shuffle(self) -> None:
        data = synth.month(seed=14, tickets=100, agents=4, stations=1)
        assert data.period is not None
        with pytest.raises(InvalidChoiceError, match="^'callbacks', 'orders' with "
                                                     "whole_groups=True: other tables are "
                                                     "partitioned with their tickets by a "
                                                     "shuffle$"):
            skd.kpi_panel(dask_of(data.tickets, 2), period=data.period, whole_groups=True,
                          callbacks=dask_of(data.callbacks, 1),
                          orders=dask_of(data.orders, 1))

    def test_other_tables_must_be_dask_frames(self) -> None:
        data = synth.month(seed=14, tickets=50, agents=2, stations=1)
        assert data.period is not None
        with pytest.raises(TypeError, match="^'orders' must be a dask DataFrame "
                                            "\\(got DataFrame\\)$"):
            skd.kpi_panel(dask_of(data.tickets, 1), period=data.period,
                          orders=frame_of(data.orders))


# --------------------------------------------------------------------------- evaluate

FRAMES = ("tickets", "customers", "callbacks", "complaints", "orders")


def in_memory(frames: dict[str, pd.DataFrame], data: Dataset,
              events: pd.DataFrame | None = None) -> Dataset:
    """The Dataset that servicekpi.evaluate gets from the same frames."""
    return Dataset(tickets=TicketTable.from_frame(frames["tickets"])[0],
                   customers=CustomerTable.from_frame(frames["customers"])[0],
                   callbacks=CallbackTable.from_frame(frames["callbacks"])[0],
                   complaints=ComplaintTable.from_frame(frames["complaints"])[0],
                   orders=OrderTable.from_frame(frames["orders"])[0],
                   agents=data.agents, ratings=data.ratings,
                   appraisals=data.appraisals, trainings=data.trainings,
                   events=None if events is None else TicketEventTable.from_frame(events)[0])


def assert_same_evaluation(got: MonthlyEvaluation, want: MonthlyEvaluation) -> None:
    """Every part equal; the plan row for row (its label codes may differ)."""
    assert_same(got.panel, want.panel)
    assert_same(got.team_panel, want.team_panel)
    for part in ("scorecard", "consequences", "complaints", "team", "loyalty", "policy",
                 "period", "now"):
        assert CODEC.to_document(getattr(got, part)) == CODEC.to_document(
            getattr(want, part)), part
    plan, whole = got.followups, want.followups
    assert (len(plan), plan.columns, plan.now, plan.tz) == (
        len(whole), whole.columns, whole.now, whole.tz)
    for name in whole.columns:
        assert plan[name].tolist() == whole[name].tolist(), name
    assert got.reconciliation.as_of == want.reconciliation.as_of
    assert np.array_equal(got.reconciliation.status_codes, want.reconciliation.status_codes)


def evaluate_both(data: Dataset, frames: dict[str, pd.DataFrame], partitions: int,
                  now: datetime | None = None, events: pd.DataFrame | None = None
                  ) -> tuple[MonthlyEvaluation, dict[str, Any], MonthlyEvaluation]:
    assert data.period is not None
    got, reports = skd.evaluate(
        dd.from_pandas(frames["tickets"], npartitions=partitions), period=data.period,
        agents=data.agents, ratings=data.ratings, appraisals=data.appraisals,
        trainings=data.trainings, now=now,
        events=None if events is None else dd.from_pandas(events, npartitions=partitions),
        **{name: dd.from_pandas(frames[name], npartitions=max(1, partitions - 1))
           for name in FRAMES[1:]})
    want = evaluate(in_memory(frames, data, events), period=data.period, now=now)
    return got, reports, want


class TestEvaluate:
    """The monthly evaluation on Dask equals the in-memory one, part for part."""

    @settings(max_examples=6, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=8),
           st.sampled_from([None, 10]))
    def test_any_month_any_partitions(self, seed: int, partitions: int,
                                      days_before_end: int | None) -> None:
        data = synth.month(seed=seed, tickets=400, agents=6, stations=2)
        assert data.period is not None
        now = None if days_before_end is None else \
            data.period.end - timedelta(days=days_before_end)
        frames = {name: frame_of(getattr(data, name)) for name in FRAMES}
        got, reports, want = evaluate_both(data, frames, partitions, now)
        assert all(report.ok for report in reports.values())
        assert_same_evaluation(got, want)

    def test_with_events_and_bad_rows(self) -> None:
        data = synth.month(seed=21, tickets=1_200, agents=10, stations=3)
        frames = {name: frame_of(getattr(data, name)) for name in FRAMES}
        tickets = frames["tickets"].astype({"channel": object, "customer_id": object})
        tickets.loc[[3, 700], "channel"] = "pigeon"            # rejected tickets
        tickets.loc[[10, 11], "customer_id"] = "C-nobody"      # an unknown customer
        frames["tickets"] = pd.concat([tickets, tickets.iloc[[5]]], ignore_index=True)
        callbacks = frames["callbacks"].astype({"subject_id": object})
        callbacks.loc[[0, 1], "subject_id"] = "T-unknown"
        frames["callbacks"] = callbacks
        events = frame_of(synth.events(data.tickets, seed=21))
        got, reports, want = evaluate_both(data, frames, 5, events=events)
        assert [(i.row, i.code) for i in reports["tickets"].issues] == [
            (3, "unknown_choice"), (700, "unknown_choice"), (1_200, "unique")]
        assert want.loyalty.report.issues and want.scorecard.report.rows_in
        assert_same_evaluation(got, want)

    def test_another_policy(self) -> None:
        """The policy reaches every pass: thresholds, penalties, loyalty, report date."""
        data = synth.month(seed=24, tickets=600, agents=6, stations=2)
        assert data.period is not None
        default = Policy.default()
        policy = default.replace(
            satisfied_threshold=3.0,
            loyalty=attrs.evolve(default.loyalty, loyal_min_visits=2, lost_max_visits=1),
            escalation=attrs.evolve(default.escalation, enforce_penalties=False,
                                    repeat_penalty=0.7))
        frames = {name: frame_of(getattr(data, name)) for name in FRAMES}
        now = data.period.end - timedelta(days=3)
        got, _ = skd.evaluate(dd.from_pandas(frames["tickets"], npartitions=3),
                              period=data.period, agents=data.agents, ratings=data.ratings,
                              appraisals=data.appraisals, trainings=data.trainings,
                              policy=policy, now=now,
                              **{name: dd.from_pandas(frames[name], npartitions=2)
                                 for name in FRAMES[1:]})
        want = evaluate(in_memory(frames, data), period=data.period, policy=policy, now=now)
        assert want.complaints.special_period
        assert_same_evaluation(got, want)

    def test_missing_tables_count_as_empty(self) -> None:
        """As a Dataset holds empty tables where none are given."""
        data = synth.month(seed=23, tickets=300, agents=4, stations=1)
        assert data.period is not None
        got, reports = skd.evaluate(dask_of(data.tickets, 3), period=data.period,
                                    agents=data.agents)
        assert {name: r.rows_in for name, r in reports.items()} == {
            "tickets": 300, "callbacks": 0, "complaints": 0, "orders": 0, "customers": 0}
        want = evaluate(Dataset(tickets=data.tickets, agents=data.agents), period=data.period)
        assert len(want.followups) and want.loyalty.report.issues  # customers unknown
        assert_same_evaluation(got, want)

    def test_errors(self) -> None:
        data = synth.month(seed=22, tickets=50, agents=2, stations=1)
        assert data.period is not None
        tickets = dask_of(data.tickets, 1)
        with pytest.raises(SchemaError, match="^scoring needs the roster: dataset.agents is "
                                              "empty"):
            skd.evaluate(tickets, period=data.period, agents=AgentTable.from_records([]))
        with pytest.raises(TypeError, match="^'agents' must be an AgentTable \\(got list\\)$"):
            skd.evaluate(tickets, period=data.period, agents=[])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="^'customers' must be a dask DataFrame"):
            skd.evaluate(tickets, period=data.period, agents=data.agents,
                         customers=frame_of(data.customers))
        with pytest.raises(NaiveDatetimeError, match="^'now' must be a timezone-aware"):
            skd.evaluate(tickets, period=data.period, agents=data.agents,
                         now=datetime(2026, 10, 31))
