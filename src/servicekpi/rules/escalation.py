"""Complaint escalation: GENERAL < REPEAT < SEVERE, by the policy's rule book.

:func:`escalate` judges one complaint from its callbacks and the customer's earlier
complaints; :func:`escalate_table` judges a whole :class:`ComplaintTable` at once,
vectorised, and agrees with the scalar path exactly (a hypothesis property checks it).
Both read the records **as of** ``now``: a callback made after ``now`` has not happened.

What the counters see:

- a callback counts for its complaint when its ``subject`` is ``complaint`` and its
  ``subject_id`` names the complaint, it was made by ``now``, and not before the
  complaint was received (such callbacks, and those naming unknown complaints, are
  reported in :attr:`EscalationTable.report`, never used and never dropped silently);
- a complaint is *solved* once a counted callback has outcome ``solved`` or its
  ``closed_at`` is not after ``now``;
- *earlier complaints* are the customer's complaints on the same ``complaint_type``
  received strictly before this one and at most ``within_days`` days (of 24 hours)
  before it.

Every decision explains itself: :class:`Escalation` lists the fired rules, a sentence per
rule, and the ids of the callbacks and complaints that made them fire.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, final

import attrs
import numpy as np
from numpy.typing import NDArray

from servicekpi import _extras
from servicekpi._frozen import FrozenDict
from servicekpi.calendar import to_epoch
from servicekpi.domain import (
    Callback,
    CallbackOutcome,
    CallbackSubject,
    Complaint,
    ComplaintFlag,
    ComplaintSource,
    EscalationLevel,
)
from servicekpi.domain._checks import fmt
from servicekpi.exceptions import NaiveDatetimeError, UnknownKeyError
from servicekpi.kernel import MISSING
from servicekpi.policy import Policy
from servicekpi.rulebook import (
    AllOf,
    AnyOf,
    Condition,
    CountAtLeast,
    FieldIs,
    LevelAtLeast,
    Not,
    Rule,
    Rulebook,
    UnsolvedFor,
)
from servicekpi.tables import CallbackTable, ComplaintTable, ValidationIssue, ValidationReport

__all__ = ("Escalation", "EscalationTable", "escalate", "escalate_table")

_DAY: Final = 86_400
_COMPLAINT: Final = list(CallbackSubject).index(CallbackSubject.COMPLAINT)
_SOLVED: Final = list(CallbackOutcome).index(CallbackOutcome.SOLVED)
_UNSOLVED: Final = list(CallbackOutcome).index(CallbackOutcome.UNSOLVED)
_UNREACHABLE: Final = list(CallbackOutcome).index(CallbackOutcome.UNREACHABLE)


@final
@attrs.frozen(kw_only=True)
class Escalation:
    """The level of one complaint and why.

    Attributes:
        complaint_id: the complaint.
        level: the maximum target level over the fired rules (GENERAL when none fired).
        fired: ids of the rules that fired, in rule-book order.
        reasons: one sentence per fired rule, aligned with ``fired``.
        evidence: sorted ids of the callbacks and complaints that made rules fire.

    .. versionadded:: 0.1
    """

    complaint_id: str
    level: EscalationLevel
    fired: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


# --------------------------------------------------------------------------- facts


@attrs.define
class _Facts:
    """What the conditions need to know about complaints, as arrays (one row each)."""

    source: NDArray[np.int64]          # ComplaintSource member index
    flags: NDArray[np.int64]           # bit mask in ComplaintFlag order
    text: dict[str, tuple[NDArray[np.int64], tuple[str, ...]]]  # codes + labels
    unsolved: NDArray[np.int64]        # unsolved callbacks counted
    solved: NDArray[np.bool_]
    received: NDArray[np.int64]        # epoch seconds
    earlier: dict[int, NDArray[np.int64]]  # within_days -> count of earlier complaints
    unsolved_ids: Callable[[int], list[str]]       # row -> callback ids
    earlier_ids: Callable[[int, int], list[str]]   # (row, within_days) -> complaint ids

    def take(self, row: int) -> _Facts:
        """The facts of one row, as a one-row table (the id look-ups keep the row)."""
        one = slice(row, row + 1)
        return _Facts(source=self.source[one], flags=self.flags[one],
                      text={k: (codes[one], labels) for k, (codes, labels) in self.text.items()},
                      unsolved=self.unsolved[one], solved=self.solved[one],
                      received=self.received[one],
                      earlier={d: c[one] for d, c in self.earlier.items()},
                      unsolved_ids=lambda _: self.unsolved_ids(row),
                      earlier_ids=lambda _, days: self.earlier_ids(row, days))


def _deadline_passed(received: NDArray[np.int64], days: int, now: int,
                     policy: Policy) -> NDArray[np.bool_]:
    calendar = policy.calendar
    deadline = calendar.end_of_working_day(calendar.add_working_days(received, days))
    return np.asarray(now > deadline)


def _evaluate(condition: Condition, facts: _Facts, levels: NDArray[np.int8], now: int,
              policy: Policy) -> NDArray[np.bool_]:
    """The rows where *condition* holds (vectorised over complaints)."""
    n = len(facts.received)
    if isinstance(condition, FieldIs):
        return _field(condition, facts, n)
    if isinstance(condition, CountAtLeast):
        counts = facts.unsolved if condition.counter == "unsolved_callbacks" \
            else facts.earlier[int(condition.within_days or 0)]
        return np.asarray(counts >= condition.at_least)
    if isinstance(condition, UnsolvedFor):
        return ~facts.solved & _deadline_passed(facts.received, condition.working_days,
                                                now, policy)
    if isinstance(condition, LevelAtLeast):
        return np.asarray(levels >= int(condition.level))
    if isinstance(condition, AllOf):
        out = np.ones(n, dtype=bool)
        for part in condition.conditions:
            out &= _evaluate(part, facts, levels, now, policy)
        return out
    if isinstance(condition, AnyOf):
        out = np.zeros(n, dtype=bool)
        for part in condition.conditions:
            out |= _evaluate(part, facts, levels, now, policy)
        return out
    return ~_evaluate(condition.condition, facts, levels, now, policy)


def _field(condition: FieldIs, facts: _Facts, n: int) -> NDArray[np.bool_]:
    if condition.name == "flags":
        bits = 0
        for value in condition.values:
            bits |= 1 << list(ComplaintFlag).index(ComplaintFlag(value))
        return np.asarray((facts.flags & bits) != 0)
    if condition.name == "source":
        wanted = np.array([list(ComplaintSource).index(ComplaintSource(v))
                           for v in condition.values])
        hit = np.isin(facts.source, wanted)
    else:
        codes, labels = facts.text[condition.name]
        allowed = [i for i, label in enumerate(labels) if label in condition.values]
        hit = np.isin(codes, allowed)
    return ~hit if condition.op == "!=" else hit


def _levels(rulebook: Rulebook, facts: _Facts, now: int,
            policy: Policy) -> tuple[NDArray[np.int8], dict[str, NDArray[np.bool_]]]:
    """Evaluate the rules by ascending target level; the level is the max over fired."""
    n = len(facts.received)
    level = np.zeros(n, dtype=np.int8)
    fired: dict[str, NDArray[np.bool_]] = {}
    for target in sorted({rule.level for rule in rulebook.rules}):
        below = level.copy()  # what level_at_least sees: rules of lower targets only
        for rule in rulebook.rules:
            if rule.level is target:
                hits = _evaluate(rule.when, facts, below, now, policy)
                fired[rule.id] = hits
                level[hits] = np.maximum(level[hits], int(target))
    return level, fired


# --------------------------------------------------------------------------- explaining


def _explain(rule: Rule, row: int, facts: _Facts, levels_below: int, now: int,
             policy: Policy) -> tuple[str, set[str]]:
    details: list[str] = []
    evidence: set[str] = set()

    def walk(condition: Condition, negated: bool = False) -> None:
        if isinstance(condition, (AllOf, AnyOf)):
            for part in condition.conditions:
                if _row_holds(part, row, facts, levels_below, now, policy) != negated:
                    walk(part, negated)
            return
        if isinstance(condition, Not):
            walk(condition.condition, not negated)
            return
        details.append(_leaf_text(condition, row, facts, negated))
        if not negated and isinstance(condition, CountAtLeast):
            ids = facts.unsolved_ids(row) if condition.counter == "unsolved_callbacks" \
                else facts.earlier_ids(row, int(condition.within_days or 0))
            evidence.update(ids)

    walk(rule.when)
    return f"{rule.description}: " + "; ".join(details), evidence


def _row_holds(condition: Condition, row: int, facts: _Facts, level_below: int, now: int,
               policy: Policy) -> bool:
    levels = np.full(len(facts.received), level_below, dtype=np.int8)
    return bool(_evaluate(condition, facts, levels, now, policy)[row])


def _leaf_text(condition: Condition, row: int, facts: _Facts, negated: bool) -> str:
    no = "not " if negated else ""
    if isinstance(condition, FieldIs):
        if condition.name == "flags":
            have = [f.value for i, f in enumerate(ComplaintFlag)
                    if int(facts.flags[row]) >> i & 1 and f.value in condition.values]
            return f"{no}flagged {', '.join(have) if have else 'with ' + '/'.join(condition.values)}"
        if condition.name == "source":
            value = list(ComplaintSource)[int(facts.source[row])].value
        else:
            codes, labels = facts.text[condition.name]
            value = labels[int(codes[row])]
        return f"{condition.name} is {value!r}" + (" (excluded)" if negated else "")
    if isinstance(condition, CountAtLeast):
        if condition.counter == "unsolved_callbacks":
            n = int(facts.unsolved[row])
            return f"{n} unsolved callback{'s' * (n != 1)} ({no}>= {condition.at_least})"
        n = int(facts.earlier[int(condition.within_days or 0)][row])
        return (f"{n} earlier complaint{'s' * (n != 1)} on the same matter within "
                f"{condition.within_days} days ({no}>= {condition.at_least})")
    if isinstance(condition, UnsolvedFor):
        return (f"{no}unsolved more than {condition.working_days} working days after "
                f"{fmt(_utc(int(facts.received[row])))}")
    if isinstance(condition, LevelAtLeast):
        return f"{no}already {condition.level.name.lower()}"
    return ""  # pragma: no cover - composite conditions are walked


def _utc(epoch: int) -> datetime:
    from servicekpi.calendar import from_epoch

    return from_epoch(epoch, "UTC")


def _escalation(complaint_id: str, row: int, rulebook: Rulebook, facts: _Facts,
                level: NDArray[np.int8], fired: Mapping[str, NDArray[np.bool_]], now: int,
                policy: Policy) -> Escalation:
    ids, reasons, evidence = [], [], set()
    one = facts.take(row)  # explanations evaluate conditions on this row only
    for rule in rulebook.rules:
        if fired[rule.id][row]:
            below = max((int(r.level) for r in rulebook.rules
                         if r.level < rule.level and fired[r.id][row]), default=0)
            reason, used = _explain(rule, 0, one, below, now, policy)
            ids.append(rule.id)
            reasons.append(reason)
            evidence |= used
            if any(isinstance(c, LevelAtLeast) for c in _leaves(rule.when)):
                for lower in rulebook.rules:
                    if lower.level < rule.level and fired[lower.id][row]:
                        evidence |= _explain(lower, 0, one, 0, now, policy)[1]
    return Escalation(complaint_id=complaint_id, level=EscalationLevel(int(level[row])),
                      fired=tuple(ids), reasons=tuple(reasons),
                      evidence=tuple(sorted(evidence)))


def _leaves(condition: Condition) -> list[Condition]:
    if isinstance(condition, (AllOf, AnyOf)):
        return [leaf for part in condition.conditions for leaf in _leaves(part)]
    if isinstance(condition, Not):
        return _leaves(condition.condition)
    return [condition]


def _windows(rulebook: Rulebook) -> set[int]:
    return {int(leaf.within_days or 0) for rule in rulebook.rules for leaf in _leaves(rule.when)
            if isinstance(leaf, CountAtLeast) and leaf.counter == "earlier_complaints"}


def _now(now: datetime) -> int:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise NaiveDatetimeError(f"'now' must be a timezone-aware datetime (got {now!r})")
    return to_epoch(now)


# --------------------------------------------------------------------------- scalar


def escalate(complaint: Complaint, *, callbacks: Iterable[Callback] = (),
             history: Iterable[Complaint] = (), now: datetime,
             policy: Policy | None = None) -> Escalation:
    """The escalation level of one complaint, with its reasons and evidence.

    Args:
        complaint: the complaint.
        callbacks: callbacks; those about other subjects are ignored.
        history: other complaints (e.g. the customer's earlier ones); the complaint
            itself may be among them.
        now: the moment of judgement (aware); later records have not happened yet.
        policy: the rule book and thresholds (default :meth:`Policy.default`).

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    >>> k = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
    ...               responsible="Wang", source="walk_in", complaint_type="delay",
    ...               received_at=t)
    >>> e = escalate(k, now=t)
    >>> e.level.name, e.fired
    ('SEVERE', ('severe-source',))
    >>> e.reasons
    ("received as walk-in: source is 'walk_in'",)

    .. versionadded:: 0.1
    """
    policy = policy or Policy.default()
    at = _now(now)
    received = to_epoch(complaint.received_at)
    counted = [cb for cb in callbacks
               if cb.subject is CallbackSubject.COMPLAINT
               and cb.subject_id == complaint.complaint_id and cb.done_at is not None
               and received <= to_epoch(cb.done_at) <= at]
    unsolved_outcomes = {CallbackOutcome.UNSOLVED}
    if policy.escalation.count_unreachable:
        unsolved_outcomes.add(CallbackOutcome.UNREACHABLE)
    unsolved = sorted(cb.callback_id for cb in counted if cb.outcome in unsolved_outcomes)
    solved = any(cb.outcome is CallbackOutcome.SOLVED for cb in counted) or (
        complaint.closed_at is not None and to_epoch(complaint.closed_at) <= at)
    rulebook = policy.escalation.rulebook
    others = [h for h in history if h.complaint_id != complaint.complaint_id
              and h.customer_id == complaint.customer_id
              and h.complaint_type == complaint.complaint_type]
    earlier: dict[int, list[str]] = {}
    for days in _windows(rulebook):
        earlier[days] = sorted(h.complaint_id for h in others
                               if received - days * _DAY <= to_epoch(h.received_at) < received)
    flags = 0
    for flag in complaint.flags:
        flags |= 1 << list(ComplaintFlag).index(flag)
    facts = _Facts(
        source=np.array([list(ComplaintSource).index(complaint.source)]),
        flags=np.array([flags]),
        text={"complaint_type": (np.zeros(1, dtype=np.int64), (complaint.complaint_type,)),
              "station_id": (np.zeros(1, dtype=np.int64), (complaint.station_id,))},
        unsolved=np.array([len(unsolved)]),
        solved=np.array([solved]), received=np.array([received], dtype=np.int64),
        earlier={d: np.array([len(ids)]) for d, ids in earlier.items()},
        unsolved_ids=lambda row: unsolved,
        earlier_ids=lambda row, days: earlier[days])
    level, fired = _levels(rulebook, facts, at, policy)
    return _escalation(complaint.complaint_id, 0, rulebook, facts, level, fired, at, policy)


# --------------------------------------------------------------------------- tables


@final
class EscalationTable:
    """The escalation of every complaint of a table, vectorised.

    Rows align with the complaint table. ``levels`` holds the level per row,
    ``fired(rule_id)`` the rows where a rule fired, :meth:`escalation` the full
    explanation of one complaint (equal to :func:`escalate` on it), and ``report`` the
    callbacks that could not be used (unknown complaint, made before it was received).

    .. versionadded:: 0.1
    """

    def __init__(self, *, complaint_ids: tuple[str, ...], levels: NDArray[np.int8],
                 fired: Mapping[str, NDArray[np.bool_]], facts: _Facts, rulebook: Rulebook,
                 now: int, policy: Policy, report: ValidationReport) -> None:
        self.complaint_ids = complaint_ids
        self.levels = levels
        self.levels.flags.writeable = False
        self._fired = FrozenDict(fired)
        self._facts = facts
        self._rulebook = rulebook
        self._now = now
        self._policy = policy
        self.report = report
        self._rows: dict[str, int] | None = None  # built on the first look-up

    def __len__(self) -> int:
        return len(self.complaint_ids)

    def fired(self, rule_id: str) -> NDArray[np.bool_]:
        """The rows where rule *rule_id* fired (a read-only array)."""
        if rule_id not in self._fired:
            raise UnknownKeyError.for_key("rule", rule_id, self._fired)
        view = self._fired[rule_id].view()
        view.flags.writeable = False
        return view

    def row_of(self, complaint_id: str) -> int:
        """The row of *complaint_id*."""
        if self._rows is None:
            self._rows = dict(zip(self.complaint_ids, range(len(self.complaint_ids))))
        if complaint_id not in self._rows:
            raise UnknownKeyError.for_key("complaint", complaint_id, self.complaint_ids[:50])
        return self._rows[complaint_id]

    def level_of(self, complaint_id: str) -> EscalationLevel:
        """The level of one complaint."""
        return EscalationLevel(int(self.levels[self.row_of(complaint_id)]))

    def escalation(self, complaint_id: str) -> Escalation:
        """The full explanation of one complaint, as :func:`escalate` gives it."""
        row = self.row_of(complaint_id)
        return _escalation(complaint_id, row, self._rulebook, self._facts, self.levels,
                           self._fired, self._now, self._policy)

    def ids_at(self, level: EscalationLevel | str) -> tuple[str, ...]:
        """The complaints at exactly *level*, in table order."""
        wanted = int(EscalationLevel.parse(level))
        return tuple(self.complaint_ids[i] for i in np.flatnonzero(self.levels == wanted))

    def counts_by_level(self) -> dict[EscalationLevel, int]:
        """How many complaints sit at each level."""
        counts = np.bincount(self.levels.astype(np.int64), minlength=len(EscalationLevel))
        return {level: int(counts[int(level)]) for level in EscalationLevel}

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per complaint: id, level and fired rules (for export)."""
        rules = list(self._fired)
        return [{"complaint_id": cid, "level": EscalationLevel(int(self.levels[i])).name.lower(),
                 "fired": [r for r in rules if self._fired[r][i]]}
                for i, cid in enumerate(self.complaint_ids)]

    def _repr_html_(self) -> str:
        html: str = _extras.edge("report.notebook").escalations_html(self)
        return html

    def __repr__(self) -> str:
        counts = ", ".join(f"{k.name.lower()} {v}" for k, v in self.counts_by_level().items())
        return f"<EscalationTable: {len(self)} complaints ({counts})>"


def escalate_table(complaints: ComplaintTable, callbacks: CallbackTable | None = None, *,
                   now: datetime, policy: Policy | None = None) -> EscalationTable:
    """:func:`escalate` for every complaint of *complaints*, vectorised.

    The table is its own history: earlier complaints are looked up among its rows.

    Args:
        complaints: the complaints.
        callbacks: the callbacks (any subject; those about complaints count).
        now: the moment of judgement (aware).
        policy: the rule book and thresholds (default :meth:`Policy.default`).

    Returns:
        The :class:`EscalationTable`, with the unusable callbacks in its ``report``.

    >>> from servicekpi import synth
    >>> from datetime import datetime, timezone
    >>> data = synth.month(seed=2, tickets=5_000, agents=10, stations=2)
    >>> table = escalate_table(data.complaints, data.callbacks,
    ...                        now=datetime(2026, 11, 1, tzinfo=timezone.utc))
    >>> sum(table.counts_by_level().values()) == len(data.complaints)
    True

    .. versionadded:: 0.1
    """
    if not isinstance(complaints, ComplaintTable):
        raise TypeError(f"'complaints' must be a ComplaintTable (got {type(complaints).__name__})")
    if callbacks is not None and not isinstance(callbacks, CallbackTable):
        raise TypeError(f"'callbacks' must be a CallbackTable (got {type(callbacks).__name__})")
    policy = policy or Policy.default()
    at = _now(now)
    rulebook = policy.escalation.rulebook
    n = len(complaints)
    received = complaints["received_at"]
    complaint_ids = complaints.labels("complaint_id")
    code_to_row = np.full(len(complaint_ids), -1, dtype=np.int64)
    code_to_row[complaints["complaint_id"]] = np.arange(n)
    row_ids = tuple(map(complaint_ids.__getitem__, complaints["complaint_id"].tolist()))

    # Callbacks -> complaint rows, with the unusable ones reported.
    issues: list[ValidationIssue] = []
    if callbacks is not None and len(callbacks):
        about = callbacks["subject"] == _COMPLAINT
        labels = callbacks.labels("subject_id")
        codes = complaints.codes_of("complaint_id", labels)
        # code_to_row gets a trailing -1 so that "no code" (and an empty table) index it.
        padded = np.append(code_to_row, -1)
        table = np.append(padded[np.where(codes >= 0, codes, -1)], -1)
        subject = callbacks["subject_id"]
        rows = np.where(about, table[np.where(subject < 0, len(labels), subject)], -1)
        done = callbacks["done_at"]
        unknown = about & (rows < 0)
        received_or_none = np.append(received, np.iinfo(np.int64).max)  # row -1: never early
        early = (rows >= 0) & (done != MISSING) & (done < received_or_none[rows])
        id_labels = callbacks.labels("callback_id")
        id_codes = callbacks["callback_id"]
        for i in np.flatnonzero(unknown):
            code = int(subject[i])
            issues.append(ValidationIssue(row=int(i), key=id_labels[id_codes[i]],
                                          field="subject_id",
                                          value=labels[code] if code >= 0 else None,
                                          rule="names a complaint of the table",
                                          code="unknown_complaint"))
        for i in np.flatnonzero(early):
            issues.append(ValidationIssue(row=int(i), key=id_labels[id_codes[i]],
                                          field="done_at",
                                          value=done.view("datetime64[s]")[i].item(),
                                          rule="made after the complaint was received",
                                          code="before_complaint"))
        counted = (rows >= 0) & ~early & (done != MISSING) & (done <= at)
        outcome = callbacks["outcome"]
        bad_outcomes = [_UNSOLVED] + ([_UNREACHABLE] if policy.escalation.count_unreachable
                                      else [])
        is_unsolved = counted & np.isin(outcome, bad_outcomes)
        unsolved = np.bincount(rows[is_unsolved], minlength=n).astype(np.int64)
        solved = np.bincount(rows[counted & (outcome == _SOLVED)], minlength=n) > 0
        # Callbacks grouped by complaint row for the explanations (ids decoded on demand).
        pick = np.flatnonzero(is_unsolved)
        order = pick[np.argsort(rows[pick], kind="stable")]
        by_row_rows = rows[order]
        by_row_codes = id_codes[order]
    else:
        unsolved = np.zeros(n, dtype=np.int64)
        solved = np.zeros(n, dtype=bool)
        by_row_rows = np.zeros(0, dtype=np.int64)
        by_row_codes = np.zeros(0, dtype=np.int64)
        id_labels = ()
    closed = complaints["closed_at"]
    solved |= (closed != MISSING) & (closed <= at)
    bad_rows = {issue.row for issue in issues}
    report = ValidationReport(table="callbacks", rows_in=len(callbacks) if callbacks else 0,
                              rows_valid=(len(callbacks) if callbacks else 0) - len(bad_rows),
                              issues=tuple(sorted(issues, key=lambda x: (x.row, x.code))))

    # Earlier complaints of the same customer on the same matter: one sort of a key
    # (customer, type, time), then two binary searches per window.
    customer = complaints["customer_id"].astype(np.int64)
    matter = complaints["complaint_type"].astype(np.int64)
    n_matter = max(len(complaints.labels("complaint_type")), 1)
    group = customer * n_matter + matter
    t0 = int(received.min()) if n else 0
    span = int(received.max()) - t0 + 1 if n else 1
    shift = max(1, span.bit_length())
    key = (group << shift) + (received - t0)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    earlier_counts: dict[int, NDArray[np.int64]] = {}
    earlier_bounds: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
    # high: where the row's own key first appears (equal times are not earlier), from
    # the runs of the sorted keys; low: a search whose needles, taken in sorted order,
    # are themselves sorted, which keeps the binary searches cache-friendly.
    new_run = np.empty(n, dtype=bool)
    new_run[:1] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new_run[1:])
    run_start = np.flatnonzero(new_run)
    high = np.empty(n, dtype=np.int64)
    high[order] = run_start[np.cumsum(new_run) - 1]
    sorted_group = group[order]
    sorted_received = received[order]
    for days in _windows(rulebook):
        start = np.maximum(sorted_received - days * _DAY - t0, 0)
        low = np.empty(n, dtype=np.int64)
        low[order] = np.searchsorted(sorted_key, (sorted_group << shift) + start, side="left")
        earlier_counts[days] = (high - low).astype(np.int64)
        earlier_bounds[days] = (low, high)

    def unsolved_ids(row: int) -> list[str]:
        lo, hi = np.searchsorted(by_row_rows, [row, row + 1])
        return sorted(id_labels[code] for code in by_row_codes[lo:hi])

    def earlier_ids(row: int, days: int) -> list[str]:
        lo, hi = earlier_bounds[days][0][row], earlier_bounds[days][1][row]
        return sorted(row_ids[j] for j in order[lo:hi])

    facts = _Facts(source=complaints["source"].astype(np.int64),
                   flags=complaints["flags"].astype(np.int64),
                   text={name: (complaints[name].astype(np.int64), complaints.labels(name))
                         for name in ("complaint_type", "station_id")},
                   unsolved=unsolved, solved=solved, received=received,
                   earlier=earlier_counts, unsolved_ids=unsolved_ids,
                   earlier_ids=earlier_ids)
    levels, fired = _levels(rulebook, facts, at, policy)
    return EscalationTable(complaint_ids=row_ids, levels=levels, fired=fired, facts=facts,
                           rulebook=rulebook, now=at, policy=policy, report=report)
