"""The monthly report as Markdown (GitHub-flavoured tables), section by section as
:func:`~servicekpi.report.render_text` prints it.

Every string that comes from the data — ids, names, groups, reasons, rule ids — is
escaped, so an agent id such as ``A|1`` or ``<b>`` cannot break a table or inject
markup; numbers are formatted here and need none.

The small formatting helpers at the bottom (``_kpi_text``, ``_standing``, …) are shared
by the HTML, notebook and plot modules, so that every report shows a KPI, a target and
an attainment the same way.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from servicekpi.domain import Direction
from servicekpi.evaluation import MonthlyEvaluation
from servicekpi.metrics import KPIS, KpiPanel
from servicekpi.policy import KpiTarget, Policy
from servicekpi.rules.followup import ReconcileStatus
from servicekpi.scoring import Consequence, ConsequenceKind, Scorecard, ScoreLine

__all__ = ("render_markdown",)

Standing = Literal["met", "near", "below"]

_HEADLINE: Final = (  # (KPI, column header) of the team tables, as in the text report
    ("tickets", "Tickets"),
    ("fcr_rate", "FCR"),
    ("csi_rate", "CSI"),
    ("resolution_work_seconds_median", "Resolution (median, working h)"),
    ("sla_resolution_rate", "SLA resolution"),
    ("rework_rate", "Rework"),
    ("callback_completion_rate", "Callbacks done"),
    ("complaint_rate", "Complaints per ticket"),
)
_MARKS: Final[dict[Standing | None, str]] = {"met": "✓", "near": "~", "below": "✗", None: ""}
_PARTS: Final = ("kpis", "appraisal", "raters")


def render_markdown(evaluation: MonthlyEvaluation, *, groups: int = 20,
                    rows: int = 20) -> str:
    """The evaluation as a Markdown monthly report.

    Sections: ranking per group with grades and consequences, the consequences, why
    the last place got its score, KPIs by team against the policy's targets, the
    complaint analysis with the station ranking and penalty summary, the follow-up
    plan reconciled against the callbacks made, team targets against actuals, loyalty
    classes and the policy in force.

    Args:
        evaluation: what :func:`~servicekpi.evaluate` returned.
        groups: ranking groups shown in full (the report says how many more there are).
        rows: rows shown per long table (consequences, teams, stations, penalties,
            escalations); the report says how many more there are.

    Returns:
        The report; every table has the same number of cells in each row.

    Raises:
        TypeError: *evaluation* is not a :class:`~servicekpi.MonthlyEvaluation`.

    >>> from servicekpi import evaluate, synth
    >>> data = synth.month(seed=1, tickets=2_000, agents=12, stations=1)
    >>> text = render_markdown(evaluate(data, period=data.period))
    >>> print(text.splitlines()[0])
    # servicekpi — monthly evaluation 2026-10 (Asia/Shanghai)
    >>> "| Rank | Agent | Composite | Grade |" in text
    True

    .. versionadded:: 0.1
    """
    ev = _checked(evaluation)
    card = ev.scorecard
    ranked = int((card.ranks > 0).sum())
    lines = [f"# servicekpi — monthly evaluation {_md(ev.period)}", "",
             f"Report date {_md(ev.now.isoformat())} · {len(card):,} agents, {ranked:,} "
             f"ranked · {len(ev.consequences):,} consequences · "
             f"{ev.complaints.complaints:,} complaints · {len(ev.followups):,} follow-ups", ""]
    lines += _ranking(ev, groups)
    lines += _consequences(ev, rows)
    lines += _explanation(ev)
    lines += _team_kpis(ev, rows)
    lines += _complaints(ev, rows)
    lines += _followups(ev)
    lines += _team_targets(ev)
    lines += _loyalty(ev)
    lines += _policy(ev.policy)
    return "\n".join(lines).rstrip() + "\n"


def _checked(evaluation: object) -> MonthlyEvaluation:
    if not isinstance(evaluation, MonthlyEvaluation):
        raise TypeError(f"'evaluation' must be a MonthlyEvaluation "
                        f"(got {type(evaluation).__name__})")
    return evaluation


# --------------------------------------------------------------------------- sections


def _ranking(ev: MonthlyEvaluation, shown: int) -> list[str]:
    card = ev.scorecard
    scope = ev.policy.scoring.ranking
    grades = Counter(g for g in card.grades if g is not None)
    lines = [f"## Scores and ranking by {_md(scope)} (综合排名)", "",
             "Grades: " + " · ".join(f"{_md(g)} {grades.get(g, 0):,}"
                                     for g in _grade_order(ev.policy)), ""]
    unranked = [i for i in range(len(card)) if card.ranks[i] == 0]
    if unranked:
        lines += [f"Not ranked: {len(unranked):,} — e.g. {_md(card.agent_ids[unranked[0]])}: "
                  f"{_md(card.status[unranked[0]])}", ""]
    flagged = _consequences_by_agent(ev.consequences)
    names = _ranked_groups(card)
    for group in names[:shown]:
        lines += [f"### {_md(scope)} {_md(group)}", ""]
        table = []
        for agent in card.ranking(group):
            i = card.index(agent)
            table.append([str(int(card.ranks[i])), _md(agent), _score(card.composite[i]),
                          _md(card.grades[i] or "–"), _score(card.kpi_score[i]),
                          _score(card.appraisal_score[i]), _score(card.rater_score[i]),
                          f"{int(card.tickets[i]):,}",
                          _md("; ".join(flagged.get(agent, ())))])
        lines += _table(("Rank", "Agent", "Composite", "Grade", "KPIs", "Appraisal", "360°",
                         "Tickets", "Consequences"), table, "rlrcrrrrl")
        lines.append("")
    if len(names) > shown:
        lines += [f"… and {len(names) - shown:,} more groups "
                  f"(`scorecard.ranking(group)` lists any of them).", ""]
    return lines


def _consequences(ev: MonthlyEvaluation, rows: int) -> list[str]:
    counts = Counter(c.kind for c in ev.consequences)
    money = sum(c.amount for c in ev.consequences)
    lines = ["## Consequences (考核结果的运用)", "",
             " · ".join(f"{_kind(kind)} {counts.get(kind, 0):,}" for kind in ConsequenceKind)
             + f" · net {money:+,.0f}", ""]
    if not ev.consequences:
        return [*lines, "No consequences this period.", ""]
    important = sorted(ev.consequences,
                       key=lambda c: c.kind is not ConsequenceKind.REASSIGNMENT_REVIEW)
    table = [[_md(c.agent_id), _md(c.group), _kind(c.kind),
              f"{c.amount:+,.0f}" if c.amount else "",
              c.due.date().isoformat() if c.due else "", _md(c.reason)]
             for c in important[:rows]]
    lines += _table(("Agent", "Group", "Consequence", "Amount", "Due", "Reason"), table,
                    "lllrll")
    lines += _more(len(important), rows, "consequences")
    return [*lines, ""]


def _explanation(ev: MonthlyEvaluation) -> list[str]:
    card = ev.scorecard
    last = card.last_of_group()
    if not last:
        return []
    explanation = card.explain(last[sorted(last)[0]])
    rank = (f"rank {explanation.rank} of {explanation.group_size} in "
            f"{_md(explanation.group)}" if explanation.rank else _md(explanation.status))
    lines = [f"## Why the last place: {_md(explanation.agent_id)}", "",
             f"Composite {_score(explanation.composite)}, grade "
             f"{_md(explanation.grade or '–')}, {rank}. Every point can be checked "
             f"(`scorecard.explain(agent_id)`).", ""]
    table = [[_md(line.component), _md(line.item), *_line_cells(line),
              _md(line.rule + (f" — {line.adjustment}" if line.adjustment else ""))]
             for line in _explanation_order(explanation.lines)]
    lines += _table(("Part", "Item", "Value", "Over", "Target", "Floor", "Weight", "Points",
                     "Rule"), table, "llrrrrrrl")
    return [*lines, ""]


def _team_kpis(ev: MonthlyEvaluation, rows: int) -> list[str]:
    panel = ev.team_panel
    columns = [(name, header) for name, header in _HEADLINE if name in panel]
    judged = _judged(panel, ev.policy)
    lines = [f"## KPIs by {_md(' / '.join(panel.by))} (targets from the policy)", "",
             "✓ target met · ~ between floor and target · ✗ at or below the floor "
             "(earns no points). *Met* counts every KPI of the policy with data.", ""]
    table = []
    for i, key in enumerate(panel.keys[:rows]):
        cells = [_md(_key_text(key))]
        for name, _ in columns:
            value = float(panel[name][i])
            mark = _MARKS[_standing(value, ev.policy.kpis.get(name))]
            cells.append(f"{_kpi_text(name, value)} {mark}".rstrip())
        met = sum(_standing(float(panel[name][i]), ev.policy.kpis[name]) == "met"
                  for name in judged)
        have = sum(not math.isnan(float(panel[name][i])) for name in judged)
        cells.append(f"{met} of {have}")
        table.append(cells)
    for label, pick in (("**target**", "target"), ("floor", "floor")):
        cells = [label]
        for name, _ in columns:
            target = ev.policy.kpis.get(name)
            cells.append("" if target is None else _kpi_text(name, getattr(target, pick)))
        table.append([*cells, ""])
    lines += _table(("Team", *(header for _, header in columns), "Met"), table,
                    "l" + "r" * (len(columns) + 1))
    lines += _more(len(panel.keys), rows, "teams")
    return [*lines, ""]


def _complaints(ev: MonthlyEvaluation, rows: int) -> list[str]:
    analysis = ev.complaints
    levels = " · ".join(f"{_md(level.name.lower())} {count:,}"
                        for level, count in analysis.by_level.items())
    lines = ["## Complaints (投诉)", "",
             f"{analysis.complaints:,} received — {levels}.", "",
             "By type: " + (" · ".join(f"{_md(k)} {v:,}" for k, v in analysis.by_type.items())
                            or "none") + ".", "",
             "### Station ranking (rank 1 = lowest complaint share)", ""]
    table = [["–" if s.rank is None else str(s.rank), _md(s.station_id), f"{s.complaints:,}",
              f"{s.volume:,.0f}", "–" if math.isnan(s.share) else f"{s.share:.2%}"]
             for s in analysis.stations[:rows]]
    lines += _table(("Rank", "Station", "Complaints", "Tickets", "Share"), table, "rlrrr")
    lines += _more(len(analysis.stations), rows, "stations")
    status = "recorded only (special period)" if analysis.special_period else "enforced"
    lines += ["", f"### Penalty summary (月处罚汇总表, {status}): total "
                  f"{analysis.penalty_total:,.0f}", ""]
    if analysis.penalties:
        table = [[_md(p.responsible), _md(p.station_id), f"{p.repeat:,}", f"{p.severe:,}",
                  f"{p.amount:,.0f}", _md(str(p.status).replace("_", " ")),
                  _ids(p.complaint_ids, 8)] for p in analysis.penalties[:rows]]
        lines += _table(("Responsible", "Station", "Repeat", "Severe", "Amount", "Status",
                         "Complaints"), table, "llrrrll")
        lines += _more(len(analysis.penalties), rows, "penalty rows")
    else:
        lines.append("No repeat or severe complaint: no penalty.")
    escalated = (*analysis.severe, *analysis.repeat)
    if escalated:
        lines += ["", "### Severe and repeat complaints", ""]
        table = [[_md(e.complaint_id), _md(e.level.name.lower()), _md(", ".join(e.fired)),
                  _md("; ".join(e.reasons)), _ids(e.evidence, 6)] for e in escalated[:rows]]
        lines += _table(("Complaint", "Level", "Rules fired", "Why", "Evidence"), table,
                        "lllll")
        lines += _more(len(escalated), rows, "escalated complaints")
    return [*lines, ""]


def _followups(ev: MonthlyEvaluation) -> list[str]:
    plan, rec = ev.followups, ev.reconciliation
    closed = plan.overdue().counts()
    status = rec.counts()
    target = ev.policy.kpis.get("callback_completion_rate")
    lines = ["## Follow-ups (跟踪服务)", "",
             f"{len(plan):,} planned contacts, {sum(closed.values()):,} with the window "
             f"closed by the report date; {status[ReconcileStatus.MISSED]:,} calls missed.",
             ""]
    table = [[_md(rule), f"{count:,}", f"{closed.get(rule, 0):,}"]
             for rule, count in plan.counts().items()]
    lines += _table(("Rule", "Contacts", "Window closed"), table, "lrr")
    lines += ["", "Against the callbacks made:", ""]
    lines += _table(("Status", "Contacts"),
                    [[_md(s.value.replace("_", " ")), f"{status[s]:,}"] for s in status], "lr")
    goal = f" (target {_pct(target.target, 0)})" if target is not None else ""
    lines += ["", f"Completion {_pct(rec.callback_completion_rate)}{goal}, on time "
                  f"{_pct(rec.callback_on_time_rate)}.", ""]
    return lines


def _team_targets(ev: MonthlyEvaluation) -> list[str]:
    team = ev.team
    table = [[_md(row.name), _target_text(row.target, row.unit),
              _target_text(row.actual, row.unit), _pct(row.attainment),
              "–" if row.met is None else "✓" if row.met else "✗", _md(row.basis)]
             for row in team.rows]
    lines = ["## Team targets vs actuals (售后经营发展目标)", ""]
    lines += _table(("Target", "Target value", "Actual", "Attainment", "Met", "Basis"), table,
                    "lrrrcl")
    if not team.validation.ok:
        lines += ["", f"{len(team.validation.issues):,} training records were not counted "
                      f"(`team.validation`)."]
    return [*lines, ""]


def _loyalty(ev: MonthlyEvaluation) -> list[str]:
    table = ev.loyalty
    counts = table.counts()
    total = sum(counts.values())
    rows = [[_md(level.value), f"{count:,}", _pct(count / total if total else math.nan)]
            for level, count in counts.items()]
    lines = ["## Customers by loyalty (忠诚/一般/流失)", "",
             f"From return visits; {len(table.changed()):,} customers changed class.", ""]
    return [*lines, *_table(("Class", "Customers", "Share"), rows, "lrr"), ""]


def _policy(policy: Policy) -> list[str]:
    scoring, rules = policy.scoring, policy.consequences
    parts = ", ".join(f"{_md(name)} {share:.0%}" for name, share in scoring.components.items())
    targets = ", ".join(f"{_md(name)} {_kpi_text(name, policy.kpis[name].target)}"
                        for name in ("csi_rate", "rework_rate", "callback_completion_rate",
                                     "warranty_claim_approval_rate") if name in policy.kpis)
    return ["## Policy in force", "",
            f"- Composite: {parts}; KPI weights by {_md(scoring.mix)} mix; ranking by "
            f"{_md(scoring.ranking)}.",
            f"- Targets: {targets}.",
            "- Raters: " + ", ".join(f"{_md(role.value)} {weight:.0%}"
                                     for role, weight in policy.raters.weights.items())
            + f" (missing rater: {_md(policy.raters.missing)}).",
            f"- Rank 1 {rules.first_reward:+g}, last −{rules.last_deduction:g}; the bottom "
            f"{rules.improvement_plan_bottom} submit an improvement plan within "
            f"{rules.improvement_plan_days} days; last {rules.reassignment_after_last_months} "
            f"months in a row: reassignment review.",
            "- Grades: " + ", ".join(f"{_md(g)} ≥ {policy.grades[g]:g}"
                                     for g in _grade_order(policy)) + ".",
            ""]


# --------------------------------------------------------------------------- Markdown


_SPECIAL: Final = re.compile(r"([\\`*_\[\]{}<>|#~&$])")
_LEADING: Final = re.compile(r"^(\d+)([.)])|^([-+=])")


def _md(value: object) -> str:
    """*value* as inline Markdown text: one line, significant characters escaped."""
    text = " ".join(str(value).splitlines())
    text = _SPECIAL.sub(r"\\\1", text)
    # A leading "-", "+", "=" or "1." would start a list or a heading underline.
    return _LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> list[str]:
    """A GitHub table; *align* has one of ``l``, ``r``, ``c`` per column."""
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _more(total: int, shown: int, what: str) -> list[str]:
    return ["", f"… and {total - shown:,} more {what}."] if total > shown else []


def _ids(ids: Sequence[str], shown: int) -> str:
    text = ", ".join(_md(i) for i in ids[:shown])
    return text + (f" … +{len(ids) - shown}" if len(ids) > shown else "")


# --------------------------------------------------------------------------- shared


def _grade_order(policy: Policy) -> list[str]:
    """Grade names, best first."""
    return [g for g, _ in sorted(policy.grades.items(), key=lambda item: -item[1])]


def _ranked_groups(card: Scorecard) -> list[str]:
    return sorted({card.groups[i] for i in range(len(card)) if card.ranks[i] > 0})


def _kind(kind: ConsequenceKind) -> str:
    return kind.value.replace("_", " ")


def _consequence_text(c: Consequence) -> str:
    if c.kind is ConsequenceKind.IMPROVEMENT_PLAN and c.due is not None:
        return f"improvement plan due {c.due.date().isoformat()}"
    return _kind(c.kind) + (f" {c.amount:+,.0f}" if c.amount else "")


def _consequences_by_agent(items: Iterable[Consequence]) -> dict[str, list[str]]:
    flagged: dict[str, list[str]] = {}
    for c in items:
        flagged.setdefault(c.agent_id, []).append(_consequence_text(c))
    return flagged


def _part_points(card: Scorecard, agent_id: str) -> dict[str, float]:
    """What each part adds to the composite (``card.explain``'s composite lines)."""
    points = dict.fromkeys(_PARTS, 0.0)
    for line in card.lines[agent_id]:
        if line.component == "composite" and line.item in points \
                and not math.isnan(line.points):
            points[line.item] = line.points
    return points


def _explanation_order(lines: Sequence[ScoreLine]) -> list[ScoreLine]:
    order = {name: k for k, name in enumerate((*_PARTS, "composite"))}
    return sorted(lines, key=lambda line: order.get(line.component, len(order)))


def _line_cells(line: ScoreLine) -> list[str]:
    """Value, over, target, floor, weight, points of one explanation line."""
    def show(value: float | None) -> str:
        if value is None:
            return ""
        if line.component == "kpis" and line.item in KPIS:
            return _kpi_text(line.item, value)
        return _number(value)

    return [show(line.value), "" if line.denominator is None else _number(line.denominator),
            show(line.target), show(line.floor), f"{line.weight:.3f}",
            f"{line.points:+.2f}"]


def _judged(panel: KpiPanel, policy: Policy) -> list[str]:
    """The policy's KPIs that the panel has, in policy order."""
    return [name for name in policy.kpis if name in panel]


def _standing(value: float, target: KpiTarget | None) -> Standing | None:
    """``met`` at or beyond the target, ``below`` at or beyond the floor on the wrong
    side (no points), ``near`` between them; ``None`` without a target or a value."""
    if target is None or math.isnan(value):
        return None
    sign = 1.0 if target.direction is Direction.HIGHER else -1.0
    if sign * value >= sign * target.target:
        return "met"
    if sign * value <= sign * target.floor:
        return "below"
    return "near"


def _kpi_text(name: str, value: float) -> str:
    """A KPI value in its unit: shares in %, durations in hours, counts, money."""
    if math.isnan(value):
        return "–"
    unit = KPIS[name].unit if name in KPIS else ""
    if "_seconds" in name:
        return f"{value / 3600:,.1f} h"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "complaints per ticket":
        return f"{value:.2%}"
    if unit == "tickets":
        return f"{value:,.0f}"
    if unit == "currency":
        return f"{value:,.2f}"
    return _number(value)


def _target_text(value: float, unit: str) -> str:
    """A team target or actual in its unit (:class:`~servicekpi.scoring.team.TargetRow`)."""
    if math.isnan(value):
        return "–"
    if unit == "share":
        return f"{value:.2%}"
    if unit == "currency" or value != round(value):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _key_text(key: object) -> str:
    """A panel key as text: ids as they are, enums by value, dates ISO, tuples joined."""
    if isinstance(key, tuple):
        return " / ".join(_key_text(part) for part in key)
    if key is None:
        return "–"
    value = getattr(key, "value", None)
    if isinstance(value, str):
        return value
    isoformat = getattr(key, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(key)


def _score(value: float) -> str:
    value = float(value)
    return "–" if math.isnan(value) else f"{value:.1f}"


def _pct(value: float, decimals: int = 1) -> str:
    return "–" if math.isnan(value) else f"{value:.{decimals}%}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
