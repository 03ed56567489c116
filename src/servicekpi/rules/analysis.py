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
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, final

import attrs
import numpy as np

from servicekpi._frozen import FrozenDict
from servicekpi.domain import EscalationLevel, Period
from servicekpi.policy import Policy
from servicekpi.rules.escalation import Escalation, escalate_table
from servicekpi.tables import (
    CallbackTable,
    ComplaintTable,
    OrderTable,
    TicketTable,
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
    share: float
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
    by_type = Counter(str(types[i]) for i in rows)
    by_level = {level: int((levels[rows] == int(level)).sum()) for level in EscalationLevel}

    per_station = Counter(str(stations[i]) for i in rows)
    volumes = _volumes(volume, period)
    shares = _ranked({sid: per_station.get(sid, 0) for sid in set(per_station) | set(volumes)},
                     volumes)

    repeat_ids = [table.complaint_ids[i] for i in rows if levels[i] == EscalationLevel.REPEAT]
    severe_ids = [table.complaint_ids[i] for i in rows if levels[i] == EscalationLevel.SEVERE]
    record_only = (not policy.escalation.enforce_penalties) if special_period is None \
        else bool(special_period)
    status = PenaltyStatus.RECORD_ONLY if record_only else PenaltyStatus.ENFORCED
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in rows:
        if levels[i] >= EscalationLevel.REPEAT:
            groups[(str(responsible[i]), str(stations[i]))].append(int(i))
    penalties = []
    for (person, station), members in groups.items():
        n_severe = sum(1 for i in members if levels[i] == EscalationLevel.SEVERE)
        n_repeat = len(members) - n_severe
        amount = (n_repeat * policy.escalation.repeat_penalty
                  + n_severe * policy.escalation.severe_penalty)
        penalties.append(PenaltyRow(
            responsible=person, station_id=station, repeat=n_repeat, severe=n_severe,
            amount=float(amount), status=status,
            complaint_ids=tuple(sorted(table.complaint_ids[i] for i in members))))
    penalties.sort(key=lambda p: (-p.amount, p.responsible, p.station_id))
    return ComplaintAnalysis(
        period=period, complaints=len(rows),
        by_type=FrozenDict(dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])))),
        by_level=FrozenDict(by_level), stations=shares,
        repeat=tuple(table.escalation(cid) for cid in repeat_ids),
        severe=tuple(table.escalation(cid) for cid in severe_ids),
        penalties=tuple(penalties), special_period=record_only, report=table.report)


def _volumes(volume: TicketTable | OrderTable | Mapping[str, float] | None,
             period: Period) -> dict[str, float]:
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
