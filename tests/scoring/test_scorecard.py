"""Tests of servicekpi.scoring.scorecard: score_agents against a naive reference.

:func:`reference` scores a small world again in plain Python, one agent at a time,
straight from the rules of the module docstring (KPI points, weight mixes,
renormalising, the two appraisal tracks, 360° raters, the composite, grade bands and
the tie rule); the KPI values it needs are computed from the tickets themselves (the
test policy weighs only KPIs that are simple counts over tickets). The properties
check that :func:`score_agents` agrees with it, that ranks are permutations, that the
result does not depend on the row order, that every score lies in [0, 100], that the
key-indicator total stays strictly below the standard score, and that the
explanation adds up. Parametrised tables pin grades, the key-indicator cap, the
performance-agreement blend, the rater policy, the tie rule, the report and the errors.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from servicekpi import synth
from servicekpi.dataset import Dataset
from servicekpi.domain import (
    Agent,
    Appraisal,
    AppraisalItem,
    AppraisalTrack,
    Channel,
    Deduction,
    Period,
    Priority,
    Rating,
    RaterRole,
    Role,
    ServiceType,
    Ticket,
)
from servicekpi.exceptions import PolicyError, SchemaError
from servicekpi.metrics import kpi_panel
from servicekpi.policy import KpiTarget, Policy, RaterPolicy, ScoringPolicy
from servicekpi.scoring import Scorecard, score_agents
from servicekpi.tables import AgentTable, RatingTable, TicketTable

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PERIOD = Period.parse("2026-10", tz="Asia/Shanghai")
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
NAN = math.nan
TOL = 1e-9

# Instants records are stamped with: inside the period (its first instant, two middle
# ones, its last second) and outside it (its end, the second before its start).
INSIDE = (PERIOD.start, datetime(2026, 10, 5, 9, tzinfo=UTC),
          datetime(2026, 10, 20, 14, 30, tzinfo=UTC), PERIOD.end - SECOND)
OUTSIDE = (PERIOD.end, PERIOD.start - SECOND)
MOMENTS = (*INSIDE, *OUTSIDE)
MIDDLE = datetime(2026, 10, 12, 10, tzinfo=UTC)

# The test policy weighs only KPIs that are plain counts over tickets, so that the
# reference can compute them itself.
WEIGHTS: dict[str, dict[str, float]] = {
    "repair": {"repair_success_rate": 0.4, "rework_rate": 0.3, "csi_rate": 0.3},
    "consultation": {"csi_rate": 0.3, "answer_accuracy_rate": 0.3, "csat_mean": 0.2,
                     "fcr_rate": 0.2},
    "technical_support": {"complex_solved": 0.5, "fcr_rate": 0.5},
    "default": {"csi_rate": 0.3, "fcr_rate": 0.3, "reopen_rate": 0.2, "complex_solved": 0.2},
}
ROLE_MIXES = {Role.FIELD_ENGINEER: "repair", Role.SERVICE_REPRESENTATIVE: "consultation",
              Role.TECHNICAL_SUPPORT: "technical_support"}
ROLES = (Role.FIELD_ENGINEER, Role.SERVICE_REPRESENTATIVE, Role.TECHNICAL_SUPPORT,
         Role.SERVICE_MANAGER)
SERVICE_TYPES = (ServiceType.REPAIR, ServiceType.CONSULTATION, ServiceType.TECHNICAL_SUPPORT,
                 ServiceType.MAINTENANCE)  # maintenance has no mix of its own: default
AGENT_IDS = ("A-1", "A-10", "A-2", "B-1", "a-3")  # roster order differs from id order
STRANGER = "X-9"  # not on the roster
COMPONENT_CHOICES: tuple[dict[str, float], ...] = (
    {"kpis": 0.6, "appraisal": 0.25, "raters": 0.15},
    {"kpis": 0.5, "appraisal": 0.5},
    {"kpis": 0.2, "appraisal": 0.3, "raters": 0.5},
    {"appraisal": 1.0},
)
RATER_WEIGHTS: tuple[dict[RaterRole, float], ...] = (
    {RaterRole.SELF: 0.3, RaterRole.SUPERVISOR: 0.7},
    {RaterRole.SELF: 0.2, RaterRole.SUPERVISOR: 0.5, RaterRole.PEER: 0.3},
    {RaterRole.SUPERVISOR: 1.0},
)
CUSTOM_GRADES = {"excellent": 85.0, "pass": 60.0, "fail": 0.0}


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def epoch(moment: datetime) -> int:
    """UTC epoch seconds (instants, not wall clocks)."""
    return (moment - EPOCH) // SECOND


def in_period(moment: datetime) -> bool:
    return epoch(PERIOD.start) <= epoch(moment) < epoch(PERIOD.end)


def done_by_end(moment: datetime | None) -> bool:
    return moment is not None and epoch(moment) < epoch(PERIOD.end)


def make_policy(*, mix: str = "tickets", ranking: str = "team", missing: str = "renormalise",
                components: dict[str, float] | None = None,
                rater_weights: dict[RaterRole, float] | None = None,
                plan_share: float = 0.7, ceiling: float = 0.99,
                grades: dict[str, float] | None = None) -> Policy:
    """The default policy with the simple KPI mixes of this file and the given knobs."""
    scoring = ScoringPolicy(
        components=components if components is not None else COMPONENT_CHOICES[0],
        mix=mix, role_mixes=ROLE_MIXES, agreement_plan_share=plan_share,
        key_indicator_ceiling=ceiling, ranking=ranking)
    raters = RaterPolicy(weights=rater_weights if rater_weights is not None
                         else RATER_WEIGHTS[0], missing=missing)
    base = Policy.default().replace(weights=WEIGHTS, scoring=scoring, raters=raters)
    return base if grades is None else base.replace(grades=grades)


# --------------------------------------------------------------------------- worlds


@dataclass
class World:
    """The inputs of one scoring: roster, records, appraisals and the policy."""

    agents: list[Agent]
    tickets: list[Ticket] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    appraisals: list[Appraisal] = field(default_factory=list)
    policy: Policy = field(default_factory=make_policy)

    def dataset(self) -> Dataset:
        return Dataset(tickets=TicketTable.from_records(self.tickets),
                       agents=AgentTable.from_records(self.agents),
                       ratings=RatingTable.from_records(self.ratings),
                       appraisals=self.appraisals)

    def score(self) -> Scorecard:
        return score_agents(self.dataset(), period=PERIOD, policy=self.policy)


def agent(agent_id: str, role: Role = Role.SERVICE_MANAGER, *, team: str = "TM-1",
          station: str = "S-1", track: AppraisalTrack | None = None) -> Agent:
    return Agent(agent_id=agent_id, name=agent_id, role=role, team_id=team,
                 station_id=station, track=track)


def ticket(ticket_id: str, agent_id: str, service_type: ServiceType = ServiceType.REPAIR, *,
           opened_at: datetime = MIDDLE, resolved_at: datetime | None = None,
           fcr: bool = False, rework: bool = False, reopen_count: int = 0,
           satisfaction: float | None = None, answers: int = 0, answer_errors: int = 0,
           priority: Priority = Priority.NORMAL) -> Ticket:
    return Ticket(ticket_id=ticket_id, agent_id=agent_id, customer_id="C-1",
                  station_id="S-1", service_type=service_type, channel=Channel.PHONE,
                  opened_at=opened_at, resolved_at=resolved_at,
                  first_contact_resolved=fcr, rework=rework, reopen_count=reopen_count,
                  satisfaction=satisfaction, answers=answers, answer_errors=answer_errors,
                  priority=priority)


def rating(agent_id: str, role: RaterRole, score: float, *,
           scale: tuple[float, float] = (0, 100), at: datetime = MIDDLE) -> Rating:
    return Rating(agent_id=agent_id, rater_role=role, item="teamwork", score=score,
                  rated_at=at, scale_min=scale[0], scale_max=scale[1])


def agreement(agent_id: str, items: Sequence[tuple[str, float, float | None]] = (),
              quality: float | None = None, period: Period = PERIOD) -> Appraisal:
    return Appraisal(agent_id=agent_id, period=period,
                     track=AppraisalTrack.PERFORMANCE_AGREEMENT,
                     items=[AppraisalItem(name=n, weight=w, score=s) for n, w, s in items],
                     quality_score=quality)


def indicators(agent_id: str, items: Sequence[tuple[str, float, float | None]] = (),
               deductions: Sequence[float] = (), standard: float = 100.0) -> Appraisal:
    return Appraisal(agent_id=agent_id, period=PERIOD, track=AppraisalTrack.KEY_INDICATORS,
                     items=[AppraisalItem(name=n, weight=w, score=s) for n, w, s in items],
                     deductions=[Deduction(behaviour=f"bad_{k}", points=p)
                                 for k, p in enumerate(deductions)],
                     standard_score=standard)


_scores = (st.none() | st.sampled_from([0.0, 50.0, 100.0])
           | st.floats(min_value=0, max_value=100))


@st.composite
def appraisal_items(draw: st.DrawFn) -> list[AppraisalItem]:
    """0–3 items with unique names and weights in hundredths summing to 1."""
    count = draw(st.integers(min_value=0, max_value=3))
    if count == 0:
        return []
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=99), min_size=count - 1,
                                max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 100]
    return [AppraisalItem(name=f"item_{k}", weight=(high - low) / 100, score=draw(_scores))
            for k, (low, high) in enumerate(zip(bounds, bounds[1:]))]


@st.composite
def appraisals(draw: st.DrawFn, agent_id: str, track: AppraisalTrack,
               period: Period = PERIOD) -> Appraisal:
    """A valid appraisal of *agent_id* on *track*."""
    items = draw(appraisal_items())
    if track is AppraisalTrack.PERFORMANCE_AGREEMENT:
        return Appraisal(agent_id=agent_id, period=period, track=track, items=items,
                         quality_score=draw(_scores))
    points = st.sampled_from([1.0, 5.0, 150.0]) | st.floats(min_value=0.5, max_value=200)
    return Appraisal(agent_id=agent_id, period=period, track=track, items=items,
                     deductions=[Deduction(behaviour=f"bad_{k}", points=p)
                                 for k, p in enumerate(draw(st.lists(points, max_size=3)))],
                     standard_score=draw(st.sampled_from([100.0, 120.0])
                                         | st.floats(min_value=1, max_value=1000)))


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return make_policy(
        mix=draw(st.sampled_from(["tickets", "role"])),
        ranking=draw(st.sampled_from(["team", "station", "all"])),
        missing=draw(st.sampled_from(["renormalise", "renormalise", "fail"])),
        components=draw(st.sampled_from(COMPONENT_CHOICES)),
        rater_weights=draw(st.sampled_from(RATER_WEIGHTS)),
        plan_share=draw(st.sampled_from([0.7, 0.0, 0.5, 1.0])),
        ceiling=draw(st.sampled_from([0.99, 0.9, 0.5])),
        grades=draw(st.sampled_from([None, CUSTOM_GRADES])))


def track_of(a: Agent, policy: Policy) -> AppraisalTrack:
    return a.track if a.track is not None else policy.track_for(a.role)


@st.composite
def worlds(draw: st.DrawFn, *, float_satisfaction: bool = True) -> World:
    """A few agents in 1–3 teams, a handful of tickets, ratings and appraisals."""
    ids = draw(st.lists(st.sampled_from(AGENT_IDS), min_size=1, max_size=4, unique=True))
    roster = [agent(agent_id, draw(st.sampled_from(ROLES)),
                    team=draw(st.sampled_from(["TM-1", "TM-2", "TM-3"])),
                    station=draw(st.sampled_from(["S-1", "S-2"])),
                    track=draw(st.none() | st.sampled_from(AppraisalTrack)))
              for agent_id in ids]
    policy = draw(policies())
    who = st.sampled_from([*ids, *ids, STRANGER])
    satisfaction = st.none() | st.integers(min_value=1, max_value=5).map(float)
    if float_satisfaction:
        satisfaction = satisfaction | st.floats(min_value=1, max_value=5)
    tickets = []
    for k in range(draw(st.integers(min_value=0, max_value=10))):
        opened = draw(st.sampled_from(MOMENTS))
        resolved = draw(st.sampled_from([None, opened + timedelta(hours=2),
                                         PERIOD.end + timedelta(days=3)]))
        answers = draw(st.integers(min_value=0, max_value=4))
        tickets.append(ticket(
            f"T-{k}", draw(who), draw(st.sampled_from(SERVICE_TYPES)), opened_at=opened,
            resolved_at=resolved, fcr=resolved is not None and draw(st.booleans()),
            rework=draw(st.booleans()), reopen_count=draw(st.integers(0, 2)),
            satisfaction=draw(satisfaction), answers=answers,
            answer_errors=draw(st.integers(min_value=0, max_value=answers)),
            priority=draw(st.sampled_from(Priority))))
    ratings = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        low, high = draw(st.sampled_from([(0.0, 100.0), (1.0, 5.0), (0.0, 10.0)]))
        score = draw(st.integers(min_value=int(low), max_value=int(high)).map(float)
                     | st.floats(min_value=low, max_value=high))
        ratings.append(rating(draw(who), draw(st.sampled_from(
            [RaterRole.SELF, RaterRole.SUPERVISOR, RaterRole.PEER])), score,
            scale=(low, high), at=draw(st.sampled_from(MOMENTS))))
    appraisal_list = []
    for a in roster:
        kind = draw(st.sampled_from(["none", "right", "right", "wrong", "other_period"]))
        right = track_of(a, policy)
        if kind == "right":
            appraisal_list.append(draw(appraisals(a.agent_id, right)))
        elif kind == "wrong":
            wrong = next(t for t in AppraisalTrack if t is not right)
            appraisal_list.append(draw(appraisals(a.agent_id, wrong)))
        elif kind == "other_period":
            appraisal_list.append(draw(appraisals(a.agent_id, right, PERIOD.previous())))
    if draw(st.booleans()):
        appraisal_list.append(draw(appraisals(STRANGER, AppraisalTrack.KEY_INDICATORS)))
    appraisal_list = draw(st.permutations(appraisal_list))
    return World(agents=roster, tickets=tickets, ratings=ratings, appraisals=appraisal_list,
                 policy=policy)


# --------------------------------------------------------------------------- reference


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else NAN


def ticket_kpis(tickets: Sequence[Ticket]) -> dict[str, float]:
    """The weighted KPIs of one agent's tickets of the period (docs/kpis.md)."""
    resolved = [t for t in tickets if done_by_end(t.resolved_at)]
    repaired = [t for t in resolved if t.service_type is ServiceType.REPAIR]
    rated = [t.satisfaction for t in tickets if t.satisfaction is not None]
    answers = sum(t.answers for t in tickets)
    return {
        "csi_rate": ratio(sum(r >= 4.0 for r in rated), len(rated)),
        "csat_mean": ratio(sum(rated), len(rated)),
        "fcr_rate": ratio(sum(t.first_contact_resolved for t in resolved), len(resolved)),
        "reopen_rate": ratio(sum(t.reopen_count > 0 for t in resolved), len(resolved)),
        "rework_rate": ratio(sum(t.rework for t in repaired), len(repaired)),
        "repair_success_rate": ratio(sum(not t.rework and t.reopen_count == 0
                                         for t in repaired), len(repaired)),
        "answer_accuracy_rate": ratio(answers - sum(t.answer_errors for t in tickets),
                                      answers),
        "complex_solved": (float(sum(t.priority in (Priority.HIGH, Priority.URGENT)
                                     for t in resolved)) if tickets else NAN),
    }


def kpi_points(target: KpiTarget, value: float) -> float:
    return min(1.0, max(0.0, (value - target.floor) / (target.target - target.floor)))


def kpi_weights(a: Agent, tickets: Sequence[Ticket], policy: Policy) -> dict[str, float]:
    """The agent's KPI mix: blended by ticket mix, or by role (and without tickets)."""
    if policy.scoring.mix == "role" or not tickets:
        return dict(policy.weights[policy.scoring.mix_of(a.role)])
    weights: dict[str, float] = defaultdict(float)
    for service_type, count in Counter(t.service_type for t in tickets).items():
        mix = policy.weights.get(service_type.value, policy.weights["default"])
        for name, weight in mix.items():
            weights[name] += count / len(tickets) * weight
    return weights


def kpi_score(a: Agent, tickets: Sequence[Ticket], policy: Policy) -> float:
    values = ticket_kpis(tickets)
    usable = {name: weight for name, weight in kpi_weights(a, tickets, policy).items()
              if weight > 0 and not math.isnan(values[name])}
    if not usable:
        return NAN
    total = sum(usable.values())
    return sum(weight / total * kpi_points(policy.kpis[name], values[name]) * 100
               for name, weight in usable.items())


def plan_score(items: Sequence[AppraisalItem]) -> float:
    scored = [item for item in items if item.score is not None]
    total = sum(item.weight for item in scored)
    return sum(item.weight / total * item.score for item in scored
               if item.score is not None) if scored else NAN


def agreement_score(appraisal: Appraisal, share: float) -> float:
    plan, quality = plan_score(appraisal.items), appraisal.quality_score
    if quality is None:
        return plan
    if math.isnan(plan):
        return quality
    return share * plan + (1 - share) * quality


def key_indicator_score(appraisal: Appraisal, ceiling: float) -> float:
    standard = appraisal.standard_score
    raw = standard
    if appraisal.items:
        base = plan_score(appraisal.items)
        if math.isnan(base):
            return NAN
        raw = standard * base / 100
    total = raw - sum(d.points for d in appraisal.deductions)
    total = min(max(total, 0.0), ceiling * standard)
    return total / standard * 100


def rater_score(agent_id: str, ratings: Sequence[Rating], policy: Policy
                ) -> tuple[float, bool]:
    """The 360° part and whether the agent is unavailable (missing = "fail")."""
    given: dict[RaterRole, list[float]] = defaultdict(list)
    for r in ratings:
        if r.agent_id == agent_id and in_period(r.rated_at):
            given[r.rater_role].append((r.score - r.scale_min) / (r.scale_max - r.scale_min)
                                       * 100)
    weights = {role: w for role, w in policy.raters.weights.items() if w > 0}
    if policy.raters.missing == "fail" and any(role not in given for role in weights):
        # Unavailable only when the 360° part counts in the composite at all.
        return NAN, policy.scoring.components.get("raters", 0.0) > 0
    used = {role: w for role, w in weights.items() if role in given}
    if not used:
        return NAN, False
    total = sum(used.values())
    return sum(w / total * sum(given[role]) / len(given[role])
               for role, w in used.items()), False


@dataclass
class Expected:
    """The reference's row of one agent."""

    tickets: int
    kpis: float
    appraisal: float
    raters: float
    composite: float
    grade: str | None
    group: str
    failed: bool
    rank: int = 0


def grade_of(score: float, grades: dict[str, float]) -> str | None:
    if math.isnan(score):
        return None
    return max((low, name) for name, low in grades.items() if low <= score)[1]


def reference(world: World) -> tuple[dict[str, Expected], Counter[tuple[str, str]]]:
    """Every agent's scores, grade and rank, and the report's (code, value) pairs."""
    policy = world.policy
    roster = {a.agent_id: a for a in world.agents}
    issues: Counter[tuple[str, str]] = Counter()
    strangers = {t.agent_id for t in world.tickets
                 if in_period(t.opened_at) and t.agent_id not in roster}
    issues.update(("unknown_agent", s) for s in strangers)
    issues.update(("unknown_agent", r.agent_id) for r in world.ratings
                  if in_period(r.rated_at) and r.agent_id not in roster)
    used: dict[str, Appraisal] = {}
    for ap in world.appraisals:
        if ap.period != PERIOD:
            continue
        if ap.agent_id not in roster:
            issues[("unknown_agent", ap.agent_id)] += 1
        elif ap.agent_id in used:
            issues[("duplicate", ap.agent_id)] += 1
        elif ap.track is not track_of(roster[ap.agent_id], policy):
            issues[("wrong_track", ap.track.value)] += 1
        else:
            used[ap.agent_id] = ap

    shares = {name: policy.scoring.components.get(name, 0.0)
              for name in ("kpis", "appraisal", "raters")}
    out: dict[str, Expected] = {}
    for a in world.agents:
        mine = [t for t in world.tickets if t.agent_id == a.agent_id and in_period(t.opened_at)]
        kpis = kpi_score(a, mine, policy)
        chosen = used.get(a.agent_id)
        appraisal = (NAN if chosen is None
                     else agreement_score(chosen, policy.scoring.agreement_plan_share)
                     if chosen.track is AppraisalTrack.PERFORMANCE_AGREEMENT
                     else key_indicator_score(chosen, policy.scoring.key_indicator_ceiling))
        raters, failed = rater_score(a.agent_id, world.ratings, policy)
        parts = {"kpis": kpis, "appraisal": appraisal, "raters": raters}
        present = {name: value for name, value in parts.items()
                   if not math.isnan(value) and shares[name] > 0}
        composite = NAN
        if present and not failed:
            total = sum(shares[name] for name in present)
            composite = sum(shares[name] / total * value for name, value in present.items())
        group = {"team": a.team_id, "station": a.station_id,
                 "all": "all"}[policy.scoring.ranking]
        out[a.agent_id] = Expected(tickets=len(mine), kpis=kpis, appraisal=appraisal,
                                   raters=raters, composite=composite,
                                   grade=grade_of(composite, dict(policy.grades)),
                                   group=group, failed=failed)

    by_group: dict[str, list[str]] = defaultdict(list)
    for agent_id, row in out.items():
        if not math.isnan(row.composite):
            by_group[row.group].append(agent_id)
    for members in by_group.values():
        members.sort(key=lambda i: (-round(out[i].composite, 9),
                                    -round(-1.0 if math.isnan(out[i].kpis) else out[i].kpis,
                                           9),
                                    -out[i].tickets, i))
        for rank, agent_id in enumerate(members, start=1):
            out[agent_id].rank = rank
    return out, issues


def same(expected: float, actual: float) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    return math.isclose(expected, actual, rel_tol=0, abs_tol=TOL)


def near_band_edge(score: float, grades: dict[str, float]) -> bool:
    return any(abs(score - low) < TOL for low in grades.values())


# --------------------------------------------------------------------------- properties


class TestReference:
    """score_agents equals the naive reference on small random worlds."""

    @PROPERTY
    @given(worlds())
    def test_equals_reference(self, world: World) -> None:
        card = world.score()
        expected, issues = reference(world)
        assert [a.agent_id for a in world.agents] == list(card.agent_ids)
        for agent_id, row in expected.items():
            got = card.row(agent_id)
            assert row.tickets == got["tickets"], agent_id
            assert row.group == got["group"], agent_id
            for name, value in (("kpi_score", row.kpis), ("appraisal_score", row.appraisal),
                                ("rater_score", row.raters), ("composite", row.composite)):
                assert same(value, got[name]), (agent_id, name, value, got[name])
            if not near_band_edge(row.composite, dict(world.policy.grades)):
                assert row.grade == got["grade"], agent_id
            assert (row.rank or None) == got["rank"], agent_id
            assert row.failed == got["status"].startswith("unavailable: no rating by"), agent_id
        assert issues == Counter((i.code, str(i.value)) for i in card.report.issues)


class TestRanks:
    """Ranks are 1..n within each group; the unavailable are neither graded nor ranked."""

    @PROPERTY
    @given(worlds())
    def test_ranks_are_a_permutation_per_group(self, world: World) -> None:
        card = world.score()
        members: dict[str, list[int]] = defaultdict(list)
        for i in range(len(card)):
            if math.isnan(card.composite[i]):
                assert 0 == card.ranks[i]
                assert card.grades[i] is None
                assert "ranked" != card.status[i]
            else:
                assert card.grades[i] is not None
                assert "ranked" == card.status[i]
                members[card.groups[i]].append(int(card.ranks[i]))
        for group, ranks in members.items():
            assert list(range(1, len(ranks) + 1)) == sorted(ranks), group
        for i in range(len(card)):
            expected_size = len(members[card.groups[i]]) if card.ranks[i] else 0
            assert expected_size == card.group_sizes[i]
        assert card.ranking() == [agent for group in sorted(members)
                                  for agent in card.ranking(group)]


def _columns(card: Scorecard) -> tuple[list[float], ...]:
    return (card.kpi_score.tolist(), card.appraisal_score.tolist(),
            card.rater_score.tolist(), card.composite.tolist())


def _exactly_equal(a: Sequence[float], b: Sequence[float]) -> bool:
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True))


class TestOrderIndependence:
    """The row order of tickets and ratings and the order of appraisals change nothing."""

    @PROPERTY
    @given(worlds(float_satisfaction=False), st.data())
    def test_shuffled_inputs_score_the_same(self, world: World, data: st.DataObject) -> None:
        shuffled = World(agents=world.agents,
                         tickets=data.draw(st.permutations(world.tickets)),
                         ratings=data.draw(st.permutations(world.ratings)),
                         appraisals=data.draw(st.permutations(world.appraisals)),
                         policy=world.policy)
        a, b = world.score(), shuffled.score()
        for x, y in zip(_columns(a), _columns(b), strict=True):
            assert _exactly_equal(x, y)
        assert a.ranks.tolist() == b.ranks.tolist()
        assert a.grades == b.grades

    @FEW
    @given(worlds(float_satisfaction=True), st.data())
    def test_float_ratings_shuffled_rank_the_same(self, world: World,
                                                  data: st.DataObject) -> None:
        # Float satisfactions are summed in row order by the KPI panel: the scores may
        # differ in the last bit, the ranking and the grades may not.
        shuffled = World(agents=world.agents,
                         tickets=data.draw(st.permutations(world.tickets)),
                         ratings=world.ratings, appraisals=world.appraisals,
                         policy=world.policy)
        a, b = world.score(), shuffled.score()
        for x, y in zip(_columns(a), _columns(b), strict=True):
            assert all(same(p, q) for p, q in zip(x, y, strict=True))
        assert a.ranks.tolist() == b.ranks.tolist()

    def test_same_data_in_another_row_order_ties_by_id(self) -> None:
        # Both agents have the same three consultation tickets in another row order:
        # their csat_mean differs in the last bit (4.1 + 4.2 + 3.9 summed forwards is
        # one ulp more than backwards), their KPI scores are the same to 9 decimals, so
        # the tie goes to the tickets (equal) and then to the id.
        satisfaction = (4.1, 4.2, 3.9)
        policy = make_policy().replace(
            weights={"default": {"csat_mean": 1.0}},
            scoring=ScoringPolicy(components={"kpis": 1.0}, role_mixes={}))
        tickets = [ticket(f"T-A{k}", "A-2", ServiceType.CONSULTATION, satisfaction=s)
                   for k, s in enumerate(satisfaction)]
        tickets += [ticket(f"T-B{k}", "A-1", ServiceType.CONSULTATION, satisfaction=s)
                    for k, s in enumerate(reversed(satisfaction))]
        for rows in (tickets, tickets[::-1]):
            card = World(agents=[agent("A-1"), agent("A-2")], tickets=rows,
                         policy=policy).score()
            assert card.kpi_score[0] != card.kpi_score[1]  # the premise: one ulp apart
            assert ["A-1", "A-2"] == card.ranking()


class TestBounds:
    """Every part and the composite lie in [0, 100]."""

    @PROPERTY
    @given(worlds())
    def test_scores_within_0_100(self, world: World) -> None:
        card = world.score()
        for column in _columns(card):
            for value in column:
                assert math.isnan(value) or 0.0 <= value <= 100.0, value

    def test_full_marks_with_a_renormalised_kpi_stay_at_100(self) -> None:
        # One resolved repair, no rework, not rated: success and rework at their
        # targets, csi without data (its weight 0.3 spread over the other two).
        world = World(agents=[agent("A-1", Role.FIELD_ENGINEER)],
                      tickets=[ticket("T-1", "A-1", resolved_at=MIDDLE + SECOND)],
                      policy=make_policy(mix="role", components={"kpis": 1.0}))
        card = world.score()
        assert card.kpi_score[0] <= 100.0, repr(card.kpi_score[0])
        assert card.composite[0] <= 100.0, repr(card.composite[0])
        assert "A" == world.policy.grade(float(card.composite[0]))


class TestKeyIndicatorCap:
    """The key-indicator total is never negative and strictly below the standard score."""

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(appraisals("A-1", AppraisalTrack.KEY_INDICATORS),
           st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True))
    @example(indicators("A-1", [("compliance", 1.0, 100.0)]), 0.99)
    @example(indicators("A-1", standard=3.0), 0.9999999999999999)
    def test_strictly_below_standard(self, appraisal: Appraisal, ceiling: float) -> None:
        world = World(agents=[agent("A-1", Role.FIELD_ENGINEER)], appraisals=[appraisal],
                      policy=make_policy(ceiling=ceiling))
        score = float(world.score().appraisal_score[0])
        if appraisal.items and all(item.score is None for item in appraisal.items):
            assert math.isnan(score)
        else:
            assert 0.0 <= score < 100.0
            assert score <= ceiling * 100 + TOL


class TestExplanation:
    """The explanation adds up: its lines give the part scores and the composite."""

    @PROPERTY
    @given(worlds())
    def test_lines_add_up(self, world: World) -> None:
        card = world.score()
        for i, agent_id in enumerate(card.agent_ids):
            e = card.explain(agent_id)
            assert agent_id == e.agent_id
            composite = float(card.composite[i])
            points = math.fsum(line.points for line in e.part("composite"))
            if math.isnan(composite):
                assert math.isnan(e.composite)
                assert e.rank is None and e.grade is None
            else:
                assert math.isclose(composite, points, rel_tol=0, abs_tol=TOL)
                assert math.isclose(1.0, math.fsum(line.weight for line in e.part("composite")),
                                    abs_tol=TOL)
            kpi = float(card.kpi_score[i])
            if not math.isnan(kpi):
                total = math.fsum(line.points for line in e.part("kpis"))
                assert math.isclose(kpi, total, rel_tol=0, abs_tol=TOL)
            for name, column in (("appraisal", card.appraisal_score),
                                 ("raters", card.rater_score)):
                value = float(column[i])
                if not math.isnan(value):
                    total = math.fsum(line.points for line in e.part(name))
                    assert math.isclose(value, total, rel_tol=0, abs_tol=1e-7), name
            assert agent_id in str(e)


# --------------------------------------------------------------------------- tables


def alone(appraisal: Appraisal, *, role: Role = Role.SERVICE_MANAGER,
          policy: Policy | None = None) -> Scorecard:
    """One agent scored on an appraisal only (the other parts absent)."""
    return World(agents=[agent(appraisal.agent_id, role)], appraisals=[appraisal],
                 policy=make_policy() if policy is None else policy).score()


class TestGrades:
    """Grades at band boundaries: the lowest score of a band belongs to it."""

    @pytest.mark.parametrize(("score", "grade"), [
        (math.nextafter(80.0, 0.0), "C"),
        (79.999, "C"),
        (80.0, "B"),
        (89.99, "B"),
        (90.0, "A"),
        (0.0, "E"),
        (59.999999, "E"),
        (60.0, "D"),
        (100.0, "A"),
    ])
    def test_default_bands(self, score: float, grade: str) -> None:
        assert grade == Policy.default().grade(score)
        card = alone(agreement("A-1", quality=score), policy=make_policy(grades=None))
        assert score == card.composite[0]
        assert grade == card.grades[0]

    @pytest.mark.parametrize(("score", "grade"), [
        (0.0, "fail"),
        (59.99, "fail"),
        (60.0, "pass"),
        (84.99999, "pass"),
        (85.0, "excellent"),
        (100.0, "excellent"),
    ])
    def test_custom_bands(self, score: float, grade: str) -> None:
        policy = make_policy(grades=CUSTOM_GRADES)
        assert grade == policy.grade(score)
        card = alone(agreement("A-1", quality=score), policy=policy)
        assert grade == card.grades[0]

    @pytest.mark.parametrize("score", [-0.5, 100.5, math.nan])
    def test_grade_outside_0_100(self, score: float) -> None:
        with pytest.raises(PolicyError, match=exactly(
                f"'score' must be in [0, 100] (got {score!r})")):
            Policy.default().grade(score)


class TestKeyIndicators:
    """The key-indicator track: indicator shares of the standard score, deductions, cap."""

    @pytest.mark.parametrize(("items", "deductions", "standard", "ceiling", "expected"), [
        # indicators all 100, no deduction: capped strictly below the standard score
        ([("compliance", 0.5, 100.0), ("response", 0.5, 100.0)], [], 100.0, 0.99, 99.0),
        # no indicators, no deduction: the standard score, capped
        ([], [], 100.0, 0.99, 99.0),
        ([], [], 80.0, 0.99, 99.0),
        # deductions larger than the standard score: 0, never negative
        ([], [60.0, 70.0], 100.0, 0.99, 0.0),
        ([("compliance", 1.0, 10.0)], [20.0], 100.0, 0.99, 0.0),
        # standard score 120: normalised to 0–100 (60 - 12 = 48 of 120)
        ([("compliance", 0.5, 40.0), ("response", 0.5, 60.0)], [12.0], 120.0, 0.99, 40.0),
        ([], [5.0], 120.0, 0.99, 115 / 120 * 100),
        ([("compliance", 1.0, 100.0)], [], 120.0, 0.99, 99.0),
        # a lower ceiling
        ([("compliance", 1.0, 95.0)], [], 100.0, 0.9, 90.0),
        ([("compliance", 1.0, 95.0)], [10.0], 100.0, 0.9, 85.0),
        # an unscored indicator: its weight spread over the scored ones
        ([("compliance", 0.6, 80.0), ("response", 0.4, None)], [2.0], 100.0, 0.99, 78.0),
        # no indicator scored: no score
        ([("compliance", 0.6, None), ("response", 0.4, None)], [2.0], 100.0, 0.99, NAN),
    ])
    def test_total(self, items: list[tuple[str, float, float | None]],
                   deductions: list[float], standard: float, ceiling: float,
                   expected: float) -> None:
        card = alone(indicators("A-1", items, deductions, standard), role=Role.FIELD_ENGINEER,
                     policy=make_policy(ceiling=ceiling))
        actual = float(card.appraisal_score[0])
        assert same(expected, actual), actual

    def test_cap_is_explained(self) -> None:
        card = alone(indicators("A-1", [("compliance", 1.0, 100.0)]), role=Role.FIELD_ENGINEER)
        lines = card.explain("A-1").part("appraisal")
        assert ["compliance", "cap"] == [line.item for line in lines]
        cap = lines[-1]
        assert math.isclose(99.0, cap.value) and math.isclose(-1.0, cap.points)
        assert "it never reaches or exceeds the standard score" in cap.adjustment

    def test_deductions_are_explained(self) -> None:
        card = alone(indicators("A-1", deductions=[3.0], standard=120.0),
                     role=Role.FIELD_ENGINEER)
        lines = card.explain("A-1").part("appraisal")
        assert ["standard_score", "deduction:bad_0"] == [line.item for line in lines]
        assert math.isclose(-3.0 * 100 / 120, lines[1].points)


class TestAgreement:
    """The performance agreement: plan items (share 0.7) and the daily-work quality."""

    @pytest.mark.parametrize(("items", "quality", "share", "expected"), [
        ([("plan_a", 0.5, 80.0), ("plan_b", 0.5, 100.0)], 60.0, 0.7, 0.7 * 90 + 0.3 * 60),
        # quality missing: the plan items alone
        ([("plan_a", 0.5, 80.0), ("plan_b", 0.5, 100.0)], None, 0.7, 90.0),
        # an unscored plan item: renormalised over the scored one
        ([("plan_a", 0.5, 80.0), ("plan_b", 0.5, None)], 60.0, 0.7, 0.7 * 80 + 0.3 * 60),
        ([("plan_a", 0.25, 40.0), ("plan_b", 0.25, 100.0), ("plan_c", 0.5, None)], None, 0.7,
         70.0),
        # no plan item scored, or none agreed: the quality score alone
        ([("plan_a", 1.0, None)], 60.0, 0.7, 60.0),
        ([], 60.0, 0.7, 60.0),
        # other plan shares
        ([("plan_a", 1.0, 80.0)], 40.0, 0.5, 60.0),
        ([("plan_a", 1.0, 80.0)], 40.0, 0.0, 40.0),
        ([("plan_a", 1.0, 80.0)], 40.0, 1.0, 80.0),
        # nothing scored at all: no appraisal part
        ([("plan_a", 1.0, None)], None, 0.7, NAN),
        ([], None, 0.7, NAN),
    ])
    def test_blend(self, items: list[tuple[str, float, float | None]], quality: float | None,
                   share: float, expected: float) -> None:
        card = alone(agreement("A-1", items, quality), policy=make_policy(plan_share=share))
        actual = float(card.appraisal_score[0])
        assert same(expected, actual), actual
        if math.isnan(expected):
            assert math.isnan(card.composite[0])
            assert ("nothing to score: no ticket, appraisal or rating in the period"
                    == card.status[0])
            assert 0 == card.ranks[0]
        else:
            assert same(expected, float(card.composite[0]))


class TestRaters:
    """360° ratings: normalised per scale, averaged per role, weighted; missing roles."""

    @pytest.mark.parametrize(("ratings", "missing", "expected"), [
        # self 80 and supervisor 60: 0.3 × 80 + 0.7 × 60
        ([(RaterRole.SELF, 80.0, (0, 100)), (RaterRole.SUPERVISOR, 60.0, (0, 100))],
         "renormalise", 66.0),
        ([(RaterRole.SELF, 80.0, (0, 100)), (RaterRole.SUPERVISOR, 60.0, (0, 100))],
         "fail", 66.0),
        # each normalised on its scale (4 of 1–5 is 75), then averaged per role
        ([(RaterRole.SELF, 4.0, (1, 5)), (RaterRole.SUPERVISOR, 5.0, (0, 10)),
          (RaterRole.SUPERVISOR, 100.0, (0, 100))], "renormalise", 0.3 * 75 + 0.7 * 75),
        # supervisor missing: self alone
        ([(RaterRole.SELF, 80.0, (0, 100))], "renormalise", 80.0),
        # a role the policy does not weigh is ignored
        ([(RaterRole.SELF, 80.0, (0, 100)), (RaterRole.PEER, 0.0, (0, 100))],
         "renormalise", 80.0),
        # no rating at all: no rater part
        ([], "renormalise", NAN),
    ])
    def test_part(self, ratings: list[tuple[RaterRole, float, tuple[float, float]]],
                  missing: str, expected: float) -> None:
        world = World(agents=[agent("A-1")],
                      ratings=[rating("A-1", role, score, scale=scale)
                               for role, score, scale in ratings],
                      policy=make_policy(missing=missing))
        actual = float(world.score().rater_score[0])
        assert same(expected, actual), actual

    def test_ratings_outside_the_period_are_ignored(self) -> None:
        world = World(agents=[agent("A-1")], ratings=[
            rating("A-1", RaterRole.SELF, 80.0, at=PERIOD.start),
            rating("A-1", RaterRole.SUPERVISOR, 60.0, at=PERIOD.end - SECOND),
            rating("A-1", RaterRole.SUPERVISOR, 0.0, at=PERIOD.end),
            rating("A-1", RaterRole.SELF, 0.0, at=PERIOD.start - SECOND)])
        assert math.isclose(66.0, world.score().rater_score[0])

    def test_fail_leaves_the_agent_unavailable(self) -> None:
        world = World(agents=[agent("A-1"), agent("A-2")],
                      ratings=[rating("A-1", RaterRole.SELF, 80.0),
                               rating("A-2", RaterRole.SELF, 50.0),
                               rating("A-2", RaterRole.SUPERVISOR, 50.0)],
                      appraisals=[agreement("A-1", quality=100.0),
                                  agreement("A-2", quality=10.0)],
                      policy=make_policy(missing="fail"))
        card = world.score()
        i = card.index("A-1")
        assert ("unavailable: no rating by supervisor (raters.missing = 'fail')"
                == card.status[i])
        assert math.isnan(card.composite[i]) and math.isnan(card.rater_score[i])
        assert 0 == card.ranks[i] and card.grades[i] is None
        assert ["A-2"] == card.ranking()
        assert 1 == card.group_sizes[card.index("A-2")]
        e = card.explain("A-1")
        assert e.rank is None and e.grade is None
        assert "not ranked (unavailable: no rating by supervisor" in str(e)

    def test_renormalise_keeps_the_agent(self) -> None:
        world = World(agents=[agent("A-1"), agent("A-2")],
                      ratings=[rating("A-1", RaterRole.SELF, 80.0),
                               rating("A-2", RaterRole.SELF, 50.0),
                               rating("A-2", RaterRole.SUPERVISOR, 50.0)],
                      appraisals=[agreement("A-1", quality=100.0),
                                  agreement("A-2", quality=10.0)],
                      policy=make_policy(missing="renormalise"))
        card = world.score()
        # appraisal 0.25 and raters 0.15, renormalised over the two parts present
        assert math.isclose((0.25 * 100 + 0.15 * 80) / 0.4, card.composite[0])
        assert ["A-1", "A-2"] == card.ranking()


class TestKpis:
    """KPI points: linear between floor and target, capped, mixed by tickets or role."""

    def two_tickets(self) -> list[Ticket]:
        return [ticket("T-1", "A-1", ServiceType.REPAIR, resolved_at=MIDDLE + SECOND,
                       fcr=True, satisfaction=5.0),
                ticket("T-2", "A-1", ServiceType.CONSULTATION, resolved_at=MIDDLE + SECOND,
                       satisfaction=4.0, answers=10, answer_errors=1)]

    def test_ticket_mix_by_hand(self) -> None:
        # Half repair, half consultation: repair_success 0.2, rework 0.15, csi 0.3,
        # answer_accuracy 0.15, csat 0.1, fcr 0.1. Values: success 1 (points 1),
        # rework 0 (beyond the target 0.02: 1), csi 1 (1), accuracy 0.9
        # ((0.9 - 0.85) / 0.13), csat 4.5 (1), fcr 1/2 (the floor: 0).
        world = World(agents=[agent("A-1", Role.FIELD_ENGINEER)], tickets=self.two_tickets(),
                      policy=make_policy(components={"kpis": 1.0}))
        expected = 100 * (0.2 + 0.15 + 0.3 + 0.15 * 0.05 / 0.13 + 0.1 + 0.1 * 0)
        card = world.score()
        assert math.isclose(expected, card.kpi_score[0], abs_tol=TOL)
        lines = {line.item: line for line in card.explain("A-1").part("kpis")}
        assert "capped at the target: beyond it earns no more" == lines["rework_rate"].adjustment
        assert math.isclose(0.15, lines["answer_accuracy_rate"].weight)
        assert 2.0 == lines["fcr_rate"].denominator

    def test_role_mix_by_hand(self) -> None:
        # The repair mix of a field engineer: success 0.4, rework 0.3, csi 0.3, all at
        # or beyond their targets.
        world = World(agents=[agent("A-1", Role.FIELD_ENGINEER)], tickets=self.two_tickets(),
                      policy=make_policy(mix="role", components={"kpis": 1.0}))
        assert math.isclose(100.0, world.score().kpi_score[0], abs_tol=TOL)

    def test_kpi_without_data_is_renormalised(self) -> None:
        # No ticket is rated, so csi has no data: success (0.4) and rework (0.3) share
        # the whole part.
        repairs = [ticket(f"T-{k}", "A-1", resolved_at=MIDDLE + SECOND,
                          rework=k == 0, reopen_count=0) for k in range(20)]
        policy = make_policy(mix="role", components={"kpis": 1.0})
        card = World(agents=[agent("A-1", Role.FIELD_ENGINEER)], tickets=repairs,
                     policy=policy).score()
        # rework 1/20 = 0.05: 0.5 points; success 19/20 = 0.95: (0.95 - 0.85) / 0.13
        expected = 100 * (0.4 / 0.7 * (0.10 / 0.13) + 0.3 / 0.7 * 0.5)
        assert math.isclose(expected, card.kpi_score[0], abs_tol=TOL)
        csi = next(line for line in card.explain("A-1").part("kpis") if line.item == "csi_rate")
        assert 0.0 == csi.weight and 0.0 == csi.points
        assert "no data in the period: its weight is spread over the others" == csi.adjustment

    def test_agent_without_tickets_uses_the_role_mix_and_has_no_kpi_part(self) -> None:
        world = World(agents=[agent("A-1", Role.FIELD_ENGINEER)],
                      appraisals=[indicators("A-1", [("compliance", 1.0, 50.0)])])
        card = world.score()
        assert 0 == card.tickets[0]
        assert math.isnan(card.kpi_score[0])
        assert math.isclose(50.0, card.composite[0])
        items = [line.item for line in card.explain("A-1").part("kpis")]
        assert list(WEIGHTS["repair"]) == items


class TestTieRule:
    """Composite (9 decimals), then KPI score (NaN as -1), then tickets, then agent id."""

    @staticmethod
    def world(rows: list[tuple[str, float, list[float | None]]]) -> World:
        """Agents scored on the appraisal alone (the composite is the quality score);
        their tickets' satisfaction gives the KPI score (csi only) used to break ties."""
        policy = Policy.default().replace(
            weights={"default": {"csi_rate": 1.0}},
            scoring=ScoringPolicy(components={"appraisal": 1.0}, role_mixes={}))
        tickets = [ticket(f"T-{agent_id}-{k}", agent_id, satisfaction=s)
                   for agent_id, _, satisfactions in rows for k, s in enumerate(satisfactions)]
        return World(agents=[agent(agent_id) for agent_id, _, _ in rows], tickets=tickets,
                     appraisals=[agreement(agent_id, quality=q) for agent_id, q, _ in rows],
                     policy=policy)

    @pytest.mark.parametrize(("rows", "ranking"), [
        # a higher composite wins, whatever the rest
        ([("A-1", 80.0, [1.0]), ("A-2", 80.00001, [])], ["A-2", "A-1"]),
        ([("A-1", 80.0, [5.0, 5.0]), ("A-2", 80.00000001, [])], ["A-2", "A-1"]),
        # equal to 9 decimals: the KPI score decides
        ([("A-1", 80.0, [5.0]), ("A-2", 80.0000000001, [1.0])], ["A-1", "A-2"]),
        ([("A-1", 80.0, [5.0]), ("A-2", 80.0, [1.0])], ["A-1", "A-2"]),
        # a KPI score of 0 beats none (NaN counts as -1)
        ([("A-1", 80.0, []), ("A-2", 80.0, [1.0])], ["A-2", "A-1"]),
        ([("A-1", 80.0, [None]), ("A-2", 80.0, [1.0])], ["A-2", "A-1"]),
        # same KPI score: more tickets first
        ([("A-1", 80.0, [5.0]), ("A-2", 80.0, [5.0, 5.0])], ["A-2", "A-1"]),
        ([("A-1", 80.0, [None]), ("A-2", 80.0, [None, None])], ["A-2", "A-1"]),
        # all equal: agent id ascending (as strings: "A-10" before "A-2")
        ([("A-2", 80.0, [5.0]), ("A-10", 80.0, [5.0]), ("A-1", 80.0, [5.0])],
         ["A-1", "A-10", "A-2"]),
        ([("B-1", 0.0, []), ("A-9", 0.0, [])], ["A-9", "B-1"]),
    ])
    def test_ranking(self, rows: list[tuple[str, float, list[float | None]]],
                     ranking: list[str]) -> None:
        card = self.world(rows).score()
        assert ranking == card.ranking()
        assert list(range(1, len(rows) + 1)) == [int(card.ranks[card.index(a)])
                                                 for a in ranking]

    @pytest.mark.parametrize("scope", ["team", "station", "all"])
    def test_ranking_groups(self, scope: str) -> None:
        roster = [agent("A-1", team="TM-1", station="S-1"), agent("A-2", team="TM-2",
                                                                   station="S-1"),
                  agent("A-3", team="TM-2", station="S-2"), agent("A-4", team="TM-1",
                                                                   station="S-2")]
        quality = {"A-1": 50.0, "A-2": 60.0, "A-3": 70.0, "A-4": 80.0}
        world = World(agents=roster,
                      appraisals=[agreement(a, quality=q) for a, q in quality.items()],
                      policy=make_policy(ranking=scope))
        card = world.score()
        expected = {"team": {"A-1": (2, 2), "A-2": (2, 2), "A-3": (1, 2), "A-4": (1, 2)},
                    "station": {"A-1": (2, 2), "A-2": (1, 2), "A-3": (2, 2), "A-4": (1, 2)},
                    "all": {"A-1": (4, 4), "A-2": (3, 4), "A-3": (2, 4), "A-4": (1, 4)}}
        assert expected[scope] == {a: (int(card.ranks[card.index(a)]),
                                       int(card.group_sizes[card.index(a)]))
                                   for a in quality}


class TestReport:
    """Inputs that cannot be used are listed in the report, never dropped silently."""

    @pytest.mark.parametrize(("appraisals", "issue"), [
        ([agreement("X-9", quality=50.0)], ("unknown_agent", "agent_id", "X-9", "X-9")),
        ([agreement("A-1", quality=50.0), agreement("A-1", quality=90.0)],
         ("duplicate", "agent_id", "A-1", "A-1")),
        ([indicators("A-1", [("compliance", 1.0, 50.0)])],
         ("wrong_track", "track", "key_indicators", "A-1")),
    ])
    def test_appraisal_problems(self, appraisals: list[Appraisal],
                                issue: tuple[str, str, str, str]) -> None:
        card = World(agents=[agent("A-1", Role.SERVICE_MANAGER)],
                     appraisals=appraisals).score()
        assert [issue] == [(i.code, i.field, i.value, i.key) for i in card.report.issues]
        # the first appraisal is used; the others change nothing
        expected = 50.0 if appraisals[0].agent_id == "A-1" and issue[0] == "duplicate" else NAN
        assert same(expected, float(card.appraisal_score[0]))

    def test_agent_track_overrides_the_role(self) -> None:
        roster = [agent("A-1", Role.SERVICE_MANAGER, track=AppraisalTrack.KEY_INDICATORS)]
        card = World(agents=roster, appraisals=[agreement("A-1", quality=50.0)]).score()
        assert [("wrong_track", "performance_agreement")] == [
            (i.code, i.value) for i in card.report.issues]
        card = World(agents=roster,
                     appraisals=[indicators("A-1", [("compliance", 1.0, 50.0)])]).score()
        assert () == card.report.issues
        assert math.isclose(50.0, card.appraisal_score[0])

    def test_appraisals_of_other_periods_are_ignored(self) -> None:
        card = World(agents=[agent("A-1")], appraisals=[
            agreement("A-1", quality=10.0, period=PERIOD.previous()),
            agreement("X-9", quality=10.0, period=PERIOD.next()),
            agreement("A-1", quality=70.0)]).score()
        assert () == card.report.issues
        assert 70.0 == card.appraisal_score[0]

    def test_tickets_of_unknown_agents(self) -> None:
        tickets = [ticket("T-1", "A-1", satisfaction=5.0),
                   ticket("T-2", "X-9", satisfaction=1.0),
                   ticket("T-3", "X-9", satisfaction=1.0),
                   ticket("T-4", "X-8", opened_at=PERIOD.end)]  # not of the period
        card = World(agents=[agent("A-1")], tickets=tickets).score()
        assert [("unknown_agent", "T-2", "agent_id", "X-9",
                 "an agent of the roster (2 ticket(s) of the period not scored)")] == [
            (i.code, i.key, i.field, i.value, i.rule) for i in card.report.issues]
        assert [1] == card.tickets.tolist()
        assert ["A-1"] == card.ranking()

    def test_ratings_of_unknown_agents(self) -> None:
        ratings = [rating("X-9", RaterRole.SELF, 10.0), rating("A-1", RaterRole.SELF, 10.0),
                   rating("X-9", RaterRole.SELF, 10.0, at=PERIOD.end)]
        card = World(agents=[agent("A-1")], ratings=ratings).score()
        assert [("unknown_agent", 0, "X-9")] == [(i.code, i.row, i.value)
                                                 for i in card.report.issues]


class TestErrors:
    """Errors name what is wrong, exactly."""

    def test_empty_roster(self) -> None:
        data = Dataset(tickets=TicketTable.from_records([ticket("T-1", "A-1")]))
        with pytest.raises(SchemaError, match=exactly(
                "scoring needs the roster: dataset.agents is empty (roles, teams and tracks "
                "come from it)")):
            score_agents(data, period=PERIOD)

    def test_panel_not_by_agent(self) -> None:
        world = World(agents=[agent("A-1")], tickets=[ticket("T-1", "A-1")])
        data = world.dataset()
        panel = kpi_panel(data.tickets, period=PERIOD, by="team", policy=world.policy)
        with pytest.raises(SchemaError, match=exactly(
                "'panel' must be grouped by agent (got by=('team',))")):
            score_agents(data, period=PERIOD, policy=world.policy, panel=panel)

    def test_panel_by_agent_is_used(self) -> None:
        world = World(agents=[agent("A-1", Role.FIELD_ENGINEER)],
                      tickets=TestKpis().two_tickets())
        data = world.dataset()
        panel = kpi_panel(data.tickets, period=PERIOD, by="agent", policy=world.policy)
        with_panel = score_agents(data, period=PERIOD, policy=world.policy, panel=panel)
        assert _exactly_equal(world.score().composite.tolist(), with_panel.composite.tolist())

    def test_weighted_kpi_unknown_to_servicekpi(self) -> None:
        kpis = {**Policy.default().kpis,
                "zz_custom_metric": KpiTarget(target=1.0, floor=0.0, direction="higher")}
        policy = make_policy().replace(
            kpis=kpis, weights={**WEIGHTS, "default": {"zz_custom_metric": 1.0}})
        with pytest.raises(PolicyError, match=exactly(
                "weights: unknown KPI 'zz_custom_metric' (servicekpi computes no such KPI, "
                "so it cannot be scored)")):
            World(agents=[agent("A-1")], policy=policy).score()


class TestScorecard:
    """The scorecard's accessors."""

    def test_rows_and_lookups(self) -> None:
        card = World(agents=[agent("A-1"), agent("A-2")],
                     appraisals=[agreement("A-1", quality=70.0),
                                 agreement("A-2", quality=90.0)]).score()
        row = card.row("A-2")
        assert ["agent_id", "group", "tickets", "kpi_score", "appraisal_score", "rater_score",
                "composite", "grade", "rank", "group_size", "status"] == list(row)
        assert ("A-2", "TM-1", 0, 90.0, 90.0, "A", 1, 2, "ranked") == (
            row["agent_id"], row["group"], row["tickets"], row["appraisal_score"],
            row["composite"], row["grade"], row["rank"], row["group_size"], row["status"])
        assert math.isnan(row["kpi_score"]) and math.isnan(row["rater_score"])
        assert 2 == card.row("A-1")["rank"]
        assert ["A-1", "A-2"] == list(card)
        assert {"TM-1": "A-1"} == card.last_of_group()
        assert "<Scorecard 2026-10: 2 agents, 2 ranked in 1 groups>" == repr(card)
        with pytest.raises(KeyError, match="unknown agent 'A-3'"):
            card.index("A-3")
        with pytest.raises(KeyError, match="unknown ranking group 'TM-9'"):
            card.ranking("TM-9")
        with pytest.raises(ValueError, match="read-only"):
            card.composite[0] = 1.0
        assert np.isnan(card.kpi_score).all()


class TestTicketMixAddsUp:
    """The scorecard's ticket mix adds up over any parts of the tickets."""

    @settings(max_examples=20, deadline=None)
    @given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=5),
           st.randoms(use_true_random=False))
    def test_any_parts(self, seed: int, k: int, rng: Any) -> None:
        from servicekpi.scoring.scorecard import _score, _TicketMix
        data = synth.month(seed=seed, tickets=200, agents=4, stations=1)
        assert data.period is not None
        roster = data.agents.take(np.arange(len(data.agents) - 1))  # one agent unknown
        whole = Dataset(tickets=data.tickets, agents=roster, ratings=data.ratings)
        part = np.array([rng.randrange(k) for _ in range(len(data.tickets))])
        mixes = [_TicketMix.of(data.tickets.take(rows), data.period, rows)
                 for rows in (np.flatnonzero(part == p) for p in range(k))]
        total = mixes[0]
        for more in mixes[1:]:
            total = total + more
        assert _TicketMix.of(data.tickets, data.period) == total
        want = score_agents(whole, period=data.period)
        got = _score(whole, period=data.period, policy=None, panel=None, mix=total)
        assert want.report.issues and want.report == got.report
        assert np.array_equal(want.composite, got.composite, equal_nan=True)
