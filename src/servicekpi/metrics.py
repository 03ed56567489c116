"""The KPI catalogue: every KPI of DOMAIN.md §2 per group, from columnar tables.

:func:`kpi_panel` takes a :class:`~servicekpi.tables.TicketTable` (and optionally the
callbacks, complaints and orders), keeps the tickets opened in the period (half-open
``[start, end)`` in the period's zone), groups them ``by`` one or more dimensions and
computes every KPI of :data:`KPIS` with the array kernel. The result is an immutable
:class:`KpiPanel`: one value and one denominator per group and KPI.

The period is judged **as of its end**: a ticket resolved after the period ended is
unresolved in this panel, a callback made after it ended was not made.

Every KPI's formula is in ``docs/kpis.md`` (checked against :data:`KPIS` by a test).

>>> from servicekpi import synth, Period
>>> data = synth.month(seed=5, tickets=3_000, agents=12, stations=2)
>>> panel = kpi_panel(data.tickets, period=data.period, by="station")
>>> panel.keys
('S0001', 'S0002')
>>> int(panel["tickets"].sum())
3000
>>> 0 <= panel.row("S0001")["fcr_rate"] <= 1
True

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any, Final, Literal, final

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi import _extras
from servicekpi._frozen import FrozenDict
from servicekpi.calendar import utc_offsets
from servicekpi.clocks import _measure, _Measured
from servicekpi.domain import (
    CallbackSubject,
    Channel,
    ClockStatus,
    Direction,
    Period,
    Priority,
    ServiceType,
    Tier,
)
from servicekpi.exceptions import InvalidChoiceError, SchemaError, UnknownKeyError
from servicekpi.kernel import MISSING
from servicekpi.kernel.groups import (
    group_count,
    group_counts,
    group_sum,
    group_summaries,
    ratio,
)
from servicekpi.policy import CLOCK_NAMES, KpiTarget, Policy
from servicekpi.tables import (
    CallbackTable,
    ComplaintTable,
    OrderTable,
    Table,
    TicketEventTable,
    TicketTable,
)

__all__ = ("DIMENSIONS", "KPIS", "KpiDefinition", "KpiPanel", "kpi_panel")

Kind = Literal["count", "sum", "ratio", "quantile"]
Source = Literal["tickets", "callbacks", "complaints", "orders", "events"]
Money = Literal["none", "numerator", "both"]

DIMENSIONS: Final = ("agent", "team", "station", "service_type", "channel", "customer_tier",
                     "day", "week", "month")
"""What a panel can be grouped by (one, or a tuple of several)."""

_ID_COLUMN: Final = {"agent": "agent_id", "team": "team_id", "station": "station_id"}
_CHOICE: Final = {"service_type": ("service_type", ServiceType),
                  "channel": ("channel", Channel),
                  "customer_tier": ("customer_tier", Tier)}
_TIME_DIMS: Final = ("day", "week", "month")
_DAY: Final = 86_400
_QUANTILES: Final = (0.5, 0.9)


@final
@attrs.frozen(kw_only=True)
class KpiDefinition:
    """What a KPI means: definition, formula, unit, direction and how it merges.

    Attributes:
        name: the KPI's name (``*_rate`` in [0, 1], ``*_seconds*`` durations).
        definition: one sentence.
        formula: numerator / denominator in words.
        unit: ``share``, ``seconds``, ``tickets``, ``points of 5``, ``currency``, …
        direction: whether higher or lower is better (``None`` for plain volumes).
        kind: ``count`` and ``sum`` add up, ``ratio`` is numerator / denominator,
            ``quantile`` is read from the sorted values.
        source: the table it needs besides tickets.
        money: which of numerator and denominator are amounts of money; merging adds
            those in whole cents, so partial panels add up exactly to the cent.

    .. versionadded:: 0.1
    """

    name: str
    definition: str
    formula: str
    unit: str
    direction: Direction | None
    kind: Kind
    source: Source = "tickets"
    money: Money = "none"

    @property
    def mergeable(self) -> bool:
        """Whether partial panels (days, partitions) add up to the whole exactly."""
        return self.kind != "quantile"

    def target(self, policy: Policy | None = None) -> KpiTarget | None:
        """The KPI's target in *policy* (default: :meth:`Policy.default`), if it has one."""
        return (policy or _DEFAULT_POLICY).kpis.get(self.name)

    @property
    def default_target(self) -> KpiTarget | None:
        """The target of the default policy, if any."""
        return self.target()


_DEFAULT_POLICY: Final = Policy.default()


def _definitions() -> FrozenDict[str, KpiDefinition]:
    higher, lower = Direction.HIGHER, Direction.LOWER
    items: list[KpiDefinition] = []

    def add(name: str, definition: str, formula: str, unit: str,
            direction: Direction | None, kind: Kind, source: Source = "tickets",
            money: Money = "none") -> None:
        items.append(KpiDefinition(name=name, definition=definition, formula=formula,
                                   unit=unit, direction=direction, kind=kind, source=source,
                                   money=money))

    add("tickets", "Tickets opened in the period.", "count of tickets", "tickets", None,
        "count")
    add("resolved", "Tickets of the period resolved by its end.",
        "count of tickets with resolved_at < period end", "tickets", higher, "count")
    add("complex_solved", "High-difficulty (HIGH or URGENT priority) tickets resolved.",
        "count of resolved tickets with priority high or urgent", "tickets", higher, "count")
    durations = (
        ("first_response", "opened to first response", "tickets answered by the period end"),
        ("resolution", "opened to resolution", "tickets resolved by the period end"),
        ("repair_duration", "opened to resolution of repair tickets (平均维修时长)",
         "repair tickets resolved by the period end"),
    )
    for base, what, over in durations:
        for clock, infix, unit_text in (("calendar", "", "calendar"),
                                        ("working", "_work", "working")):
            for stat, stat_text in (("mean", "mean"), ("median", "median"), ("p90", "90th "
                                                                                  "percentile")):
                kind: Kind = "ratio" if stat == "mean" else "quantile"
                formula = (f"sum of {unit_text} seconds / number of {over}" if stat == "mean"
                           else f"{stat_text} of {unit_text} seconds over {over} "
                                f"(numpy linear interpolation)")
                add(f"{base}{infix}_seconds_{stat}",
                    f"{stat_text.capitalize()} {clock} seconds from {what}.", formula,
                    "seconds", lower, kind)
    add("fcr_rate", "First-contact resolution (一次解决率).",
        "first-contact-resolved tickets / resolved tickets", "share", higher, "ratio")
    add("rework_rate", "Repeat repairs (返修率).",
        "resolved repair tickets marked rework / resolved repair tickets", "share", lower,
        "ratio")
    add("repair_success_rate", "Repairs that held (维修成功率).",
        "resolved repair tickets neither rework nor reopened / resolved repair tickets",
        "share", higher, "ratio")
    add("warranty_claim_approval_rate", "Warranty claims approved (保修索赔).",
        "resolved warranty-claim tickets with claim_approved / resolved warranty-claim "
        "tickets", "share", higher, "ratio")
    add("reopen_rate", "Resolved tickets that were reopened.",
        "resolved tickets with reopen_count > 0 / resolved tickets", "share", lower, "ratio")
    add("csat_mean", "Mean customer satisfaction rating (1–5).",
        "sum of ratings / rated tickets", "points of 5", higher, "ratio")
    add("csi_rate", "Share of satisfied ratings (CSI).",
        "ratings >= policy.satisfied_threshold / rated tickets", "share", higher, "ratio")
    add("answer_accuracy_rate", "Consultation answer accuracy (解答准确率).",
        "1 − Σ answer_errors / Σ answers (numerator Σ answers − Σ errors)", "share", higher,
        "ratio")
    add("sla_first_response_rate", "First responses within the policy's working-time target.",
        "tickets answered within policy.sla.first_response[priority] working seconds / "
        "tickets answered, or unanswered with the target passed at the period end",
        "share", higher, "ratio")
    add("sla_resolution_rate", "Resolutions within the policy's working-time target.",
        "tickets resolved within policy.sla.resolution[priority] working seconds / "
        "tickets resolved, or unresolved with the target passed at the period end",
        "share", higher, "ratio")
    add("sla_next_reply_rate", "Customer messages answered within the policy's "
        "working-time target (needs events).",
        "next-reply clock instances achieved / achieved or breached at the period end "
        "(credit shares; docs/clocks.md)", "share", higher, "ratio", "events")
    add("callback_completion_rate", "Callbacks made (回访率).",
        "callbacks due in the period (due_by) made by its end / callbacks due", "share",
        higher, "ratio", "callbacks")
    add("callback_on_time_rate", "Callbacks made inside their due window.",
        "callbacks due in the period made with due_from <= done_at <= due_by / callbacks "
        "due", "share", higher, "ratio", "callbacks")
    add("complaint_rate", "Complaints per ticket (顾客投诉比重); the one *_rate that can "
        "exceed 1, when a ticket draws several complaints.",
        "complaints received in the period attributed to the group / its tickets",
        "complaints per ticket", lower, "ratio", "complaints")
    add("order_amount_sum", "Total order amount (订单总金额), exact to the cent.",
        "Σ amount of orders created in the period", "currency", higher, "sum", "orders",
        "numerator")
    add("average_order_value", "Average order value (平均客单价).",
        "Σ amount / orders created in the period", "currency", higher, "ratio", "orders",
        "numerator")
    add("conversion_rate", "Consultations that led to an order (咨询转化率).",
        "consultation tickets of the period with an order created by its end / "
        "consultation tickets", "share", higher, "ratio", "orders")
    add("valid_order_rate", "Valid orders (有效订单比重).", "valid orders / orders", "share",
        higher, "ratio", "orders")
    add("payment_rate", "Paid share of the order amount (付款比例).", "Σ paid / Σ amount",
        "share", higher, "ratio", "orders", "both")
    add("refund_rate", "Refunded share of the paid amount (退款比例).", "Σ refunded / Σ paid",
        "share", lower, "ratio", "orders", "both")
    for name, column, text in (("labour_cost_per_ticket", "labour_cost", "labour cost"),
                               ("parts_cost_per_ticket", "parts_cost", "parts cost"),
                               ("revenue_per_ticket", "revenue", "revenue (单车产值)")):
        add(name, f"Mean {text} per ticket that records it.",
            f"Σ {column} / tickets with {column}", "currency",
            higher if name.startswith("revenue") else lower, "ratio", money="numerator")
    return FrozenDict({item.name: item for item in items})


KPIS: Final[FrozenDict[str, KpiDefinition]] = _definitions()
"""Every KPI :func:`kpi_panel` computes, by name, in panel column order."""


# --------------------------------------------------------------------------- the panel


Key = Any


@final
@attrs.frozen(kw_only=True, eq=False)
class KpiPanel:
    """KPIs per group: immutable, aligned arrays, one row per group key.

    Keys are ids (``str``) for agent/team/station, enum members for service type,
    channel and tier, :class:`~datetime.date` for day, week (its Monday) and month (its
    first day), ``None`` where a ticket has no value for the dimension, and tuples of
    those when grouping by several dimensions. Groups are sorted by key.

    .. versionadded:: 0.1
    """

    by: tuple[str, ...]
    keys: tuple[Key, ...]
    period: Period
    policy: Policy
    _values: FrozenDict[str, NDArray[np.float64]] = attrs.field(alias="values")
    _numerators: FrozenDict[str, NDArray[np.float64]] = attrs.field(alias="numerators")
    _denominators: FrozenDict[str, NDArray[np.float64]] = attrs.field(alias="denominators")
    unattributed: FrozenDict[str, int] = attrs.field(factory=FrozenDict)
    """Rows of the callback/complaint/order tables in the period that no group could
    claim (e.g. a callback whose ticket is unknown), per table: counted, not lost."""

    @property
    def names(self) -> tuple[str, ...]:
        """The KPI names, in catalogue order."""
        return tuple(self._values)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        """The KPI's value per group (read-only), aligned with :attr:`keys`."""
        return self._values[self._check(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def denominator(self, name: str) -> NDArray[np.float64]:
        """What the KPI's value is taken over, per group (0 where the value is NaN)."""
        return self._denominators[self._check(name)]

    def numerator(self, name: str) -> NDArray[np.float64]:
        """The KPI's numerator per group (NaN for quantiles, which have none)."""
        return self._numerators[self._check(name)]

    def _check(self, name: str) -> str:
        if name not in self._values:
            raise UnknownKeyError.for_key("KPI", name, self._values)
        return name

    def index(self, key: Key) -> int:
        """The row of *key*."""
        lookup = {k: i for i, k in enumerate(self.keys)}
        if key not in lookup:
            raise UnknownKeyError.for_key(f"{'/'.join(self.by)} key", key,
                                          [str(k) for k in self.keys])
        return lookup[key]

    def row(self, key: Key) -> Mapping[str, float]:
        """Every KPI of one group, by name."""
        i = self.index(key)
        return FrozenDict({name: float(values[i]) for name, values in self._values.items()})

    def to_dict(self) -> dict[Key, dict[str, float]]:
        """``{key: {kpi: value}}`` for every group."""
        return {key: {name: float(values[i]) for name, values in self._values.items()}
                for i, key in enumerate(self.keys)}

    def select(self, *names: str) -> KpiPanel:
        """A panel with only the KPIs *names*, in that order."""
        for name in names:
            self._check(name)
        return attrs.evolve(self, values=_pick(self._values, names),
                            numerators=_pick(self._numerators, names),
                            denominators=_pick(self._denominators, names))

    def collapse(self, *dims: str) -> KpiPanel:
        """Merge the groups that differ only in *dims*, dropping them from :attr:`by`.

        Only mergeable KPIs (counts, sums, ratios) survive; their numerators and
        denominators add up, so ``kpi_panel(..., by=("agent", "day")).collapse("day")``
        equals ``kpi_panel(..., by="agent")`` on them exactly.
        """
        for dim in dims:
            if dim not in self.by:
                raise UnknownKeyError.for_key("dimension of this panel", dim, self.by)
        kept = tuple(i for i, d in enumerate(self.by) if d not in dims)
        if not kept:
            raise InvalidChoiceError(f"cannot collapse every dimension of {self.by!r}")
        single = len(kept) == 1

        def project(key: Key) -> Key:
            parts = key if len(self.by) > 1 else (key,)
            return parts[kept[0]] if single else tuple(parts[i] for i in kept)

        return _merged([self], project, tuple(self.by[i] for i in kept))

    @classmethod
    def combine(cls, panels: Sequence[KpiPanel]) -> KpiPanel:
        """Merge panels of the same grouping (partitions, days) into one.

        Keys are united; mergeable KPIs add numerators and denominators. Quantile KPIs
        are dropped (exact quantiles need every value; compute them on the whole).
        """
        if not panels:
            raise InvalidChoiceError("combine() needs at least one panel")
        by = panels[0].by
        for panel in panels:
            if panel.by != by:
                raise InvalidChoiceError(f"cannot combine panels grouped by {by!r} and "
                                         f"{panel.by!r}")
        return _merged(list(panels), lambda key: key, by)

    @classmethod
    def stack(cls, panels: Sequence[KpiPanel]) -> KpiPanel:
        """Panels of partitions that each hold whole groups, as one — every KPI kept.

        Unlike :meth:`combine`, quantile KPIs are kept: a group's quantiles must come
        from one panel (the others have denominator 0 for it), so each value is already
        the whole group's. A group may still appear in several panels through records
        credited to it elsewhere (an SLA clock credited to another ticket's replier):
        its mergeable KPIs then add numerators and denominators, exactly as
        :meth:`combine` does. Keys come out sorted, as :func:`kpi_panel` sorts them.

        Raises:
            InvalidChoiceError: no panels, different groupings, KPIs or periods, or a
                group whose quantiles are split over panels (use :meth:`combine`).

        .. versionadded:: 0.1
        """
        if not panels:
            raise InvalidChoiceError("stack() needs at least one panel")
        first = panels[0]
        for panel in panels[1:]:
            if (panel.by, panel.names, panel.period) != (first.by, first.names, first.period):
                raise InvalidChoiceError("stack() needs panels of one grouping, period and "
                                         "KPI set")
        merged = _merged(list(panels), lambda key: key, first.by)
        where = {key: i for i, key in enumerate(merged.keys)}
        n = len(merged.keys)
        values = {name: merged[name] for name in merged.names}
        numerators = {name: merged.numerator(name) for name in merged.names}
        denominators = {name: merged.denominator(name) for name in merged.names}
        for name in first.names:
            if name in values:
                continue
            value, numerator, count = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
            for panel in panels:
                rows = np.array([where[k] for k in panel.keys], dtype=np.intp)
                has = panel.denominator(name) > 0
                if (count[rows[has]] > 0).any():
                    raise InvalidChoiceError(f"stack() needs whole groups: {name!r} of a "
                                             f"group is split over panels (combine() adds "
                                             f"partial groups up, without quantiles)")
                value[rows[has]] = panel[name][has]
                numerator[rows[has]] = panel.numerator(name)[has]
                count[rows[has]] = panel.denominator(name)[has]
            values[name], numerators[name], denominators[name] = value, numerator, count
        return cls(by=first.by, keys=merged.keys, period=first.period, policy=first.policy,
                   values=_frozen({name: values[name] for name in first.names}),
                   numerators=_frozen({name: numerators[name] for name in first.names}),
                   denominators=_frozen({name: denominators[name] for name in first.names}),
                   unattributed=merged.unattributed)

    def to_frame(self, backend: str | None = None) -> Any:
        """The panel as a dataframe: one row per group (a column per dimension of
        :attr:`by`), one column per KPI.

        Args:
            backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; ``None`` takes the
                first of them that is installed, in that order.

        Needs the ``frames`` extra; see :func:`servicekpi.io.frames.panel_to_frame`.
        """
        return _extras.edge("io.frames").panel_to_frame(self, backend=backend)

    def plot(self, kpi: str | None = None, *, ax: Any = None) -> Any:
        """A bar chart of one KPI (default: the first rate) per group, against its
        target; returns the matplotlib ``Axes``. Needs the ``plot`` extra."""
        return _extras.edge("report.plot").plot_panel(self, kpi, ax=ax)

    def _repr_html_(self) -> str:
        html: str = _extras.edge("report.notebook").panel_html(self)
        return html

    def __repr__(self) -> str:
        return (f"<KpiPanel by {'/'.join(self.by)}: {len(self.keys)} groups × "
                f"{len(self._values)} KPIs, {self.period}>")


def _pick(mapping: Mapping[str, NDArray[np.float64]],
          names: Iterable[str]) -> FrozenDict[str, NDArray[np.float64]]:
    return FrozenDict({name: mapping[name] for name in names})


def _merged(panels: list[KpiPanel], project: Callable[[Key], Key],
            by: tuple[str, ...]) -> KpiPanel:
    names = [n for n in panels[0].names if KPIS[n].mergeable
             and all(n in p for p in panels)]
    merged_keys = sorted({project(k) for p in panels for k in p.keys}, key=_sort_key)
    where = {key: i for i, key in enumerate(merged_keys)}
    numerators = {n: np.zeros(len(merged_keys)) for n in names}
    denominators = {n: np.zeros(len(merged_keys)) for n in names}
    for panel in panels:
        target = np.array([where[project(k)] for k in panel.keys], dtype=np.intp)
        for n in names:
            money = KPIS[n].money
            # Amounts are cents / 100 (the nearest double): rint(x * 100) is the exact
            # cents again, and cents add exactly.
            num, den = panel.numerator(n), panel.denominator(n)
            np.add.at(numerators[n], target, np.rint(num * 100) if money != "none" else num)
            np.add.at(denominators[n], target, np.rint(den * 100) if money == "both" else den)
    values = {}
    for n in names:
        money = KPIS[n].money
        if money != "none":
            numerators[n] = numerators[n] / 100.0
        if money == "both":
            denominators[n] = denominators[n] / 100.0
        kind = KPIS[n].kind
        values[n] = numerators[n].copy() if kind in ("count", "sum") \
            else ratio(numerators[n], denominators[n])
    unattributed: dict[str, int] = {}
    for panel in panels:
        for table, count in panel.unattributed.items():
            unattributed[table] = unattributed.get(table, 0) + count
    first = panels[0]
    return KpiPanel(by=by, keys=tuple(merged_keys), period=first.period, policy=first.policy,
                    values=_frozen(values), numerators=_frozen(numerators),
                    denominators=_frozen(denominators), unattributed=FrozenDict(unattributed))


def _frozen(arrays: Mapping[str, NDArray[np.float64]]) -> FrozenDict[str, NDArray[np.float64]]:
    for array in arrays.values():
        array.flags.writeable = False
    return FrozenDict(arrays)


def _sort_key(key: Key) -> tuple[Any, ...]:
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((p is None, _orderable(p)) for p in parts)


def _orderable(part: Any) -> Any:
    if part is None:
        return ""
    if isinstance(part, (ServiceType, Channel, Tier)):
        return list(type(part)).index(part)
    return part


# --------------------------------------------------------------------------- grouping


@attrs.define
class _Dim:
    """One dimension's codes for the tickets, and its growing vocabulary of keys."""

    name: str
    keys: list[Key]
    lookup: dict[Key, int]
    codes: NDArray[np.int64]  # per ticket row (all rows), -1 impossible: None is a key

    def code_of(self, key: Key) -> int:
        if key not in self.lookup:
            self.lookup[key] = len(self.keys)
            self.keys.append(key)
        return self.lookup[key]

    def map_labels(self, labels: Sequence[Any], codes: NDArray[Any]) -> NDArray[np.int64]:
        """Codes of another table's id column, in this dimension's vocabulary."""
        table = np.array([self.code_of(label) for label in labels] + [self.code_of(None)],
                         dtype=np.int64)
        return table[np.where(codes < 0, len(labels), codes)]


def _id_dim(name: str, table: Table, column: str) -> _Dim:
    labels = list(table.labels(column))
    keys: list[Key] = [*labels, None]
    codes = table[column].astype(np.int64)
    codes = np.where(codes < 0, len(labels), codes)
    return _Dim(name, keys, {k: i for i, k in enumerate(keys)}, codes)


def _choice_dim(name: str, table: Table, column: str, enum: Any) -> _Dim:
    members: list[Key] = [*enum, None]
    codes = table[column].astype(np.int64)
    codes = np.where(codes < 0, len(members) - 1, codes)
    return _Dim(name, members, {k: i for i, k in enumerate(members)}, codes)


def _local_days(epochs: NDArray[np.int64], tz: str) -> NDArray[np.int64]:
    """Days since 1970-01-01 of each instant's local date in *tz* (MISSING stays)."""
    present = epochs != MISSING
    out = np.full(epochs.shape, MISSING, dtype=np.int64)
    if present.any():
        chosen = epochs[present]
        out[present] = (chosen + utc_offsets(chosen, tz)) // _DAY
    return out


def _time_codes(name: str, days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Day, Monday-of-week or first-of-month day numbers (1970-01-01 was a Thursday)."""
    if name == "day":
        return days
    if name == "week":
        return days - (days + 3) % 7
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def _time_dim(name: str, days: NDArray[np.int64]) -> _Dim:
    starts = _time_codes(name, days)
    present = days != MISSING
    unique = np.unique(starts[present]) if present.any() else np.zeros(0, dtype=np.int64)
    keys: list[Key] = [date(1970, 1, 1) + timedelta(days=int(d)) for d in unique]
    keys.append(None)
    codes = np.full(days.shape, len(unique), dtype=np.int64)
    codes[present] = np.searchsorted(unique, starts[present])
    return _Dim(name, keys, {k: i for i, k in enumerate(keys)}, codes)


def _time_dim_codes(dim: _Dim, days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Codes of other rows' local days in *dim*'s vocabulary (new keys are added)."""
    starts = _time_codes(dim.name, days)
    out = np.full(days.shape, dim.code_of(None), dtype=np.int64)
    present = days != MISSING
    if present.any():
        unique, inverse = np.unique(starts[present], return_inverse=True)
        table = np.array([dim.code_of(date(1970, 1, 1) + timedelta(days=int(d)))
                          for d in unique], dtype=np.int64)
        out[present] = table[inverse]
    return out


def _normalise_by(by: str | Sequence[str]) -> tuple[str, ...]:
    dims = (by,) if isinstance(by, str) else tuple(by)
    if not dims:
        raise InvalidChoiceError("'by' needs at least one dimension")
    for dim in dims:
        if dim not in DIMENSIONS:
            raise InvalidChoiceError.for_value("dimension", dim, DIMENSIONS)
    if len(set(dims)) != len(dims):
        raise InvalidChoiceError(f"'by' repeats a dimension (got {dims!r})")
    return dims


# --------------------------------------------------------------------------- the panel


@attrs.define
class _Acc:
    """Accumulates KPI columns over the full group space before empty groups go."""

    n_groups: int
    values: dict[str, NDArray[np.float64]] = attrs.field(factory=dict)
    numerators: dict[str, NDArray[np.float64]] = attrs.field(factory=dict)
    denominators: dict[str, NDArray[np.float64]] = attrs.field(factory=dict)

    def ratio(self, name: str, numerator: NDArray[np.float64],
              denominator: NDArray[np.float64]) -> None:
        self.values[name] = ratio(numerator, denominator)
        self.numerators[name] = numerator
        self.denominators[name] = denominator

    def rate(self, name: str, codes: NDArray[np.int64], hits: NDArray[np.bool_],
             eligible: NDArray[np.bool_]) -> None:
        self.ratio(name, group_count(codes, self.n_groups, hits & eligible).astype(float),
                   group_count(codes, self.n_groups, eligible).astype(float))

    def quantile(self, name: str, values: NDArray[np.float64],
                 count: NDArray[np.float64]) -> None:
        self.values[name] = values
        self.numerators[name] = np.full(self.n_groups, np.nan)
        self.denominators[name] = count


def _cents(amounts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Amounts as whole cents (floats holding integers: bincount sums them exactly)."""
    return np.rint(np.nan_to_num(amounts) * 100.0)


def kpi_panel(tickets: TicketTable, *, period: Period, by: str | Sequence[str] = "agent",
              policy: Policy | None = None, callbacks: CallbackTable | None = None,
              complaints: ComplaintTable | None = None,
              orders: OrderTable | None = None,
              events: TicketEventTable | None = None) -> KpiPanel:
    """Every KPI of :data:`KPIS` per group, for the tickets opened in *period*.

    Args:
        tickets: the tickets; those opened in ``[period.start, period.end)`` count.
        period: the period, judged as of its end.
        by: a dimension of :data:`DIMENSIONS` or a tuple of them.
        policy: satisfied threshold, SLA targets and the working calendar
            (default :meth:`Policy.default`).
        callbacks: for ``callback_*`` KPIs (NaN without them). A callback counts for
            its assignee: ``substitute_for`` when a substitute made it, else ``agent_id``;
            other dimensions come from the ticket it is about (directly, or through
            its complaint), time dimensions from ``due_by``.
        complaints: for ``complaint_rate`` (attributed by ``agent_id``/``station_id``,
            else through ``ticket_id``; time dimensions from ``received_at``).
        orders: for the commercial KPIs (by ``agent_id``/``station_id``, else through
            ``consultation_ticket_id``; time dimensions from ``created_at``).
        events: the tickets' history; with it ``sla_first_response_rate``,
            ``sla_resolution_rate`` and ``sla_next_reply_rate`` come from the SLA clocks
            (``docs/clocks.md``) of the period's tickets, judged at the period end with
            the events before it: Σ credit shares of achieved instances / of achieved or
            breached ones. The ``agent`` dimension is the credited agent (the policy's
            attribution), the others come from the ticket. Without it the first two
            compare the ticket's timestamps with the targets and the third is NaN.

    Returns:
        The :class:`KpiPanel`; groups with no ticket appear when the other tables
        attribute records to them.

    Raises:
        InvalidChoiceError: an unknown dimension in *by*.
        TypeError: a table of the wrong type.

    .. versionadded:: 0.1
    """
    return _panel(tickets, period=period, by=by, policy=policy, callbacks=callbacks,
                  complaints=complaints, orders=orders, events=events, clocks=None)


def _panel(tickets: TicketTable, *, period: Period, by: str | Sequence[str],
           policy: Policy | None, callbacks: CallbackTable | None,
           complaints: ComplaintTable | None, orders: OrderTable | None,
           events: TicketEventTable | None, clocks: _Measured | None) -> KpiPanel:
    """:func:`kpi_panel`, with the SLA clocks of *events* given when already measured
    (:func:`_clocks_of`: they do not depend on the grouping)."""
    _check_table("tickets", tickets, TicketTable)
    for name, table, kind in (("callbacks", callbacks, CallbackTable),
                              ("complaints", complaints, ComplaintTable),
                              ("orders", orders, OrderTable),
                              ("events", events, TicketEventTable)):
        if table is not None:
            _check_table(name, table, kind)
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    dims_wanted = _normalise_by(by)
    policy = policy or _DEFAULT_POLICY
    start, end = int(period.start.timestamp()), int(period.end.timestamp())

    opened = tickets["opened_at"]
    ticket_days = _local_days(opened, period.tz) if any(
        d in _TIME_DIMS for d in dims_wanted) else None
    dims = [_make_dim(d, tickets, ticket_days) for d in dims_wanted]
    linked = _Linked(tickets, complaints)

    # Auxiliary rows in the period, with their codes in every dimension (this may
    # add keys, so it comes before the group space is fixed).
    aux: dict[str, tuple[list[NDArray[np.int64]], NDArray[np.bool_]]] = {}
    if callbacks is not None:
        aux["callbacks"] = _callback_codes(callbacks, dims, linked, period, start, end)
    if complaints is not None:
        aux["complaints"] = _complaint_codes(complaints, dims, linked, period, start, end)
    if orders is not None:
        aux["orders"] = _order_codes(orders, dims, linked, period, start, end)
    if events is not None:
        if clocks is None:
            clocks = _clocks_of(tickets, events, period=period, policy=policy)
        aux["clocks"] = (_clock_codes(clocks, dims),
                         np.ones(clocks.credit_agent.size, dtype=bool))

    sizes = [len(d.keys) for d in dims]
    n_groups = int(np.prod(sizes, dtype=np.int64))
    selected = (opened >= start) & (opened < end)
    codes = _combine_codes([d.codes for d in dims], sizes, selected)
    acc = _Acc(n_groups)
    _ticket_kpis(acc, tickets, codes, selected, policy, start, end)
    unattributed: dict[str, int] = {}
    aux_codes: dict[str, NDArray[np.int64]] = {}
    for name, (per_dim, in_period) in aux.items():
        combined = _combine_codes(per_dim, sizes, in_period)
        aux_codes[name] = combined
        if name != "clocks":  # every clock belongs to a ticket of the period
            orphan = in_period & np.any(np.stack([c < 0 for c in per_dim]), axis=0)
            unattributed[name] = int(orphan.sum())
    _clock_kpis(acc, clocks, aux_codes.get("clocks"))
    _callback_kpis(acc, callbacks, aux_codes.get("callbacks"), start, end)
    _complaint_kpis(acc, aux_codes.get("complaints"))
    _order_kpis(acc, tickets, orders, aux_codes.get("orders"), codes, selected, linked, end)

    present = acc.values["tickets"] > 0
    for name in ("callbacks", "complaints", "orders", "clocks"):
        if name in aux_codes:
            present |= group_count(aux_codes[name], n_groups) > 0
    groups = np.flatnonzero(present)
    keys = _decode_keys(groups, dims, sizes)
    order = sorted(range(len(keys)), key=lambda i: _sort_key(keys[i]))
    rows = groups[order]
    final_keys = tuple(keys[i] for i in order)
    names = [n for n in KPIS if n in acc.values]
    return KpiPanel(
        by=dims_wanted, keys=final_keys, period=period, policy=policy,
        values=_frozen({n: acc.values[n][rows] for n in names}),
        numerators=_frozen({n: acc.numerators[n][rows] for n in names}),
        denominators=_frozen({n: acc.denominators[n][rows] for n in names}),
        unattributed=FrozenDict(unattributed))


def _clocks_of(tickets: TicketTable, events: TicketEventTable, *, period: Period,
               policy: Policy) -> _Measured:
    """The SLA clocks of the period's tickets, judged at its end (every grouping's)."""
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    opened = tickets["opened_at"]
    return _measure(tickets, events, now=end, inclusive=False, policy=policy,
                    ticket_mask=(opened >= start) & (opened < end), report=False)


def _check_table(name: str, table: object, kind: type[Table]) -> None:
    if not isinstance(table, kind):
        raise TypeError(f"{name!r} must be a {kind.__name__} (got {type(table).__name__})")


def _make_dim(name: str, tickets: TicketTable, days: NDArray[np.int64] | None) -> _Dim:
    if name in _ID_COLUMN:
        return _id_dim(name, tickets, _ID_COLUMN[name])
    if name in _CHOICE:
        column, enum = _CHOICE[name]
        return _choice_dim(name, tickets, column, enum)
    if days is None:  # pragma: no cover - computed whenever a time dimension is asked
        raise SchemaError("local days are needed for a time dimension")
    return _time_dim(name, days)


def _combine_codes(per_dim: list[NDArray[np.int64]], sizes: list[int],
                   selected: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Mixed-radix group codes; -1 for rows not selected or not attributable."""
    combined = np.zeros(selected.shape, dtype=np.int64)
    bad = ~selected
    for codes, size in zip(per_dim, sizes, strict=True):
        bad |= codes < 0
        combined *= size
        combined += np.maximum(codes, 0)
    combined[bad] = -1
    return combined


def _decode_keys(groups: NDArray[np.intp], dims: list[_Dim], sizes: list[int]) -> list[Key]:
    parts = []
    rest = groups.astype(np.int64)
    for size in reversed(sizes):
        parts.append(rest % size)
        rest = rest // size
    parts.reverse()
    keys = []
    for j in range(len(groups)):
        key = tuple(dims[d].keys[int(parts[d][j])] for d in range(len(dims)))
        keys.append(key[0] if len(dims) == 1 else key)
    return keys


class _Linked:
    """Look-ups from other tables' ids to ticket rows (and complaints to their tickets).

    Built on first use only: a panel of tickets alone never pays for the id index.
    """

    def __init__(self, tickets: TicketTable, complaints: ComplaintTable | None) -> None:
        self._tickets = tickets
        self._complaints = complaints
        self._complaint_ticket: dict[str, int] | None = None

    def rows(self, labels: Sequence[str], codes: NDArray[Any]) -> NDArray[np.int64]:
        """Ticket rows of ids given as (labels, codes); -1 where unknown or missing."""
        wanted = self._tickets.codes_of("ticket_id", labels)
        code_to_row = np.full(len(self._tickets.labels("ticket_id")) + 1, -1, dtype=np.int64)
        code_to_row[self._tickets["ticket_id"]] = np.arange(len(self._tickets))
        table = np.append(code_to_row[np.where(wanted < 0, -1, wanted)], -1)
        return table[np.where(codes < 0, len(labels), codes)]

    @property
    def complaint_ticket(self) -> dict[str, int]:
        """Complaint id -> ticket row (-1 when the complaint names no known ticket)."""
        if self._complaint_ticket is None:
            self._complaint_ticket = {}
            complaints = self._complaints
            if complaints is not None and len(complaints):
                ids = complaints.decode("complaint_id")
                linked = self.rows(complaints.labels("ticket_id"), complaints["ticket_id"])
                self._complaint_ticket = {str(i): int(r)
                                          for i, r in zip(ids, linked, strict=True)}
        return self._complaint_ticket


def _via_ticket(dim: _Dim, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    if dim.codes.size == 0:  # no tickets at all: nothing to link through
        return np.full(rows.shape, -1, dtype=np.int64)
    return np.where(rows >= 0, dim.codes[np.maximum(rows, 0)], -1)


def _aux_dim_codes(dim: _Dim, table: Table, rows: NDArray[np.int64],
                   own: Mapping[str, str], moment: NDArray[np.int64],
                   period: Period) -> NDArray[np.int64]:
    """A dimension's codes for an auxiliary table: its own column, its time, or its ticket."""
    if dim.name in _TIME_DIMS:
        return _time_dim_codes(dim, _local_days(moment, period.tz))
    column = own.get(dim.name)
    if column is not None:
        mapped = dim.map_labels(table.labels(column), table[column])
        missing = table[column] < 0
        return np.where(missing, _via_ticket(dim, rows), mapped)
    return _via_ticket(dim, rows)


def _callback_codes(callbacks: CallbackTable, dims: list[_Dim], linked: _Linked,
                    period: Period, start: int, end: int
                    ) -> tuple[list[NDArray[np.int64]], NDArray[np.bool_]]:
    due_by = callbacks["due_by"]
    in_period = (due_by >= start) & (due_by < end)
    subject = callbacks["subject"]
    subject_ids = callbacks.labels("subject_id")
    ticket_code = list(CallbackSubject).index(CallbackSubject.TICKET)
    complaint_code = list(CallbackSubject).index(CallbackSubject.COMPLAINT)
    per_label = linked.rows(subject_ids, np.arange(len(subject_ids)))
    via_complaint = np.array([linked.complaint_ticket.get(label, -1) for label in subject_ids]
                             + [-1], dtype=np.int64)
    codes = callbacks["subject_id"]
    safe = np.where(codes < 0, len(subject_ids), codes)
    rows = np.where(subject == ticket_code, np.append(per_label, -1)[safe],
                    np.where(subject == complaint_code, via_complaint[safe], -1))
    # The assignee of record: the absent agent a substitute stood in for, else the agent.
    assignee = callbacks["substitute_for"]
    agent_labels = callbacks.labels("substitute_for")
    out = []
    for dim in dims:
        if dim.name == "agent":
            own = dim.map_labels(agent_labels, assignee)
            fallback = dim.map_labels(callbacks.labels("agent_id"), callbacks["agent_id"])
            mapped = np.where(assignee >= 0, own, fallback)
            no_agent = (assignee < 0) & (callbacks["agent_id"] < 0)
            out.append(np.where(no_agent, _via_ticket(dim, rows), mapped))
        else:
            out.append(_aux_dim_codes(dim, callbacks, rows, {}, due_by, period))
    return out, in_period


def _complaint_codes(complaints: ComplaintTable, dims: list[_Dim], linked: _Linked,
                     period: Period, start: int, end: int
                     ) -> tuple[list[NDArray[np.int64]], NDArray[np.bool_]]:
    received = complaints["received_at"]
    in_period = (received >= start) & (received < end)
    rows = linked.rows(complaints.labels("ticket_id"), complaints["ticket_id"])
    own = {"agent": "agent_id", "station": "station_id"}
    return [_aux_dim_codes(d, complaints, rows, own, received, period) for d in dims], \
        in_period


def _order_codes(orders: OrderTable, dims: list[_Dim], linked: _Linked, period: Period,
                 start: int, end: int) -> tuple[list[NDArray[np.int64]], NDArray[np.bool_]]:
    created = orders["created_at"]
    in_period = (created >= start) & (created < end)
    rows = linked.rows(orders.labels("consultation_ticket_id"),
                       orders["consultation_ticket_id"])
    own = {"agent": "agent_id", "station": "station_id"}
    return [_aux_dim_codes(d, orders, rows, own, created, period) for d in dims], in_period


# --------------------------------------------------------------------------- KPIs


def _ticket_kpis(acc: _Acc, tickets: TicketTable, codes: NDArray[np.int64],
                 selected: NDArray[np.bool_], policy: Policy, start: int, end: int) -> None:
    """The ticket KPIs, with as few passes over the rows as the kernel allows.

    On ten million rows each full-length temporary costs a page-faulting allocation, so
    the rows are narrowed to the period once, boolean facts are counted together
    (:func:`group_counts`), and each duration column is sorted once for its count, exact
    sum, median and p90 (:func:`group_summaries`).
    """
    n = acc.n_groups
    whole = bool(selected.all())

    def col(name: str) -> NDArray[Any]:
        array = tickets[name]
        return array if whole else array[selected]

    c = codes if whole else codes[selected]
    opened, first, resolved_at = col("opened_at"), col("first_response_at"), col("resolved_at")
    answered = (first != MISSING) & (first < end)
    resolved = (resolved_at != MISSING) & (resolved_at < end)
    service_type = col("service_type")
    repair = service_type == list(ServiceType).index(ServiceType.REPAIR)
    claims = resolved & (service_type == list(ServiceType).index(ServiceType.WARRANTY_CLAIM))
    priority = col("priority")
    repaired = resolved & repair

    # Durations: rows outside a column's mask hold garbage the kernel never reads.
    w_opened, w_first, w_resolved, w_end = policy.calendar.working_clocks(
        opened, first, resolved_at, np.array([end], dtype=np.int64))
    first_s = first - opened
    first_w = w_first - w_opened
    resolution_s = resolved_at - opened
    resolution_w = w_resolved - w_opened
    columns = (("first_response", "", first_s, answered),
               ("first_response", "_work", first_w, answered),
               ("resolution", "", resolution_s, resolved),
               ("resolution", "_work", resolution_w, resolved),
               ("repair_duration", "", resolution_s, repaired),
               ("repair_duration", "_work", resolution_w, repaired))
    # The sorts release the GIL: run them beside the counting below, not before it.
    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(group_summaries, c, [(v, m) for _, _, v, m in columns], n,
                          _QUANTILES)
    try:
        _ticket_counts(acc, c, col, first_w, resolution_w, w_opened, int(w_end[0]), answered,
                       resolved, repaired, claims, priority, policy)
        summaries = pending.result()
    finally:
        pool.shutdown(wait=True)
    for (base, infix, _, _), summary in zip(columns, summaries, strict=True):
        name = f"{base}{infix}_seconds"
        count = summary.n.astype(np.float64)
        acc.ratio(f"{name}_mean", summary.total, count)
        acc.quantile(f"{name}_median", summary.quantiles[:, 0], count)
        acc.quantile(f"{name}_p90", summary.quantiles[:, 1], count)


def _ticket_counts(acc: _Acc, c: NDArray[np.int64], col: Callable[[str], NDArray[Any]],
                   first_w: NDArray[np.int64], resolution_w: NDArray[np.int64],
                   w_opened: NDArray[np.int64], w_end: int, answered: NDArray[np.bool_],
                   resolved: NDArray[np.bool_], repaired: NDArray[np.bool_],
                   claims: NDArray[np.bool_], priority: NDArray[np.int8],
                   policy: Policy) -> None:
    """Counts, rates, sums and SLA attainment of the tickets (everything but sorting)."""
    n = acc.n_groups
    complex_solved = resolved & (priority >= list(Priority).index(Priority.HIGH))
    rework = col("rework")
    reopened = col("reopen_count") > 0
    satisfaction = col("satisfaction")
    rated = ~np.isnan(satisfaction)
    with np.errstate(invalid="ignore"):
        satisfied = satisfaction >= policy.satisfied_threshold
    elapsed = w_end - w_opened
    sla = []
    for table, done, worked in ((policy.sla.first_response, answered, first_w),
                                (policy.sla.resolution, resolved, resolution_w)):
        # Whole seconds compare exactly: worked <= t  <=>  worked <= floor(t).
        target = np.array([math.floor(table[p]) for p in Priority], dtype=np.int64)[priority]
        within = done & (worked <= target)
        judged = done | (elapsed > target)
        sla.append((within, judged))

    facts = {
        "tickets": np.ones(c.shape, dtype=bool), "resolved": resolved,
        "complex_solved": complex_solved, "fcr": resolved & col("first_contact_resolved"),
        "repaired": repaired, "rework": repaired & rework,
        "repair_success": repaired & ~rework & ~reopened, "reopened": resolved & reopened,
        "claims": claims, "claims_approved": claims & col("claim_approved"),
        "rated": rated, "satisfied": rated & satisfied,
        "sla_fr_hit": sla[0][0], "sla_fr_judged": sla[0][1],
        "sla_res_hit": sla[1][0], "sla_res_judged": sla[1][1],
    }
    counted = dict(zip(facts, group_counts(c, list(facts.values()), n).astype(np.float64),
                       strict=True))
    total = counted["tickets"]
    for name in ("tickets", "resolved", "complex_solved"):
        acc.values[name] = counted[name]
        acc.numerators[name] = counted[name]
        acc.denominators[name] = total
    acc.ratio("fcr_rate", counted["fcr"], counted["resolved"])
    acc.ratio("rework_rate", counted["rework"], counted["repaired"])
    acc.ratio("repair_success_rate", counted["repair_success"], counted["repaired"])
    acc.ratio("warranty_claim_approval_rate", counted["claims_approved"], counted["claims"])
    acc.ratio("reopen_rate", counted["reopened"], counted["resolved"])
    acc.ratio("csat_mean", group_sum(c, satisfaction, n, rated), counted["rated"])
    acc.ratio("csi_rate", counted["satisfied"], counted["rated"])
    answers = group_sum(c, col("answers"), n)
    acc.ratio("answer_accuracy_rate", answers - group_sum(c, col("answer_errors"), n), answers)
    acc.ratio("sla_first_response_rate", counted["sla_fr_hit"], counted["sla_fr_judged"])
    acc.ratio("sla_resolution_rate", counted["sla_res_hit"], counted["sla_res_judged"])

    for name, column in (("labour_cost_per_ticket", "labour_cost"),
                         ("parts_cost_per_ticket", "parts_cost"),
                         ("revenue_per_ticket", "revenue")):
        amounts = col(column)
        recorded = ~np.isnan(amounts)
        cents = group_sum(c[recorded], _cents(amounts[recorded]), n)
        acc.ratio(name, cents / 100.0, group_count(c, n, recorded).astype(np.float64))


def _clock_codes(clocks: _Measured, dims: list[_Dim]) -> list[NDArray[np.int64]]:
    """Each clock credit's code in every dimension: the credited agent for ``agent``,
    the ticket's own value for the others (time dimensions: its opening day)."""
    rows = clocks.ticket_row if clocks.single else clocks.ticket_row[clocks.credit_row]
    out = []
    for dim in dims:
        if dim.name == "agent":
            out.append(dim.map_labels(clocks.agent_labels, clocks.credit_agent))
        else:
            out.append(_via_ticket(dim, rows))
    return out


def _clock_kpis(acc: _Acc, clocks: _Measured | None, codes: NDArray[np.int64] | None) -> None:
    """``sla_*`` from the clocks when events were given (they replace the timestamp
    versions); ``sla_next_reply_rate`` is NaN without them."""
    n = acc.n_groups
    if clocks is None or codes is None:
        zero = np.zeros(n)
        acc.ratio("sla_next_reply_rate", zero, zero)
        return
    status, clock = (clocks.status, clocks.clock) if clocks.single else (
        clocks.status[clocks.credit_row], clocks.clock[clocks.credit_row])
    achieved = status == list(ClockStatus).index(ClockStatus.ACHIEVED)
    judged = achieved | (status == list(ClockStatus).index(ClockStatus.BREACHED))
    share = clocks.credit_share
    for name, kpi in (("first_response", "sla_first_response_rate"),
                      ("next_reply", "sla_next_reply_rate"),
                      ("resolution", "sla_resolution_rate")):
        mine = clock == CLOCK_NAMES.index(name)
        acc.ratio(kpi, group_sum(codes, share, n, mine & achieved),
                  group_sum(codes, share, n, mine & judged))


def _callback_kpis(acc: _Acc, callbacks: CallbackTable | None,
                   codes: NDArray[np.int64] | None, start: int, end: int) -> None:
    if callbacks is None or codes is None:
        nan = np.full(acc.n_groups, np.nan)
        zero = np.zeros(acc.n_groups)
        for name in ("callback_completion_rate", "callback_on_time_rate"):
            acc.ratio(name, nan, zero)
        return
    due = codes >= 0
    done_at = callbacks["done_at"]
    done = (done_at != MISSING) & (done_at < end)
    on_time = done & (done_at >= callbacks["due_from"]) & (done_at <= callbacks["due_by"])
    acc.rate("callback_completion_rate", codes, done, due)
    acc.rate("callback_on_time_rate", codes, on_time, due)


def _complaint_kpis(acc: _Acc, codes: NDArray[np.int64] | None) -> None:
    tickets = acc.values["tickets"]
    if codes is None:
        acc.ratio("complaint_rate", np.full(acc.n_groups, np.nan), np.zeros(acc.n_groups))
        return
    acc.ratio("complaint_rate", group_count(codes, acc.n_groups).astype(np.float64), tickets)


def _order_kpis(acc: _Acc, tickets: TicketTable, orders: OrderTable | None,
                codes: NDArray[np.int64] | None, ticket_codes: NDArray[np.int64],
                selected: NDArray[np.bool_], linked: _Linked, end: int) -> None:
    n = acc.n_groups
    names = ("order_amount_sum", "average_order_value", "conversion_rate",
             "valid_order_rate", "payment_rate", "refund_rate")
    if orders is None or codes is None:
        for name in names:
            acc.ratio(name, np.full(n, np.nan), np.zeros(n))
        return
    counted = codes >= 0
    count = group_count(codes, n).astype(np.float64)
    amount = group_sum(codes, _cents(orders["amount"]), n, counted) / 100.0
    paid = group_sum(codes, _cents(orders["paid"]), n, counted) / 100.0
    refunded = group_sum(codes, _cents(orders["refunded"]), n, counted) / 100.0
    acc.values["order_amount_sum"] = amount
    acc.numerators["order_amount_sum"] = amount
    acc.denominators["order_amount_sum"] = count
    acc.ratio("average_order_value", amount, count)
    acc.rate("valid_order_rate", codes, orders["valid"], counted)
    acc.ratio("payment_rate", paid, amount)
    acc.ratio("refund_rate", refunded, paid)
    # Conversion: consultation tickets of the period with an order created by its end.
    rows = linked.rows(orders.labels("consultation_ticket_id"), orders["consultation_ticket_id"])
    made = (rows >= 0) & (orders["created_at"] < end)
    converted = np.zeros(len(tickets), dtype=bool)
    converted[rows[made]] = True
    consultation = selected & (tickets["service_type"] ==
                               list(ServiceType).index(ServiceType.CONSULTATION))
    acc.rate("conversion_rate", ticket_codes, converted, consultation)
