"""Team targets (售后经营发展目标, DOMAIN.md §7) against actuals, and customer loyalty (§6).

:func:`team_targets` compares the after-sales department's yearly targets
(``policy.team``) with what the data shows for a period; :func:`loyalty_classes`
classes every customer as loyal, ordinary or lost by return visits (回厂次数).

Pro-rating
    A yearly *flow* target is pro-rated to the period by its number of months: a
    month gets 1/12 of it, a quarter 3/12, a year all of it, whatever the number of
    days (revenue, insurance revenue, repair and claims revenue).
    ``intake_per_month`` is multiplied by the months of the period. Training targets
    are counted **year to date**: held from 1 January of the period's year (in the
    period's zone) to the period's end, against the yearly target × elapsed months / 12
    (October or Q4 → 10/12 or 12/12). Rates, per-job amounts, the per-day intake and
    the stock of base customers are not pro-rated.

Actuals
    Tickets count when opened in the period (``[start, end)`` in its zone) and are
    judged as of its end, exactly as :func:`~servicekpi.metrics.kpi_panel` does: CSI,
    rework rate and warranty approval rate equal that panel's ``csi_rate``,
    ``rework_rate`` and ``warranty_claim_approval_rate`` over all tickets. Amounts are
    summed in whole cents, so revenue is exact to the cent.

Attainment
    Higher is better: ``actual / target``, met when ``actual >= target``. Lower is
    better (the rework rate, "< 2 %"): ``target / actual``, met when
    ``actual < target``; as ``target / 0`` has no finite value, lower-is-better
    attainment is capped at :data:`ATTAINMENT_CAP` (1000 %), for every actual alike so
    that it stays monotone. A target of 0 gives attainment ``NaN`` (no ratio).

No data
    A row whose actual cannot be computed — no ticket in the period, no rated ticket,
    no resolved repair or warranty claim, no ticket recording revenue, no working day,
    no training record at all — has actual and attainment ``NaN``, ``met`` ``None``,
    and its basis says "no data". A period without a single ticket is taken as not
    covered by the data, so even its intake is "no data" rather than 0.

>>> from servicekpi import synth
>>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
>>> report = team_targets(data, period=data.period)
>>> print(report)
team targets 2026-10 (Asia/Shanghai)
name                             target      actual  attainment  met
revenue                      500,000.00  392,445.22      78.5 %   ✗
insurance_revenue            183,333.33  142,478.07      77.7 %   ✗
repair_and_claims_revenue    316,666.67  217,980.26      68.8 %   ✗
csi_rate                        93.00 %     78.72 %      84.6 %   ✗
rework_rate                      2.00 %      1.84 %     108.5 %   ✓
warranty_approval_rate          95.00 %    100.00 %     105.3 %   ✓
intake_per_month                    650       1,000     153.8 %   ✓
intake_per_day                       20       45.45     227.3 %   ✓
revenue_per_repair               800.00    1,134.86     141.9 %   ✓
revenue_per_insurance_job      1,800.00    2,226.22     123.7 %   ✓
base_customers                    1,500         246      16.4 %   ✗
trainings.front_desk               3.33           5     150.0 %   ✓
trainings.technical_basics         1.67           1      60.0 %   ✗
trainings.workshop                    5           1      20.0 %   ✗
trainings.hard_case_reviews        2.50           2      80.0 %   ✗
trainings.team_activities          2.50           4     160.0 %   ✓
>>> loyalty_classes(data.tickets, data.customers, period=data.period)
<LoyaltyTable 2026-10: 250 customers (loyal 198, ordinary 48, lost 4), 171 changed>

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, final

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi.calendar import to_epoch
from servicekpi.dataset import Dataset
from servicekpi.domain import Direction, Loyalty, Period, ServiceType, Training
from servicekpi.exceptions import UnknownKeyError
from servicekpi.kernel import MISSING
from servicekpi.kernel.groups import group_count, group_counts, group_sum
from servicekpi.policy import LoyaltyPolicy, Policy
from servicekpi.tables import CustomerTable, TicketTable, ValidationIssue, ValidationReport

__all__ = (
    "ATTAINMENT_CAP",
    "BASE_CUSTOMER_DAYS",
    "LoyaltyTable",
    "TargetRow",
    "TeamReport",
    "loyalty_classes",
    "team_targets",
)

ATTAINMENT_CAP: Final = 10.0
"""The highest attainment of a lower-is-better row (``target / actual`` capped)."""

BASE_CUSTOMER_DAYS: Final = 365
"""Base customers (基盘客户) are those with a ticket in this many days before the end."""

_LOYALTY: Final = tuple(Loyalty)
_LOYAL: Final = _LOYALTY.index(Loyalty.LOYAL)
_ORDINARY: Final = _LOYALTY.index(Loyalty.ORDINARY)
_LOST: Final = _LOYALTY.index(Loyalty.LOST)
_TYPES: Final = tuple(ServiceType)
_MONTHS: Final = {"month": 1, "quarter": 3, "year": 12}


# --------------------------------------------------------------------------- rows


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@final
@attrs.frozen(kw_only=True, eq=False)
class TargetRow:
    """One team target against its actual, with how both were computed.

    Attributes:
        name: the target (``revenue``, ``csi_rate``, …, ``trainings.workshop``).
        target: the target for the period (pro-rated where the module says so).
        actual: what the data shows; ``NaN`` when there is no data.
        attainment: ``actual / target`` (higher is better) or ``target / actual``
            capped at :data:`ATTAINMENT_CAP` (lower is better); ``NaN`` without data
            or with a target of 0.
        direction: whether higher or lower is better.
        met: whether the target is met; ``None`` without data.
        unit: ``currency``, ``share``, ``tickets``, ``customers``, ``trainings``, …
        basis: one sentence saying how target and actual were computed.

    Rows compare equal when every field does, ``NaN`` equal to ``NaN``.

    .. versionadded:: 0.1
    """

    name: str
    target: float
    actual: float
    attainment: float
    direction: Direction = attrs.field(converter=Direction)
    met: bool | None
    unit: str
    basis: str

    def _key(self) -> tuple[Any, ...]:
        return (self.name, self.direction, self.met, self.unit, self.basis)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TargetRow):
            return NotImplemented
        return self._key() == other._key() and all(
            _same(getattr(self, f), getattr(other, f))
            for f in ("target", "actual", "attainment"))

    def __hash__(self) -> int:
        return hash(self._key())

    def to_record(self) -> dict[str, Any]:
        """The row as a plain dict (``direction`` as its text, ``NaN`` kept)."""
        return {"name": self.name, "target": self.target, "actual": self.actual,
                "attainment": self.attainment, "direction": self.direction.value,
                "met": self.met, "unit": self.unit, "basis": self.basis}


def _rows(value: Iterable[TargetRow]) -> tuple[TargetRow, ...]:
    rows = tuple(value)
    for row in rows:
        if not isinstance(row, TargetRow):
            raise TypeError(f"'rows' must hold TargetRow objects (got {row!r})")
    return rows


@final
@attrs.frozen(kw_only=True)
class TeamReport:
    """The team's targets against actuals for one period (DOMAIN.md §7).

    Attributes:
        period: the period judged.
        rows: one :class:`TargetRow` per target, in the order of ``policy.team``,
            then one per training kind.
        validation: the training records checked against the policy's kinds
            (``table="trainings"``); a training of a kind the policy does not name is
            an issue (code ``unknown_kind``), counted nowhere else.

    ``str(report)`` is an aligned text table; :meth:`to_records` gives plain rows.

    .. versionadded:: 0.1
    """

    period: Period = attrs.field(validator=attrs.validators.instance_of(Period))
    rows: tuple[TargetRow, ...] = attrs.field(converter=_rows)
    validation: ValidationReport = attrs.field(
        validator=attrs.validators.instance_of(ValidationReport))

    @property
    def names(self) -> tuple[str, ...]:
        """The row names, in order."""
        return tuple(row.name for row in self.rows)

    def row(self, name: str) -> TargetRow:
        """The row called *name*.

        Raises:
            UnknownKeyError: no such row (with a did-you-mean hint).

        >>> from servicekpi import synth
        >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
        >>> team_targets(data, period=data.period).row("csi_rat")
        Traceback (most recent call last):
        ...
        servicekpi.exceptions.UnknownKeyError: unknown team target 'csi_rat'. Did you mean 'csi_rate'?
        """
        for row in self.rows:
            if row.name == name:
                return row
        raise UnknownKeyError.for_key("team target", name, self.names)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per row (see :meth:`TargetRow.to_record`)."""
        return [row.to_record() for row in self.rows]

    def __str__(self) -> str:
        table = [("name", "target", "actual", "attainment", "met")]
        for row in self.rows:
            table.append((row.name, _fmt(row.target, row.unit), _fmt(row.actual, row.unit),
                          _percent(row.attainment),
                          "–" if row.met is None else "✓" if row.met else "✗"))
        widths = [max(len(line[i]) for line in table) for i in range(5)]
        lines = [f"team targets {self.period}"]
        for line in table:
            lines.append("  ".join([line[0].ljust(widths[0]),
                                    *(cell.rjust(w) for cell, w in zip(line[1:4], widths[1:4],
                                                                        strict=True)),
                                    line[4].center(widths[4])]).rstrip())
        if not self.validation.ok:
            lines.append(str(self.validation))
        return "\n".join(lines)


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "–"
    if unit == "share":
        return f"{value * 100:.2f} %"
    if unit == "currency" or value != round(value):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 100:.1f} %"


def _attainment(actual: float, target: float, direction: Direction) -> float:
    if math.isnan(actual) or target == 0:
        return math.nan
    if direction is Direction.HIGHER:
        return actual / target
    return ATTAINMENT_CAP if actual == 0 else min(target / actual, ATTAINMENT_CAP)


def _target_row(name: str, target: float, actual: float | None, unit: str, basis: str,
                direction: Direction = Direction.HIGHER) -> TargetRow:
    """A row; ``actual=None`` means no data (the basis then says so)."""
    if actual is None:
        return TargetRow(name=name, target=target, actual=math.nan, attainment=math.nan,
                         direction=direction, met=None, unit=unit,
                         basis=f"no data: {basis}")
    met = actual >= target if direction is Direction.HIGHER else actual < target
    return TargetRow(name=name, target=target, actual=actual,
                     attainment=_attainment(actual, target, direction), direction=direction,
                     met=bool(met), unit=unit, basis=basis)


def _period_and_policy(period: object, policy: object) -> Policy:
    """Check the common arguments; the policy in force (default when ``None``)."""
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    if policy is None:
        return Policy.default()
    if not isinstance(policy, Policy):
        raise TypeError(f"'policy' must be a Policy (got {type(policy).__name__})")
    return policy


def _months(period: Period) -> int:
    return _MONTHS[period.kind.value]


def _window_start(period: Period, days: int) -> int:
    """*days* calendar days before the period's end, on the wall clock of its zone."""
    return to_epoch(period.end - timedelta(days=days))


def _working_days(policy: Policy, period: Period) -> int:
    """The period's local dates on which the policy calendar has working hours."""
    first, last = period.start.date(), period.end.date()
    return sum(1 for k in range((last - first).days)
               if policy.calendar.hours_on(first + timedelta(days=k)))


def _selected(tickets: TicketTable, start: int, end: int) -> NDArray[np.bool_]:
    opened = tickets["opened_at"]
    return np.asarray((opened >= start) & (opened < end))


def team_targets(dataset: Dataset, *, period: Period,
                 policy: Policy | None = None) -> TeamReport:
    """The after-sales department's yearly targets against the actuals of *period*.

    Rows, in order (targets from ``policy.team``; see the module for pro-rating,
    attainment and "no data"):

    ``revenue``, ``insurance_revenue``, ``repair_and_claims_revenue``
        Σ ``revenue`` (in whole cents) of the tickets opened in the period: all of
        them; the insurance jobs (``insurance``); the non-insurance repair and
        warranty-claim tickets. Target: yearly × months / 12.
    ``csi_rate``
        Ratings >= ``policy.satisfied_threshold`` / rated tickets.
    ``rework_rate`` (lower is better)
        Resolved repair tickets marked ``rework`` / resolved repair tickets
        (resolved by the period end). Target ``rework_rate_max``.
    ``warranty_approval_rate``
        Resolved warranty-claim tickets with ``claim_approved`` / resolved warranty
        claims.
    ``intake_per_month``
        Tickets opened in the period; target ``intake_per_month`` × months.
    ``intake_per_day``
        Tickets opened / working days of ``policy.calendar`` in the period (the
        period's local dates on which the calendar has hours).
    ``revenue_per_repair``, ``revenue_per_insurance_job``
        Σ revenue / count of the non-insurance repair tickets, or the insurance jobs,
        that record a revenue.
    ``base_customers``
        Distinct customers with a ticket opened in the :data:`BASE_CUSTOMER_DAYS`
        calendar days before the period end — counted over the tickets in the data
        only, so data that starts later undercounts (the basis names the earliest
        ticket). Not pro-rated.
    ``trainings.<kind>``, one per kind of ``trainings_per_year``
        Trainings held from 1 January of the period's year to the period end, against
        the yearly target × elapsed months / 12.

    Args:
        dataset: the records; ``tickets`` and ``trainings`` are used.
        period: the period judged (month, quarter or year).
        policy: the targets, satisfied threshold and calendar (default
            :meth:`Policy.default`).

    Returns:
        A :class:`TeamReport`; trainings of kinds the policy does not name are listed
        in ``report.validation`` (code ``unknown_kind``).

    Raises:
        TypeError: a dataset, period or policy of the wrong type.

    >>> from servicekpi import synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> report = team_targets(data, period=data.period)
    >>> row = report.row("revenue")
    >>> row.target, row.actual, row.met
    (500000.0, 392445.22, False)
    >>> print(report.row("intake_per_day").basis)
    1000 tickets opened in 2026-10 / 22 working days of the policy calendar; target not pro-rated.
    >>> report.row("trainings.workshop").target  # 6 a year, 10 months elapsed
    5.0

    .. versionadded:: 0.1
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"'dataset' must be a Dataset (got {type(dataset).__name__})")
    policy = _period_and_policy(period, policy)
    return _team_report(_TicketFacts.of(dataset.tickets, period, policy), dataset.trainings,
                        period, policy)


def _team_report(facts: _TicketFacts, trainings: Sequence[Training], period: Period,
                 policy: Policy) -> TeamReport:
    """The report from the tickets' facts (whole or summed over customer-disjoint parts)."""
    rows = _ticket_rows(facts, period, policy)
    rows.append(_base_customers(facts, period, policy))
    training_rows, validation = _training_rows(trainings, period, policy)
    rows.extend(training_rows)
    return TeamReport(period=period, rows=tuple(rows), validation=validation)


@attrs.frozen(kw_only=True)
class _TicketFacts:
    """The counts behind the ticket rows of :func:`team_targets`: they add up exactly
    over parts that split the tickets by customer (``base_customers`` is a distinct
    count, so only parts with disjoint customers add up)."""

    tickets: int = 0  # opened in the period
    cents: tuple[int, int, int, int] = (0, 0, 0, 0)  # revenue by category, whole cents
    jobs: tuple[int, int, int, int] = (0, 0, 0, 0)  # tickets recording revenue, ditto
    # rated, satisfied, resolved repairs, rework, resolved claims, approved claims
    facts: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)
    base_customers: int = 0  # distinct customers with a ticket in the base window
    base_tickets: int = 0  # tickets in the base window
    earliest: int | None = None  # the earliest opening of any ticket

    def __add__(self, other: _TicketFacts) -> _TicketFacts:
        earliest = [e for e in (self.earliest, other.earliest) if e is not None]

        def add(a: tuple[int, ...], b: tuple[int, ...]) -> Any:
            return tuple(x + y for x, y in zip(a, b, strict=True))

        return _TicketFacts(
            tickets=self.tickets + other.tickets, cents=add(self.cents, other.cents),
            jobs=add(self.jobs, other.jobs), facts=add(self.facts, other.facts),
            base_customers=self.base_customers + other.base_customers,
            base_tickets=self.base_tickets + other.base_tickets,
            earliest=min(earliest) if earliest else None)

    @classmethod
    def of(cls, tickets: TicketTable, period: Period, policy: Policy) -> _TicketFacts:
        """The facts of *tickets* for *period*."""
        start, end = to_epoch(period.start), to_epoch(period.end)
        selected = _selected(tickets, start, end)
        whole = bool(selected.all())

        def col(name: str) -> NDArray[Any]:
            array = tickets[name]
            return array if whole else array[selected]

        n_tickets = int(np.count_nonzero(selected))
        service_type = col("service_type")
        repair = service_type == _TYPES.index(ServiceType.REPAIR)
        claim = service_type == _TYPES.index(ServiceType.WARRANTY_CLAIM)
        # Revenue by category, in whole cents: 0 insurance job, 1 other repair,
        # 2 other warranty claim, 3 anything else; -1 = no revenue recorded.
        revenue = col("revenue")
        category = np.where(col("insurance"), 0, np.where(repair, 1, np.where(claim, 2, 3)))
        category = np.where(~np.isnan(revenue), category, -1)
        cents = np.rint(group_sum(category, _cents(revenue), 4)).astype(np.int64)
        jobs = group_count(category, 4)
        resolved_at = col("resolved_at")
        resolved = (resolved_at != MISSING) & (resolved_at < end)
        satisfaction = col("satisfaction")
        rated = ~np.isnan(satisfaction)
        with np.errstate(invalid="ignore"):
            satisfied = rated & (satisfaction >= policy.satisfied_threshold)
        repaired = resolved & repair
        claims = resolved & claim
        facts = [rated, satisfied, repaired, repaired & col("rework"), claims,
                 claims & col("claim_approved")]
        zero = np.zeros(n_tickets, dtype=np.int32)
        counted = [int(c) for c in group_counts(zero, facts, 1)[:, 0]]

        window = _selected(tickets, _window_start(period, BASE_CUSTOMER_DAYS), end)
        seen = group_count(tickets["customer_id"], len(tickets.labels("customer_id")),
                           window) > 0
        opened = tickets["opened_at"]
        c, j, f = cents.tolist(), jobs.tolist(), counted
        return cls(tickets=n_tickets, cents=(c[0], c[1], c[2], c[3]),
                   jobs=(j[0], j[1], j[2], j[3]), facts=(f[0], f[1], f[2], f[3], f[4], f[5]),
                   base_customers=int(np.count_nonzero(seen)),
                   base_tickets=int(np.count_nonzero(window)),
                   earliest=int(opened.min()) if len(opened) else None)


def _ticket_rows(facts: _TicketFacts, period: Period, policy: Policy) -> list[TargetRow]:
    team = policy.team
    months = _months(period)
    label = period.label
    n_tickets = facts.tickets
    covered = n_tickets > 0
    cents_by, jobs = facts.cents, facts.jobs
    has_revenue = sum(jobs) > 0
    n_rated, n_satisfied, n_repaired, n_rework, n_claims, n_approved = facts.facts

    def money(cents: int) -> float | None:
        return cents / 100 if has_revenue else None

    def rate(hits: int, total: int) -> float | None:
        return hits / total if total else None

    def per_job(code: int) -> float | None:
        # cents / jobs first: one rounding of the exact mean, then to currency units.
        return cents_by[code] / jobs[code] / 100 if jobs[code] else None

    days = _working_days(policy, period)
    opened_in = f"opened in {label}"
    yearly = f"yearly target × {months}/12"
    no_revenue = "" if has_revenue else " (no ticket records revenue)"
    total_cents = sum(cents_by)
    rows = [
        _target_row("revenue", team.revenue * months / 12, money(total_cents), "currency",
                    f"Σ revenue of the {sum(jobs)} of {n_tickets} tickets {opened_in} "
                    f"that record revenue{no_revenue}, exact to the cent; {yearly}."),
        _target_row("insurance_revenue", team.insurance_revenue * months / 12,
                    money(int(cents_by[0])), "currency",
                    f"Σ revenue of the {int(jobs[0])} insurance jobs {opened_in} that "
                    f"record revenue{no_revenue}; {yearly}."),
        _target_row("repair_and_claims_revenue", team.repair_and_claims_revenue * months / 12,
                    money(int(cents_by[1] + cents_by[2])), "currency",
                    f"Σ revenue of the {int(jobs[1] + jobs[2])} non-insurance repair and "
                    f"warranty-claim tickets {opened_in} that record revenue{no_revenue}; "
                    f"{yearly}."),
        _target_row("csi_rate", team.csi_rate, rate(n_satisfied, n_rated), "share",
                    f"{n_satisfied} ratings >= {policy.satisfied_threshold:g} / {n_rated} "
                    f"rated tickets {opened_in}; target not pro-rated."),
        _target_row("rework_rate", team.rework_rate_max, rate(n_rework, n_repaired), "share",
                    f"{n_rework} rework / {n_repaired} repair tickets {opened_in} resolved "
                    f"by its end; lower is better, attainment target / actual capped at "
                    f"{ATTAINMENT_CAP * 100:g} %.", Direction.LOWER),
        _target_row("warranty_approval_rate", team.warranty_approval_rate,
                    rate(n_approved, n_claims), "share",
                    f"{n_approved} approved / {n_claims} warranty claims {opened_in} "
                    f"resolved by its end; target not pro-rated."),
        _target_row("intake_per_month", float(team.intake_per_month * months),
                    float(n_tickets) if covered else None, "tickets",
                    f"tickets {opened_in}; monthly target × {months}."),
        _target_row("intake_per_day", float(team.intake_per_day),
                    n_tickets / days if covered and days else None,
                    "tickets per working day",
                    f"{n_tickets} tickets {opened_in} / {days} working days of the policy "
                    f"calendar; target not pro-rated."),
        _target_row("revenue_per_repair", team.revenue_per_repair, per_job(1), "currency",
                    f"Σ revenue / {int(jobs[1])} non-insurance repair tickets {opened_in} "
                    f"that record revenue; target not pro-rated."),
        _target_row("revenue_per_insurance_job", team.revenue_per_insurance_job, per_job(0),
                    "currency",
                    f"Σ revenue / {int(jobs[0])} insurance jobs {opened_in} that record "
                    f"revenue; target not pro-rated."),
    ]
    return rows


def _cents(amounts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Amounts as whole cents (floats holding integers: bincount sums them exactly)."""
    return np.rint(np.nan_to_num(amounts) * 100.0)


def _base_customers(facts: _TicketFacts, period: Period, policy: Policy) -> TargetRow:
    distinct = facts.base_customers
    earliest = (f"earliest ticket opened {_local_date(facts.earliest, period)}"
                if facts.earliest is not None else "no ticket at all")
    basis = (f"distinct customers with a ticket opened in the {BASE_CUSTOMER_DAYS} days "
             f"before {period.end.date().isoformat()}, counting only the tickets in the "
             f"data ({earliest}); target not pro-rated.")
    return _target_row("base_customers", float(policy.team.base_customers),
                       float(distinct) if facts.base_tickets else None, "customers", basis)


def _local_date(epoch: int, period: Period) -> str:
    return datetime.fromtimestamp(epoch, period.zone).date().isoformat()


def _training_rows(trainings: Sequence[Training], period: Period,
                   policy: Policy) -> tuple[list[TargetRow], ValidationReport]:
    targets = policy.team.trainings_per_year
    year_start = to_epoch(Period.whole_year(period.year, tz=period.tz).start)
    end = to_epoch(period.end)
    elapsed = period.first_month - 1 + _months(period)
    held = dict.fromkeys(targets, 0)
    issues = []
    for row, training in enumerate(trainings):  # records, not ticket rows: a handful
        if training.kind not in targets:
            issues.append(ValidationIssue(
                row=row, key=training.training_id, field="kind", value=training.kind,
                rule=f"a training kind of policy.team.trainings_per_year "
                     f"({', '.join(targets)})",
                code="unknown_kind"))
        elif year_start <= to_epoch(training.held_at) < end:
            held[training.kind] += 1
    validation = ValidationReport(table="trainings", rows_in=len(trainings),
                                  rows_valid=len(trainings) - len(issues),
                                  issues=tuple(issues))
    since = f"held from {period.year}-01-01 to the end of {period.label}"
    rows = []
    for kind, per_year in targets.items():
        basis = f"trainings of kind {kind!r} {since}; yearly target × {elapsed}/12."
        actual = float(held[kind]) if trainings else None
        rows.append(_target_row(f"trainings.{kind}", per_year * elapsed / 12, actual,
                                "trainings",
                                basis if trainings else f"no training records; {basis}"))
    return rows, validation


# --------------------------------------------------------------------------- loyalty


def _codes(value: Any) -> NDArray[np.int8]:
    array = np.array(value, dtype=np.int8)
    if array.ndim != 1 or (array.size and (int(array.min()) < -1
                                           or int(array.max()) >= len(_LOYALTY))):
        raise ValueError(f"loyalty codes must be a 1-D array in [-1, {len(_LOYALTY)}) "
                         f"(got {value!r})")
    array.flags.writeable = False
    return array


def _counts(value: Any) -> NDArray[np.int64]:
    array = np.array(value, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"'visits' must be a 1-D array (got shape {array.shape})")
    array.flags.writeable = False
    return array


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else tuple(value)


@final
@attrs.frozen(kw_only=True, eq=False)
class LoyaltyTable:
    """Each customer's return visits and loyalty class (忠诚/一般/流失, DOMAIN.md §6).

    Attributes:
        period: the period whose end the window ends at.
        rule: the thresholds used (``policy.loyalty``).
        customer_ids: the customers, in the customers table's row order.
        visits: int64 tickets opened per customer in the ``rule.window_days`` days
            before the period end.
        classes: int8 class codes, in the member order of :class:`Loyalty`
            (``0`` loyal, ``1`` ordinary, ``2`` lost), as the customers table stores them.
        previous: the class codes the customers table held (``-1`` where none).
        report: the tickets of the window checked against the customers table
            (``table="tickets"``): one issue per customer id not in it (code
            ``unknown_customer``, on the customer's first ticket row, its rule saying how
            many tickets); ``report.rows_rejected`` counts those tickets.

    .. versionadded:: 0.1
    """

    period: Period = attrs.field(validator=attrs.validators.instance_of(Period))
    rule: LoyaltyPolicy = attrs.field(validator=attrs.validators.instance_of(LoyaltyPolicy))
    customer_ids: tuple[str, ...] = attrs.field(converter=_ids)
    visits: NDArray[np.int64] = attrs.field(converter=_counts)
    classes: NDArray[np.int8] = attrs.field(converter=_codes)
    previous: NDArray[np.int8] = attrs.field(converter=_codes)
    report: ValidationReport = attrs.field(
        validator=attrs.validators.instance_of(ValidationReport))
    _index: dict[str, int] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        n = len(self.customer_ids)
        for name in ("visits", "classes", "previous"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name!r} must have one entry per customer ({n}) "
                                 f"(got {len(getattr(self, name))})")

    def __len__(self) -> int:
        return len(self.customer_ids)

    def index(self, customer_id: str) -> int:
        """The position of *customer_id*.

        Raises:
            UnknownKeyError: not a customer of the table (with a did-you-mean hint).
        """
        if not self._index and self.customer_ids:
            self._index.update(zip(self.customer_ids, range(len(self.customer_ids))))
        position = self._index.get(customer_id)
        if position is None:
            raise UnknownKeyError.for_key("customer", customer_id, self.customer_ids)
        return position

    def class_of(self, customer_id: str) -> Loyalty:
        """The loyalty class of *customer_id* for this period."""
        return _LOYALTY[int(self.classes[self.index(customer_id)])]

    def counts(self) -> dict[Loyalty, int]:
        """Customers per class, every class present (loyal, ordinary, lost)."""
        counted = np.bincount(self.classes, minlength=len(_LOYALTY))
        return {member: int(counted[i]) for i, member in enumerate(_LOYALTY)}

    def ids(self, loyalty: Loyalty | str) -> tuple[str, ...]:
        """The customers of class *loyalty*, in table order."""
        code = _LOYALTY.index(Loyalty(loyalty))
        return tuple(self.customer_ids[i] for i in np.flatnonzero(self.classes == code))

    def changed(self) -> tuple[str, ...]:
        """The customers whose class differs from the customers table's, in table order."""
        return tuple(self.customer_ids[i]
                     for i in np.flatnonzero(self.classes != self.previous))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoyaltyTable):
            return NotImplemented
        return (self.period == other.period and self.rule == other.rule
                and self.customer_ids == other.customer_ids
                and np.array_equal(self.visits, other.visits)
                and np.array_equal(self.classes, other.classes)
                and np.array_equal(self.previous, other.previous)
                and self.report == other.report)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = self.counts()
        changed = int(np.count_nonzero(self.classes != self.previous))
        unknown = f", {len(self.report.issues)} unknown customers" if self.report.issues \
            else ""
        return (f"<LoyaltyTable {self.period.label}: {len(self)} customers (loyal "
                f"{counts[Loyalty.LOYAL]}, ordinary {counts[Loyalty.ORDINARY]}, lost "
                f"{counts[Loyalty.LOST]}), {changed} changed{unknown}>")


def loyalty_classes(tickets: TicketTable, customers: CustomerTable, *, period: Period,
                    policy: Policy | None = None) -> LoyaltyTable:
    """Class every customer as LOYAL, ORDINARY or LOST by return visits (回厂次数).

    A customer's visits are its tickets opened in the ``policy.loyalty.window_days``
    calendar days before the period end (``[end − window, end)``, on the wall clock of
    the period's zone). At least ``loyal_min_visits`` visits make it LOYAL, at most
    ``lost_max_visits`` LOST, anything between ORDINARY. Vectorised: ticket customer
    codes are mapped to customer rows once per label and counted with one ``bincount``.

    Args:
        tickets: the tickets (older ones matter: the window is a year by default).
        customers: the customers to class; their ``loyalty`` column is the previous class.
        period: the period whose end closes the window.
        policy: the loyalty thresholds (default :meth:`Policy.default`).

    Returns:
        A :class:`LoyaltyTable`. Tickets in the window of customers missing from
        *customers* are reported in ``table.report`` (one issue per unknown customer,
        code ``unknown_customer``), not dropped silently.

    Raises:
        TypeError: arguments of the wrong type.

    >>> from servicekpi import synth
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> table = loyalty_classes(data.tickets, data.customers, period=data.period)
    >>> table.counts()[Loyalty.LOYAL], table.class_of("C0001"), int(table.visits[0])
    (198, <Loyalty.LOYAL: 'loyal'>, 6)
    >>> table.report.ok
    True

    .. versionadded:: 0.1
    """
    if not isinstance(tickets, TicketTable):
        raise TypeError(f"'tickets' must be a TicketTable (got {type(tickets).__name__})")
    if not isinstance(customers, CustomerTable):
        raise TypeError(f"'customers' must be a CustomerTable "
                        f"(got {type(customers).__name__})")
    policy = _period_and_policy(period, policy)
    rule = policy.loyalty
    start, end = _window_start(period, rule.window_days), to_epoch(period.end)

    # Customer row of each ticket customer label (-1: not in the customers table).
    n_customers = len(customers)
    customer_labels = customers.labels("customer_id")
    ticket_labels = tickets.labels("customer_id")
    row_of_code = np.empty(len(customer_labels), dtype=np.int64)
    row_of_code[customers["customer_id"]] = np.arange(n_customers)
    if ticket_labels == customer_labels:
        label_row = row_of_code
    else:
        wanted = customers.codes_of("customer_id", ticket_labels)
        label_row = np.where(wanted >= 0, row_of_code[np.maximum(wanted, 0)], -1) \
            if n_customers else np.full(len(ticket_labels), -1, dtype=np.int64)

    window = _selected(tickets, start, end)
    window_rows = np.flatnonzero(window)
    ticket_codes = tickets["customer_id"][window_rows]
    rows = label_row[ticket_codes]
    visits = group_count(rows, n_customers)
    classes = np.where(visits >= rule.loyal_min_visits, _LOYAL,
                       np.where(visits <= rule.lost_max_visits, _LOST, _ORDINARY))
    report = _unknown_customers(tickets, ticket_labels, window_rows, ticket_codes, rows)
    return LoyaltyTable(period=period, rule=rule,
                        customer_ids=_row_ids(customer_labels, customers["customer_id"]),
                        visits=visits, classes=classes, previous=customers["loyalty"],
                        report=report)


def _row_ids(labels: tuple[str, ...], codes: NDArray[Any]) -> tuple[str, ...]:
    if np.array_equal(codes, np.arange(len(labels))):
        return labels
    return tuple(labels[i] for i in codes.tolist())


def _unknown_customers(tickets: TicketTable, labels: tuple[str, ...],
                       window_rows: NDArray[np.intp], ticket_codes: NDArray[Any],
                       rows: NDArray[np.int64]) -> ValidationReport:
    """One issue per unknown customer of the window, on its first ticket row."""
    unknown = rows < 0
    issues = []
    if unknown.any():
        codes, first, counts = np.unique(ticket_codes[unknown], return_index=True,
                                         return_counts=True)
        first_rows = window_rows[unknown][first]
        ticket_ids = tickets.labels("ticket_id")
        ticket_codes_at = tickets["ticket_id"][first_rows]
        for code, row, count, key in zip(codes.tolist(), first_rows.tolist(),
                                         counts.tolist(), ticket_codes_at.tolist(),
                                         strict=True):
            issues.append(ValidationIssue(
                row=row, key=ticket_ids[key], field="customer_id", value=labels[code],
                rule=f"a customer of the customers table ({count} ticket"
                     f"{'s' if count != 1 else ''} in the window)",
                code="unknown_customer"))
        issues.sort(key=lambda issue: issue.row)
    return ValidationReport(table="tickets", rows_in=len(rows),
                            rows_valid=int(len(rows) - np.count_nonzero(unknown)),
                            issues=tuple(issues))
