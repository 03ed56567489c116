"""matplotlib charts of a KPI panel and a scorecard (``KpiPanel.plot``,
``Scorecard.plot``); needs the ``plot`` extra.

matplotlib is imported when this module is, and this module only when a chart is asked
for, so ``import servicekpi`` and ``import servicekpi.report`` never load it. Without
matplotlib the import raises :class:`~servicekpi.exceptions.MissingExtraError` naming
the extra to install. With ``ax=None`` a new figure is made through ``pyplot`` (so that
notebooks show it); pass an ``Axes`` to draw into your own figure.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import Any, Final

from servicekpi.exceptions import MissingExtraError

try:
    from matplotlib.axes import Axes
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise MissingExtraError.for_extra("plot", "matplotlib") from error

from servicekpi.metrics import KPIS, KpiPanel
from servicekpi.report.markdown import _key_text, _part_points, _standing
from servicekpi.scoring import Scorecard

__all__ = ("plot_panel", "plot_scorecard")

_STANDING_COLOURS: Final = {"met": "#4ac26b", "near": "#d4a72c", "below": "#cf222e",
                            None: "#8c959f"}
_PART_COLOURS: Final = {"kpis": "#4e79a7", "appraisal": "#59a14f", "raters": "#b07aa1"}
_PART_LABELS: Final = {"kpis": "KPIs", "appraisal": "Appraisal", "raters": "360°"}
_HOUR: Final = 3600.0


def plot_panel(panel: KpiPanel, kpi: str | None = None, *, ax: Axes | None = None) -> Axes:
    """One KPI per group as bars, coloured against the policy's target (green met,
    amber between floor and target, red at or below the floor), with the target and
    floor as lines.

    Args:
        panel: the panel.
        kpi: the KPI to show; default the panel's first ``*_rate``, else its first KPI.
        ax: the ``Axes`` to draw into; default a new figure.

    Returns:
        The ``Axes``, with one bar per group (``ax.patches``).

    Raises:
        UnknownKeyError: *kpi* is not a KPI of the panel (with a did-you-mean hint).

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> from servicekpi import kpi_panel, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=2)
    >>> panel = kpi_panel(data.tickets, period=data.period, by="station")
    >>> ax = plot_panel(panel, "csi_rate", ax=Figure().subplots())
    >>> len(ax.patches), ax.get_title()
    (2, 'csi_rate by station, 2026-10 (Asia/Shanghai)')

    .. versionadded:: 0.1
    """
    name = kpi if kpi is not None else next(
        (n for n in panel.names if n.endswith("_rate")), panel.names[0])
    values = panel[name].astype(float)
    target = panel.policy.kpis.get(name)
    hours = "_seconds" in name
    scale = 1 / _HOUR if hours else 1.0
    ax = _axes(ax)
    labels = [_key_text(key) for key in panel.keys]
    colours = [_STANDING_COLOURS[_standing(float(v), target)] for v in values]
    ax.bar(range(len(labels)), values * scale, color=colours)
    ax.set_xticks(range(len(labels)), labels, rotation=90 if len(labels) > 12 else 0)
    if target is not None:
        ax.axhline(target.target * scale, color="#1a7f37", linestyle="--", linewidth=1,
                   label=f"target {target.target * scale:g}")
        ax.axhline(target.floor * scale, color="#cf222e", linestyle=":", linewidth=1,
                   label=f"floor {target.floor * scale:g}")
        ax.legend(loc="best", fontsize="small")
    unit = KPIS[name].unit if name in KPIS else ""
    if unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("hours" if hours else unit or name)
    ax.set_xlabel("/".join(panel.by))
    ax.set_title(f"{name} by {'/'.join(panel.by)}, {panel.period}")
    return ax


def plot_scorecard(card: Scorecard, group: str | None = None, *,
                   ax: Axes | None = None) -> Axes:
    """The ranking of one group as horizontal bars, rank 1 on top, each composite split
    into what its parts add (KPIs, appraisal, 360° ratings).

    Args:
        card: the scorecard.
        group: the ranking group; default the first (in sorted order) with a ranked agent.
        ax: the ``Axes`` to draw into; default a new figure.

    Returns:
        The ``Axes``, with one bar per ranked agent and part (``ax.patches``).

    Raises:
        UnknownKeyError: *group* is not a ranking group (with a did-you-mean hint).

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> from servicekpi import score_agents, synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> ax = plot_scorecard(score_agents(data, period=data.period), ax=Figure().subplots())
    >>> len(ax.patches)  # 8 agents × 3 parts
    24

    .. versionadded:: 0.1
    """
    if group is None:
        ranked = card.ranking()
        group = card.groups[card.index(ranked[0])] if ranked else card.groups[0]
    agents = card.ranking(group)
    parts = [p for p in _PART_COLOURS if any(line.component == "composite"
                                             and line.item == p
                                             for a in agents for line in card.lines[a])]
    ax = _axes(ax)
    left = [0.0] * len(agents)
    for part in parts:
        widths = [_part_points(card, agent)[part] for agent in agents]
        ax.barh(range(len(agents)), widths, left=left, color=_PART_COLOURS[part],
                label=_PART_LABELS[part])
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for k, agent in enumerate(agents):
        i = card.index(agent)
        ax.text(left[k] + 0.8, k, f"{float(card.composite[i]):.1f} {card.grades[i] or ''}",
                va="center", fontsize="small")
    ax.set_yticks(range(len(agents)), agents)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xlabel("composite score (points each part adds)")
    ax.set_title(f"Ranking of {group}, {card.period.label}")
    if parts:
        handles = [Patch(color=_PART_COLOURS[p], label=_PART_LABELS[p]) for p in parts]
        ax.legend(handles=handles, loc="lower right", fontsize="small")
    return ax


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when a new figure is wanted

    figure: Any = plt.figure()
    axes: Axes = figure.subplots()
    return axes
