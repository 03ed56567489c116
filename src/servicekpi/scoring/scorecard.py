"""The monthly scorecard: KPI points, the appraisal track, 360° ratings, grade and rank.

Every agent of the roster gets a composite score in [0, 100] made of up to three parts
(``policy.scoring.components``, default 60 / 25 / 15 %):

``kpis``
    Each weighted KPI earns points linear between its floor (0) and its target (1),
    **capped**: beyond the target it earns no more, below the floor no less than 0
    (``points = clip((value − floor) / (target − floor), 0, 1)``, which reads the same
    for lower-is-better KPIs, whose floor lies above the target). The KPI weights are
    the agent's mix (``policy.scoring.mix``): by ticket mix, a blend of the service
    types' mixes (``policy.weights``) in proportion to the agent's tickets of each
    type, or by role (``policy.scoring.role_mixes``). A KPI without data for the agent
    (denominator 0, e.g. no repair ticket) is left out and the other weights are
    renormalised; the explanation says so.
``appraisal``
    The appraisal track of the agent's role (``policy.tracks``, or the agent's own
    ``track``). *Performance agreement* (绩效协议): the weighted plan items scored by
    the supervisor (``agreement_plan_share``) and the daily-work quality score (the
    rest). *Key indicators* (关键指标/关键行为): the weighted indicator scores as a share
    of the standard score, minus the key-behaviour deductions, capped at
    ``key_indicator_ceiling`` × the standard score — strictly below it — and at 0.
``raters``
    360° ratings of the period, each normalised to 0–100 on its own scale, averaged per
    rater role and weighted by ``policy.raters.weights``. A weighted role that gave no
    rating is handled by ``policy.raters.missing``: ``"renormalise"`` spreads its
    weight over the roles present; ``"fail"`` leaves the agent *unavailable* (no grade,
    no rank), with the reason recorded.

An agent missing a whole part (no appraisal handed in, no rating, no ticket) has the
other parts' shares renormalised. The grade is the policy band of the composite; the
rank is within the ranking group (``policy.scoring.ranking``: team, station or all).

**Tie rule.** Agents are ordered by composite score, then KPI score (both compared to 9
decimals, so that float sums in another row order cannot decide), then tickets opened
in the period (more first), then agent id (ascending): ranks are 1..n with no two agents sharing one,
and the same data always gives the same ranking.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, final

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi import _extras
from servicekpi._frozen import FrozenDict
from servicekpi.dataset import Dataset
from servicekpi.domain import Appraisal, AppraisalTrack, Period, RaterRole, Role, ServiceType
from servicekpi.exceptions import PolicyError, SchemaError, UnknownKeyError
from servicekpi.metrics import KPIS, KpiPanel, kpi_panel
from servicekpi.policy import COMPONENTS, Policy
from servicekpi.tables import TicketTable, ValidationIssue, ValidationReport

__all__ = ("Explanation", "ScoreLine", "Scorecard", "score_agents")

_DECIMALS: Final = 9


# --------------------------------------------------------------------------- explanations


@final
@attrs.frozen(kw_only=True)
class ScoreLine:
    """One ingredient of a score, with everything needed to check it by hand.

    Attributes:
        component: ``"kpis"``, ``"appraisal"``, ``"raters"`` or ``"composite"``.
        item: the KPI, appraisal item, deduction, rater role or part it is about.
        value: the measured value (KPI value, item score, rating mean, deduction
            points, part score); ``NaN`` when there was no data.
        denominator: what the value was computed over (KPI denominator, number of
            ratings), if any.
        target: the KPI target, if any.
        floor: the KPI floor, if any.
        weight: the weight it carries within its component (after mixing and
            renormalising), or the part's share within the composite.
        points: what it adds to its component's score (0–100 scale); negative for
            deductions and caps.
        rule: how ``points`` follow from the rest, in words.
        adjustment: a deduction, cap or renormalisation applied, in words; ``""`` if
            none.

    .. versionadded:: 0.1
    """

    component: str
    item: str
    value: float
    denominator: float | None = None
    target: float | None = None
    floor: float | None = None
    weight: float = 0.0
    points: float = 0.0
    rule: str = ""
    adjustment: str = ""


@final
@attrs.frozen(kw_only=True)
class Explanation:
    """Why an agent got its score: every line, the parts, the grade and the rank.

    ``str(explanation)`` is a text an agent can be shown (公平、公正、公开).

    .. versionadded:: 0.1
    """

    agent_id: str
    period: Period
    composite: float
    grade: str | None
    rank: int | None
    group: str
    group_size: int
    status: str
    lines: tuple[ScoreLine, ...]

    def part(self, component: str) -> tuple[ScoreLine, ...]:
        """The lines of one component (``"kpis"``, ``"appraisal"``, ``"raters"``)."""
        return tuple(line for line in self.lines if line.component == component)

    def __str__(self) -> str:
        head = (f"{self.agent_id} — {self.period.label}: composite "
                f"{_fmt(self.composite)}, grade {self.grade or '–'}, "
                + (f"rank {self.rank} of {self.group_size} in {self.group}" if self.rank
                   else f"not ranked ({self.status})"))
        rows = [head]
        for component in (*COMPONENTS, "composite"):
            lines = self.part(component)
            if not lines:
                continue
            rows.append(f"  {component}:")
            for line in lines:
                # Durations read better in hours than in seconds.
                show = _hours if "_seconds" in line.item else _fmt
                bits = [f"    {line.item:<34} value {show(line.value):>10}"]
                if line.denominator is not None:
                    bits.append(f"over {_fmt(line.denominator)}")
                if line.target is not None:
                    bits.append(f"target {show(line.target)} floor {show(line.floor)}")
                bits.append(f"weight {line.weight:.3f} -> {line.points:+.2f}")
                rows.append(" ".join(bits))
                rows.append(f"      {line.rule}")
                if line.adjustment:
                    rows.append(f"      ! {line.adjustment}")
        return "\n".join(rows)


def _hours(value: float | None) -> str:
    if value is None or math.isnan(value):
        return _fmt(value)
    return f"{value / 3600:.2f} h"


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"


# --------------------------------------------------------------------------- the scorecard


_COLUMNS: Final = ("kpi_score", "appraisal_score", "rater_score", "composite")


@final
@attrs.frozen(kw_only=True, eq=False)
class Scorecard:
    """The scores of every agent of the roster for one period: immutable, aligned rows.

    Attributes:
        period: the period scored.
        agent_ids: the agents, in roster order; every column aligns with it.
        groups: each agent's ranking group (team id, station id or ``"all"``).
        tickets: tickets of the period handled by each agent.
        kpi_score, appraisal_score, rater_score: the parts, 0–100, ``NaN`` if absent.
        composite: the composite score, ``NaN`` when unavailable.
        grades: each agent's grade, ``None`` when unavailable.
        ranks: rank within the group (1 = best), 0 when not ranked.
        group_sizes: ranked agents in the agent's group.
        status: ``"ranked"`` or the reason the agent is not.
        report: inputs that could not be used (unknown agents, duplicate appraisals…).

    .. versionadded:: 0.1
    """

    period: Period
    agent_ids: tuple[str, ...]
    groups: tuple[str, ...]
    tickets: NDArray[np.int64]
    kpi_score: NDArray[np.float64]
    appraisal_score: NDArray[np.float64]
    rater_score: NDArray[np.float64]
    composite: NDArray[np.float64]
    grades: tuple[str | None, ...]
    ranks: NDArray[np.int64]
    group_sizes: NDArray[np.int64]
    status: tuple[str, ...]
    lines: FrozenDict[str, tuple[ScoreLine, ...]]
    report: ValidationReport
    _positions: dict[str, int] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        for name in ("tickets", "ranks", "group_sizes", *_COLUMNS):
            getattr(self, name).flags.writeable = False
        object.__setattr__(self, "_positions",
                           {agent: i for i, agent in enumerate(self.agent_ids)})

    def __len__(self) -> int:
        return len(self.agent_ids)

    def index(self, agent_id: str) -> int:
        """The row of *agent_id*.

        Raises:
            UnknownKeyError: an agent not on the scorecard (with a did-you-mean hint).
        """
        try:
            return self._positions[agent_id]
        except KeyError:
            raise UnknownKeyError.for_key("agent", agent_id, self.agent_ids) from None

    def row(self, agent_id: str) -> Mapping[str, Any]:
        """One agent's scores, grade, rank and status as a mapping."""
        i = self.index(agent_id)
        return {"agent_id": agent_id, "group": self.groups[i], "tickets": int(self.tickets[i]),
                **{name: float(getattr(self, name)[i]) for name in _COLUMNS},
                "grade": self.grades[i], "rank": int(self.ranks[i]) or None,
                "group_size": int(self.group_sizes[i]), "status": self.status[i]}

    def to_records(self) -> list[dict[str, Any]]:
        """Every row (:meth:`row`), in roster order."""
        return [dict(self.row(agent)) for agent in self.agent_ids]

    def ranking(self, group: str | None = None) -> list[str]:
        """Agent ids in rank order, of one group or (``None``) group by group."""
        ranked = [i for i in range(len(self)) if self.ranks[i] > 0
                  and (group is None or self.groups[i] == group)]
        if group is not None and not ranked and group not in self.groups:
            raise UnknownKeyError.for_key("ranking group", group, sorted(set(self.groups)))
        ranked.sort(key=lambda i: (self.groups[i], int(self.ranks[i])))
        return [self.agent_ids[i] for i in ranked]

    def last_of_group(self) -> dict[str, str]:
        """Per group with at least two ranked agents, the agent ranked last."""
        out: dict[str, str] = {}
        for i in range(len(self)):
            if self.ranks[i] > 1 and self.ranks[i] == self.group_sizes[i]:
                out[self.groups[i]] = self.agent_ids[i]
        return out

    def explain(self, agent_id: str) -> Explanation:
        """Why *agent_id* got its score: KPI values, denominators, targets, floors,
        weights, rules, deductions and caps, the parts and their shares, grade and rank.

        >>> from servicekpi import synth
        >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
        >>> card = score_agents(data, period=data.period)
        >>> e = card.explain("A0002")
        >>> [line.item for line in e.part("composite")]
        ['kpis', 'appraisal', 'raters']
        >>> abs(sum(line.points for line in e.part("composite")) - e.composite) < 1e-9
        True
        """
        i = self.index(agent_id)
        return Explanation(agent_id=agent_id, period=self.period,
                           composite=float(self.composite[i]), grade=self.grades[i],
                           rank=int(self.ranks[i]) or None, group=self.groups[i],
                           group_size=int(self.group_sizes[i]), status=self.status[i],
                           lines=self.lines[agent_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.agent_ids)

    def to_frame(self, backend: str | None = None) -> Any:
        """The rows of :meth:`to_records` as a dataframe (``backend`` as in
        :meth:`KpiPanel.to_frame`). Needs the ``frames`` extra."""
        return _extras.edge("io.frames").scorecard_to_frame(self, backend=backend)

    def plot(self, group: str | None = None, *, ax: Any = None) -> Any:
        """Ranking bars of one group (default: the first), composite split into its
        parts; returns the matplotlib ``Axes``. Needs the ``plot`` extra."""
        return _extras.edge("report.plot").plot_scorecard(self, group, ax=ax)

    def _repr_html_(self) -> str:
        html: str = _extras.edge("report.notebook").scorecard_html(self)
        return html

    def __repr__(self) -> str:
        ranked = int((self.ranks > 0).sum())
        return (f"<Scorecard {self.period.label}: {len(self)} agents, {ranked} ranked in "
                f"{len(set(self.groups))} groups>")


# --------------------------------------------------------------------------- scoring


NO_ROSTER: Final = ("scoring needs the roster: dataset.agents is empty (roles, teams and "
                    "tracks come from it)")


def score_agents(dataset: Dataset, *, period: Period, policy: Policy | None = None,
                 panel: KpiPanel | None = None) -> Scorecard:
    """Score every agent of ``dataset.agents`` for *period*.

    Args:
        dataset: the records; needs the roster (``agents``) for roles and teams.
            Tickets, callbacks, complaints and orders feed the KPIs, ``ratings`` the
            360° part, ``appraisals`` (those of *period*) the appraisal track.
        period: the period scored.
        policy: targets, weights, tracks, rater weights, grades (default
            :meth:`Policy.default`).
        panel: the KPI panel by agent if already computed (``by="agent"``, same period).

    Returns:
        A :class:`Scorecard`. Agents with tickets but not on the roster, ratings or
        appraisals of unknown agents, duplicate appraisals and appraisals on the wrong
        track are listed in ``scorecard.report``, never silently dropped.

    Raises:
        SchemaError: an empty roster, or a panel not grouped by agent.
        PolicyError: a weighted KPI that servicekpi does not compute.

    >>> from servicekpi import synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> card = score_agents(data, period=data.period)
    >>> sorted(card.ranks.tolist())
    [1, 2, 3, 4, 5, 6, 7, 8]
    >>> card.ranking()[:3]
    ['A0008', 'A0006', 'A0004']

    .. versionadded:: 0.1
    """
    return _score(dataset, period=period, policy=policy, panel=panel, mix=None)


def _score(dataset: Dataset, *, period: Period, policy: Policy | None, panel: KpiPanel | None,
           mix: _TicketMix | None) -> Scorecard:
    """:func:`score_agents`, with the ticket mix given when the tickets are not at hand
    (``servicekpi.dask`` adds it up over partitions)."""
    policy = Policy.default() if policy is None else policy
    roster = dataset.agents
    if len(roster) == 0:
        raise SchemaError(NO_ROSTER)
    agent_ids = tuple(str(a) for a in roster.decode("agent_id"))
    n = len(agent_ids)
    position = {agent: i for i, agent in enumerate(agent_ids)}
    issues: list[ValidationIssue] = []
    roles = [Role(r) if r is not None else None for r in roster.decode("role")]
    tracks = [AppraisalTrack(t) if t is not None else policy.track_for(role)
              if role is not None else None
              for t, role in zip(roster.decode("track"), roles, strict=True)]

    if panel is None:
        panel = kpi_panel(dataset.tickets, period=period, by="agent", policy=policy,
                          callbacks=dataset.callbacks, complaints=dataset.complaints,
                          orders=dataset.orders, events=dataset.events)
    elif panel.by != ("agent",):
        raise SchemaError(f"'panel' must be grouped by agent (got by={panel.by!r})")

    if mix is None:
        mix = _TicketMix.of(dataset.tickets, period)
    tickets_in, type_counts = _mix_matrix(mix, position, issues)
    kpi_names, kpi_score, kpi_lines = _kpi_part(panel, agent_ids, roles, type_counts,
                                                policy)
    appraisal_score, appraisal_lines = _appraisal_part(dataset.appraisals, period, position,
                                                       tracks, policy, issues)
    rater_score, rater_lines, rater_failed = _rater_part(dataset, period, position, policy,
                                                         issues)
    del kpi_names

    parts = np.column_stack([kpi_score, appraisal_score, rater_score])
    shares = np.array([policy.scoring.components.get(c, 0.0) for c in COMPONENTS])
    present = ~np.isnan(parts) & (shares > 0)
    share_sum = (present * shares).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        effective = np.where(present, shares, 0.0) / share_sum[:, None]
        composite = np.where(share_sum > 0, np.clip(
            (np.where(present, parts, 0.0) * effective).sum(axis=1), 0.0, 100.0), np.nan)
    status = ["ranked"] * n
    raters_count = policy.scoring.components.get("raters", 0.0) > 0
    for i in range(n):
        if rater_failed[i] and raters_count:
            composite[i] = np.nan
            status[i] = rater_failed[i]
        elif share_sum[i] == 0:
            status[i] = "nothing to score: no ticket, appraisal or rating in the period"

    grades = _grades(composite, policy)
    groups = _groups(roster, policy)
    ranks, sizes = _rank(composite, kpi_score, tickets_in, agent_ids, groups)

    lines: dict[str, tuple[ScoreLine, ...]] = {}
    for i, agent in enumerate(agent_ids):
        own = [*kpi_lines[i], *appraisal_lines.get(i, ()), *rater_lines.get(i, ())]
        for k, component in enumerate(COMPONENTS):
            if shares[k] == 0:
                continue
            value = float(parts[i, k])
            if present[i, k] and not math.isnan(composite[i]):
                own.append(ScoreLine(
                    component="composite", item=component, value=value,
                    weight=float(effective[i, k]), points=value * float(effective[i, k]),
                    rule=f"part score × its share ({shares[k]:g} in the policy)",
                    adjustment="" if math.isclose(effective[i, k], shares[k])
                    else "share renormalised over the parts present"))
            elif not present[i, k]:
                own.append(ScoreLine(component="composite", item=component, value=value,
                                     rule="part absent: its share is spread over the others"))
        lines[agent] = tuple(own)

    report = ValidationReport(table="scoring", rows_in=n, rows_valid=n, issues=tuple(issues))
    return Scorecard(period=period, agent_ids=agent_ids, groups=groups,
                     tickets=tickets_in, kpi_score=kpi_score, appraisal_score=appraisal_score,
                     rater_score=rater_score, composite=composite, grades=grades,
                     ranks=ranks, group_sizes=sizes, status=tuple(status),
                     lines=FrozenDict(lines), report=report)


@attrs.frozen(kw_only=True)
class _TicketMix:
    """Tickets of a period per agent id and service type, and each agent's first ticket
    (table row, ticket id): adds up over any parts of the tickets."""

    counts: FrozenDict[str, tuple[int, ...]]  # agent id -> tickets per service type
    first: FrozenDict[str, tuple[int, str]]  # agent id -> (row, ticket id) of the first

    def __add__(self, other: _TicketMix) -> _TicketMix:
        counts = dict(self.counts)
        for agent, more in other.counts.items():
            counts[agent] = tuple(a + b for a, b in zip(counts[agent], more, strict=True)) \
                if agent in counts else more
        first = dict(self.first)
        for agent, seen in other.first.items():
            first[agent] = min(first[agent], seen) if agent in first else seen
        return _TicketMix(counts=FrozenDict(counts), first=FrozenDict(first))

    @classmethod
    def of(cls, tickets: TicketTable, period: Period,
           rows: NDArray[np.int64] | None = None) -> _TicketMix:
        """The mix of *tickets* (opened in *period*); *rows*: each row's number in the
        whole table, when *tickets* is a part of it."""
        start, end = int(period.start.timestamp()), int(period.end.timestamp())
        opened = tickets["opened_at"]
        selected = np.flatnonzero((opened >= start) & (opened < end)
                                  & (tickets["agent_id"] >= 0))
        labels = tickets.labels("agent_id")
        codes = tickets["agent_id"][selected].astype(np.int64)
        types = len(ServiceType)
        flat = codes * types + tickets["service_type"][selected].astype(np.int64)
        matrix = np.bincount(flat, minlength=len(labels) * types).reshape(len(labels), types)
        present, first = np.unique(codes, return_index=True)
        first_rows = selected[first]
        ids = tickets.labels("ticket_id")
        id_codes = tickets["ticket_id"][first_rows].tolist()
        numbers = (first_rows if rows is None else rows[first_rows]).tolist()
        return cls(counts=FrozenDict({labels[c]: tuple(matrix[c].tolist())
                                      for c in present.tolist()}),
                   first=FrozenDict({labels[c]: (row, ids[t]) for c, row, t in zip(
                       present.tolist(), numbers, id_codes, strict=True)}))


def _mix_matrix(mix: _TicketMix, position: Mapping[str, int],
                issues: list[ValidationIssue]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Tickets of the period per roster agent and per (agent, service type); an issue
    for each agent of the tickets who is not on the roster (in id order)."""
    mix_rows = np.zeros((len(position), len(ServiceType)), dtype=np.float64)
    for agent in sorted(mix.counts):
        counts = mix.counts[agent]
        at = position.get(agent)
        if at is not None:
            mix_rows[at] = counts
            continue
        row, ticket = mix.first[agent]
        issues.append(ValidationIssue(
            row=row, key=ticket, field="agent_id", value=agent, code="unknown_agent",
            rule=f"an agent of the roster ({sum(counts)} ticket(s) of the period not "
                 f"scored)"))
    return mix_rows.sum(axis=1).astype(np.int64), mix_rows


def _kpi_part(panel: KpiPanel, agent_ids: Sequence[str], roles: Sequence[Role | None],
              type_counts: NDArray[np.float64], policy: Policy
              ) -> tuple[tuple[str, ...], NDArray[np.float64], list[list[ScoreLine]]]:
    mixes = list(policy.weights)
    names: list[str] = []
    for mix in policy.weights.values():
        names.extend(name for name in mix if name not in names)
    unknown = [name for name in names if name not in KPIS]
    if unknown:
        hint = UnknownKeyError.for_key("KPI", unknown[0], list(KPIS))
        raise PolicyError(f"weights: {hint} (servicekpi computes no such KPI, so it "
                          f"cannot be scored)")
    n, k = len(agent_ids), len(names)
    matrix = np.array([[policy.weights[mix].get(name, 0.0) for name in names]
                       for mix in mixes], dtype=np.float64)

    # Panel rows -> roster rows (agents without tickets have no panel row: NaN).
    panel_rows = {key: row for row, key in enumerate(panel.keys)}
    rows = np.array([panel_rows.get(agent, -1) for agent in agent_ids], dtype=np.int64)
    have = rows >= 0
    values = np.full((n, k), np.nan)
    denominators = np.zeros((n, k))
    for j, name in enumerate(names):
        values[have, j] = panel[name][rows[have]]
        denominators[have, j] = panel.denominator(name)[rows[have]]

    def mix_row(role: Role | None) -> int:
        mix = "default" if role is None else policy.scoring.mix_of(role)
        return mixes.index(mix if mix in policy.weights else "default")

    role_rows = np.array([mix_row(role) for role in roles], dtype=np.int64)
    by_role = matrix[role_rows]
    if policy.scoring.mix == "tickets":
        type_rows = np.array([mixes.index(t.value) if t.value in policy.weights
                              else mixes.index("default") for t in ServiceType])
        total = type_counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = type_counts / total[:, None]
        blended = np.nan_to_num(shares) @ matrix[type_rows]
        weights0 = np.where((total > 0)[:, None], blended, by_role)
    else:
        weights0 = by_role

    targets = [policy.kpis[name] for name in names]
    target = np.array([t.target for t in targets])
    floor = np.array([t.floor for t in targets])
    with np.errstate(invalid="ignore"):
        points = np.clip((values - floor) / (target - floor), 0.0, 1.0)
    usable = ~np.isnan(values) & (weights0 > 0)
    weight_sum = np.where(usable, weights0, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.where(usable, weights0, 0.0) / weight_sum[:, None]
    contribution = np.where(usable, weights * points * 100.0, 0.0)
    # Renormalised weights sum to 1 only up to rounding: keep the score inside [0, 100].
    score = np.where(weight_sum > 0, np.clip(contribution.sum(axis=1), 0.0, 100.0), np.nan)

    lines: list[list[ScoreLine]] = []
    for i in range(n):
        mine: list[ScoreLine] = []
        for j, name in enumerate(names):
            if weights0[i, j] <= 0:
                continue
            t = targets[j]
            better = "higher" if t.direction.value == "higher" else "lower"
            rule = (f"linear from floor {t.floor:g} (0) to target {t.target:g} (1), "
                    f"{better} is better, capped at both ends; × weight × 100")
            value = float(values[i, j])
            if not usable[i, j]:
                adjustment = "no data in the period: its weight is spread over the others"
            elif points[i, j] >= 1.0 and value != t.target:
                adjustment = "capped at the target: beyond it earns no more"
            elif points[i, j] <= 0.0 and value != t.floor:
                adjustment = "below the floor: earns nothing"
            else:
                adjustment = ""
            mine.append(ScoreLine(
                component="kpis", item=name, value=value,
                denominator=float(denominators[i, j]), target=t.target, floor=t.floor,
                weight=float(weights[i, j]) if usable[i, j] else 0.0,
                points=float(contribution[i, j]), rule=rule, adjustment=adjustment))
        lines.append(mine)
    return tuple(names), score, lines


def _appraisal_part(appraisals: Sequence[Appraisal], period: Period,
                    position: Mapping[str, int], tracks: Sequence[AppraisalTrack | None],
                    policy: Policy, issues: list[ValidationIssue]
                    ) -> tuple[NDArray[np.float64], dict[int, tuple[ScoreLine, ...]]]:
    score = np.full(len(position), np.nan)
    lines: dict[int, tuple[ScoreLine, ...]] = {}
    for row, appraisal in enumerate(appraisals):
        if appraisal.period != period:
            if _same_span(appraisal.period, period):
                issues.append(ValidationIssue(
                    row=row, key=appraisal.agent_id, field="period",
                    value=str(appraisal.period), code="other_zone",
                    rule=f"the period scored, {period} (same months, another time zone)"))
            continue
        i = position.get(appraisal.agent_id, -1)
        problem = None
        if i < 0:
            problem = ("agent_id", appraisal.agent_id, "an agent of the roster",
                       "unknown_agent")
        elif i in lines:
            problem = ("agent_id", appraisal.agent_id,
                       "one appraisal per agent and period (the first is used)", "duplicate")
        elif (track := tracks[i]) is not None and appraisal.track is not track:
            problem = ("track", appraisal.track.value,
                       f"the agent's track {track.value!r} (policy.tracks / agent.track)",
                       "wrong_track")
        if problem is not None:
            field, bad, rule, code = problem
            issues.append(ValidationIssue(row=row, key=appraisal.agent_id, field=field,
                                          value=bad, rule=rule, code=code))
            continue
        value, mine = (_agreement(appraisal, policy)
                       if appraisal.track is AppraisalTrack.PERFORMANCE_AGREEMENT
                       else _key_indicators(appraisal, policy))
        score[i] = value if math.isnan(value) else min(100.0, max(0.0, value))
        lines[i] = tuple(mine)
    return score, lines


def _same_span(a: Period, b: Period) -> bool:
    return (a.kind, a.year, a.index) == (b.kind, b.year, b.index)


def _weighted(appraisal: Appraisal, scale: float, component: str, kind: str
              ) -> tuple[float, list[ScoreLine]]:
    """Σ weight × score over scored items, renormalised over them; NaN if none."""
    scored = [item for item in appraisal.items if item.score is not None]
    total = math.fsum(item.weight for item in scored)
    lines = []
    for item in appraisal.items:
        if item.score is None:
            lines.append(ScoreLine(component=component, item=item.name, value=math.nan,
                                   weight=0.0, rule=f"{kind} score × weight",
                                   adjustment="not scored: its weight is spread over the "
                                              "scored items"))
            continue
        weight = item.weight / total
        lines.append(ScoreLine(
            component=component, item=item.name, value=float(item.score), weight=weight,
            points=weight * float(item.score) * scale, rule=f"{kind} score × weight",
            adjustment="" if math.isclose(weight, item.weight)
            else "weight renormalised over the scored items"))
    if not scored:
        return math.nan, lines
    return math.fsum(line.points for line in lines), lines


def _agreement(appraisal: Appraisal, policy: Policy) -> tuple[float, list[ScoreLine]]:
    share = policy.scoring.agreement_plan_share
    plan, plan_lines = _weighted(appraisal, 1.0, "appraisal", "plan item (supervisor)")
    quality = appraisal.quality_score
    if math.isnan(plan) and quality is None:
        return math.nan, [*plan_lines, ScoreLine(
            component="appraisal", item="performance_agreement", value=math.nan,
            rule="no scored plan item and no daily-work quality score")]
    if math.isnan(plan):
        plan_share, quality_share = 0.0, 1.0
    elif quality is None:
        plan_share, quality_share = 1.0, 0.0
    else:
        plan_share, quality_share = share, 1.0 - share
    lines = [attrs.evolve(line, weight=line.weight * plan_share,
                          points=line.points * plan_share) for line in plan_lines]
    if quality is not None:
        lines.append(ScoreLine(
            component="appraisal", item="daily_work_quality", value=float(quality),
            weight=quality_share, points=float(quality) * quality_share,
            rule=f"daily-work quality score × {quality_share:g} "
                 f"(plan items {plan_share:g})",
            adjustment="" if quality_share == 1.0 - share
            else "no scored plan item: the quality score counts alone"))
    elif plan_share == 1.0 and share < 1.0:
        lines.append(ScoreLine(component="appraisal", item="daily_work_quality",
                               value=math.nan, rule="not scored",
                               adjustment="the plan items count alone"))
    return math.fsum(line.points for line in lines), lines


def _key_indicators(appraisal: Appraisal, policy: Policy) -> tuple[float, list[ScoreLine]]:
    standard = appraisal.standard_score
    to_100 = 100.0 / standard
    ceiling = policy.scoring.key_indicator_ceiling * standard
    if appraisal.items:
        base, lines = _weighted(appraisal, 1.0, "appraisal", "indicator")
        if math.isnan(base):
            return math.nan, lines
        raw = standard * base / 100.0
    else:
        raw = standard
        lines = [ScoreLine(component="appraisal", item="standard_score",
                           value=standard, weight=1.0, points=100.0,
                           rule="no key indicators: the standard score")]
    for deduction in appraisal.deductions:
        lines.append(ScoreLine(
            component="appraisal", item=f"deduction:{deduction.behaviour}",
            value=float(deduction.points), points=-float(deduction.points) * to_100,
            rule=f"key behaviour deducted from the standard score {standard:g}",
            adjustment=deduction.note))
    total = raw - appraisal.total_deduction
    if total > ceiling:
        lines.append(ScoreLine(
            component="appraisal", item="cap", value=ceiling,
            points=-(total - ceiling) * to_100,
            rule=f"capped at {policy.scoring.key_indicator_ceiling:g} × the standard score "
                 f"{standard:g}",
            adjustment=f"total {total:g} capped at {ceiling:g}: it never reaches or exceeds "
                       f"the standard score"))
        total = ceiling
    elif total < 0:
        lines.append(ScoreLine(component="appraisal", item="floor", value=0.0,
                               points=-total * to_100, rule="a total never goes below 0",
                               adjustment=f"total {total:g} raised to 0"))
        total = 0.0
    return total * to_100, lines


def _rater_part(dataset: Dataset, period: Period, position: Mapping[str, int],
                policy: Policy, issues: list[ValidationIssue]
                ) -> tuple[NDArray[np.float64], dict[int, tuple[ScoreLine, ...]], list[str]]:
    n = len(position)
    ratings = dataset.ratings
    roles = list(RaterRole)
    score = np.full(n, np.nan)
    failed = [""] * n
    lines: dict[int, tuple[ScoreLine, ...]] = {}
    weights = policy.raters.weights
    count: NDArray[Any]
    total: NDArray[Any]
    if len(ratings):
        start, end = int(period.start.timestamp()), int(period.end.timestamp())
        at = ratings["rated_at"]
        selected = (at >= start) & (at < end)
        labels = ratings.labels("agent_id")
        to_roster = np.array([position.get(label, -1) for label in labels] + [-1],
                             dtype=np.int64)
        agent = to_roster[np.where(ratings["agent_id"] < 0, len(labels), ratings["agent_id"])]
        unknown = selected & (agent < 0)
        for row in np.flatnonzero(unknown).tolist():
            issues.append(ValidationIssue(row=row, key=None, field="agent_id",
                                          value=labels[ratings["agent_id"][row]],
                                          rule="an agent of the roster", code="unknown_agent"))
        keep = selected & (agent >= 0)
        low, high = ratings["scale_min"][keep], ratings["scale_max"][keep]
        normal = (ratings["score"][keep] - low) / (high - low) * 100.0
        cell = agent[keep] * len(roles) + ratings["rater_role"][keep].astype(np.int64)
        # Summing in a canonical order makes the means independent of the row order.
        order = np.lexsort((normal, cell))
        cell, normal = cell[order], normal[order]
        count = np.bincount(cell, minlength=n * len(roles)).reshape(n, len(roles))
        total = np.bincount(cell, weights=normal, minlength=n * len(roles)).reshape(
            n, len(roles))
    else:
        count = np.zeros((n, len(roles)), dtype=np.int64)
        total = np.zeros((n, len(roles)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    w = np.array([weights.get(role, 0.0) for role in roles])
    given = count > 0
    for i in np.flatnonzero(given.any(axis=1) | (policy.raters.missing == "fail")).tolist():
        missing = [roles[r].value for r in range(len(roles)) if w[r] > 0 and not given[i, r]]
        if missing and policy.raters.missing == "fail":
            failed[i] = (f"unavailable: no rating by {', '.join(missing)} "
                         f"(raters.missing = 'fail')")
        used = given[i] & (w > 0)
        mine = []
        weight_sum = float(w[used].sum())
        for r, role in enumerate(roles):
            if given[i, r] and w[r] > 0:
                share = w[r] / weight_sum
                mine.append(ScoreLine(
                    component="raters", item=role.value, value=float(mean[i, r]),
                    denominator=float(count[i, r]), weight=float(share),
                    points=float(mean[i, r] * share),
                    rule="mean rating, each normalised to 0–100 on its scale, × weight",
                    adjustment="" if math.isclose(share, w[r])
                    else "weight renormalised over the roles that rated"))
            elif given[i, r]:
                mine.append(ScoreLine(
                    component="raters", item=role.value, value=float(mean[i, r]),
                    denominator=float(count[i, r]), rule="not weighted by the policy",
                    adjustment="ignored: raters.weights gives this role no weight"))
            elif w[r] > 0:
                mine.append(ScoreLine(
                    component="raters", item=role.value, value=math.nan, denominator=0.0,
                    rule="no rating in the period",
                    adjustment="the score is unavailable" if policy.raters.missing == "fail"
                    else "its weight is spread over the roles that rated"))
        if weight_sum > 0 and not failed[i]:
            score[i] = min(100.0, math.fsum(line.points for line in mine))
        lines[i] = tuple(mine)
    return score, lines, failed


def _grades(composite: NDArray[np.float64], policy: Policy) -> tuple[str | None, ...]:
    bands = sorted(policy.grades.items(), key=lambda item: item[1])
    lows = np.array([low for _, low in bands])
    where = np.searchsorted(lows, np.nan_to_num(composite, nan=-1.0), side="right") - 1
    return tuple(bands[int(k)][0] if not math.isnan(c) else None
                 for k, c in zip(where.tolist(), composite.tolist(), strict=True))


def _groups(roster: Any, policy: Policy) -> tuple[str, ...]:
    scope = policy.scoring.ranking
    if scope == "all":
        return ("all",) * len(roster)
    column = "team_id" if scope == "team" else "station_id"
    return tuple(str(value) for value in roster.decode(column))


def _rank(composite: NDArray[np.float64], kpi_score: NDArray[np.float64],
          tickets: NDArray[np.int64], agent_ids: Sequence[str], groups: Sequence[str]
          ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Ranks 1..n per group by the documented tie rule; 0 for the unavailable."""
    n = len(agent_ids)
    ranked = ~np.isnan(composite)
    group_labels = sorted(set(groups))
    group = np.array(_codes(groups, group_labels), dtype=np.int64)
    id_order = np.empty(n, dtype=np.int64)
    id_order[np.argsort(np.array(agent_ids, dtype=object), kind="stable")] = np.arange(n)
    keys = (id_order, -tickets, -np.round(np.nan_to_num(kpi_score, nan=-1.0), _DECIMALS),
            -np.round(np.nan_to_num(composite, nan=-1.0), _DECIMALS), group)
    order = np.lexsort(keys)
    order = order[ranked[order]]
    ranks = np.zeros(n, dtype=np.int64)
    sizes = np.zeros(n, dtype=np.int64)
    if len(order):
        g = group[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        lengths = np.diff(np.r_[starts, len(order)])
        first = np.repeat(starts, lengths)
        ranks[order] = np.arange(len(order)) - first + 1
        sizes[order] = np.repeat(lengths, lengths)
    return ranks, sizes


def _codes(values: Sequence[str], labels: Sequence[str]) -> list[int]:
    index = {label: i for i, label in enumerate(labels)}
    return [index[value] for value in values]

