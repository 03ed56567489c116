"""The policy: every tunable number of the business, with the documents' defaults.

A :class:`Policy` is immutable and validated when built, so a contradictory one
(weights that do not sum to 1, a grade scale with a hole at the bottom, a negative
delay) cannot exist. ``Policy.default()`` holds the numbers of DOMAIN.md; a user's
policy file overrides any of them::

    [kpis.csi_rate]
    target = 0.95

    [raters.weights]
    self = 0.2
    supervisor = 0.8

Defaults that the source documents state are marked *(documents)* below; the others
are servicekpi's own choices, documented so that they can be argued with.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Final, final

import attrs

from servicekpi import _structure
from servicekpi._frozen import FrozenDict
from servicekpi.calendar import WorkCalendar
from servicekpi.domain.enums import (
    AppraisalTrack,
    ComplaintFlag,
    ComplaintSource,
    Direction,
    Priority,
    RaterRole,
    Role,
    ServiceType,
)
from servicekpi.exceptions import CalendarError, PolicyError, UnknownKeyError
from servicekpi.rulebook import Rulebook

__all__ = (
    "CLOCK_NAMES",
    "Cadence",
    "ClockDefinition",
    "ConsequencePolicy",
    "EscalationPolicy",
    "FollowUpPolicy",
    "KpiTarget",
    "LoyaltyPolicy",
    "Policy",
    "RaterPolicy",
    "ScoringPolicy",
    "SlaPolicy",
    "TeamTargets",
)

_TOLERANCE: Final = 1e-9


def _frozen_map(value: Mapping[Any, Any]) -> FrozenDict[Any, Any]:
    return value if isinstance(value, FrozenDict) else FrozenDict(value)


def _frozen_mixes(value: Mapping[str, Mapping[str, float]]) -> FrozenDict[str, FrozenDict[str, float]]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"'weights' must be a mapping of service type to KPI weights "
                          f"(got {value!r})")
    return FrozenDict({kind: _frozen_map(mix) if isinstance(mix, Mapping) else mix
                       for kind, mix in value.items()})


def _one_of(*choices: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise PolicyError(f"{attribute.name!r} must be in {choices!r} (got {value!r})")

    return check


def _members(kind: Any) -> Any:
    def convert(value: Any) -> frozenset[Any]:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise PolicyError(f"expected a collection of {kind.__name__} values "
                              f"(got {value!r})")
        try:
            return frozenset(kind(item) for item in value)
        except ValueError as error:
            raise PolicyError(str(error)) from error

    return convert


def _sources(value: Any) -> frozenset[ComplaintSource]:
    return _members(ComplaintSource)(value)  # type: ignore[no-any-return]


def _flag_set(value: Any) -> frozenset[ComplaintFlag]:
    return _members(ComplaintFlag)(value)  # type: ignore[no-any-return]


def _rulebook(value: Any) -> Rulebook | None:
    if value is None or isinstance(value, Rulebook):
        return value
    return Rulebook._from_data(value, "rules")


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise PolicyError(f"expected a list of strings (got {value!r})")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise PolicyError(f"expected a list of strings (got {item!r} in {value!r})")
    return items


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise PolicyError(f"{attribute.name!r} must be >= 0 (got {value!r})")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise PolicyError(f"{attribute.name!r} must be > 0 (got {value!r})")


def _share(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise PolicyError(f"{attribute.name!r} must be in [0, 1] (got {value!r})")


def _sums_to_one(what: str, weights: Mapping[Any, float]) -> None:
    for key, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise PolicyError(f"{what}: weight of {_name(key)!r} must be >= 0 (got {weight!r})")
    total = math.fsum(weights.values())
    if not math.isclose(total, 1.0, abs_tol=_TOLERANCE):
        raise PolicyError(f"{what}: weights must sum to 1 (got {total:.6g})")


def _name(key: object) -> str:
    return str(getattr(key, "value", key))


@final
@attrs.frozen(kw_only=True)
class KpiTarget:
    """How a KPI is judged: its SMART target, the floor below which it earns nothing.

    Points are linear between ``floor`` and ``target`` (the scoring issue caps them);
    for a lower-is-better KPI the floor lies above the target.

    >>> KpiTarget(target=0.02, floor=0.08, direction="lower").direction
    <Direction.LOWER: 'lower'>
    >>> KpiTarget(target=0.9, floor=0.95, direction="higher")
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.PolicyError: a higher-is-better KPI needs floor < target (got floor 0.95, target 0.9)

    .. versionadded:: 0.1
    """

    target: float
    floor: float
    direction: Direction = attrs.field(converter=Direction)
    unit: str = ""

    def __attrs_post_init__(self) -> None:
        for name in ("target", "floor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise PolicyError(f"{name!r} must be a finite number (got {value!r})")
        if self.direction is Direction.HIGHER and not self.floor < self.target:
            raise PolicyError(f"a higher-is-better KPI needs floor < target "
                              f"(got floor {self.floor!r}, target {self.target!r})")
        if self.direction is Direction.LOWER and not self.floor > self.target:
            raise PolicyError(f"a lower-is-better KPI needs floor > target "
                              f"(got floor {self.floor!r}, target {self.target!r})")


@final
@attrs.frozen(kw_only=True)
class RaterPolicy:
    """360° rater weights and what to do when a rater role gave no rating.

    ``missing="renormalise"`` spreads a missing role's weight over the roles present;
    ``missing="fail"`` makes the score unavailable. Online-shop default *(documents)*:
    self 30 %, supervisor (store manager) 70 %.

    .. versionadded:: 0.1
    """

    weights: FrozenDict[RaterRole, float] = attrs.field(
        factory=lambda: FrozenDict({RaterRole.SELF: 0.3, RaterRole.SUPERVISOR: 0.7}),
        converter=_frozen_map)
    missing: str = attrs.field(default="renormalise", validator=_one_of("renormalise", "fail"))

    def __attrs_post_init__(self) -> None:
        for role in self.weights:
            if not isinstance(role, RaterRole):
                raise PolicyError(f"rater weights: {role!r} is not a RaterRole")
        _sums_to_one("rater weights", self.weights)


@final
@attrs.frozen(kw_only=True)
class ConsequencePolicy:
    """考核结果的运用 *(documents, online shop)*.

    .. versionadded:: 0.1
    """

    first_reward: float = attrs.field(default=100.0, validator=_non_negative)
    last_deduction: float = attrs.field(default=100.0, validator=_non_negative)
    improvement_plan_bottom: int = attrs.field(default=2, validator=_non_negative)
    improvement_plan_days: int = attrs.field(default=7, validator=_positive)
    reassignment_after_last_months: int = attrs.field(default=3, validator=_positive)


@final
@attrs.frozen(kw_only=True)
class EscalationPolicy:
    """Complaint classification thresholds (DOMAIN.md §4).

    REPEAT after ``repeat_unsolved_callbacks`` unsolved callbacks *(documents: "several")*
    or the same customer on the same matter within ``repeat_window_days``; SEVERE for
    the listed sources and flags *(documents)*, or a REPEAT complaint unsolved for more
    than ``severe_after_working_days`` (servicekpi default). ``rules`` replaces these
    default rules by a rule book of its own (``[[escalation.rules]]`` in TOML, see
    :mod:`servicekpi.rulebook`). The closed loop's deadlines: verify with the station
    within ``verify_working_days``, call back within ``callback_working_days`` (servicekpi
    defaults). Penalty amounts are servicekpi defaults; ``enforce_penalties = false``
    marks a special period (仅制表未处罚).

    .. versionadded:: 0.1
    """

    repeat_unsolved_callbacks: int = attrs.field(default=2, validator=_positive)
    repeat_window_days: int = attrs.field(default=30, validator=_positive)
    severe_sources: frozenset[ComplaintSource] = attrs.field(
        factory=lambda: frozenset({ComplaintSource.WALK_IN}),
        converter=_sources)
    severe_flags: frozenset[ComplaintFlag] = attrs.field(
        factory=lambda: frozenset(ComplaintFlag), converter=_flag_set)
    severe_after_working_days: int = attrs.field(default=10, validator=_positive)
    repeat_penalty: float = attrs.field(default=200.0, validator=_non_negative)
    severe_penalty: float = attrs.field(default=500.0, validator=_non_negative)
    enforce_penalties: bool = True
    count_unreachable: bool = False
    verify_working_days: int = attrs.field(default=1, validator=_non_negative)
    callback_working_days: int = attrs.field(default=2, validator=_non_negative)
    rules: Rulebook | None = attrs.field(default=None, converter=_rulebook)

    @property
    def rulebook(self) -> Rulebook:
        """The rules in force: ``rules`` when the policy gives them, else the defaults
        built from the thresholds above (:meth:`Rulebook.default`)."""
        return self.rules if self.rules is not None else Rulebook.default(self)


@final
@attrs.frozen(kw_only=True)
class Cadence:
    """A recurring contact rule: every ``interval`` ``freq`` units (dateutil rrule terms).

    >>> Cadence(freq="monthly", interval=6).freq
    'monthly'

    .. versionadded:: 0.1
    """

    freq: str = attrs.field(validator=_one_of("daily", "weekly", "monthly", "yearly"))
    interval: int = attrs.field(default=1, validator=_positive)


def _default_cadences() -> FrozenDict[str, Cadence]:
    return FrozenDict({"a": Cadence(freq="weekly"), "b": Cadence(freq="monthly"),
                       "c": Cadence(freq="monthly", interval=6)})


@final
@attrs.frozen(kw_only=True)
class FollowUpPolicy:
    """跟踪服务 delays (DOMAIN.md §5, calendar days unless named ``working``).

    All *(documents)* but ``customer_hours`` and ``home_visit_share`` (servicekpi).

    .. versionadded:: 0.1
    """

    customer_file_days: int = attrs.field(default=2, validator=_non_negative)
    first_call_min_days: int = attrs.field(default=3, validator=_non_negative)
    first_call_max_days: int = attrs.field(default=7, validator=_non_negative)
    quality_call_working_days: int = attrs.field(default=3, validator=_positive)
    second_call_after_days: int = attrs.field(default=7, validator=_non_negative)
    second_call_window_days: int = attrs.field(default=7, validator=_positive)
    unanswered_report_days: int = attrs.field(default=2, validator=_non_negative)
    event_call_days_before: int = attrs.field(default=14, validator=_non_negative)
    event_letter_days_after: int = attrs.field(default=2, validator=_non_negative)
    maintenance_remind_days_before: int = attrs.field(default=14, validator=_non_negative)
    maintenance_near_days_before: int = attrs.field(default=2, validator=_non_negative)
    cadence: FrozenDict[str, Cadence] = attrs.field(factory=_default_cadences,
                                                    converter=_frozen_map)
    customer_hours: tuple[str, ...] = attrs.field(default=("09:00-12:00", "13:30-20:00"),
                                                  converter=_strings)
    home_visit_share: float = attrs.field(default=0.05, validator=_share)
    assignee_role: Role = attrs.field(default=Role.FOLLOWUP_CLERK, converter=Role)

    def __attrs_post_init__(self) -> None:
        if self.first_call_min_days > self.first_call_max_days:
            raise PolicyError(f"'first_call_min_days' ({self.first_call_min_days}) exceeds "
                              f"'first_call_max_days' ({self.first_call_max_days})")
        if self.maintenance_near_days_before >= self.maintenance_remind_days_before:
            raise PolicyError("'maintenance_near_days_before' must be below "
                              "'maintenance_remind_days_before'")
        if set(self.cadence) != {"a", "b", "c"}:
            raise PolicyError(f"cadence: needs exactly the tiers a, b, c "
                              f"(got {sorted(self.cadence)!r})")
        try:  # the customer's reachable hours, checked as the calendar will read them
            WorkCalendar(tz="UTC", hours=[list(self.customer_hours)] * 6 + [[]])
        except CalendarError as error:
            raise PolicyError(f"'customer_hours': {error}") from error


def _seconds_by_priority(**hours: float) -> FrozenDict[Priority, float]:
    return FrozenDict({Priority(name): value * 3600.0 for name, value in hours.items()})


_EVENT_CONDITIONS: Final = ("status_change", "assignment", "customer_message",
                             "agent_reply")
_ATTRIBUTIONS: Final = ("ticket", "first_replier", "assignee_at_stop", "time_held")
_WAITING: Final = ("waiting_customer", "waiting_third_party")


def _check_conditions(field: str, conditions: tuple[str, ...], *,
                      allowed: tuple[str, ...]) -> None:
    for condition in conditions:
        if condition.startswith("status:"):
            if condition[len("status:"):].strip() != condition[len("status:"):] \
                    or condition == "status:":
                raise PolicyError(f"{field}: {condition!r} needs a status name after "
                                  f"'status:' (no surrounding spaces)")
            continue
        if condition in ("opened", "reopened") and condition not in allowed:
            raise PolicyError(f"{field}: {condition!r} can only start a clock")
        if condition not in allowed:
            hint = UnknownKeyError.for_key("condition", condition, [*allowed, "status:<name>"])
            raise PolicyError(f"{field}: {hint}")


def _check_statuses(field: str, statuses: tuple[str, ...]) -> None:
    for status in statuses:
        if not status or status.strip() != status or status.startswith("status:"):
            raise PolicyError(f"{field}: {status!r} is not a status name (a plain name such "
                              f"as 'waiting_customer', without 'status:')")


@final
@attrs.frozen(kw_only=True)
class ClockDefinition:
    """How one SLA clock runs over a ticket's events (``docs/clocks.md``).

    Args:
        start: conditions that start the clock: ``opened``, an event kind
            (``status_change``, ``assignment``, ``customer_message``, ``agent_reply``),
            ``status:<name>`` (a status change to *name*) or ``reopened`` (a status
            change leaving a status named in ``stop``).
        stop: conditions that stop it (the same, without ``opened`` and ``reopened``);
            a stop wins over a start on the same event, so none may be in both.
        pause: statuses during which the clock is paused.
        resume: conditions that also end a pause (the status may stay as it is).
        quiet: statuses during which no at-risk warning is raised (the clock may run).
        recurring: ``True``: each start while stopped opens a new instance (next reply);
            ``False``: one instance per ticket adding up every active stretch.
        attribution: who is credited: ``ticket`` (its agent), ``first_replier``,
            ``assignee_at_stop`` or ``time_held`` (split by running time held).

    >>> ClockDefinition(start=["opened"], stop=["agent_reply"]).pause
    ('waiting_customer', 'waiting_third_party')
    >>> ClockDefinition(start=["opened"], stop=["agent_replied"])
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.PolicyError: stop: unknown condition 'agent_replied'. Did you mean 'agent_reply'?

    .. versionadded:: 0.1
    """

    start: tuple[str, ...] = attrs.field(converter=_strings)
    stop: tuple[str, ...] = attrs.field(converter=_strings)
    pause: tuple[str, ...] = attrs.field(default=_WAITING, converter=_strings)
    resume: tuple[str, ...] = attrs.field(default=("customer_message",), converter=_strings)
    quiet: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    recurring: bool = attrs.field(default=False)
    attribution: str = attrs.field(default="ticket", validator=_one_of(*_ATTRIBUTIONS))

    def __attrs_post_init__(self) -> None:
        if not self.start:
            raise PolicyError("start: a clock needs at least one start condition")
        if not self.stop:
            raise PolicyError("stop: a clock needs at least one stop condition")
        _check_conditions("start", self.start,
                          allowed=("opened", "reopened", *_EVENT_CONDITIONS))
        _check_conditions("stop", self.stop, allowed=_EVENT_CONDITIONS)
        _check_conditions("resume", self.resume, allowed=_EVENT_CONDITIONS)
        _check_statuses("pause", self.pause)
        _check_statuses("quiet", self.quiet)
        both = sorted(set(self.start) & set(self.stop))
        if both:
            raise PolicyError(f"start and stop: {both[0]!r} is in both (a stop wins, so "
                              f"the start would never count)")
        if "reopened" in self.start and not self.stop_statuses:
            raise PolicyError("start: 'reopened' needs a 'status:<name>' stop condition to "
                              "leave")
        if not isinstance(self.recurring, bool):
            raise PolicyError(f"'recurring' must be true or false (got {self.recurring!r})")

    @property
    def stop_statuses(self) -> tuple[str, ...]:
        """The statuses named by ``status:<name>`` stop conditions."""
        return tuple(c[len("status:"):] for c in self.stop if c.startswith("status:"))


def _default_clocks() -> FrozenDict[str, ClockDefinition]:
    return FrozenDict({
        "first_response": ClockDefinition(start=("opened",), stop=("agent_reply",),
                                          attribution="first_replier"),
        "next_reply": ClockDefinition(start=("customer_message",),
                                      stop=("agent_reply", "status:solved", "status:closed"),
                                      recurring=True, attribution="first_replier"),
        "resolution": ClockDefinition(start=("opened", "reopened"),
                                      stop=("status:solved", "status:closed"),
                                      attribution="assignee_at_stop"),
    })


CLOCK_NAMES: Final = ("first_response", "next_reply", "resolution")


@final
@attrs.frozen(kw_only=True)
class SlaPolicy:
    """Working-time SLA targets per priority, in working seconds, and the clocks.

    Targets are servicekpi defaults (the documents set none); ``clocks`` says how each
    clock runs over ticket events (``docs/clocks.md``); a clock is *at risk* once
    ``at_risk_share`` of its target is used.

    .. versionadded:: 0.1
    """

    first_response: FrozenDict[Priority, float] = attrs.field(
        factory=lambda: _seconds_by_priority(urgent=0.25, high=0.5, normal=2, low=4),
        converter=_frozen_map)
    resolution: FrozenDict[Priority, float] = attrs.field(
        factory=lambda: _seconds_by_priority(urgent=4, high=8, normal=16, low=40),
        converter=_frozen_map)
    next_reply: FrozenDict[Priority, float] = attrs.field(
        factory=lambda: _seconds_by_priority(urgent=0.5, high=1, normal=4, low=8),
        converter=_frozen_map)
    at_risk_share: float = attrs.field(default=0.75)
    clocks: FrozenDict[str, ClockDefinition] = attrs.field(factory=_default_clocks,
                                                           converter=_frozen_map)

    def __attrs_post_init__(self) -> None:
        for name in CLOCK_NAMES:
            table: Mapping[Priority, float] = getattr(self, name)
            missing = [p.value for p in Priority if p not in table]
            if missing:
                raise PolicyError(f"sla.{name}: no target for priorities {missing!r}")
            for priority, seconds in table.items():
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
                        or not seconds > 0 or not math.isfinite(seconds):
                    raise PolicyError(f"sla.{name}.{_name(priority)}: target must be > 0 "
                                      f"(got {seconds!r})")
        share = self.at_risk_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) \
                or not 0 < share <= 1:
            raise PolicyError(f"'at_risk_share' must be in (0, 1] (got {share!r})")
        if set(self.clocks) != set(CLOCK_NAMES):
            raise PolicyError(f"sla.clocks: needs exactly {list(CLOCK_NAMES)!r} "
                              f"(got {sorted(self.clocks)!r})")
        for name, definition in self.clocks.items():
            if not isinstance(definition, ClockDefinition):
                raise PolicyError(f"sla.clocks.{name}: expected a ClockDefinition "
                                  f"(got {definition!r})")

    def targets(self, clock: str) -> FrozenDict[Priority, float]:
        """The target per priority of *clock* (``first_response``, ``next_reply``…)."""
        if clock not in CLOCK_NAMES:
            raise UnknownKeyError.for_key("clock", clock, CLOCK_NAMES)
        result: FrozenDict[Priority, float] = getattr(self, clock)
        return result


@final
@attrs.frozen(kw_only=True)
class TeamTargets:
    """售后经营发展目标: the dealer's example year *(documents, DOMAIN.md §7)*.

    .. versionadded:: 0.1
    """

    revenue: float = attrs.field(default=6_000_000.0, validator=_non_negative)
    insurance_revenue: float = attrs.field(default=2_200_000.0, validator=_non_negative)
    repair_and_claims_revenue: float = attrs.field(default=3_800_000.0,
                                                   validator=_non_negative)
    csi_rate: float = attrs.field(default=0.93, validator=_share)
    base_customers: int = attrs.field(default=1500, validator=_non_negative)
    intake_per_day: int = attrs.field(default=20, validator=_non_negative)
    intake_per_month: int = attrs.field(default=650, validator=_non_negative)
    revenue_per_repair: float = attrs.field(default=800.0, validator=_non_negative)
    revenue_per_insurance_job: float = attrs.field(default=1800.0, validator=_non_negative)
    rework_rate_max: float = attrs.field(default=0.02, validator=_share)
    warranty_approval_rate: float = attrs.field(default=0.95, validator=_share)
    trainings_per_year: FrozenDict[str, int] = attrs.field(
        factory=lambda: FrozenDict({"front_desk": 4, "technical_basics": 2, "workshop": 6,
                                    "hard_case_reviews": 3, "team_activities": 3}),
        converter=_frozen_map)


def _default_components() -> FrozenDict[str, float]:
    return FrozenDict({"kpis": 0.6, "appraisal": 0.25, "raters": 0.15})


def _default_role_mixes() -> FrozenDict[Role, str]:
    mixes = {role: "default" for role in Role}
    mixes.update({Role.TECHNICAL_SUPPORT: "technical_support", Role.FIELD_ENGINEER: "repair",
                  Role.SERVICE_ADVISOR: "repair", Role.SERVICE_REPRESENTATIVE: "consultation",
                  Role.FOLLOWUP_CLERK: "complaint_handling",
                  Role.QUALITY_ASSURANCE: "complaint_handling"})
    return FrozenDict(mixes)


COMPONENTS: Final = ("kpis", "appraisal", "raters")


@final
@attrs.frozen(kw_only=True)
class ScoringPolicy:
    """How KPI values, appraisals and 360° ratings become one composite score (0–100).

    All servicekpi defaults; the documents give the ingredients, not the blend.

    Args:
        components: the share of each part in the composite: ``kpis`` (points earned
            against the KPI targets), ``appraisal`` (the appraisal track's score) and
            ``raters`` (the 360° rating); shares sum to 1. An agent without a part
            (no appraisal handed in, no rating given) has the other parts' shares
            renormalised, and its explanation says so.
        mix: ``"tickets"`` weighs the KPIs by the agent's ticket mix (a blend of the
            service types' weight mixes, by share of tickets); ``"role"`` uses the mix
            named in ``role_mixes``. An agent with no ticket in the period falls back to
            its role's mix.
        role_mixes: per role, the name of a weight mix (a key of ``Policy.weights``).
        agreement_plan_share: on the performance-agreement track, the plan items'
            share; the daily-work quality score has the rest.
        key_indicator_ceiling: on the key-indicator track, the highest total as a share
            of the standard score; strictly below 1, so that the total never reaches or
            exceeds the standard score *(documents: 不可能出现满分和超过标准分)*.
        ranking: the group agents are ranked in: ``"team"``, ``"station"`` or ``"all"``.

    >>> ScoringPolicy(key_indicator_ceiling=1.0)
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.PolicyError: 'key_indicator_ceiling' must be in (0, 1): the total stays strictly below the standard score (got 1.0)

    .. versionadded:: 0.1
    """

    components: FrozenDict[str, float] = attrs.field(factory=_default_components,
                                                     converter=_frozen_map)
    mix: str = attrs.field(default="tickets", validator=_one_of("tickets", "role"))
    role_mixes: FrozenDict[Role, str] = attrs.field(factory=_default_role_mixes,
                                                    converter=_frozen_map)
    agreement_plan_share: float = attrs.field(default=0.7, validator=_share)
    key_indicator_ceiling: float = 0.99
    ranking: str = attrs.field(default="team", validator=_one_of("team", "station", "all"))

    def __attrs_post_init__(self) -> None:
        for name in self.components:
            if name not in COMPONENTS:
                hint = UnknownKeyError.for_key("score component", name, COMPONENTS)
                raise PolicyError(f"scoring.components: {hint}")
        _sums_to_one("scoring.components", self.components)
        ceiling = self.key_indicator_ceiling
        if isinstance(ceiling, bool) or not isinstance(ceiling, (int, float)) \
                or not 0 < ceiling < 1:
            raise PolicyError(f"'key_indicator_ceiling' must be in (0, 1): the total stays "
                              f"strictly below the standard score (got {ceiling!r})")
        for role in self.role_mixes:
            if not isinstance(role, Role):
                raise PolicyError(f"scoring.role_mixes: {role!r} is not a Role")

    def mix_of(self, role: Role) -> str:
        """The weight mix of *role* (``"default"`` when the policy names none)."""
        return self.role_mixes.get(Role(role), "default")


@final
@attrs.frozen(kw_only=True)
class LoyaltyPolicy:
    """忠诚客户、一般客户、流失客户 by return visits (回厂次数), DOMAIN.md §6.

    A customer with at least ``loyal_min_visits`` tickets in the ``window_days`` before
    the period's end is LOYAL; with at most ``lost_max_visits`` it is LOST; otherwise
    ORDINARY. Thresholds are servicekpi defaults (the documents name the classes only).

    .. versionadded:: 0.1
    """

    window_days: int = attrs.field(default=365, validator=_positive)
    loyal_min_visits: int = attrs.field(default=3, validator=_positive)
    lost_max_visits: int = attrs.field(default=0, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.lost_max_visits >= self.loyal_min_visits:
            raise PolicyError(f"'lost_max_visits' ({self.lost_max_visits}) must be below "
                              f"'loyal_min_visits' ({self.loyal_min_visits})")


def _default_kpis() -> FrozenDict[str, KpiTarget]:
    higher, lower = Direction.HIGHER, Direction.LOWER
    hour = 3600.0

    def kpi(target: float, floor: float, direction: Direction, unit: str) -> KpiTarget:
        return KpiTarget(target=target, floor=floor, direction=direction, unit=unit)

    return FrozenDict({
        "csi_rate": kpi(0.93, 0.80, higher, "share"),  # documents
        "rework_rate": kpi(0.02, 0.08, lower, "share"),  # documents
        "callback_completion_rate": kpi(1.0, 0.80, higher, "share"),  # documents
        "callback_on_time_rate": kpi(1.0, 0.70, higher, "share"),
        "warranty_claim_approval_rate": kpi(0.95, 0.80, higher, "share"),  # documents
        "repair_success_rate": kpi(0.98, 0.85, higher, "share"),
        "fcr_rate": kpi(0.80, 0.50, higher, "share"),
        "answer_accuracy_rate": kpi(0.98, 0.85, higher, "share"),
        "csat_mean": kpi(4.5, 3.5, higher, "points of 5"),
        "reopen_rate": kpi(0.05, 0.20, lower, "share"),
        "complaint_rate": kpi(0.01, 0.05, lower, "complaints per ticket"),
        "sla_first_response_rate": kpi(0.95, 0.70, higher, "share"),
        "sla_resolution_rate": kpi(0.90, 0.60, higher, "share"),
        "sla_next_reply_rate": kpi(0.90, 0.60, higher, "share"),
        "first_response_work_seconds_median": kpi(0.5 * hour, 4 * hour, lower, "seconds"),
        "resolution_work_seconds_median": kpi(8 * hour, 24 * hour, lower, "seconds"),
        "repair_duration_work_seconds_mean": kpi(4 * hour, 16 * hour, lower, "seconds"),
        "complex_solved": kpi(20.0, 0.0, higher, "tickets"),
        "revenue_per_ticket": kpi(800.0, 0.0, higher, "currency"),  # documents (单车产值)
    })


def _default_weights() -> FrozenDict[str, FrozenDict[str, float]]:
    # DOMAIN.md §2: repair -> repair success and duration weigh most; consultation ->
    # satisfaction and answer accuracy; technical support -> response time, resolution
    # rate, complex problems. The exact shares are servicekpi's.
    return FrozenDict({
        "repair": FrozenDict({"repair_success_rate": 0.30,
                              "repair_duration_work_seconds_mean": 0.25,
                              "rework_rate": 0.15, "csi_rate": 0.15,
                              "callback_completion_rate": 0.15}),
        "consultation": FrozenDict({"csi_rate": 0.30, "answer_accuracy_rate": 0.30,
                                    "csat_mean": 0.10,
                                    "first_response_work_seconds_median": 0.15,
                                    "fcr_rate": 0.15}),
        "technical_support": FrozenDict({"first_response_work_seconds_median": 0.30,
                                         "sla_resolution_rate": 0.25,
                                         "complex_solved": 0.20, "fcr_rate": 0.15,
                                         "csi_rate": 0.10}),
        "complaint_handling": FrozenDict({"callback_completion_rate": 0.30,
                                          "callback_on_time_rate": 0.20,
                                          "resolution_work_seconds_median": 0.20,
                                          "csi_rate": 0.30}),
        "default": FrozenDict({"csi_rate": 0.30, "fcr_rate": 0.20,
                               "resolution_work_seconds_median": 0.20,
                               "sla_first_response_rate": 0.15, "reopen_rate": 0.15}),
    })


def _default_tracks() -> FrozenDict[Role, AppraisalTrack]:
    agreement, indicators = AppraisalTrack.PERFORMANCE_AGREEMENT, AppraisalTrack.KEY_INDICATORS
    tracks = {role: agreement for role in Role}
    tracks[Role.FIELD_ENGINEER] = indicators  # documents: 现场服务 -> 关键指标/关键行为
    return FrozenDict(tracks)


def _default_grades() -> FrozenDict[str, float]:
    return FrozenDict({"A": 90.0, "B": 80.0, "C": 70.0, "D": 60.0, "E": 0.0})


@final
@attrs.frozen(kw_only=True)
class Policy:
    """Every tunable number of servicekpi, immutable and validated.

    Args:
        calendar: the service centre's working calendar (business time).
        kpis: per KPI name, its target, floor and direction.
        weights: per service type (``"repair"``, …, and ``"default"``), KPI weights
            summing to 1; every weighted KPI needs a target in ``kpis``.
        satisfied_threshold: a satisfaction rating counts as satisfied (CSI) when
            >= this, on the 1–5 scale (servicekpi default 4 of 5; the documents name
            CSI but no cut-off).
        grades: grade name -> lowest composite score (0–100) of the band; the lowest
            band must start at 0 so that every score has a grade.
        tracks: appraisal track per role.
        raters, consequences, escalation, followup, sla, team, scoring, loyalty: the
            sections below.

    Raises:
        PolicyError: a contradictory setting, naming the setting.

    >>> p = Policy.default()
    >>> p.kpis["csi_rate"].target, p.raters.weights[RaterRole.SELF]
    (0.93, 0.3)
    >>> p.replace(satisfied_threshold=4.5).satisfied_threshold
    4.5
    >>> Policy.from_toml('[kpis.csi_rate]\\ntarget = 0.95\\nfloor = 0.8\\ndirection = "higher"'
    ...                  ).kpis["csi_rate"].target
    0.95

    .. versionadded:: 0.1
    """

    calendar: WorkCalendar = attrs.field(factory=WorkCalendar)
    kpis: FrozenDict[str, KpiTarget] = attrs.field(factory=_default_kpis, converter=_frozen_map)
    weights: FrozenDict[str, FrozenDict[str, float]] = attrs.field(
        factory=_default_weights, converter=_frozen_mixes)
    satisfied_threshold: float = attrs.field(default=4.0)
    grades: FrozenDict[str, float] = attrs.field(factory=_default_grades,
                                                 converter=_frozen_map)
    tracks: FrozenDict[Role, AppraisalTrack] = attrs.field(factory=_default_tracks,
                                                           converter=_frozen_map)
    raters: RaterPolicy = attrs.field(factory=RaterPolicy)
    consequences: ConsequencePolicy = attrs.field(factory=ConsequencePolicy)
    escalation: EscalationPolicy = attrs.field(factory=EscalationPolicy)
    followup: FollowUpPolicy = attrs.field(factory=FollowUpPolicy)
    sla: SlaPolicy = attrs.field(factory=SlaPolicy)
    team: TeamTargets = attrs.field(factory=TeamTargets)
    scoring: ScoringPolicy = attrs.field(factory=ScoringPolicy)
    loyalty: LoyaltyPolicy = attrs.field(factory=LoyaltyPolicy)

    def __attrs_post_init__(self) -> None:
        for name, target in self.kpis.items():
            if not isinstance(target, KpiTarget):
                raise PolicyError(f"kpis.{name}: expected a KpiTarget (got {target!r})")
        self._check_weights()
        self._check_grades()
        threshold = self.satisfied_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not 1 <= threshold <= 5:
            raise PolicyError(f"'satisfied_threshold' must be in [1, 5] (got {threshold!r})")
        missing = [role.value for role in Role if role not in self.tracks]
        if missing:
            raise PolicyError(f"tracks: no appraisal track for roles {missing!r}")
        for role, mix in self.scoring.role_mixes.items():
            # Role mixes are the KPI weights with mix = "role"; with "tickets" they only
            # serve agents without tickets, and a missing mix falls back to "default".
            if self.scoring.mix == "role" and mix not in self.weights:
                hint = UnknownKeyError.for_key("weight mix", mix, list(self.weights))
                raise PolicyError(f"scoring.role_mixes.{role.value}: {hint}")

    def _check_weights(self) -> None:
        if "default" not in self.weights:
            raise PolicyError("weights: a 'default' KPI mix is required")
        known = {t.value for t in ServiceType} | {"default"}
        for kind, mix in self.weights.items():
            if kind not in known:
                hint = UnknownKeyError.for_key("service type", kind, sorted(known))
                raise PolicyError(f"weights: {hint}")
            _sums_to_one(f"weights.{kind}", mix)
            for kpi in mix:
                if kpi not in self.kpis:
                    hint = UnknownKeyError.for_key("KPI", kpi, list(self.kpis))
                    raise PolicyError(f"weights.{kind}: {hint} (every weighted KPI needs "
                                      f"a target in [kpis])")

    def _check_grades(self) -> None:
        if not self.grades:
            raise PolicyError("grades: at least one grade band is required")
        for grade, low in self.grades.items():
            if isinstance(low, bool) or not isinstance(low, (int, float)) \
                    or not 0 <= low <= 100:
                raise PolicyError(f"grades.{grade}: lowest score must be in [0, 100] "
                                  f"(got {low!r})")
        lows = sorted(self.grades.values())
        if lows[0] != 0:
            raise PolicyError(f"grades: the lowest band must start at 0, or scores below "
                              f"{lows[0]:g} get no grade (a gap)")
        if len(set(lows)) != len(lows):
            raise PolicyError("grades: two bands start at the same score")

    @classmethod
    def default(cls) -> Policy:
        """The documents' defaults (DOMAIN.md)."""
        return cls()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """A policy from plain nested data; keys absent keep their defaults.

        By default (``extends = "default"``) the data is laid over the default policy:
        nested tables replace a section field by field, and a mapping such as ``kpis``
        merges key by key, so a file that sets one KPI target keeps the others. With
        ``extends = "none"`` (what :meth:`to_toml` writes) the data is the whole policy,
        so KPIs or weight mixes it leaves out are really gone.
        """
        if not isinstance(data, Mapping):
            raise PolicyError(f"policy: expected a table (got {data!r})")
        body = dict(data)
        extends = body.pop("extends", "default")
        if extends == "none":
            return _structure.build(cls, body, "policy")
        if extends != "default":
            raise PolicyError(f"policy.extends: must be 'default' or 'none' "
                              f"(got {extends!r})")
        merged = _merge(_structure.dump(cls.default()), body, "policy")
        return _structure.build(cls, merged, "policy")

    @classmethod
    def from_toml(cls, source: str | PathLike[str]) -> Policy:
        """A policy from TOML text or a ``.toml`` file path.

        Raises:
            PolicyError: malformed TOML, an unknown key (with a did-you-mean hint) or a
                contradictory value; the message starts with the key path.
        """
        if isinstance(source, PathLike) or (isinstance(source, str) and "\n" not in source
                                            and source.endswith(".toml")):
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise PolicyError(f"cannot read policy file {str(path)!r}: "
                                  f"{error.strerror}") from error
        else:
            text = str(source)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise PolicyError(f"policy TOML is malformed: {error}") from error
        return cls.from_mapping(data)

    def to_mapping(self) -> dict[str, Any]:
        """Plain nested data that :meth:`from_mapping` reads back to an equal policy.

        It starts with ``extends = "none"``: it is the whole policy, not an overlay.
        """
        result: dict[str, Any] = {"extends": "none", **_structure.dump(self)}
        return result

    def to_toml(self) -> str:
        """The policy as TOML text that :meth:`from_toml` reads back to an equal policy."""
        return _structure.to_toml(self.to_mapping())

    def replace(self, **changes: Any) -> Policy:
        """A copy with *changes* applied and validated (:func:`attrs.evolve`)."""
        return attrs.evolve(self, **changes)

    def grade(self, score: float) -> str:
        """The grade band of a composite *score* in [0, 100].

        >>> Policy.default().grade(85.0)
        'B'
        """
        if not 0 <= score <= 100:
            raise PolicyError(f"'score' must be in [0, 100] (got {score!r})")
        return max((low, name) for name, low in self.grades.items() if low <= score)[1]

    def track_for(self, role: Role) -> AppraisalTrack:
        """The appraisal track of *role*."""
        return self.tracks[Role(role)]


# Sections whose mapping replaces the default wholesale rather than merging, because a
# partial merge would be surprising: a new grade scale or rater mix is given whole.
# The same holds for each service type's KPI mix (``policy.weights.<type>``).
_REPLACE_WHOLE: Final = frozenset({"policy.grades", "policy.raters.weights",
                                  "policy.scoring.components"})


def _merge(base: Mapping[str, Any], override: Mapping[str, Any], path: str) -> dict[str, Any]:
    if not isinstance(override, Mapping):
        raise PolicyError(f"{path}: expected a table (got {override!r})")
    merged = dict(base)
    for key, value in override.items():
        here = f"{path}.{key}"
        whole = here in _REPLACE_WHOLE or here.startswith("policy.weights.")
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping) and not whole:
            merged[key] = _merge(base[key], value, here)
        else:
            merged[key] = value
    return merged
