"""Follow-up scheduling (跟踪服务 / 回访): every callback rule of the dealer's rules.

:func:`plan_followups` turns tickets, customers, callbacks, events and maintenance dates
into a :class:`FollowUpPlan`: one row per due contact with its subject, kind, due window
``[earliest, latest)`` (UTC epoch seconds; aware datetimes through :meth:`contacts`),
assignee and the id of the rule that produced it. The rules, with the policy's numbers
(``policy.followup``; calendar days unless named *working*):

================================  ===========================================================
rule id                           window
================================  ===========================================================
``customer-file``                 ticket opened (the visit) .. + ``customer_file_days``
``first-call``                    hand-back + ``first_call_min_days`` .. + ``first_call_max_days``
                                  (hand-back: ``closed_at``, else ``resolved_at``)
``quality-call``                  delivery (``closed_at``) .. end of the
                                  ``quality_call_working_days``-th working day after it
``second-call``                   first call's earliest + ``second_call_after_days`` .. +
                                  ``second_call_window_days``
``report-unanswered``             an unsolved callback .. + ``unanswered_report_days``, to the
                                  caller's supervisor
``tell-solution``                 the ticket resolved after an unsolved callback on it (the
                                  solution is found at ``resolved_at``) .. the end of that
                                  working day of the centre; resolved outside working time:
                                  the end of the next working day (once per ticket)
``event-call``                    event − ``event_call_days_before`` .. event − 7 days; loyal
                                  customers first: 3 days earlier
``event-letter``                  the event call's start .. + ``event_letter_days_after``
                                  (events with letters: the letter follows the phone notice)
``maintenance-reminder``          due − ``maintenance_remind_days_before`` .. due − 7 days
``maintenance-near``              due − ``maintenance_near_days_before`` .. due
``cadence-a|b|c``                 by tier, ``dateutil.rrule`` from the customer's last visit
                                  (``dtstart``), every occurrence after ``now`` within
                                  ``horizon_days``; window: that day
``lost-customer``                 ``now`` .. + 7 days, for loyalty class LOST
``home-visit``                    ``now`` .. + 30 days, for a seeded share of customers
================================  ===========================================================

Every window is then fitted into the time when the service centre works (the policy's
calendar) **and** the customer is reachable (``customer_hours`` on Monday–Saturday in the
customer's own zone; a zone whose hours never meet the centre's falls back to the
centre's hours alone): its start moves forward and its end back to joint working time, and
a window with no joint working time becomes the next joint working interval (the next day
that has one). Windows never start before the fact that triggers them. Contacts whose
window closed before ``now`` stay in the plan and are reported by :meth:`overdue`.

Assignment: the ticket's agent (the caller's supervisor for ``report-unanswered``);
quality calls, cadence, lost-customer, home-visit and event contacts go to the agents
whose role is ``policy.followup.assignee_role``, spread evenly by a stable hash of the
customer id (load balancing; documented, reproducible). An assignee absent at the window
start (``staff``) is replaced by the substitute the supervisor designated (代理), and the
row records whom it stands in for.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import functools
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Final, final

import attrs
import numpy as np
from dateutil import rrule, tz
from numpy.typing import NDArray

from servicekpi import _extras
from servicekpi.calendar import WorkCalendar, fit_windows, from_epoch, to_epoch, utc_offsets
from servicekpi.domain import CallbackOutcome, CallbackSubject, Loyalty, Tier
from servicekpi.exceptions import CalendarError, NaiveDatetimeError, UnknownKeyError
from servicekpi.kernel import MISSING
from servicekpi.policy import Cadence, Policy
from servicekpi.tables import AgentTable, CallbackTable, CustomerTable, TicketTable

__all__ = ("CustomerEvent", "FollowUp", "FollowUpKind", "FollowUpPlan", "MaintenanceDue",
           "Reconciliation", "ReconcileStatus", "StaffAvailability", "cadence_dates",
           "plan_followups", "reconcile")

_DAY: Final = 86_400
_LOYAL_FIRST_DAYS: Final = 3
_LOST_DAYS: Final = 7
_HOME_DAYS: Final = 30
_PARALLEL_ROWS: Final = 1 << 20  # plans this long fit and gather on two threads
_BLOCK: Final = 1 << 14  # rows per block where many passes run over the same rows
_FREQ: Final = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY,
                "yearly": rrule.YEARLY}


class FollowUpKind(enum.StrEnum):
    """What a contact is.

    .. versionadded:: 0.1
    """

    CUSTOMER_FILE = "customer_file"
    CALL = "call"
    QUALITY_CALL = "quality_call"
    REPORT = "report"
    LETTER = "letter"
    REMINDER = "reminder"
    VISIT = "visit"


_RULES: Final = {  # rule id -> (kind, subject)
    "customer-file": (FollowUpKind.CUSTOMER_FILE, CallbackSubject.TICKET),
    "first-call": (FollowUpKind.CALL, CallbackSubject.TICKET),
    "quality-call": (FollowUpKind.QUALITY_CALL, CallbackSubject.TICKET),
    "second-call": (FollowUpKind.CALL, CallbackSubject.TICKET),
    "report-unanswered": (FollowUpKind.REPORT, CallbackSubject.TICKET),
    "event-call": (FollowUpKind.CALL, CallbackSubject.EVENT),
    "event-letter": (FollowUpKind.LETTER, CallbackSubject.EVENT),
    "maintenance-reminder": (FollowUpKind.REMINDER, CallbackSubject.CUSTOMER),
    "maintenance-near": (FollowUpKind.REMINDER, CallbackSubject.CUSTOMER),
    "cadence-a": (FollowUpKind.CALL, CallbackSubject.CUSTOMER),
    "cadence-b": (FollowUpKind.CALL, CallbackSubject.CUSTOMER),
    "cadence-c": (FollowUpKind.CALL, CallbackSubject.CUSTOMER),
    "lost-customer": (FollowUpKind.CALL, CallbackSubject.CUSTOMER),
    "home-visit": (FollowUpKind.VISIT, CallbackSubject.CUSTOMER),
    # appended: plans store rules as indices into RULE_IDS (archived plans included)
    "tell-solution": (FollowUpKind.CALL, CallbackSubject.TICKET),
}
RULE_IDS: Final = tuple(_RULES)


@final
@attrs.frozen(kw_only=True)
class CustomerEvent:
    """A customer event (club day, promotion, free check) to phone about and write after.

    ``customers``: who is invited (``None``: every customer of the table).

    .. versionadded:: 0.1
    """

    event_id: str
    at: datetime
    letter: bool = False
    customers: tuple[str, ...] | None = None


@final
@attrs.frozen(kw_only=True)
class MaintenanceDue:
    """A customer's maintenance due date (e.g. a vehicle's next service).

    .. versionadded:: 0.1
    """

    customer_id: str
    due: datetime
    subject_id: str | None = None


@final
@attrs.frozen(kw_only=True)
class StaffAvailability:
    """Absences per agent and the substitutes (代理) supervisors designated.

    ``absences``: agent id -> ``(start, end)`` aware datetimes (half-open);
    ``substitutes``: absent agent id -> the agent who stands in.

    .. versionadded:: 0.1
    """

    absences: Mapping[str, Sequence[tuple[datetime, datetime]]] = attrs.field(factory=dict)
    substitutes: Mapping[str, str] = attrs.field(factory=dict)


@final
@attrs.frozen(kw_only=True)
class FollowUp:
    """One due contact, with aware datetimes in the service centre's zone.

    .. versionadded:: 0.1
    """

    rule_id: str
    kind: FollowUpKind
    subject: CallbackSubject
    subject_id: str
    customer_id: str | None
    earliest: datetime
    latest: datetime
    assignee: str | None
    substitute_for: str | None
    overdue: bool


class ReconcileStatus(enum.StrEnum):
    """What became of a due contact.

    .. versionadded:: 0.1
    """

    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"
    PENDING = "pending"
    NOT_A_CALL = "not_a_call"
    """A customer file, report, letter or visit: no callback record can show it done."""


# --------------------------------------------------------------------------- the plan


@final
class FollowUpPlan:
    """An immutable table of due contacts (one row each), sorted by window start.

    Columns: ``rule`` (index into :data:`RULE_IDS`), ``subject_id`` / ``customer_id`` /
    ``assignee`` / ``substitute_for`` (labels, ``None`` where missing), ``trigger``,
    ``earliest``, ``latest`` (int64 UTC epoch seconds).

    .. versionadded:: 0.1
    """

    _LABELLED: Final = ("subject_id", "customer_id", "assignee", "substitute_for")

    def __init__(self, columns: Mapping[str, NDArray[Any]],
                 labels: Mapping[str, tuple[Any, ...]], *, now: int, tz: str,
                 presorted: bool = False) -> None:
        # Label columns hold int codes into ``labels`` (-1 = None): sorting and slicing
        # move integers, and strings are decoded only when asked for.
        self._columns = dict(columns) if presorted else _sorted_columns(columns)[1]
        for array in self._columns.values():
            array.flags.writeable = False
        self._labels = dict(labels)
        self._decoded: dict[str, NDArray[Any]] = {}
        self.now = now
        self.tz = tz

    def __len__(self) -> int:
        return len(self._columns["rule"])

    def __getitem__(self, name: str) -> NDArray[Any]:
        if name not in self._columns:
            raise UnknownKeyError.for_key("plan column", name, self._columns)
        if name not in self._LABELLED:
            return self._columns[name]
        if name not in self._decoded:
            table = np.array([*self._labels[name], None], dtype=object)
            codes = self._columns[name]
            decoded = table[np.where(codes < 0, len(table) - 1, codes)]
            decoded.flags.writeable = False
            self._decoded[name] = decoded
        return self._decoded[name]

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names."""
        return tuple(self._columns)

    def _codes(self, name: str) -> tuple[NDArray[np.integer[Any]], tuple[Any, ...]]:
        """A label column as (codes, labels), -1 = None; the labels may repeat."""
        return self._columns[name], self._labels[name]

    def _take(self, mask: NDArray[np.bool_]) -> FollowUpPlan:
        return FollowUpPlan({k: v[mask] for k, v in self._columns.items()}, self._labels,
                            now=self.now, tz=self.tz, presorted=True)

    def due_between(self, start: datetime, end: datetime) -> FollowUpPlan:
        """Contacts whose window overlaps ``[start, end)``."""
        a, b = _epoch(start, "start"), _epoch(end, "end")
        return self._take((self["earliest"] < b) & (self["latest"] > a))

    def overdue(self, now: datetime | None = None) -> FollowUpPlan:
        """Contacts whose window closed at or before *now* (default: the plan's ``now``)."""
        at = self.now if now is None else _epoch(now, "now")
        return self._take(self["latest"] <= at)

    def for_agent(self, agent_id: str) -> FollowUpPlan:
        """Contacts assigned to *agent_id* (including those it stands in for)."""
        codes = [i for i, label in enumerate(self._labels["assignee"]) if label == agent_id]
        return self._take(np.isin(self._columns["assignee"], codes))

    def by_rule(self, rule_id: str) -> FollowUpPlan:
        """Contacts produced by rule *rule_id*."""
        if rule_id not in RULE_IDS:
            raise UnknownKeyError.for_key("follow-up rule", rule_id, RULE_IDS)
        return self._take(self["rule"] == RULE_IDS.index(rule_id))

    def contacts(self) -> list[FollowUp]:
        """The rows as :class:`FollowUp` objects (aware datetimes in the centre's zone)."""
        out = []
        for i in range(len(self)):
            rule = RULE_IDS[int(self["rule"][i])]
            kind, subject = _RULES[rule]
            out.append(FollowUp(
                rule_id=rule, kind=kind, subject=subject, subject_id=str(self["subject_id"][i]),
                customer_id=_optional(self["customer_id"][i]),
                earliest=from_epoch(int(self["earliest"][i]), self.tz),
                latest=from_epoch(int(self["latest"][i]), self.tz),
                assignee=_optional(self["assignee"][i]),
                substitute_for=_optional(self["substitute_for"][i]),
                overdue=bool(self["latest"][i] <= self.now)))
        return out

    def counts(self) -> dict[str, int]:
        """Contacts per rule id."""
        counts = np.bincount(self["rule"].astype(np.int64), minlength=len(RULE_IDS))
        return {rule: int(counts[i]) for i, rule in enumerate(RULE_IDS) if counts[i]}

    def to_frame(self, backend: str | None = None) -> Any:
        """The contacts as a dataframe (aware datetimes, labels decoded); ``backend`` as
        in :meth:`KpiPanel.to_frame`. Needs the ``frames`` extra."""
        return _extras.edge("io.frames").followups_to_frame(self, backend=backend)

    def _repr_html_(self) -> str:
        html: str = _extras.edge("report.notebook").followups_html(self)
        return html

    def __repr__(self) -> str:
        return f"<FollowUpPlan: {len(self)} contacts, {len(self.overdue())} overdue>"


def _sorted_columns(columns: Mapping[str, NDArray[Any]]
                    ) -> tuple[NDArray[np.intp], dict[str, NDArray[Any]]]:
    """The plan order of *columns* (:func:`_plan_order`) and the columns gathered in it."""
    order, done = _plan_order(columns)
    rest = [name for name in columns if name not in done]

    def gather(name: str) -> NDArray[Any]:
        return _gather(columns[name], order)

    if len(order) >= _PARALLEL_ROWS:  # numpy's take releases the GIL
        with ThreadPoolExecutor(max_workers=2) as pool:
            done.update(zip(rest, pool.map(gather, rest), strict=True))
    else:
        done.update((name, gather(name)) for name in rest)
    return order, {name: done[name] for name in columns}


def _gather(values: NDArray[Any], order: NDArray[np.intp]) -> NDArray[Any]:
    """``values[order]``; a constant column (``substitute_for`` without absences) is
    refilled instead of gathered."""
    values = np.asarray(values)
    if values.size and values.dtype.kind in "iu" and values.min() == values.max():
        return np.full(len(order), values[0], dtype=values.dtype)
    return values[order]


def _plan_order(columns: Mapping[str, NDArray[Any]]
                ) -> tuple[NDArray[np.intp], dict[str, NDArray[Any]]]:
    """Rows by window start, then rule, subject and customer code (missing as 0), then
    row: the order and the columns the last pass already sorted.

    numpy sorts plain int64 values far faster than it argsorts them, so the sort is a
    least-significant-first radix over the four keys: each pass packs whole keys and the
    row's position in the previous order (its tie-break) into one int64, sorts it and
    reads the positions back from the low bits. Keys too wide for that: ``lexsort``.
    """
    earliest = np.asarray(columns["earliest"], dtype=np.int64)
    n = len(earliest)
    if n < 2:
        return np.arange(n), {}
    low = int(earliest.min())
    # (name, values, lowest value) from the least significant key; codes -1 count as 0
    keys = [("customer_id", columns["customer_id"], 0), ("subject_id", columns["subject_id"], 0),
            ("rule", columns["rule"], 0), ("earliest", earliest, low)]
    widths = [max(int(values.max()) - lowest, 0).bit_length() for _, values, lowest in keys]
    row_bits = (n - 1).bit_length()
    room = 63 - row_bits
    if max(widths) > room:
        return np.lexsort([np.maximum(values, lowest) for _, values, lowest in keys]), {}
    passes: list[list[int]] = [[]]
    for i, width in enumerate(widths):
        if sum(widths[j] for j in passes[-1]) + width > room:
            passes.append([])
        passes[-1].append(i)
    mask = (1 << row_bits) - 1
    order = np.zeros(0, dtype=np.int64)  # the first pass reads rows in their own order
    packed = np.empty(n, dtype=np.int64)
    done: dict[str, NDArray[Any]] = {}
    for number, fields in enumerate(passes):
        # packed = keys << ... | the row's position in the previous order, in cache-sized
        # blocks
        for block in range(0, n, _BLOCK):
            rows = slice(block, block + _BLOCK)
            into = packed[rows]
            into[:] = np.arange(block, block + len(into))
            shift = row_bits
            for i in fields:
                _, values, lowest = keys[i]
                part = np.maximum(values[order[rows]] if number else values[rows], lowest,
                                  dtype=np.int64)
                if lowest:
                    part -= lowest
                part <<= shift
                into |= part
                shift += widths[i]
        packed.sort()
        if number + 1 == len(passes):
            # the last pass holds the most significant keys: read them back, sorted
            done = _unpack(packed, [(keys[i][0], keys[i][1].dtype, keys[i][2], widths[i])
                                    for i in fields], row_bits)
        packed &= mask
        order = order[packed] if number else packed.copy()
    return order, done


def _unpack(packed: NDArray[np.int64], fields: list[tuple[str, np.dtype[Any], int, int]],
            shift: int) -> dict[str, NDArray[Any]]:
    """The ``earliest`` and ``rule`` fields of sorted packed keys (block by block)."""
    out: dict[str, NDArray[Any]] = {}
    for name, dtype, lowest, width in fields:
        if name in ("earliest", "rule"):
            column = out[name] = np.empty(len(packed), dtype=dtype)
            for block in range(0, len(packed), _BLOCK):
                rows = slice(block, block + _BLOCK)
                values = packed[rows] >> shift
                values &= (1 << width) - 1
                values += lowest
                column[rows] = values
        shift += width
    return out


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _epoch(moment: datetime, name: str) -> int:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(f"{name!r} must be a timezone-aware datetime (got {moment!r})")
    return to_epoch(moment)


# --------------------------------------------------------------------------- cadence


def cadence_dates(cadence: Cadence, dtstart: datetime, after: datetime,
                  until: datetime) -> list[datetime]:
    """The cadence's occurrences in ``(after, until]``, from ``dateutil.rrule``.

    ``dtstart`` is explicit (never the clock), and occurrences keep its local wall time
    (so a weekly call stays at 10:00 across a DST change); a wall time that does not exist
    on a spring-forward day moves forward by the gap (``dateutil.tz.resolve_imaginary``),
    an ambiguous one is its first occurrence.

    >>> from datetime import timezone
    >>> start = datetime(2026, 1, 31, 10, tzinfo=timezone.utc)
    >>> [d.date().isoformat() for d in cadence_dates(Cadence(freq="monthly"), start, start,
    ...                                                datetime(2026, 6, 1, tzinfo=timezone.utc))]
    ['2026-03-31', '2026-05-31']

    .. versionadded:: 0.1
    """
    for name, value in (("dtstart", dtstart), ("after", after), ("until", until)):
        _epoch(value, name)
    # rrule compares datetimes of one zone by wall clock (a repeated hour is ambiguous),
    # so it runs a day wider and the bounds are applied to UTC instants.
    day = timedelta(days=1)
    rule = rrule.rrule(_FREQ[cadence.freq], interval=cadence.interval,  # type: ignore[arg-type]
                       dtstart=dtstart, until=until + day)
    low, high = to_epoch(after), to_epoch(until)
    resolved = (tz.resolve_imaginary(d) for d in rule.between(after - day, until + day,
                                                              inc=True))
    return [d for d in resolved if low < to_epoch(d) <= high]


def _cadence_vectorised(freq: str, interval: int, dtstart: NDArray[np.int64], after: int,
                        until: int, tz: NDArray[np.int64], zones: Sequence[str]
                        ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(row, occurrence) pairs of the rrule of every row, in numpy (local wall time).

    Equal to :func:`cadence_dates` per row (a test checks it): occurrences are the local
    dates dtstart + k·interval days / weeks / months, k >= 0 (months without that day are
    skipped, as rrule does), at dtstart's local wall time, strictly after ``after``.
    """
    offsets = np.zeros(dtstart.shape, dtype=np.int64)
    for code, zone in enumerate(zones):
        here = tz == code
        if here.any():
            offsets[here] = utc_offsets(dtstart[here], zone)
    local = dtstart + offsets
    day = local // _DAY
    clock = local % _DAY
    span_days = (until - int(dtstart.min())) // _DAY + 2 if dtstart.size else 0
    step_days = {"daily": 1, "weekly": 7}.get(freq)
    rows_out, times_out = [], []
    if step_days is not None:
        count = span_days // (step_days * interval) + 2
        ks = np.arange(0, count + 1)
        days = day[:, None] + ks[None, :] * step_days * interval
        valid = np.ones(days.shape, dtype=bool)
    else:
        months_per = interval * (12 if freq == "yearly" else 1)
        count = span_days // (28 * months_per) + 2
        ks = np.arange(0, count + 1)
        start_date = day.astype("datetime64[D]")
        month0 = start_date.astype("datetime64[M]")
        dom = (start_date - month0.astype("datetime64[D]")).astype(np.int64)
        months = month0[:, None] + ks[None, :] * months_per
        dates = months.astype("datetime64[D]") + dom[:, None]
        valid = dates.astype("datetime64[M]") == months
        days = dates.astype(np.int64)
    local_times = days * _DAY + clock[:, None]
    rows = np.broadcast_to(np.arange(len(dtstart))[:, None], local_times.shape)
    utc = np.empty(local_times.shape, dtype=np.int64)
    for code, zone in enumerate(zones):
        here = tz == code
        if here.any():
            utc[here] = _local_to_utc(local_times[here], zone)
    keep = valid & (utc > after) & (utc <= until)
    rows_out.append(rows[keep])
    times_out.append(utc[keep])
    return np.concatenate(rows_out), np.concatenate(times_out)


def _local_to_utc(local: NDArray[np.int64], zone: str) -> NDArray[np.int64]:
    """Local wall times -> UTC, as dateutil resolves them: a nonexistent time moves forward
    by the gap (the offset from before the change applies), an ambiguous one takes its
    first occurrence. Offsets a day before and after bracket any single change."""
    flat = local.ravel()
    before = flat - utc_offsets(flat - _DAY, zone)
    after = flat - utc_offsets(flat + _DAY, zone)
    ok_before = before + utc_offsets(before, zone) == flat
    ok_after = after + utc_offsets(after, zone) == flat
    utc = np.where(ok_before & ok_after, np.minimum(before, after),
                   np.where(ok_after & ~ok_before, after, before))
    return utc.reshape(local.shape)


# --------------------------------------------------------------------------- planning


class _Vocab:
    """Labels -> codes. Whole label tuples (a table's ids) are registered as blocks, so a
    chunk's codes are its own codes plus the block's offset: no per-row look-ups. The
    same label may sit in two blocks; decoding is still right."""

    def __init__(self) -> None:
        self.labels: list[Any] = []
        self.index: dict[Any, int] = {}
        self._blocks: dict[int, tuple[Sequence[Any], int]] = {}

    def code(self, label: Any) -> int:
        if label is None:
            return -1
        found = self.index.get(label)
        if found is None:
            found = self.index[label] = len(self.labels)
            self.labels.append(label)
        return found

    def block(self, labels: Sequence[Any]) -> int:
        """The offset of *labels* as a block (registered once per tuple object)."""
        known = self._blocks.get(id(labels))
        if known is not None and known[0] is labels:
            return known[1]
        offset = len(self.labels)
        self.labels.extend(labels)
        self._blocks[id(labels)] = (labels, offset)
        return offset

    def codes(self, values: NDArray[Any] | tuple[NDArray[np.integer[Any]], Sequence[Any]]
              ) -> NDArray[np.int32]:
        """Codes (int32) of an object array, or of ``(codes, labels)`` (as a block)."""
        if isinstance(values, tuple):
            raw, labels = values
            offset = self.block(labels)
            codes = np.asarray(raw).astype(np.int32)  # vocabularies stay far below 2**31
            if offset and codes.size:
                codes[codes >= 0] += offset
            return codes
        return np.fromiter((self.code(v) for v in values), dtype=np.int32, count=len(values))

    def codes_of(self, label: Any) -> list[int]:
        """Every code whose label is *label*."""
        return [i for i, known in enumerate(self.labels) if known == label]


Labelled = NDArray[Any] | tuple[NDArray[np.integer[Any]], Sequence[Any]]


@attrs.define
class _Rows:
    """Contacts being collected, as column chunks of integers."""

    subjects: _Vocab = attrs.field(factory=_Vocab)
    agents: _Vocab = attrs.field(factory=_Vocab)
    chunks: list[dict[str, NDArray[Any]]] = attrs.field(factory=list)

    def add(self, rule: str, subject_id: Labelled, customer: NDArray[np.int64],
            trigger: NDArray[np.int64], earliest: NDArray[np.int64],
            latest: NDArray[np.int64], assignee: Labelled) -> None:
        n = len(trigger)
        if n == 0:
            return
        # no copies here: columns() concatenates the chunks into new arrays
        self.chunks.append({"rule": np.full(n, RULE_IDS.index(rule), dtype=np.int8),
                            "subject_id": self.subjects.codes(subject_id),
                            "customer": np.asarray(customer, dtype=np.int32),
                            "trigger": np.asarray(trigger, dtype=np.int64),
                            "earliest": np.asarray(earliest, dtype=np.int64),
                            "latest": np.asarray(latest, dtype=np.int64),
                            "assignee": self.agents.codes(assignee)})

    def columns(self) -> dict[str, NDArray[Any]]:
        """The chunks concatenated: label codes (and customer rows) as int32."""
        dtypes = {"rule": np.int8, "subject_id": np.int32, "customer": np.int32,
                  "trigger": np.int64, "earliest": np.int64, "latest": np.int64,
                  "assignee": np.int32}
        if not self.chunks:
            return {n: np.zeros(0, dtype=dtype) for n, dtype in dtypes.items()}
        return {n: np.concatenate([c[n] for c in self.chunks]) for n in dtypes}


def plan_followups(tickets: TicketTable, customers: CustomerTable, *, now: datetime,
                   policy: Policy | None = None, events: Sequence[CustomerEvent] = (),
                   maintenance: Sequence[MaintenanceDue] = (),
                   staff: StaffAvailability | None = None,
                   callbacks: CallbackTable | None = None, agents: AgentTable | None = None,
                   horizon_days: int = 90) -> FollowUpPlan:
    """Every contact the follow-up rules call for (see the module docstring).

    Args:
        tickets: tickets (visits, hand-backs, deliveries).
        customers: customers with tier, loyalty and zone; tickets of unknown customers
            are planned in the centre's zone.
        now: the planning moment (aware); cadence starts after it, and contacts whose
            window closed before it are kept and marked overdue.
        policy: the numbers (default :meth:`Policy.default`).
        events: events to phone about (and write after).
        maintenance: maintenance due dates.
        staff: absences and designated substitutes.
        callbacks: callbacks; an unsolved one triggers a report to the supervisor and,
            once its ticket is resolved, a call to tell the customer (``tell-solution``).
        agents: the roster (roles and supervisors) for role-based assignment.
        horizon_days: how far after ``now`` cadence contacts are planned.

    Returns:
        The :class:`FollowUpPlan`.

    >>> from servicekpi import synth
    >>> from datetime import timezone
    >>> data = synth.month(seed=1, tickets=2_000, agents=10, stations=1)
    >>> plan = plan_followups(data.tickets, data.customers, agents=data.agents,
    ...                       callbacks=data.callbacks,
    ...                       now=datetime(2026, 11, 1, tzinfo=timezone.utc))
    >>> sorted(plan.counts())
    ['cadence-a', 'cadence-b', 'customer-file', 'first-call', 'home-visit', 'lost-customer', 'quality-call', 'report-unanswered', 'second-call']

    .. versionadded:: 0.1
    """
    policy = policy or Policy.default()
    at = _epoch(now, "now")
    follow = policy.followup
    if not isinstance(tickets, TicketTable) or not isinstance(customers, CustomerTable):
        raise TypeError("'tickets' must be a TicketTable and 'customers' a CustomerTable")
    rows = _Rows()
    customer_labels = customers.labels("customer_id")
    cust_of_ticket = _customer_rows(tickets, customers)
    ticket_codes, ticket_labels = tickets["ticket_id"], tickets.labels("ticket_id")
    agent_codes, agent_labels = tickets["agent_id"], tickets.labels("agent_id")

    def ticket_ids(mask: NDArray[np.bool_]) -> Labelled:
        return (ticket_codes[mask], ticket_labels)

    def agent_ids(mask: NDArray[np.bool_]) -> Labelled:
        return (agent_codes[mask], agent_labels)

    opened = tickets["opened_at"]
    resolved, closed = tickets["resolved_at"], tickets["closed_at"]
    clerks = _clerks(agents, follow.assignee_role.value)

    every = np.ones(len(tickets), dtype=bool)
    rows.add("customer-file", ticket_ids(every), cust_of_ticket, opened, opened,
             opened + follow.customer_file_days * _DAY, agent_ids(every))
    hand_back = np.where(closed != MISSING, closed, resolved)
    handed = hand_back != MISSING
    first_earliest = hand_back[handed] + follow.first_call_min_days * _DAY
    rows.add("first-call", ticket_ids(handed), cust_of_ticket[handed], hand_back[handed],
             first_earliest, hand_back[handed] + follow.first_call_max_days * _DAY,
             agent_ids(handed))
    second = first_earliest + follow.second_call_after_days * _DAY
    rows.add("second-call", ticket_ids(handed), cust_of_ticket[handed], hand_back[handed],
             second, second + follow.second_call_window_days * _DAY, agent_ids(handed))
    delivered = closed != MISSING
    deadline = policy.calendar.end_of_working_day(policy.calendar.add_working_days(
        closed[delivered], follow.quality_call_working_days))
    rows.add("quality-call", ticket_ids(delivered), cust_of_ticket[delivered],
             closed[delivered], closed[delivered], np.maximum(deadline, closed[delivered] + 1),
             _balanced(clerks, customer_labels, _label_codes(customers, cust_of_ticket[delivered])))

    if callbacks is not None and len(callbacks):
        unsolved, ticket_rows = _unsolved(callbacks, tickets)
        _unanswered(rows, callbacks, unsolved, ticket_rows, cust_of_ticket, agents,
                    follow.unanswered_report_days)
        _tell_solution(rows, callbacks["done_at"][unsolved], ticket_rows, tickets,
                       cust_of_ticket, policy.calendar)
    _customer_rules(rows, customers, tickets, cust_of_ticket, clerks, at, horizon_days, policy)
    for event in events:
        _event(rows, event, customers, clerks, follow)
    for item in maintenance:
        _maintenance(rows, item, customers, clerks, follow)

    columns = rows.columns()
    customer_row = columns.pop("customer")
    zones = _zone_codes(customer_row, customers, policy.calendar.tz)
    start, end = _fit(columns["earliest"], columns["latest"], zones, customers, policy)
    columns["earliest"], columns["latest"] = start, end
    # Customers by their id code (label order), so the plan's order ignores row order.
    id_codes = np.append(customers["customer_id"].astype(np.int32), np.int32(-1))
    columns["customer_id"] = id_codes[customer_row]
    columns["assignee"], columns["substitute_for"] = _substitute(
        columns["assignee"], start, staff, rows.agents)
    agents_seen = tuple(rows.agents.labels)
    return FollowUpPlan(columns, {"subject_id": tuple(rows.subjects.labels),
                                  "customer_id": customer_labels, "assignee": agents_seen,
                                  "substitute_for": agents_seen},
                        now=at, tz=policy.calendar.tz)


def _customer_rows(tickets: TicketTable, customers: CustomerTable) -> NDArray[np.int64]:
    codes = customers.codes_of("customer_id", tickets.labels("customer_id"))
    code_to_row = np.full(len(customers.labels("customer_id")) + 1, -1, dtype=np.int64)
    code_to_row[customers["customer_id"]] = np.arange(len(customers))
    table = np.append(code_to_row[np.where(codes >= 0, codes, -1)], -1)
    ticket_codes = tickets["customer_id"]
    return table[np.where(ticket_codes < 0, len(codes), ticket_codes)]


def _clerks(agents: AgentTable | None, role: str) -> list[str]:
    if agents is None or not len(agents):
        return []
    roles = agents.decode("role")
    ids = agents.decode("agent_id")
    return sorted(str(a) for a, r in zip(ids, roles, strict=True) if r.value == role)


@functools.lru_cache(maxsize=4)
def _label_hashes(labels: tuple[str, ...]) -> NDArray[np.int64]:
    """crc32 of every customer id (+ a 0 for "unknown"), computed once per label set:
    a plan balances several rules over the same customers."""
    hashes = np.array([zlib.crc32(label.encode()) for label in labels] + [0], dtype=np.int64)
    hashes.flags.writeable = False
    return hashes


@functools.lru_cache(maxsize=4)
def _home_visit_draws(labels: tuple[str, ...]) -> NDArray[np.float64]:
    """A reproducible draw in [0, 1) per customer id (crc32), computed once per label set."""
    draws = np.array([zlib.crc32(f"home-visit:{label}".encode()) for label in labels],
                     dtype=np.float64) / 2**32
    draws.flags.writeable = False
    return draws


def _balanced(clerks: list[str], customer_labels: Sequence[str],
              customer_rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], list[str]]:
    """Spread contacts over the clerks by a stable hash of the customer id: (codes, clerks)."""
    if not clerks:
        return np.full(len(customer_rows), -1, dtype=np.int64), clerks
    hashes = _label_hashes(tuple(customer_labels))
    pick = hashes[np.where(customer_rows < 0, len(customer_labels), customer_rows)] \
        % len(clerks)
    return pick.astype(np.int64), clerks


def _pick(labelled: tuple[NDArray[np.int64], list[str]],
          mask: NDArray[Any]) -> tuple[NDArray[np.int64], list[str]]:
    return labelled[0][mask], labelled[1]


def _unsolved_mask(callbacks: CallbackTable) -> NDArray[np.bool_]:
    """Which callbacks are unsolved ones on tickets (each triggers ``report-unanswered``)."""
    return np.asarray(
        (callbacks["outcome"] == list(CallbackOutcome).index(CallbackOutcome.UNSOLVED))
        & (callbacks["subject"] == list(CallbackSubject).index(CallbackSubject.TICKET)))


def _unsolved(callbacks: CallbackTable, tickets: TicketTable
              ) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Unsolved callbacks on tickets (a mask) and their tickets' rows (-1 = unknown)."""
    unsolved = _unsolved_mask(callbacks)
    subject = _decode_some(callbacks, "subject_id", unsolved)
    ticket_codes = tickets.codes_of("ticket_id", [str(s) for s in subject])
    code_to_row = np.full(len(tickets.labels("ticket_id")) + 1, -1, dtype=np.int64)
    code_to_row[tickets["ticket_id"]] = np.arange(len(tickets))
    return unsolved, code_to_row[np.where(ticket_codes >= 0, ticket_codes, -1)]


def _decode_some(table: CallbackTable, name: str, rows: NDArray[np.bool_]) -> NDArray[Any]:
    """``table.decode(name)[rows]``, decoding only those rows."""
    labels = table.labels(name)
    return np.array([labels[code] if code >= 0 else None
                     for code in table[name][rows].tolist()], dtype=object)


def _unanswered(rows: _Rows, callbacks: CallbackTable, unsolved: NDArray[np.bool_],
                ticket_rows: NDArray[np.int64], cust_of_ticket: NDArray[np.int64],
                agents: AgentTable | None, days: int) -> None:
    if not unsolved.any():
        return
    done = callbacks["done_at"][unsolved]
    subject = _decode_some(callbacks, "subject_id", unsolved)
    padded = np.append(cust_of_ticket, -1)  # row -1 (unknown ticket) -> no customer
    customer = padded[ticket_rows]
    callers = _decode_some(callbacks, "agent_id", unsolved)
    supervisors = _supervisors(agents)
    assignee = np.array([supervisors.get(str(c), c) for c in callers], dtype=object)
    rows.add("report-unanswered", subject, customer, done, done, done + days * _DAY, assignee)


def _tell_solution(rows: _Rows, done: NDArray[np.int64], ticket_rows: NDArray[np.int64],
                   tickets: TicketTable, cust_of_ticket: NDArray[np.int64],
                   calendar: WorkCalendar) -> None:
    """Tickets resolved after an unsolved callback on them (*done*, *ticket_rows*): tell
    the customer by the end of that working day; once per ticket, by its agent."""
    resolved = tickets["resolved_at"]
    known = ticket_rows >= 0
    found = resolved[ticket_rows[known]]
    told = np.zeros(len(tickets), dtype=bool)
    told[ticket_rows[known][(found != MISSING) & (found > done[known])]] = True
    solved = resolved[told]
    # the end of the working day the centre next works in: the same day when the
    # solution is found in or before its hours (add_working_time(t, 1) - 1 is the first
    # working second at or after t)
    deadline = calendar.end_of_working_day(calendar.add_working_time(solved, 1) - 1)
    rows.add("tell-solution", (tickets["ticket_id"][told], tickets.labels("ticket_id")),
             cust_of_ticket[told], solved, solved, deadline,
             (tickets["agent_id"][told], tickets.labels("agent_id")))


def _supervisors(agents: AgentTable | None) -> dict[str, str]:
    if agents is None or not len(agents):
        return {}
    return {str(a): str(s) for a, s in zip(agents.decode("agent_id"),
                                           agents.decode("supervisor_id"), strict=True)
            if s is not None}


def _customer_rules(rows: _Rows, customers: CustomerTable, tickets: TicketTable,
                    cust_of_ticket: NDArray[np.int64], clerks: list[str], at: int,
                    horizon_days: int, policy: Policy) -> None:
    n = len(customers)
    if not n:
        return
    labels = customers.labels("customer_id")
    id_codes = customers["customer_id"]
    code_rows = np.arange(n)
    assignee = _balanced(clerks, labels, _rows_to_label_rows(customers))

    def row_ids(mask: NDArray[Any]) -> Labelled:
        return (id_codes[mask], labels)

    # Cadence from the customer's last visit (dtstart), or from now when never seen.
    last_visit = np.full(n, at, dtype=np.int64)
    known = cust_of_ticket >= 0
    if known.any():
        latest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(latest, cust_of_ticket[known], tickets["opened_at"][known])
        last_visit = np.where(latest > np.iinfo(np.int64).min, np.minimum(latest, at), at)
    zones = customers["tz"].astype(np.int64)
    zone_labels = customers.labels("tz")
    until = at + horizon_days * _DAY
    for tier_name, rule in (("a", "cadence-a"), ("b", "cadence-b"), ("c", "cadence-c")):
        mine = customers["tier"] == list(Tier).index(Tier(tier_name))
        if not mine.any():
            continue
        cadence = policy.followup.cadence[tier_name]
        which, when = _cadence_vectorised(cadence.freq, cadence.interval, last_visit[mine], at,
                                          until, zones[mine], zone_labels)
        picked = code_rows[mine][which]
        rows.add(rule, row_ids(picked), picked, when, when, when + _DAY,
                 _pick(assignee, picked))
    lost = customers["loyalty"] == list(Loyalty).index(Loyalty.LOST)
    now = np.full(int(lost.sum()), at, dtype=np.int64)
    rows.add("lost-customer", row_ids(lost), code_rows[lost], now, now,
             now + _LOST_DAYS * _DAY, _pick(assignee, lost))
    by_label = np.append(_home_visit_draws(tuple(labels)) < policy.followup.home_visit_share,
                         False)
    chosen = by_label[np.where(id_codes < 0, len(labels), id_codes)]
    now = np.full(int(chosen.sum()), at, dtype=np.int64)
    rows.add("home-visit", row_ids(chosen), code_rows[chosen], now, now,
             now + _HOME_DAYS * _DAY, _pick(assignee, chosen))


def _label_codes(customers: CustomerTable, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Customer rows (-1 = unknown) -> their id codes (what _balanced hashes)."""
    codes = np.append(customers["customer_id"].astype(np.int64), -1)
    return codes[rows]


def _rows_to_label_rows(customers: CustomerTable) -> NDArray[np.int64]:
    """For each customer row, the index of its label (what _balanced hashes)."""
    return customers["customer_id"].astype(np.int64)


def _event(rows: _Rows, event: CustomerEvent, customers: CustomerTable, clerks: list[str],
           follow: Any) -> None:
    at = _epoch(event.at, "event.at")
    labels = customers.labels("customer_id")
    invited = np.ones(len(customers), dtype=bool) if event.customers is None else \
        np.isin(customers["customer_id"], customers.codes_of("customer_id", event.customers))
    loyal = customers["loyalty"] == list(Loyalty).index(Loyalty.LOYAL)
    before = at - follow.event_call_days_before * _DAY
    earliest = np.where(loyal, before - _LOYAL_FIRST_DAYS * _DAY, before)
    latest = np.where(loyal, before, at - 7 * _DAY)
    latest = np.maximum(latest, earliest + 1)
    assignee = _balanced(clerks, labels, customers["customer_id"].astype(np.int64))
    rows_idx = np.flatnonzero(invited)
    subject = np.full(len(rows_idx), event.event_id, dtype=object)
    rows.add("event-call", subject, rows_idx, earliest[rows_idx], earliest[rows_idx],
             latest[rows_idx], _pick(assignee, rows_idx))
    if event.letter:
        # 然后于两日内…把通知信函寄出: the letter follows the phone notice within two days.
        start = earliest[rows_idx]
        rows.add("event-letter", subject, rows_idx, start, start,
                 start + follow.event_letter_days_after * _DAY, _pick(assignee, rows_idx))


def _maintenance(rows: _Rows, item: MaintenanceDue, customers: CustomerTable,
                 clerks: list[str], follow: Any) -> None:
    due = _epoch(item.due, "maintenance.due")
    code = customers.codes_of("customer_id", [item.customer_id])[0]
    matches: NDArray[np.intp] = np.flatnonzero(customers["customer_id"] == code) \
        if code >= 0 else np.zeros(0, dtype=np.intp)
    row = int(matches[0]) if len(matches) else -1
    labels = customers.labels("customer_id")
    assignee = _balanced(clerks, labels, np.array([code if code >= 0 else -1]))
    subject = np.array([item.subject_id or item.customer_id], dtype=object)
    first = np.array([due - follow.maintenance_remind_days_before * _DAY])
    rows.add("maintenance-reminder", subject, np.array([row]), first, first,
             np.maximum(first + 1, np.array([due - 7 * _DAY])), assignee)
    near = np.array([due - follow.maintenance_near_days_before * _DAY])
    rows.add("maintenance-near", subject, np.array([row]), near, near, np.array([due]),
             assignee)


def _zone_codes(customer_rows: NDArray[np.integer[Any]], customers: CustomerTable,
                default: str) -> tuple[NDArray[np.int16], list[str]]:
    """The zone code of each row's customer (the centre's zone for unknown customers)."""
    labels = list(customers.labels("tz"))
    if default not in labels:
        labels.append(default)
    fallback = labels.index(default)
    codes = customers["tz"] if len(customers) else np.zeros(0, np.int16)
    # row -1 (no customer) picks the appended fallback; IANA has far fewer than 2**15 zones
    return np.append(codes, fallback).astype(np.int16)[customer_rows], labels


def _fit(earliest: NDArray[np.int64], latest: NDArray[np.int64],
         zones: tuple[NDArray[np.int16], list[str]], customers: CustomerTable,
         policy: Policy) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The windows fitted into the joint working time of the centre and each customer."""
    end = np.add(earliest, 1)
    np.maximum(end, latest, out=end)
    start = np.empty_like(earliest)
    codes, labels = zones
    parts = [slice(0, len(earliest))]
    if len(earliest) >= _PARALLEL_ROWS:
        # Rows are fitted independently (a row's window does not depend on the others
        # fitted with it), and numpy releases the GIL in the arithmetic, the searches and
        # the gathers: two halves use both cores.
        half = len(earliest) // 2
        parts = [slice(0, half), slice(half, len(earliest))]

    def fit(part: slice) -> None:
        _fit_zones(earliest[part], end[part], codes[part], labels, policy, start[part])

    if len(parts) == 1:
        fit(parts[0])
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(fit, part) for part in parts]:
                future.result()
    return start, end


def _fit_zones(earliest: NDArray[np.int64], end: NDArray[np.int64], codes: NDArray[np.int16],
               labels: list[str], policy: Policy, start: NDArray[np.int64]) -> None:
    """Fit windows per customer zone: the starts into *start*, the ends over *end*."""
    hours = list(policy.followup.customer_hours)

    def fitted(code: int, rows: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        reachable = WorkCalendar(tz=labels[code], hours=[hours] * 6 + [()])
        try:
            return fit_windows(earliest[rows], end[rows], [policy.calendar, reachable])
        except CalendarError:
            # The customer's hours never meet the centre's (e.g. twelve hours apart):
            # plan in the centre's hours rather than fail the whole plan.
            return fit_windows(earliest[rows], end[rows], [policy.calendar])

    if not len(earliest):
        return
    # Most rows share one zone (the centre's, usually): fit every row in it first, with
    # no gathering, then refit the rows of the other zones. A row's window does not
    # depend on the rows fitted with it, so this is exact; should the first fit fail
    # only because of another zone's rows, each zone is fitted on its own.
    main = int(np.argmax(np.bincount(codes[::97], minlength=len(labels))))
    others = np.flatnonzero(codes != main)
    reachable = WorkCalendar(tz=labels[main], hours=[hours] * 6 + [()])
    try:
        first = fit_windows(earliest, end, [policy.calendar, reachable])
    except CalendarError:
        others = np.arange(len(earliest))
    else:
        nominal = end[others]
        start[:], end[:] = first
        end[others] = nominal
    if not others.size:
        return
    rest = codes[others]
    for code in np.unique(rest).tolist():
        rows = others[rest == code]
        start[rows], end[rows] = fitted(code, rows)


def _substitute(assignee: NDArray[np.int32], start: NDArray[np.int64],
                staff: StaffAvailability | None,
                agents: _Vocab) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    substitute_for = np.full(len(assignee), -1, dtype=np.int32)
    if staff is None:
        return assignee, substitute_for
    out = assignee.copy()
    for agent, periods in staff.absences.items():
        codes = agents.codes_of(agent)
        if not codes:
            continue
        mine = np.isin(assignee, codes)
        away = np.zeros(len(assignee), dtype=bool)
        for begin, finish in periods:
            away |= mine & (start >= _epoch(begin, "absence start")) \
                & (start < _epoch(finish, "absence end"))
        stand_in = staff.substitutes.get(agent)
        if stand_in is not None and away.any():
            out[away] = agents.code(stand_in)
            substitute_for[away] = codes[0]
    return out, substitute_for


# --------------------------------------------------------------------------- merging

# Where plan_followups takes each rule's subject codes from: the tickets' id block, single
# labels coded in first-appearance order among the unsolved callbacks, the customers' id
# block. Events and maintenance code single labels that every customer's part shares
# (an event's id, in event order), which the parts' plans do not carry: not mergeable.
_FROM_TICKETS, _FROM_CALLBACKS, _FROM_CUSTOMERS, _UNMERGEABLE = range(4)
_SUBJECT_SOURCE: Final = np.array([
    _FROM_CALLBACKS if rule == "report-unanswered"
    else _UNMERGEABLE if rule.startswith(("event-", "maintenance-"))
    else _FROM_TICKETS if subject is CallbackSubject.TICKET else _FROM_CUSTOMERS
    for rule, (_, subject) in _RULES.items()], dtype=np.int8)
_NEVER: Final = np.iinfo(np.int64).max


def _merge_plans(parts: Sequence[tuple[FollowUpPlan, CallbackTable | None, NDArray[np.int64]]]
                 ) -> tuple[FollowUpPlan, NDArray[np.intp]]:
    """The plan of the whole data, merged from the plans of its customer partitions.

    Each part is ``(plan, callbacks, callback_rows)``: the :func:`plan_followups` plan of
    one partition, the callbacks it was planned with (``None``: none) and, for each of
    their rows, its position in the whole callbacks input. The partitions must hold every
    record of a customer in exactly one part: tickets, customers and complaints by
    customer, a callback with its subject's customer (the ticket's, the complaint's, the
    customer itself; unknown subjects all in one part), each table in the whole input's
    relative order; the roster (``agents``), ``now`` and the policy the same in every part,
    and no events or maintenance.

    Returns the merged plan, equal to :func:`plan_followups` of the whole data (every
    column decoded, row by row, in the same order), and ``order``: merged row *k* is row
    ``order[k]`` of the parts' plans concatenated in part order, so per-row results of the
    parts follow with ``np.concatenate(results)[order]`` (e.g. :func:`reconcile`'s
    ``status_codes``: a subject's calls and callbacks all sit in one part).

    The whole plan sorts by window start, rule, subject code and customer code (missing:
    0), then row. Each rule takes its subject codes from one source, and each source's
    codes are in an order the parts can rebuild: ticket and customer ids in label order
    (id labels in Python's string order, as tables read from values or frames and the
    synthetic data have them), unsolved callbacks' subjects by their first row in the whole callbacks
    input. A subject sits in one part, so rows tied on all four keys are one part's, in
    its order. The merge recodes the parts' labels in those orders (label ranks from one
    stable sort of the distinct labels, no per-row look-ups), concatenates the columns
    and sorts them as the plan itself does.

    Raises:
        ValueError: no parts; parts planned at another ``now``, in another zone or with
            other columns; callbacks and ``callback_rows`` of different lengths; event or
            maintenance contacts; a report on a callback its part does not hold; id labels
            not in string order; parts whose rows leave their own order once merged (a
            subject in two parts, callback rows not increasing).
    """
    if not parts:
        raise ValueError("no plans to merge: _merge_plans needs at least one part")
    plans = [plan for plan, _, _ in parts]
    head = plans[0]
    for i, (plan, callbacks, rows) in enumerate(parts):
        if (plan.now, plan.tz) != (head.now, head.tz):
            raise ValueError(f"plans to merge must share now and tz: part {i} has "
                             f"now={plan.now}, tz={plan.tz!r}; part 0 now={head.now}, "
                             f"tz={head.tz!r}")
        if plan.columns != head.columns:
            raise ValueError(f"plans to merge must share their columns: part {i} has "
                             f"{plan.columns}, part 0 {head.columns}")
        held = 0 if callbacks is None else len(callbacks)
        if len(rows) != held:
            raise ValueError(f"part {i} has {held} callbacks but {len(rows)} callback rows")
    subjects = [_subject_codes(plan, i) for i, plan in enumerate(plans)]
    customers = [_customer_codes(plan) for plan in plans]

    tickets, ticket_ranks = _ranked([named[_FROM_TICKETS] for _, named in subjects])
    _require_increasing(ticket_ranks, "ticket id")
    # the distinct reported labels, then ordered by their first unsolved callback
    unsolved, unsolved_index = _ranked([named[_FROM_CALLBACKS] for _, named in subjects])
    first = np.full(len(unsolved), _NEVER, dtype=np.int64)
    for i, ((_, callbacks, rows), (_, named)) in enumerate(zip(parts, subjects, strict=True)):
        np.minimum.at(first, unsolved_index[i],
                      _first_unsolved(named[_FROM_CALLBACKS], callbacks, rows, i))
    by_first = np.argsort(first, kind="stable")
    unsolved_ranks = np.empty(len(unsolved), dtype=np.int64)
    unsolved_ranks[by_first] = np.arange(len(unsolved))
    # Customers, ranked once for both columns: per part the subjects, the customer ids
    # and the smallest id, the whole table's code 0 that a missing customer ties with.
    names, customer_ranks = _ranked([group for (_, named), (_, used, smallest)
                                     in zip(subjects, customers, strict=True)
                                     for group in (named[_FROM_CUSTOMERS], used, smallest)])
    _require_increasing(customer_ranks[0::3], "customer id")  # the subjects
    _require_increasing(customer_ranks[1::3], "customer id")  # the customer ids

    n_tickets, n_unsolved = len(tickets), len(unsolved)
    maps: dict[str, list[NDArray[np.int32]]] = {name: [] for name in FollowUpPlan._LABELLED}
    agents: dict[Any, int] = {}
    for i, plan in enumerate(plans):
        # each table ends in a -1 for the code -1 (no label)
        (size, codes), (customer_codes, _, _) = subjects[i][0], customers[i]
        subject = np.full(size + 1, -1, dtype=np.int32)
        subject[codes[_FROM_TICKETS]] = ticket_ranks[i]
        subject[codes[_FROM_CALLBACKS]] = n_tickets + unsolved_ranks[unsolved_index[i]]
        subject[codes[_FROM_CUSTOMERS]] = n_tickets + n_unsolved + customer_ranks[3 * i]
        maps["subject_id"].append(subject)
        customer = np.full(len(plan._codes("customer_id")[1]) + 1, -1, dtype=np.int32)
        customer[customer_codes] = customer_ranks[3 * i + 1]
        maps["customer_id"].append(customer)
        for name in ("assignee", "substitute_for"):
            maps[name].append(np.array([agents.setdefault(a, len(agents))
                                        for a in plan._codes(name)[1]] + [-1], dtype=np.int32))
    columns = {name: np.concatenate([maps[name][i][plan._codes(name)[0]] if name in maps
                                     else plan[name] for i, plan in enumerate(plans)])
               for name in head.columns}
    order, merged = _sorted_columns(columns)
    _check_part_order(order, [len(plan) for plan in plans])
    agent_labels = tuple(agents)
    subject_labels = np.concatenate([tickets, unsolved[by_first], names])
    labels = {"subject_id": tuple(subject_labels.tolist()), "customer_id": tuple(names.tolist()),
              "assignee": agent_labels, "substitute_for": agent_labels}
    return FollowUpPlan(merged, labels, now=head.now, tz=head.tz, presorted=True), order


def _subject_codes(plan: FollowUpPlan, part: int
                   ) -> tuple[tuple[int, dict[int, NDArray[np.intp]]],
                              dict[int, NDArray[np.object_]]]:
    """A part's subject vocabulary size and, per subject source, the codes its rows use
    (ascending) and their labels."""
    codes, labels = plan._codes("subject_id")
    source = _SUBJECT_SOURCE[plan["rule"]]
    if (source == _UNMERGEABLE).any():
        raise ValueError(f"part {part} has event or maintenance contacts: their subjects "
                         f"are shared by every customer's part, so the plans cannot be "
                         f"merged")
    # A code lies in one source's labels (a block or the single labels), so one scatter
    # files every code used; code -1 (no subject) lands in the spare last slot.
    of_code = np.full(len(labels) + 1, -1, dtype=np.int8)
    of_code[codes] = source
    of_code = of_code[:-1]
    used = np.flatnonzero(of_code >= 0)
    named, kinds = _labels_of(labels, used), of_code[used]
    sources = (_FROM_TICKETS, _FROM_CALLBACKS, _FROM_CUSTOMERS)
    return ((len(labels), {kind: used[kinds == kind] for kind in sources}),
            {kind: named[kinds == kind] for kind in sources})


def _customer_codes(plan: FollowUpPlan
                    ) -> tuple[NDArray[np.intp], NDArray[np.object_], NDArray[np.object_]]:
    """A part's customer codes in use (ascending), their labels, and its smallest label."""
    codes, labels = plan._codes("customer_id")
    seen = np.zeros(len(labels) + 1, dtype=bool)
    seen[codes] = True  # code -1 marks the spare last slot
    used = np.flatnonzero(seen[:-1])
    # the first label is the smallest when the labels are in order (checked on those used)
    return used, _labels_of(labels, used), np.array(labels[:1], dtype=object)


def _labels_of(labels: Sequence[Any], codes: NDArray[np.intp]) -> NDArray[np.object_]:
    """``labels[codes]`` as an object array."""
    # A part's plan may carry a whole table's labels (tables split with take keep them):
    # reading only the few used is then cheaper than converting them all.
    if 2 * len(codes) < len(labels):
        return np.array([labels[code] for code in codes.tolist()], dtype=object)
    return np.array(labels, dtype=object)[codes]


def _ranked(groups: Sequence[NDArray[np.object_]]
            ) -> tuple[NDArray[np.object_], list[NDArray[np.int64]]]:
    """The distinct labels of *groups* in string order, and each group's labels' indices
    among them."""
    labels = np.concatenate([np.zeros(0, dtype=object), *groups])
    # stable = timsort for objects: the parts' runs, each already sorted, merge in
    # near-linear time (np.unique's sort does not see them and is ten times slower)
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    index = np.empty(len(labels), dtype=np.int64)
    index[order] = np.cumsum(new) - 1
    return ordered[new], np.split(index, np.cumsum([len(g) for g in groups])[:-1].tolist())


def _require_increasing(ranks: Sequence[NDArray[np.int64]], what: str) -> None:
    """Fail unless each part's label ranks, in code order, strictly increase."""
    # The whole plan orders ids by code, the merge by label: the same only when codes
    # follow the labels (a table built from Coded ids keeps the caller's label order).
    for part, group in enumerate(ranks):
        if (np.diff(group) <= 0).any():
            raise ValueError(f"part {part}: {what} labels are not in string order, so the "
                             f"whole plan's order cannot be rebuilt from the labels")


def _first_unsolved(labels: NDArray[np.object_], callbacks: CallbackTable | None,
                    rows: NDArray[np.int64], part: int) -> NDArray[np.int64]:
    """For each reported subject label of a part, the first row of the whole callbacks
    input holding an unsolved callback on it (the order plan_followups codes them in)."""
    if not len(labels):
        return np.zeros(0, dtype=np.int64)
    if callbacks is None:
        raise ValueError(f"part {part} reports unsolved callbacks but has no callbacks")
    mask = _unsolved_mask(callbacks)
    codes = callbacks["subject_id"][mask]
    first = np.full(len(callbacks.labels("subject_id")) + 1, _NEVER, dtype=np.int64)
    np.minimum.at(first, codes[codes >= 0], np.asarray(rows, dtype=np.int64)[mask][codes >= 0])
    found = first[callbacks.codes_of("subject_id", labels.tolist())]  # -1: the spare slot
    if (found == _NEVER).any():
        label = labels[int(np.argmax(found == _NEVER))]
        raise ValueError(f"part {part} reports an unsolved callback on {label!r} that its "
                         f"callbacks do not hold")
    return found


def _check_part_order(order: NDArray[np.intp], lengths: Sequence[int]) -> None:
    """Fail unless every part's rows keep their own order in the merged *order*."""
    # Each part's plan is sorted by the same keys, so merged, its rows must come in their
    # order; when not, the parts' codes disagree with the merged ones and the merge is
    # wrong: grouped by part (stably), the merged rows must be 0, 1, 2, ...
    part_of = np.repeat(np.arange(len(lengths), dtype=np.min_scalar_type(len(lengths))),
                        lengths)[order]
    if not np.array_equal(order[np.argsort(part_of, kind="stable")], np.arange(len(order))):
        raise ValueError("the parts' rows leave their own order once merged: the parts "
                         "must split the data by customer (each subject in one part), "
                         "with id labels in string order and callback rows increasing")


# --------------------------------------------------------------------------- reconcile

_STATUSES: Final = tuple(ReconcileStatus)
_ON_TIME, _LATE, _MISSED, _PENDING, _NOT_A_CALL = (np.int8(_STATUSES.index(s)) for s in (
    ReconcileStatus.ON_TIME, ReconcileStatus.LATE, ReconcileStatus.MISSED,
    ReconcileStatus.PENDING, ReconcileStatus.NOT_A_CALL))
# What a callback (a phone call, 回访) can be the record of.
_CALL_KINDS: Final = frozenset({FollowUpKind.CALL, FollowUpKind.QUALITY_CALL,
                                FollowUpKind.REMINDER})
_IS_CALL: Final = np.array([_RULES[rule][0] in _CALL_KINDS for rule in RULE_IDS])
_SUBJECT_KIND: Final = np.array([list(CallbackSubject).index(_RULES[rule][1])
                                 for rule in RULE_IDS], dtype=np.int64)


def _status_codes(value: Any) -> NDArray[np.int8]:
    codes = np.array(value, dtype=np.int8)  # a private copy: the caller's stays writeable
    codes.flags.writeable = False
    return codes


@final
@attrs.frozen(kw_only=True, eq=False)
class Reconciliation:
    """What became of each planned contact, as of ``as_of``.

    A call is ON_TIME when a callback on its subject was made inside its window, LATE
    when the first one after its start came after its end, MISSED when none came and the
    window closed by ``as_of``, PENDING otherwise; a contact that is not a call is
    NOT_A_CALL. Each callback satisfies at most one call of its subject (the earliest
    open one).

    The statuses are stored as ``status_codes``: a read-only int8 array aligned with the
    plan's rows, each an index into ``tuple(ReconcileStatus)`` (0 ON_TIME, 1 LATE,
    2 MISSED, 3 PENDING, 4 NOT_A_CALL), so millions of rows stay cheap. :attr:`status` is the same as a
    tuple of :class:`ReconcileStatus`, built on first access and kept.

    .. versionadded:: 0.1
    """

    plan: FollowUpPlan
    status_codes: NDArray[np.int8] = attrs.field(converter=_status_codes)
    as_of: datetime

    @functools.cached_property
    def status(self) -> tuple[ReconcileStatus, ...]:
        """The status of each plan row (built from ``status_codes`` once, then kept)."""
        return tuple(map(_STATUSES.__getitem__, self.status_codes.tolist()))

    def counts(self) -> dict[ReconcileStatus, int]:
        """Contacts per status, every status present (zero when none).

        >>> from servicekpi import synth
        >>> from datetime import timezone
        >>> data = synth.month(seed=1, tickets=500, agents=5, stations=1)
        >>> now = datetime(2026, 11, 1, tzinfo=timezone.utc)
        >>> r = reconcile(plan_followups(data.tickets, data.customers, now=now), data.callbacks)
        >>> sum(r.counts().values()) == len(r.plan), list(r.counts())[0]
        (True, <ReconcileStatus.ON_TIME: 'on_time'>)

        .. versionadded:: 0.1
        """
        counts = np.bincount(self.status_codes, minlength=len(_STATUSES))
        return {status: int(counts[i]) for i, status in enumerate(_STATUSES)}

    @property
    def callback_completion_rate(self) -> float:
        """Done (on time or late) / due (every call but the pending ones)."""
        return _rates(np.bincount(self.status_codes, minlength=len(_STATUSES)))[0]

    @property
    def callback_on_time_rate(self) -> float:
        """Done inside the window / due."""
        return _rates(np.bincount(self.status_codes, minlength=len(_STATUSES)))[1]

    def rates_by_agent(self) -> dict[str, tuple[float, float]]:
        """``(callback_completion_rate, callback_on_time_rate)`` per assignee.

        Keyed by the plan's ``assignee`` (who holds the contact, a substitute included);
        contacts without an assignee are left out, and an agent whose contacts are all
        pending gets ``(nan, nan)``. Agents in label order of the plan.

        >>> from servicekpi import synth
        >>> from datetime import timezone
        >>> data = synth.month(seed=1, tickets=500, agents=5, stations=1)
        >>> now = datetime(2026, 11, 1, tzinfo=timezone.utc)
        >>> plan = plan_followups(data.tickets, data.customers, now=now).by_rule("first-call")
        >>> rates = reconcile(plan, data.callbacks, as_of=now).rates_by_agent()
        >>> all(0 <= on_time <= done <= 1 for done, on_time in rates.values())
        True

        .. versionadded:: 0.1
        """
        codes, labels = self.plan._codes("assignee")
        known = codes >= 0
        width = len(_STATUSES)
        # one bincount over (agent code, status) pairs; agents that share a label (one
        # label can sit in two blocks of the plan's vocabulary) are summed by label
        pairs = np.bincount(codes[known].astype(np.int64) * width + self.status_codes[known],
                            minlength=len(labels) * width).reshape(len(labels), width)
        by_label: dict[str, NDArray[np.int64]] = {}
        for code in np.flatnonzero(pairs.sum(axis=1)).tolist():
            label = str(labels[code])
            by_label[label] = by_label[label] + pairs[code] if label in by_label \
                else pairs[code]
        return {label: _rates(counts) for label, counts in by_label.items()}


def _rates(counts: NDArray[np.int64]) -> tuple[float, float]:
    """(completion, on-time) from counts per status code; NaN when nothing is due."""
    due = int(counts.sum() - counts[_PENDING] - counts[_NOT_A_CALL])
    if not due:
        return float("nan"), float("nan")
    return int(counts[_ON_TIME] + counts[_LATE]) / due, int(counts[_ON_TIME]) / due


def reconcile(plan: FollowUpPlan, callbacks: CallbackTable, *,
              as_of: datetime | None = None) -> Reconciliation:
    """Mark each due contact done on time, done late, missed or pending.

    Callbacks count when made by ``as_of`` (``done_at <= as_of``) and are matched to the
    plan's *calls* (first, quality and second calls, cadence, lost-customer, event and
    maintenance calls, telling a solution) by subject: its kind (ticket, complaint,
    customer, event) and id. Per subject, calls are served in plan order: each takes the
    first callback not used yet that was made at or after its window start, ON_TIME if
    made before the window's end, else LATE; with none left it is MISSED when its window
    closed by ``as_of``, else PENDING. Contacts that are not calls (customer file,
    report to the supervisor, letter, home visit) are NOT_A_CALL and count in neither
    rate.

    Args:
        plan: the contacts.
        callbacks: the callbacks made (and not yet made: those are ignored).
        as_of: the moment of the reconciliation (aware; default: the plan's ``now``).

    Returns:
        The :class:`Reconciliation`.

    Raises:
        NaiveDatetimeError: ``as_of`` is naive.

    >>> from servicekpi import synth
    >>> from datetime import timezone
    >>> data = synth.month(seed=1, tickets=1_000, agents=8, stations=1)
    >>> plan = plan_followups(data.tickets, data.customers,
    ...                       now=datetime(2026, 10, 20, tzinfo=timezone.utc))
    >>> r = reconcile(plan.by_rule("first-call"), data.callbacks,
    ...               as_of=datetime(2026, 11, 1, tzinfo=timezone.utc))
    >>> 0 <= r.callback_on_time_rate <= r.callback_completion_rate <= 1
    True

    .. versionadded:: 0.1
    """
    at = plan.now if as_of is None else _epoch(as_of, "as_of")
    done_at = callbacks["done_at"]
    made = (done_at != MISSING) & (done_at <= at) & (callbacks["subject_id"] >= 0)
    subject_codes, subject_labels = plan._codes("subject_id")
    # plan labels -> callback codes: one look-up per label, none per row
    to_callback = np.append(callbacks.codes_of("subject_id", map(str, subject_labels)), -1)
    subject = to_callback[np.where(subject_codes < 0, len(subject_labels), subject_codes)]
    # A subject is its kind and its id: ticket "X" is not customer "X".
    n_ids = len(callbacks.labels("subject_id"))
    rule = plan["rule"].astype(np.int64)
    call = _IS_CALL[rule]
    subject = np.where((subject >= 0) & call, _SUBJECT_KIND[rule] * n_ids + subject, -1)
    made_subject = (callbacks["subject"][made].astype(np.int64) * n_ids
                    + callbacks["subject_id"][made].astype(np.int64))
    status = _match(subject, len(CallbackSubject) * n_ids, made_subject, done_at[made],
                    plan["earliest"], plan["latest"], at)
    status[~call] = _NOT_A_CALL
    return Reconciliation(plan=plan, status_codes=status, as_of=from_epoch(at, plan.tz))


def _match(subject: NDArray[np.int64], n_subjects: int, made_subject: NDArray[np.int64],
           made_at: NDArray[np.int64], earliest: NDArray[np.int64],
           latest: NDArray[np.int64], at: int) -> NDArray[np.int8]:
    """Status codes of contacts (subject codes, -1 = none) against the callbacks made.

    Per subject, with its contacts in row order and its callback times sorted, contact i
    takes callback ``p_i = max(p_{i-1} + 1, f_i)`` (``f_i``: the first callback at or
    after its start) while ``p_i`` < the subject's callback count. A contact with no
    callback at or after its start at all (``f_i`` = count) fails without using one, so
    it is dropped first (rows need not be sorted by start); among the rest, once one
    fails every later one does, and ``q_i = p_i - i = max(q_{i-1}, f_i - i)`` is a
    cumulative maximum per subject.
    """
    status = np.where(latest <= at, _MISSED, _PENDING).astype(np.int8)
    if not made_at.size or not subject.size:
        return status
    counts = np.bincount(made_subject, minlength=n_subjects)
    first = np.cumsum(counts) - counts
    # callbacks by (subject, time) as one key subject * span + time offset; the span is
    # at most 2**32 s (1970..2100) and subjects are far fewer than 2**30, so it fits
    low = int(made_at.min())
    span = int(made_at.max()) - low + 2
    made_key = np.sort(made_subject * span + (made_at - low))
    made_sorted = made_key % span + low

    rows = np.flatnonzero(subject >= 0)
    rows = rows[counts[subject[rows]] > 0]
    # contacts by (subject, row), packed the same way (rows < 2**32)
    shift = max(len(subject) - 1, 1).bit_length()
    packed = np.sort((subject[rows] << shift) | rows)
    rows = packed & ((1 << shift) - 1)
    seg = packed >> shift
    start = earliest[rows]
    f = np.searchsorted(made_key, seg * span + np.clip(start - low, 0, span - 1)) - first[seg]
    left = counts[seg]
    keep = f < left
    rows, seg, f, left = rows[keep], seg[keep], f[keep], left[keep]
    if not rows.size:
        return status
    # q_i = p_i - i: a running maximum that restarts per subject, made one running
    # maximum by lifting each subject above the previous one (f - i lies in
    # (-rows, callbacks)); i may count from any origin within a subject, so the position
    # in the whole sorted array serves
    position = np.arange(rows.size)
    new = np.ones(rows.size, dtype=bool)
    new[1:] = seg[1:] != seg[:-1]
    lift = (np.cumsum(new) - 1) * (int(left.max()) + rows.size)
    chosen = np.maximum.accumulate(f - position + lift) - lift + position
    served = chosen < left
    rows = rows[served]
    when = made_sorted[first[seg[served]] + chosen[served]]
    status[rows] = np.where(when < latest[rows], _ON_TIME, _LATE)
    return status
