"""The monthly report as plain text (what ``servicekpi demo`` prints).

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from servicekpi.evaluation import MonthlyEvaluation
from servicekpi.rules.followup import ReconcileStatus
from servicekpi.scoring import ConsequenceKind

__all__ = ("render_text",)

_KPI_COLUMNS = (  # (KPI, header, format); seconds are shown in hours
    ("tickets", "tickets", "{:,.0f}"),
    ("fcr_rate", "FCR", "{:.1%}"),
    ("csi_rate", "CSI", "{:.1%}"),
    ("resolution_work_seconds_median", "res. h", "{:.1f}"),
    ("sla_resolution_rate", "SLA", "{:.1%}"),
    ("rework_rate", "rework", "{:.1%}"),
    ("callback_completion_rate", "callbk", "{:.1%}"),
    ("complaint_rate", "complnt", "{:.2%}"),
)


def render_text(evaluation: MonthlyEvaluation, *, groups: int = 6, rows: int = 12,
                preamble: Iterable[str] = ()) -> str:
    """The evaluation as a readable monthly report.

    Args:
        evaluation: what :func:`~servicekpi.evaluate` returned.
        groups: ranking groups shown in full (the others are summarised).
        rows: rows shown per long table.
        preamble: lines printed under the title (e.g. the dataset summary).

    >>> from servicekpi import evaluate, synth
    >>> data = synth.month(seed=1, tickets=2_000, agents=12, stations=1)
    >>> text = render_text(evaluate(data, period=data.period))
    >>> print(text.splitlines()[0])
    servicekpi — monthly evaluation 2026-10 (Asia/Shanghai)
    """
    title = f"servicekpi — monthly evaluation {evaluation.period}"
    lines = [title, "=" * len(title), f"report date {evaluation.now.isoformat()}", ""]
    lines += [*preamble]
    if lines[-1] != "":
        lines.append("")
    lines += _ranking(evaluation, groups)
    lines += _consequences(evaluation, rows)
    lines += _explanation(evaluation)
    lines += _team_kpis(evaluation, rows)
    lines += _complaints(evaluation, rows)
    lines += _followups(evaluation)
    lines += ["Team targets vs actuals (售后经营发展目标)", *_indent(str(evaluation.team)), ""]
    lines += _loyalty(evaluation)
    lines += _policy(evaluation)
    return "\n".join(lines).rstrip() + "\n"


def _indent(text: str) -> list[str]:
    return [f"  {line}" for line in text.splitlines()]


def _fmt(value: float, spec: str = "{:.1f}") -> str:
    return "–" if math.isnan(value) else spec.format(value)


def _ranking(ev: MonthlyEvaluation, shown: int) -> list[str]:
    card = ev.scorecard
    scope = ev.policy.scoring.ranking
    grades = Counter(g for g in card.grades if g is not None)
    order = sorted(ev.policy.grades.items(), key=lambda item: -item[1])
    lines = [f"Scores and ranking by {scope} (综合排名): {len(card)} agents, "
             f"{int((card.ranks > 0).sum())} ranked",
             "  grades: " + ", ".join(f"{g} {grades.get(g, 0)}" for g, _ in order)]
    unavailable = [(a, s) for a, s in zip(card.agent_ids, card.status, strict=True)
                   if s != "ranked"]
    if unavailable:
        lines.append(f"  not ranked: {len(unavailable)} — e.g. {unavailable[0][0]}: "
                     f"{unavailable[0][1]}")
    marks = {ConsequenceKind.REWARD: "+", ConsequenceKind.DEDUCTION: "−",
             ConsequenceKind.IMPROVEMENT_PLAN: "plan", ConsequenceKind.REASSIGNMENT_REVIEW:
             "review"}
    flagged: dict[str, list[str]] = {}
    for c in ev.consequences:
        flagged.setdefault(c.agent_id, []).append(marks[c.kind])
    groups = sorted(set(card.groups[i] for i in range(len(card)) if card.ranks[i] > 0))
    header = (f"    {'rank':>4}  {'agent':<10} {'score':>6} {'grade':>5} {'KPIs':>6} "
              f"{'appr.':>6} {'360°':>6} {'tickets':>7}  consequences")
    for group in groups[:shown]:
        lines.append(f"  {scope} {group}")
        lines.append(header)
        for agent in card.ranking(group):
            i = card.index(agent)
            lines.append(f"    {int(card.ranks[i]):>4}  {agent:<10} "
                         f"{_fmt(float(card.composite[i])):>6} {card.grades[i] or '–':>5} "
                         f"{_fmt(float(card.kpi_score[i])):>6} "
                         f"{_fmt(float(card.appraisal_score[i])):>6} "
                         f"{_fmt(float(card.rater_score[i])):>6} {int(card.tickets[i]):>7}  "
                         f"{' '.join(flagged.get(agent, []))}")
    if len(groups) > shown:
        lines.append(f"  … and {len(groups) - shown} more groups "
                     f"(scorecard.ranking(group) lists any of them)")
    lines.append("")
    return lines


def _consequences(ev: MonthlyEvaluation, rows: int) -> list[str]:
    counts = Counter(c.kind for c in ev.consequences)
    money = sum(c.amount for c in ev.consequences)
    lines = ["Consequences (考核结果的运用): " + ", ".join(
        f"{kind.value.replace('_', ' ')} {counts.get(kind, 0)}" for kind in ConsequenceKind)
        + f"; net {money:+,.0f}"]
    # Reviews first; the rest keep their order (group by group, in rank order).
    important = sorted(ev.consequences,
                       key=lambda c: c.kind is not ConsequenceKind.REASSIGNMENT_REVIEW)
    for c in important[:rows]:
        due = f" due {c.due.date().isoformat()}" if c.due else ""
        amount = f" {c.amount:+,.0f}" if c.amount else ""
        lines.append(f"  {c.agent_id:<10} {c.kind.value:<20}{amount}{due} — {c.reason}")
    if len(important) > rows:
        lines.append(f"  … and {len(important) - rows} more")
    lines.append("")
    return lines


def _explanation(ev: MonthlyEvaluation) -> list[str]:
    card = ev.scorecard
    last = card.last_of_group()
    if not last:
        return []
    agent = last[sorted(last)[0]]
    text = str(card.explain(agent))
    return ["Why the last place (scorecard.explain) — every point can be checked:",
            *_indent(text), ""]


def _team_kpis(ev: MonthlyEvaluation, rows: int) -> list[str]:
    panel = ev.team_panel
    header = f"  {'team':<8}" + "".join(f"{h:>9}" for _, h, _ in _KPI_COLUMNS)
    lines = ["KPIs by team (targets from the policy)", header]
    for i, key in enumerate(panel.keys[:rows]):
        cells = []
        for name, _, spec in _KPI_COLUMNS:
            value = float(panel[name][i])
            if name.endswith("_seconds_median"):
                value /= 3600
            cells.append(f"{_fmt(value, spec):>9}")
        lines.append(f"  {str(key):<8}" + "".join(cells))
    if len(panel.keys) > rows:
        lines.append(f"  … and {len(panel.keys) - rows} more teams")
    targets = []
    for name, _, spec in _KPI_COLUMNS:
        target = ev.policy.kpis.get(name)
        value = math.nan if target is None else target.target
        if name.endswith("_seconds_median"):
            value /= 3600
        targets.append(f"{_fmt(value, spec) if target else '':>9}")
    lines.append(f"  {'target':<8}" + "".join(targets))
    lines.append("")
    return lines


def _complaints(ev: MonthlyEvaluation, rows: int) -> list[str]:
    analysis = ev.complaints
    levels = ", ".join(f"{level.name.lower()} {count:,}"
                       for level, count in analysis.by_level.items())
    lines = [f"Complaints (投诉): {analysis.complaints:,} received — {levels}",
             "  by type: " + ", ".join(f"{k} {v}" for k, v in analysis.by_type.items()),
             "  station ranking (rank 1 = lowest complaint share):"]
    for share in analysis.stations[:rows]:
        rank = "–" if share.rank is None else str(share.rank)
        lines.append(f"    {rank:>2}. {share.station_id:<8} {share.complaints:>5} complaints / "
                     f"{share.volume:>8,.0f} tickets = {share.share:.2%}")
    status = "recorded only (special period)" if analysis.special_period else "enforced"
    lines.append(f"  penalty summary (月处罚汇总表, {status}): total "
                 f"{analysis.penalty_total:,.0f}")
    for row in analysis.penalties[:rows]:
        lines.append(f"    {row.responsible:<12} {row.station_id:<6} repeat {row.repeat:>3}  "
                     f"severe {row.severe:>3}  amount {row.amount:>8,.0f}")
    if analysis.severe:
        example = analysis.severe[0]
        lines.append(f"  e.g. {example.complaint_id} is severe: {example.reasons[-1]}")
    lines.append("")
    return lines


def _followups(ev: MonthlyEvaluation) -> list[str]:
    plan, rec = ev.followups, ev.reconciliation
    status = Counter(rec.status)
    overdue = len(plan.overdue())
    lines = [f"Follow-ups (跟踪服务): {len(plan):,} planned contacts, {overdue:,} with the "
             f"window closed by the report date",
             "  by rule: " + ", ".join(f"{rule} {count:,}"
                                       for rule, count in plan.counts().items()),
             "  against the callbacks made: " + ", ".join(
                 f"{s.value.replace('_', ' ')} {status.get(s, 0):,}" for s in ReconcileStatus),
             f"  completion {_fmt(rec.callback_completion_rate, '{:.1%}')}, on time "
             f"{_fmt(rec.callback_on_time_rate, '{:.1%}')} (target "
             f"{ev.policy.kpis['callback_completion_rate'].target:.0%})", ""]
    return lines


def _loyalty(ev: MonthlyEvaluation) -> list[str]:
    table = ev.loyalty
    counts = table.counts()
    changed = table.changed()
    return ["Customers by loyalty (忠诚/一般/流失), from return visits: " + ", ".join(
        f"{level.value} {count:,}" for level, count in counts.items())
        + f"; {len(changed):,} changed class", ""]


def _policy(ev: MonthlyEvaluation) -> list[str]:
    policy = ev.policy
    parts = ", ".join(f"{name} {share:.0%}" for name, share in policy.scoring.components.items())
    return ["Policy in force (defaults from the source documents)",
            f"  composite: {parts}; KPI weights by {policy.scoring.mix} mix; ranking by "
            f"{policy.scoring.ranking}",
            f"  CSI target {policy.kpis['csi_rate'].target:.0%}, rework below "
            f"{policy.kpis['rework_rate'].target:.0%}, callbacks "
            f"{policy.kpis['callback_completion_rate'].target:.0%}, warranty approval "
            f"{policy.kpis['warranty_claim_approval_rate'].target:.0%}",
            "  raters: " + ", ".join(f"{role.value} {weight:.0%}"
                                     for role, weight in policy.raters.weights.items())
            + f" (missing rater: {policy.raters.missing})",
            f"  rank 1 +{policy.consequences.first_reward:g}, last "
            f"−{policy.consequences.last_deduction:g}; bottom "
            f"{policy.consequences.improvement_plan_bottom} submit an improvement plan "
            f"within {policy.consequences.improvement_plan_days} days; last "
            f"{policy.consequences.reassignment_after_last_months} months in a row: "
            f"reassignment review",
            "  grades: " + ", ".join(f"{g} ≥ {low:g}" for g, low in policy.grades.items())]

