"""Small HTML tables for Jupyter: the ``_repr_html_`` of the core's result objects.

Each function returns one bounded table — at most :data:`MAX_ROWS` rows, with a line
saying how many more there are and which method lists them all — so that displaying a
scorecard of 40 000 agents or a plan of millions of contacts stays instant. Styles are
inline (a notebook shares one page between its outputs), every string from the data is
escaped with :func:`html.escape`, and there is no script. Outside a notebook the
objects fall back to their ``__repr__``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np

from servicekpi.calendar import from_epoch
from servicekpi.domain import EscalationLevel
from servicekpi.evaluation import MonthlyEvaluation
from servicekpi.metrics import KpiPanel
from servicekpi.report.markdown import (
    _HEADLINE,
    _consequences_by_agent,
    _key_text,
    _kpi_text,
    _pct,
    _score,
    _standing,
)
from servicekpi.rules.escalation import EscalationTable
from servicekpi.rules.followup import RULE_IDS, FollowUpPlan, ReconcileStatus
from servicekpi.scoring import Scorecard

__all__ = ("MAX_ROWS", "escalations_html", "evaluation_html", "followups_html",
           "panel_html", "scorecard_html")

MAX_ROWS: Final = 20
"""Rows shown at most per table."""

_MAX_COLUMNS: Final = 12
_COLOURS: Final = {"met": "background:#dafbe1;color:#116329",
                   "near": "background:#fff1b8;color:#7d4e00",
                   "below": "background:#ffebe9;color:#a40e26"}
_NUMERIC: Final = "text-align:right;font-variant-numeric:tabular-nums"


def panel_html(panel: KpiPanel) -> str:
    """A KPI panel as a bounded table: one row per group, KPI cells coloured against
    the policy's targets (green met, amber between floor and target, red at or below
    the floor).

    With more than 12 KPIs only the headline ones are shown (tickets, FCR, CSI,
    resolution time, SLA, rework, callbacks, complaints); ``panel.row(key)`` has them all.

    >>> from servicekpi import kpi_panel, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=2)
    >>> page = panel_html(kpi_panel(data.tickets, period=data.period, by="agent"))
    >>> page.count("<tr>"), "KpiPanel by agent" in page
    (9, True)

    .. versionadded:: 0.1
    """
    names = list(panel.names)
    if len(names) > _MAX_COLUMNS:
        names = [name for name, _ in _HEADLINE if name in panel] or names[:_MAX_COLUMNS]
    headers = dict(_HEADLINE)
    rows = []
    for i, key in enumerate(panel.keys[:MAX_ROWS]):
        cells = [_cell(_key_text(key))]
        for name in names:
            value = float(panel[name][i])
            standing = _standing(value, panel.policy.kpis.get(name))
            cells.append(_cell(_kpi_text(name, value), numeric=True,
                               style=_COLOURS.get(standing or "", "")))
        rows.append(cells)
    hidden = len(panel.names) - len(names)
    note = [_more(len(panel), "groups", "panel.row(key) or panel.to_dict()")]
    if hidden:
        note.append(f"{hidden} more KPIs: panel.row(key) shows every KPI.")
    return _wrap(f"KpiPanel by {'/'.join(panel.by)} · {panel.period}: {len(panel):,} groups "
                 f"× {len(panel.names)} KPIs",
                 ["/".join(panel.by), *(headers.get(n, n) for n in names)], rows, note)


def scorecard_html(card: Scorecard) -> str:
    """A scorecard as a bounded table, in ranking order (group by group, rank 1 first),
    then the agents that are not ranked with the reason.

    >>> from servicekpi import score_agents, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> page = scorecard_html(score_agents(data, period=data.period))
    >>> page.count("<tr>")
    9

    .. versionadded:: 0.1
    """
    order = [card.index(agent) for agent in card.ranking()]
    order += [i for i in range(len(card)) if card.ranks[i] == 0]
    rows = [_card_row(card, i, None) for i in order[:MAX_ROWS]]
    return _wrap(repr(card).strip("<>"), _CARD_HEADERS, rows,
                 [_more(len(card), "agents", "scorecard.to_records()")])


def evaluation_html(ev: MonthlyEvaluation) -> str:
    """A monthly evaluation at a glance: the key figures and the top of the ranking with
    the consequences; ``ev.to_html()`` is the whole report.

    >>> from servicekpi import evaluate, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> page = evaluation_html(evaluate(data, period=data.period))
    >>> "MonthlyEvaluation 2026-10" in page, "<script" in page
    (True, False)

    .. versionadded:: 0.1
    """
    card, analysis, rec = ev.scorecard, ev.complaints, ev.reconciliation
    completion = rec.callback_completion_rate
    standing = _standing(completion, ev.policy.kpis.get("callback_completion_rate"))
    figures = [
        ("agents ranked", f"{int((card.ranks > 0).sum()):,} of {len(card):,}", ""),
        ("consequences", f"{len(ev.consequences):,} (net "
                         f"{sum(c.amount for c in ev.consequences):+,.0f})", ""),
        ("complaints", f"{analysis.complaints:,} ("
         + ", ".join(f"{level.name.lower()} {count:,}"
                     for level, count in analysis.by_level.items()) + ")", ""),
        ("penalties", f"{analysis.penalty_total:,.0f}", ""),
        ("follow-ups", f"{len(ev.followups):,} planned, "
                       f"{rec.counts()[ReconcileStatus.MISSED]:,} calls missed", ""),
        ("callbacks completed", _pct(completion), _COLOURS.get(standing or "", "")),
    ]
    summary = "".join(f'<tr><th style="text-align:left">{_e(label)}</th>'
                      f'<td style="{style}">{_e(value)}</td></tr>'
                      for label, value, style in figures)
    flagged = _consequences_by_agent(ev.consequences)
    order = [card.index(agent) for agent in card.ranking()]
    rows = [_card_row(card, i, "; ".join(flagged.get(card.agent_ids[i], ())))
            for i in order[:MAX_ROWS]]
    ranking = _wrap(f"Ranking by {ev.policy.scoring.ranking}",
                    [*_CARD_HEADERS, "consequences"], rows,
                    [_more(len(order), "ranked agents", "ev.to_markdown() or ev.to_html()")])
    return (f"<div><strong>{_e(repr(ev).strip('<>'))}</strong>"
            f"<table><tbody>{summary}</tbody></table>{ranking}</div>")


def escalations_html(table: EscalationTable) -> str:
    """An escalation table as a bounded table, the highest levels first, with the
    rules that fired and why.

    >>> from datetime import datetime, timezone
    >>> from servicekpi import escalate_table, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> page = escalations_html(escalate_table(data.complaints, data.callbacks, now=now))
    >>> page.count("<tr>") <= 21
    True

    .. versionadded:: 0.1
    """
    order = np.argsort(-table.levels.astype(np.int64), kind="stable")[:MAX_ROWS]
    rows = []
    for row in order.tolist():
        e = table.escalation(table.complaint_ids[row])
        style = {EscalationLevel.SEVERE: _COLOURS["below"],
                 EscalationLevel.REPEAT: _COLOURS["near"]}.get(e.level, "")
        rows.append([_cell(e.complaint_id), _cell(e.level.name.lower(), style=style),
                     _cell(", ".join(e.fired)), _cell("; ".join(e.reasons)),
                     _cell(", ".join(e.evidence))])
    return _wrap(repr(table).strip("<>"), ["complaint", "level", "fired", "why", "evidence"],
                 rows, [_more(len(table), "complaints", "table.to_records()")])


def followups_html(plan: FollowUpPlan) -> str:
    """A follow-up plan as a bounded table, by window start, in the centre's zone.

    >>> from datetime import datetime, timezone
    >>> from servicekpi import plan_followups, synth
    >>> data = synth.month(seed=1, tickets=500, agents=5, stations=1)
    >>> now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> page = followups_html(plan_followups(data.tickets, data.customers, now=now))
    >>> page.count("<tr>"), "more contacts" in page
    (21, True)

    .. versionadded:: 0.1
    """
    shown = min(len(plan), MAX_ROWS)
    columns = {name: plan[name][:shown] for name in ("rule", "subject_id", "customer_id",
                                                     "earliest", "latest", "assignee",
                                                     "substitute_for")}
    rows = []
    for k in range(shown):
        start = from_epoch(int(columns["earliest"][k]), plan.tz)
        end = from_epoch(int(columns["latest"][k]), plan.tz)
        overdue = int(columns["latest"][k]) <= plan.now
        assignee = _text(columns["assignee"][k])
        if columns["substitute_for"][k] is not None:
            assignee += f" (for {columns['substitute_for'][k]})"
        rows.append([_cell(RULE_IDS[int(columns["rule"][k])]), _cell(columns["subject_id"][k]),
                     _cell(_text(columns["customer_id"][k])),
                     _cell(f"{start:%Y-%m-%d %H:%M}"), _cell(f"{end:%Y-%m-%d %H:%M}"),
                     _cell(assignee),
                     _cell("yes" if overdue else "", style=_COLOURS["below"] if overdue else "")])
    return _wrap(f"{repr(plan).strip('<>')} (times in {plan.tz})",
                 ["rule", "subject", "customer", "from", "until", "assignee",
                  "window closed"], rows,
                 [_more(len(plan), "contacts", "plan.contacts() or plan.to_frame()")])


# --------------------------------------------------------------------------- helpers


_CARD_HEADERS: Final = ["agent", "group", "rank", "composite", "grade", "KPIs", "appraisal",
                        "360°", "tickets", "status"]


def _card_row(card: Scorecard, i: int, extra: str | None) -> list[str]:
    """One agent's row; *extra* (the consequences), if given, as a last cell."""
    rank = int(card.ranks[i])
    cells = [_cell(card.agent_ids[i]), _cell(card.groups[i]),
             _cell(f"{rank} of {int(card.group_sizes[i])}" if rank else "–", numeric=True),
             _cell(_score(card.composite[i]), numeric=True), _cell(card.grades[i] or "–"),
             _cell(_score(card.kpi_score[i]), numeric=True),
             _cell(_score(card.appraisal_score[i]), numeric=True),
             _cell(_score(card.rater_score[i]), numeric=True),
             _cell(f"{int(card.tickets[i]):,}", numeric=True), _cell(card.status[i])]
    return cells if extra is None else [*cells, _cell(extra)]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text(value: object) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else str(value)


def _cell(value: object, *, numeric: bool = False, style: str = "") -> str:
    css = ";".join(part for part in (_NUMERIC if numeric else "", style) if part)
    return f'<td style="{css}">{_e(value)}</td>' if css else f"<td>{_e(value)}</td>"


def _more(total: int, what: str, where: str) -> str:
    if total <= MAX_ROWS:
        return ""
    return (f"… {total - MAX_ROWS:,} more {what} ({MAX_ROWS} of {total:,} shown; "
            f"{where} lists all).")


def _wrap(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]],
          notes: Sequence[str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    foot = "".join(f'<p style="margin:2px 0;color:#59636e;font-size:90%">{_e(n)}</p>'
                   for n in notes if n)
    return (f'<div><table><caption style="caption-side:top;text-align:left">'
            f"{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table>{foot}</div>")
