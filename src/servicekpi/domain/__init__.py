"""The domain: pure-Python value objects of after-sales service (no numpy, no I/O).

Internal package: import the public names from :mod:`servicekpi`.
"""

from servicekpi.domain.appraisal import Appraisal, AppraisalItem, Deduction, Training
from servicekpi.domain.enums import (
    AppraisalTrack,
    CallbackOutcome,
    CallbackSubject,
    Channel,
    ClockName,
    ClockStatus,
    Direction,
    ComplaintFlag,
    ComplaintSource,
    EscalationLevel,
    EventKind,
    Loyalty,
    PeriodKind,
    Priority,
    RaterRole,
    Role,
    ServiceType,
    Tier,
)
from servicekpi.domain.events import ClockInstance, TicketEvent
from servicekpi.domain.people import Agent, Customer, Station, Team
from servicekpi.domain.period import Period
from servicekpi.domain.records import Callback, Complaint, Order, Rating, Ticket

__all__ = (
    "Agent",
    "Appraisal",
    "AppraisalItem",
    "AppraisalTrack",
    "Callback",
    "CallbackOutcome",
    "CallbackSubject",
    "Channel",
    "ClockInstance",
    "ClockName",
    "ClockStatus",
    "Complaint",
    "ComplaintFlag",
    "ComplaintSource",
    "Customer",
    "Deduction",
    "Direction",
    "EscalationLevel",
    "EventKind",
    "Loyalty",
    "Order",
    "Period",
    "PeriodKind",
    "Priority",
    "Rating",
    "RaterRole",
    "Role",
    "ServiceType",
    "Station",
    "Team",
    "Ticket",
    "TicketEvent",
    "Tier",
    "Training",
)
