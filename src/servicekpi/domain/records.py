"""The records a service team produces: tickets, complaints, callbacks, ratings, orders.

Each is a frozen value object validated on construction, so an invalid one cannot
exist: timestamps are timezone-aware, a ticket is not resolved before it opened, a
rating lies within its scale, a callback that was made has an outcome.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, final

import attrs

from servicekpi.domain import _checks
from servicekpi.domain.enums import (
    CallbackOutcome,
    CallbackSubject,
    Channel,
    ComplaintFlag,
    ComplaintSource,
    Priority,
    RaterRole,
    ServiceType,
    Tier,
)
from servicekpi.exceptions import (
    InvalidCallbackError,
    InvalidComplaintError,
    InvalidOrderError,
    InvalidRatingError,
    InvalidRecordError,
    InvalidTicketError,
)

__all__ = ("Callback", "Complaint", "Order", "Rating", "Ticket")


def _optional_tier(value: object) -> Tier | None:
    return None if value is None else Tier.parse(value)


def _optional_outcome(value: object) -> CallbackOutcome | None:
    return None if value is None else CallbackOutcome.parse(value)


def _flags(value: object) -> frozenset[ComplaintFlag]:
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    if not hasattr(value, "__iter__"):
        raise InvalidComplaintError(f"'flags' must be a collection of flags (got {value!r})")
    return frozenset(ComplaintFlag.parse(item) for item in value)


@final
@attrs.frozen(kw_only=True)
class Ticket:
    """A service ticket (工单): one customer request handled by one agent.

    Args:
        ticket_id: unique id.
        agent_id: the agent measured for it.
        customer_id: the customer served.
        station_id: the station it belongs to.
        team_id: the agent's team (optional; the roster knows it too).
        service_type: repair, consultation, technical support, complaint handling, …
        channel: phone, online, e-mail, walk-in, on-site, letter.
        priority: HIGH and URGENT count as complex problems.
        opened_at: when the request came in (aware).
        first_response_at: first answer to the customer; ``None`` = not yet.
        resolved_at: when it was solved; ``None`` = not yet.
        closed_at: when it was closed administratively; ``None`` = still open.
        first_contact_resolved: solved on the first contact (一次解决).
        rework: a repeat repair of the same fault (返修).
        reopen_count: how often it was reopened.
        satisfaction: the customer's rating on the 1–5 scale; ``None`` = not rated.
        answers: answers given (consultations).
        answer_errors: wrong answers among them (解答准确率 = 1 − errors / answers).
        labour_cost: labour cost, an exact decimal amount.
        parts_cost: parts cost, an exact decimal amount.
        revenue: revenue of the job (单车产值), an exact decimal amount.
        insurance: an insurance job (保险), paid by an insurer.
        claim_approved: a warranty claim the manufacturer approved (保修索赔).
        customer_tier: the customer's ABC tier at the time, if known.

    Raises:
        InvalidTicketError: when a rule below is broken; the message names the field,
            the value and the ticket.
        NaiveDatetimeError: for a timestamp without a time zone.

    >>> from datetime import datetime, timezone, timedelta
    >>> cst = timezone(timedelta(hours=8))
    >>> Ticket(ticket_id="T-21177", agent_id="A-1", customer_id="C-1", station_id="S1",
    ...        service_type="repair", channel="phone",
    ...        opened_at=datetime(2025, 2, 3, 10, 12, tzinfo=cst),
    ...        resolved_at=datetime(2025, 2, 1, 9, 0, tzinfo=cst))
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidTicketError: 'resolved_at' (2025-02-01T09:00+08:00) is before 'opened_at' (2025-02-03T10:12+08:00) on ticket 'T-21177'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidTicketError
    _noun: ClassVar[str] = "ticket"
    _key: ClassVar[str] = "ticket_id"

    ticket_id: str = attrs.field(validator=_checks.ident)
    agent_id: str = attrs.field(validator=_checks.ident)
    customer_id: str = attrs.field(validator=_checks.ident)
    station_id: str = attrs.field(validator=_checks.ident)
    service_type: ServiceType = attrs.field(converter=ServiceType)
    channel: Channel = attrs.field(converter=Channel)
    opened_at: datetime = attrs.field(validator=_checks.aware)
    team_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    priority: Priority = attrs.field(default=Priority.NORMAL, converter=Priority)
    first_response_at: datetime | None = attrs.field(default=None,
                                                     validator=_checks.optional_aware)
    resolved_at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    closed_at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    first_contact_resolved: bool = attrs.field(default=False, validator=_checks.boolean)
    rework: bool = attrs.field(default=False, validator=_checks.boolean)
    reopen_count: int = attrs.field(default=0, validator=_checks.non_negative_int)
    satisfaction: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_checks.between(1, 5)))
    answers: int = attrs.field(default=0, validator=_checks.non_negative_int)
    answer_errors: int = attrs.field(default=0, validator=_checks.non_negative_int)
    labour_cost: Decimal | None = attrs.field(default=None, converter=_checks.to_decimal,
                                              validator=_checks.money)
    parts_cost: Decimal | None = attrs.field(default=None, converter=_checks.to_decimal,
                                             validator=_checks.money)
    revenue: Decimal | None = attrs.field(default=None, converter=_checks.to_decimal,
                                          validator=_checks.money)
    insurance: bool = attrs.field(default=False, validator=_checks.boolean)
    claim_approved: bool = attrs.field(default=False, validator=_checks.boolean)
    customer_tier: Tier | None = attrs.field(default=None, converter=_optional_tier)

    def __attrs_post_init__(self) -> None:
        _checks.not_before(self, "first_response_at", "opened_at")
        _checks.not_before(self, "resolved_at", "opened_at")
        _checks.not_before(self, "closed_at", "opened_at")
        _checks.not_before(self, "closed_at", "resolved_at")
        if self.answer_errors > self.answers:
            raise _checks.fail(self, f"'answer_errors' ({self.answer_errors!r}) exceeds "
                                     f"'answers' ({self.answers!r})")
        if self.first_contact_resolved and self.resolved_at is None:
            raise _checks.fail(self, "'first_contact_resolved' is True but 'resolved_at' "
                                     "is None")

    @property
    def is_resolved(self) -> bool:
        """Whether the ticket has been resolved."""
        return self.resolved_at is not None


@final
@attrs.frozen(kw_only=True)
class Complaint:
    """投诉: a customer complaint attributed to a station and a responsible person.

    Args:
        complaint_id: unique id.
        customer_id: who complained.
        station_id: the station it is attributed to.
        responsible: the station's responsible person (负责人).
        source: hotline, online, letter or walk-in petition (上访).
        complaint_type: the matter, a free category such as ``"late_delivery"``; repeat
            complaints are recognised by customer and type.
        received_at: when it came in (aware).
        flags: severity signals: media, regulator, safety, threat.
        ticket_id: the ticket it is about, if any.
        agent_id: the agent it is about, if any.
        closed_at: when the closed loop ended with a solved callback, if it has.
        description: free text.

    >>> from datetime import datetime, timezone
    >>> c = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
    ...               responsible="Wang Wei", source="walk_in", complaint_type="delay",
    ...               received_at=datetime(2026, 10, 5, 9, tzinfo=timezone.utc),
    ...               flags="media, safety")
    >>> sorted(flag.value for flag in c.flags)
    ['media', 'safety']

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidComplaintError
    _noun: ClassVar[str] = "complaint"
    _key: ClassVar[str] = "complaint_id"

    complaint_id: str = attrs.field(validator=_checks.ident)
    customer_id: str = attrs.field(validator=_checks.ident)
    station_id: str = attrs.field(validator=_checks.ident)
    responsible: str = attrs.field(validator=_checks.ident)
    source: ComplaintSource = attrs.field(converter=ComplaintSource)
    complaint_type: str = attrs.field(validator=_checks.ident)
    received_at: datetime = attrs.field(validator=_checks.aware)
    flags: frozenset[ComplaintFlag] = attrs.field(factory=frozenset, converter=_flags)
    ticket_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    agent_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    closed_at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    description: str = attrs.field(default="", validator=_checks.text)

    def __attrs_post_init__(self) -> None:
        _checks.not_before(self, "closed_at", "received_at")


@final
@attrs.frozen(kw_only=True)
class Callback:
    """回访: a follow-up contact with a due window and, once made, an outcome.

    Args:
        callback_id: unique id.
        subject: what it is about (ticket, complaint, customer, event).
        subject_id: the id of that ticket / complaint / customer / event.
        due_from: the earliest moment it is due (aware).
        due_by: the latest moment it is on time (aware, >= ``due_from``).
        done_at: when it was made; ``None`` = not yet.
        outcome: solved / unsolved / unreachable; required exactly when ``done_at`` is set.
        agent_id: who made (or must make) it.
        substitute_for: the absent assignee this agent stood in for (代理), if any.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    >>> Callback(callback_id="CB-1", subject="complaint", subject_id="K-1",
    ...          due_from=t, due_by=t, done_at=t)
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidCallbackError: 'outcome' is None but 'done_at' is set on callback 'CB-1'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidCallbackError
    _noun: ClassVar[str] = "callback"
    _key: ClassVar[str] = "callback_id"

    callback_id: str = attrs.field(validator=_checks.ident)
    subject: CallbackSubject = attrs.field(converter=CallbackSubject)
    subject_id: str = attrs.field(validator=_checks.ident)
    due_from: datetime = attrs.field(validator=_checks.aware)
    due_by: datetime = attrs.field(validator=_checks.aware)
    done_at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    outcome: CallbackOutcome | None = attrs.field(default=None, converter=_optional_outcome)
    agent_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    substitute_for: str | None = attrs.field(default=None, validator=_checks.optional_ident)

    def __attrs_post_init__(self) -> None:
        _checks.not_before(self, "due_by", "due_from")
        if self.done_at is not None and self.outcome is None:
            raise _checks.fail(self, "'outcome' is None but 'done_at' is set")
        if self.done_at is None and self.outcome is not None:
            raise _checks.fail(self, f"'outcome' is {self.outcome.value!r} but 'done_at' "
                                     f"is None")
        if self.substitute_for is not None and self.substitute_for == self.agent_id:
            raise _checks.fail(self, f"'substitute_for' must differ from 'agent_id' "
                                     f"(got {self.substitute_for!r})")

    @property
    def on_time(self) -> bool | None:
        """Whether it was made by ``due_by``; ``None`` while not made."""
        if self.done_at is None:
            return None
        return _checks.utc(self.done_at) <= _checks.utc(self.due_by)


@final
@attrs.frozen(kw_only=True)
class Rating:
    """A 360° rating of an agent on one item, by one rater role, within a scale.

    Args:
        agent_id: the agent rated.
        rater_role: self, supervisor, peer, subordinate, customer, external expert.
        item: what is rated (e.g. ``"teamwork"``, ``"report_quality"``).
        score: the score, within ``[scale_min, scale_max]``.
        rated_at: when it was given (aware); decides the period it counts in.
        scale_min: bottom of the scale (default 0).
        scale_max: top of the scale (default 100).
        rater_id: who rated, if recorded.
        rating_id: an id, if the source has one.

    >>> from datetime import datetime, timezone
    >>> Rating(agent_id="A-1", rater_role="supervisor", item="teamwork", score=120,
    ...        rated_at=datetime(2026, 10, 30, tzinfo=timezone.utc))
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidRatingError: 'score' must be in [0, 100] (got 120)

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidRatingError
    _noun: ClassVar[str] = "rating"
    _key: ClassVar[str] = "rating_id"

    agent_id: str = attrs.field(validator=_checks.ident)
    rater_role: RaterRole = attrs.field(converter=RaterRole)
    item: str = attrs.field(validator=_checks.ident)
    score: float = attrs.field(validator=_checks.finite)
    rated_at: datetime = attrs.field(validator=_checks.aware)
    scale_min: float = attrs.field(default=0.0, validator=_checks.finite)
    scale_max: float = attrs.field(default=100.0, validator=_checks.finite)
    rater_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    rating_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)

    def __attrs_post_init__(self) -> None:
        if not self.scale_min < self.scale_max:
            raise _checks.fail(self, f"'scale_min' ({self.scale_min!r}) must be below "
                                     f"'scale_max' ({self.scale_max!r})")
        if not self.scale_min <= self.score <= self.scale_max:
            raise _checks.fail(self, f"'score' must be in [{self.scale_min:g}, "
                                     f"{self.scale_max:g}] (got {self.score!r})")

    @property
    def normalised(self) -> float:
        """The score mapped to [0, 1] on its scale."""
        return (self.score - self.scale_min) / (self.scale_max - self.scale_min)


@final
@attrs.frozen(kw_only=True)
class Order:
    """An order, for the commercial KPIs (conversion, order value, refunds).

    Args:
        order_id: unique id.
        customer_id: the buyer.
        agent_id: the agent credited with it.
        created_at: when it was placed (aware).
        amount: the order amount (exact decimal, >= 0).
        paid: what has been paid (<= ``amount``).
        refunded: what has been refunded (<= ``paid``).
        station_id: the station, if any.
        valid: whether it counts as a valid order (有效订单).
        abnormal: whether it is an abnormal order (异常订单).
        consultation_ticket_id: the consultation it came out of (咨询转化), if any.

    >>> from datetime import datetime, timezone
    >>> Order(order_id="O-1", customer_id="C-1", agent_id="A-1", amount="199.90",
    ...       paid="199.90", created_at=datetime(2026, 10, 2, tzinfo=timezone.utc)).amount
    Decimal('199.90')

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidOrderError
    _noun: ClassVar[str] = "order"
    _key: ClassVar[str] = "order_id"

    order_id: str = attrs.field(validator=_checks.ident)
    customer_id: str = attrs.field(validator=_checks.ident)
    agent_id: str = attrs.field(validator=_checks.ident)
    created_at: datetime = attrs.field(validator=_checks.aware)
    amount: Decimal = attrs.field(converter=_checks.to_decimal,
                                  validator=[_checks.required, _checks.money])
    paid: Decimal = attrs.field(default=Decimal(0), converter=_checks.to_decimal,
                                validator=[_checks.required, _checks.money])
    refunded: Decimal = attrs.field(default=Decimal(0), converter=_checks.to_decimal,
                                    validator=[_checks.required, _checks.money])
    station_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    valid: bool = attrs.field(default=True, validator=_checks.boolean)
    abnormal: bool = attrs.field(default=False, validator=_checks.boolean)
    consultation_ticket_id: str | None = attrs.field(default=None,
                                                     validator=_checks.optional_ident)

    def __attrs_post_init__(self) -> None:
        if self.paid > self.amount:
            raise _checks.fail(self, f"'paid' ({self.paid}) exceeds 'amount' ({self.amount})")
        if self.refunded > self.paid:
            raise _checks.fail(self, f"'refunded' ({self.refunded}) exceeds 'paid' "
                                     f"({self.paid})")
