"""考核结果的运用: rewards, deductions, improvement plans and reassignment reviews.

Online-shop defaults (``policy.consequences``, DOMAIN.md §3), applied per ranking group
of the :class:`~servicekpi.scoring.Scorecard`:

* rank 1 of the month is rewarded ``first_reward`` (100); the last rank has
  ``last_deduction`` (100) deducted from commission;
* the bottom ``improvement_plan_bottom`` (two) ranks owe an improvement plan (整改方案)
  due ``improvement_plan_days`` (7) calendar days after the report date;
* last place ``reassignment_after_last_months`` (3) periods in a row of consecutive
  periods — this one and the ones before it in the history — calls for a
  reassignment review (考虑调岗). A period missing from the history breaks the run;
  periods match by months, whatever the time zone they were written in.

A group with a single ranked agent has no first and no last: nobody in it is rewarded,
charged or asked for a plan. The first-ranked agent is never asked for an improvement
plan (in a group of two only the last is). Unranked (unavailable) agents have no
consequences; their status says why.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import final

import attrs

from servicekpi.domain import Period
from servicekpi.exceptions import NaiveDatetimeError
from servicekpi.policy import Policy
from servicekpi.scoring.scorecard import Scorecard

__all__ = ("Consequence", "ConsequenceKind", "consequences")


class ConsequenceKind(enum.StrEnum):
    """What a ranking leads to.

    .. versionadded:: 0.1
    """

    REWARD = "reward"
    DEDUCTION = "deduction"
    IMPROVEMENT_PLAN = "improvement_plan"
    REASSIGNMENT_REVIEW = "reassignment_review"


@final
@attrs.frozen(kw_only=True)
class Consequence:
    """One consequence for one agent, with the reason in words.

    ``amount`` is signed (a reward is positive, a deduction negative, 0 otherwise);
    ``due`` is set for an improvement plan.

    .. versionadded:: 0.1
    """

    agent_id: str
    kind: ConsequenceKind = attrs.field(converter=ConsequenceKind)
    amount: float
    due: datetime | None
    group: str
    reason: str


def consequences(scorecard: Scorecard, *, report_date: datetime,
                 policy: Policy | None = None,
                 history: Iterable[Scorecard] = ()) -> tuple[Consequence, ...]:
    """The consequences of *scorecard*'s ranking.

    Args:
        scorecard: this period's scorecard.
        report_date: when the monthly report is issued (aware); improvement plans are
            due ``policy.consequences.improvement_plan_days`` after it.
        policy: the amounts and thresholds (default :meth:`Policy.default`).
        history: scorecards of earlier periods, in any order; only the periods directly
            before this one, without a gap, count for the reassignment rule.

    Returns:
        The consequences, group by group, in rank order.

    >>> from datetime import datetime, timezone
    >>> from servicekpi import synth
    >>> from servicekpi.scoring import score_agents
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> card = score_agents(data, period=data.period)
    >>> for c in consequences(card, report_date=datetime(2026, 11, 3, tzinfo=timezone.utc)):
    ...     print(c.agent_id, c.kind.value, c.amount, c.due and c.due.date())
    A0008 reward 100.0 None
    A0007 improvement_plan 0.0 2026-11-10
    A0005 improvement_plan 0.0 2026-11-10
    A0005 deduction -100.0 None

    .. versionadded:: 0.1
    """
    if not isinstance(report_date, datetime) or report_date.utcoffset() is None:
        raise NaiveDatetimeError(f"'report_date' must be a timezone-aware datetime "
                                 f"(got {report_date!r})")
    rules = (Policy.default() if policy is None else policy).consequences
    past = {_span(card.period): card.last_of_group() for card in history}
    due = report_date + timedelta(days=rules.improvement_plan_days)
    out: list[Consequence] = []
    for group, agents in _by_group(scorecard).items():
        size = len(agents)
        if size < 2:
            continue
        first, last = agents[0], agents[-1]
        if rules.first_reward:
            out.append(Consequence(agent_id=first, kind=ConsequenceKind.REWARD,
                                   amount=float(rules.first_reward), due=None, group=group,
                                   reason=f"rank 1 of {size} in {group}"))
        bottom = agents[max(1, size - rules.improvement_plan_bottom):]
        for agent in bottom:
            rank = agents.index(agent) + 1
            out.append(Consequence(
                agent_id=agent, kind=ConsequenceKind.IMPROVEMENT_PLAN, amount=0.0, due=due,
                group=group,
                reason=f"rank {rank} of {size} in {group}: among the bottom "
                       f"{rules.improvement_plan_bottom}, an improvement plan is due within "
                       f"{rules.improvement_plan_days} days of the report"))
        if rules.last_deduction:
            out.append(Consequence(agent_id=last, kind=ConsequenceKind.DEDUCTION,
                                   amount=-float(rules.last_deduction), due=None, group=group,
                                   reason=f"rank {size} of {size} in {group}: last place"))
        run = _last_run(last, scorecard.period, past)
        if run >= rules.reassignment_after_last_months:
            out.append(Consequence(
                agent_id=last, kind=ConsequenceKind.REASSIGNMENT_REVIEW, amount=0.0,
                due=None, group=group,
                reason=f"last place {run} periods in a row (policy: "
                       f"{rules.reassignment_after_last_months}): consider reassignment"))
    return tuple(out)


def _by_group(card: Scorecard) -> dict[str, list[str]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for i, agent in enumerate(card.agent_ids):
        if card.ranks[i] > 0:
            groups.setdefault(card.groups[i], []).append((int(card.ranks[i]), agent))
    return {group: [agent for _, agent in sorted(members)]
            for group, members in sorted(groups.items())}


def _span(period: Period) -> tuple[str, int, int]:
    # Periods are matched by kind, year and index: a history written in another zone
    # still continues the run.
    return (period.kind.value, period.year, period.index)


def _last_run(agent: str, period: Period,
              past: Mapping[tuple[str, int, int], Mapping[str, str]]) -> int:
    """Periods in a row, ending with this one, in which *agent* was last of its group."""
    run, before = 1, period.previous()
    while _span(before) in past and agent in past[_span(before)].values():
        run += 1
        before = before.previous()
    return run
