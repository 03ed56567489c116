"""Tests of servicekpi.scoring.team: team targets against actuals, and loyalty classes.

A hand-built March (and its first quarter) with every expected number written out,
pro-rating by period length, "no data" rows, unknown training kinds and unknown
customers reported, loyalty thresholds and window edges, and properties: loyalty does
not depend on ticket row order, visits equal a naive per-customer count, revenue is
the exact decimal sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from dateutil import tz as dateutil_tz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekpi import synth
from servicekpi.calendar import WorkCalendar
from servicekpi.dataset import Dataset
from servicekpi.domain import (
    Channel,
    Customer,
    Direction,
    Loyalty,
    Period,
    ServiceType,
    Ticket,
    Training,
)
from servicekpi.evaluation import _CODEC
from servicekpi.exceptions import UnknownKeyError
from servicekpi.metrics import kpi_panel
from servicekpi.policy import LoyaltyPolicy, Policy, TeamTargets
from servicekpi.scoring.team import (
    ATTAINMENT_CAP,
    LoyaltyTable,
    TargetRow,
    TeamReport,
    loyalty_classes,
    team_targets,
)
from servicekpi.tables import CustomerTable, TicketTable

if TYPE_CHECKING:
    import strategies as S
else:
    from tests import strategies as S

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

CST = dateutil_tz.gettz("Asia/Shanghai")
MARCH = Period.month(2026, 3, tz="Asia/Shanghai")  # 22 weekdays
Q1 = Period.quarter(2026, 1, tz="Asia/Shanghai")  # 22 + 20 + 22 = 64 weekdays
YEAR = Period.whole_year(2026, tz="Asia/Shanghai")
REPAIR, CLAIM = ServiceType.REPAIR, ServiceType.WARRANTY_CLAIM
MAINTENANCE, CONSULT = ServiceType.MAINTENANCE, ServiceType.CONSULTATION


def at(month: int, day: int, hour: int = 10, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CST)


def ticket(number: int, service: ServiceType, opened: datetime, customer: str = "C-1",
           **fields: Any) -> Ticket:
    return Ticket(ticket_id=f"T-{number}", agent_id="A-1", customer_id=customer,
                  station_id="S-1", service_type=service, channel=Channel.PHONE,
                  opened_at=opened, **fields)


def money(text: str) -> Decimal:
    return Decimal(text)


HAND_TICKETS = [
    ticket(1, REPAIR, at(3, 2), resolved_at=at(3, 3), satisfaction=5.0,
           revenue=money("800.10")),
    ticket(2, REPAIR, at(3, 3), resolved_at=at(3, 4), rework=True, satisfaction=3.0,
           revenue=money("1200.25")),
    ticket(3, REPAIR, at(3, 4), "C-2", resolved_at=at(3, 5), insurance=True,
           satisfaction=4.0, revenue=money("1999.99")),
    ticket(4, CLAIM, at(3, 5), "C-2", resolved_at=at(3, 6), claim_approved=True,
           revenue=money("0.01")),
    ticket(5, CLAIM, at(3, 6), "C-3", resolved_at=at(3, 9)),  # rejected, no revenue
    ticket(6, CLAIM, at(3, 9), "C-3"),  # unresolved: not judged yet
    ticket(7, MAINTENANCE, at(3, 10), "C-4", satisfaction=4.5, revenue=money("300.00")),
    ticket(8, CONSULT, at(3, 11), "C-4", satisfaction=2.0),
    # Opened in March, resolved in April: not in the rework denominator.
    ticket(11, REPAIR, at(3, 31, 23), resolved_at=at(4, 1, 9), revenue=money("500.00")),
    # February (in Q1, not in March) and April (in neither).
    ticket(9, REPAIR, at(2, 27), "C-5", resolved_at=at(2, 27, 12), rework=True,
           revenue=money("999.99")),
    ticket(10, REPAIR, at(4, 1, 0), "C-6", revenue=money("1.00")),
]

TRAININGS = (
    Training(kind="front_desk", held_at=at(1, 15), training_id="TR-1"),
    Training(kind="front_desk", held_at=at(3, 20), training_id="TR-2"),
    Training(kind="workshop", held_at=at(2, 10), training_id="TR-3"),
    Training(kind="workshop", held_at=at(12, 20, year=2025), training_id="TR-4"),  # last year
    Training(kind="workshop", held_at=at(4, 2), training_id="TR-5"),  # after March
    Training(kind="yoga", held_at=at(3, 3), training_id="TR-6"),  # not a policy kind
)


def hand_data(tickets: Sequence[Ticket] = HAND_TICKETS,
              trainings: Sequence[Training] = TRAININGS) -> Dataset:
    return Dataset(tickets=TicketTable.from_records(tickets), trainings=trainings)


def hand_report(period: Period = MARCH, **kwargs: Any) -> TeamReport:
    return team_targets(hand_data(**kwargs), period=period)


def synthetic(seed: int, tickets: int, stations: int) -> tuple[Dataset, Period]:
    data = synth.month(seed=seed, tickets=tickets, agents=8, stations=stations)
    assert data.period is not None
    return data, data.period


def round_trip(report: TeamReport) -> TeamReport:
    back = _CODEC.loads(_CODEC.dumps(report))
    assert isinstance(back, TeamReport)
    return back


class TestHandMonth:
    """March 2026 of eleven tickets, every number computed by hand."""

    def test_actuals(self) -> None:
        report = hand_report()
        expected = {
            # 800.10 + 1200.25 + 1999.99 + 0.01 + 300.00 + 500.00 (T-9, T-10 outside)
            "revenue": 4800.35,
            "insurance_revenue": 1999.99,  # T-3
            "repair_and_claims_revenue": 2500.36,  # T-1, T-2, T-4, T-11
            "csi_rate": 3 / 5,  # 5, 4, 4.5 of 5, 3, 4, 4.5, 2
            "rework_rate": 1 / 3,  # T-2 of T-1, T-2, T-3 (T-11 resolved in April)
            "warranty_approval_rate": 1 / 2,  # T-4 of T-4, T-5 (T-6 unresolved)
            "intake_per_month": 9.0,
            "intake_per_day": 9 / 22,
            "revenue_per_repair": 833.45,  # (800.10 + 1200.25 + 500.00) / 3
            "revenue_per_insurance_job": 1999.99,
            "base_customers": 5.0,  # C-1..C-5 (C-6 only in April)
            "trainings.front_desk": 2.0,  # January and March
            "trainings.technical_basics": 0.0,
            "trainings.workshop": 1.0,  # February; not December 2025, not April
            "trainings.hard_case_reviews": 0.0,
            "trainings.team_activities": 0.0,
        }
        assert expected == {row.name: row.actual for row in report.rows}

    def test_targets_of_a_month(self) -> None:
        report = hand_report()
        expected = {
            "revenue": 6_000_000 / 12, "insurance_revenue": 2_200_000 / 12,
            "repair_and_claims_revenue": 3_800_000 / 12, "csi_rate": 0.93,
            "rework_rate": 0.02, "warranty_approval_rate": 0.95, "intake_per_month": 650.0,
            "intake_per_day": 20.0, "revenue_per_repair": 800.0,
            "revenue_per_insurance_job": 1800.0, "base_customers": 1500.0,
            # year to date: January to March, 3 of 12 months
            "trainings.front_desk": 1.0, "trainings.technical_basics": 0.5,
            "trainings.workshop": 1.5, "trainings.hard_case_reviews": 0.75,
            "trainings.team_activities": 0.75,
        }
        assert expected == {row.name: row.target for row in report.rows}

    def test_attainment_and_met(self) -> None:
        report = hand_report()
        rework = report.row("rework_rate")
        assert (Direction.LOWER, 0.02 / (1 / 3), False) == (rework.direction,
                                                             rework.attainment, rework.met)
        revenue = report.row("revenue")
        assert (Direction.HIGHER, 4800.35 / 500_000, False) == (
            revenue.direction, revenue.attainment, revenue.met)
        front_desk = report.row("trainings.front_desk")
        assert (2.0, True) == (front_desk.attainment, front_desk.met)
        per_repair = report.row("revenue_per_repair")
        assert (833.45 / 800, True) == (per_repair.attainment, per_repair.met)

    def test_bases_explain_the_numbers(self) -> None:
        report = hand_report()
        assert ("3 ratings >= 4 / 5 rated tickets opened in 2026-03; target not "
                "pro-rated.") == report.row("csi_rate").basis
        assert ("9 tickets opened in 2026-03 / 22 working days of the policy calendar; "
                "target not pro-rated.") == report.row("intake_per_day").basis
        assert ("distinct customers with a ticket opened in the 365 days before "
                "2026-04-01, counting only the tickets in the data (earliest ticket "
                "opened 2026-02-27); target not pro-rated.") == \
            report.row("base_customers").basis
        assert "yearly target × 1/12" in report.row("revenue").basis

    def test_text_table(self) -> None:
        expected = """\
team targets 2026-03 (Asia/Shanghai)
name                             target    actual  attainment  met
revenue                      500,000.00  4,800.35       1.0 %   ✗
insurance_revenue            183,333.33  1,999.99       1.1 %   ✗
repair_and_claims_revenue    316,666.67  2,500.36       0.8 %   ✗
csi_rate                        93.00 %   60.00 %      64.5 %   ✗
rework_rate                      2.00 %   33.33 %       6.0 %   ✗
warranty_approval_rate          95.00 %   50.00 %      52.6 %   ✗
intake_per_month                    650         9       1.4 %   ✗
intake_per_day                       20      0.41       2.0 %   ✗
revenue_per_repair               800.00    833.45     104.2 %   ✓
revenue_per_insurance_job      1,800.00  1,999.99     111.1 %   ✓
base_customers                    1,500         5       0.3 %   ✗
trainings.front_desk                  1         2     200.0 %   ✓
trainings.technical_basics         0.50         0       0.0 %   ✗
trainings.workshop                 1.50         1      66.7 %   ✗
trainings.hard_case_reviews        0.75         0       0.0 %   ✗
trainings.team_activities          0.75         0       0.0 %   ✗
trainings: 6 rows in, 5 valid, 1 rejected
  row 5 (TR-6): kind='yoga': a training kind of policy.team.trainings_per_year \
(front_desk, technical_basics, workshop, hard_case_reviews, team_activities) [unknown_kind]"""
        assert expected == str(hand_report())

    def test_agrees_with_the_kpi_panel(self) -> None:
        data, period = synthetic(3, 3_000, 2)
        report = team_targets(data, period=period)
        panel = kpi_panel(data.tickets, period=period, by="station")
        for row, kpi in (("csi_rate", "csi_rate"), ("rework_rate", "rework_rate"),
                         ("warranty_approval_rate", "warranty_claim_approval_rate")):
            expected = panel.numerator(kpi).sum() / panel.denominator(kpi).sum()
            assert expected == report.row(row).actual
        cents = round(panel.numerator("revenue_per_ticket").sum() * 100)
        assert cents / 100 == report.row("revenue").actual


class TestProRating:
    """Yearly flows scale with the months of the period; rates and stocks do not."""

    @pytest.mark.parametrize(("period", "months"), [(MARCH, 1), (Q1, 3), (YEAR, 12)])
    def test_flows_scale_by_months(self, period: Period, months: int) -> None:
        report = hand_report(period)
        assert (6_000_000 * months / 12, 2_200_000 * months / 12,
                3_800_000 * months / 12, 650.0 * months) == (
            report.row("revenue").target, report.row("insurance_revenue").target,
            report.row("repair_and_claims_revenue").target,
            report.row("intake_per_month").target)

    @pytest.mark.parametrize("period", [MARCH, Q1, YEAR])
    def test_rates_and_stocks_do_not(self, period: Period) -> None:
        report = hand_report(period)
        assert (0.93, 0.02, 0.95, 20.0, 800.0, 1800.0, 1500.0) == tuple(
            report.row(name).target for name in (
                "csi_rate", "rework_rate", "warranty_approval_rate", "intake_per_day",
                "revenue_per_repair", "revenue_per_insurance_job", "base_customers"))

    def test_quarter_actuals(self) -> None:
        report = hand_report(Q1)
        # February's T-9 joins: 999.99 more, one more ticket, one more repair (a rework).
        assert (5800.34, 3500.35, 10.0, 10 / 64, 2 / 4) == (
            report.row("revenue").actual, report.row("repair_and_claims_revenue").actual,
            report.row("intake_per_month").actual, report.row("intake_per_day").actual,
            report.row("rework_rate").actual)

    @pytest.mark.parametrize(("period", "elapsed"), [
        (Period.month(2026, 1, tz="Asia/Shanghai"), 1), (MARCH, 3), (Q1, 3),
        (Period.quarter(2026, 2, tz="Asia/Shanghai"), 6),
        (Period.month(2026, 10, tz="Asia/Shanghai"), 10), (YEAR, 12)])
    def test_trainings_are_year_to_date(self, period: Period, elapsed: int) -> None:
        report = hand_report(period)
        assert (6 * elapsed / 12, 4 * elapsed / 12) == (
            report.row("trainings.workshop").target,
            report.row("trainings.front_desk").target)
        assert f"yearly target × {elapsed}/12" in report.row("trainings.workshop").basis

    def test_year_to_date_counts_from_january_first(self) -> None:
        # Q2 (April to June) counts January to June: both front-desk trainings, and
        # the February and April workshops.
        report = hand_report(Period.quarter(2026, 2, tz="Asia/Shanghai"))
        assert (2.0, 2.0) == (report.row("trainings.front_desk").actual,
                              report.row("trainings.workshop").actual)


class TestNoData:
    """Rows without data have NaN actual and attainment, ``met`` None, and say so."""

    def test_no_warranty_claims_and_no_ratings(self) -> None:
        tickets = [ticket(1, REPAIR, at(3, 2), resolved_at=at(3, 3),
                          revenue=money("10.00"))]
        report = hand_report(tickets=tickets)
        for name in ("warranty_approval_rate", "csi_rate", "revenue_per_insurance_job"):
            row = report.row(name)
            assert (True, True, None, True) == (math.isnan(row.actual),
                                                math.isnan(row.attainment), row.met,
                                                row.basis.startswith("no data: "))
        # Revenue is recorded, so an insurance revenue of 0 is a fact, not a gap.
        assert (0.0, False) == (report.row("insurance_revenue").actual,
                                report.row("insurance_revenue").met)

    def test_no_ticket_in_the_period(self) -> None:
        report = hand_report(Period.month(2026, 6, tz="Asia/Shanghai"))
        empty = [row.name for row in report.rows if row.met is None]
        assert ["revenue", "insurance_revenue", "repair_and_claims_revenue", "csi_rate",
                "rework_rate", "warranty_approval_rate", "intake_per_month",
                "intake_per_day", "revenue_per_repair", "revenue_per_insurance_job"] == empty
        # The window of base customers still reaches back to March.
        assert 6.0 == report.row("base_customers").actual

    def test_no_revenue_recorded(self) -> None:
        tickets = [ticket(1, REPAIR, at(3, 2), resolved_at=at(3, 3))]
        report = hand_report(tickets=tickets)
        row = report.row("revenue")
        assert (True, None) == (math.isnan(row.actual), row.met)
        assert "(no ticket records revenue)" in row.basis

    def test_no_training_records(self) -> None:
        report = hand_report(trainings=())
        row = report.row("trainings.workshop")
        assert (True, None, 1.5) == (math.isnan(row.actual), row.met, row.target)
        assert row.basis.startswith("no data: no training records; ")

    def test_no_working_day(self) -> None:
        policy = Policy(calendar=WorkCalendar(
            holidays=[f"2026-03-{d:02d}" for d in range(1, 32)]))
        report = team_targets(hand_data(), period=MARCH, policy=policy)
        assert None is report.row("intake_per_day").met

    def test_nothing_at_all(self) -> None:
        report = team_targets(hand_data(tickets=[], trainings=()), period=MARCH)
        assert [None] * len(report.rows) == [row.met for row in report.rows]
        assert ("no data: distinct customers with a ticket opened in the 365 days before "
                "2026-04-01, counting only the tickets in the data (no ticket at all); "
                "target not pro-rated.") == report.row("base_customers").basis
        assert "–" in str(report)


class TestAttainment:
    """Higher is better: actual / target; lower is better: target / actual, capped."""

    @staticmethod
    def rework_report(reworks: int, repairs: int) -> TeamReport:
        tickets = [ticket(i, REPAIR, at(3, 2), resolved_at=at(3, 3), rework=i < reworks)
                   for i in range(repairs)]
        return hand_report(tickets=tickets)

    @pytest.mark.parametrize(("reworks", "repairs", "attainment", "met"), [
        (0, 50, ATTAINMENT_CAP, True),  # target / 0: the cap
        (1, 500, ATTAINMENT_CAP, True),  # 0.2 %: exactly ten times better
        (1, 1000, ATTAINMENT_CAP, True),  # 0.1 %: capped, like 0
        (1, 100, 2.0, True),  # 1 %
        (1, 50, 1.0, False),  # 2 % is not below 2 %
        (2, 50, 0.5, False),  # 4 %
    ])
    def test_rework(self, reworks: int, repairs: int, attainment: float,
                    met: bool) -> None:
        row = self.rework_report(reworks, repairs).row("rework_rate")
        assert (attainment, met) == (row.attainment, row.met)

    def test_target_zero_has_no_attainment(self) -> None:
        policy = Policy(team=TeamTargets(revenue=0.0, rework_rate_max=0.0))
        report = team_targets(hand_data(), period=MARCH, policy=policy)
        revenue, rework = report.row("revenue"), report.row("rework_rate")
        assert (True, True, True, False) == (math.isnan(revenue.attainment), revenue.met,
                                             math.isnan(rework.attainment), rework.met)

    def test_exactly_on_target_is_met(self) -> None:
        policy = Policy(team=TeamTargets(intake_per_month=9))
        row = team_targets(hand_data(), period=MARCH, policy=policy).row("intake_per_month")
        assert (True, 1.0) == (row.met, row.attainment)


class TestTrainings:
    """Trainings of kinds the policy does not name are reported, never dropped."""

    def test_unknown_kind_is_reported(self) -> None:
        validation = hand_report().validation
        assert ("trainings", 6, 5, ["unknown_kind"]) == (
            validation.table, validation.rows_in, validation.rows_valid,
            [i.code for i in validation.issues])
        issue = validation.issues[0]
        assert (5, "TR-6", "kind", "yoga") == (issue.row, issue.key, issue.field,
                                               issue.value)

    def test_a_policy_kind_makes_it_count(self) -> None:
        policy = Policy(team=TeamTargets(trainings_per_year={"yoga": 12}))
        report = team_targets(hand_data(), period=MARCH, policy=policy)
        assert (("trainings.yoga", 3.0, 1.0), 5) == (
            (report.rows[-1].name, report.rows[-1].target, report.rows[-1].actual),
            len(report.validation.issues))


class TestReportApi:
    """Look-up, records, plain data and equality."""

    def test_unknown_row(self) -> None:
        with pytest.raises(UnknownKeyError, match=r"unknown team target 'revenu'\. Did you "
                                                  r"mean 'revenue'\?"):
            hand_report().row("revenu")

    def test_records(self) -> None:
        records = hand_report().to_records()
        assert {"name": "rework_rate", "target": 0.02, "actual": 1 / 3,
                "attainment": 0.02 / (1 / 3), "direction": "lower", "met": False,
                "unit": "share"} == {k: v for k, v in records[4].items() if k != "basis"}

    @pytest.mark.parametrize("report", [
        hand_report(), hand_report(Q1), hand_report(Period.month(2026, 6, tz="UTC")),
        team_targets(hand_data(tickets=[], trainings=()), period=MARCH)],
        ids=["march", "q1", "june-no-data", "empty"])
    def test_plain_data_round_trips(self, report: TeamReport) -> None:
        back = round_trip(report)
        assert (report, _CODEC.dumps(report)) == (back, _CODEC.dumps(back))

    def test_nan_survives_json(self) -> None:
        back = round_trip(hand_report(Period.month(2026, 6, tz="UTC")))
        row = back.rows[0]
        assert (True, True, None) == (math.isnan(row.actual), math.isnan(row.attainment),
                                      row.met)

    def test_rows_with_nan_compare_equal(self) -> None:
        row = TargetRow(name="x", target=1.0, actual=math.nan, attainment=math.nan,
                        direction="higher", met=None, unit="share", basis="no data")
        other = TargetRow(name="x", target=1.0, actual=float("nan"),
                          attainment=float("nan"), direction=Direction.HIGHER, met=None,
                          unit="share", basis="no data")
        assert (True, hash(row)) == (row == other, hash(other))
        assert row != TargetRow(name="x", target=1.0, actual=0.0, attainment=0.0,
                                direction="higher", met=False, unit="share", basis="")

    def test_immutable(self) -> None:
        report = hand_report()
        with pytest.raises(AttributeError):
            report.rows = ()  # type: ignore[misc]

    def test_wrong_types(self) -> None:
        with pytest.raises(TypeError, match=r"'period' must be a Period \(got '2026-03'\)"):
            team_targets(hand_data(), period="2026-03")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"'dataset' must be a Dataset \(got list\)"):
            team_targets([], period=MARCH)  # type: ignore[arg-type]

    def test_synthetic_month_round_trips(self) -> None:
        data, period = synthetic(1, 1_000, 1)
        report = team_targets(data, period=period)
        assert report == round_trip(report)


# --------------------------------------------------------------------------- loyalty


END = MARCH.end  # 2026-04-01T00:00+08:00
YEAR_BEFORE = END - timedelta(days=365)  # 2025-04-01T00:00+08:00


def visits_tickets(visits: dict[str, int], when: datetime = at(3, 2)) -> list[Ticket]:
    out: list[Ticket] = []
    for customer, count in visits.items():
        for _ in range(count):
            out.append(ticket(len(out) + 1, REPAIR, when, customer))
    return out


def customer_table(*ids: str, loyalty: Loyalty = Loyalty.ORDINARY) -> CustomerTable:
    return CustomerTable.from_records([Customer(customer_id=i, loyalty=loyalty) for i in ids])


def classes_of(visits: dict[str, int], policy: Policy | None = None) -> LoyaltyTable:
    return loyalty_classes(TicketTable.from_records(visits_tickets(visits)),
                           customer_table(*visits), period=MARCH, policy=policy)


class TestLoyaltyThresholds:
    """At least loyal_min_visits is LOYAL, at most lost_max_visits LOST, else ORDINARY."""

    @pytest.mark.parametrize(("visits", "expected"), [
        (0, Loyalty.LOST), (1, Loyalty.ORDINARY), (2, Loyalty.ORDINARY),
        (3, Loyalty.LOYAL), (4, Loyalty.LOYAL)])
    def test_defaults(self, visits: int, expected: Loyalty) -> None:
        assert expected == classes_of({"C-1": visits}).class_of("C-1")

    @pytest.mark.parametrize(("visits", "expected"), [
        (0, Loyalty.LOST), (1, Loyalty.LOST), (2, Loyalty.ORDINARY),
        (4, Loyalty.ORDINARY), (5, Loyalty.LOYAL)])
    def test_policy_thresholds(self, visits: int, expected: Loyalty) -> None:
        policy = Policy(loyalty=LoyaltyPolicy(loyal_min_visits=5, lost_max_visits=1))
        assert expected == classes_of({"C-1": visits}, policy).class_of("C-1")

    @pytest.mark.parametrize(("opened", "counted"), [
        (YEAR_BEFORE, True),  # the window's first instant
        (YEAR_BEFORE - timedelta(seconds=1), False),
        (END - timedelta(seconds=1), True),
        (END, False),  # the period end is outside
    ])
    def test_window_edges(self, opened: datetime, counted: bool) -> None:
        tickets = TicketTable.from_records([ticket(1, REPAIR, opened, "C-1")])
        table = loyalty_classes(tickets, customer_table("C-1"), period=MARCH)
        assert int(counted) == int(table.visits[0])

    def test_window_days_from_policy(self) -> None:
        tickets = TicketTable.from_records([ticket(1, REPAIR, at(3, 1, 0), "C-1")])
        policy = Policy(loyalty=LoyaltyPolicy(window_days=31))
        table = loyalty_classes(tickets, customer_table("C-1"), period=MARCH, policy=policy)
        shorter = Policy(loyalty=LoyaltyPolicy(window_days=30))
        other = loyalty_classes(tickets, customer_table("C-1"), period=MARCH, policy=shorter)
        assert (1, 0) == (int(table.visits[0]), int(other.visits[0]))


class TestLoyaltyTable:
    """Classes, previous classes, changes, unknown customers and plain data."""

    def table(self) -> LoyaltyTable:
        tickets = visits_tickets({"C-1": 3, "C-2": 1, "C-9": 2})
        tickets.append(ticket(100, REPAIR, at(3, 2, year=2024), "C-9"))  # outside window
        tickets.append(ticket(101, REPAIR, at(3, 5), "C-8"))
        customers = CustomerTable.from_records([
            Customer(customer_id="C-3", loyalty=Loyalty.LOYAL),
            Customer(customer_id="C-1", loyalty=Loyalty.LOYAL),
            Customer(customer_id="C-2", loyalty=Loyalty.LOST),
        ])
        return loyalty_classes(TicketTable.from_records(tickets), customers, period=MARCH)

    def test_classes(self) -> None:
        table = self.table()
        # Row order of the customers table (C-3 first), not label order.
        assert (("C-3", "C-1", "C-2"), [0, 3, 1]) == (table.customer_ids,
                                                      table.visits.tolist())
        assert ({Loyalty.LOYAL: 1, Loyalty.ORDINARY: 1, Loyalty.LOST: 1},
                ("C-1",), ("C-2",), ("C-3",)) == (
            table.counts(), table.ids(Loyalty.LOYAL), table.ids("ordinary"),
            table.ids(Loyalty.LOST))

    def test_previous_and_changed(self) -> None:
        table = self.table()
        assert ([0, 0, 2], [2, 0, 1], ("C-3", "C-2")) == (
            table.previous.tolist(), table.classes.tolist(), table.changed())

    def test_unknown_customers_are_reported(self) -> None:
        report = self.table().report
        assert ("tickets", 7, 4) == (report.table, report.rows_in, report.rows_valid)
        assert [(4, "T-5", "C-9", "unknown_customer",
                 "a customer of the customers table (2 tickets in the window)"),
                (7, "T-101", "C-8", "unknown_customer",
                 "a customer of the customers table (1 ticket in the window)")] == [
            (i.row, i.key, i.value, i.code, i.rule) for i in report.issues]

    def test_repr(self) -> None:
        assert ("<LoyaltyTable 2026-03: 3 customers (loyal 1, ordinary 1, lost 1), "
                "2 changed, 2 unknown customers>") == repr(self.table())

    def test_unknown_customer_lookup(self) -> None:
        with pytest.raises(UnknownKeyError, match=r"unknown customer 'C-4'"):
            self.table().class_of("C-4")

    def test_plain_data_round_trips(self) -> None:
        table = self.table()
        back = _CODEC.loads(_CODEC.dumps(table))
        assert (table, len(table)) == (back, len(back))

    def test_arrays_are_read_only(self) -> None:
        with pytest.raises(ValueError, match="read-only"):
            self.table().visits[0] = 7

    def test_no_customers(self) -> None:
        tickets = TicketTable.from_records(visits_tickets({"C-1": 2}))
        table = loyalty_classes(tickets, CustomerTable.from_records([]), period=MARCH)
        assert (0, 2, 0) == (len(table), table.report.rows_in, table.report.rows_valid)

    def test_synthetic_month(self) -> None:
        data, period = synthetic(1, 1_000, 1)
        table = loyalty_classes(data.tickets, data.customers, period=period)
        naive = np.bincount(data.customers.codes_of(
            "customer_id", data.tickets.decode("customer_id").tolist()),
            minlength=len(data.customers))
        order = data.customers["customer_id"]
        assert (True, naive[order].tolist()) == (table.report.ok, table.visits.tolist())


# --------------------------------------------------------------------------- properties

CUSTOMER_IDS = [f"C-{i}" for i in range(1, 7)]
_opened = S.aware_datetimes(2025, 2026)
_tickets = st.lists(S.tickets(customer_ids=st.sampled_from(CUSTOMER_IDS), datetimes=_opened),
                    max_size=40, unique_by=lambda t: t.ticket_id)
_known = st.lists(st.sampled_from(CUSTOMER_IDS[:4]), unique=True)


def naive_visits(tickets: Sequence[Ticket], customer: str, period: Period,
                 days: int) -> int:
    start = period.end - timedelta(days=days)
    return sum(1 for t in tickets if t.customer_id == customer
               and start <= t.opened_at < period.end)


class TestProperties:
    """Loyalty ignores ticket order and counts like a loop; revenue is the exact sum."""

    @PROPERTY
    @given(tickets=_tickets, known=_known, data=st.data())
    def test_loyalty_does_not_depend_on_order(self, tickets: list[Ticket], known: list[str],
                                              data: st.DataObject) -> None:
        shuffled = data.draw(st.permutations(tickets))
        customers = customer_table(*known)
        a = loyalty_classes(TicketTable.from_records(tickets), customers, period=MARCH)
        b = loyalty_classes(TicketTable.from_records(shuffled), customers, period=MARCH)
        assert (a.customer_ids, a.visits.tolist(), a.classes.tolist(),
                sorted(i.value for i in a.report.issues), a.report.rows_valid) == (
            b.customer_ids, b.visits.tolist(), b.classes.tolist(),
            sorted(i.value for i in b.report.issues), b.report.rows_valid)

    @PROPERTY
    @given(tickets=_tickets, known=_known, days=st.integers(1, 800),
           loyal=st.integers(1, 6))
    def test_visits_equal_a_naive_count(self, tickets: list[Ticket], known: list[str],
                                        days: int, loyal: int) -> None:
        policy = Policy(loyalty=LoyaltyPolicy(window_days=days, loyal_min_visits=loyal,
                                              lost_max_visits=loyal - 1))
        table = loyalty_classes(TicketTable.from_records(tickets), customer_table(*known),
                                period=MARCH, policy=policy)
        expected = [naive_visits(tickets, c, MARCH, days) for c in known]
        classes = [Loyalty.LOYAL if v >= loyal else Loyalty.LOST for v in expected]
        assert (expected, classes) == (table.visits.tolist(),
                                       [table.class_of(c) for c in known])
        unknown = {c for c in CUSTOMER_IDS if c not in known
                   and naive_visits(tickets, c, MARCH, days)}
        assert unknown == {i.value for i in table.report.issues}

    @PROPERTY
    @given(tickets=_tickets)
    def test_revenue_is_the_exact_decimal_sum(self, tickets: list[Ticket]) -> None:
        report = team_targets(hand_data(tickets=tickets), period=YEAR)
        inside = [t for t in tickets if YEAR.start <= t.opened_at < YEAR.end]
        amounts = [t.revenue for t in inside if t.revenue is not None]
        insured = [t.revenue for t in inside if t.revenue is not None and t.insurance]
        actual = report.row("revenue").actual
        if not amounts:
            assert math.isnan(actual)
            return
        assert (sum(amounts, Decimal(0)), sum(insured, Decimal(0))) == (
            Decimal(repr(actual)), Decimal(repr(report.row("insurance_revenue").actual)))


class TestTicketFactsAddUp:
    """The counts behind the team report add up over parts with disjoint customers,
    as servicekpi.dask computes them."""

    @settings(max_examples=20, deadline=None)
    @given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=6))
    def test_parts_by_customer_sum_to_the_whole(self, seed: int, k: int) -> None:
        from servicekpi.scoring.team import _team_report, _TicketFacts
        data = synth.month(seed=seed, tickets=300, agents=4, stations=2)
        assert data.period is not None
        policy = Policy.default()
        customer = data.tickets.decode("customer_id")
        part = np.array([hash(str(c)) % k for c in customer])
        facts = [_TicketFacts.of(data.tickets.take(np.flatnonzero(part == p)), data.period,
                                 policy) for p in range(k)]
        total = facts[0]
        for more in facts[1:]:
            total = total + more
        assert _TicketFacts.of(data.tickets, data.period, policy) == total
        assert _team_report(total, data.trainings, data.period, policy) == team_targets(
            data, period=data.period, policy=policy)
