"""Golden end-to-end test of :func:`servicekpi.evaluate`: a small month checked by hand.

The month (2025-11, Asia/Shanghai) is written out below: two teams (T1: A-1, A-2, A-3 at
station S-1; T2: A-4, A-5 at station S-2), 21 tickets of the month plus two older ones,
360° ratings on the 0–100 scale, appraisals on both tracks, three callbacks, one
complaint, seven customers and three trainings. Every expected number was computed by
hand from the documented rules (DOMAIN.md §3, §6, §7; docs/kpis.md; docs/evaluation.md;
the docstrings of scoring/scorecard.py, consequences.py and team.py); the comment next to
each number shows the arithmetic.

To keep the arithmetic checkable the policy weighs three KPIs only, the same mix for
every role (``mix="role"``, every role -> ``"default"``):

    csi_rate 0.4 (target 0.93, floor 0.80, higher is better)
    fcr_rate 0.4 (target 0.80, floor 0.50, higher is better)
    reopen_rate 0.2 (target 0.05, floor 0.20, lower is better)

    points = clip((value - floor) / (target - floor), 0, 1); KPI part = 100 Σ w × points

Everything else is the default policy: parts 60 % KPIs / 25 % appraisal / 15 % raters;
raters self 30 % / supervisor 70 %, a missing role renormalised; performance agreement
70 % plan items / 30 % daily-work quality; key indicators capped at 0.99 × the standard
score; grades A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, E; ranks per team; reward 100 / deduction
100 / improvement plans for the bottom two due 7 days after the report date /
reassignment review after three last places in a row.

The same month, shifted to 2025-12 and 2026-01 by :func:`month_data` (ticket days are the
k-th weekday of the month), shows the reassignment review across the year boundary,
and the JSON round trip of the evaluation that the history can be made of.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest

from servicekpi import kpi_panel, synth
from servicekpi.dataset import Dataset
from servicekpi.domain import (
    Agent,
    Appraisal,
    AppraisalItem,
    Callback,
    CallbackOutcome,
    Channel,
    Complaint,
    Customer,
    Deduction,
    Direction,
    EscalationLevel,
    Loyalty,
    Period,
    Priority,
    Rating,
    RaterRole,
    Role,
    ServiceType,
    Ticket,
    Tier,
    Training,
)
from servicekpi.evaluation import MonthlyEvaluation, evaluate
from servicekpi.exceptions import (
    EvaluationFormatError,
    InvalidRecordError,
    NaiveDatetimeError,
    SchemaError,
)
from servicekpi.policy import Policy, ScoringPolicy
from servicekpi.scoring import Consequence, ConsequenceKind, Scorecard
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    RatingTable,
    TicketTable,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"
NOVEMBER = Period.parse("2025-11", tz=TZ)
DECEMBER = Period.parse("2025-12", tz=TZ)
JANUARY = Period.parse("2026-01", tz=TZ)

POLICY = Policy.default().replace(
    weights={"default": {"csi_rate": 0.4, "fcr_rate": 0.4, "reopen_rate": 0.2}},
    scoring=ScoringPolicy(mix="role", role_mixes={role: "default" for role in Role}))

REWARD = ConsequenceKind.REWARD
DEDUCTION = ConsequenceKind.DEDUCTION
PLAN = ConsequenceKind.IMPROVEMENT_PLAN
REVIEW = ConsequenceKind.REASSIGNMENT_REVIEW


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


# --------------------------------------------------------------------------- the month


def workday(year: int, month: int, k: int) -> date:
    """The *k*-th Monday–Friday (1-based) of the month: the same data in every month."""
    day, seen = date(year, month, 1), 0
    while True:
        if day.weekday() < 5:
            seen += 1
            if seen == k:
                return day
        day += timedelta(days=1)


def at(year: int, month: int, k: int, hhmm: str) -> datetime:
    """*hhmm* on the *k*-th weekday of the month, Asia/Shanghai."""
    day = workday(year, month, k)
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


TEAM = {"A-1": ("T1", "S-1"), "A-2": ("T1", "S-1"), "A-3": ("T1", "S-1"),
        "A-4": ("T2", "S-2"), "A-5": ("T2", "S-2")}


def month_data(year: int, month: int) -> Dataset:
    """The golden month, its ticket days being the k-th weekday of (*year*, *month*).

    In 2025-11 weekday k is: 1 Mon 3, 2 Tue 4, 3 Wed 5, 4 Thu 6, 5 Fri 7, 6 Mon 10,
    7 Tue 11, 8 Wed 12, 9 Thu 13, 10 Fri 14, 11 Mon 17, 12 Tue 18, 13 Wed 19, 14 Thu 20,
    15 Fri 21, 16 Mon 24, 17 Tue 25, 20 Fri 28. Every time lies inside the default
    working hours (08:30–12:00, 13:30–17:30) unless a comment says otherwise.
    """
    period = Period.month(year, month, tz=TZ)
    after, before = next_month(year, month), previous_month(year, month)

    def t(k: int, hhmm: str) -> datetime:
        return at(year, month, k, hhmm)

    def ticket(number: str, agent: str, customer: str, service: ServiceType,
               opened: datetime, response: datetime, resolved: datetime | None,
               **fields: Any) -> Ticket:
        team, station = TEAM[agent]
        return Ticket(ticket_id=f"T-{number}", agent_id=agent, customer_id=customer,
                      station_id=station, team_id=team, service_type=service,
                      channel=Channel.PHONE, opened_at=opened, first_response_at=response,
                      resolved_at=resolved, **fields)

    consult, repair = ServiceType.CONSULTATION, ServiceType.REPAIR
    support, claim = ServiceType.TECHNICAL_SUPPORT, ServiceType.WARRANTY_CLAIM
    tickets = [
        # A-1, consultations: 6 resolved, 5 first-contact, none reopened, rated
        # 5 5 4 4 5 3. (first response / resolution in working seconds)
        ticket("01", "A-1", "C-1", consult, t(1, "09:00"), t(1, "09:10"), t(1, "09:40"),
               first_contact_resolved=True, satisfaction=5.0),  # 600 / 2400
        ticket("02", "A-1", "C-2", consult, t(2, "10:00"), t(2, "10:20"), t(2, "11:00"),
               first_contact_resolved=True, satisfaction=5.0),  # 1200 / 3600
        # 11:30 -> 14:00 over the lunch break: 1800 + 1800 working seconds (9000 calendar)
        ticket("03", "A-1", "C-4", consult, t(3, "11:30"), t(3, "11:40"), t(3, "14:00"),
               first_contact_resolved=True, satisfaction=4.0),  # 600 / 3600
        ticket("04", "A-1", "C-4", consult, t(4, "14:00"), t(4, "14:05"), t(4, "15:00"),
               first_contact_resolved=True, satisfaction=4.0),  # 300 / 3600
        ticket("05", "A-1", "C-6", consult, t(5, "15:00"), t(5, "15:30"), t(5, "16:00"),
               first_contact_resolved=True, satisfaction=5.0),  # 1800 / 3600
        # 17:00 -> next weekday 09:00: 1800 (to 17:30) + 1800 (from 08:30) working seconds
        ticket("06", "A-1", "C-2", consult, t(6, "17:00"), t(6, "17:15"), t(7, "09:00"),
               satisfaction=3.0),  # 900 / 3600
        # A-2, repairs: 4 opened, 3 resolved in the month (T-10 next month), 2 of them
        # first-contact, 1 reopened (and a rework), rated 5 4 4.
        ticket("07", "A-2", "C-1", repair, t(2, "08:30"), t(2, "09:00"), t(2, "12:00"),
               first_contact_resolved=True, satisfaction=5.0, revenue=Decimal("1234.56")),
        ticket("08", "A-2", "C-5", repair, t(8, "13:30"), t(8, "14:00"), t(8, "17:30"),
               first_contact_resolved=True, satisfaction=4.0, revenue=Decimal("899.99")),
        ticket("09", "A-2", "C-6", repair, t(12, "10:00"), t(12, "10:30"), t(13, "10:00"),
               reopen_count=1, rework=True, satisfaction=4.0, insurance=True,
               revenue=Decimal("1800.01")),
        ticket("10", "A-2", "C-2", repair, t(20, "16:00"), t(20, "16:30"),
               at(*after, 1, "09:00")),  # resolved after the month: not resolved by its end
        # A-3, technical support: 4 resolved, 3 first-contact, none reopened, none rated.
        ticket("11", "A-3", "C-4", support, t(3, "09:00"), t(3, "09:05"), t(3, "10:00"),
               first_contact_resolved=True, priority=Priority.HIGH),
        ticket("12", "A-3", "C-6", support, t(9, "10:00"), t(9, "10:10"), t(9, "10:30"),
               first_contact_resolved=True),
        ticket("13", "A-3", "C-2", support, t(14, "13:30"), t(14, "13:40"), t(14, "14:30"),
               first_contact_resolved=True),
        ticket("14", "A-3", "C-5", support, t(16, "15:00"), t(16, "15:20"), t(16, "17:00")),
        # A-4, repairs and warranty claims: 4 resolved, 2 first-contact, none reopened,
        # rated 2 5 4 1.
        ticket("15", "A-4", "C-5", repair, t(4, "09:00"), t(4, "09:30"), t(4, "10:30"),
               first_contact_resolved=True, satisfaction=2.0, revenue=Decimal("500.00")),
        ticket("16", "A-4", "C-1", claim, t(7, "10:00"), t(7, "10:30"), t(7, "11:30"),
               first_contact_resolved=True, satisfaction=5.0, claim_approved=True,
               revenue=Decimal("300.50")),
        ticket("17", "A-4", "C-4", repair, t(11, "14:00"), t(11, "14:30"), t(11, "16:00"),
               satisfaction=4.0),
        ticket("18", "A-4", "C-6", claim, t(15, "11:00"), t(15, "11:30"), t(15, "11:50"),
               satisfaction=1.0),
        # A-5, service advisor: 3 resolved, all first-contact, none reopened, rated 5 5 5.
        ticket("19", "A-5", "C-2", ServiceType.MAINTENANCE, t(5, "09:30"), t(5, "09:40"),
               t(5, "11:00"), first_contact_resolved=True, satisfaction=5.0,
               revenue=Decimal("199.99")),
        ticket("20", "A-5", "C-1", repair, t(10, "10:00"), t(10, "10:15"), t(10, "11:00"),
               first_contact_resolved=True, satisfaction=5.0, insurance=True,
               revenue=Decimal("2500.00")),
        ticket("21", "A-5", "C-7", repair, t(17, "14:00"), t(17, "14:10"), t(17, "15:00"),
               first_contact_resolved=True, satisfaction=5.0),
        # Outside the month: C-7's visit of the month before (in the loyalty window,
        # not in the month's revenue), C-3's visit 12 months before (outside the
        # 365-day window).
        ticket("00", "A-5", "C-7", repair, at(*before, 10, "10:00"), at(*before, 10, "10:30"),
               at(*before, 10, "11:00"), satisfaction=1.0, revenue=Decimal("999.99")),
        ticket("99", "A-5", "C-3", repair, at(year - 1, month, 1, "10:00"),
               at(year - 1, month, 1, "10:30"), at(year - 1, month, 1, "11:00")),
    ]
    agents = [
        Agent(agent_id="A-1", name="Li Na", role=Role.SERVICE_REPRESENTATIVE,
              team_id="T1", station_id="S-1"),
        Agent(agent_id="A-2", name="Wang Wei", role=Role.FIELD_ENGINEER, team_id="T1",
              station_id="S-1"),
        Agent(agent_id="A-3", name="Zhang Min", role=Role.TECHNICAL_SUPPORT, team_id="T1",
              station_id="S-1"),
        Agent(agent_id="A-4", name="Chen Jie", role=Role.FIELD_ENGINEER, team_id="T2",
              station_id="S-2"),
        Agent(agent_id="A-5", name="Liu Yang", role=Role.SERVICE_ADVISOR, team_id="T2",
              station_id="S-2"),
    ]

    def rating(agent: str, role: RaterRole, score: float, moment: datetime) -> Rating:
        return Rating(agent_id=agent, rater_role=role, item="overall", score=score,
                      rated_at=moment)

    end_of_month = t(20, "16:00")
    self_, boss = RaterRole.SELF, RaterRole.SUPERVISOR
    ratings = [
        rating("A-1", self_, 90, end_of_month), rating("A-1", boss, 80, end_of_month),
        rating("A-1", RaterRole.PEER, 100, end_of_month),  # no weight: ignored
        rating("A-2", self_, 100, end_of_month), rating("A-2", boss, 70, end_of_month),
        rating("A-2", boss, 80, t(19, "10:00")),  # two supervisor ratings: mean 75
        rating("A-3", self_, 80, end_of_month),  # no supervisor rating
        rating("A-4", self_, 60, end_of_month), rating("A-4", boss, 50, end_of_month),
        rating("A-4", boss, 100, at(*before, 20, "16:00")),  # the month before: ignored
        rating("A-5", self_, 100, end_of_month), rating("A-5", boss, 90, end_of_month),
    ]
    appraisals = [
        Appraisal(agent_id="A-1", period=period, track="performance_agreement",
                  items=[AppraisalItem(name="hotline_quality", weight=0.6, score=90),
                         AppraisalItem(name="knowledge_base", weight=0.4, score=80)],
                  quality_score=70),
        Appraisal(agent_id="A-2", period=period, track="key_indicators",
                  items=[AppraisalItem(name=name, weight=0.25, score=100)
                         for name in ("compliance", "fault_handling_response",
                                      "customer_communication", "information_feedback")]),
        Appraisal(agent_id="A-3", period=period, track="performance_agreement",
                  items=[AppraisalItem(name="remote_diagnosis", weight=0.5, score=100),
                         AppraisalItem(name="manual_update", weight=0.5)],  # not scored
                  quality_score=60),
        Appraisal(agent_id="A-4", period=period, track="key_indicators",
                  standard_score=50,
                  items=[AppraisalItem(name="compliance", weight=0.5, score=80),
                         AppraisalItem(name="customer_communication", weight=0.5,
                                       score=90)],
                  deductions=[Deduction(behaviour="late_report", points=5,
                                        note="service report two days late")]),
        # A-5 handed in nothing for the month; the month before does not count.
        Appraisal(agent_id="A-5", period=period.previous(), track="performance_agreement",
                  quality_score=10),
    ]
    callbacks = [
        Callback(callback_id="CB-1", subject="ticket", subject_id="T-01",
                 due_from=t(6, "09:00"), due_by=t(8, "17:30"), done_at=t(7, "10:00"),
                 outcome=CallbackOutcome.SOLVED, agent_id="A-1"),
        Callback(callback_id="CB-2", subject="ticket", subject_id="T-15",
                 due_from=t(6, "09:00"), due_by=t(8, "17:30"), agent_id="A-4"),  # not made
        Callback(callback_id="CB-3", subject="complaint", subject_id="K-1",
                 due_from=t(12, "14:00"), due_by=t(13, "17:30"), done_at=t(14, "10:00"),
                 outcome=CallbackOutcome.UNSOLVED, agent_id="A-4"),  # made, but late
    ]
    complaints = [
        Complaint(complaint_id="K-1", customer_id="C-5", station_id="S-2",
                  responsible="P-2", source="hotline", complaint_type="attitude",
                  received_at=t(12, "10:00"), ticket_id="T-15", agent_id="A-4"),
    ]
    customers = [
        Customer(customer_id="C-1", tier=Tier.A, loyalty=Loyalty.LOYAL),
        Customer(customer_id="C-2"),
        Customer(customer_id="C-3", tier=Tier.C, loyalty=Loyalty.LOYAL),
        Customer(customer_id="C-4"),
        Customer(customer_id="C-5"),
        Customer(customer_id="C-6"),
        Customer(customer_id="C-7", loyalty=Loyalty.LOST),
    ]
    trainings = [
        Training(kind="workshop", held_at=datetime(year, 3, 10, 10, tzinfo=SHANGHAI)),
        Training(kind="workshop", held_at=t(8, "14:00")),
        Training(kind="front_desk", held_at=datetime(year - 1, 12, 5, 10, tzinfo=SHANGHAI)),
    ]
    return Dataset(tickets=TicketTable.from_records(tickets),
                   agents=AgentTable.from_records(agents),
                   customers=CustomerTable.from_records(customers),
                   complaints=ComplaintTable.from_records(complaints),
                   callbacks=CallbackTable.from_records(callbacks),
                   ratings=RatingTable.from_records(ratings),
                   appraisals=appraisals, trainings=trainings, period=period)


def report_date(period: Period) -> datetime:
    """The monthly report: 10:00 on the 3rd of the following month."""
    end = period.end
    return datetime(end.year, end.month, 3, 10, 0, tzinfo=SHANGHAI)


def run(period: Period, history: tuple[MonthlyEvaluation | Scorecard, ...] = ()
        ) -> MonthlyEvaluation:
    return evaluate(month_data(period.year, period.index), period=period, policy=POLICY,
                    history=history, now=report_date(period))


@pytest.fixture(scope="module")
def data() -> Dataset:
    return month_data(2025, 11)


@pytest.fixture(scope="module")
def november() -> MonthlyEvaluation:
    return run(NOVEMBER)


@pytest.fixture(scope="module")
def december(november: MonthlyEvaluation) -> MonthlyEvaluation:
    return run(DECEMBER, (november,))


@pytest.fixture(scope="module")
def january(november: MonthlyEvaluation, december: MonthlyEvaluation) -> MonthlyEvaluation:
    return run(JANUARY, (november, december))


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def brief(consequences: tuple[Consequence, ...]
          ) -> list[tuple[str, ConsequenceKind, float, datetime | None, str]]:
    return [(c.agent_id, c.kind, c.amount, c.due, c.group) for c in consequences]


# --------------------------------------------------------------------------- the data


class TestTheMonth:
    def test_helper_days_are_the_written_out_dates(self) -> None:
        assert at(2025, 11, 1, "09:00") == datetime(2025, 11, 3, 9, 0, tzinfo=SHANGHAI)
        assert at(2025, 11, 6, "17:00") == datetime(2025, 11, 10, 17, 0, tzinfo=SHANGHAI)
        assert at(2025, 11, 20, "16:00") == datetime(2025, 11, 28, 16, 0, tzinfo=SHANGHAI)
        # Across the year boundary the days stay weekdays: 2026-01-01 is a Thursday.
        assert at(2026, 1, 3, "09:00") == datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
        assert at(2025, 12, 20, "16:00") == datetime(2025, 12, 26, 16, 0, tzinfo=SHANGHAI)

    def test_sizes(self) -> None:
        data = month_data(2025, 11)
        assert 23 == len(data.tickets)  # 21 of the month + 2 older ones
        assert 5 == len(data.agents)


# --------------------------------------------------------------------------- KPIs


class TestKpis:
    """The KPI values the score uses (docs/kpis.md), by agent and by team."""

    def test_weighted_kpis_by_agent(self, november: MonthlyEvaluation) -> None:
        panel = november.panel
        assert ("A-1", "A-2", "A-3", "A-4", "A-5") == panel.keys
        expected = {
            #      tickets resolved  csi          fcr        reopen
            "A-1": (6, 6, 5 / 6, 5 / 6, 0.0),  # 5 of 6 ratings >= 4; T-06 not FCR
            "A-2": (4, 3, 3 / 3, 2 / 3, 1 / 3),  # T-10 resolved next month; T-09 reopened
            "A-3": (4, 4, math.nan, 3 / 4, 0.0),  # nothing rated
            "A-4": (4, 4, 2 / 4, 2 / 4, 0.0),  # ratings 2 5 4 1: two >= 4
            "A-5": (3, 3, 1.0, 1.0, 0.0),
        }
        for agent, (tickets, resolved, csi, fcr, reopen) in expected.items():
            row = panel.row(agent)
            assert tickets == row["tickets"], agent
            assert resolved == row["resolved"], agent
            assert (math.isnan(csi) and math.isnan(row["csi_rate"])) \
                or csi == approx(row["csi_rate"]), agent
            assert fcr == approx(row["fcr_rate"]), agent
            assert reopen == approx(row["reopen_rate"]), agent
        assert [6, 3, 0, 4, 3] == panel.denominator("csi_rate").tolist()  # rated tickets

    def test_working_seconds_of_a1(self, november: MonthlyEvaluation) -> None:
        row = november.panel.row("A-1")
        # first response 600 1200 600 300 1800 900: mean 5400 / 6, median of
        # 300 600 600 900 1200 1800 = (600 + 900) / 2
        assert 900 == row["first_response_work_seconds_mean"]
        assert 750 == row["first_response_work_seconds_median"]
        # resolution 2400 + 5 × 3600 (T-03 over lunch, T-06 overnight) = 20400 / 6
        assert 3400 == row["resolution_work_seconds_mean"]
        # calendar: T-03 2.5 h, T-06 16 h, the others as in working time
        assert (2400 + 3600 + 9000 + 3600 + 3600 + 57600) / 6 \
            == row["resolution_seconds_mean"]
        assert 1.0 == row["callback_completion_rate"]  # CB-1, made on time
        assert 1.0 == row["callback_on_time_rate"]
        assert 26 / 6 == approx(row["csat_mean"])  # (5 + 5 + 4 + 4 + 5 + 3) / 6

    def test_callbacks_and_complaint_of_a4(self, november: MonthlyEvaluation) -> None:
        row = november.panel.row("A-4")
        assert 1 / 2 == row["callback_completion_rate"]  # CB-3 made, CB-2 not
        assert 0.0 == row["callback_on_time_rate"]  # CB-3 after its due_by
        assert 1 / 4 == row["complaint_rate"]  # K-1 / 4 tickets
        # T-15 30 min to answer, 90 min to solve; T-16 30 / 90; T-17 30 / 120;
        # T-18 30 / 50 (working minutes, all inside the morning or afternoon)
        assert 1800 == row["first_response_work_seconds_median"]
        assert (5400 + 5400 + 7200 + 3000) / 4 == row["resolution_work_seconds_mean"]

    def test_team_panel(self, november: MonthlyEvaluation) -> None:
        panel = november.team_panel
        assert ("T1", "T2") == panel.keys
        assert [14.0, 7.0] == panel["tickets"].tolist()
        t1, t2 = panel.row("T1"), panel.row("T2")
        assert 8 / 9 == approx(t1["csi_rate"])  # A-1 5 of 6, A-2 3 of 3
        assert 5 / 7 == approx(t2["csi_rate"])  # A-4 2 of 4, A-5 3 of 3
        assert 10 / 13 == approx(t1["fcr_rate"])  # (5 + 2 + 3) / (6 + 3 + 4) resolved
        assert 5 / 7 == approx(t2["fcr_rate"])  # (2 + 3) / (4 + 3)
        assert 1 / 13 == approx(t1["reopen_rate"])  # T-09


# --------------------------------------------------------------------------- the score


# Per agent: KPI part, appraisal part, rater part, composite, grade, rank in its team.
EXPECTED: dict[str, tuple[float, float, float, float, str, int]] = {
    # KPIs: csi 5/6 -> (0.8333 - 0.8) / (0.93 - 0.8) = (1/30) / 0.13 = 10/39 = 0.2564;
    #   fcr 5/6 >= 0.8 -> 1 (capped); reopen 0 -> (0 - 0.2) / (0.05 - 0.2) = 1.33 -> 1
    #   KPI = 100 (0.4 × 10/39 + 0.4 × 1 + 0.2 × 1) = 60 + 400/39 = 70.2564
    # appraisal (agreement): plan 0.6 × 90 + 0.4 × 80 = 86; 0.7 × 86 + 0.3 × 70 = 81.2
    # raters: 0.3 × 90 + 0.7 × 80 = 83 (the peer's 100 has no weight)
    # composite: 0.6 × 70.2564 + 0.25 × 81.2 + 0.15 × 83
    #          = 42.1538 + 20.3 + 12.45 = 74.9038 -> C
    "A-1": (60 + 400 / 39, 81.2, 83.0, 36 + 240 / 39 + 20.3 + 12.45, "C", 2),
    # KPIs: csi 1 -> 1 (capped); fcr 2/3 -> (0.6667 - 0.5) / 0.3 = 5/9;
    #   reopen 1/3 > floor 0.2 -> 0.  KPI = 100 (0.4 + 0.4 × 5/9) = 40 + 200/9 = 62.2222
    # appraisal (key indicators, standard 100): 4 × 0.25 × 100 = 100, capped at
    #   0.99 × 100 = 99 (never reaches the standard score)
    # raters: supervisor mean (70 + 80) / 2 = 75; 0.3 × 100 + 0.7 × 75 = 82.5
    # composite: 0.6 × 62.2222 + 0.25 × 99 + 0.15 × 82.5
    #          = 37.3333 + 24.75 + 12.375 = 74.4583 -> C, below A-1
    "A-2": (40 + 200 / 9, 99.0, 82.5, 24 + 120 / 9 + 24.75 + 12.375, "C", 3),
    # KPIs: csi has no data: weights renormalised to fcr 0.4/0.6 = 2/3, reopen 1/3;
    #   fcr 3/4 -> (0.75 - 0.5) / 0.3 = 5/6; reopen 0 -> 1
    #   KPI = 100 (2/3 × 5/6 + 1/3 × 1) = 100 × 16/18 = 88.8889
    # appraisal: plan item 2 unscored -> plan = 100 alone; 0.7 × 100 + 0.3 × 60 = 88
    # raters: no supervisor rating -> self alone (renormalised to weight 1) = 80
    # composite: 0.6 × 88.8889 + 0.25 × 88 + 0.15 × 80 = 53.3333 + 22 + 12 = 87.3333 -> B
    "A-3": (800 / 9, 88.0, 80.0, 160 / 3 + 22 + 12, "B", 1),
    # KPIs: csi 2/4 = 0.5 < 0.8 -> 0; fcr 2/4 = 0.5 = floor -> 0; reopen 0 -> 1
    #   KPI = 100 × 0.2 = 20
    # appraisal (key indicators, standard 50): 0.5 × 80 + 0.5 × 90 = 85 % of 50 = 42.5,
    #   minus late_report 5 = 37.5 (below the cap 49.5) -> 37.5 / 50 × 100 = 75
    # raters: 0.3 × 60 + 0.7 × 50 = 53 (last month's supervisor 100 does not count)
    # composite: 0.6 × 20 + 0.25 × 75 + 0.15 × 53 = 12 + 18.75 + 7.95 = 38.7 -> E
    "A-4": (20.0, 75.0, 53.0, 12 + 18.75 + 7.95, "E", 2),
    # KPIs: csi 1, fcr 1, reopen 0: all at or beyond target -> 100
    # appraisal: none for the month -> part absent, shares renormalised:
    #   KPIs 0.6 / 0.75 = 0.8, raters 0.15 / 0.75 = 0.2
    # raters: 0.3 × 100 + 0.7 × 90 = 93
    # composite: 0.8 × 100 + 0.2 × 93 = 98.6 -> A
    "A-5": (100.0, math.nan, 93.0, 80 + 18.6, "A", 1),
}


def same(expected: float, actual: float) -> bool:
    if math.isnan(expected):
        return math.isnan(actual)
    return bool(expected == pytest.approx(actual, rel=1e-12, abs=1e-9))


class TestScorecard:
    @pytest.mark.parametrize("agent", sorted(EXPECTED))
    def test_row(self, november: MonthlyEvaluation, agent: str) -> None:
        kpi, appraisal, raters, composite, grade, rank = EXPECTED[agent]
        row = november.scorecard.row(agent)
        assert same(kpi, row["kpi_score"]), (agent, row)
        assert same(appraisal, row["appraisal_score"]), (agent, row)
        assert same(raters, row["rater_score"]), (agent, row)
        assert same(composite, row["composite"]), (agent, row)
        assert grade == row["grade"]
        assert rank == row["rank"]
        assert TEAM[agent][0] == row["group"]
        assert (3 if TEAM[agent][0] == "T1" else 2) == row["group_size"]
        assert "ranked" == row["status"]

    def test_composites_written_out(self) -> None:
        # The sums above, to four decimals, as the comments give them.
        assert [round(EXPECTED[a][3], 4) for a in sorted(EXPECTED)] \
            == [74.9038, 74.4583, 87.3333, 38.7, 98.6]

    def test_ranking(self, november: MonthlyEvaluation) -> None:
        card = november.scorecard
        assert ["A-3", "A-1", "A-2"] == card.ranking("T1")
        assert ["A-5", "A-4"] == card.ranking("T2")
        assert {"T1": "A-2", "T2": "A-4"} == card.last_of_group()
        assert [6, 4, 4, 4, 3] == card.tickets.tolist()
        assert card.report.ok  # the previous month's appraisal is simply not of this one

    def test_kpi_explanation_of_a1(self, november: MonthlyEvaluation) -> None:
        lines = {line.item: line for line in november.scorecard.explain("A-1").part("kpis")}
        assert ["csi_rate", "fcr_rate", "reopen_rate"] == sorted(lines)
        csi, fcr, reopen = lines["csi_rate"], lines["fcr_rate"], lines["reopen_rate"]
        assert (5 / 6, 6.0, 0.93, 0.80, 0.4) == (approx(csi.value), csi.denominator,
                                                 csi.target, csi.floor, csi.weight)
        assert 40 / 39 * 10 == approx(csi.points)  # 0.4 × 10/39 × 100
        assert 40.0 == approx(fcr.points)
        assert "capped at the target: beyond it earns no more" == fcr.adjustment
        assert 20.0 == approx(reopen.points)
        assert (0.05, 0.20) == (reopen.target, reopen.floor)

    def test_kpi_explanation_of_a3_renormalises(self, november: MonthlyEvaluation) -> None:
        lines = {line.item: line for line in november.scorecard.explain("A-3").part("kpis")}
        assert 0.0 == lines["csi_rate"].weight
        assert "no data in the period: its weight is spread over the others" \
            == lines["csi_rate"].adjustment
        assert 2 / 3 == approx(lines["fcr_rate"].weight)
        assert 1 / 3 == approx(lines["reopen_rate"].weight)
        assert 2 / 3 * 5 / 6 * 100 == approx(lines["fcr_rate"].points)

    def test_kpi_explanation_below_the_floor(self, november: MonthlyEvaluation) -> None:
        lines = {line.item: line for line in november.scorecard.explain("A-2").part("kpis")}
        assert 0.0 == lines["reopen_rate"].points
        assert "below the floor: earns nothing" == lines["reopen_rate"].adjustment
        assert 0.4 * 5 / 9 * 100 == approx(lines["fcr_rate"].points)

    def test_key_indicator_cap(self, november: MonthlyEvaluation) -> None:
        why = november.scorecard.explain("A-2")
        cap = [line for line in why.part("appraisal") if line.item == "cap"]
        assert 1 == len(cap)
        assert 99.0 == cap[0].value  # 0.99 × standard score 100
        assert -1.0 == approx(cap[0].points)  # 100 -> 99
        assert 99.0 == approx(math.fsum(line.points for line in why.part("appraisal")))
        assert november.scorecard.row("A-2")["appraisal_score"] < 100

    def test_key_behaviour_deduction(self, november: MonthlyEvaluation) -> None:
        lines = november.scorecard.explain("A-4").part("appraisal")
        items = [line.item for line in lines]
        assert ["compliance", "customer_communication", "deduction:late_report"] == items
        deduction = lines[-1]
        assert 5.0 == deduction.value
        assert -10.0 == approx(deduction.points)  # 5 of standard 50 = 10 of 100
        assert "service report two days late" == deduction.adjustment
        assert 85.0 - 10.0 == approx(math.fsum(line.points for line in lines))

    def test_agreement_with_an_unscored_item(self, november: MonthlyEvaluation) -> None:
        why = november.scorecard.explain("A-3")
        lines = {line.item: line for line in why.part("appraisal")}
        assert 0.7 == approx(lines["remote_diagnosis"].weight)  # 1.0 of the plan × 0.7
        assert 70.0 == approx(lines["remote_diagnosis"].points)
        assert 0.0 == lines["manual_update"].weight
        assert 18.0 == approx(lines["daily_work_quality"].points)  # 0.3 × 60

    def test_raters_renormalised(self, november: MonthlyEvaluation) -> None:
        lines = {line.item: line for line in november.scorecard.explain("A-3").part("raters")}
        assert 1.0 == lines["self"].weight
        assert "weight renormalised over the roles that rated" == lines["self"].adjustment
        assert math.isnan(lines["supervisor"].value)
        assert "its weight is spread over the roles that rated" \
            == lines["supervisor"].adjustment
        a2 = {line.item: line for line in november.scorecard.explain("A-2").part("raters")}
        assert (75.0, 2.0, 0.7) == (a2["supervisor"].value, a2["supervisor"].denominator,
                                    a2["supervisor"].weight)
        a1 = {line.item: line for line in november.scorecard.explain("A-1").part("raters")}
        assert 0.0 == a1["peer"].weight

    def test_missing_appraisal_renormalises_the_parts(
            self, november: MonthlyEvaluation) -> None:
        lines = {line.item: line
                 for line in november.scorecard.explain("A-5").part("composite")}
        assert 0.8 == approx(lines["kpis"].weight)
        assert 0.2 == approx(lines["raters"].weight)
        assert 0.0 == lines["appraisal"].weight
        assert "part absent: its share is spread over the others" == lines["appraisal"].rule

    @pytest.mark.parametrize("agent", sorted(EXPECTED))
    def test_explanations_add_up(self, november: MonthlyEvaluation, agent: str) -> None:
        why = november.scorecard.explain(agent)
        assert why.composite == approx(math.fsum(line.points
                                                 for line in why.part("composite")))


# --------------------------------------------------------------------------- consequences


NOVEMBER_DUE = datetime(2025, 12, 10, 10, 0, tzinfo=SHANGHAI)  # report 2025-12-03 10:00 + 7 d


class TestConsequences:
    def test_november(self, november: MonthlyEvaluation) -> None:
        assert datetime(2025, 12, 3, 10, 0, tzinfo=SHANGHAI) == november.now
        assert [
            ("A-3", REWARD, 100.0, None, "T1"),
            ("A-1", PLAN, 0.0, NOVEMBER_DUE, "T1"),  # rank 2 of 3: among the bottom two
            ("A-2", PLAN, 0.0, NOVEMBER_DUE, "T1"),
            ("A-2", DEDUCTION, -100.0, None, "T1"),
            ("A-5", REWARD, 100.0, None, "T2"),  # a group of two: only the last owes a plan
            ("A-4", PLAN, 0.0, NOVEMBER_DUE, "T2"),
            ("A-4", DEDUCTION, -100.0, None, "T2"),
        ] == brief(november.consequences)

    def test_due_date_is_aware_and_in_the_report_zone(
            self, november: MonthlyEvaluation) -> None:
        plan = november.consequences_of("A-1")[0]
        assert plan.due is not None
        assert timedelta(hours=8) == plan.due.utcoffset()
        assert (2025, 12, 10, 10, 0) == (plan.due.year, plan.due.month, plan.due.day,
                                         plan.due.hour, plan.due.minute)

    def test_reasons(self, november: MonthlyEvaluation) -> None:
        reasons = {(c.agent_id, c.kind): c.reason for c in november.consequences}
        assert "rank 1 of 3 in T1" == reasons[("A-3", REWARD)]
        assert "rank 3 of 3 in T1: last place" == reasons[("A-2", DEDUCTION)]
        assert ("rank 2 of 3 in T1: among the bottom 2, an improvement plan is due within "
                "7 days of the report") == reasons[("A-1", PLAN)]

    def test_consequences_of(self, november: MonthlyEvaluation) -> None:
        assert [("A-3", REWARD, 100.0, None, "T1")] == brief(november.consequences_of("A-3"))
        assert [PLAN, DEDUCTION] == [c.kind for c in november.consequences_of("A-4")]

    def test_second_month_is_not_yet_three(self, december: MonthlyEvaluation) -> None:
        due = datetime(2026, 1, 10, 10, 0, tzinfo=SHANGHAI)  # report 2026-01-03 + 7 d
        assert [
            ("A-3", REWARD, 100.0, None, "T1"),
            ("A-1", PLAN, 0.0, due, "T1"),
            ("A-2", PLAN, 0.0, due, "T1"),
            ("A-2", DEDUCTION, -100.0, None, "T1"),
            ("A-5", REWARD, 100.0, None, "T2"),
            ("A-4", PLAN, 0.0, due, "T2"),
            ("A-4", DEDUCTION, -100.0, None, "T2"),
        ] == brief(december.consequences)

    def test_third_month_across_the_year_calls_for_review(
            self, january: MonthlyEvaluation) -> None:
        due = datetime(2026, 2, 10, 10, 0, tzinfo=SHANGHAI)  # report 2026-02-03 + 7 d
        # The same data every month: the scores and ranks repeat.
        assert ["A-3", "A-1", "A-2", "A-5", "A-4"] == january.scorecard.ranking()
        assert [
            ("A-3", REWARD, 100.0, None, "T1"),
            ("A-1", PLAN, 0.0, due, "T1"),
            ("A-2", PLAN, 0.0, due, "T1"),
            ("A-2", DEDUCTION, -100.0, None, "T1"),
            ("A-2", REVIEW, 0.0, None, "T1"),  # last in 2025-11, 2025-12 and 2026-01
            ("A-5", REWARD, 100.0, None, "T2"),
            ("A-4", PLAN, 0.0, due, "T2"),
            ("A-4", DEDUCTION, -100.0, None, "T2"),
            ("A-4", REVIEW, 0.0, None, "T2"),
        ] == brief(january.consequences)
        review = january.consequences_of("A-2")[-1]
        assert "last place 3 periods in a row (policy: 3): consider reassignment" \
            == review.reason

    def test_same_scores_every_month(self, november: MonthlyEvaluation,
                                     january: MonthlyEvaluation) -> None:
        for agent in EXPECTED:
            assert same(november.scorecard.row(agent)["composite"],
                        january.scorecard.row(agent)["composite"])

    def test_a_gap_breaks_the_run(self, november: MonthlyEvaluation) -> None:
        january = run(JANUARY, (november,))  # 2025-12 missing
        assert REVIEW not in {c.kind for c in january.consequences}

    def test_history_in_any_order_and_as_scorecards(
            self, november: MonthlyEvaluation, december: MonthlyEvaluation,
            january: MonthlyEvaluation) -> None:
        other = run(JANUARY, (december.scorecard, november.scorecard))
        assert brief(january.consequences) == brief(other.consequences)


# --------------------------------------------------------------------------- JSON


class TestJson:
    @pytest.mark.parametrize("evaluation", [
        {"$t": "attrs", "type": "MonthlyEvaluation", "fields": []},
        {"$t": "map", "str": True, "items": []},
        {"$t": "array", "dtype": "V100000000", "shape": [1000], "base64": ""},
        {"$t": "array", "dtype": "<i8", "shape": [1000000], "base64": "AAAAAAAAAAA="},
        {"$t": "datetime", "value": "2026-01-01T00:00:00+00:00", "zone": "/etc/localtime",
         "tzlib": "dateutil"},
        {"$t": "datetime", "value": "2026-01-01T00:00:00+00:00",
         "zone": "EST5EDT,M3.2.0,M11.1.0", "tzlib": "dateutil"},
    ], ids=["fields-list", "items-list", "huge-dtype", "short-payload", "zone-path",
            "posix-zone"])
    def test_malformed_documents_are_format_errors(self, evaluation: object) -> None:
        import json

        text = json.dumps({"format": "servicekpi.MonthlyEvaluation/1",
                           "evaluation": evaluation})
        with pytest.raises(EvaluationFormatError, match="^not a servicekpi evaluation: "):
            MonthlyEvaluation.from_json(text)

    def test_enum_members_come_back_as_members(self) -> None:
        """A StrEnum is a str and an IntEnum an int: both must return as members."""
        from servicekpi import synth
        from servicekpi.domain import EscalationLevel
        from servicekpi.rules.analysis import PenaltyStatus

        data = synth.month(seed=1, tickets=3_000, agents=12, stations=2)
        assert data.period is not None
        ev = evaluate(data, period=data.period)
        back = MonthlyEvaluation.from_json(ev.to_json())
        assert ev.complaints.penalties and ev.complaints.severe
        assert {PenaltyStatus} == {type(p.status) for p in back.complaints.penalties}
        assert {EscalationLevel} == {type(e.level) for e in back.complaints.severe}
        assert [p.explain() for p in ev.complaints.penalties] == \
            [p.explain() for p in back.complaints.penalties]

    def test_round_trip(self, november: MonthlyEvaluation) -> None:
        restored = MonthlyEvaluation.from_json(november.to_json())
        assert restored == november
        assert restored.scorecard.ranking() == november.scorecard.ranking()
        assert brief(restored.consequences) == brief(november.consequences)
        assert restored.policy == POLICY

    def test_round_trip_through_a_file(self, november: MonthlyEvaluation,
                                       tmp_path: Any) -> None:
        path = tmp_path / "2025-11.json"
        path.write_text(november.to_json(indent=1), encoding="utf-8")
        assert MonthlyEvaluation.from_json(path) == november

    def test_history_can_be_the_restored_evaluations(
            self, november: MonthlyEvaluation, december: MonthlyEvaluation,
            january: MonthlyEvaluation) -> None:
        archived = tuple(MonthlyEvaluation.from_json(ev.to_json())
                         for ev in (november, december))
        again = run(JANUARY, archived)
        assert again == january
        assert [("A-2", REVIEW), ("A-4", REVIEW)] == [
            (c.agent_id, c.kind) for c in again.consequences if c.kind is REVIEW]

    def test_not_an_evaluation(self) -> None:
        # The document is {"format": ..., "evaluation": <the codec's encoding>}.
        with pytest.raises(EvaluationFormatError, match=exactly(
                "not a servicekpi evaluation (format 'other/1', expected "
                "'servicekpi.MonthlyEvaluation/1')")):
            MonthlyEvaluation.from_json('{"format": "other/1"}')
        with pytest.raises(EvaluationFormatError, match=exactly(
                "not a servicekpi evaluation (format None, expected "
                "'servicekpi.MonthlyEvaluation/1')")):
            MonthlyEvaluation.from_json("[1, 2]")
        with pytest.raises(EvaluationFormatError, match=exactly(
                "not a servicekpi evaluation: the document holds a NoneType")):
            MonthlyEvaluation.from_json('{"format": "servicekpi.MonthlyEvaluation/1"}')
        with pytest.raises(EvaluationFormatError, match="^not a servicekpi evaluation: "
                                                        "unknown type 'Evil'"):
            MonthlyEvaluation.from_json('{"format": "servicekpi.MonthlyEvaluation/1", '
                                        '"evaluation": {"$t": "attrs", "type": "Evil", '
                                        '"fields": {}}}')

    def test_from_a_path_string(self, november: MonthlyEvaluation, tmp_path: Path) -> None:
        target = tmp_path / "2025-11.json"
        target.write_text(november.to_json(), encoding="utf-8")
        assert november == MonthlyEvaluation.from_json(str(target))
        with pytest.raises(EvaluationFormatError, match="^cannot read '.*missing.json'"):
            MonthlyEvaluation.from_json(str(tmp_path / "missing.json"))

    def test_aware_now_keeps_its_zone(self, data: Dataset) -> None:
        # A report date in Europe/Berlin, where DST ended on 2025-10-26: a week before
        # 2025-11-01 00:00 (CET, +01:00) is 2025-10-25 00:00 CEST (+02:00).
        berlin = Period.parse("2025-10", tz="Europe/Berlin")
        now = datetime(2025, 11, 1, tzinfo=ZoneInfo("Europe/Berlin"))
        ev = evaluate(data, period=berlin, policy=POLICY, now=now)
        restored = MonthlyEvaluation.from_json(ev.to_json()).now
        assert timedelta(hours=2) == (restored - timedelta(days=7)).utcoffset()

    def test_default_now_keeps_its_zone(self, data: Dataset) -> None:
        berlin = Period.parse("2025-10", tz="Europe/Berlin")
        ev = evaluate(data, period=berlin, policy=POLICY)  # now = 2025-11-01 00:00 CET
        restored = MonthlyEvaluation.from_json(ev.to_json()).now
        assert restored == ev.now
        # A week earlier is still summer time on the wall clock of Berlin.
        assert timedelta(hours=2) == (restored - timedelta(days=7)).utcoffset()


# --------------------------------------------------------------------------- team, loyalty


class TestTeamTargets:
    def test_revenue_to_the_cent(self, november: MonthlyEvaluation) -> None:
        team = november.team
        # 1234.56 + 899.99 + 1800.01 + 500.00 + 300.50 + 199.99 + 2500.00 = 7435.05
        # (T-00's 999.99 was opened the month before)
        revenue = team.row("revenue")
        assert (500_000.0, 7435.05) == (revenue.target, revenue.actual)  # 6 M / 12
        assert revenue.met is False
        # insurance jobs T-09 and T-20: 1800.01 + 2500.00
        assert 4300.01 == team.row("insurance_revenue").actual
        # non-insurance repairs T-07 T-08 T-15 and the claim T-16:
        # 1234.56 + 899.99 + 500.00 + 300.50
        assert 2935.05 == team.row("repair_and_claims_revenue").actual
        # (1234.56 + 899.99 + 500.00) / 3 = 263455 cents / 3
        assert 263455 / 3 / 100 == team.row("revenue_per_repair").actual
        assert 2150.005 == approx(team.row("revenue_per_insurance_job").actual)

    def test_rates_and_intake(self, november: MonthlyEvaluation) -> None:
        team = november.team
        intake = team.row("intake_per_month")
        assert (650.0, 21.0, False) == (intake.target, intake.actual, intake.met)
        assert 21 / 650 == approx(intake.attainment)
        per_day = team.row("intake_per_day")  # November 2025 has 20 weekdays
        assert (20.0, 21 / 20) == (per_day.target, per_day.actual)
        csi = team.row("csi_rate")  # 16 rated, 13 of them >= 4
        assert (0.93, 13 / 16) == (csi.target, csi.actual)
        rework = team.row("rework_rate")  # T-09 of the 7 resolved repair tickets
        assert (0.02, 1 / 7, False, Direction.LOWER) == (rework.target, rework.actual,
                                                         rework.met, rework.direction)
        assert 0.02 * 7 == approx(rework.attainment)  # target / actual
        claims = team.row("warranty_approval_rate")  # T-16 of T-16, T-18
        assert (0.95, 0.5) == (claims.target, claims.actual)
        # C-1 C-2 C-4 C-5 C-6 in November, C-7 in October; C-3 13 months ago
        assert 6.0 == team.row("base_customers").actual

    def test_trainings_year_to_date(self, november: MonthlyEvaluation) -> None:
        workshop = november.team.row("trainings.workshop")
        assert (6 * 11 / 12, 2.0) == (workshop.target, workshop.actual)  # March, November
        front_desk = november.team.row("trainings.front_desk")
        assert (4 * 11 / 12, 0.0) == (front_desk.target, front_desk.actual)  # 2024's: no


class TestLoyalty:
    def test_classes(self, november: MonthlyEvaluation) -> None:
        loyalty = november.loyalty
        # visits in the 365 days before 2025-12-01:
        # C-1: T-01 T-07 T-16 T-20 = 4 -> loyal; C-7: T-21 + T-00 (October) = 2 ->
        # ordinary; C-3: only T-99 (November 2024) = 0 -> lost
        assert Loyalty.LOYAL == loyalty.class_of("C-1")
        assert Loyalty.ORDINARY == loyalty.class_of("C-7")
        assert Loyalty.LOST == loyalty.class_of("C-3")
        visits = dict(zip(loyalty.customer_ids, loyalty.visits.tolist(), strict=True))
        assert {"C-1": 4, "C-2": 5, "C-3": 0, "C-4": 4, "C-5": 3, "C-6": 4,
                "C-7": 2} == visits
        # previous classes: C-1 loyal, C-3 loyal, C-7 lost, the others ordinary
        assert ("C-2", "C-3", "C-4", "C-5", "C-6", "C-7") == loyalty.changed()


# --------------------------------------------------------------------------- complaints


class TestComplaints:
    def test_analysis(self, november: MonthlyEvaluation) -> None:
        analysis = november.complaints
        assert 1 == analysis.complaints
        assert {"attitude": 1} == dict(analysis.by_type)
        assert 1 == analysis.by_level[EscalationLevel.GENERAL]  # one unsolved callback
        assert () == analysis.penalties
        shares = [(s.station_id, s.complaints, s.volume, s.share, s.rank)
                  for s in analysis.stations]
        assert [("S-1", 0, 14.0, 0.0, 1), ("S-2", 1, 7.0, 1 / 7, 2)] == shares


# --------------------------------------------------------------------------- errors


class TestErrors:
    def test_naive_now(self, data: Dataset) -> None:
        with pytest.raises(NaiveDatetimeError, match=exactly(
                "'now' must be a timezone-aware datetime "
                "(got datetime.datetime(2025, 12, 3, 10, 0))")):
            evaluate(data, period=NOVEMBER, policy=POLICY, now=datetime(2025, 12, 3, 10, 0))

    def test_now_before_the_period(self, data: Dataset) -> None:
        with pytest.raises(InvalidRecordError, match=exactly(
                "'now' (2025-10-31T23:59:00+08:00) is before the period 2025-11 starts")):
            evaluate(data, period=NOVEMBER, policy=POLICY,
                     now=datetime(2025, 10, 31, 23, 59, tzinfo=SHANGHAI))

    def test_now_at_the_period_start_is_fine(self, data: Dataset) -> None:
        ev = evaluate(data, period=NOVEMBER, policy=POLICY, now=NOVEMBER.start)
        assert NOVEMBER.start == ev.now

    def test_period_not_a_period(self, data: Dataset) -> None:
        with pytest.raises(TypeError,
                           match=exactly("'period' must be a Period (got '2025-11')")):
            evaluate(data, period="2025-11", policy=POLICY)  # type: ignore[arg-type]

    def test_history_of_something_else(self, data: Dataset) -> None:
        with pytest.raises(TypeError, match=exactly(
                "'history' must hold MonthlyEvaluation or Scorecard objects (got a int)")):
            evaluate(data, period=NOVEMBER, policy=POLICY,
                     history=[42])  # type: ignore[list-item]

    def test_empty_roster(self, data: Dataset) -> None:
        with pytest.raises(SchemaError, match=exactly(
                "scoring needs the roster: dataset.agents is empty (roles, teams and "
                "tracks come from it)")):
            evaluate(Dataset(tickets=data.tickets), period=NOVEMBER, policy=POLICY)

    def test_default_now_is_the_period_end(self, data: Dataset) -> None:
        ev = evaluate(data, period=NOVEMBER, policy=POLICY)
        assert NOVEMBER.end == ev.now
        plan = [c for c in ev.consequences if c.kind is PLAN][0]
        assert datetime(2025, 12, 8, 0, 0, tzinfo=SHANGHAI) == plan.due


class TestEventsMeasuredOnce:
    """With events, both panels come from one measurement of the SLA clocks and equal
    the panels kpi_panel measures on its own."""

    def test_panels_equal_kpi_panel_with_events(self) -> None:
        data = synth.month(seed=9, tickets=1_500, agents=10, stations=2)
        assert data.period is not None
        history = synth.events(data.tickets, seed=9)
        ev = evaluate(attrs.evolve(data, events=history), period=data.period)
        for panel, by in ((ev.panel, "agent"), (ev.team_panel, "team")):
            want = kpi_panel(data.tickets, period=data.period, by=by,
                             callbacks=data.callbacks, complaints=data.complaints,
                             orders=data.orders, events=history)
            assert want.keys == panel.keys
            assert np.nansum(want.denominator("sla_next_reply_rate")) > 0
            for name in want.names:
                assert np.array_equal(want[name], panel[name], equal_nan=True), name
