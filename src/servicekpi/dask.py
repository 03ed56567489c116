"""The KPI panel and the monthly evaluation of data too big for one machine, on Dask —
exactly equal to the in-memory results.

Needs the ``dask`` extra (``pip install 'servicekpi[dask]'``) and the ``frames`` extra
(pandas, narwhals) that reads each partition.

The design (``docs/scaling.md``): shuffle the tickets by the group key so that every
partition holds whole groups, run the in-memory kernel (:func:`servicekpi.kpi_panel`)
on each partition, and stack the partial panels. Because no group is split, every KPI
— exact medians and p90 included — equals the single-machine result to the bit; the
partial panels are small (groups × KPIs), so only they travel back to the client.
:func:`evaluate` adds a pass over partitions of whole customers for the follow-up plan,
complaint escalation, loyalty and the counts behind the team targets, merged exactly.

>>> import dask.dataframe as dd, pandas as pd
>>> import servicekpi as sk
>>> from servicekpi import dask as skd
>>> data = sk.synth.month(seed=3, tickets=2_000, agents=12, stations=2)
>>> frame = pd.DataFrame(data.tickets.to_columns())
>>> panel, reports = skd.kpi_panel(dd.from_pandas(frame, npartitions=4),
...                                period=data.period, by="team")
>>> reports["tickets"].rows_in, reports["tickets"].rows_rejected
(2000, 0)
>>> whole = sk.kpi_panel(data.tickets, period=data.period, by="team")
>>> import numpy as np
>>> panel.keys == whole.keys and all(
...     np.array_equal(panel[name], whole[name], equal_nan=True) for name in whole.names)
True

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs

import numpy as np
from numpy.typing import NDArray

from servicekpi._frozen import FrozenDict
from servicekpi.dataset import Dataset, _empty
from servicekpi.domain import Appraisal, CallbackSubject, Period, Training
from servicekpi.evaluation import MonthlyEvaluation, _arguments
from servicekpi.exceptions import InvalidChoiceError, MissingExtraError, SchemaError
from servicekpi.metrics import KpiPanel, _normalise_by
from servicekpi.metrics import kpi_panel as _kpi_panel
from servicekpi.policy import Policy
from servicekpi.rules.analysis import _analysed, _merge_analyses, _Partial, _volumes
from servicekpi.rules.followup import Reconciliation, _merge_plans, plan_followups, reconcile
from servicekpi.scoring import Scorecard, consequences
from servicekpi.scoring.scorecard import NO_ROSTER, _score, _TicketMix
from servicekpi.scoring.team import LoyaltyTable, _team_report, _TicketFacts, loyalty_classes
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    Table,
    TicketEventTable,
    TicketTable,
    ValidationIssue,
    ValidationReport,
    _id_text,
)

try:
    import dask
    import dask.dataframe as dd
    import pandas as pd
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise MissingExtraError(
        "servicekpi.dask needs the 'dask' and 'frames' extras: "
        "pip install 'servicekpi[dask,frames]'") from error

__all__ = ("evaluate", "kpi_panel")

T = TypeVar("T", bound=Table)

# The ticket column each non-time dimension groups by.
_COLUMN: Final = {"agent": "agent_id", "team": "team_id", "station": "station_id",
                  "service_type": "service_type", "channel": "channel",
                  "customer_tier": "customer_tier"}
_ROW: Final = "__servicekpi_row__"
_KEY: Final = "__servicekpi_key__"


def kpi_panel(tickets: Any, *, period: Period, by: str | Sequence[str] = "agent",
              policy: Policy | None = None, default_tz: str | None = None,
              events: Any = None, callbacks: Any = None, complaints: Any = None,
              orders: Any = None, whole_groups: bool = False
              ) -> tuple[KpiPanel, dict[str, ValidationReport]]:
    """:func:`servicekpi.kpi_panel` of a Dask dataframe of tickets, and its validation.

    Args:
        tickets: a ``dask.dataframe.DataFrame`` with the ticket columns
            (``docs/tables.md#tickets``), read from Parquet or CSV partitions.
        period, by, policy: as :func:`servicekpi.kpi_panel`.
        default_tz: the zone of timestamps given without an offset, as in
            :meth:`TicketTable.from_columns`.
        events: a Dask dataframe of ticket events (``docs/tables.md#ticket-events``);
            each event travels with its ticket, so the ``sla_*`` KPIs come from the SLA
            clocks exactly as in memory.
        callbacks, complaints, orders: Dask dataframes of those tables, for the
            ``callback_*``, ``complaint_rate`` and commercial KPIs. Each row travels to
            the partition of the ticket it is linked to — a callback through its
            ticket or its complaint's ticket, a complaint through ``ticket_id``, an
            order through ``consultation_ticket_id`` — so it is attributed there as in
            memory; rows linked to no ticket are attributed by their own columns.
        whole_groups: the partitions already hold whole groups — a history stored one
            month (or one station) per file, read one partition per file, grouped by a
            dimension that includes it. Nothing is shuffled then: each partition is one
            in-memory panel. A group found in two partitions after all is refused (its
            quantiles would be wrong), with :class:`InvalidChoiceError`. The other
            tables need a shuffle to meet their tickets, so they are refused with it
            (when there is more than one partition).

    Returns:
        The panel — equal, group for group and KPI for KPI, to the in-memory one — and
        the validation report of each input (``"tickets"``, and ``"ticket_events"``,
        ``"callbacks"``, ``"complaints"``, ``"orders"`` for those given) over all its
        partitions: ``rows_in`` is the whole input, issue rows are positions in it
        (partition by partition, in order). An id seen on an earlier row is rejected as
        in memory (``unique``), whichever partitions the two rows are in.

    Raises:
        TypeError: *tickets* (or another table) is not a Dask dataframe.
        InvalidChoiceError: an unknown dimension in *by*; other tables with
            ``whole_groups=True``.
        SchemaError: missing or unknown columns.
    """
    given = {"tickets": tickets, "events": events, "callbacks": callbacks,
             "complaints": complaints, "orders": orders}
    _check_frames(given)
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    dims = _normalise_by(by)
    policy = policy or Policy.default()
    inputs = _numbered({name: frame for name, frame in given.items() if frame is not None})
    return _panel_pass(inputs, period=period, dims=dims, policy=policy,
                       default_tz=default_tz, whole_groups=whole_groups)


def evaluate(tickets: Any, *, period: Period, agents: AgentTable, customers: Any = None,
             callbacks: Any = None, complaints: Any = None, orders: Any = None,
             events: Any = None, ratings: RatingTable | None = None,
             appraisals: Iterable[Appraisal] = (), trainings: Iterable[Training] = (),
             policy: Policy | None = None,
             history: Iterable[MonthlyEvaluation | Scorecard] = (),
             now: datetime | None = None, default_tz: str | None = None
             ) -> tuple[MonthlyEvaluation, dict[str, ValidationReport]]:
    """:func:`servicekpi.evaluate` of Dask dataframes, equal to the in-memory evaluation.

    The large tables are Dask dataframes (read from Parquet or CSV partitions); the
    small ones — the roster, the ratings, appraisals and trainings — are in memory, as
    in :class:`~servicekpi.Dataset`. Two kinds of pass run on the cluster:

    - the KPI panels by agent and by team: :func:`kpi_panel`, tickets shuffled by the
      group key, every other table sent to its ticket's partition;
    - everything about customers, on partitions that each hold whole customers
      (tickets, customers and complaints by customer id, a callback with the ticket,
      complaint or customer it is about): the follow-up plan and its reconciliation,
      complaint escalation, loyalty classes, and the counts behind the team targets
      and the scorecard's ticket mix. Their partial results are merged on the client
      exactly (sums, and rows put back in the single-machine order).

    The scorecard, consequences and team report are computed on the client from the
    merged panel and counts.

    Args:
        tickets: the tickets (a ``dask.dataframe.DataFrame``).
        period, policy, history, now: as :func:`servicekpi.evaluate`.
        agents: the roster (:class:`~servicekpi.AgentTable`).
        customers, callbacks, complaints, orders, events: Dask dataframes of those
            tables (``docs/tables.md``); missing ones count as empty tables (``events``:
            as no event history), as in :class:`~servicekpi.Dataset`.
        ratings, appraisals, trainings: in memory, as in :class:`~servicekpi.Dataset`.
        default_tz: the zone of timestamps without an offset, as in
            :meth:`TicketTable.from_columns`.

    Returns:
        The :class:`~servicekpi.MonthlyEvaluation` — equal, part for part, to
        ``servicekpi.evaluate`` of a :class:`~servicekpi.Dataset` of the same rows
        (the follow-up plan holds the same contacts in the same order; its internal
        label codes may differ) — and the validation report of each input over all its
        partitions, issue rows being positions in the input.

    Raises:
        TypeError: a table of the wrong type, or as :func:`servicekpi.evaluate`.
        SchemaError: an empty roster; missing or unknown columns.
        NaiveDatetimeError, InvalidRecordError: as :func:`servicekpi.evaluate`.

    .. versionadded:: 0.1
    """
    frames = {"tickets": tickets, "customers": customers, "callbacks": callbacks,
              "complaints": complaints, "orders": orders, "events": events}
    _check_frames(frames)
    policy, when, cards = _arguments(period, policy, now, history)
    if not isinstance(agents, AgentTable):
        raise TypeError(f"'agents' must be an AgentTable (got {type(agents).__name__})")
    if not len(agents):
        raise SchemaError(NO_ROSTER)
    small = Dataset(tickets=_empty(TicketTable)(), agents=agents,
                    ratings=_empty(RatingTable)() if ratings is None else ratings,
                    appraisals=appraisals, trainings=trainings)
    for name in ("customers", "callbacks", "complaints", "orders"):
        if frames[name] is None:  # a Dataset holds an empty table there
            frames[name] = dd.from_pandas(_empty_frame(_TABLES[name]), npartitions=1)
    inputs = _numbered({name: frame for name, frame in frames.items() if frame is not None})
    panel, reports = _panel_pass(inputs, period=period, dims=("agent",), policy=policy,
                                 default_tz=default_tz)
    team_panel, _ = _panel_pass(inputs, period=period, dims=("team",), policy=policy,
                                default_tz=default_tz)
    parts = _customer_pass(inputs, period=period, policy=policy, now=when, agents=agents,
                           default_tz=default_tz)
    reports["customers"] = _report("customers", inputs["customers"][1],
                                   [part.reports["customers"] for part in parts])
    to_table = {name: _TableRows(reports[_TABLES[name].SCHEMA.name]) for name in
                ("tickets", "customers", "callbacks", "complaints")}

    mix = functools.reduce(operator.add, (part.mix for part in parts))
    mix = attrs.evolve(mix, first=FrozenDict({
        agent: (to_table["tickets"](np.array([row]))[0].item(), ticket)
        for agent, (row, ticket) in mix.first.items()}))
    scorecard = _score(small, period=period, policy=policy, panel=panel, mix=mix)
    volumes: dict[str, float] = {}
    for part in parts:
        for station, count in part.volumes.items():
            volumes[station] = volumes.get(station, 0.0) + count
    analysis = _merge_analyses(
        [(part.analysis, to_table["complaints"](part.rows["complaints"]),
          to_table["callbacks"](part.rows["callbacks"])) for part in parts],
        volumes=volumes)
    plan, order = _merge_plans([(part.reconciliation.plan, part.callbacks,
                                 to_table["callbacks"](part.rows["callbacks"]))
                                for part in parts])
    reconciliation = Reconciliation(
        plan=plan, as_of=parts[0].reconciliation.as_of,
        status_codes=np.concatenate([p.reconciliation.status_codes for p in parts])[order])
    return MonthlyEvaluation(
        period=period, now=when, policy=policy, panel=panel, team_panel=team_panel,
        scorecard=scorecard,
        consequences=consequences(scorecard, report_date=when, policy=policy, history=cards),
        complaints=analysis, followups=plan, reconciliation=reconciliation,
        team=_team_report(functools.reduce(operator.add, (p.facts for p in parts)),
                          small.trainings, period, policy),
        loyalty=_merged_loyalty(parts, to_table, period, policy)), reports


@attrs.frozen
class _CustomerPart:
    """What one partition of whole customers gives the evaluation."""

    reports: dict[str, ValidationReport]
    rows: dict[str, NDArray[np.int64]]  # input position of each table row
    callbacks: CallbackTable
    mix: _TicketMix
    facts: _TicketFacts
    volumes: dict[str, float]
    analysis: _Partial
    reconciliation: Reconciliation
    loyalty: LoyaltyTable


class _TableRows:
    """Input positions -> positions in the table of the valid rows (the in-memory
    table's rows), from the input's validation report."""

    def __init__(self, report: ValidationReport) -> None:
        self._rejected = np.unique(np.fromiter((i.row for i in report.issues), np.int64))

    def __call__(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return rows - np.searchsorted(self._rejected, rows)


def _customer_pass(inputs: _Numbered, *, period: Period, policy: Policy, now: datetime,
                   agents: AgentTable, default_tz: str | None) -> list[_CustomerPart]:
    """The customer-local steps on partitions that each hold whole customers."""
    tickets, _, duplicates = inputs["tickets"]
    n = tickets.npartitions
    keyed = {name: inputs[name][0].map_partitions(_customer_key, meta=_meta(
        inputs[name][0], _KEY, object)) for name in ("tickets", "customers", "complaints")}
    links = dd.concat([
        keyed["tickets"][["ticket_id", _ROW, _KEY]].map_partitions(
            _links_of, "ticket_id", "t:", set(duplicates),
            meta={_LINK: "object", _KEY: "object"}),
        keyed["complaints"][["complaint_id", _ROW, _KEY]].map_partitions(
            _links_of, "complaint_id", "c:", set(inputs["complaints"][2]),
            meta={_LINK: "object", _KEY: "object"})])
    callbacks = inputs["callbacks"][0]
    meta = _meta(callbacks, _LINK, object)
    meta[_DIRECT] = np.array([], dtype=object)
    linked = callbacks.map_partitions(_callback_links, True, meta=meta)
    joined = linked.merge(links, on=_LINK, how="left")
    keyed["callbacks"] = joined.assign(**{_KEY: joined[_DIRECT].where(
        joined[_DIRECT] != "", joined[_KEY].fillna(""))}).drop(columns=[_LINK, _DIRECT])
    delayed = {name: list((frame.shuffle(on=_KEY, npartitions=n) if n > 1
                           else frame.repartition(npartitions=1)).to_delayed())
               for name, frame in keyed.items()}
    later = {name: inputs[name][2] for name in keyed}
    parts = [dask.delayed(_customer_part)({name: frames[i] for name, frames in delayed.items()},
                                          later, period, policy, now, agents, default_tz)
             for i in range(n)]
    return list(dask.compute(*parts))


def _customer_key(part: Any) -> Any:
    out = part.copy()
    out[_KEY] = _ids(part["customer_id"]) if "customer_id" in part.columns \
        else pd.Series([""] * len(part), index=part.index, dtype=object)
    return out


def _customer_part(frames: dict[str, Any], later: dict[str, dict[int, str]], period: Period,
                   policy: Policy, now: datetime, agents: AgentTable, default_tz: str | None
                   ) -> _CustomerPart:
    tables: dict[str, Any] = {}
    reports: dict[str, ValidationReport] = {}
    rows: dict[str, NDArray[np.int64]] = {}
    for name, frame in frames.items():
        tables[name], reports[name], rows[name] = _validated(
            _TABLES[name], frame, later[name], default_tz)
    tickets, customers, callbacks = tables["tickets"], tables["customers"], tables["callbacks"]
    plan = plan_followups(tickets, customers, now=now, policy=policy, callbacks=callbacks,
                          agents=agents)
    return _CustomerPart(
        reports=reports, rows=rows, callbacks=callbacks,
        mix=_TicketMix.of(tickets, period, rows["tickets"]),
        facts=_TicketFacts.of(tickets, period, policy),
        volumes=_volumes(tickets, period),
        analysis=_analysed(tables["complaints"], callbacks, period=period, policy=policy,
                           volume=None, special_period=None, now=now),
        reconciliation=reconcile(plan, callbacks, as_of=now),
        loyalty=loyalty_classes(tickets, customers, period=period, policy=policy))


def _merged_loyalty(parts: list[_CustomerPart], to_table: dict[str, _TableRows],
                    period: Period, policy: Policy) -> LoyaltyTable:
    """The parts' loyalty tables as one, in the customers table's row order."""
    order = np.argsort(np.concatenate([part.rows["customers"] for part in parts]),
                       kind="stable")
    ids = [cid for part in parts for cid in part.loyalty.customer_ids]
    issues = sorted((attrs.evolve(issue, row=int(to_table["tickets"](
        np.array([part.rows["tickets"][issue.row]]))[0]))
        for part in parts for issue in part.loyalty.report.issues),
        key=lambda issue: issue.row)
    rows_in = sum(part.loyalty.report.rows_in for part in parts)
    rows_valid = sum(part.loyalty.report.rows_valid for part in parts)

    def joined(name: str) -> NDArray[Any]:
        return np.concatenate([getattr(part.loyalty, name) for part in parts])[order]

    return LoyaltyTable(period=period, rule=policy.loyalty,
                        customer_ids=tuple(ids[i] for i in order.tolist()),
                        visits=joined("visits"), classes=joined("classes"),
                        previous=joined("previous"),
                        report=ValidationReport(table="tickets", rows_in=rows_in,
                                                rows_valid=rows_valid, issues=tuple(issues)))


def _empty_frame(kind: type[Table]) -> Any:
    return pd.DataFrame({c.name: pd.Series([], dtype=object) for c in kind.SCHEMA.columns
                         if c.required})


def _check_frames(given: dict[str, Any]) -> None:
    for name, frame in given.items():
        if frame is not None and not isinstance(frame, dd.DataFrame):
            raise TypeError(f"{name!r} must be a dask DataFrame (got {type(frame).__name__})")
        if frame is not None and set(frame.columns) & _RESERVED:
            raise InvalidChoiceError(f"column names {_ROW!r} and {_KEY!r} are reserved")


_Numbered = dict[str, tuple[Any, int, dict[int, str]]]


def _panel_pass(inputs: _Numbered, *, period: Period, dims: tuple[str, ...], policy: Policy,
                default_tz: str | None, whole_groups: bool = False
                ) -> tuple[KpiPanel, dict[str, ValidationReport]]:
    """The panel of numbered inputs (tickets and the tables of the panel), and reports."""
    aux = {name: value for name, value in inputs.items()
           if name in ("events", "callbacks", "complaints", "orders")}
    numbered, rows_in, duplicates = inputs["tickets"]
    keyed = numbered if whole_groups and not aux else numbered.assign(**{
        _KEY: numbered.map_partitions(_group_key, dims, period.tz, meta=(_KEY, "object"))})
    n = keyed.npartitions
    if whole_groups and aux and n > 1:
        raise InvalidChoiceError(f"{', '.join(map(repr, aux))} with whole_groups=True: "
                                 f"other tables are partitioned with their tickets by a "
                                 f"shuffle")
    grouped = keyed.shuffle(on=_KEY, npartitions=n) if n > 1 and not whole_groups else keyed
    routed = _routed(aux, keyed, duplicates, n) if aux else {}
    delayed = {name: (list(frame.to_delayed()), later) for name, (frame, _, later)
               in routed.items()}
    parts = [dask.delayed(_panel_of)(
        part, {name: (frames[i], later) for name, (frames, later) in delayed.items()},
        period, dims, policy, default_tz, duplicates)
        for i, part in enumerate(grouped.to_delayed())]
    results = dask.compute(*parts)
    reports = {"tickets": _report("tickets", rows_in, [r[1] for r in results])}
    for name, (_, count, _) in routed.items():
        table = _TABLES[name].SCHEMA.name
        reports[table] = _report(table, count, [r[2][name] for r in results])
    return KpiPanel.stack([r[0] for r in results]), reports


_LINK: Final = "__servicekpi_link__"
_DIRECT: Final = "__servicekpi_direct__"
_RESERVED: Final = frozenset({_ROW, _KEY})
_TABLES: Final[dict[str, type[Table]]] = {
    "tickets": TicketTable, "customers": CustomerTable, "events": TicketEventTable, "callbacks": CallbackTable, "complaints": ComplaintTable,
    "orders": OrderTable}
# The column that links a row of each table to a ticket (callbacks: see _callback_links).
_TICKET_LINK: Final = {"events": "ticket_id", "complaints": "ticket_id",
                       "orders": "consultation_ticket_id"}


def _routed(aux: dict[str, tuple[Any, int, dict[int, str]]], keyed: Any,
            duplicates: dict[int, str], n: int
            ) -> dict[str, tuple[Any, int, dict[int, str]]]:
    """Each other table shuffled into the partitions of the tickets it links to: its
    frame, its number of rows and its later repeats of an id (row -> id).

    A row takes the group key of its ticket (``""`` when it links to none), and the
    same key goes to the same partition in every shuffle of *n* partitions.
    """
    links = keyed[["ticket_id", _ROW, _KEY]].map_partitions(
        _links_of, "ticket_id", "t:", set(duplicates), meta={_LINK: "object", _KEY: "object"})
    out: dict[str, tuple[Any, int, dict[int, str]]] = {}
    keyed_aux: dict[str, Any] = {}
    for name in ("complaints", "events", "orders", "callbacks"):  # callbacks last
        if name not in aux:
            continue
        frame, count, later = aux[name]
        if name == "callbacks":
            linked = frame.map_partitions(_callback_links, meta=_meta(frame, _LINK, object))
            if "complaints" in keyed_aux:
                complaint_links = keyed_aux["complaints"][["complaint_id", _ROW, _KEY]] \
                    .map_partitions(_links_of, "complaint_id", "c:",
                                    set(out["complaints"][2]),
                                    meta={_LINK: "object", _KEY: "object"})
                links = dd.concat([links, complaint_links])
        else:
            linked = frame.map_partitions(_ticket_links, _TICKET_LINK[name],
                                          meta=_meta(frame, _LINK, object))
        joined = linked.merge(links, on=_LINK, how="left")
        joined = joined.assign(**{_KEY: joined[_KEY].fillna("")}).drop(columns=[_LINK])
        keyed_aux[name] = joined
        shuffled = joined.shuffle(on=_KEY, npartitions=n) if n > 1 \
            else joined.repartition(npartitions=1)
        out[name] = (shuffled, count, later)
    return out


def _links_of(part: Any, column: str, prefix: str, later: set[int]) -> Any:
    """(link, key) of the rows that can be linked to: not a later repeat, an id."""
    ids = _ids(part[column])
    keep = (ids != "").to_numpy() & ~np.isin(part[_ROW].to_numpy(dtype=np.int64),
                                               np.fromiter(later, np.int64, len(later)))
    return pd.DataFrame({_LINK: (prefix + ids[keep]).astype(object),
                         _KEY: part[_KEY][keep].astype(object)})


def _ticket_links(part: Any, column: str) -> Any:
    out = part.copy()
    ids = _ids(part[column]) if column in part.columns \
        else pd.Series([""] * len(part), index=part.index, dtype=object)
    out[_LINK] = ("t:" + ids).where(ids != "", "").astype(object)
    return out


def _callback_links(part: Any, direct: bool = False) -> Any:
    """A callback's link: its ticket (``t:``) or its complaint (``c:``) by its subject;
    with *direct*, a callback about a customer gets that customer's id as its key."""
    out = part.copy()
    ids = _ids(part["subject_id"]) if "subject_id" in part.columns \
        else pd.Series([""] * len(part), index=part.index, dtype=object)
    subjects = part["subject"] if "subject" in part.columns \
        else pd.Series([None] * len(part), index=part.index, dtype=object)
    prefix = subjects.map(_subject_prefix).astype(object)
    out[_LINK] = (prefix + ids).where((ids != "") & (prefix != "") & (prefix != "u:"),
                                      "").astype(object)
    if direct:
        out[_DIRECT] = ids.where(prefix == "u:", "").astype(object)
    return out


def _subject_prefix(value: Any) -> str:
    """As the table reads a subject: an enum member or its exact value."""
    key = value.value if isinstance(value, enum.Enum) else value
    try:
        subject = CallbackSubject(key)
    except (ValueError, TypeError):
        return ""
    return {CallbackSubject.TICKET: "t:", CallbackSubject.COMPLAINT: "c:",
            CallbackSubject.CUSTOMER: "u:"}.get(subject, "")


def _numbered(frames: dict[str, Any]) -> dict[str, tuple[Any, int, dict[int, str]]]:
    """Each frame with its global row numbers, its number of rows and its later repeats
    of an id (row -> id), in two passes over the inputs whatever their number (a third
    reads the rows of repeated ids, only when there are any).

    Row numbers (partition lengths, then offsets) let a rejected row be reported where
    it stands in the input, wherever the shuffle takes it. A repeat is an id seen on an
    earlier row, in any partition.
    """
    lengths = dask.compute(*[frame.map_partitions(len) for frame in frames.values()])
    numbered: dict[str, tuple[Any, int]] = {}
    for (name, frame), sizes in zip(frames.items(), lengths, strict=True):
        counts = [int(n) for n in sizes]
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        numbered[name] = (frame.map_partitions(_number, list(offsets),
                                               meta=_meta(frame, _ROW, np.int64),
                                               align_dataframes=False), int(sum(counts)))
    keyed = {name: (frame, _TABLES[name].SCHEMA.key) for name, (frame, _) in numbered.items()}
    ids = {name: frame[[str(key), _ROW]].map_partitions(
        _id_column, str(key), meta={str(key): "object", _ROW: np.int64})
        for name, (frame, key) in keyed.items() if key is not None}
    repeated = {name: counts[counts.index != ""] for name, counts in zip(ids, dask.compute(*[
        _repeated(frame, str(keyed[name][1])) for name, frame in ids.items()]), strict=True)}
    wanted = {name: frame[frame[str(keyed[name][1])].isin(list(repeated[name].index))]
              for name, frame in ids.items() if not repeated[name].empty}
    rows = dict(zip(wanted, dask.compute(*wanted.values()), strict=True))
    return {name: (frame, count, _later(rows[name], str(keyed[name][1])) if name in rows
                   else {}) for name, (frame, count) in numbered.items()}


def _id_column(part: Any, column: str) -> Any:
    return part.assign(**{column: _ids(part[column])})


def _repeated(ids: Any, column: str) -> Any:
    """The ids on more than one row, ``""`` (no id) among them (lazy)."""
    counts = ids.groupby(column)[_ROW].count(split_out=ids.npartitions)
    return counts[counts > 1]


def _later(rows: Any, column: str) -> dict[int, str]:
    """Of the rows of repeated ids, all but each id's first: row -> id."""
    first = rows.groupby(column)[_ROW].transform("min")
    later = rows[rows[_ROW] != first]
    return {int(row): str(key) for row, key in zip(later[_ROW], later[column], strict=True)}


def _ids(series: Any) -> Any:
    """Ids as the tables read them (``""`` for a missing or invalid one)."""
    return series.map(lambda v: _id_text(v) or "").astype(object)


def _report(table: str, rows_in: int, reports: list[ValidationReport]) -> ValidationReport:
    issues = sorted((issue for report in reports for issue in report.issues),
                    key=lambda issue: (issue.row, issue.field, issue.code))
    rejected = len({issue.row for issue in issues})
    return ValidationReport(table=table, rows_in=rows_in, rows_valid=rows_in - rejected,
                            issues=tuple(issues))


def _meta(frame: Any, column: str, dtype: Any) -> Any:
    meta = frame._meta.copy()
    meta[column] = np.array([], dtype=dtype)
    return meta


def _number(part: Any, offsets: list[int], partition_info: Any = None) -> Any:
    index = partition_info["number"] if partition_info else 0
    out = part.copy()
    out[_ROW] = np.arange(len(part), dtype=np.int64) + offsets[index]
    return out


def _group_key(part: Any, dims: tuple[str, ...], tz: str) -> Any:
    """The shuffle key: a group's non-time dimension, else its coarsest time bucket.

    Tickets of one group always share it, so a shuffle on it keeps groups whole.
    """
    plain = [d for d in dims if d in _COLUMN]
    if plain:
        values = part[_COLUMN[plain[0]]] if _COLUMN[plain[0]] in part.columns \
            else pd.Series([None] * len(part), index=part.index)
        return values.map(lambda v: "" if v is None or bool(pd.isna(v))
                          else str(getattr(v, "value", v))).astype(object)
    opened = pd.to_datetime(part["opened_at"], utc=True, errors="coerce").dt.tz_convert(tz)
    if "month" in dims:
        return opened.dt.strftime("%Y-%m").fillna("")
    if "week" in dims:  # the ISO week's Monday
        return (opened.dt.normalize() - pd.to_timedelta(opened.dt.day_of_week, unit="D")) \
            .dt.strftime("%Y-%m-%d").fillna("")
    return opened.dt.strftime("%Y-%m-%d").fillna("")


def _panel_of(part: Any, others: dict[str, tuple[Any, dict[int, str]]], period: Period,
              dims: tuple[str, ...], policy: Policy, default_tz: str | None,
              duplicates: dict[int, str]
              ) -> tuple[KpiPanel, ValidationReport, dict[str, ValidationReport]]:
    """One partition's panel and the reports of its rows (placed in the whole inputs)."""
    table, report, _ = _validated(TicketTable, part, duplicates, default_tz)
    tables: dict[str, Any] = {}
    reports: dict[str, ValidationReport] = {}
    for name, (frame, later) in others.items():
        tables[name], reports[name], _ = _validated(_TABLES[name], frame, later, default_tz)
    panel = _kpi_panel(table, period=period, by=dims, policy=policy, **tables)
    return panel, report, reports


def _validated(kind: type[T], part: Any, later: dict[int, str], default_tz: str | None
               ) -> tuple[T, ValidationReport, NDArray[np.int64]]:
    """*part* as a table, in input order, without the later repeats of an id (rejected
    here, as ``unique``, since the first may sit in another partition); every issue's
    row is the row's position in the whole input. Also: the input position of each row of
    the table."""
    part = part.sort_values(_ROW, kind="stable")
    rows = part[_ROW].to_numpy(dtype=np.int64)
    repeat = np.isin(rows, np.fromiter(later, dtype=np.int64, count=len(later)))
    frame = part[~repeat].drop(columns=[c for c in (_ROW, _KEY) if c in part.columns]) \
        .reset_index(drop=True)
    table, report = kind.from_frame(frame, default_tz=default_tz)
    kept = rows[~repeat]
    key = kind.SCHEMA.key
    issues = [_placed(issue, kept) for issue in report.issues]
    issues += [ValidationIssue(row=int(row), key=later[int(row)], field=str(key),
                               value=later[int(row)],
                               rule="unique: seen on an earlier row", code="unique")
               for row in rows[repeat]]
    report = ValidationReport(table=report.table, rows_in=len(rows),
                              rows_valid=len(rows) - len({i.row for i in issues}),
                              issues=tuple(issues))
    bad = np.fromiter({i.row for i in issues}, dtype=np.int64)
    return table, report, kept[~np.isin(kept, bad)]


def _placed(issue: ValidationIssue, rows: NDArray[np.int64]) -> ValidationIssue:
    """*issue* with its row as the position in the whole input."""
    return ValidationIssue(row=int(rows[issue.row]), key=issue.key, field=issue.field,
                           value=issue.value, rule=issue.rule, code=issue.code)
