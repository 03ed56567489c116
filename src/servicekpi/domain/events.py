"""A ticket's history (events) and the SLA clock instances measured over it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, final

import attrs

from servicekpi.domain import _checks
from servicekpi.domain.enums import ClockName, ClockStatus, EventKind
from servicekpi.exceptions import InvalidEventError, InvalidRecordError

__all__ = ("ClockInstance", "TicketEvent")

_NEEDS_TO: frozenset[EventKind] = frozenset({EventKind.STATUS, EventKind.ASSIGNMENT})


@final
@attrs.frozen(kw_only=True)
class TicketEvent:
    """One entry of a ticket's history: a status change, an assignment, a message or a reply.

    Args:
        ticket_id: the ticket.
        at: when it happened (aware).
        kind: ``status``, ``assignment``, ``customer_message`` or ``agent_reply``.
        from_value: the status before a status change; the assignee before an assignment.
        to_value: the new status / the new assignee; required for those two kinds.
        actor: who did it (the replying agent of an ``agent_reply``).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    >>> TicketEvent(ticket_id="T-1", at=at, kind="status", to_value="waiting_customer").kind
    <EventKind.STATUS: 'status'>
    >>> TicketEvent(ticket_id="T-1", at=at, kind="assignment")
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidEventError: an 'assignment' event needs 'to_value' on ticket 'T-1'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidEventError
    _noun: ClassVar[str] = "ticket"
    _key: ClassVar[str] = "ticket_id"

    ticket_id: str = attrs.field(validator=_checks.ident)
    at: datetime = attrs.field(validator=_checks.aware)
    kind: EventKind = attrs.field(converter=EventKind)
    from_value: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    to_value: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    actor: str | None = attrs.field(default=None, validator=_checks.optional_ident)

    def __attrs_post_init__(self) -> None:
        if self.kind in _NEEDS_TO and self.to_value is None:
            raise _checks.fail(self, f"an {self.kind.value!r} event needs 'to_value'"
                               if self.kind is EventKind.ASSIGNMENT
                               else f"a {self.kind.value!r} event needs 'to_value'")


@final
@attrs.frozen(kw_only=True)
class ClockInstance:
    """One SLA clock instance as of a judging instant (a row of a ``ClockTable``).

    Args:
        clock: which clock (first response, next reply, resolution).
        ticket_id: the ticket.
        started_at: when the instance started.
        stopped_at: when it stopped; ``None`` while it is active.
        elapsed: running working seconds.
        paused: working seconds spent paused while active.
        target: the target in working seconds.
        status: running, paused, achieved or breached.
        at_risk: whether a warning is due (policy share of the target used).
        due_at: when the target is used up if it runs on from the judging instant;
            ``None`` once achieved or breached.
        agent_id: the agent credited (the biggest share when split).

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidEventError
    _noun: ClassVar[str] = "ticket"
    _key: ClassVar[str] = "ticket_id"

    clock: ClockName = attrs.field(converter=ClockName)
    ticket_id: str = attrs.field(validator=_checks.ident)
    started_at: datetime = attrs.field(validator=_checks.aware)
    stopped_at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    elapsed: int = attrs.field(default=0, validator=_checks.non_negative_int)
    paused: int = attrs.field(default=0, validator=_checks.non_negative_int)
    target: int = attrs.field(default=0, validator=_checks.non_negative_int)
    status: ClockStatus = attrs.field(default=ClockStatus.RUNNING, converter=ClockStatus)
    at_risk: bool = attrs.field(default=False, validator=_checks.boolean)
    due_at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    agent_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
