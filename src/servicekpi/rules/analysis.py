"""The monthly complaint analysis (投诉的存档与分析) and penalty summary (月处罚汇总表).

:func:`complaint_analysis` takes the complaints received in a period and reports:
counts by type and by escalation level, each station's complaint share (complaints /
the station's volume: tickets, orders, or any volume the caller passes) with a ranking,
the repeat and severe complaints with their explanations, and the penalty summary — one
row per responsible person of a station with repeat or severe complaints, with the
policy's amounts and a status: ENFORCED, or RECORD_ONLY in a special period (特殊维稳
时期: 仅制表未处罚), when ``special_period=True`` or the policy sets
``enforce_penalties = false``.

Escalation is judged on the whole complaint table (earlier months are history) as of
``now`` (default: the period's end).

Ranking: rank 1 is the **lowest** complaint share (the best station); equal shares share
a rank and the next rank skips ("1, 2, 2, 4"); stations without volume have no share and
no rank and come last; within a rank, stations are ordered by id.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, final

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi._frozen import FrozenDict
from servicekpi.domain import EscalationLevel, Period
from servicekpi.policy import Policy
from servicekpi.rules.escalation import Escalation, escalate_table
from servicekpi.tables import (
    CallbackTable,
    ComplaintTable,
    OrderTable,
    TicketTable,
    ValidationIssue,
    ValidationReport,
)

__all__ = ("ComplaintAnalysis", "PenaltyRow", "PenaltyStatus", "StationShare",
           "complaint_analysis")


class PenaltyStatus(enum.StrEnum):
    """Whether a penalty is applied or only recorded (仅制表未处罚).

    .. versionadded:: 0.1
    """

    ENFORCED = "enforced"
    RECORD_ONLY = "record_only"


@final
@attrs.frozen(kw_only=True)
class StationShare:
    """A station's complaints against its volume, and its rank (1 = lowest share).

    .. versionadded:: 0.1
    """

    station_id: str
    complaints: int
    volume: float
    # A station without volume has a NaN share; compared as "no share" so that equal
    # analyses (e.g. merged from parts, or unpickled) compare equal despite NaN != NaN.
    share: float = attrs.field(eq=lambda share: None if share != share else share)
    rank: int | None


@final
@attrs.frozen(kw_only=True)
class PenaltyRow:
    """One responsible person's penalty for a station's repeat and severe complaints.

    ``complaint_ids`` lists the complaints it is for, so the row explains itself.

    .. versionadded:: 0.1
    """

    responsible: str
    station_id: str
    repeat: int
    severe: int
    amount: float
    status: PenaltyStatus
    complaint_ids: tuple[str, ...]

    def explain(self) -> str:
        """One sentence: who, how many of each level, the amount, the status, the ids."""
        verb = "is charged" if self.status is PenaltyStatus.ENFORCED else "is recorded for"
        amount = format(self.amount, "f").rstrip("0").rstrip(".")
        return (f"{self.responsible} ({self.station_id}) {verb} {amount} for "
                f"{self.repeat} repeat and {self.severe} severe complaints: "
                f"{', '.join(self.complaint_ids)}")


@final
@attrs.frozen(kw_only=True)
class ComplaintAnalysis:
    """The month's complaint analysis: immutable, explainable, exportable.

    Attributes:
        period: the period analysed.
        complaints: complaints received in the period.
        by_type: count per complaint type.
        by_level: count per escalation level.
        stations: complaint share per station, in rank order.
        repeat: the repeat complaints with their explanations.
        severe: the severe complaints with their explanations.
        penalties: the penalty summary, largest amount first.
        special_period: whether penalties were only recorded.
        report: callbacks that could not be used (unknown complaint, too early).

    .. versionadded:: 0.1
    """

    period: Period
    complaints: int
    by_type: FrozenDict[str, int]
    by_level: FrozenDict[EscalationLevel, int]
    stations: tuple[StationShare, ...]
    repeat: tuple[Escalation, ...]
    severe: tuple[Escalation, ...]
    penalties: tuple[PenaltyRow, ...]
    special_period: bool
    report: ValidationReport

    @property
    def penalty_total(self) -> float:
        """The sum of the penalty amounts (recorded or enforced)."""
        return float(sum(row.amount for row in self.penalties))

    def to_records(self) -> dict[str, list[dict[str, Any]]]:
        """Plain rows per section, for CSV/JSON export."""
        return {
            "by_type": [{"complaint_type": k, "complaints": v} for k, v in self.by_type.items()],
            "by_level": [{"level": k.name.lower(), "complaints": v}
                         for k, v in self.by_level.items()],
            "stations": [attrs.asdict(s) for s in self.stations],
            "escalations": [{"complaint_id": e.complaint_id, "level": e.level.name.lower(),
                             "fired": list(e.fired), "reasons": list(e.reasons),
                             "evidence": list(e.evidence)}
                            for e in (*self.severe, *self.repeat)],
            "penalties": [{**attrs.asdict(p), "status": p.status.value,
                           "complaint_ids": list(p.complaint_ids)} for p in self.penalties],
        }


def complaint_analysis(complaints: ComplaintTable, callbacks: CallbackTable | None = None, *,
                       period: Period, policy: Policy | None = None,
                       volume: TicketTable | OrderTable | Mapping[str, float] | None = None,
                       special_period: bool | None = None,
                       now: datetime | None = None) -> ComplaintAnalysis:
    """Analyse the complaints received in *period*.

    Args:
        complaints: all complaints (earlier ones serve as history for repeats).
        callbacks: their callbacks.
        period: the period; complaints count by ``received_at``.
        policy: rules, thresholds and penalty amounts (default :meth:`Policy.default`).
        volume: each station's volume for the share: a :class:`TicketTable` (tickets
            opened in the period), an :class:`OrderTable` (orders created in it) or a
            mapping station id -> volume (deliveries, subscriptions…). ``None``: no
            shares.
        special_period: force RECORD_ONLY (``True``) or ENFORCED (``False``);
            ``None`` follows ``policy.escalation.enforce_penalties``.
        now: the moment of judgement (default: the period's end).

    >>> from servicekpi import synth
    >>> data = synth.month(seed=4, tickets=20_000, agents=40, stations=4)
    >>> analysis = complaint_analysis(data.complaints, data.callbacks, period=data.period,
    ...                               volume=data.tickets)
    >>> [s.rank for s in analysis.stations]
    [1, 2, 3, 4]
    >>> analysis.penalties[0].status.value
    'enforced'

    .. versionadded:: 0.1
    """
    return _analysed(complaints, callbacks, period=period, policy=policy, volume=volume,
                     special_period=special_period, now=now).analysis


def _analysed(complaints: ComplaintTable, callbacks: CallbackTable | None, *,
              period: Period, policy: Policy | None,
              volume: TicketTable | OrderTable | Mapping[str, float] | None,
              special_period: bool | None, now: datetime | None) -> _Partial:
    """:func:`complaint_analysis`, with what :func:`_merge_analyses` needs to merge it."""
    policy = policy or Policy.default()
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    when = now if now is not None else period.end
    table = escalate_table(complaints, callbacks, now=when, policy=policy)
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    received = complaints["received_at"]
    rows = np.flatnonzero((received >= start) & (received < end))

    types = complaints.decode("complaint_type")
    stations = complaints.decode("station_id")
    responsible = complaints.decode("responsible")
    levels = table.levels
    by_level = {level: int((levels[rows] == int(level)).sum()) for level in EscalationLevel}

    repeat_rows = tuple(int(i) for i in rows if levels[i] == EscalationLevel.REPEAT)
    severe_rows = tuple(int(i) for i in rows if levels[i] == EscalationLevel.SEVERE)
    record_only = (not policy.escalation.enforce_penalties) if special_period is None \
        else bool(special_period)
    rates = (policy.escalation.repeat_penalty, policy.escalation.severe_penalty)
    tally = _PenaltyTally()
    for i in sorted((*repeat_rows, *severe_rows)):
        severe = levels[i] == EscalationLevel.SEVERE
        tally.add(str(responsible[i]), str(stations[i]), repeat=int(not severe),
                  severe=int(severe), complaint_ids=(table.complaint_ids[i],))
    analysis = ComplaintAnalysis(
        period=period, complaints=len(rows),
        by_type=_by_type(Counter(str(types[i]) for i in rows)),
        by_level=FrozenDict(by_level),
        stations=_shares(Counter(str(stations[i]) for i in rows), _volumes(volume, period)),
        repeat=tuple(table.escalation(table.complaint_ids[i]) for i in repeat_rows),
        severe=tuple(table.escalation(table.complaint_ids[i]) for i in severe_rows),
        penalties=tally.rows(_status(record_only), rates), special_period=record_only,
        report=table.report)
    return _Partial(analysis=analysis, repeat_rows=repeat_rows, severe_rows=severe_rows,
                    rates=rates)


def _merge_analyses(
        parts: Sequence[tuple[_Partial, NDArray[np.int64], NDArray[np.int64]]], *,
        volumes: Mapping[str, float]) -> ComplaintAnalysis:
    """Merge the analyses of disjoint customer partitions into the whole's analysis.

    Each part is ``(_analysed(part_complaints, part_callbacks, period=P, policy=POL,
    volume=None, special_period=S, now=NOW), complaint_rows, callback_rows)``:
    ``complaint_rows[i]`` / ``callback_rows[i]`` is the row, in the WHOLE complaints /
    callbacks table, of row ``i`` of the part's table. Every customer's complaints, and
    the callbacks about them, must sit in exactly one part (escalation only looks at a
    customer's own complaints and at the callbacks about a complaint); other callbacks
    may sit anywhere. The result equals ``complaint_analysis(whole_complaints,
    whole_callbacks, period=P, policy=POL, volume=volumes, now=NOW)``:

    - counts are summed; stations are re-ranked from the summed counts and *volumes*;
    - repeat and severe complaints are put back in the whole's row order, and the
      report's issues (``row`` is a callback row) renumbered to the whole's callback
      rows and re-sorted, ``rows_in`` / ``rows_valid`` summed;
    - penalty rows of one (responsible, station) are merged and their amounts
      recomputed from the policy's rates (summing the parts' float amounts could be
      off in the last bit).

    A part's :class:`_Partial` carries what the analysis alone does not say: the table
    rows of its escalations and the penalty rates.

    Raises:
        ValueError: no parts; parts of different periods, penalty status or rates; a
            part whose ``callback_rows`` do not match its report; or a bad volume (as
            :func:`complaint_analysis`).
    """
    if not parts:
        raise ValueError("no analyses to merge: 'parts' is empty")
    first = parts[0][0].analysis
    for index, (partial, _, callback_rows) in enumerate(parts):
        analysis = partial.analysis
        if len(callback_rows) != analysis.report.rows_in:
            raise ValueError(f"part {index} has {len(callback_rows)} callback rows but its "
                             f"report read {analysis.report.rows_in} callbacks")
        if analysis.period != first.period:
            raise ValueError(f"cannot merge analyses of different periods: part {index} is "
                             f"of {analysis.period}, part 0 of {first.period}")
        if analysis.special_period != first.special_period:
            raise ValueError(f"cannot merge analyses of different penalty status: part "
                             f"{index} has special_period={analysis.special_period}, part 0 "
                             f"{first.special_period}")
        if partial.rates != parts[0][0].rates:
            raise ValueError(f"cannot merge analyses of different penalty rates: part "
                             f"{index} has {partial.rates}, part 0 {parts[0][0].rates}")

    by_type, per_station = Counter[str](), Counter[str]()
    by_level = Counter[EscalationLevel]()
    repeat: list[tuple[int, Escalation]] = []
    severe: list[tuple[int, Escalation]] = []
    tally = _PenaltyTally()
    issues: list[ValidationIssue] = []
    for data, complaint_rows, callback_rows in parts:
        analysis = data.analysis
        by_type.update(analysis.by_type)
        per_station.update({s.station_id: s.complaints for s in analysis.stations})
        by_level.update(analysis.by_level)
        repeat.extend(zip(_global(complaint_rows, data.repeat_rows), analysis.repeat))
        severe.extend(zip(_global(complaint_rows, data.severe_rows), analysis.severe))
        for row in analysis.penalties:
            tally.add(row.responsible, row.station_id, repeat=row.repeat, severe=row.severe,
                      complaint_ids=row.complaint_ids)
        issues.extend(attrs.evolve(issue, row=int(callback_rows[issue.row]))
                      for issue in analysis.report.issues)
    reports = [data.analysis.report for data, _, _ in parts]
    return ComplaintAnalysis(
        period=first.period, complaints=sum(data.analysis.complaints for data, _, _ in parts),
        by_type=_by_type(by_type),
        by_level=FrozenDict({level: by_level[level] for level in EscalationLevel}),
        stations=_shares(per_station, _volumes(volumes, first.period)),
        repeat=tuple(e for _, e in sorted(repeat, key=lambda pair: pair[0])),
        severe=tuple(e for _, e in sorted(severe, key=lambda pair: pair[0])),
        penalties=tally.rows(_status(first.special_period), parts[0][0].rates),
        special_period=first.special_period,
        # As escalate_table sorts its issues; rows_valid counts each callback once, and
        # every callback is in exactly one part, so both counts add up.
        report=ValidationReport(table=first.report.table,
                                rows_in=sum(r.rows_in for r in reports),
                                rows_valid=sum(r.rows_valid for r in reports),
                                issues=tuple(sorted(issues, key=lambda x: (x.row, x.code)))))


@final
@attrs.frozen(kw_only=True)
class _Partial:
    """An analysis and what :func:`_merge_analyses` needs to merge it exactly."""

    analysis: ComplaintAnalysis
    repeat_rows: tuple[int, ...]  # complaint-table rows of ComplaintAnalysis.repeat
    severe_rows: tuple[int, ...]  # … and of ComplaintAnalysis.severe
    rates: tuple[float, float]    # the policy's repeat and severe penalty


@attrs.define
class _PenaltyTally:
    """Repeat and severe complaints per (responsible, station), as the penalty rows count them."""

    repeat: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    severe: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    ids: dict[tuple[str, str], list[str]] = attrs.field(factory=dict)

    def add(self, responsible: str, station: str, *, repeat: int, severe: int,
            complaint_ids: Iterable[str]) -> None:
        """Count *repeat* and *severe* complaints (with their ids) for one person's station."""
        key = (responsible, station)
        self.repeat[key] += repeat
        self.severe[key] += severe
        self.ids.setdefault(key, []).extend(complaint_ids)

    def rows(self, status: PenaltyStatus, rates: tuple[float, float]) -> tuple[PenaltyRow, ...]:
        """The penalty rows, largest amount first, then by person and station."""
        repeat_penalty, severe_penalty = rates
        out = []
        for (person, station), ids in self.ids.items():
            n_repeat, n_severe = self.repeat[(person, station)], self.severe[(person, station)]
            out.append(PenaltyRow(
                responsible=person, station_id=station, repeat=n_repeat, severe=n_severe,
                amount=float(n_repeat * repeat_penalty + n_severe * severe_penalty),
                status=status, complaint_ids=tuple(sorted(ids))))
        return tuple(sorted(out, key=lambda p: (-p.amount, p.responsible, p.station_id)))


def _status(record_only: bool) -> PenaltyStatus:
    """The penalty status of a period: RECORD_ONLY in a special period."""
    return PenaltyStatus.RECORD_ONLY if record_only else PenaltyStatus.ENFORCED


def _by_type(counts: Mapping[str, int]) -> FrozenDict[str, int]:
    """Counts per complaint type, most frequent first, then by type."""
    return FrozenDict(dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))))


def _shares(per_station: Mapping[str, int],
            volumes: Mapping[str, float]) -> tuple[StationShare, ...]:
    """Ranked shares of the stations with complaints or with a volume."""
    counts = {station: n for station, n in per_station.items() if n}
    return _ranked({sid: counts.get(sid, 0) for sid in set(counts) | set(volumes)}, volumes)


def _global(rows: NDArray[np.int64], local: tuple[int, ...]) -> list[int]:
    """The whole table's rows of a part's *local* rows."""
    return [int(rows[i]) for i in local]


def _volumes(volume: TicketTable | OrderTable | Mapping[str, float] | None,
             period: Period) -> dict[str, float]:
    """Each station's volume in *period*, validated (``{}`` without a volume)."""
    if volume is None:
        return {}
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    if isinstance(volume, (TicketTable, OrderTable)):
        moment = volume["opened_at" if isinstance(volume, TicketTable) else "created_at"]
        inside = (moment >= start) & (moment < end) & (volume["station_id"] >= 0)
        labels = volume.labels("station_id")
        counts = np.bincount(volume["station_id"][inside], minlength=len(labels))
        return {labels[i]: float(c) for i, c in enumerate(counts) if c}
    if isinstance(volume, Mapping):
        out = {}
        for station, value in volume.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not value >= 0 or value == float("inf"):
                raise ValueError(f"volume of station {station!r} must be a number >= 0 "
                                 f"(got {value!r})")
            out[str(station)] = float(value)
        return out
    raise TypeError(f"'volume' must be a TicketTable, an OrderTable or a mapping "
                    f"(got {type(volume).__name__})")


def _ranked(counts: Mapping[str, int], volumes: Mapping[str, float]) -> tuple[StationShare, ...]:
    """Shares ranked lowest first, ties sharing a rank; stations without volume last."""
    rows = []
    for station, n in counts.items():
        vol = volumes.get(station, 0.0)
        share = n / vol if vol > 0 else float("nan")
        rows.append((station, n, vol, share))
    ranked = sorted((r for r in rows if r[3] == r[3]), key=lambda r: (r[3], r[0]))
    unranked = sorted((r for r in rows if r[3] != r[3]), key=lambda r: r[0])
    out = []
    previous, rank = None, 0
    for position, (station, n, vol, share) in enumerate(ranked, start=1):
        if share != previous:
            rank, previous = position, share
        out.append(StationShare(station_id=station, complaints=n, volume=vol, share=share,
                                rank=rank))
    out.extend(StationShare(station_id=s, complaints=n, volume=v, share=sh, rank=None)
               for s, n, v, sh in unranked)
    return tuple(out)
