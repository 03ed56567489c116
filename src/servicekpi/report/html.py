"""The monthly report as one self-contained HTML5 page.

One file, nothing to fetch: the CSS is inline, the charts are inline SVG drawn here in
plain Python (no matplotlib), and there is no JavaScript at all, so the page can be
mailed, archived or opened offline, and a strict Content-Security-Policy has nothing to
allow. Every string from the data is escaped with :func:`html.escape`.

The page follows the sections of :func:`~servicekpi.report.render_text`: the ranking
per group (bars of the composite split into its parts, a table with grades and
consequences), the consequences, why each group's last place got its score, KPIs by team
coloured by attainment against the policy (green: target met; amber: between floor and
target; red: at or below the floor, no points) with the distribution of the agents'
scores per group, a trend over earlier months when ``history`` is given, the complaint
analysis, the follow-up plan with the missed calls, team targets, loyalty and the policy.

.. versionadded:: 0.1
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Final

import numpy as np

from servicekpi.calendar import from_epoch
from servicekpi.evaluation import MonthlyEvaluation
from servicekpi.metrics import KPIS, KpiPanel
from servicekpi.policy import Policy
from servicekpi.report.markdown import (
    _HEADLINE,
    _consequence_text,
    _explanation_order,
    _grade_order,
    _judged,
    _key_text,
    _kpi_text,
    _line_cells,
    _part_points,
    _pct,
    _ranked_groups,
    _score,
    _standing,
    _target_text,
)
from servicekpi.rules.followup import RULE_IDS, ReconcileStatus
from servicekpi.scoring import ConsequenceKind, Scorecard, ScoreLine

__all__ = ("render_html",)

_PART_LABELS: Final = {"kpis": "KPIs", "appraisal": "Appraisal", "raters": "360°"}
_PART_COLOURS: Final = {"kpis": "#4e79a7", "appraisal": "#59a14f", "raters": "#b07aa1"}
_PALETTE: Final = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
                   "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
_DISTRIBUTION_KPIS: Final = ("csi_rate", "fcr_rate", "sla_resolution_rate")
_TITLES: Final = {**dict(_HEADLINE), "csi_rate": "CSI (satisfied share)",
                  "fcr_rate": "First-contact resolution",
                  "callback_completion_rate": "Callbacks completed"}
_TREND_KPIS: Final = ("fcr_rate", "csi_rate", "sla_resolution_rate", "callback_completion_rate")
_STANDING_TEXT: Final = {"met": "target met", "near": "between floor and target",
                         "below": "at or below the floor", None: "no target or no data"}
_FONT: Final = ('system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", '
                '"Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif')

_CSS: Final = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
  --met: #dafbe1; --met-fg: #116329; --near: #fff1b8; --near-fg: #7d4e00;
  --below: #ffebe9; --below-fg: #a40e26; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef0f3; color: var(--fg);
  font: 14px/1.45 FONT; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 40px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
section { margin-top: 28px; padding-top: 12px; border-top: 2px solid var(--line); }
nav { margin: 14px 0 0; font-size: 13px; }
nav a { margin-right: 14px; color: #0969da; text-decoration: none; white-space: nowrap; }
.meta, .muted { color: var(--muted); }
.small { font-size: 12px; }
.more { color: var(--muted); font-style: italic; margin: 2px 0 10px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr));
  gap: 10px; margin: 16px 0 4px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card b { display: block; font-size: 21px; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: 12px; }
.wrap { overflow-x: auto; max-width: 100%; }
.groups { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.groups > div { flex: 1 1 520px; min-width: 0; }
.ranked { display: grid; grid-template-columns: 440px minmax(0, 1fr); gap: 20px;
  align-items: start; }
.ranked table { font-size: 13px; }
.ranked th, .ranked td { padding: 2px 6px; }
@media (max-width: 900px) { .ranked { grid-template-columns: minmax(0, 1fr); } }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.c, th.c { text-align: center; }
td.basis { color: var(--muted); font-size: 12px; max-width: 520px; }
tr.ref td { background: var(--head); color: var(--muted); }
.met { background: var(--met); color: var(--met-fg); }
.near { background: var(--near); color: var(--near-fg); }
.below { background: var(--below); color: var(--below-fg); }
.grade { display: inline-block; min-width: 1.8em; padding: 0 4px; border-radius: 4px;
  text-align: center; font-weight: 600; }
.g0 { background: #1a7f37; color: #fff; } .g1 { background: #4ac26b; color: #fff; }
.g2 { background: #d4a72c; color: #fff; } .g3 { background: #e16f24; color: #fff; }
.g4 { background: #cf222e; color: #fff; }
.tag { display: inline-block; margin: 1px 4px 1px 0; padding: 0 7px; border-radius: 10px;
  font-size: 12px; border: 1px solid; white-space: nowrap; }
.tag.reward { background: var(--met); color: var(--met-fg); border-color: #4ac26b; }
.tag.deduction { background: var(--below); color: var(--below-fg); border-color: #ff818266; }
.tag.improvement_plan { background: var(--near); color: var(--near-fg); border-color: #d4a72c; }
.tag.reassignment_review { background: #fbefff; color: #6e40c9; border-color: #a475f9; }
.legend span { display: inline-block; margin-right: 10px; padding: 0 6px; border-radius: 4px; }
.bar { display: inline-block; height: 10px; background: #4e79a7; border-radius: 2px;
  vertical-align: middle; }
details { margin: 4px 0; }
details > summary { cursor: pointer; font-weight: 600; padding: 2px 0; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 4px 0 8px; }
svg.chart text { font-family: FONT; font-size: 11px; fill: #1f2328; }
svg.chart text.halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart .axis { stroke: #8c959f; stroke-width: 1; }
svg.chart .grid { stroke: #d1d9e0; stroke-width: 1; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; } main { max-width: none; padding: 0; } }
""".replace("FONT", _FONT)


def render_html(evaluation: MonthlyEvaluation, *, history: Iterable[MonthlyEvaluation] = (),
                groups: int = 20, rows: int = 25) -> str:
    """The evaluation as one self-contained HTML page (inline CSS and SVG, no script).

    Args:
        evaluation: what :func:`~servicekpi.evaluate` returned.
        history: earlier evaluations, in any order; with at least one, the page shows
            the trend of the network's KPIs and of each group's median composite over
            the months (an evaluation of the same period as *evaluation* is ignored).
        groups: ranking groups shown in full (charts and tables; the page says how many
            more there are).
        rows: rows shown per long table (consequences, teams, stations, penalties,
            escalations, missed calls); the page says how many more there are.

    Returns:
        The page, starting with ``<!DOCTYPE html>``.

    Raises:
        TypeError: *evaluation* is not a :class:`~servicekpi.MonthlyEvaluation`, or
            *history* holds something else.

    >>> from servicekpi import evaluate, synth
    >>> data = synth.month(seed=1, tickets=2_000, agents=12, stations=1)
    >>> page = render_html(evaluate(data, period=data.period))
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page, page.count("<svg") >= 3
    (True, False, True)

    .. versionadded:: 0.1
    """
    if not isinstance(evaluation, MonthlyEvaluation):
        raise TypeError(f"'evaluation' must be a MonthlyEvaluation "
                        f"(got {type(evaluation).__name__})")
    months = _months(evaluation, history)
    ev = evaluation
    sections = [
        ("ranking", "Ranking", _ranking(ev, groups)),
        ("consequences", "Consequences", _consequences(ev, rows)),
        ("explain", "Why the last place", _explanations(ev, groups)),
        ("kpis", "KPIs by team", _team_kpis(ev, rows, groups)),
    ]
    if len(months) > 1:
        sections.append(("trend", "Trend", _trend(months, groups)))
    sections += [
        ("complaints", "Complaints", _complaints(ev, rows)),
        ("followups", "Follow-ups", _followups(ev, rows)),
        ("targets", "Team targets", _team_targets(ev)),
        ("loyalty", "Loyalty", _loyalty(ev)),
        ("policy", "Policy", _policy(ev.policy)),
    ]
    title = f"servicekpi — monthly evaluation {ev.period}"
    nav = "".join(f'<a href="#{anchor}">{_e(name)}</a>' for anchor, name, _ in sections)
    body = "".join(f'<section id="{anchor}">{content}</section>'
                   for anchor, _, content in sections if content)
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="servicekpi">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
            f"<header><h1>{_e(title)}</h1>"
            f'<p class="meta">Report date {_e(ev.now.isoformat())} · ranking by '
            f"{_e(ev.policy.scoring.ranking)} · every score explains itself "
            f"(<code>scorecard.explain(agent_id)</code>)</p>"
            f"{_cards(ev)}<nav>{nav}</nav></header>{body}"
            "<footer>Made by servicekpi from the records of the period; the numbers and "
            "rules are those of the policy in force (see Policy).</footer>"
            "</main></body></html>\n")


def _months(evaluation: MonthlyEvaluation,
            history: Iterable[MonthlyEvaluation]) -> list[MonthlyEvaluation]:
    """*history* and *evaluation*, one per period, oldest first."""
    by_period: dict[str, MonthlyEvaluation] = {}
    for item in history:
        if not isinstance(item, MonthlyEvaluation):
            raise TypeError(f"'history' must hold MonthlyEvaluation objects "
                            f"(got a {type(item).__name__})")
        by_period[str(item.period)] = item
    by_period[str(evaluation.period)] = evaluation
    return sorted(by_period.values(), key=lambda item: item.period.start)


# --------------------------------------------------------------------------- HTML bits


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _td(text: object, cls: str = "", title: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' title="{_e(title)}"' if title else "")
    return f"<td{attrs}>{_e(text)}</td>"


def _td_html(fragment: str, cls: str = "") -> str:
    """A cell of already escaped HTML."""
    return f'<td class="{cls}">{fragment}</td>' if cls else f"<td>{fragment}</td>"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: str = "",
           row_class: Callable[[int], str] | None = None) -> str:
    """A table of ``<td>`` cells; *numeric* marks right-aligned header columns (``n``)
    and centred ones (``c``), one character per column, ``l`` otherwise."""
    heads = "".join(f'<th class="{numeric[k]}">{_e(h)}</th>'
                    if k < len(numeric) and numeric[k] in "nc" else f"<th>{_e(h)}</th>"
                    for k, h in enumerate(header))
    body = []
    for k, row in enumerate(rows):
        cls = row_class(k) if row_class else ""
        body.append((f'<tr class="{cls}">' if cls else "<tr>") + "".join(row) + "</tr>")
    return (f'<div class="wrap"><table><thead><tr>{heads}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _more(total: int, shown: int, what: str, hint: str = "") -> str:
    if total <= shown:
        return ""
    return f'<p class="more">… and {total - shown:,} more {_e(what)}{_e(hint)}.</p>'


def _grade_badge(grade: str | None, policy: Policy) -> str:
    if grade is None:
        return '<span class="muted">–</span>'
    order = _grade_order(policy)
    position = order.index(grade) if grade in order else len(order) - 1
    # Spread any number of grades over the five colours, best to worst.
    level = round(4 * position / max(1, len(order) - 1))
    return f'<span class="grade g{level}">{_e(grade)}</span>'


def _tags(ev: MonthlyEvaluation) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in ev.consequences:
        out[c.agent_id] = out.get(c.agent_id, "") + (
            f'<span class="tag {c.kind.value}" title="{_e(c.reason)}">'
            f"{_e(_consequence_text(c))}</span>")
    return out


def _cards(ev: MonthlyEvaluation) -> str:
    card, analysis, rec = ev.scorecard, ev.complaints, ev.reconciliation
    net = sum(c.amount for c in ev.consequences)
    severe = sum(count for level, count in analysis.by_level.items() if level.name == "SEVERE")
    missed = rec.counts()[ReconcileStatus.MISSED]
    completion = rec.callback_completion_rate
    standing = _standing(completion, ev.policy.kpis.get("callback_completion_rate"))
    items = [
        (f"{int((card.ranks > 0).sum()):,} / {len(card):,}", "agents ranked", ""),
        (f"{len(ev.consequences):,}", f"consequences, net {net:+,.0f}", ""),
        (f"{analysis.complaints:,}", f"complaints, {severe:,} severe", ""),
        (f"{analysis.penalty_total:,.0f}", "penalties "
         + ("recorded" if analysis.special_period else "enforced"), ""),
        (f"{len(ev.followups):,}", f"follow-ups, {missed:,} calls missed", ""),
        (_pct(completion), "callbacks completed", standing or ""),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card {cls}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
        for value, label, cls in items) + "</div>"


# --------------------------------------------------------------------------- sections


def _ranking(ev: MonthlyEvaluation, shown: int) -> str:
    card, policy = ev.scorecard, ev.policy
    scope = policy.scoring.ranking
    grades = Counter(g for g in card.grades if g is not None)
    parts = [f"<h2>Scores and ranking by {_e(scope)} (综合排名)</h2>",
             "<p>Grades: " + " ".join(f"{_grade_badge(g, policy)} {grades.get(g, 0):,}"
                                      for g in _grade_order(policy))
             + '<span class="muted"> — the bars split each composite into what its parts '
               "add (their shares: " + ", ".join(
                   f"{_e(_PART_LABELS.get(k, k))} {v:.0%}"
                   for k, v in policy.scoring.components.items()) + ")</span></p>"]
    unranked = [i for i in range(len(card)) if card.ranks[i] == 0]
    if unranked:
        parts.append(f'<p class="muted">Not ranked: {len(unranked):,} — e.g. '
                     f"{_e(card.agent_ids[unranked[0]])}: {_e(card.status[unranked[0]])}</p>")
    tags = _tags(ev)
    names = _ranked_groups(card)
    for group in names[:shown]:
        rows = []
        for agent in card.ranking(group):
            i = card.index(agent)
            rows.append([_td(int(card.ranks[i]), "n"), _td(agent),
                         _td(_score(card.composite[i]), "n"),
                         _td_html(_grade_badge(card.grades[i], policy), "c"),
                         _td(_score(card.kpi_score[i]), "n"),
                         _td(_score(card.appraisal_score[i]), "n"),
                         _td(_score(card.rater_score[i]), "n"),
                         _td(f"{int(card.tickets[i]):,}", "n"), _td_html(tags.get(agent, ""))])
        table = _table(("Rank", "Agent", "Score", "Grade", "KPIs", "Appr.", "360°",
                        "Tickets", "Consequences"), rows, "nlncnnnnl")
        parts.append(f'<h3>{_e(scope)} {_e(group)}</h3><div class="ranked">'
                     f"<div>{_ranking_chart(card, group, policy)}</div><div>{table}</div></div>")
    parts.append(_more(len(names), shown, "groups", " (scorecard.ranking(group) lists any)"))
    return "".join(parts)


def _consequences(ev: MonthlyEvaluation, rows: int) -> str:
    counts = Counter(c.kind for c in ev.consequences)
    net = sum(c.amount for c in ev.consequences)
    head = ("<h2>Consequences (考核结果的运用)</h2><p>" + " · ".join(
        f'<span class="tag {kind.value}">{_e(kind.value.replace("_", " "))} '
        f"{counts.get(kind, 0):,}</span>" for kind in ConsequenceKind)
        + f" net {_e(f'{net:+,.0f}')}</p>")
    if not ev.consequences:
        return head + "<p>No consequences this period.</p>"
    important = sorted(ev.consequences,
                       key=lambda c: c.kind is not ConsequenceKind.REASSIGNMENT_REVIEW)
    table = [[_td(c.agent_id), _td(c.group),
              _td_html(f'<span class="tag {c.kind.value}">'
                       f'{_e(c.kind.value.replace("_", " "))}</span>'),
              _td(f"{c.amount:+,.0f}" if c.amount else "", "n"),
              _td(c.due.date().isoformat() if c.due else "", "n"), _td(c.reason)]
             for c in important[:rows]]
    return (head + _table(("Agent", "Group", "Consequence", "Amount", "Due", "Reason"),
                          table, "llln")
            + _more(len(important), rows, "consequences"))


def _explanations(ev: MonthlyEvaluation, shown: int) -> str:
    card = ev.scorecard
    last = card.last_of_group()
    if not last:
        return ""
    parts = ["<h2>Why the last place</h2><p class=\"muted\">Every point can be checked: "
             "value, what it was taken over, target, floor, weight, the points it adds and "
             "the rule (<code>scorecard.explain(agent_id)</code>).</p>"]
    for k, group in enumerate(sorted(last)[:shown]):
        e = card.explain(last[group])
        rows = [[_td(line.component), _td(line.item),
                 *(_td(cell, f"n {_line_standing(line, ev.policy) if k == 0 else ''}".strip())
                   for k, cell in enumerate(_line_cells(line))),
                 _td(line.rule + (f" — {line.adjustment}" if line.adjustment else ""),
                     "basis")]
                for line in _explanation_order(e.lines)]
        summary = (f"{e.agent_id}, last of {e.group_size} in {e.group}: composite "
                   f"{_score(e.composite)}, grade {e.grade or '–'}")
        parts.append(f"<details{' open' if k == 0 else ''}><summary>{_e(summary)}</summary>"
                     + _table(("Part", "Item", "Value", "Over", "Target", "Floor", "Weight",
                               "Points", "Rule"), rows, "llnnnnnn") + "</details>")
    parts.append(_more(len(last), shown, "groups"))
    return "".join(parts)


def _team_kpis(ev: MonthlyEvaluation, rows: int, shown: int) -> str:
    panel, policy = ev.team_panel, ev.policy
    columns = [(name, header) for name, header in _HEADLINE if name in panel]
    judged = _judged(panel, policy)
    table = []
    for i, key in enumerate(panel.keys[:rows]):
        cells = [_td(_key_text(key))]
        for name, _ in columns:
            value = float(panel[name][i])
            target = policy.kpis.get(name)
            standing = _standing(value, target)
            title = _STANDING_TEXT[standing] + (
                f" · target {_kpi_text(name, target.target)}, floor "
                f"{_kpi_text(name, target.floor)}" if target is not None else "") + (
                f" · over {float(panel.denominator(name)[i]):,.0f}")
            cells.append(_td(_kpi_text(name, value), f"n {standing or ''}".strip(), title))
        met = sum(_standing(float(panel[name][i]), policy.kpis[name]) == "met"
                  for name in judged)
        have = sum(not math.isnan(float(panel[name][i])) for name in judged)
        cells.append(_td(f"{met} of {have}", "n"))
        table.append(cells)
    for label, pick in (("target", "target"), ("floor", "floor")):
        cells = [_td(label)]
        for name, _ in columns:
            target = policy.kpis.get(name)
            cells.append(_td("" if target is None else _kpi_text(name, getattr(target, pick)),
                             "n"))
        table.append([*cells, _td("")])
    shown_rows = min(rows, len(panel.keys))
    out = [f"<h2>KPIs by {_e(' / '.join(panel.by))}</h2>",
           '<p class="legend"><span class="met">target met</span><span class="near">between '
           'floor and target</span><span class="below">at or below the floor (no '
           "points)</span><span class=\"muted\">Met: KPIs of the policy at target, of "
           "those with data</span></p>",
           _table(("Team", *(header for _, header in columns), "Met"), table,
                  "l" + "n" * (len(columns) + 1),
                  row_class=lambda k: "ref" if k >= shown_rows else ""),
           _more(len(panel.keys), rows, "teams"),
           f"<h3>Distribution of the agents' scores by {_e(policy.scoring.ranking)}</h3>",
           '<p class="muted">Each dot is an agent; the box spans the middle half, the line '
           "is the median, the whiskers reach the lowest and highest.</p>",
           '<div class="groups">', f"<div>{_composite_distribution(ev, shown)}</div>"]
    out += [f"<div>{chart}</div>" for name in _DISTRIBUTION_KPIS
            if (chart := _kpi_distribution(ev, name, shown))]
    out.append("</div>")
    return "".join(out)


def _complaints(ev: MonthlyEvaluation, rows: int) -> str:
    analysis = ev.complaints
    levels = " · ".join(f"{_e(level.name.lower())} {count:,}"
                        for level, count in analysis.by_level.items())
    types = " · ".join(f"{_e(k)} {v:,}" for k, v in analysis.by_type.items()) or "none"
    out = ["<h2>Complaints (投诉)</h2>",
           f"<p>{analysis.complaints:,} received — {levels}.</p><p>By type: {types}.</p>",
           "<h3>Station ranking (rank 1 = lowest complaint share)</h3>"]
    top = max((s.share for s in analysis.stations if not math.isnan(s.share)), default=0.0)
    table = []
    for s in analysis.stations[:rows]:
        width = 0 if math.isnan(s.share) or top <= 0 else round(120 * s.share / top)
        table.append([_td("–" if s.rank is None else s.rank, "n"), _td(s.station_id),
                      _td(f"{s.complaints:,}", "n"), _td(f"{s.volume:,.0f}", "n"),
                      _td("–" if math.isnan(s.share) else f"{s.share:.2%}", "n"),
                      _td_html(f'<span class="bar" style="width:{width}px"></span>')])
    out += [_table(("Rank", "Station", "Complaints", "Tickets", "Share", ""), table, "nlnnn"),
            _more(len(analysis.stations), rows, "stations")]
    status = "recorded only (special period)" if analysis.special_period else "enforced"
    out.append(f"<h3>Penalty summary (月处罚汇总表, {status}): total "
               f"{analysis.penalty_total:,.0f}</h3>")
    if analysis.penalties:
        table = [[_td(p.responsible), _td(p.station_id), _td(f"{p.repeat:,}", "n"),
                  _td(f"{p.severe:,}", "n"), _td(f"{p.amount:,.0f}", "n"),
                  _td(str(p.status).replace("_", " ")),
                  _td(_id_list(p.complaint_ids, 10), "basis", p.explain())]
                 for p in analysis.penalties[:rows]]
        out += [_table(("Responsible", "Station", "Repeat", "Severe", "Amount", "Status",
                        "Complaints"), table, "llnnn"),
                _more(len(analysis.penalties), rows, "penalty rows")]
    else:
        out.append("<p>No repeat or severe complaint: no penalty.</p>")
    escalated = (*analysis.severe, *analysis.repeat)
    if escalated:
        table = [[_td(e.complaint_id),
                  _td(e.level.name.lower(), "below" if e.level.name == "SEVERE" else "near"),
                  _td(", ".join(e.fired)), _td("; ".join(e.reasons), "basis"),
                  _td(_id_list(e.evidence, 6))] for e in escalated[:rows]]
        out += ["<h3>Severe and repeat complaints</h3>",
                _table(("Complaint", "Level", "Rules fired", "Why", "Evidence"), table),
                _more(len(escalated), rows, "escalated complaints")]
    return "".join(out)


def _followups(ev: MonthlyEvaluation, rows: int) -> str:
    plan, rec, policy = ev.followups, ev.reconciliation, ev.policy
    closed = plan.overdue().counts()
    status = rec.counts()
    total = len(plan)
    out = ["<h2>Follow-ups (跟踪服务)</h2>",
           f"<p>{total:,} planned contacts, {sum(closed.values()):,} with the window closed "
           f"by the report date.</p>"]
    table = [[_td(rule), _td(f"{count:,}", "n"), _td(f"{closed.get(rule, 0):,}", "n")]
             for rule, count in plan.counts().items()]
    by_rule = _table(("Rule", "Contacts", "Window closed"), table, "lnn")
    colours = {ReconcileStatus.ON_TIME: "met", ReconcileStatus.LATE: "near",
               ReconcileStatus.MISSED: "below"}
    table = [[_td(s.value.replace("_", " "), colours.get(s, "")), _td(f"{n:,}", "n"),
              _td(_pct(n / total) if total else "–", "n")] for s, n in status.items()]
    by_status = _table(("Against the callbacks made", "Contacts", "Share"), table, "lnn")
    out.append(f'<div class="groups"><div>{by_rule}</div><div>{by_status}</div></div>')
    rates = []
    for name, value in (("callback_completion_rate", rec.callback_completion_rate),
                        ("callback_on_time_rate", rec.callback_on_time_rate)):
        target = policy.kpis.get(name)
        goal = f" (target {_kpi_text(name, target.target)})" if target is not None else ""
        rates.append(f'<span class="{_standing(value, target) or ""}">'
                     f"{_e(name.replace('_', ' '))} {_e(_pct(value))}{_e(goal)}</span>")
    out.append('<p class="legend">' + "".join(rates) + "</p>")
    missed = np.flatnonzero(rec.status_codes == list(ReconcileStatus).index(
        ReconcileStatus.MISSED))
    if len(missed):
        shown = missed[:rows]
        columns = {name: plan[name][shown] for name in ("rule", "subject_id", "customer_id",
                                                        "earliest", "latest", "assignee",
                                                        "substitute_for")}
        table = []
        for k in range(len(shown)):
            start = from_epoch(int(columns["earliest"][k]), plan.tz)
            end = from_epoch(int(columns["latest"][k]), plan.tz)
            table.append([_td(RULE_IDS[int(columns["rule"][k])]),
                          _td(columns["subject_id"][k]),
                          _td(_optional(columns["customer_id"][k])),
                          _td(f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}", "n"),
                          _td(_optional(columns["assignee"][k])),
                          _td(_optional(columns["substitute_for"][k]))])
        who = Counter(_optional(a) for a in plan["assignee"][missed]).most_common()
        by_assignee = [[_td(agent), _td(f"{count:,}", "n")] for agent, count in who[:10]]
        out += [f"<h3>Missed calls: window closed, no callback ({len(missed):,})</h3>",
                '<div class="groups"><div style="flex: 3 1 640px">',
                _table(("Rule", "Subject", "Customer", "Window", "Assignee", "Stands in for"),
                       table),
                _more(len(missed), rows, "missed calls",
                      " (reconciliation.status_codes marks every one)"),
                '</div><div style="flex: 1 1 200px">',
                _table(("Assignee", "Missed"), by_assignee, "ln"),
                _more(len(who), 10, "assignees"), "</div></div>"]
    return "".join(out)


def _team_targets(ev: MonthlyEvaluation) -> str:
    table = []
    for row in ev.team.rows:
        cls = "" if row.met is None else "met" if row.met else "below"
        table.append([_td(row.name), _td(_target_text(row.target, row.unit), "n"),
                      _td(_target_text(row.actual, row.unit), "n"),
                      _td(_pct(row.attainment), f"n {cls}".strip()),
                      _td("–" if row.met is None else "✓" if row.met else "✗", f"c {cls}"),
                      _td(row.basis, "basis")])
    out = ["<h2>Team targets vs actuals (售后经营发展目标)</h2>",
           _table(("Target", "Target value", "Actual", "Attainment", "Met", "Basis"), table,
                  "lnnnc")]
    if not ev.team.validation.ok:
        out.append(f'<p class="muted">{len(ev.team.validation.issues):,} training records '
                   f"were not counted (team.validation).</p>")
    return "".join(out)


def _loyalty(ev: MonthlyEvaluation) -> str:
    counts = ev.loyalty.counts()
    total = sum(counts.values())
    table = [[_td(level.value), _td(f"{count:,}", "n"),
              _td(_pct(count / total) if total else "–", "n")]
             for level, count in counts.items()]
    return ("<h2>Customers by loyalty (忠诚/一般/流失)</h2>"
            f"<p>From return visits; {len(ev.loyalty.changed()):,} customers changed "
            f"class.</p>" + _table(("Class", "Customers", "Share"), table, "lnn"))


def _policy(policy: Policy) -> str:
    scoring, rules = policy.scoring, policy.consequences
    parts = ", ".join(f"{_e(name)} {share:.0%}" for name, share in scoring.components.items())
    targets = "".join(f"<tr><td>{_e(name)}</td><td class=\"n\">"
                      f"{_e(_kpi_text(name, t.target))}</td><td class=\"n\">"
                      f"{_e(_kpi_text(name, t.floor))}</td><td>{_e(t.direction.value)}"
                      f"</td></tr>" for name, t in policy.kpis.items())
    items = [
        f"Composite: {parts}; KPI weights by {_e(scoring.mix)} mix; ranking by "
        f"{_e(scoring.ranking)}.",
        "Raters: " + ", ".join(f"{_e(role.value)} {weight:.0%}"
                               for role, weight in policy.raters.weights.items())
        + f" (missing rater: {_e(policy.raters.missing)}).",
        f"Rank 1 {rules.first_reward:+g}, last −{rules.last_deduction:g}; the bottom "
        f"{rules.improvement_plan_bottom} submit an improvement plan within "
        f"{rules.improvement_plan_days} days; last {rules.reassignment_after_last_months} "
        f"months in a row: reassignment review.",
        "Grades: " + ", ".join(f"{_grade_badge(g, policy)} ≥ {policy.grades[g]:g}"
                               for g in _grade_order(policy)) + ".",
    ]
    return ("<h2>Policy in force</h2><ul>" + "".join(f"<li>{item}</li>" for item in items)
            + "</ul><details><summary>KPI targets and floors</summary>"
            '<div class="wrap"><table><thead><tr><th>KPI</th><th class="n">Target</th>'
            '<th class="n">Floor</th><th>Better</th></tr></thead>'
            f"<tbody>{targets}</tbody></table></div></details>")


def _trend(months: Sequence[MonthlyEvaluation], shown: int) -> str:
    labels = [m.period.label for m in months]
    latest = months[-1]
    names = [name for name in _TREND_KPIS if name in latest.team_panel]
    series = [(_TITLES.get(name, name), [_network_value(m.team_panel, name) for m in months])
              for name in names]
    refs = []
    for k, name in enumerate(names):
        target = latest.policy.kpis.get(name)
        if target is not None:
            refs.append((target.target, f"target {_TITLES.get(name, name)}",
                         _PALETTE[k % len(_PALETTE)]))
    kpi_chart = _line_chart(f"Network KPIs, {labels[0]} to {labels[-1]}", labels, series,
                            _pct, refs, unit_range=(0.0, 1.0))
    groups = _ranked_groups(latest.scorecard)[:min(shown, len(_PALETTE))]
    medians = [(group, [_group_median(m.scorecard, group) for m in months])
               for group in groups]
    composite_chart = _line_chart(
        f"Median composite by {latest.policy.scoring.ranking}", labels, medians,
        lambda v: f"{v:.0f}", [], unit_range=(0.0, 100.0))
    return (f"<h2>Trend over {len(months)} periods</h2>"
            '<p class="muted">The network\'s KPIs (every team\'s numerators over every '
            "team's denominators) and each group's median composite, period by period; "
            "dashed lines are the latest policy's targets.</p>"
            f'<div class="groups"><div>{kpi_chart}</div><div>{composite_chart}</div></div>')


def _line_standing(line: ScoreLine, policy: Policy) -> str:
    """The colour class of a KPI line's value, against its target."""
    if line.component != "kpis":
        return ""
    return _standing(line.value, policy.kpis.get(line.item)) or ""


def _network_value(panel: KpiPanel, name: str) -> float:
    if name not in panel:
        return math.nan
    numerator, denominator = panel.numerator(name), panel.denominator(name)
    total = float(denominator.sum())
    return float(np.nansum(numerator)) / total if total > 0 else math.nan


def _group_median(card: Scorecard, group: str) -> float:
    values = [float(card.composite[i]) for i in range(len(card))
              if card.groups[i] == group and card.ranks[i] > 0]
    return float(np.median(values)) if values else math.nan


def _id_list(ids: Sequence[str], shown: int) -> str:
    return ", ".join(ids[:shown]) + (f" … +{len(ids) - shown}" if len(ids) > shown else "")


def _optional(value: object) -> str:
    return "–" if value is None else str(value)


# --------------------------------------------------------------------------- SVG charts


def _svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(label)}"><title>{_e(label)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>'
            f"{_e(text)}</text>")


def _clip(label: str, size: int = 14) -> str:
    return label if len(label) <= size else label[:size - 1] + "…"


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) inside ``[lo, hi]``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, count - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1)]


def _ranking_chart(card: Scorecard, group: str, policy: Policy) -> str:
    """Horizontal bars, one per ranked agent, the composite split into its parts."""
    agents = card.ranking(group)
    parts = [p for p, share in policy.scoring.components.items() if share > 0]
    left, right, top, row, width = 84, 58, 22, 20, 440
    plot = width - left - right
    bottom = top + row * len(agents)
    height = bottom + 40
    body = []
    x = left
    for part in parts:  # legend, under the axis
        colour = _PART_COLOURS.get(part, "#bab0ac")
        body.append(f'<rect x="{x}" y="{bottom + 24}" width="10" height="10" '
                    f'fill="{colour}"/>')
        body.append(_text(x + 14, bottom + 33, _PART_LABELS.get(part, part)))
        x += 24 + 7 * len(_PART_LABELS.get(part, part))
    for value in _ticks(0.0, 100.0, 6):
        gx = left + plot * value / 100
        body.append(f'<line class="grid" x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" '
                    f'y2="{bottom}"/>')
        body.append(_text(gx, bottom + 14, f"{value:.0f}", "middle"))
    for grade in _grade_order(policy):
        low = policy.grades[grade]
        if 0 < low < 100:
            gx = left + plot * low / 100
            body.append(f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{bottom}" '
                        f'stroke="#8c959f" stroke-dasharray="3 3"/>')
            body.append(_text(gx + 2, top - 10, grade, "start", ' fill="#59636e"'))
    for k, agent in enumerate(agents):
        i = card.index(agent)
        y = top + row * k
        body.append(_text(left - 6, y + 14, _clip(agent), "end"))
        points = _part_points(card, agent)
        x0 = float(left)
        for part in parts:
            w = plot * max(0.0, points.get(part, 0.0)) / 100
            colour = _PART_COLOURS.get(part, "#bab0ac")
            body.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                        f'fill="{colour}"><title>{_e(agent)} — {_e(_PART_LABELS.get(part, part))}'
                        f" adds {points.get(part, 0.0):.1f} points</title></rect>")
            x0 += w
        grade = card.grades[i] or "–"
        body.append(_text(x0 + 4, y + 14, f"{_score(card.composite[i])} {grade}", "start",
                          ' class="halo"'))
    return _svg(width, height, f"Ranking of {group}: composite by part", body)


def _strip_chart(label: str, groups: Sequence[tuple[str, Sequence[tuple[str, float]]]],
                 lo: float, hi: float, fmt: Callable[[float], str],
                 refs: Sequence[tuple[float, str, str]]) -> str:
    """Per group, a box (quartiles), median, whiskers (min–max) and one dot per agent."""
    left, right, top, row, width = 100, 24, 40, 34, 560
    plot = width - left - right
    height = top + row * len(groups) + 24
    bottom = top + row * len(groups)
    span = hi - lo if hi > lo else 1.0

    def sx(value: float) -> float:
        return left + plot * (min(max(value, lo), hi) - lo) / span

    body = [_text(left, 14, label, "start", ' font-weight="600"')]
    for value in _ticks(lo, hi):
        body.append(f'<line class="grid" x1="{sx(value):.1f}" y1="{top - 6}" '
                    f'x2="{sx(value):.1f}" y2="{bottom}"/>')
        body.append(_text(sx(value), bottom + 14, fmt(value), "middle"))
    for value, name, colour in refs:
        if lo <= value <= hi:
            body.append(f'<line x1="{sx(value):.1f}" y1="{top - 10}" x2="{sx(value):.1f}" '
                        f'y2="{bottom}" stroke="{colour}" stroke-width="1.5" '
                        f'stroke-dasharray="4 3"><title>{_e(name)} {_e(fmt(value))}'
                        f"</title></line>")
            body.append(_text(sx(value), top - 13, name, "middle", f' fill="{colour}"'))
    for k, (group, points) in enumerate(groups):
        mid = top + row * k + row / 2
        body.append(_text(left - 8, mid + 4, _clip(group), "end"))
        values = np.array([v for _, v in points if not math.isnan(v)])
        if len(values):
            q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
            body.append(f'<line class="axis" x1="{sx(float(values.min())):.1f}" y1="{mid}" '
                        f'x2="{sx(float(values.max())):.1f}" y2="{mid}"/>')
            body.append(f'<rect x="{sx(q1):.1f}" y="{mid - 9}" width="{sx(q3) - sx(q1):.1f}" '
                        f'height="18" fill="#4e79a7" fill-opacity="0.15" stroke="#4e79a7"/>')
            body.append(f'<line x1="{sx(median):.1f}" y1="{mid - 9}" x2="{sx(median):.1f}" '
                        f'y2="{mid + 9}" stroke="#1f2328" stroke-width="2"><title>median '
                        f"{_e(fmt(median))}</title></line>")
        ordered = sorted((v, agent) for agent, v in points if not math.isnan(v))
        for j, (value, agent) in enumerate(ordered):
            jitter = (j % 5 - 2) * 3
            body.append(f'<circle cx="{sx(value):.1f}" cy="{mid + jitter}" r="3" '
                        f'fill="#e15759" fill-opacity="0.75"><title>{_e(agent)}: '
                        f"{_e(fmt(value))}</title></circle>")
    return _svg(width, height, label, body)


def _agents_by_group(card: Scorecard, shown: int) -> list[tuple[str, list[int]]]:
    rows: dict[str, list[int]] = {}
    for i in range(len(card)):
        rows.setdefault(card.groups[i], []).append(i)
    return [(group, rows[group]) for group in sorted(rows)[:shown]]


def _composite_distribution(ev: MonthlyEvaluation, shown: int) -> str:
    card, policy = ev.scorecard, ev.policy
    groups = [(group, [(card.agent_ids[i], float(card.composite[i])) for i in rows])
              for group, rows in _agents_by_group(card, shown)]
    refs = [(float(policy.grades[g]), g, "#8c959f") for g in _grade_order(policy)
            if 0 < policy.grades[g] < 100]
    return _strip_chart(f"Composite score by {policy.scoring.ranking}", groups, 0.0, 100.0,
                        lambda v: f"{v:.0f}", refs)


def _kpi_distribution(ev: MonthlyEvaluation, name: str, shown: int) -> str:
    panel, card = ev.panel, ev.scorecard
    if name not in panel:
        return ""
    where = {key: i for i, key in enumerate(panel.keys)}
    values = panel[name]
    groups = [(group, [(card.agent_ids[i], float(values[where[card.agent_ids[i]]]))
                       for i in rows if card.agent_ids[i] in where])
              for group, rows in _agents_by_group(card, shown)]
    seen = [v for _, points in groups for _, v in points if not math.isnan(v)]
    target = ev.policy.kpis.get(name)
    refs = [] if target is None else [(target.target, "target", "#1a7f37"),
                                      (target.floor, "floor", "#cf222e")]
    if not seen:
        return ""
    lo = min([*seen, *(v for v, _, _ in refs)])
    hi = max([*seen, *(v for v, _, _ in refs)])
    pad = (hi - lo) * 0.05 or 0.05
    lo, hi = lo - pad, hi + pad
    if KPIS[name].unit == "share":  # a share lies in [0, 1]
        lo, hi = max(0.0, lo), min(1.0, hi)
    title = _TITLES.get(name, name.replace("_", " "))
    return _strip_chart(f"{title} by {ev.policy.scoring.ranking}", groups, lo, hi,
                        lambda v: _kpi_text(name, v), refs)


def _line_chart(label: str, labels: Sequence[str],
                series: Sequence[tuple[str, Sequence[float]]], fmt: Callable[[float], str],
                refs: Sequence[tuple[float, str, str]],
                unit_range: tuple[float, float]) -> str:
    """One line per series over the periods; the y range fits the data within
    *unit_range*."""
    left, right, top, width = 52, 16, 30, 560
    legend_rows = (len(series) + 1) // 2
    plot_h = 200
    height = top + plot_h + 28 + 18 * legend_rows
    plot = width - left - right
    seen = [v for _, values in series for v in values if not math.isnan(v)]
    seen += [v for v, _, _ in refs]
    lo, hi = (min(seen), max(seen)) if seen else unit_range
    pad = (hi - lo) * 0.08 or (unit_range[1] - unit_range[0]) * 0.05
    lo, hi = max(unit_range[0], lo - pad), min(unit_range[1], hi + pad)
    span = hi - lo if hi > lo else 1.0

    inset = 28  # room for the first and last period labels

    def sx(k: int) -> float:
        if len(labels) < 2:
            return left + plot / 2
        return left + inset + (plot - 2 * inset) * k / (len(labels) - 1)

    def sy(value: float) -> float:
        return top + plot_h - plot_h * (value - lo) / span

    body = [_text(left, 14, label, "start", ' font-weight="600"')]
    for value in _ticks(lo, hi):
        body.append(f'<line class="grid" x1="{left}" y1="{sy(value):.1f}" x2="{left + plot}" '
                    f'y2="{sy(value):.1f}"/>')
        body.append(_text(left - 6, sy(value) + 4, fmt(value), "end"))
    for k, text in enumerate(labels):
        body.append(_text(sx(k), top + plot_h + 16, text, "middle"))
    for value, name, colour in refs:
        if lo <= value <= hi:
            body.append(f'<line x1="{left}" y1="{sy(value):.1f}" x2="{left + plot}" '
                        f'y2="{sy(value):.1f}" stroke="{colour}" stroke-dasharray="5 4" '
                        f'stroke-opacity="0.7"><title>{_e(name)} {_e(fmt(value))}</title></line>')
    for n, (name, values) in enumerate(series):
        colour = _PALETTE[n % len(_PALETTE)]
        points = [(sx(k), sy(v), v, labels[k]) for k, v in enumerate(values)
                  if not math.isnan(v)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"/>')
        for x, y, v, period in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                        f"<title>{_e(name)} {_e(period)}: {_e(fmt(v))}</title></circle>")
        lx = left + (n % 2) * (plot // 2)
        ly = top + plot_h + 34 + 18 * (n // 2)
        body.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="3" fill="{colour}"/>')
        body.append(_text(lx + 18, ly - 4, _clip(name, 40)))
    return _svg(width, height, label, body)
