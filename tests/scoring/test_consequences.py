"""Tests of servicekpi.scoring.consequences: rewards, deductions, plans, reassignment.

Scorecards are built by hand (:func:`card`: each group's agents listed best first) so
that the ranking is obvious; one test goes through :func:`score_agents`. Tables pin who
gets what in groups of 1, 2, 3 and 5, the due date of an improvement plan, zero
amounts, and the last-place run across periods (a year boundary, a gap month, history
in any order, another group, another threshold).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicekpi._frozen import FrozenDict
from servicekpi.dataset import Dataset
from servicekpi.domain import Agent, Appraisal, AppraisalTrack, Period, Role
from servicekpi.exceptions import NaiveDatetimeError
from servicekpi.policy import ConsequencePolicy, Policy
from servicekpi.scoring import (
    Consequence,
    ConsequenceKind,
    Scorecard,
    consequences,
    score_agents,
)
from servicekpi.tables import AgentTable, TicketTable, ValidationReport

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
REPORT = datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI)
DUE = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
OCTOBER = Period.month(2026, 10, tz=TZ)
NOV, DEC, JAN = (Period.month(2025, 11, tz=TZ), Period.month(2025, 12, tz=TZ),
                 Period.month(2026, 1, tz=TZ))
OCT_2025 = Period.month(2025, 10, tz=TZ)

REWARD, DEDUCTION = ConsequenceKind.REWARD, ConsequenceKind.DEDUCTION
PLAN, REVIEW = ConsequenceKind.IMPROVEMENT_PLAN, ConsequenceKind.REASSIGNMENT_REVIEW

Row = tuple[str, ConsequenceKind, float, datetime | None, str]


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def card(period: Period, ranking: Mapping[str, Sequence[str]],
         unranked: Sequence[tuple[str, str]] = ()) -> Scorecard:
    """A scorecard whose groups rank their agents in the order given (best first).

    The roster order is the reverse of the ranking, so that nothing can rely on it;
    *unranked* ``(agent, group)`` pairs are unavailable (NaN, rank 0).
    """
    rows: list[tuple[str, str, int, int, float]] = []  # agent, group, rank, size, composite
    for group, agents in ranking.items():
        for rank, agent_id in enumerate(agents, start=1):
            score = 100.0 * (1 - rank / (len(agents) + 1))
            rows.append((agent_id, group, rank, len(agents), score))
    rows.extend((agent_id, group, 0, 0, math.nan) for agent_id, group in unranked)
    rows.reverse()
    composite = np.array([r[4] for r in rows], dtype=np.float64)
    n = len(rows)
    policy = Policy.default()
    return Scorecard(
        period=period, agent_ids=tuple(r[0] for r in rows), groups=tuple(r[1] for r in rows),
        tickets=np.zeros(n, dtype=np.int64), kpi_score=composite.copy(),
        appraisal_score=np.full(n, math.nan), rater_score=np.full(n, math.nan),
        composite=composite,
        grades=tuple(None if math.isnan(c) else policy.grade(c) for c in composite.tolist()),
        ranks=np.array([r[2] for r in rows], dtype=np.int64),
        group_sizes=np.array([r[3] for r in rows], dtype=np.int64),
        status=tuple("ranked" if r[2] else "unavailable: test" for r in rows),
        lines=FrozenDict({r[0]: () for r in rows}),
        report=ValidationReport(table="scoring", rows_in=n, rows_valid=n))


def rows(result: Sequence[Consequence]) -> list[Row]:
    return [(c.agent_id, c.kind, c.amount, c.due, c.group) for c in result]


def agents(n: int) -> list[str]:
    return [f"A-{k}" for k in range(1, n + 1)]


class TestGroupSizes:
    """Who gets a reward, a deduction and an improvement plan, by group size."""

    @pytest.mark.parametrize(("size", "expected"), [
        (1, []),
        (2, [("A-1", REWARD, 100.0, None, "TM-1"),
             ("A-2", PLAN, 0.0, DUE, "TM-1"),
             ("A-2", DEDUCTION, -100.0, None, "TM-1")]),
        (3, [("A-1", REWARD, 100.0, None, "TM-1"),
             ("A-2", PLAN, 0.0, DUE, "TM-1"),
             ("A-3", PLAN, 0.0, DUE, "TM-1"),
             ("A-3", DEDUCTION, -100.0, None, "TM-1")]),
        (5, [("A-1", REWARD, 100.0, None, "TM-1"),
             ("A-4", PLAN, 0.0, DUE, "TM-1"),
             ("A-5", PLAN, 0.0, DUE, "TM-1"),
             ("A-5", DEDUCTION, -100.0, None, "TM-1")]),
    ])
    def test_defaults(self, size: int, expected: list[Row]) -> None:
        result = consequences(card(OCTOBER, {"TM-1": agents(size)}), report_date=REPORT)
        assert expected == rows(result)

    def test_reasons(self) -> None:
        result = consequences(card(OCTOBER, {"TM-1": agents(3)}), report_date=REPORT)
        assert ["rank 1 of 3 in TM-1",
                "rank 2 of 3 in TM-1: among the bottom 2, an improvement plan is due within "
                "7 days of the report",
                "rank 3 of 3 in TM-1: among the bottom 2, an improvement plan is due within "
                "7 days of the report",
                "rank 3 of 3 in TM-1: last place"] == [c.reason for c in result]

    def test_groups_in_order(self) -> None:
        scorecard = card(OCTOBER, {"TM-2": ["B-1", "B-2"], "TM-1": ["A-1"],
                                   "TM-3": ["C-9", "C-1", "C-5"]})
        assert [("B-1", REWARD, 100.0, None, "TM-2"),
                ("B-2", PLAN, 0.0, DUE, "TM-2"),
                ("B-2", DEDUCTION, -100.0, None, "TM-2"),
                ("C-9", REWARD, 100.0, None, "TM-3"),
                ("C-1", PLAN, 0.0, DUE, "TM-3"),
                ("C-5", PLAN, 0.0, DUE, "TM-3"),
                ("C-5", DEDUCTION, -100.0, None, "TM-3")] == rows(
            consequences(scorecard, report_date=REPORT))

    def test_unranked_agents_have_none(self) -> None:
        # Three agents in the group but one unavailable: a group of two.
        scorecard = card(OCTOBER, {"TM-1": ["A-1", "A-2"]}, unranked=[("A-0", "TM-1")])
        result = consequences(scorecard, report_date=REPORT)
        assert "A-0" not in {c.agent_id for c in result}
        assert [("A-1", REWARD), ("A-2", PLAN), ("A-2", DEDUCTION)] == [
            (c.agent_id, c.kind) for c in result]
        # a group whose only agents are unavailable has nothing at all
        alone = card(OCTOBER, {}, unranked=[("A-0", "TM-1"), ("A-9", "TM-1")])
        assert () == consequences(alone, report_date=REPORT)

    @given(st.integers(min_value=2, max_value=12), st.integers(min_value=0, max_value=14))
    @settings(max_examples=40, deadline=None)
    def test_counts_for_any_size(self, size: int, bottom: int) -> None:
        policy = Policy.default().replace(
            consequences=ConsequencePolicy(improvement_plan_bottom=bottom))
        result = consequences(card(OCTOBER, {"TM-1": agents(size)}), report_date=REPORT,
                              policy=policy)
        plans = [c.agent_id for c in result if c.kind is PLAN]
        # the bottom ranks, never the first-ranked agent
        assert agents(size)[max(1, size - bottom):] == plans
        assert [f"A-{size}"] == [c.agent_id for c in result if c.kind is DEDUCTION]
        assert ["A-1"] == [c.agent_id for c in result if c.kind is REWARD]


class TestPolicy:
    """Amounts, the number of bottom ranks and the plan's delay come from the policy."""

    def test_zero_amounts_skip_reward_and_deduction(self) -> None:
        policy = Policy.default().replace(
            consequences=ConsequencePolicy(first_reward=0, last_deduction=0))
        result = consequences(card(OCTOBER, {"TM-1": agents(3)}), report_date=REPORT,
                              policy=policy)
        assert [("A-2", PLAN, 0.0, DUE, "TM-1"), ("A-3", PLAN, 0.0, DUE, "TM-1")] == rows(
            result)

    def test_amounts(self) -> None:
        policy = Policy.default().replace(consequences=ConsequencePolicy(
            first_reward=250.5, last_deduction=80, improvement_plan_bottom=1,
            improvement_plan_days=14))
        result = consequences(card(OCTOBER, {"TM-1": agents(3)}), report_date=REPORT,
                              policy=policy)
        assert [("A-1", REWARD, 250.5, None, "TM-1"),
                ("A-3", PLAN, 0.0, REPORT + timedelta(days=14), "TM-1"),
                ("A-3", DEDUCTION, -80.0, None, "TM-1")] == rows(result)

    def test_no_improvement_plans(self) -> None:
        policy = Policy.default().replace(
            consequences=ConsequencePolicy(improvement_plan_bottom=0))
        result = consequences(card(OCTOBER, {"TM-1": agents(3)}), report_date=REPORT,
                              policy=policy)
        assert [REWARD, DEDUCTION] == [c.kind for c in result]


class TestDueDate:
    """An improvement plan is due 7 calendar days after the report, in its zone."""

    @pytest.mark.parametrize(("report", "due"), [
        (REPORT, "2026-11-10T10:00:00+08:00"),
        (datetime(2026, 11, 3, 23, 59, 59, tzinfo=timezone.utc), "2026-11-10T23:59:59+00:00"),
        (datetime(2026, 12, 28, 9, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
         "2027-01-04T09:30:00-03:30"),
        # across the end of summer time: 7 days on the wall clock
        (datetime(2026, 10, 22, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")),
         "2026-10-29T12:00:00+01:00"),
    ])
    def test_due(self, report: datetime, due: str) -> None:
        result = consequences(card(OCTOBER, {"TM-1": agents(2)}), report_date=report)
        plan = next(c for c in result if c.kind is PLAN)
        assert plan.due is not None
        assert due == plan.due.isoformat()
        assert report + timedelta(days=7) == plan.due
        assert report.tzinfo is plan.due.tzinfo
        assert all(c.due is None for c in result if c.kind is not PLAN)

    @pytest.mark.parametrize("report", [datetime(2026, 11, 3, 10, 0), date(2026, 11, 3)])
    def test_naive_report_date(self, report: datetime) -> None:
        with pytest.raises(NaiveDatetimeError, match=exactly(
                f"'report_date' must be a timezone-aware datetime (got {report!r})")):
            consequences(card(OCTOBER, {"TM-1": agents(2)}), report_date=report)


class TestReassignment:
    """Last place N periods in a row, ending with this one, calls for a review."""

    @staticmethod
    def reviews(scorecard: Scorecard, history: Sequence[Scorecard],
                months: int = 3) -> list[tuple[str, str]]:
        policy = Policy.default().replace(
            consequences=ConsequencePolicy(reassignment_after_last_months=months))
        return [(c.agent_id, c.reason) for c in consequences(
            scorecard, report_date=REPORT, policy=policy, history=history)
            if c.kind is REVIEW]

    def test_three_months_across_the_year_boundary(self) -> None:
        history = [card(NOV, {"TM-1": ["A-1", "A-2", "A-3"]}),
                   card(DEC, {"TM-1": ["A-2", "A-1", "A-3"]})]
        now = card(JAN, {"TM-1": ["A-1", "A-2", "A-3"]})
        assert [("A-3", "last place 3 periods in a row (policy: 3): consider reassignment")
                ] == self.reviews(now, history)
        result = consequences(now, report_date=REPORT, history=history)
        assert ("A-3", REVIEW, 0.0, None, "TM-1") == rows(result)[-1]

    def test_two_months_are_not_enough(self) -> None:
        history = [card(DEC, {"TM-1": ["A-1", "A-3"]})]
        assert [] == self.reviews(card(JAN, {"TM-1": ["A-1", "A-3"]}), history)

    def test_a_gap_month_breaks_the_run(self) -> None:
        history = [card(OCT_2025, {"TM-1": ["A-1", "A-3"]}),
                   card(NOV, {"TM-1": ["A-1", "A-3"]})]  # December missing
        assert [] == self.reviews(card(JAN, {"TM-1": ["A-1", "A-3"]}), history)

    def test_not_last_in_between_breaks_the_run(self) -> None:
        history = [card(NOV, {"TM-1": ["A-1", "A-3"]}), card(DEC, {"TM-1": ["A-3", "A-1"]})]
        assert [] == self.reviews(card(JAN, {"TM-1": ["A-1", "A-3"]}), history)

    def test_alone_in_a_group_is_not_last(self) -> None:
        history = [card(NOV, {"TM-1": ["A-1", "A-3"]}), card(DEC, {"TM-2": ["A-3"]})]
        assert [] == self.reviews(card(JAN, {"TM-1": ["A-1", "A-3"]}), history)

    def test_unavailable_in_between_breaks_the_run(self) -> None:
        history = [card(NOV, {"TM-1": ["A-1", "A-3"]}),
                   card(DEC, {"TM-1": ["A-1", "A-2"]}, unranked=[("A-3", "TM-1")])]
        assert [] == self.reviews(card(JAN, {"TM-1": ["A-1", "A-3"]}), history)

    def test_not_last_now(self) -> None:
        history = [card(NOV, {"TM-1": ["A-1", "A-3"]}), card(DEC, {"TM-1": ["A-1", "A-3"]})]
        assert [] == self.reviews(card(JAN, {"TM-1": ["A-3", "A-1"]}), history)

    @given(st.permutations([card(OCT_2025, {"TM-1": ["A-1", "A-3"]}),
                            card(NOV, {"TM-1": ["A-1", "A-3"]}),
                            card(DEC, {"TM-1": ["A-1", "A-3"]}),
                            card(Period.month(2025, 6, tz=TZ), {"TM-1": ["A-3", "A-1"]})]))
    @settings(max_examples=24, deadline=None)
    def test_history_in_any_order(self, history: list[Scorecard]) -> None:
        assert [("A-3", "last place 4 periods in a row (policy: 3): consider reassignment")
                ] == self.reviews(card(JAN, {"TM-1": ["A-1", "A-3"]}), history)

    def test_last_in_another_group_earlier_counts(self) -> None:
        history = [card(NOV, {"TM-2": ["B-1", "A-3"], "TM-1": ["A-1", "A-2"]}),
                   card(DEC, {"TM-1": ["A-1", "A-3"], "TM-2": ["B-1", "B-2"]})]
        now = card(JAN, {"TM-1": ["A-1", "A-3"], "TM-2": ["B-1", "B-2"]})
        assert [("A-3", "last place 3 periods in a row (policy: 3): consider reassignment")
                ] == self.reviews(now, history)

    @pytest.mark.parametrize(("months", "history", "expected"), [
        (2, [DEC], ["A-3"]),
        (2, [], []),
        (1, [], ["A-3"]),
        (4, [NOV, DEC], []),
        (4, [OCT_2025, NOV, DEC], ["A-3"]),
    ])
    def test_policy_months(self, months: int, history: list[Period],
                           expected: list[str]) -> None:
        cards = [card(p, {"TM-1": ["A-1", "A-3"]}) for p in history]
        assert expected == [agent for agent, _ in self.reviews(
            card(JAN, {"TM-1": ["A-1", "A-3"]}), cards, months)]

    def test_the_current_period_in_the_history_is_not_counted_twice(self) -> None:
        now = card(JAN, {"TM-1": ["A-1", "A-3"]})
        history = [now, card(DEC, {"TM-1": ["A-1", "A-3"]})]
        assert [] == self.reviews(now, history)

    def test_every_group_has_its_own_last(self) -> None:
        history = [card(p, {"TM-1": ["A-1", "A-3"], "TM-2": ["B-1", "B-2"]})
                   for p in (NOV, DEC)]
        now = card(JAN, {"TM-1": ["A-1", "A-3"], "TM-2": ["B-1", "B-2"]})
        assert ["A-3", "B-2"] == [agent for agent, _ in self.reviews(now, history)]


class TestThroughScoreAgents:
    """Consequences of a scorecard that score_agents made."""

    def test_obvious_ranking(self) -> None:
        quality = {"A-1": 50.0, "A-2": 90.0, "A-3": 70.0, "B-1": 60.0}
        roster = [Agent(agent_id=a, name=a, role=Role.SERVICE_MANAGER,
                        team_id="TM-1" if a.startswith("A") else "TM-2", station_id="S-1")
                  for a in quality]
        data = Dataset(tickets=TicketTable.from_records([]),
                       agents=AgentTable.from_records(roster),
                       appraisals=[Appraisal(agent_id=a, period=OCTOBER,
                                             track=AppraisalTrack.PERFORMANCE_AGREEMENT,
                                             quality_score=q) for a, q in quality.items()])
        scorecard = score_agents(data, period=OCTOBER)
        assert ["A-2", "A-3", "A-1", "B-1"] == scorecard.ranking()
        assert [("A-2", REWARD, 100.0, None, "TM-1"),
                ("A-3", PLAN, 0.0, DUE, "TM-1"),
                ("A-1", PLAN, 0.0, DUE, "TM-1"),
                ("A-1", DEDUCTION, -100.0, None, "TM-1")] == rows(
            consequences(scorecard, report_date=REPORT))


class TestConsequence:
    """The Consequence value object."""

    def test_kind_is_converted(self) -> None:
        c = Consequence(agent_id="A-1", kind="reward", amount=1.0, due=None, group="TM-1",
                        reason="r")
        assert ConsequenceKind.REWARD is c.kind

    def test_unknown_kind(self) -> None:
        with pytest.raises(ValueError, match="'bonus' is not a valid ConsequenceKind"):
            Consequence(agent_id="A-1", kind="bonus", amount=1.0, due=None, group="TM-1",
                        reason="r")
