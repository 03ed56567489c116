"""SLA clocks over ticket events: pause on status, recurring reply targets, at-risk warnings.

A clock measures the **working time** the service team had a ticket, from a start
condition to a stop condition, leaving out the time it waited on the customer or a
third party (``docs/clocks.md`` has every rule). :func:`measure_clocks` judges every
clock instance as of an instant; :func:`clocks_at_risk` lists those about to breach;
:func:`~servicekpi.metrics.kpi_panel` uses the same clocks for its ``sla_*`` KPIs when
given ``events``.

Vectorised over the whole event table: the events are sorted once by ticket and time,
framed per ticket by its opening and the judging instant, and every clock state
(status, active, paused, assignee) is a forward fill inside each ticket's run of rows;
elapsed time is a segment sum of ``W(next) − W(this)`` over running rows, with ``W`` the
calendar's working clock.

>>> from datetime import datetime, timezone
>>> from servicekpi import TicketTable, TicketEventTable, Policy, WorkCalendar
>>> at = lambda h, m=0: datetime(2026, 10, 5, h, m, tzinfo=timezone.utc)
>>> tickets, _ = TicketTable.from_columns({
...     "ticket_id": ["T-1"], "agent_id": ["A-1"], "station_id": ["S1"],
...     "customer_id": ["C-1"], "service_type": ["repair"], "channel": ["phone"],
...     "opened_at": [at(8)]})
>>> events, _ = TicketEventTable.from_columns({
...     "ticket_id": ["T-1"] * 4, "at": [at(9), at(9), at(11), at(12)],
...     "kind": ["agent_reply", "status", "customer_message", "status"],
...     "to_value": [None, "waiting_customer", None, "solved"],
...     "actor": ["A-2", "A-2", None, "A-1"]})
>>> policy = Policy.default().replace(calendar=WorkCalendar(tz="UTC", hours=[["00:00-24:00"]] * 7))
>>> clocks = measure_clocks(tickets, events, now=at(13), policy=policy)
>>> print(clocks)
ClockTable as of 2026-10-05T13:00+00:00: 3 clocks
  first_response  T-1  achieved  1:00:00 of 2:00:00  paused 0:00:00  A-2
  next_reply      T-1  achieved  1:00:00 of 4:00:00  paused 0:00:00  A-1
  resolution      T-1  achieved  2:00:00 of 16:00:00  paused 2:00:00  A-1

The resolution clock ran 08:00–09:00 and 11:00–12:00: the two hours waiting on the
customer are paused, and the customer's message at 11:00 resumed it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, ClassVar, Final, Literal, final

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi._frozen import FrozenDict
from servicekpi.calendar import WorkCalendar, from_epoch, to_epoch
from servicekpi.domain import ClockInstance, ClockName, ClockStatus, Priority
from servicekpi.exceptions import InvalidChoiceError, SchemaError
from servicekpi.kernel import MISSING
from servicekpi.kernel.segments import forward_fill, segment_sums
from servicekpi.policy import CLOCK_NAMES, ClockDefinition, Policy
from servicekpi.tables import AgentTable, Column, Kind, Schema, Table, TicketEventTable, \
    TicketTable

__all__ = ("ClockTable", "Credits", "clocks_at_risk", "measure_clocks")

_DEFAULT_POLICY: Final = Policy.default()
_STATUS, _ASSIGNMENT, _MESSAGE, _REPLY = (np.int8(i) for i in range(4))
_OPENED = np.int8(4)
_KIND_OF: Final = {"status_change": _STATUS, "assignment": _ASSIGNMENT,
                   "customer_message": _MESSAGE, "agent_reply": _REPLY, "opened": _OPENED}
_CODES: Final = {status: np.int8(i) for i, status in enumerate(ClockStatus)}
_BLOCK_ROWS: Final = 1 << 20  # timeline rows per block of whole tickets
_KEY_BITS: Final = 62   # (ticket, time, kind) packed in one int64 key up to this width
_SORT_BITS: Final = 63  # ... and the row index with it, sorted by value (no argsort)


CLOCK_SCHEMA: Final = Schema(
    name="clocks", noun="clock", key=None, label="ticket_id",
    columns=(
        Column(name="clock", kind=Kind.CHOICE, required=True, choices=ClockName,
               doc="which clock"),
        Column(name="ticket_id", kind=Kind.ID, required=True, doc="the ticket"),
        Column(name="started_at", kind=Kind.TIME, required=True, doc="when it started"),
        Column(name="stopped_at", kind=Kind.TIME, doc="when it stopped; missing = active"),
        Column(name="elapsed", kind=Kind.COUNT, default=0, doc="running working seconds"),
        Column(name="paused", kind=Kind.COUNT, default=0, doc="paused working seconds"),
        Column(name="target", kind=Kind.COUNT, default=0, doc="target, working seconds"),
        Column(name="status", kind=Kind.CHOICE, choices=ClockStatus,
               default=ClockStatus.RUNNING, doc="running / paused / achieved / breached"),
        Column(name="at_risk", kind=Kind.BOOL, default=False, doc="a warning is due"),
        Column(name="due_at", kind=Kind.TIME, doc="when the target is used up if it runs "
                                                  "on; missing once achieved or breached"),
        Column(name="agent_id", kind=Kind.ID, doc="the agent credited (biggest share)"),
    ),
)


@final
@attrs.frozen(kw_only=True, eq=False)
class Credits:
    """Who is credited with each clock instance, and with what share (sums to 1).

    ``row`` indexes the :class:`ClockTable`; ``agent`` codes index ``labels``.

    .. versionadded:: 0.1
    """

    row: NDArray[np.int64]
    agent: NDArray[np.int64]
    share: NDArray[np.float64]
    labels: tuple[str, ...]

    def to_dict(self) -> dict[int, dict[str, float]]:
        """``{clock table row: {agent id: share}}``."""
        out: dict[int, dict[str, float]] = {}
        for row, agent, share in zip(self.row.tolist(), self.agent.tolist(),
                                     self.share.tolist(), strict=True):
            out.setdefault(row, {})[self.labels[agent]] = share
        return out

    def take(self, rows: NDArray[np.int64]) -> Credits:
        """The credits of clock-table *rows*, renumbered to their positions in *rows*."""
        new_row = np.full(int(self.row.max(initial=-1)) + 1, -1, dtype=np.int64)
        new_row[rows] = np.arange(rows.size)
        keep = new_row[self.row] >= 0 if self.row.size else np.zeros(0, dtype=bool)
        order = np.argsort(new_row[self.row[keep]], kind="stable")
        return Credits(row=new_row[self.row[keep]][order], agent=self.agent[keep][order],
                       share=self.share[keep][order], labels=self.labels)


@final
class ClockTable(Table):
    """The SLA clock instances as of an instant: one row per instance.

    Columns (``docs/clocks.md``): ``clock``, ``ticket_id``, ``started_at``,
    ``stopped_at`` (missing while active), ``elapsed`` and ``paused`` (working seconds),
    ``target``, ``status``, ``at_risk``, ``due_at``, ``agent_id`` (credited). Read it
    like any table (``clocks["elapsed"]``, ``clocks.decode("status")``,
    ``clocks.to_records()``); :attr:`credits` has every (instance, agent, share),
    :meth:`time_held` and :meth:`handoffs` the hand-off report.

    .. versionadded:: 0.1
    """

    SCHEMA: ClassVar[Schema] = CLOCK_SCHEMA
    RECORD: ClassVar[type[Any]] = ClockInstance
    __slots__ = ("_credits", "_hand_offs", "_now", "_roster", "_ticket_rows", "_unmatched")

    def __init__(self, columns: Mapping[str, NDArray[Any]],
                 labels: Mapping[str, tuple[str, ...]], n_rows: int, *,
                 now: int = MISSING, credits: Credits | None = None,
                 ticket_rows: NDArray[np.int64] | None = None,
                 hand_offs: _HandOffs | None = None,
                 roster: AgentTable | None = None, unmatched: int = 0) -> None:
        super().__init__(columns, labels, n_rows)
        self._now = now
        self._credits = credits  # None: each row credited whole to its agent_id
        self._ticket_rows = ticket_rows if ticket_rows is not None \
            else np.full(n_rows, -1, dtype=np.int64)
        self._hand_offs = hand_offs if hand_offs is not None else _HandOffs.empty()
        self._roster = roster
        self._unmatched = unmatched

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], *,
                     on_invalid: Literal["report", "raise"] = "report",
                     default_tz: str | None = None) -> Any:
        """Not available: clock tables are computed (:func:`measure_clocks`)."""
        raise SchemaError("a ClockTable is computed by measure_clocks, not read from "
                          "columns")

    @property
    def now(self) -> datetime:
        """The judging instant (UTC)."""
        return from_epoch(self._now, "UTC")

    @property
    def credits(self) -> Credits:
        """Every (instance row, agent, share) of the attribution."""
        if self._credits is None:
            self._credits = Credits(
                row=np.arange(len(self), dtype=np.int64),
                agent=self["agent_id"].astype(np.int64), share=np.ones(len(self)),
                labels=self.labels("agent_id"))
        return self._credits

    @property
    def unmatched_events(self) -> int:
        """Events whose ticket the ticket table does not have (not judged)."""
        return self._unmatched

    def take(self, rows: NDArray[np.bool_] | NDArray[np.integer[Any]]) -> ClockTable:
        index = np.flatnonzero(rows) if np.asarray(rows).dtype == bool \
            else np.asarray(rows, dtype=np.int64)
        return ClockTable({n: self[n][index] for n in self.columns},
                          {n: self.labels(n) for n in ("ticket_id", "agent_id")},
                          int(index.size), now=self._now,
                          credits=None if self._credits is None else self._credits.take(index),
                          ticket_rows=self._ticket_rows[index], hand_offs=self._hand_offs,
                          roster=self._roster,
                          unmatched=self._unmatched)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{clock: {status: instances}}`` for every clock and status."""
        out: dict[str, dict[str, int]] = {}
        clock, status = self["clock"], self["status"]
        for i, name in enumerate(ClockName):
            mine = status[clock == i]
            out[name.value] = {s.value: int((mine == j).sum())
                               for j, s in enumerate(ClockStatus)}
        return out

    def time_held(self, by: Literal["agent", "team"] = "agent") -> dict[str, int]:
        """Working seconds each assignee (or team) held tickets while their resolution
        clock was active (paused time included).

        Raises:
            SchemaError: ``by="team"`` without the ``agents`` roster given to
                :func:`measure_clocks`.
        """
        held = self._hand_offs.held()
        if by == "agent":
            return held
        teams = self._teams(by)
        out: dict[str, int] = {}
        for agent, seconds in held.items():
            team = teams.get(agent, "(not in roster)")
            out[team] = out.get(team, 0) + seconds
        return dict(sorted(out.items()))

    def handoffs(self, by: Literal["agent", "team"] = "agent") -> dict[tuple[str, str], int]:
        """Assignments that changed the assignee, counted per (from, to) agent or team.

        Raises:
            SchemaError: ``by="team"`` without the ``agents`` roster.
        """
        pairs = self._hand_offs.pairs()
        if by == "agent":
            return pairs
        teams = self._teams(by)
        out: dict[tuple[str, str], int] = {}
        for (a, b), count in pairs.items():
            pair = (teams.get(a, "(not in roster)"), teams.get(b, "(not in roster)"))
            out[pair] = out.get(pair, 0) + count
        return dict(sorted(out.items()))

    def _teams(self, by: str) -> dict[str, str]:
        if by != "team":
            raise InvalidChoiceError.for_value("by", by, ["agent", "team"])
        if self._roster is None:
            raise SchemaError("hand-offs by team need the roster: "
                              "measure_clocks(..., agents=AgentTable)")
        roster = self._roster
        return dict(zip(roster.decode("agent_id").tolist(), roster.decode("team_id").tolist(),
                        strict=True))

    def __str__(self) -> str:
        when = self.now.strftime("%Y-%m-%dT%H:%M+00:00")
        lines = [f"ClockTable as of {when}: {len(self)} clocks"]
        clocks, tickets = self.decode("clock"), self.decode("ticket_id")
        statuses, agents = self.decode("status"), self.decode("agent_id")
        width = max((len(str(t)) for t in tickets), default=0)
        for i in range(min(len(self), 20)):
            lines.append(
                f"  {clocks[i].value:<15} {tickets[i]:<{width}}  {statuses[i].value:<8}  "
                f"{timedelta(seconds=int(self['elapsed'][i]))} of "
                f"{timedelta(seconds=int(self['target'][i]))}  "
                f"paused {timedelta(seconds=int(self['paused'][i]))}"
                + ("  AT RISK" if self["at_risk"][i] else "")
                + (f"  {agents[i]}" if agents[i] is not None else ""))
        if len(self) > 20:
            lines.append(f"  … {len(self) - 20} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------- timeline


@attrs.frozen(kw_only=True, eq=False)
class _Timeline:
    """Selected tickets' events in order, each ticket framed by its opening and the
    judging row: ``[opened, events…, judge]`` per ticket, tickets in table-row order."""

    ticket_rows: NDArray[np.int64]     # ticket-table row of each selected ticket
    starts: NDArray[np.int64]          # timeline row of each ticket's opening
    ends: NDArray[np.int64]            # timeline row of each ticket's last row
    tix: NDArray[np.int32]             # selected-ticket index of each timeline row
    kind: NDArray[np.int8]
    to: NDArray[np.int32]              # event to_value code (statuses and agents)
    now: int
    opened: NDArray[np.int64]          # per selected ticket
    e_at: NDArray[np.int64]            # per event, in timeline order
    e_from: NDArray[Any]               # per event: from_value code
    e_actor: NDArray[Any]              # per event: actor code
    dw: NDArray[np.integer[Any]]       # working seconds to the next row (last: to now)
    dw64: NDArray[np.int64]            # the same as int64
    narrow: bool                       # every ticket's working time so far < 2**31
    status: NDArray[np.int32]          # status (to_value code) after the row; -1 = none
    is_status: NDArray[np.bool_]
    is_open: NDArray[np.bool_]
    priority: NDArray[np.int8]         # per selected ticket

    def event(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """The event (in timeline order) of event *rows*: each ticket adds a row."""
        return rows - self.tix[rows].astype(np.int64) - 1

    def at(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """The instant of *rows*: the opening or an event's time."""
        is_open = self.kind[rows] == _OPENED
        out = np.empty(rows.size, dtype=np.int64)
        out[is_open] = self.opened[self.tix[rows[is_open]]]
        out[~is_open] = self.e_at[self.event(rows[~is_open])]
        return out


def _ranks(labels: tuple[str, ...]) -> NDArray[np.int64]:
    """Rank of each label in sorted order, with -1 (missing) ranking first."""
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(labels) + 1, dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(1, len(labels) + 1)
    rank[-1] = 0  # code -1 reads the last slot
    return rank


def _ticket_row_of(tickets: TicketTable, labels: tuple[str, ...]) -> NDArray[np.int32]:
    """The ticket row of each event ticket label (-1: no such ticket)."""
    code_to_row = np.full(len(tickets.labels("ticket_id")) + 1, -1, dtype=np.int32)
    code_to_row[tickets["ticket_id"]] = np.arange(len(tickets))
    if labels is tickets.labels("ticket_id"):  # validated against these tickets
        return code_to_row[:-1]
    wanted = tickets.codes_of("ticket_id", labels)
    return code_to_row[np.where(wanted < 0, -1, wanted)]


def _order(tix: NDArray[np.int64], at: NDArray[np.int64], kind: NDArray[np.int8],
           ties: Sequence[tuple[NDArray[np.int64], NDArray[Any]]],
           n_tickets: int) -> NDArray[np.intp]:
    """Row order by (ticket, time, kind), ties broken by the ranks of the labels of
    *ties* (actor, to, from: ``(rank of each code, codes)``), so any input order of the
    same events gives the same timeline."""
    if tix.size == 0:
        return np.zeros(0, dtype=np.intp)
    low = int(at.min())
    span = int(at.max()) - low + 1
    bits = (max(n_tickets, 1) - 1).bit_length() + span.bit_length() + 2
    if bits > _KEY_BITS:
        keys: list[NDArray[Any]] = [*(rank[codes] for rank, codes in reversed(ties)),
                                    kind, at, tix]
        return np.lexsort(keys)
    key = (tix << (span.bit_length() + 2)) | ((at - low) << 2) | kind.astype(np.int64)
    index_bits = (tix.size - 1).bit_length()
    if bits + index_bits <= _SORT_BITS:  # the row in the low bits: a plain sort, no argsort
        key <<= index_bits
        key |= np.arange(tix.size, dtype=np.int64)
        key.sort()
        order = (key & ((1 << index_bits) - 1)).astype(np.intp)
        ordered = key >> index_bits
    else:
        order = np.argsort(key)
        ordered = key[order]
    tie = ordered[1:] == ordered[:-1]
    if tie.any():  # rare: equal (ticket, second, kind); order them by content
        run_start = np.concatenate(([True], ~tie))
        run = np.cumsum(run_start) - 1
        in_tie = np.zeros(order.size, dtype=bool)
        in_tie[1:] |= tie
        in_tie[:-1] |= tie
        pos = np.flatnonzero(in_tie)
        rows = order[pos]
        sub = np.lexsort([*(rank[codes[rows]] for rank, codes in reversed(ties)), run[pos]])
        order[pos] = rows[sub]
    return order


@attrs.frozen(kw_only=True, eq=False)
class _Kept:
    """Every event, in input order, marked with its selected ticket when kept (a
    selected ticket's event up to the judging instant)."""

    tix: NDArray[np.int32]        # selected-ticket index; -1: not kept
    at: NDArray[np.int64]         # not yet clamped to the ticket's opening
    w: NDArray[np.int64]          # W(at)
    kind: NDArray[np.int8]
    codes: dict[str, NDArray[Any]]  # to_value, from_value, actor (raw codes)
    ranks: dict[str, NDArray[np.int64]]  # rank of each label (code -1 reads the last)
    unmatched: int


def _kept(events: TicketEventTable, row_of_label: NDArray[np.int32], dense: NDArray[np.int32],
          *, now: int, inclusive: bool) -> _Kept:
    """The events with their selected-ticket index, -1 for those not kept (``w`` still
    empty)."""
    # One look-up table from event ticket code to selected-ticket index; none at all in
    # the usual case (events validated against the tickets, every ticket selected).
    to_tix = dense[row_of_label]  # -1 reads the last slot of dense
    unmatched_labels = row_of_label < 0
    if to_tix.size == dense.size - 1 and np.array_equal(to_tix, np.arange(to_tix.size)):
        ev_tix, known = events["ticket_id"], None
    else:
        ev_tix = np.append(to_tix, np.int32(-1))[events["ticket_id"]]
        known = ev_tix >= 0
    unmatched = 0
    if unmatched_labels.any():
        unmatched = int(unmatched_labels[events["ticket_id"]].sum())
    at_all = events["at"]
    kept = (at_all <= now) if inclusive else (at_all < now)
    if known is not None:
        kept &= known
    names = ("to_value", "from_value", "actor")
    # Events not kept get the index -1 (no block takes them) rather than copies of every
    # column without them: on ten million events the copies cost more than the rest.
    tix = ev_tix if kept.all() else np.where(kept, ev_tix, np.int32(-1))
    return _Kept(tix=tix, at=at_all, w=np.zeros(0, dtype=np.int64), kind=events["kind"],
                 codes={name: events[name] for name in names},
                 ranks={name: _ranks(events.labels(name)) for name in names},
                 unmatched=unmatched)


def _blocks(tix: NDArray[np.int32], n_tickets: int,
            rows: int) -> list[tuple[int, int, NDArray[np.intp] | None]]:
    """Runs of whole tickets of about *rows* timeline rows each on average (a power of
    two of tickets each), with their kept events (``None``: every event); one block
    when everything fits. Events with index -1 go to no block."""
    total = tix.size + n_tickets
    dropped = bool((tix < 0).any())
    if total <= rows or n_tickets < 2:
        return [(0, n_tickets, np.flatnonzero(tix >= 0) if dropped else None)]
    shift = max(0, math.floor(math.log2(n_tickets * rows / total)))
    n_blocks = ((n_tickets - 1) >> shift) + 1
    # Bin 0 holds the events not kept; block i is bin i + 1.
    of_event = np.right_shift(tix, shift, dtype=np.int32)
    of_event += 1
    of_event = of_event.astype(np.int16 if n_blocks < 2**15 - 1 else np.int32)
    order = np.argsort(of_event, kind="stable")  # a radix sort of small ints
    ends = np.cumsum(np.bincount(of_event, minlength=n_blocks + 1))
    return [(i << shift, min((i + 1) << shift, n_tickets), order[ends[i]:ends[i + 1]])
            for i in range(n_blocks)]


def _timeline(kept: _Kept, block: tuple[int, int, NDArray[np.intp] | None], *,
              ticket_rows: NDArray[np.int64], opened: NDArray[np.int64],
              w_open: NDArray[np.int64], w_now: int, priority: NDArray[np.int8],
              now: int) -> _Timeline:
    """One block's timeline: ``[opened, events…]`` per ticket, in order; the last row of
    a ticket runs to the judging instant."""
    t0, t1, idx = block
    nt = t1 - t0
    pick: Any = slice(None) if idx is None else idx
    e_tix = kept.tix[pick].astype(np.int64) - t0
    e_kind = kept.kind[pick]
    # Events before their ticket opened (possible without validation against the
    # tickets) count as at the opening; W is monotone, so W(max) = max(W).
    e_at = np.maximum(kept.at[pick], opened[t0:t1][e_tix])
    e_w = np.maximum(kept.w[pick], w_open[t0:t1][e_tix])
    codes = {name: value[pick] for name, value in kept.codes.items()}
    ties = [(kept.ranks[name], codes[name]) for name in ("actor", "to_value", "from_value")]
    order = _order(e_tix, e_at, e_kind, ties, nt)
    e_tix, e_at, e_kind, e_w = e_tix[order], e_at[order], e_kind[order], e_w[order]
    codes = {name: value[order] for name, value in codes.items()}

    ne = e_tix.size
    m = ne + nt
    offsets = np.zeros(nt + 1, dtype=np.int64)
    np.cumsum(np.bincount(e_tix, minlength=nt), out=offsets[1:])
    one = np.arange(nt, dtype=np.int64)
    starts = offsets[:-1] + one
    ends = offsets[1:] + one  # the last row: an event, or the opening itself
    ev_pos = np.arange(ne, dtype=np.int64) + e_tix + 1

    tix = np.repeat(np.arange(nt, dtype=np.int32), np.diff(offsets) + 1)
    kind = np.empty(m, dtype=np.int8)
    kind[starts] = _OPENED
    kind[ev_pos] = e_kind
    to = np.full(m, -1, dtype=np.int32)
    to[ev_pos] = codes["to_value"]
    w = np.empty(m, dtype=np.int64)
    w[starts] = w_open[t0:t1]
    w[ev_pos] = e_w
    dw64 = np.empty(m, dtype=np.int64)
    np.subtract(w[1:], w[:-1], out=dw64[:-1])
    dw64[ends] = w_now - w[ends]
    # A ticket's whole working time up to now fits 31 bits (68 years) unless the data
    # are absurd: then each gap fits int32 (half the memory traffic), and a clock's
    # running and paused sums can share one int64 (see _instances).
    narrow = int((w_now - w_open[t0:t1]).max(initial=0)) < 2**31
    dw = dw64.astype(np.int32) if narrow else dw64

    is_status = kind == _STATUS
    is_open = kind == _OPENED
    status = forward_fill(to, is_status | is_open)  # -1 on the openings
    return _Timeline(ticket_rows=ticket_rows[t0:t1], starts=starts, ends=ends, tix=tix,
                     kind=kind, to=to, now=now, opened=opened[t0:t1], e_at=e_at,
                     e_from=codes["from_value"], e_actor=codes["actor"], dw=dw,
                     dw64=dw64, narrow=narrow,
                     status=status, is_status=is_status, is_open=is_open,
                     priority=priority[t0:t1])


# --------------------------------------------------------------------------- one clock


@functools.lru_cache(maxsize=8)
def _label_index(labels: tuple[str, ...]) -> dict[str, int]:
    return {label: i for i, label in enumerate(labels)}


def _codes_of(names: Sequence[str], labels: tuple[str, ...]) -> NDArray[np.int64]:
    index = _label_index(labels)
    return np.array([index[n] for n in names if n in index], dtype=np.int64)


def _member(values: NDArray[Any], codes: Sequence[int] | NDArray[np.int64],
            size: int) -> NDArray[np.bool_]:
    """``values`` in ``codes`` (codes in ``[0, size)``; -1 is in nothing).

    A few codes are compared one by one: a comparison streams through memory, while a
    table look-up (``np.isin``, fancy indexing) widens the index to intp first.
    """
    codes = [int(c) for c in codes]
    if not codes:
        return np.zeros(values.shape, dtype=bool)
    if len(codes) <= 4:
        out: NDArray[np.bool_] = values == codes[0]
        for code in codes[1:]:
            out |= values == code
        return out
    table = np.zeros(size + 1, dtype=bool)
    table[codes] = True
    member: NDArray[np.bool_] = table[values]
    return member


def _matches(conditions: Sequence[str], tl: _Timeline, labels: tuple[str, ...],
             stop_codes: NDArray[np.int64]) -> NDArray[np.bool_]:
    out = _member(tl.kind, [int(_KIND_OF[c]) for c in conditions if c in _KIND_OF], 8)
    statuses = [c[len("status:"):] for c in conditions if c.startswith("status:")]
    if statuses:
        out |= tl.is_status & _member(tl.to, _codes_of(statuses, labels), len(labels))
    if "reopened" in conditions:
        stopped = _member(tl.status, stop_codes, len(labels))  # after each row
        before = np.zeros_like(stopped)
        before[1:] = stopped[:-1]
        out |= tl.is_status & before & ~stopped
    return out


@attrs.frozen(kw_only=True, eq=False)
class _Instances:
    tix: NDArray[np.int64]
    start_row: NDArray[np.int64]
    stop_row: NDArray[np.int64]   # -1 while active at the judging row
    elapsed: NDArray[np.int64]
    paused: NDArray[np.int64]
    paused_now: NDArray[np.bool_]
    active: NDArray[np.bool_]     # per timeline row (for time held)
    running: NDArray[np.bool_]    # per timeline row


@attrs.frozen(kw_only=True, eq=False)
class _Pause:
    paused: NDArray[np.bool_]  # after each row, whether or not the clock is active
    # Each row's gap in the low 32 bits when running, in the high bits when paused
    # (None when a ticket's time may not fit): one segment sum gives both totals.
    packed: NDArray[np.int64] | None


def _paused(tl: _Timeline, definition: ClockDefinition, labels: tuple[str, ...]) -> _Pause:
    """Whether the clock is paused after each row (whether or not it is active)."""
    pausing = tl.is_status & _member(tl.to, _codes_of(definition.pause, labels), len(labels))
    resuming = tl.is_status | _matches(definition.resume, tl, labels, np.zeros(0, np.int64))
    paused = forward_fill(pausing, resuming | tl.is_open)  # pausing rows are status rows
    return _Pause(paused=paused, packed=np.where(paused, tl.dw64 << 32, tl.dw64)
                  if tl.narrow else None)


def _instances(tl: _Timeline, definition: ClockDefinition, labels: tuple[str, ...],
               pause: _Pause) -> _Instances:
    is_open = tl.is_open
    stop_codes = _codes_of(definition.stop_statuses, labels)
    start = _matches(definition.start, tl, labels, stop_codes)
    stop = _matches(definition.stop, tl, labels, stop_codes)
    active = forward_fill(start & ~stop, start | stop | is_open)
    paused = pause.paused
    running = active & ~paused

    before = np.zeros_like(active)
    before[1:] = active[:-1]
    before &= ~is_open
    turn_on = np.flatnonzero(active & ~before)
    turn_off = np.flatnonzero(before & ~active)
    if not definition.recurring and turn_on.size:  # one instance: the first start
        on_tix = tl.tix[turn_on]
        turn_on = turn_on[np.concatenate(([True], on_tix[1:] != on_tix[:-1]))]
    inst_tix = tl.tix[turn_on].astype(np.int64)
    end = tl.ends[inst_tix]
    stop_row = np.full(turn_on.size, -1, dtype=np.int64)
    if turn_off.size:
        if definition.recurring:  # the next stop of the same ticket
            j = np.searchsorted(turn_off, turn_on)
            candidate = turn_off[np.minimum(j, turn_off.size - 1)]
            stop_row = np.where((j < turn_off.size) & (candidate <= end), candidate, -1)
        else:  # the last stop, when the clock is not active at the end
            j = np.searchsorted(turn_off, end, side="right") - 1
            stop_row = np.where(active[end] | (j < 0), -1, turn_off[np.maximum(j, 0)])
    if pause.packed is not None:  # both sums in one pass; each fits 31 bits
        sums = segment_sums(pause.packed * active, turn_on)
        elapsed, paused_w = sums & 0xFFFFFFFF, sums >> 32
    else:
        elapsed = segment_sums(tl.dw * running, turn_on, dtype=np.int64)
        paused_w = segment_sums(tl.dw * (active ^ running), turn_on, dtype=np.int64)
    return _Instances(tix=inst_tix, start_row=turn_on.astype(np.int64), stop_row=stop_row,
                      elapsed=elapsed, paused=paused_w, paused_now=(stop_row < 0) & paused[end],
                      active=active, running=running)


# --------------------------------------------------------------------------- attribution


@attrs.frozen(kw_only=True, eq=False)
class _People:
    labels: tuple[str, ...]
    to: NDArray[np.int64]          # event to_value code -> agent code (-1 none)
    ticket_agent: NDArray[np.int64]  # per selected ticket
    assignee: NDArray[np.int64]    # per timeline row, after the row
    actor: NDArray[np.int64]       # event actor code -> agent code (last slot: -1)


@attrs.frozen(kw_only=True, eq=False)
class _Vocabulary:
    """One code space for every agent id (the tickets', assignments', repliers')."""

    labels: tuple[str, ...]
    to: NDArray[np.int64]       # event to_value code -> agent code (last slot: -1)
    from_: NDArray[np.int64]
    actor: NDArray[np.int64]
    ticket: NDArray[np.int64]   # ticket-table agent code -> agent code


def _vocabulary(tickets: TicketTable, events: TicketEventTable) -> _Vocabulary:
    ticket_labels = tickets.labels("agent_id")
    sources = {name: events.labels(name) for name in ("to_value", "from_value", "actor")}
    labels = tuple(sorted(set(ticket_labels).union(*sources.values())))
    index = {label: i for i, label in enumerate(labels)}

    def recode(names: tuple[str, ...]) -> NDArray[np.int64]:
        return np.array([index[n] for n in names] + [-1], dtype=np.int64)

    return _Vocabulary(labels=labels, to=recode(sources["to_value"]),
                       from_=recode(sources["from_value"]), actor=recode(sources["actor"]),
                       ticket=recode(ticket_labels))


def _people(tl: _Timeline, tickets: TicketTable, vocabulary: _Vocabulary) -> _People:
    ticket_agent = vocabulary.ticket[tickets["agent_id"][tl.ticket_rows]]
    is_assign = tl.kind == _ASSIGNMENT
    assigns = np.flatnonzero(is_assign)
    j = np.searchsorted(assigns, tl.starts)
    first = assigns[np.minimum(j, max(assigns.size - 1, 0))] if assigns.size \
        else np.zeros(tl.starts.size, dtype=np.int64)
    has_first = (j < assigns.size) & (first <= tl.ends)
    first_from = np.where(has_first, vocabulary.from_[tl.e_from[tl.event(first)]]
                          if assigns.size else -1, -1)
    initial = np.where(first_from >= 0, first_from, ticket_agent)
    values = np.full(tl.kind.size, -1, dtype=np.int64)
    values[tl.starts] = initial
    values[assigns] = vocabulary.to[tl.to[assigns]]
    assignee = forward_fill(values, is_assign | tl.is_open)
    return _People(labels=vocabulary.labels, to=vocabulary.to, ticket_agent=ticket_agent,
                   assignee=assignee, actor=vocabulary.actor)


def _credits(tl: _Timeline, inst: _Instances, people: _People,
             attribution: str) -> _Credited:
    """(instance, agent, share) for each credit of *inst*; instance and share ``None``
    when each instance has one credit."""
    n = inst.tix.size
    at_stop = people.assignee[np.where(inst.stop_row >= 0, inst.stop_row, tl.ends[inst.tix])]
    if attribution == "ticket":
        return None, people.ticket_agent[inst.tix], None
    if attribution == "assignee_at_stop":
        return None, at_stop, None
    if attribution == "first_replier":
        replies = np.flatnonzero(tl.kind == _REPLY)
        j = np.searchsorted(replies, inst.start_row)
        reply = replies[np.minimum(j, max(replies.size - 1, 0))] if replies.size \
            else np.zeros(n, dtype=np.int64)
        found = (j < replies.size) & (reply <= tl.ends[inst.tix])
        who = np.where(found, people.actor[tl.e_actor[tl.event(reply)]]
                       if replies.size else -1, -1)
        return None, np.where(who >= 0, who, at_stop), None
    # time_held: running working seconds per (instance, assignee)
    run_w = tl.dw * inst.running
    rows = np.flatnonzero(run_w > 0)
    owner = np.searchsorted(inst.start_row, rows, side="right") - 1
    n_agents = len(people.labels)
    key = owner * n_agents + people.assignee[rows]
    pairs, inverse = np.unique(key, return_inverse=True)
    held = np.bincount(inverse, weights=run_w[rows], minlength=pairs.size)
    owner_of_pair = pairs // n_agents
    total = np.bincount(owner_of_pair, weights=held, minlength=n)
    none = np.flatnonzero(total == 0)
    instance = np.concatenate((owner_of_pair, none))
    agent = np.concatenate((pairs % n_agents, at_stop[none]))
    share = np.concatenate((held / total[owner_of_pair] if pairs.size else held,
                            np.ones(none.size)))
    order = np.lexsort((agent, instance))
    return instance[order], agent[order], share[order]


_Credited = tuple[NDArray[np.int64] | None, NDArray[np.int64], NDArray[np.float64] | None]


def _main_agent(n: int, instance: NDArray[np.int64], agent: NDArray[np.int64],
                share: NDArray[np.float64]) -> NDArray[np.int64]:
    """Per instance, the agent with the biggest share (the smallest code on a tie)."""
    out = np.full(n, -1, dtype=np.int64)
    if instance.size == n and np.array_equal(instance, np.arange(n)):
        out[:] = agent  # one credit each: nothing to choose
        return out
    order = np.lexsort((agent, -share, instance))
    first = np.concatenate(([True], instance[order][1:] != instance[order][:-1])) \
        if order.size else np.zeros(0, dtype=bool)
    out[instance[order][first]] = agent[order][first]
    return out


# --------------------------------------------------------------------------- measuring


_PART_COLUMNS: Final = ("clock", "ticket_row", "started_at", "stopped_at", "elapsed",
                        "paused", "target", "status", "at_risk", "active")


@attrs.frozen(kw_only=True, eq=False)
class _Measured:
    """Every clock instance (one value per instance in each array) and its credits."""

    clock: NDArray[np.int8]
    ticket_row: NDArray[np.int64]
    started_at: NDArray[np.int64]
    stopped_at: NDArray[np.int64]
    elapsed: NDArray[np.int64]
    paused: NDArray[np.int64]
    target: NDArray[np.int64]
    status: NDArray[np.int8]
    at_risk: NDArray[np.bool_]
    active: NDArray[np.bool_]
    credit_agent: NDArray[np.int64]
    # None: one credit per instance, share 1 (the row is the instance itself)
    credit_rows: NDArray[np.int64] | None
    credit_shares: NDArray[np.float64] | None
    agent_labels: tuple[str, ...]
    hand_offs: _HandOffs
    unmatched: int

    @property
    def single(self) -> bool:
        """Whether every instance has one credit (share 1), in instance order."""
        return self.credit_rows is None

    @property
    def credit_row(self) -> NDArray[np.int64]:
        return np.arange(self.clock.size, dtype=np.int64) if self.credit_rows is None \
            else self.credit_rows

    @property
    def credit_share(self) -> NDArray[np.float64]:
        return np.ones(self.clock.size) if self.credit_shares is None \
            else self.credit_shares


def _targets(policy: Policy, clock: str, priority: NDArray[np.int8]
             ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Target and at-risk threshold (``ceil(share × target)``) per row, whole seconds."""
    table = policy.sla.targets(clock)
    share = Fraction(policy.sla.at_risk_share)
    target = [math.floor(table[p]) for p in Priority]
    threshold = [math.ceil(share * t) for t in target]
    return (np.array(target, dtype=np.int64)[priority],
            np.array(threshold, dtype=np.int64)[priority])


@attrs.frozen(kw_only=True, eq=False)
class _Part:
    """One clock's instances, judged: the columns of its rows in the clock table."""

    columns: dict[str, NDArray[Any]]
    credits: _Credited
    active_rows: NDArray[np.bool_]


def _judge(tl: _Timeline, people: _People, policy: Policy, code: int,
           pause: _Pause, labels: tuple[str, ...]) -> _Part:
    name = CLOCK_NAMES[code]
    definition = policy.sla.clocks[name]
    inst = _instances(tl, definition, labels, pause)
    target, threshold = _targets(policy, name, tl.priority[inst.tix])
    active = inst.stop_row < 0
    breached = inst.elapsed > target
    status = np.where(breached, _CODES[ClockStatus.BREACHED],
                      np.where(~active, _CODES[ClockStatus.ACHIEVED],
                               np.where(inst.paused_now, _CODES[ClockStatus.PAUSED],
                                        _CODES[ClockStatus.RUNNING]))).astype(np.int8)
    quiet = _member(tl.status[tl.ends[inst.tix]], _codes_of(definition.quiet, labels),
                    len(labels))
    return _Part(
        columns={"clock": np.full(inst.tix.size, code, dtype=np.int8),
                 "ticket_row": tl.ticket_rows[inst.tix],
                 "started_at": tl.at(inst.start_row),
                 "stopped_at": np.where(active, MISSING, tl.at(np.maximum(inst.stop_row, 0))),
                 "elapsed": inst.elapsed, "paused": inst.paused, "target": target,
                 "status": status,
                 "at_risk": active & ~breached & (inst.elapsed >= threshold) & ~quiet,
                 "active": active},
        credits=_credits(tl, inst, people, definition.attribution), active_rows=inst.active)


def _measure(tickets: TicketTable, events: TicketEventTable, *, now: int, inclusive: bool,
             policy: Policy, ticket_mask: NDArray[np.bool_] | None = None,
             report: bool = True) -> _Measured:
    opened_all = tickets["opened_at"]
    selected = (opened_all <= now) if inclusive else (opened_all < now)
    if ticket_mask is not None:
        selected &= ticket_mask
    ticket_rows = np.flatnonzero(selected).astype(np.int64)
    nt = ticket_rows.size
    dense = np.full(len(tickets) + 1, -1, dtype=np.int32)
    dense[ticket_rows] = np.arange(nt)
    opened = opened_all[ticket_rows]
    # W(t) of every event and opening on another thread while the events are matched
    # to their tickets and split into blocks (numpy releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(policy.calendar.working_clocks, events["at"], opened,
                              np.array([now], dtype=np.int64))
        vocabulary = _vocabulary(tickets, events)
        row_of_label = _ticket_row_of(tickets, events.labels("ticket_id"))
        kept = _kept(events, row_of_label, dense, now=now, inclusive=inclusive)
        blocks = _blocks(kept.tix, nt, _BLOCK_ROWS) if nt else []
        w_all, w_open, w_now = pending.result()
    if nt == 0:  # no ticket opened by then: no clocks
        none: NDArray[Any] = np.zeros(0, dtype=np.int64)
        return _Measured(**{name: none for name in _PART_COLUMNS}, credit_agent=none,
                         credit_rows=None, credit_shares=None,
                         agent_labels=vocabulary.labels, hand_offs=_HandOffs.empty(),
                         unmatched=kept.unmatched)
    kept = attrs.evolve(kept, w=w_all)
    labels = events.labels("to_value")
    priority = tickets["priority"][ticket_rows]

    def run(block: tuple[int, int, NDArray[np.intp] | None]
            ) -> tuple[list[_Part], _HandOffs]:
        tl = _timeline(kept, block, ticket_rows=ticket_rows, opened=opened, w_open=w_open,
                       w_now=int(w_now[0]), priority=priority, now=now)
        people = _people(tl, tickets, vocabulary)
        # Clocks with the same pause and resume rules share one paused state (by
        # default all three do).
        pauses: dict[tuple[tuple[str, ...], tuple[str, ...]], _Pause] = {}
        parts = []
        for code, name in enumerate(CLOCK_NAMES):
            definition = policy.sla.clocks[name]
            key = (definition.pause, definition.resume)
            if key not in pauses:
                pauses[key] = _paused(tl, definition, labels)
            parts.append(_judge(tl, people, policy, code, pauses[key], labels))
        hand_offs = _hand_offs(tl, people, parts[CLOCK_NAMES.index("resolution")].active_rows) \
            if report else _HandOffs.empty()
        return parts, hand_offs

    # Blocks of whole tickets keep every temporary small enough to stay in the
    # allocator's reach (no fresh pages to fault in) and run on two threads.
    if len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(run, blocks))
    else:
        results = [run(blocks[0])]
    # Clock-major order: every block's first responses, then next replies, resolutions.
    parts = [result[0][code] for code in range(len(CLOCK_NAMES)) for result in results]
    return _Measured(**_assemble(parts), agent_labels=vocabulary.labels,
                     hand_offs=_HandOffs.merge([result[1] for result in results],
                                               vocabulary.labels)
                     if report else _HandOffs.empty(), unmatched=kept.unmatched)


def _assemble(parts: Sequence[_Part]) -> dict[str, Any]:
    """The parts' columns and credits end to end, concatenated on two threads (the
    time goes into faulting in the fresh pages of the results)."""
    jobs: dict[str, list[NDArray[Any]]] = {
        key: [p.columns[key] for p in parts] for key in _PART_COLUMNS}
    jobs["credit_agent"] = [p.credits[1] for p in parts]
    if any(p.credits[0] is not None for p in parts):
        offsets = np.cumsum([0, *(p.columns["clock"].size for p in parts)])
        sizes = [p.credits[1].size for p in parts]
        jobs["credit_rows"] = [
            (row if row is not None else np.arange(size, dtype=np.int64)) + offset
            for (row, _, _), size, offset in zip((p.credits for p in parts), sizes, offsets,
                                                 strict=False)]
        jobs["credit_shares"] = [share if share is not None else np.ones(size)
                                 for (_, _, share), size in zip((p.credits for p in parts),
                                                                sizes, strict=True)]
    out: dict[str, Any] = {"credit_rows": None, "credit_shares": None}
    with ThreadPoolExecutor(max_workers=2) as pool:
        out.update(zip(jobs, pool.map(np.concatenate, jobs.values()), strict=True))
    return out


@attrs.frozen(kw_only=True, eq=False)
class _HandOffs:
    """Time held per agent and assignee changes per (from, to) pair, as arrays."""

    labels: tuple[str, ...]
    seconds: NDArray[np.int64]  # per agent code
    pairs_: NDArray[np.int64]   # from * len(labels) + to
    counts: NDArray[np.int64]

    @classmethod
    def empty(cls) -> _HandOffs:
        none = np.zeros(0, dtype=np.int64)
        return cls(labels=(), seconds=none, pairs_=none, counts=none)

    @classmethod
    def merge(cls, parts: Sequence[_HandOffs], labels: tuple[str, ...]) -> _HandOffs:
        """The hand-offs of several blocks of tickets, added up."""
        if len(parts) == 1:
            return parts[0]
        seconds = np.stack([p.seconds for p in parts]).sum(axis=0).astype(np.int64)
        pairs, inverse = np.unique(np.concatenate([p.pairs_ for p in parts]),
                                   return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([p.counts for p in parts]),
                             minlength=pairs.size)
        return cls(labels=labels, seconds=seconds, pairs_=pairs,
                   counts=counts.astype(np.int64))

    def held(self) -> dict[str, int]:
        return {self.labels[i]: int(self.seconds[i]) for i in np.flatnonzero(self.seconds)}

    def pairs(self) -> dict[tuple[str, str], int]:
        n = len(self.labels)
        return {(self.labels[int(p) // n], self.labels[int(p) % n]): int(c)
                for p, c in zip(self.pairs_, self.counts, strict=True)}


def _hand_offs(tl: _Timeline, people: _People,
               resolution_active: NDArray[np.bool_]) -> _HandOffs:
    n_agents = len(people.labels)
    holder = people.assignee
    rows = np.flatnonzero(tl.kind == _ASSIGNMENT)
    # The holder changes only at openings and assignments: sum each holding stretch,
    # then add the stretches up per holder.
    stretches = np.flatnonzero(tl.is_open | (tl.kind == _ASSIGNMENT))
    held = segment_sums(tl.dw * resolution_active, stretches, dtype=np.int64)
    owner = holder[stretches]
    seconds = np.bincount(owner[owner >= 0], weights=held[owner >= 0], minlength=n_agents)
    before, after = holder[rows - 1], holder[rows]
    changed = (before != after) & (before >= 0) & (after >= 0)
    pairs, counts = np.unique(before[changed] * n_agents + after[changed], return_counts=True)
    # The labels are sorted, so the packed pairs are in (from, to) order already.
    return _HandOffs(labels=people.labels, seconds=seconds.astype(np.int64), pairs_=pairs,
                     counts=counts.astype(np.int64))


def _instant(now: object) -> int:
    if not isinstance(now, datetime):
        raise TypeError(f"'now' must be an aware datetime (got {now!r})")
    return to_epoch(now)


def _check(tickets: object, events: object, policy: object, agents: object = None) -> Policy:
    if not isinstance(tickets, TicketTable):
        raise TypeError(f"'tickets' must be a TicketTable (got {type(tickets).__name__})")
    if not isinstance(events, TicketEventTable):
        raise TypeError(f"'events' must be a TicketEventTable (got {type(events).__name__})")
    if agents is not None and not isinstance(agents, AgentTable):
        raise TypeError(f"'agents' must be an AgentTable (got {type(agents).__name__})")
    if policy is None:
        return _DEFAULT_POLICY
    if not isinstance(policy, Policy):
        raise TypeError(f"'policy' must be a Policy (got {type(policy).__name__})")
    return policy


def measure_clocks(tickets: TicketTable, events: TicketEventTable, *, now: datetime,
                   policy: Policy | None = None,
                   agents: AgentTable | None = None) -> ClockTable:
    """Every SLA clock instance of every ticket opened by *now*, judged as of *now*.

    Args:
        tickets: the tickets (opening time, priority, agent of record).
        events: their history; events after *now* do not count, events of tickets
            *tickets* does not have are counted in :attr:`ClockTable.unmatched_events`.
        now: the judging instant (aware; events at *now* count).
        policy: clock definitions, targets, ``at_risk_share`` and the working calendar.
        agents: the roster, for :meth:`ClockTable.time_held` and
            :meth:`ClockTable.handoffs` by team.

    Returns:
        A :class:`ClockTable`, rows by clock, then ticket row, then start.

    Raises:
        TypeError: a table of the wrong type, or *now* not a datetime.
        NaiveDatetimeError: *now* is naive.

    .. versionadded:: 0.1
    """
    policy = _check(tickets, events, policy, agents)
    instant = _instant(now)
    measured = _measure(tickets, events, now=instant, inclusive=True, policy=policy)
    return _table(measured, tickets, instant, policy, agents)


def _table(measured: _Measured, tickets: TicketTable, now: int, policy: Policy,
           agents: AgentTable | None) -> ClockTable:
    n = measured.clock.size
    main = measured.credit_agent if measured.single else _main_agent(
        n, measured.credit_row, measured.credit_agent, measured.credit_share)
    used = np.zeros(len(measured.agent_labels) + 1, dtype=bool)
    used[main] = True
    if not measured.single:
        used[measured.credit_agent] = True
    used = used[:-1]
    recode = np.full(len(measured.agent_labels) + 1, -1, dtype=np.int64)
    recode[np.flatnonzero(used)] = np.arange(int(used.sum()))
    labels = tuple(measured.agent_labels[i] for i in np.flatnonzero(used))
    due = np.full(n, MISSING, dtype=np.int64)
    open_ = measured.active & (measured.status != _CODES[ClockStatus.BREACHED])
    if open_.any():
        due[open_] = policy.calendar.add_working_time(
            np.full(int(open_.sum()), now, dtype=np.int64),
            measured.target[open_] - measured.elapsed[open_])
    columns = {name: getattr(measured, name) for name in CLOCK_SCHEMA.names
               if name in _PART_COLUMNS}
    columns.update(ticket_id=tickets["ticket_id"][measured.ticket_row], due_at=due,
                   agent_id=recode[main].astype(np.int32))
    credits = None if measured.single else Credits(
        row=measured.credit_row, agent=recode[measured.credit_agent],
        share=measured.credit_share, labels=labels)
    return ClockTable(columns, {"ticket_id": tickets.labels("ticket_id"), "agent_id": labels},
                      n, now=now, credits=credits, ticket_rows=measured.ticket_row,
                      hand_offs=measured.hand_offs, roster=agents,
                      unmatched=measured.unmatched)


def clocks_at_risk(events: TicketEventTable, *, tickets: TicketTable, now: datetime,
                   policy: Policy | None = None) -> ClockTable:
    """The clock instances at risk as of *now*, the soonest due first.

    A clock is at risk when it is running or paused, has used at least
    ``policy.sla.at_risk_share`` of its target (``elapsed >= ceil(share × target)``)
    and the ticket's status is not one of the clock's ``quiet`` statuses — so a CRM can
    act before the breach. Rows are ordered by ``due_at``, then clock, then ticket id.

    .. versionadded:: 0.1
    """
    table = measure_clocks(tickets, events, now=now, policy=policy)
    rows = np.flatnonzero(table["at_risk"])
    ids = _ranks(table.labels("ticket_id"))[table["ticket_id"][rows].astype(np.int64)]
    order = np.lexsort((ids, table["clock"][rows], table["due_at"][rows]))
    return table.take(rows[order])
