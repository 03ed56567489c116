"""Hypothesis strategies for every domain object; each one generates only VALID objects.

Every record strategy takes keyword-only arguments that pin a field to a strategy of
its values, so that other test files can build related data::

    tickets(agent_ids=st.sampled_from(["A-1", "A-2"]), datetimes=aware_datetimes(2026, 2026))

Id-like and enum fields are pinned by the plural of the field (``agent_ids``,
``service_types``); the record's anchor timestamp (``opened_at``, ``received_at``,
``due_from``, ``rated_at``, ``created_at``) by ``datetimes``. Later timestamps are
derived from the anchor by adding a non-negative duration in UTC, so they are in
order both as instants and under Python's comparison (which compares two datetimes of
the same zone by wall clock, PEP 495).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil import tz as dateutil_tz
from hypothesis import strategies as st

from servicekpi.domain import (
    Agent,
    Appraisal,
    AppraisalItem,
    AppraisalTrack,
    Callback,
    CallbackOutcome,
    CallbackSubject,
    Channel,
    Complaint,
    ComplaintFlag,
    ComplaintSource,
    Customer,
    Deduction,
    Loyalty,
    Order,
    Period,
    PeriodKind,
    Priority,
    Rating,
    RaterRole,
    Role,
    ServiceType,
    Station,
    Team,
    Ticket,
    Tier,
)

__all__ = (
    "IANA_ZONES",
    "agents",
    "appraisal_items",
    "appraisals",
    "aware_datetimes",
    "callbacks",
    "complaints",
    "customers",
    "deductions",
    "ids",
    "money",
    "orders",
    "periods",
    "ratings",
    "stations",
    "teams",
    "tickets",
)

IANA_ZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "Asia/Sakhalin",  # 8 hours ahead of Moscow (DOMAIN.md §5)
    "Europe/Moscow",
    "Europe/Berlin",  # DST
    "America/New_York",  # DST
    "America/Santiago",  # DST that skips midnight
    "America/Havana",  # DST that repeats midnight
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kathmandu",  # +05:45
    "UTC",
)
"""Zone names valid for the ``tz`` fields (dateutil knows them all)."""

_FIXED: tuple[tzinfo, ...] = (
    timezone.utc,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-3, minutes=-30)),
    timezone(timedelta(hours=5, minutes=45)),
)

_ZONE_OBJECTS: tuple[tzinfo, ...] = (
    *(ZoneInfo(name) for name in IANA_ZONES),
    # dateutil zones too, as the library itself uses them
    *(zone for zone in (dateutil_tz.gettz("Europe/Berlin"),
                        dateutil_tz.gettz("America/New_York")) if zone is not None),
    *_FIXED,
)

_MAX_DELAY = timedelta(days=45)


def aware_datetimes(min_year: int = 2020, max_year: int = 2030) -> st.SearchStrategy[datetime]:
    """Aware datetimes in whole seconds, in IANA zones (incl. DST ones) and fixed offsets."""
    return st.datetimes(
        min_value=datetime(min_year, 1, 1),
        max_value=datetime(max_year, 12, 31, 23, 59, 59),
        timezones=st.sampled_from(_ZONE_OBJECTS),
        allow_imaginary=False,
    ).map(lambda moment: moment.replace(microsecond=0))


def ids(prefix: str) -> st.SearchStrategy[str]:
    """Ids such as ``'T-4711'``: non-empty, no surrounding white space."""
    return st.integers(min_value=1, max_value=99_999).map(lambda n: f"{prefix}-{n}")


def money(max_cents: int = 10_000_000) -> st.SearchStrategy[Decimal]:
    """Non-negative amounts as ``Decimal`` with exactly two decimals."""
    return st.integers(min_value=0, max_value=max_cents).map(_cents)


def _cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda name: name.strip("_") != "")
_display = st.text(max_size=20)
_zones = st.sampled_from(IANA_ZONES)
_delays = st.integers(min_value=0, max_value=int(_MAX_DELAY.total_seconds())).map(
    lambda seconds: timedelta(seconds=seconds))


def _later(draw: st.DrawFn, *earlier: datetime) -> datetime:
    """An instant at or after every one of *earlier* (which must be in order), in a random zone.

    Computed in UTC from the last of *earlier*; falls back to UTC when Python's
    same-zone wall-clock comparison would disagree with the instants' order.
    """
    instant = earlier[-1].astimezone(timezone.utc) + draw(_delays)
    candidate = instant.astimezone(draw(st.sampled_from(_ZONE_OBJECTS)))
    if any(candidate < moment for moment in earlier):
        return instant
    return candidate


def _or(strategy: st.SearchStrategy[str] | None, default: st.SearchStrategy[str]
        ) -> st.SearchStrategy[str]:
    return default if strategy is None else strategy


def _optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | strategy


# -- people ---------------------------------------------------------------------------


@st.composite
def agents(draw: st.DrawFn, *, agent_ids: st.SearchStrategy[str] | None = None,
           team_ids: st.SearchStrategy[str] | None = None,
           station_ids: st.SearchStrategy[str] | None = None,
           roles: st.SearchStrategy[Role] | None = None,
           zones: st.SearchStrategy[str] | None = None,
           supervisor_ids: st.SearchStrategy[str | None] | None = None) -> Agent:
    """Valid :class:`Agent` objects (never their own supervisor)."""
    agent_id = draw(_or(agent_ids, ids("A")))
    supervisor = draw(supervisor_ids if supervisor_ids is not None
                      else _optional(ids("A")))
    return Agent(
        agent_id=agent_id,
        name=draw(_display),
        role=draw(roles if roles is not None else st.sampled_from(Role)),
        team_id=draw(_or(team_ids, ids("TM"))),
        station_id=draw(_or(station_ids, ids("S"))),
        supervisor_id=None if supervisor == agent_id else supervisor,
        tz=draw(_or(zones, _zones)),
        track=draw(st.none() | st.sampled_from(AppraisalTrack)),
    )


@st.composite
def teams(draw: st.DrawFn, *, team_ids: st.SearchStrategy[str] | None = None,
          station_ids: st.SearchStrategy[str | None] | None = None,
          leader_ids: st.SearchStrategy[str | None] | None = None) -> Team:
    """Valid :class:`Team` objects."""
    return Team(
        team_id=draw(_or(team_ids, ids("TM"))),
        name=draw(_display),
        station_id=draw(station_ids if station_ids is not None else _optional(ids("S"))),
        leader_id=draw(leader_ids if leader_ids is not None else _optional(ids("A"))),
    )


@st.composite
def stations(draw: st.DrawFn, *, station_ids: st.SearchStrategy[str] | None = None,
             zones: st.SearchStrategy[str] | None = None) -> Station:
    """Valid :class:`Station` objects."""
    return Station(
        station_id=draw(_or(station_ids, ids("S"))),
        name=draw(_display),
        responsible=draw(ids("P")),
        tz=draw(_or(zones, _zones)),
    )


@st.composite
def customers(draw: st.DrawFn, *, customer_ids: st.SearchStrategy[str] | None = None,
              tiers: st.SearchStrategy[Tier] | None = None,
              loyalties: st.SearchStrategy[Loyalty] | None = None,
              zones: st.SearchStrategy[str] | None = None) -> Customer:
    """Valid :class:`Customer` objects."""
    return Customer(
        customer_id=draw(_or(customer_ids, ids("C"))),
        tier=draw(tiers if tiers is not None else st.sampled_from(Tier)),
        loyalty=draw(loyalties if loyalties is not None else st.sampled_from(Loyalty)),
        tz=draw(_or(zones, _zones)),
        name=draw(_display),
    )


# -- records --------------------------------------------------------------------------


@st.composite
def tickets(draw: st.DrawFn, *, ticket_ids: st.SearchStrategy[str] | None = None,
            agent_ids: st.SearchStrategy[str] | None = None,
            customer_ids: st.SearchStrategy[str] | None = None,
            station_ids: st.SearchStrategy[str] | None = None,
            team_ids: st.SearchStrategy[str | None] | None = None,
            service_types: st.SearchStrategy[ServiceType] | None = None,
            channels: st.SearchStrategy[Channel] | None = None,
            priorities: st.SearchStrategy[Priority] | None = None,
            datetimes: st.SearchStrategy[datetime] | None = None,
            resolved: st.SearchStrategy[bool] | None = None) -> Ticket:
    """Valid :class:`Ticket` objects.

    ``datetimes`` draws ``opened_at``; ``resolved`` decides whether ``resolved_at`` is
    set. The other timestamps follow it in order: first response and resolution after
    the opening, closing after the resolution (or the opening when unresolved).
    """
    opened_at = draw(datetimes if datetimes is not None else aware_datetimes())
    first_response_at = _later(draw, opened_at) if draw(st.booleans()) else None
    is_resolved = draw(resolved if resolved is not None else st.booleans())
    resolved_at = _later(draw, opened_at) if is_resolved else None
    closed_after = (opened_at,) if resolved_at is None else (opened_at, resolved_at)
    closed_at = _later(draw, *closed_after) if draw(st.booleans()) else None
    answers = draw(st.integers(min_value=0, max_value=50))
    return Ticket(
        ticket_id=draw(_or(ticket_ids, ids("T"))),
        agent_id=draw(_or(agent_ids, ids("A"))),
        customer_id=draw(_or(customer_ids, ids("C"))),
        station_id=draw(_or(station_ids, ids("S"))),
        team_id=draw(team_ids if team_ids is not None else _optional(ids("TM"))),
        service_type=draw(service_types if service_types is not None
                          else st.sampled_from(ServiceType)),
        channel=draw(channels if channels is not None else st.sampled_from(Channel)),
        priority=draw(priorities if priorities is not None else st.sampled_from(Priority)),
        opened_at=opened_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        closed_at=closed_at,
        first_contact_resolved=is_resolved and draw(st.booleans()),
        rework=draw(st.booleans()),
        reopen_count=draw(st.integers(min_value=0, max_value=5)),
        satisfaction=draw(st.none() | st.integers(min_value=1, max_value=5).map(float)
                          | st.floats(min_value=1, max_value=5)),
        answers=answers,
        answer_errors=draw(st.integers(min_value=0, max_value=answers)),
        labour_cost=draw(st.none() | money()),
        parts_cost=draw(st.none() | money()),
        revenue=draw(st.none() | money()),
        insurance=draw(st.booleans()),
        claim_approved=draw(st.booleans()),
        customer_tier=draw(st.none() | st.sampled_from(Tier)),
    )


@st.composite
def complaints(draw: st.DrawFn, *, complaint_ids: st.SearchStrategy[str] | None = None,
               customer_ids: st.SearchStrategy[str] | None = None,
               station_ids: st.SearchStrategy[str] | None = None,
               agent_ids: st.SearchStrategy[str | None] | None = None,
               ticket_ids: st.SearchStrategy[str | None] | None = None,
               sources: st.SearchStrategy[ComplaintSource] | None = None,
               complaint_types: st.SearchStrategy[str] | None = None,
               flags: st.SearchStrategy[frozenset[ComplaintFlag]] | None = None,
               datetimes: st.SearchStrategy[datetime] | None = None,
               closed: st.SearchStrategy[bool] | None = None) -> Complaint:
    """Valid :class:`Complaint` objects (``closed_at``, when set, after ``received_at``)."""
    received_at = draw(datetimes if datetimes is not None else aware_datetimes())
    is_closed = draw(closed if closed is not None else st.booleans())
    return Complaint(
        complaint_id=draw(_or(complaint_ids, ids("K"))),
        customer_id=draw(_or(customer_ids, ids("C"))),
        station_id=draw(_or(station_ids, ids("S"))),
        responsible=draw(ids("P")),
        source=draw(sources if sources is not None else st.sampled_from(ComplaintSource)),
        complaint_type=draw(_or(complaint_types, st.sampled_from(
            ["late_delivery", "repair_quality", "attitude", "billing"]))),
        received_at=received_at,
        flags=draw(flags if flags is not None
                   else st.frozensets(st.sampled_from(ComplaintFlag))),
        ticket_id=draw(ticket_ids if ticket_ids is not None else _optional(ids("T"))),
        agent_id=draw(agent_ids if agent_ids is not None else _optional(ids("A"))),
        closed_at=_later(draw, received_at) if is_closed else None,
        description=draw(_display),
    )


@st.composite
def callbacks(draw: st.DrawFn, *, callback_ids: st.SearchStrategy[str] | None = None,
              subjects: st.SearchStrategy[CallbackSubject] | None = None,
              subject_ids: st.SearchStrategy[str] | None = None,
              agent_ids: st.SearchStrategy[str | None] | None = None,
              outcomes: st.SearchStrategy[CallbackOutcome] | None = None,
              datetimes: st.SearchStrategy[datetime] | None = None,
              done: st.SearchStrategy[bool] | None = None) -> Callback:
    """Valid :class:`Callback` objects: ``due_by >= due_from``, an outcome iff done.

    ``datetimes`` draws ``due_from``; ``done_at`` may fall before ``due_from`` (an early
    call), on time or late.
    """
    due_from = draw(datetimes if datetimes is not None else aware_datetimes())
    due_by = _later(draw, due_from)
    is_done = draw(done if done is not None else st.booleans())
    done_at = None
    if is_done:
        early = due_from.astimezone(timezone.utc) - timedelta(days=2)
        done_at = _later(draw, early)
    agent_id = draw(agent_ids if agent_ids is not None else _optional(ids("A")))
    substitute = draw(_optional(ids("A")))
    return Callback(
        callback_id=draw(_or(callback_ids, ids("CB"))),
        subject=draw(subjects if subjects is not None else st.sampled_from(CallbackSubject)),
        subject_id=draw(_or(subject_ids, ids("X"))),
        due_from=due_from,
        due_by=due_by,
        done_at=done_at,
        outcome=(draw(outcomes if outcomes is not None else st.sampled_from(CallbackOutcome))
                 if is_done else None),
        agent_id=agent_id,
        substitute_for=None if substitute == agent_id else substitute,
    )


_SCALES: tuple[tuple[float, float], ...] = ((0.0, 100.0), (1.0, 5.0), (0.0, 10.0), (1.0, 10.0))


@st.composite
def ratings(draw: st.DrawFn, *, agent_ids: st.SearchStrategy[str] | None = None,
            rater_roles: st.SearchStrategy[RaterRole] | None = None,
            items: st.SearchStrategy[str] | None = None,
            datetimes: st.SearchStrategy[datetime] | None = None,
            scales: st.SearchStrategy[tuple[float, float]] | None = None) -> Rating:
    """Valid :class:`Rating` objects: the score lies within its scale."""
    scale_min, scale_max = draw(scales if scales is not None else st.sampled_from(_SCALES))
    score = draw(st.floats(min_value=scale_min, max_value=scale_max)
                 | st.sampled_from([scale_min, scale_max]))
    return Rating(
        agent_id=draw(_or(agent_ids, ids("A"))),
        rater_role=draw(rater_roles if rater_roles is not None else st.sampled_from(RaterRole)),
        item=draw(_or(items, st.sampled_from(["teamwork", "attitude", "report_quality"]))),
        score=score,
        rated_at=draw(datetimes if datetimes is not None else aware_datetimes()),
        scale_min=scale_min,
        scale_max=scale_max,
        rater_id=draw(_optional(ids("A"))),
        rating_id=draw(_optional(ids("R"))),
    )


@st.composite
def orders(draw: st.DrawFn, *, order_ids: st.SearchStrategy[str] | None = None,
           customer_ids: st.SearchStrategy[str] | None = None,
           agent_ids: st.SearchStrategy[str] | None = None,
           station_ids: st.SearchStrategy[str | None] | None = None,
           datetimes: st.SearchStrategy[datetime] | None = None) -> Order:
    """Valid :class:`Order` objects: ``refunded <= paid <= amount``, two-decimal money."""
    amount = draw(st.integers(min_value=0, max_value=10_000_000))
    paid = draw(st.integers(min_value=0, max_value=amount))
    refunded = draw(st.integers(min_value=0, max_value=paid))
    return Order(
        order_id=draw(_or(order_ids, ids("O"))),
        customer_id=draw(_or(customer_ids, ids("C"))),
        agent_id=draw(_or(agent_ids, ids("A"))),
        created_at=draw(datetimes if datetimes is not None else aware_datetimes()),
        amount=_cents(amount),
        paid=_cents(paid),
        refunded=_cents(refunded),
        station_id=draw(station_ids if station_ids is not None else _optional(ids("S"))),
        valid=draw(st.booleans()),
        abnormal=draw(st.booleans()),
        consultation_ticket_id=draw(_optional(ids("T"))),
    )


# -- periods and appraisals -----------------------------------------------------------

_COUNT = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}


@st.composite
def periods(draw: st.DrawFn, *, kinds: st.SearchStrategy[PeriodKind] | None = None,
            years: st.SearchStrategy[int] | None = None,
            zones: st.SearchStrategy[str] | None = None) -> Period:
    """Valid :class:`Period` objects (years 2020–2030 unless pinned)."""
    kind = draw(kinds if kinds is not None else st.sampled_from(PeriodKind))
    return Period(
        kind=kind,
        year=draw(years if years is not None else st.integers(min_value=2020, max_value=2030)),
        index=draw(st.integers(min_value=1, max_value=_COUNT[kind])),
        tz=draw(_or(zones, _zones)),
    )


_any_period = periods


@st.composite
def _weights(draw: st.DrawFn, count: int) -> list[float]:
    """*count* positive weights in hundredths that sum to 1."""
    if count == 0:
        return []
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=99), min_size=count - 1,
                                max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 100]
    return [(high - low) / 100 for low, high in zip(bounds, bounds[1:])]


@st.composite
def appraisal_items(draw: st.DrawFn, *, names: st.SearchStrategy[str] | None = None,
                    weights: st.SearchStrategy[float] | None = None) -> AppraisalItem:
    """Valid :class:`AppraisalItem` objects (weight in (0, 1], score 0–100 or None)."""
    return AppraisalItem(
        name=draw(_or(names, _names)),
        weight=draw(weights if weights is not None
                    else st.floats(min_value=0, max_value=1, exclude_min=True)),
        requirement=draw(_display),
        score=draw(st.none() | st.floats(min_value=0, max_value=100)),
    )


@st.composite
def deductions(draw: st.DrawFn) -> Deduction:
    """Valid :class:`Deduction` objects."""
    return Deduction(
        behaviour=draw(_names),
        points=draw(st.floats(min_value=0, max_value=50, exclude_min=True)),
        at=draw(st.none() | aware_datetimes()),
        note=draw(_display),
    )


@st.composite
def appraisals(draw: st.DrawFn, *, agent_ids: st.SearchStrategy[str] | None = None,
               periods: st.SearchStrategy[Period] | None = None,
               tracks: st.SearchStrategy[AppraisalTrack] | None = None,
               max_items: int = 6) -> Appraisal:
    """Valid :class:`Appraisal` objects.

    Item names are unique and weights sum to 1; a performance agreement may have a
    quality score and never deductions, the key-indicator track the other way round.
    """
    track = draw(tracks if tracks is not None else st.sampled_from(AppraisalTrack))
    names: Sequence[str] = draw(st.lists(_names, max_size=max_items, unique=True))
    weights = draw(_weights(len(names)))
    items = [draw(appraisal_items(names=st.just(name), weights=st.just(weight)))
             for name, weight in zip(names, weights)]
    agreement = track is AppraisalTrack.PERFORMANCE_AGREEMENT
    return Appraisal(
        agent_id=draw(_or(agent_ids, ids("A"))),
        period=draw(periods if periods is not None else _any_period()),
        track=track,
        items=items,
        deductions=[] if agreement else draw(st.lists(deductions(), max_size=4)),
        quality_score=(draw(st.none() | st.floats(min_value=0, max_value=100))
                       if agreement else None),
        standard_score=draw(st.sampled_from([100.0, 120.0])
                            | st.floats(min_value=1, max_value=1000)),
    )
