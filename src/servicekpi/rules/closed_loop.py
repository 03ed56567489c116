"""The complaint closed loop (闭环管理): verify, call back, push again, close.

DOMAIN.md §4: a complaint is handled in a loop until it is closed:

1. **verify** with the station's responsible person that the complaint is solved;
2. **call back** the customer to confirm;
3. if the customer says it is still unsolved (or cannot be reached), the station is
   **pushed again** and the loop repeats from 1.

A case **closes only after a callback with outcome** ``solved``.

The states and the transitions
==============================

A :class:`ComplaintCase` is an immutable value: every transition returns a *new* case
(:func:`attrs.evolve`) and leaves the old one as it was.

=================  ==========================================  =================
from               action                                      to
=================  ==========================================  =================
``received``       :meth:`~ComplaintCase.verify`               ``verified``
``pushed_back``    :meth:`~ComplaintCase.verify`               ``verified``
``verified``       :meth:`~ComplaintCase.call_back`, solved    ``called_back``
``verified``       :meth:`~ComplaintCase.call_back`, unsolved  ``pushed_back``
                   or unreachable
``called_back``    :meth:`~ComplaintCase.close`                ``closed``
=================  ==========================================  =================

Anything else raises :class:`InvalidTransitionError` naming the complaint, the state
and the attempted action. The history is a tuple of :class:`CaseEvent`: a callback
always records a ``called_back`` event (with the callback id and outcome); one that did
not solve the complaint is followed at the same instant by a ``pushed_back`` event, so
there are exactly as many ``pushed_back`` events as callbacks that were not ``solved``.

Event times never go backwards: an event may not be earlier than the event before it,
nor than the complaint's ``received_at`` (equal instants are allowed). Instants are
compared as instants (in UTC), whatever their zones. Naive datetimes raise
:class:`~servicekpi.exceptions.NaiveDatetimeError`.

The case is checked as a whole when it is built, so ``ComplaintCase(...)`` with a
``state`` its ``events`` do not lead to, or with events out of order, cannot exist.

Deadlines
=========

:func:`next_action` says what is due next, by when, and whether it is overdue at ``now``
(``now > due``; a deadline met to the second is not overdue). Deadlines are working
time in ``policy.calendar`` (holidays, make-up days and the zone's DST shifts
included). "Within *N* working days of *t*" is the end of the working hours of the
local working day *N* working days after *t*::

    calendar.end_of_working_day_at(calendar.add_working_days_at(t, N))

(:meth:`~servicekpi.calendar.WorkCalendar.add_working_days_at` first rolls a
non-working date forward to the next working day, then keeps the wall-clock time.)

=================  ============  =====================================================
state              next action   due
=================  ============  =====================================================
``received``       verify        within ``verify_working_days`` of ``received_at``
``pushed_back``    verify        within ``verify_working_days`` of the push-back
``verified``       call back     within ``callback_working_days`` of the verification
``called_back``    close         the end of the solved callback's working day
``closed``         none          ``None``
=================  ============  =====================================================

``verify_working_days`` (default 1) and ``callback_working_days`` (default 2) are read
from ``policy.escalation``; a policy without them gets those defaults.

Replaying records
=================

:func:`replay` rebuilds a case from a :class:`~servicekpi.domain.Complaint` and its
:class:`~servicekpi.domain.Callback` records, for the monthly analysis.

>>> from datetime import datetime, timedelta, timezone
>>> from servicekpi.domain import Callback, Complaint
>>> from servicekpi.policy import Policy
>>> cst = timezone(timedelta(hours=8))
>>> complaint = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
...                       responsible="P-7", source="hotline", complaint_type="delay",
...                       received_at=datetime(2024, 3, 4, 9, 0, tzinfo=cst))
>>> case = ComplaintCase.open(complaint).verify(
...     at=datetime(2024, 3, 4, 15, 0, tzinfo=cst), by="P-7")
>>> case = case.call_back(Callback(
...     callback_id="CB-1", subject="complaint", subject_id="K-1",
...     due_from=datetime(2024, 3, 5, 9, 0, tzinfo=cst),
...     due_by=datetime(2024, 3, 6, 17, 30, tzinfo=cst),
...     done_at=datetime(2024, 3, 5, 10, 0, tzinfo=cst), outcome="unsolved"))
>>> case.state, case.unsolved_callbacks
(<CaseState.PUSHED_BACK: 'pushed_back'>, 1)
>>> step = next_action(case, now=datetime(2024, 3, 6, 9, 0, tzinfo=cst),
...                    policy=Policy.default())
>>> step.action, step.due.isoformat(), step.overdue
(<CaseAction.VERIFY: 'verify'>, '2024-03-06T17:30:00+08:00', False)
>>> case.close(at=datetime(2024, 3, 5, 11, 0, tzinfo=cst))
Traceback (most recent call last):
...
servicekpi.exceptions.InvalidTransitionError: cannot close complaint 'K-1' in state 'pushed_back': a case closes only after a callback with outcome 'solved'

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, final

import attrs

from servicekpi.domain import Callback, CallbackOutcome, CallbackSubject, Complaint
from servicekpi.domain import _checks
from servicekpi.domain._checks import fmt, utc
from servicekpi.exceptions import (
    InvalidRecordError,
    InvalidTransitionError,
    NaiveDatetimeError,
)
from servicekpi.policy import Policy

__all__ = (
    "CaseAction",
    "CaseEvent",
    "CaseEventKind",
    "CaseState",
    "ComplaintCase",
    "NextAction",
    "next_action",
    "replay",
)


class CaseState(enum.StrEnum):
    """Where a complaint case stands in the closed loop.

    .. versionadded:: 0.1
    """

    RECEIVED = "received"
    VERIFIED = "verified"
    CALLED_BACK = "called_back"
    PUSHED_BACK = "pushed_back"
    CLOSED = "closed"


class CaseEventKind(enum.StrEnum):
    """What happened to a case: one event of its history.

    .. versionadded:: 0.1
    """

    VERIFIED = "verified"
    CALLED_BACK = "called_back"
    PUSHED_BACK = "pushed_back"
    CLOSED = "closed"


class CaseAction(enum.StrEnum):
    """What a case needs next (:func:`next_action`).

    .. versionadded:: 0.1
    """

    VERIFY = "verify"
    CALL_BACK = "call_back"
    CLOSE = "close"
    NONE = "none"


# The verb of each event in error messages: "cannot <verb> complaint 'K-1' ...".
_VERB: Final = {
    CaseEventKind.VERIFIED: "verify",
    CaseEventKind.CALLED_BACK: "call back",
    CaseEventKind.PUSHED_BACK: "push back",
    CaseEventKind.CLOSED: "close",
}

# Why an event is refused in a state; a missing pair is an allowed transition.
_REFUSED: Final[dict[tuple[CaseState, CaseEventKind], str]] = {
    (CaseState.VERIFIED, CaseEventKind.VERIFIED):
        "it is already verified; call the customer back next",
    (CaseState.CALLED_BACK, CaseEventKind.VERIFIED):
        "the customer confirmed it solved; close the case next",
    (CaseState.RECEIVED, CaseEventKind.CALLED_BACK):
        "verify with the station's responsible person first",
    (CaseState.PUSHED_BACK, CaseEventKind.CALLED_BACK):
        "the station was pushed again; verify with its responsible person first",
    (CaseState.CALLED_BACK, CaseEventKind.CALLED_BACK):
        "the customer confirmed it solved; close the case next",
    **{(state, CaseEventKind.PUSHED_BACK):
       "the station is pushed again only right after a callback that did not solve it"
       for state in CaseState if state is not CaseState.CLOSED},
    **{(state, CaseEventKind.CLOSED):
       "a case closes only after a callback with outcome 'solved'"
       for state in CaseState if state not in (CaseState.CALLED_BACK, CaseState.CLOSED)},
    **{(CaseState.CLOSED, kind): "the case is closed" for kind in CaseEventKind},
}

_TARGET: Final = {
    CaseEventKind.VERIFIED: CaseState.VERIFIED,
    CaseEventKind.PUSHED_BACK: CaseState.PUSHED_BACK,
    CaseEventKind.CLOSED: CaseState.CLOSED,
}


def _optional_outcome(value: object) -> CallbackOutcome | None:
    return None if value is None else CallbackOutcome.parse(value)


@final
@attrs.frozen(kw_only=True)
class CaseEvent:
    """One step of a case's history.

    Args:
        kind: verified, called_back, pushed_back or closed.
        at: when it happened (aware).
        by: who did it (the responsible person, the calling agent), if known.
        callback_id: the callback, for ``called_back`` events only (required there).
        outcome: the callback's outcome, for ``called_back`` events only (required there).
        note: free text.

    Raises:
        NaiveDatetimeError: for a naive ``at``.
        InvalidRecordError: when ``callback_id``/``outcome`` are missing on a
            ``called_back`` event or set on another kind.

    >>> from datetime import datetime, timezone
    >>> CaseEvent(kind="closed", at=datetime(2024, 3, 5, tzinfo=timezone.utc),
    ...           outcome="solved")
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidRecordError: 'outcome' must be None on a 'closed' event (got 'solved')

    .. versionadded:: 0.1
    """

    kind: CaseEventKind = attrs.field(converter=CaseEventKind)
    at: datetime = attrs.field(validator=_checks.aware)
    by: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    callback_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    outcome: CallbackOutcome | None = attrs.field(default=None, converter=_optional_outcome)
    note: str = attrs.field(default="", validator=_checks.text)

    def __attrs_post_init__(self) -> None:
        for name in ("callback_id", "outcome"):
            value = getattr(self, name)
            if self.kind is CaseEventKind.CALLED_BACK and value is None:
                raise InvalidRecordError(f"{name!r} is required on a 'called_back' event "
                                         f"(got None)")
            if self.kind is not CaseEventKind.CALLED_BACK and value is not None:
                raise InvalidRecordError(f"{name!r} must be None on a {self.kind.value!r} "
                                         f"event (got {str(value)!r})")


def _events(value: Iterable[CaseEvent]) -> tuple[CaseEvent, ...]:
    return tuple(value)


def _check_events(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    for event in value:
        if not isinstance(event, CaseEvent):
            raise InvalidTransitionError(f"'events' must hold CaseEvent objects "
                                         f"(got {event!r})")


def _check_complaint(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Complaint):
        raise InvalidTransitionError(f"'complaint' must be a Complaint (got {value!r})")


def _fold(complaint: Complaint, events: Sequence[CaseEvent]) -> CaseState:
    """The state *events* lead to from ``received``; raises on the first invalid one."""
    name = complaint.complaint_id
    state = CaseState.RECEIVED
    last_at, last_what = complaint.received_at, "the complaint was received"
    pending: CaseEvent | None = None  # a callback that did not solve it, awaiting the push
    seen: set[str] = set()
    for event in events:
        verb = _VERB[event.kind]
        if pending is not None and event.kind is not CaseEventKind.PUSHED_BACK:
            raise _unpushed(name, pending, event.kind.value)
        if pending is None:
            why = _REFUSED.get((state, event.kind))
            if why is not None:
                raise InvalidTransitionError(
                    f"cannot {verb} complaint {name!r} in state {state.value!r}: {why}")
        if event.kind is CaseEventKind.CALLED_BACK and event.callback_id in seen:
            raise InvalidTransitionError(f"cannot call back complaint {name!r} with "
                                         f"callback {event.callback_id!r}: it is already "
                                         f"recorded")
        if utc(event.at) < utc(last_at):
            raise InvalidTransitionError(
                f"cannot {verb} complaint {name!r} at {fmt(event.at)}: that is before "
                f"{last_what} at {fmt(last_at)}")
        if event.kind is CaseEventKind.CALLED_BACK:
            seen.add(str(event.callback_id))
            if event.outcome is CallbackOutcome.SOLVED:
                state = CaseState.CALLED_BACK
            else:
                pending = event
        else:
            state, pending = _TARGET[event.kind], None
        last_at, last_what = event.at, f"the last event ({event.kind.value!r})"
    if pending is not None:
        raise _unpushed(name, pending, None)
    return state


def _unpushed(name: str, pending: CaseEvent, got: str | None) -> InvalidTransitionError:
    outcome = pending.outcome.value if pending.outcome is not None else None
    return InvalidTransitionError(
        f"complaint {name!r}: the {outcome!r} callback {pending.callback_id!r} must be "
        f"followed by a 'pushed_back' event (got {got!r})")


@final
@attrs.frozen(kw_only=True)
class ComplaintCase:
    """A complaint going round the closed loop, with its history.

    Build one with :meth:`open`, then move it on with :meth:`verify`,
    :meth:`call_back` and :meth:`close`; each returns a new case. Built directly, the
    case is checked: ``state`` must be where ``events`` lead (see the module docstring).

    Args:
        complaint: the complaint.
        state: where the case stands.
        events: its history, oldest first.

    Raises:
        InvalidTransitionError: when the events break the loop, go back in time, or
            do not lead to ``state``.

    >>> from datetime import datetime, timezone
    >>> from servicekpi.domain import Complaint
    >>> complaint = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
    ...                       responsible="P-7", source="hotline", complaint_type="delay",
    ...                       received_at=datetime(2024, 3, 4, 1, tzinfo=timezone.utc))
    >>> ComplaintCase(complaint=complaint, state="closed")
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidTransitionError: complaint 'K-1': 'state' is 'closed' but its events lead to 'received'

    .. versionadded:: 0.1
    """

    complaint: Complaint = attrs.field(validator=_check_complaint)
    state: CaseState = attrs.field(default=CaseState.RECEIVED, converter=CaseState)
    events: tuple[CaseEvent, ...] = attrs.field(default=(), converter=_events,
                                               validator=_check_events)

    def __attrs_post_init__(self) -> None:
        reached = _fold(self.complaint, self.events)
        if reached is not self.state:
            raise InvalidTransitionError(
                f"complaint {self.complaint.complaint_id!r}: 'state' is "
                f"{self.state.value!r} but its events lead to {reached.value!r}")

    @classmethod
    def open(cls, complaint: Complaint) -> ComplaintCase:
        """A new case for *complaint*, in state ``received`` with no events.

        Args:
            complaint: the complaint just received.

        Returns:
            The case.

        >>> from datetime import datetime, timezone
        >>> from servicekpi.domain import Complaint
        >>> ComplaintCase.open(Complaint(
        ...     complaint_id="K-1", customer_id="C-1", station_id="S1", responsible="P-7",
        ...     source="hotline", complaint_type="delay",
        ...     received_at=datetime(2024, 3, 4, 1, tzinfo=timezone.utc))).state
        <CaseState.RECEIVED: 'received'>

        .. versionadded:: 0.1
        """
        return cls(complaint=complaint)

    def _extend(self, *events: CaseEvent) -> ComplaintCase:
        history = self.events + events
        return attrs.evolve(self, state=_fold(self.complaint, history), events=history)

    def verify(self, *, at: datetime, by: str | None) -> ComplaintCase:
        """Record that the station's responsible person confirmed the complaint solved.

        Allowed from ``received`` and ``pushed_back``.

        Args:
            at: when it was verified (aware, not before the last event).
            by: who confirmed it, usually ``complaint.responsible``.

        Returns:
            A new case in state ``verified``.

        Raises:
            InvalidTransitionError: from another state, or ``at`` before the last event.
            NaiveDatetimeError: for a naive ``at``.

        >>> from datetime import datetime, timezone
        >>> from servicekpi.domain import Complaint
        >>> case = ComplaintCase.open(Complaint(
        ...     complaint_id="K-1", customer_id="C-1", station_id="S1", responsible="P-7",
        ...     source="hotline", complaint_type="delay",
        ...     received_at=datetime(2024, 3, 4, 1, tzinfo=timezone.utc)))
        >>> case.verify(at=datetime(2024, 3, 4, 3, tzinfo=timezone.utc), by="P-7").state
        <CaseState.VERIFIED: 'verified'>

        .. versionadded:: 0.1
        """
        return self._extend(CaseEvent(kind=CaseEventKind.VERIFIED, at=at, by=by))

    def call_back(self, callback: Callback) -> ComplaintCase:
        """Record the callback that asked the customer whether it is solved.

        Allowed from ``verified``. A ``solved`` outcome moves the case to
        ``called_back``; ``unsolved`` or ``unreachable`` push the station again
        (``pushed_back``). Either way a ``called_back`` event is recorded (``by`` the
        callback's agent), followed for a push by a ``pushed_back`` event at the same
        instant.

        Args:
            callback: a callback that was made (``done_at`` set), about this complaint
                (subject ``complaint``, ``subject_id`` = its id), not before the last
                event, and not recorded on the case already.

        Returns:
            A new case in state ``called_back`` or ``pushed_back``.

        Raises:
            InvalidTransitionError: for a callback not made, about something else,
                already recorded or before the last event, or from another state.

        >>> from datetime import datetime, timezone
        >>> from servicekpi.domain import Callback, Complaint
        >>> t = datetime(2024, 3, 4, 1, tzinfo=timezone.utc)
        >>> case = ComplaintCase.open(Complaint(
        ...     complaint_id="K-1", customer_id="C-1", station_id="S1", responsible="P-7",
        ...     source="hotline", complaint_type="delay", received_at=t))
        >>> case.verify(at=t, by="P-7").call_back(Callback(
        ...     callback_id="CB-1", subject="complaint", subject_id="K-2", due_from=t,
        ...     due_by=t, done_at=t, outcome="solved"))
        Traceback (most recent call last):
        ...
        servicekpi.exceptions.InvalidTransitionError: cannot call back complaint 'K-1' with callback 'CB-1': it is about complaint 'K-2'

        .. versionadded:: 0.1
        """
        name = self.complaint.complaint_id
        if not isinstance(callback, Callback):
            raise InvalidTransitionError(f"'callback' must be a Callback (got {callback!r})")
        prefix = f"cannot call back complaint {name!r} with callback {callback.callback_id!r}"
        if callback.subject is not CallbackSubject.COMPLAINT or callback.subject_id != name:
            raise InvalidTransitionError(f"{prefix}: it is about {callback.subject.value} "
                                         f"{callback.subject_id!r}")
        if callback.done_at is None or callback.outcome is None:
            raise InvalidTransitionError(f"{prefix}: it has not been made ('done_at' is "
                                         f"None)")
        called = CaseEvent(kind=CaseEventKind.CALLED_BACK, at=callback.done_at,
                           by=callback.agent_id, callback_id=callback.callback_id,
                           outcome=callback.outcome)
        if callback.outcome is CallbackOutcome.SOLVED:
            return self._extend(called)
        pushed = CaseEvent(kind=CaseEventKind.PUSHED_BACK, at=callback.done_at,
                           note=f"callback {callback.callback_id!r} was "
                                f"{callback.outcome.value!r}; the station is pushed again")
        return self._extend(called, pushed)

    def close(self, *, at: datetime, by: str | None = None) -> ComplaintCase:
        """Close the case; allowed only from ``called_back`` (the last callback solved it).

        Args:
            at: when it was closed (aware, not before the callback).
            by: who closed it, if recorded.

        Returns:
            A new case in state ``closed``.

        Raises:
            InvalidTransitionError: from another state, or ``at`` before the callback.
            NaiveDatetimeError: for a naive ``at``.

        >>> from datetime import datetime, timezone
        >>> from servicekpi.domain import Complaint
        >>> t = datetime(2024, 3, 4, 1, tzinfo=timezone.utc)
        >>> ComplaintCase.open(Complaint(
        ...     complaint_id="K-1", customer_id="C-1", station_id="S1", responsible="P-7",
        ...     source="hotline", complaint_type="delay", received_at=t)).close(at=t)
        Traceback (most recent call last):
        ...
        servicekpi.exceptions.InvalidTransitionError: cannot close complaint 'K-1' in state 'received': a case closes only after a callback with outcome 'solved'

        .. versionadded:: 0.1
        """
        return self._extend(CaseEvent(kind=CaseEventKind.CLOSED, at=at, by=by))

    @property
    def callbacks_made(self) -> int:
        """How many callbacks the case records (every outcome)."""
        return sum(1 for e in self.events if e.kind is CaseEventKind.CALLED_BACK)

    @property
    def unsolved_callbacks(self) -> int:
        """How many recorded callbacks had outcome ``unsolved``.

        ``unreachable`` ones push the station again too but are not counted, as in
        escalation's default (``EscalationPolicy.count_unreachable = False``).
        """
        return sum(1 for e in self.events if e.outcome is CallbackOutcome.UNSOLVED)

    @property
    def is_closed(self) -> bool:
        """Whether the case is closed."""
        return self.state is CaseState.CLOSED

    @property
    def last_event_at(self) -> datetime:
        """When the last event happened; ``complaint.received_at`` before any."""
        return self.events[-1].at if self.events else self.complaint.received_at


@final
@attrs.frozen(kw_only=True)
class NextAction:
    """What a case needs next, by when, and why (:func:`next_action`).

    Args:
        action: verify, call back, close, or none for a closed case.
        due: the deadline (aware, in the calendar's zone); ``None`` for none.
        overdue: whether ``now`` is past ``due``.
        reason: one sentence explaining the action and its deadline.

    .. versionadded:: 0.1
    """

    action: CaseAction = attrs.field(converter=CaseAction)
    due: datetime | None = attrs.field(validator=_checks.optional_aware)
    overdue: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    reason: str = attrs.field(validator=attrs.validators.instance_of(str))


def _days(n: int) -> str:
    return f"{n} working day{'' if n == 1 else 's'}"


def next_action(case: ComplaintCase, *, now: datetime, policy: Policy) -> NextAction:
    """What *case* needs next, its deadline in working time, and whether it is overdue.

    See the module docstring for the deadline of each state.

    Args:
        case: the case.
        now: the moment of the question (aware); ``overdue`` is ``now > due``.
        policy: gives the working calendar (``policy.calendar``) and
            ``escalation.verify_working_days`` / ``escalation.callback_working_days``.

    Returns:
        The next action.

    Raises:
        NaiveDatetimeError: for a naive ``now``.

    >>> from datetime import datetime, timezone
    >>> from servicekpi.domain import Complaint
    >>> from servicekpi.policy import Policy
    >>> case = ComplaintCase.open(Complaint(
    ...     complaint_id="K-1", customer_id="C-1", station_id="S1", responsible="P-7",
    ...     source="hotline", complaint_type="delay",
    ...     received_at=datetime(2024, 3, 8, 2, tzinfo=timezone.utc)))  # a Friday
    >>> step = next_action(case, now=datetime(2024, 3, 11, 12, tzinfo=timezone.utc),
    ...                    policy=Policy.default())
    >>> step.due.isoformat(), step.overdue
    ('2024-03-11T17:30:00+08:00', True)
    >>> step.reason
    "Verify with the station's responsible person 'P-7' (station 'S1') that complaint 'K-1' is solved, within 1 working day of its receipt."

    .. versionadded:: 0.1
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise NaiveDatetimeError(f"'now' must be a timezone-aware datetime (got {now!r})")
    complaint = case.complaint
    name = complaint.complaint_id
    if case.state is CaseState.CLOSED:
        return NextAction(action=CaseAction.NONE, due=None, overdue=False,
                          reason=f"Nothing to do: complaint {name!r} was closed at "
                                 f"{fmt(case.last_event_at)}.")
    calendar = policy.calendar
    start = case.last_event_at
    who = (f"the station's responsible person {complaint.responsible!r} "
           f"(station {complaint.station_id!r})")
    if case.state is CaseState.CALLED_BACK:
        action = CaseAction.CLOSE
        due = calendar.end_of_working_day_at(start)
        callback = case.events[-1].callback_id
        reason = (f"Close complaint {name!r}: callback {callback!r} confirmed it solved, so "
                  f"it closes by the end of that working day.")
    elif case.state is CaseState.VERIFIED:
        action = CaseAction.CALL_BACK
        n = policy.escalation.callback_working_days
        due = calendar.end_of_working_day_at(calendar.add_working_days_at(start, n))
        reason = (f"Call customer {complaint.customer_id!r} back to confirm complaint "
                  f"{name!r} is solved, within {_days(n)} of the verification.")
    else:
        action = CaseAction.VERIFY
        n = policy.escalation.verify_working_days
        due = calendar.end_of_working_day_at(calendar.add_working_days_at(start, n))
        if case.state is CaseState.RECEIVED:
            reason = (f"Verify with {who} that complaint {name!r} is solved, within "
                      f"{_days(n)} of its receipt.")
        else:
            called = case.events[-2]
            outcome = called.outcome.value if called.outcome is not None else None
            reason = (f"Verify again with {who} that complaint {name!r} is solved, within "
                      f"{_days(n)} of the push-back: callback {called.callback_id!r} was "
                      f"{outcome!r}.")
    return NextAction(action=action, due=due, overdue=utc(now) > utc(due), reason=reason)


def replay(complaint: Complaint, callbacks: Iterable[Callback], *,
           verified_at: datetime | None = None) -> ComplaintCase:
    """Rebuild the case of *complaint* from its callback records.

    The callbacks that were made (``done_at`` set; the others are skipped) are applied
    in the order of ``done_at`` (ties by ``callback_id``), so the input order does not
    matter. Before each one the case is verified implicitly, by
    ``complaint.responsible``: at ``verified_at`` for the first when given, otherwise at
    the callback's ``due_from`` or ``complaint.received_at``, whichever is later —
    clamped to lie between the previous event and the callback's ``done_at`` (a call
    made before ``due_from`` was verified by then). After a ``solved`` callback the case
    is closed at ``complaint.closed_at`` when that is set; without it the case stays
    ``called_back``, and a ``closed_at`` without a solved callback closes nothing.

    Args:
        complaint: the complaint.
        callbacks: its callbacks.
        verified_at: when the first verification really happened, if known.

    Returns:
        The case as the records leave it.

    Raises:
        InvalidTransitionError: for a callback about another complaint, a callback after
            a ``solved`` one, or records out of time order (a callback before
            ``received_at`` or ``verified_at``, ``closed_at`` before the solved callback).
        NaiveDatetimeError: for a naive ``verified_at``.

    >>> from datetime import datetime, timedelta, timezone
    >>> from servicekpi.domain import Callback, Complaint
    >>> t = datetime(2024, 3, 4, 1, tzinfo=timezone.utc)
    >>> complaint = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
    ...                       responsible="P-7", source="hotline", complaint_type="delay",
    ...                       received_at=t, closed_at=t + timedelta(days=3))
    >>> calls = [Callback(callback_id=f"CB-{i}", subject="complaint", subject_id="K-1",
    ...                   due_from=t, due_by=t + timedelta(days=i),
    ...                   done_at=t + timedelta(days=i), outcome=outcome)
    ...          for i, outcome in [(2, "solved"), (1, "unreachable")]]
    >>> case = replay(complaint, calls)
    >>> [event.kind.value for event in case.events]
    ['verified', 'called_back', 'pushed_back', 'verified', 'called_back', 'closed']
    >>> case.is_closed, case.callbacks_made, case.unsolved_callbacks
    (True, 2, 0)

    .. versionadded:: 0.1
    """
    made = sorted(((c.done_at, c) for c in callbacks if c.done_at is not None),
                  key=lambda pair: (utc(pair[0]), pair[1].callback_id))
    case = ComplaintCase.open(complaint)
    name = complaint.complaint_id
    for index, (done_at, callback) in enumerate(made):
        if case.state is CaseState.CALLED_BACK:
            raise InvalidTransitionError(
                f"cannot call back complaint {name!r} with callback "
                f"{callback.callback_id!r}: an earlier callback "
                f"{case.events[-1].callback_id!r} already confirmed it solved")
        if index == 0 and verified_at is not None:
            at = verified_at
        else:
            last = case.last_event_at
            if utc(done_at) < utc(last):
                what = (f"the last event ({case.events[-1].kind.value!r})" if case.events
                        else "the complaint was received")
                raise InvalidTransitionError(
                    f"cannot call back complaint {name!r} with callback "
                    f"{callback.callback_id!r} at {fmt(done_at)}: that is before {what} "
                    f"at {fmt(last)}")
            at = max(last, min(callback.due_from, done_at, key=utc), key=utc)
        case = case.verify(at=at, by=complaint.responsible).call_back(callback)
    if not made and verified_at is not None:
        case = case.verify(at=verified_at, by=complaint.responsible)
    if case.state is CaseState.CALLED_BACK and complaint.closed_at is not None:
        case = case.close(at=complaint.closed_at)
    return case
