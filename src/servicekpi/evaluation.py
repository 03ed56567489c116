"""The monthly evaluation: what a service manager runs at the end of every month.

:func:`evaluate` runs every step on a :class:`~servicekpi.Dataset` — KPI panels by agent
and by team, the scorecard (KPI points, appraisal tracks, 360° ratings, grades, ranks),
the consequences of the ranking, the complaint analysis with its penalty summary, the
follow-up plan and its reconciliation against the callbacks made, team targets against
actuals and the customers' loyalty classes — and returns one immutable
:class:`MonthlyEvaluation`.

A :class:`MonthlyEvaluation` round-trips losslessly through JSON
(:meth:`MonthlyEvaluation.to_json` / :meth:`MonthlyEvaluation.from_json`), so a month's
result can be archived and handed to the next month's evaluation as ``history``: the
reassignment rule (last place three months in a row) reads it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any, Final, final

import attrs

from servicekpi import _extras
from servicekpi._codec import Codec
from servicekpi._frozen import FrozenDict
from servicekpi.dataset import Dataset
from servicekpi.domain import Period, enums
from servicekpi.exceptions import EvaluationFormatError, InvalidRecordError, NaiveDatetimeError
from servicekpi.metrics import KpiPanel, _clocks_of, _panel
from servicekpi.policy import LoyaltyPolicy, Policy
from servicekpi.rules.analysis import (
    ComplaintAnalysis,
    PenaltyRow,
    PenaltyStatus,
    StationShare,
    complaint_analysis,
)
from servicekpi.rules.escalation import Escalation
from servicekpi.rules.followup import (
    FollowUpPlan,
    Reconciliation,
    ReconcileStatus,
    plan_followups,
    reconcile,
)
from servicekpi.scoring import (
    Consequence,
    ConsequenceKind,
    ScoreLine,
    Scorecard,
    consequences,
    score_agents,
)
from servicekpi.scoring.team import (
    LoyaltyTable,
    TargetRow,
    TeamReport,
    loyalty_classes,
    team_targets,
)
from servicekpi.tables import ValidationIssue, ValidationReport

__all__ = ("MonthlyEvaluation", "evaluate")


_FORMAT: Final = "servicekpi.MonthlyEvaluation/1"


@final
@attrs.frozen(kw_only=True, eq=False)
class MonthlyEvaluation:
    """One period's evaluation, immutable; every part explains itself.

    Attributes:
        period: the period evaluated.
        now: the report date: follow-ups are planned and reconciled as of it, and
            improvement plans are due a week after it.
        policy: the policy in force.
        panel: KPIs by agent.
        team_panel: KPIs by team.
        scorecard: scores, grades and ranks (``scorecard.explain(agent_id)``).
        consequences: rewards, deductions, improvement plans, reassignment reviews.
        complaints: the complaint analysis with the station ranking and penalty summary.
        followups: the follow-up plan as of ``now``.
        reconciliation: each planned contact done on time, late, missed or pending.
        team: team targets against actuals.
        loyalty: each customer's loyalty class from return visits.

    Two evaluations are equal when they write the same JSON document.

    .. versionadded:: 0.1
    """

    period: Period
    now: datetime
    policy: Policy
    panel: KpiPanel
    team_panel: KpiPanel
    scorecard: Scorecard
    consequences: tuple[Consequence, ...]
    complaints: ComplaintAnalysis
    followups: FollowUpPlan
    reconciliation: Reconciliation
    team: TeamReport
    loyalty: LoyaltyTable

    def consequences_of(self, agent_id: str) -> tuple[Consequence, ...]:
        """The consequences for one agent (an unknown agent raises UnknownKeyError)."""
        self.scorecard.index(agent_id)
        return tuple(c for c in self.consequences if c.agent_id == agent_id)

    def to_json(self, *, indent: int | None = None) -> str:
        """The whole evaluation as JSON text that :meth:`from_json` reads back equal.

        The document is an object ``{"format": "servicekpi.MonthlyEvaluation/1",
        "evaluation": …}``; large numeric columns are base64 of their bytes.
        """
        document = {"format": _FORMAT, "evaluation": _CODEC.to_document(self)}
        return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=indent)

    @classmethod
    def from_json(cls, source: str | PathLike[str]) -> MonthlyEvaluation:
        """An evaluation from :meth:`to_json` text, or from a file: a path, or a string
        ending in ``.json`` that is not JSON text itself.

        Raises:
            EvaluationFormatError: the text is not such an evaluation, or the file
                cannot be read.
        """
        if isinstance(source, PathLike) or (
                isinstance(source, str) and source.rstrip().endswith(".json")
                and not source.lstrip().startswith(("{", "["))):
            try:
                source = Path(source).read_text(encoding="utf-8")
            except OSError as error:
                raise EvaluationFormatError(f"cannot read {str(source)!r}: "
                                            f"{error.strerror}") from error
        try:
            document = json.loads(source)
        except ValueError as error:
            raise EvaluationFormatError(f"not a servicekpi evaluation: {error}") from error
        found = document.get("format") if isinstance(document, dict) else None
        if found != _FORMAT:
            raise EvaluationFormatError(f"not a servicekpi evaluation (format {found!r}, "
                                        f"expected {_FORMAT!r})")
        try:
            evaluation = _CODEC.from_document(document.get("evaluation"))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
            raise EvaluationFormatError(f"not a servicekpi evaluation: {error}") from error
        if not isinstance(evaluation, MonthlyEvaluation):
            raise EvaluationFormatError("not a servicekpi evaluation: the document holds "
                                        f"a {type(evaluation).__name__}")
        return evaluation

    def to_frames(self, backend: str | None = None) -> dict[str, Any]:
        """Every table of the evaluation as a dataframe, by name (``panel``,
        ``team_panel``, ``scorecard``, ``consequences``, ``stations``, ``penalties``,
        ``followups``, ``team``, ``loyalty``); ``backend`` as in
        :meth:`KpiPanel.to_frame`. Needs the ``frames`` extra."""
        frames: dict[str, Any] = _extras.edge("io.frames").evaluation_to_frames(
            self, backend=backend)
        return frames

    def to_markdown(self) -> str:
        """The monthly report as Markdown (:func:`servicekpi.report.render_markdown`)."""
        text: str = _extras.edge("report.markdown").render_markdown(self)
        return text

    def to_html(self) -> str:
        """The monthly report as one self-contained HTML page, charts as inline SVG,
        every string escaped, no JavaScript (:func:`servicekpi.report.render_html`)."""
        text: str = _extras.edge("report.html").render_html(self)
        return text

    def _repr_html_(self) -> str:
        html: str = _extras.edge("report.notebook").evaluation_html(self)
        return html

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MonthlyEvaluation):
            return NotImplemented
        # The codec's documents, not their JSON texts: equal data, without the dumping.
        return self is other or _CODEC.to_document(self) == _CODEC.to_document(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        ranked = int((self.scorecard.ranks > 0).sum())
        return (f"<MonthlyEvaluation {self.period}: {len(self.scorecard)} agents "
                f"({ranked} ranked), {len(self.consequences)} consequences, "
                f"{self.complaints.complaints} complaints, {len(self.followups)} follow-ups>")


def evaluate(dataset: Dataset, *, period: Period, policy: Policy | None = None,
             history: Iterable[MonthlyEvaluation | Scorecard] = (),
             now: datetime | None = None) -> MonthlyEvaluation:
    """Evaluate *period*: panels, scores, ranks, consequences, complaints, follow-ups,
    team targets and loyalty classes.

    Args:
        dataset: the records (see :class:`~servicekpi.Dataset`); the roster is needed.
        period: the period evaluated (tickets count by ``opened_at``).
        policy: every number (default :meth:`Policy.default`).
        history: earlier evaluations (or their scorecards), for the reassignment rule.
        now: the report date, aware; default: the end of *period*.

    Raises:
        TypeError: *period* not a Period, *now* not a datetime, *history* holding
            something else.
        NaiveDatetimeError: *now* without a time zone.
        InvalidRecordError: *now* before the period starts.
        SchemaError: an empty roster.

    >>> from servicekpi import synth
    >>> data = synth.month(seed=1, tickets=2_000, agents=12, stations=1)
    >>> ev = evaluate(data, period=data.period)
    >>> ev.scorecard.ranking()[:2], len(ev.consequences)
    (['A0012', 'A0011'], 4)
    >>> MonthlyEvaluation.from_json(ev.to_json()) == ev
    True

    .. versionadded:: 0.1
    """
    policy, now, cards = _arguments(period, policy, now, history)
    # The SLA clocks do not depend on the grouping: measured once for both panels.
    clocks = None if dataset.events is None else _clocks_of(
        dataset.tickets, dataset.events, period=period, policy=policy)
    panel, team_panel = (_panel(dataset.tickets, period=period, by=by, policy=policy,
                                callbacks=dataset.callbacks, complaints=dataset.complaints,
                                orders=dataset.orders, events=dataset.events, clocks=clocks)
                         for by in ("agent", "team"))
    scorecard = score_agents(dataset, period=period, policy=policy, panel=panel)
    plan = plan_followups(dataset.tickets, dataset.customers, now=now, policy=policy,
                          callbacks=dataset.callbacks, agents=dataset.agents)
    return MonthlyEvaluation(
        period=period, now=now, policy=policy, panel=panel, team_panel=team_panel,
        scorecard=scorecard,
        consequences=consequences(scorecard, report_date=now, policy=policy, history=cards),
        complaints=complaint_analysis(dataset.complaints, dataset.callbacks, period=period,
                                      policy=policy, volume=dataset.tickets, now=now),
        followups=plan, reconciliation=reconcile(plan, dataset.callbacks, as_of=now),
        team=team_targets(dataset, period=period, policy=policy),
        loyalty=loyalty_classes(dataset.tickets, dataset.customers, period=period,
                                policy=policy))


def _arguments(period: object, policy: Policy | None, now: object,
               history: Iterable[MonthlyEvaluation | Scorecard]
               ) -> tuple[Policy, datetime, list[Scorecard]]:
    """The checked arguments of an evaluation: the policy, the report date, the history's
    scorecards."""
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    policy = Policy.default() if policy is None else policy
    if now is not None and not isinstance(now, datetime):
        raise TypeError(f"'now' must be a timezone-aware datetime (got {now!r})")
    when = period.end if now is None else now
    if when.utcoffset() is None:
        raise NaiveDatetimeError(f"'now' must be a timezone-aware datetime (got {now!r})")
    if when < period.start:
        raise InvalidRecordError(f"'now' ({when.isoformat()}) is before the period "
                                 f"{period.label} starts")
    cards = [item.scorecard if isinstance(item, MonthlyEvaluation) else item
             for item in history]
    for card in cards:
        if not isinstance(card, Scorecard):
            raise TypeError(f"'history' must hold MonthlyEvaluation or Scorecard objects "
                            f"(got a {type(card).__name__})")
    return policy, when, cards


# --------------------------------------------------------------------------- JSON


def _policy_pair() -> tuple[Any, Any]:
    return (lambda policy: policy.to_mapping(), Policy.from_mapping)


def _plan_encode(plan: FollowUpPlan) -> dict[str, Any]:
    return {"columns": {name: _CODEC.encode(plan._columns[name]) for name in plan.columns},
            "labels": {name: list(labels) for name, labels in plan._labels.items()},
            "now": plan.now, "tz": plan.tz}


def _plan_decode(data: dict[str, Any]) -> FollowUpPlan:
    return FollowUpPlan({name: _CODEC.decode(value) for name, value in data["columns"].items()},
                        {name: tuple(labels) for name, labels in data["labels"].items()},
                        now=data["now"], tz=data["tz"], presorted=True)


_ENUMS: Final = tuple(value for value in vars(enums).values()
                      if isinstance(value, type) and issubclass(value, enum.Enum)
                      and value.__module__ == enums.__name__)

_CODEC: Final[Codec] = Codec(
    types=(MonthlyEvaluation, Period, KpiPanel, Scorecard, ScoreLine, Consequence,
           ConsequenceKind, ComplaintAnalysis, StationShare, PenaltyRow, PenaltyStatus,
           Escalation, ValidationReport, ValidationIssue, Reconciliation, ReconcileStatus,
           TeamReport, TargetRow, LoyaltyTable, LoyaltyPolicy, FrozenDict, *_ENUMS),
    custom={Policy: _policy_pair(), FollowUpPlan: (_plan_encode, _plan_decode),
            FrozenDict: (lambda mapping: _CODEC.encode(dict(mapping)),
                         lambda data: FrozenDict(_CODEC.decode(data)))})
