"""A month's (or any span's) records together: the input of an evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, final

T = TypeVar("T")

import attrs

from servicekpi.domain import Appraisal, Period, Station, Team, Training
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    TicketEventTable,
    TicketTable,
)

__all__ = ("Dataset",)


def _empty(table: Any) -> Any:
    return lambda: table.from_columns({c.name: [] for c in table.SCHEMA.columns
                                       if c.required})[0]


def _teams(value: Iterable[Team]) -> tuple[Team, ...]:
    return _all_of(Team, "teams", value)


def _stations(value: Iterable[Station]) -> tuple[Station, ...]:
    return _all_of(Station, "stations", value)


def _appraisals(value: Iterable[Appraisal]) -> tuple[Appraisal, ...]:
    return _all_of(Appraisal, "appraisals", value)


def _trainings(value: Iterable[Training]) -> tuple[Training, ...]:
    return _all_of(Training, "trainings", value)


def _all_of(kind: type[T], name: str, value: Iterable[T]) -> tuple[T, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise TypeError(f"{name!r} must hold {kind.__name__} objects (got {item!r})")
    return items


@final
@attrs.frozen(kw_only=True, eq=False)
class Dataset:
    """The records of a service organisation, as validated tables.

    Only ``tickets`` is required; every other table defaults to empty, but ``events``
    (the tickets' history) defaults to ``None``: with it the ``sla_*`` KPIs come from the
    SLA clocks (``docs/clocks.md``), without it from the ticket timestamps. ``appraisals``
    (the appraisal tracks' inputs, one per agent and period) and ``trainings`` (for
    the team's yearly training targets) are small, so they are plain records. ``period`` is
    the period the data was collected for, if known (the synthetic month sets it).

    >>> from servicekpi import synth
    >>> data = synth.month(seed=1, tickets=500, agents=8, stations=1)
    >>> print(data.summary())
    dataset for 2026-10 (Asia/Shanghai)
      agents        8 rows
      teams         1
      stations      1
      customers   125 rows
      tickets     500 rows
      complaints    8 rows
      callbacks   268 rows
      ratings      45 rows
      orders       39 rows
      appraisals    8
      trainings    12

    .. versionadded:: 0.1
    """

    tickets: TicketTable = attrs.field(validator=attrs.validators.instance_of(TicketTable))
    agents: AgentTable = attrs.field(factory=_empty(AgentTable),
                                     validator=attrs.validators.instance_of(AgentTable))
    teams: tuple[Team, ...] = attrs.field(default=(), converter=_teams)
    stations: tuple[Station, ...] = attrs.field(default=(), converter=_stations)
    customers: CustomerTable = attrs.field(factory=_empty(CustomerTable),
                                           validator=attrs.validators.instance_of(
                                               CustomerTable))
    complaints: ComplaintTable = attrs.field(factory=_empty(ComplaintTable),
                                             validator=attrs.validators.instance_of(
                                                 ComplaintTable))
    callbacks: CallbackTable = attrs.field(factory=_empty(CallbackTable),
                                           validator=attrs.validators.instance_of(
                                               CallbackTable))
    ratings: RatingTable = attrs.field(factory=_empty(RatingTable),
                                       validator=attrs.validators.instance_of(RatingTable))
    orders: OrderTable = attrs.field(factory=_empty(OrderTable),
                                     validator=attrs.validators.instance_of(OrderTable))
    appraisals: tuple[Appraisal, ...] = attrs.field(default=(), converter=_appraisals)
    trainings: tuple[Training, ...] = attrs.field(default=(), converter=_trainings)
    period: Period | None = None
    events: TicketEventTable | None = attrs.field(
        default=None, validator=attrs.validators.optional(
            attrs.validators.instance_of(TicketEventTable)))

    def summary(self) -> str:
        """A few lines naming each table and its size."""
        head = f"dataset for {self.period}" if self.period else "dataset"
        rows = [head]
        for name in ("agents", "teams", "stations", "customers", "tickets", "complaints",
                     "callbacks", "ratings", "orders", "appraisals", "trainings"):
            value = getattr(self, name)
            size = f"{len(value):>5} rows" if hasattr(value, "SCHEMA") else f"{len(value):>5}"
            rows.append(f"  {name:<10}{size}")
        if self.events is not None:
            rows.append(f"  {'events':<10}{len(self.events):>5} rows")
        return "\n".join(rows)
