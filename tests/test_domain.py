"""Tests of servicekpi.domain: enums, people, records, periods, appraisals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
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
    Direction,
    EscalationLevel,
    Loyalty,
    Order,
    Period,
    PeriodKind,
    Priority,
    RaterRole,
    Rating,
    Role,
    ServiceType,
    Station,
    Team,
    Ticket,
    Tier,
)
from servicekpi.exceptions import (
    InvalidAgentError,
    InvalidAppraisalError,
    InvalidCallbackError,
    InvalidChoiceError,
    InvalidComplaintError,
    InvalidCustomerError,
    InvalidOrderError,
    InvalidPeriodError,
    InvalidRatingError,
    InvalidRecordError,
    InvalidTicketError,
    NaiveDatetimeError,
)

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import strategies as S
else:
    from tests import strategies as S

FAST = settings(max_examples=50, deadline=None, derandomize=True, database=None)

UTC = timezone.utc
CST = timezone(timedelta(hours=8))
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2025, 2, 3, 10, 12, tzinfo=CST)


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def make_ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = dict(ticket_id="T-21177", agent_id="A-1", customer_id="C-1",
                                  station_id="S1", service_type="repair", channel="phone",
                                  opened_at=T0)
    fields.update(changes)
    return Ticket(**fields)


def make_agent(**changes: Any) -> Agent:
    fields: dict[str, Any] = dict(agent_id="A-1", name="Li Na", role="technical_support",
                                  team_id="TM1", station_id="S1")
    fields.update(changes)
    return Agent(**fields)


def make_complaint(**changes: Any) -> Complaint:
    fields: dict[str, Any] = dict(complaint_id="K-1", customer_id="C-1", station_id="S1",
                                  responsible="Wang Wei", source="hotline",
                                  complaint_type="late_delivery", received_at=T0)
    fields.update(changes)
    return Complaint(**fields)


def make_callback(**changes: Any) -> Callback:
    fields: dict[str, Any] = dict(callback_id="CB-1", subject="complaint", subject_id="K-1",
                                  due_from=T0, due_by=T0 + timedelta(days=3))
    fields.update(changes)
    return Callback(**fields)


def make_rating(**changes: Any) -> Rating:
    fields: dict[str, Any] = dict(agent_id="A-1", rater_role="supervisor", item="teamwork",
                                  score=80, rated_at=T0)
    fields.update(changes)
    return Rating(**fields)


def make_order(**changes: Any) -> Order:
    fields: dict[str, Any] = dict(order_id="O-1", customer_id="C-1", agent_id="A-1",
                                  created_at=T0, amount="199.90")
    fields.update(changes)
    return Order(**fields)


OCTOBER = Period.month(2026, 10, tz="UTC")


def make_appraisal(**changes: Any) -> Appraisal:
    fields: dict[str, Any] = dict(agent_id="A-1", period=OCTOBER, track="key_indicators")
    fields.update(changes)
    return Appraisal(**fields)


CHOICES = (Role, AppraisalTrack, ServiceType, Channel, Priority, Tier, Loyalty,
           ComplaintSource, ComplaintFlag, CallbackOutcome, CallbackSubject, RaterRole,
           Direction, PeriodKind)
MEMBERS = [pytest.param(enum, member, id=f"{enum.__name__}.{member.name}")
           for enum in CHOICES for member in enum]


class TestChoiceEnums:
    """String enums accept members, values and names in any case, and hint on typos."""

    @pytest.mark.parametrize(("enum", "member"), MEMBERS)
    def test_value_name_and_case(self, enum: Any, member: Any) -> None:
        spellings = {member, member.value, member.name, member.value.upper(),
                     member.name.title(), f" {member.value} "}
        assert {member} == {enum(text) for text in spellings}
        assert {member} == {enum.parse(text) for text in spellings}

    @pytest.mark.parametrize("text", ["walk-in", "Walk In", "WALK_IN", "walk_in"])
    def test_hyphens_and_spaces(self, text: str) -> None:
        assert Channel.WALK_IN == Channel(text)

    @pytest.mark.parametrize(("enum", "text", "message"), [
        (Channel, "phnoe", "unknown channel 'phnoe'. Did you mean 'phone'?"),
        (ServiceType, "repiar", "unknown service type 'repiar'. Did you mean 'repair'?"),
        (Role, "technican", "unknown role 'technican'. Did you mean 'technical_support'?"),
        (ComplaintFlag, "medai", "unknown complaint flag 'medai'. Did you mean 'media'?"),
        (Priority, "hi", "unknown priority 'hi'. Did you mean 'high'?"),
        (Tier, "d", "unknown tier 'd'. Known: a, b, c"),
        (PeriodKind, "week", "unknown period kind 'week'. Known: month, quarter, year"),
        (RaterRole, "boss", "unknown rater role 'boss'. Known: customer, external_expert, "
                            "peer, self, subordinate, supervisor"),
    ])
    def test_unknown_string(self, enum: Any, text: str, message: str) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(message)):
            enum(text)
        with pytest.raises(InvalidChoiceError, match=exactly(message)):
            enum.parse(text)

    def test_non_string(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown channel 5. Known: email, letter, on_site, online, phone, walk_in")):
            Channel.parse(5)

    def test_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="Did you mean 'phone'"):
            Channel("phnoe")

    def test_members_are_their_strings(self) -> None:
        assert isinstance(ComplaintSource.WALK_IN, str)
        assert "walk_in" == str(ComplaintSource.WALK_IN)
        assert "key_indicators" == f"{AppraisalTrack.KEY_INDICATORS}"


class TestEscalationLevel:
    """The escalation levels are ordered and parsed from names (any case) and ints."""

    def test_order(self) -> None:
        assert EscalationLevel.GENERAL < EscalationLevel.REPEAT < EscalationLevel.SEVERE
        assert EscalationLevel.SEVERE == max(EscalationLevel.REPEAT, EscalationLevel.SEVERE,
                                             EscalationLevel.GENERAL)
        assert [0, 1, 2] == [int(level) for level in EscalationLevel]

    @pytest.mark.parametrize(("value", "expected"), [
        ("general", EscalationLevel.GENERAL),
        ("Repeat", EscalationLevel.REPEAT),
        (" SEVERE ", EscalationLevel.SEVERE),
        (0, EscalationLevel.GENERAL),
        (2, EscalationLevel.SEVERE),
        (EscalationLevel.REPEAT, EscalationLevel.REPEAT),
    ])
    def test_parse(self, value: object, expected: EscalationLevel) -> None:
        assert expected is EscalationLevel.parse(value)

    def test_call_accepts_names(self) -> None:
        name: Any = "Repeat"  # outside the int-typed signature, on purpose
        assert EscalationLevel.REPEAT is EscalationLevel(name)

    @pytest.mark.parametrize(("value", "message"), [
        ("rep", "unknown escalation level 'rep'. Did you mean 'repeat'?"),
        (5, "unknown escalation level 5. Known: general, repeat, severe"),
        (True, "unknown escalation level True. Known: general, repeat, severe"),
        (1.0, "unknown escalation level 1.0. Known: general, repeat, severe"),
    ])
    def test_parse_rejects(self, value: object, message: str) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(message)):
            EscalationLevel.parse(value)


class TestAgent:
    """Agents validate ids, zone and supervisor and convert role and track."""

    def test_converts_and_defaults(self) -> None:
        agent = make_agent(role="Field Engineer", track="KEY_INDICATORS")
        assert Role.FIELD_ENGINEER is agent.role
        assert AppraisalTrack.KEY_INDICATORS is agent.track
        assert "Asia/Shanghai" == agent.tz
        assert None is agent.supervisor_id
        assert None is make_agent().track

    @pytest.mark.parametrize(("changes", "message"), [
        ({"agent_id": ""}, "'agent_id' must be a non-empty string without surrounding "
                           "spaces or control characters (got '')"),
        ({"agent_id": 7}, "'agent_id' must be a non-empty string without surrounding "
                          "spaces or control characters (got 7)"),
        ({"team_id": " TM1"}, "'team_id' must be a non-empty string without surrounding "
                              "spaces or control characters (got ' TM1') on agent 'A-1'"),
        ({"station_id": "   "}, "'station_id' must be a non-empty string without "
                                "surrounding spaces or control characters (got '   ') on "
                                "agent 'A-1'"),
        ({"supervisor_id": ""}, "'supervisor_id' must be a non-empty string without "
                                "surrounding spaces or control characters (got '') on "
                                "agent 'A-1'"),
        ({"name": None}, "'name' must be a string (got None) on agent 'A-1'"),
        ({"tz": "Mars/Base"}, "'tz' must be an IANA time zone such as 'Asia/Shanghai' "
                              "(got 'Mars/Base') on agent 'A-1'"),
        ({"tz": ""}, "'tz' must be an IANA time zone such as 'Asia/Shanghai' (got '') "
                     "on agent 'A-1'"),
        ({"supervisor_id": "A-1"}, "'supervisor_id' must differ from 'agent_id' "
                                   "(got 'A-1') on agent 'A-1'"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidAgentError, match=exactly(message)):
            make_agent(**changes)

    def test_unknown_role(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown role 'field_enginer'. Did you mean 'field_engineer'?")):
            make_agent(role="field_enginer")


class TestTeamStationCustomer:
    """Teams, stations and customers validate their ids and zones."""

    def test_team(self) -> None:
        assert None is Team(team_id="TM1", name="Hotline").leader_id
        with pytest.raises(InvalidAgentError, match=exactly(
                "'leader_id' must be a non-empty string without surrounding spaces or control "
                "characters (got '') on team 'TM1'")):
            Team(team_id="TM1", name="Hotline", leader_id="")

    def test_station(self) -> None:
        station = Station(station_id="S1", name="North", responsible="Wang Wei")
        assert ("Wang Wei", "Asia/Shanghai") == (station.responsible, station.tz)
        with pytest.raises(InvalidAgentError, match=exactly(
                "'responsible' must be a non-empty string without surrounding spaces or control "
                "characters (got '') on station 'S1'")):
            Station(station_id="S1", name="North", responsible="")

    def test_customer(self) -> None:
        customer = Customer(customer_id="C-9", tier="A", loyalty="Lost", tz="Asia/Sakhalin")
        assert (Tier.A, Loyalty.LOST) == (customer.tier, customer.loyalty)
        assert (Tier.B, Loyalty.ORDINARY, "") == (
            Customer(customer_id="C-1").tier, Customer(customer_id="C-1").loyalty,
            Customer(customer_id="C-1").name)
        with pytest.raises(InvalidCustomerError, match=exactly(
                "'tz' must be an IANA time zone such as 'Asia/Shanghai' "
                "(got 'Asia/Shangai') on customer 'C-9'")):
            Customer(customer_id="C-9", tz="Asia/Shangai")


class TestTicket:
    """Tickets enforce aware timestamps in order and consistent counts and flags."""

    def test_spec_message(self) -> None:
        with pytest.raises(InvalidTicketError, match=exactly(
                "'resolved_at' (2025-02-01T09:00+08:00) is before 'opened_at' "
                "(2025-02-03T10:12+08:00) on ticket 'T-21177'")):
            make_ticket(resolved_at=datetime(2025, 2, 1, 9, 0, tzinfo=CST))

    @pytest.mark.parametrize(("changes", "message"), [
        ({"first_response_at": T0 - timedelta(minutes=1)},
         "'first_response_at' (2025-02-03T10:11+08:00) is before 'opened_at' "
         "(2025-02-03T10:12+08:00) on ticket 'T-21177'"),
        ({"closed_at": T0 - timedelta(seconds=30)},
         "'closed_at' (2025-02-03T10:11:30+08:00) is before 'opened_at' "
         "(2025-02-03T10:12+08:00) on ticket 'T-21177'"),
        ({"resolved_at": T0 + timedelta(hours=5), "closed_at": T0 + timedelta(hours=4)},
         "'closed_at' (2025-02-03T14:12+08:00) is before 'resolved_at' "
         "(2025-02-03T15:12+08:00) on ticket 'T-21177'"),
        ({"resolved_at": datetime(2025, 2, 2, 12, 0, tzinfo=timezone(-timedelta(hours=3,
                                                                                 minutes=30)))},
         "'resolved_at' (2025-02-02T12:00-03:30) is before 'opened_at' "
         "(2025-02-03T10:12+08:00) on ticket 'T-21177'"),
        ({"answers": 3, "answer_errors": 4},
         "'answer_errors' (4) exceeds 'answers' (3) on ticket 'T-21177'"),
        ({"first_contact_resolved": True},
         "'first_contact_resolved' is True but 'resolved_at' is None on ticket 'T-21177'"),
        ({"first_contact_resolved": 1},
         "'first_contact_resolved' must be True or False (got 1) on ticket 'T-21177'"),
        ({"rework": "yes"}, "'rework' must be True or False (got 'yes') on ticket 'T-21177'"),
        ({"reopen_count": -1}, "'reopen_count' must be an integer >= 0 (got -1) "
                               "on ticket 'T-21177'"),
        ({"answers": True}, "'answers' must be an integer >= 0 (got True) "
                            "on ticket 'T-21177'"),
        ({"answer_errors": 1.0}, "'answer_errors' must be an integer >= 0 (got 1.0) "
                                 "on ticket 'T-21177'"),
        ({"satisfaction": 5.5}, "'satisfaction' must be in [1, 5] (got 5.5) "
                                "on ticket 'T-21177'"),
        ({"satisfaction": 0}, "'satisfaction' must be in [1, 5] (got 0) on ticket 'T-21177'"),
        ({"satisfaction": float("nan")}, "'satisfaction' must be a finite number (got nan) "
                                         "on ticket 'T-21177'"),
        ({"satisfaction": True}, "'satisfaction' must be a finite number (got True) "
                                 "on ticket 'T-21177'"),
        ({"labour_cost": -1}, "'labour_cost' must be a finite amount >= 0 "
                              "(got Decimal('-1')) on ticket 'T-21177'"),
        ({"parts_cost": "n/a"}, "'parts_cost' must be a finite amount >= 0 (got 'n/a') "
                                "on ticket 'T-21177'"),
        ({"revenue": float("inf")}, "'revenue' must be a finite amount >= 0 "
                                    "(got Decimal('Infinity')) on ticket 'T-21177'"),
        ({"revenue": False}, "'revenue' must be a finite amount >= 0 (got False) "
                             "on ticket 'T-21177'"),
        ({"opened_at": "2025-02-03"}, "'opened_at' must be a datetime (got '2025-02-03') "
                                      "on ticket 'T-21177'"),
        ({"ticket_id": ""}, "'ticket_id' must be a non-empty string without surrounding "
                            "spaces or control characters (got '')"),
        ({"team_id": ""}, "'team_id' must be a non-empty string without surrounding "
                          "spaces or control characters (got '') on ticket 'T-21177'"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidTicketError, match=exactly(message)):
            make_ticket(**changes)

    @pytest.mark.parametrize("field", ["opened_at", "first_response_at", "resolved_at",
                                       "closed_at"])
    def test_naive_datetimes(self, field: str) -> None:
        naive = datetime(2025, 2, 4, 9, 0)
        changes: dict[str, Any] = {field: naive}
        if field == "opened_at":
            changes["opened_at"] = datetime(2025, 2, 3, 10, 12)
        with pytest.raises(NaiveDatetimeError, match=exactly(
                f"{field!r} must be timezone-aware (got {changes[field]!r}) "
                f"on ticket 'T-21177'")):
            make_ticket(**changes)

    def test_equal_timestamps_are_in_order(self) -> None:
        ticket = make_ticket(first_response_at=T0, resolved_at=T0, closed_at=T0,
                             first_contact_resolved=True)
        assert ticket.is_resolved

    def test_compares_instants_across_zones(self) -> None:
        # 03:00 in New York is 16:00 in Shanghai, i.e. after 10:12 Shanghai time.
        resolved = datetime(2025, 2, 3, 3, 0, tzinfo=NEW_YORK)
        assert resolved == make_ticket(resolved_at=resolved).resolved_at

    def test_converts_and_defaults(self) -> None:
        ticket = make_ticket(service_type="Technical Support", channel="ON-SITE",
                             priority="Urgent", labour_cost=12.3, parts_cost="7.50",
                             revenue=800, customer_tier="a")
        assert (ServiceType.TECHNICAL_SUPPORT, Channel.ON_SITE, Priority.URGENT) == (
            ticket.service_type, ticket.channel, ticket.priority)
        assert (Decimal("12.3"), Decimal("7.50"), Decimal("800")) == (
            ticket.labour_cost, ticket.parts_cost, ticket.revenue)
        assert Tier.A is ticket.customer_tier
        plain = make_ticket()
        assert (Priority.NORMAL, 0, 0, 0, None, False, False) == (
            plain.priority, plain.reopen_count, plain.answers, plain.answer_errors,
            plain.satisfaction, plain.rework, plain.is_resolved)

    def test_unknown_service_type(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown service type 'repiar'. Did you mean 'repair'?")):
            make_ticket(service_type="repiar")

    def test_same_zone_fold_after_opening_is_accepted(self) -> None:
        opened = datetime(2025, 11, 2, 1, 55, tzinfo=NEW_YORK)  # 05:55Z, first pass
        resolved = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=NEW_YORK)  # 06:10Z
        assert resolved == make_ticket(opened_at=opened, resolved_at=resolved).resolved_at

    def test_same_zone_fold_before_opening_is_rejected(self) -> None:
        opened = datetime(2025, 11, 2, 1, 50, fold=1, tzinfo=NEW_YORK)  # 06:50Z
        resolved = datetime(2025, 11, 2, 1, 55, tzinfo=NEW_YORK)  # 05:55Z, first pass
        with pytest.raises(InvalidTicketError, match="'resolved_at'"):
            make_ticket(opened_at=opened, resolved_at=resolved)


class TestComplaint:
    """Complaints parse their flags and close after they were received."""

    @pytest.mark.parametrize(("flags", "expected"), [
        ("media, safety", {ComplaintFlag.MEDIA, ComplaintFlag.SAFETY}),
        ("Regulator;THREAT", {ComplaintFlag.REGULATOR, ComplaintFlag.THREAT}),
        (["media", ComplaintFlag.MEDIA], {ComplaintFlag.MEDIA}),
        ("", set()),
        ((), set()),
    ])
    def test_flags(self, flags: object, expected: set[ComplaintFlag]) -> None:
        assert frozenset(expected) == make_complaint(flags=flags).flags

    def test_source(self) -> None:
        assert ComplaintSource.WALK_IN is make_complaint(source="Walk-In").source

    def test_unknown_flag(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown complaint flag 'medai'. Did you mean 'media'?")):
            make_complaint(flags="medai")

    def test_flags_not_a_collection(self) -> None:
        with pytest.raises(InvalidComplaintError, match=exactly(
                "'flags' must be a collection of flags (got 5)")):
            make_complaint(flags=5)

    def test_closed_before_received(self) -> None:
        with pytest.raises(InvalidComplaintError, match=exactly(
                "'closed_at' (2025-02-03T10:00+08:00) is before 'received_at' "
                "(2025-02-03T10:12+08:00) on complaint 'K-1'")):
            make_complaint(closed_at=datetime(2025, 2, 3, 10, 0, tzinfo=CST))

    def test_naive_received_at(self) -> None:
        with pytest.raises(NaiveDatetimeError, match=exactly(
                "'received_at' must be timezone-aware "
                "(got datetime.datetime(2025, 2, 3, 0, 0)) on complaint 'K-1'")):
            make_complaint(received_at=datetime(2025, 2, 3))

    def test_complaint_type_required(self) -> None:
        with pytest.raises(InvalidComplaintError, match=exactly(
                "'complaint_type' must be a non-empty string without surrounding spaces or "
                "control characters (got '') on complaint 'K-1'")):
            make_complaint(complaint_type="")


class TestCallback:
    """Callbacks have a due window and an outcome exactly when they were made."""

    def test_spec_message(self) -> None:
        with pytest.raises(InvalidCallbackError, match=exactly(
                "'outcome' is None but 'done_at' is set on callback 'CB-1'")):
            make_callback(done_at=T0)

    @pytest.mark.parametrize(("changes", "message"), [
        ({"outcome": "solved"}, "'outcome' is 'solved' but 'done_at' is None "
                                "on callback 'CB-1'"),
        ({"due_by": T0 - timedelta(hours=1)},
         "'due_by' (2025-02-03T09:12+08:00) is before 'due_from' (2025-02-03T10:12+08:00) "
         "on callback 'CB-1'"),
        ({"agent_id": "A-1", "substitute_for": "A-1"},
         "'substitute_for' must differ from 'agent_id' (got 'A-1') on callback 'CB-1'"),
        ({"subject_id": ""}, "'subject_id' must be a non-empty string without surrounding "
                             "spaces or control characters (got '') on callback 'CB-1'"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidCallbackError, match=exactly(message)):
            make_callback(**changes)

    def test_unknown_outcome(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown callback outcome 'done'. Known: solved, unreachable, unsolved")):
            make_callback(done_at=T0, outcome="done")

    def test_naive_due_by(self) -> None:
        with pytest.raises(NaiveDatetimeError, match="^'due_by' must be timezone-aware"):
            make_callback(due_by=datetime(2025, 2, 5))

    @pytest.mark.parametrize(("done_after", "expected"), [
        (None, None),
        (timedelta(days=-1), True),  # made before the window opened: still on time
        (timedelta(days=3), True),  # made exactly at due_by
        (timedelta(days=3, seconds=1), False),
    ])
    def test_on_time(self, done_after: timedelta | None, expected: bool | None) -> None:
        done_at = None if done_after is None else T0 + done_after
        outcome = None if done_at is None else CallbackOutcome.SOLVED
        assert expected is make_callback(done_at=done_at, outcome=outcome).on_time

    def test_converts(self) -> None:
        callback = make_callback(subject="Ticket", done_at=T0, outcome="UNREACHABLE",
                                 agent_id="A-2", substitute_for="A-1")
        assert (CallbackSubject.TICKET, CallbackOutcome.UNREACHABLE) == (
            callback.subject, callback.outcome)


class TestRating:
    """Ratings lie within their scale."""

    def test_spec_message(self) -> None:
        with pytest.raises(InvalidRatingError, match=exactly(
                "'score' must be in [0, 100] (got 120)")):
            make_rating(score=120)

    @pytest.mark.parametrize(("changes", "message"), [
        ({"score": 0, "scale_min": 1, "scale_max": 5, "rating_id": "R-1"},
         "'score' must be in [1, 5] (got 0) on rating 'R-1'"),
        ({"score": 5.5, "scale_min": 1, "scale_max": 5}, "'score' must be in [1, 5] (got 5.5)"),
        ({"scale_min": 100, "scale_max": 100},
         "'scale_min' (100) must be below 'scale_max' (100)"),
        ({"scale_min": 10.0, "scale_max": 1.0},
         "'scale_min' (10.0) must be below 'scale_max' (1.0)"),
        ({"score": float("nan")}, "'score' must be a finite number (got nan)"),
        ({"score": "80"}, "'score' must be a finite number (got '80')"),
        ({"scale_max": float("inf")}, "'scale_max' must be a finite number (got inf)"),
        ({"item": ""}, "'item' must be a non-empty string without surrounding spaces or "
                       "control characters (got '')"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidRatingError, match=exactly(message)):
            make_rating(**changes)

    @pytest.mark.parametrize(("score", "low", "high", "expected"), [
        (80, 0, 100, 0.8), (1, 1, 5, 0.0), (5, 1, 5, 1.0), (4, 1, 5, 0.75)])
    def test_normalised(self, score: float, low: float, high: float, expected: float) -> None:
        rating = make_rating(score=score, scale_min=low, scale_max=high)
        assert expected == pytest.approx(rating.normalised)

    def test_rater_role(self) -> None:
        assert RaterRole.EXTERNAL_EXPERT is make_rating(rater_role="External Expert").rater_role


class TestOrder:
    """Orders hold exact decimal money with refunded <= paid <= amount."""

    def test_converts_to_decimal(self) -> None:
        order = make_order(paid=150.1, refunded="0.10")
        assert (Decimal("199.90"), Decimal("150.1"), Decimal("0.10")) == (
            order.amount, order.paid, order.refunded)
        assert (Decimal(0), Decimal(0)) == (make_order().paid, make_order().refunded)
        assert (True, False) == (make_order().valid, make_order().abnormal)

    @pytest.mark.parametrize(("changes", "message"), [
        ({"paid": "200.00"}, "'paid' (200.00) exceeds 'amount' (199.90) on order 'O-1'"),
        ({"paid": "50", "refunded": "50.01"},
         "'refunded' (50.01) exceeds 'paid' (50) on order 'O-1'"),
        ({"amount": None}, "'amount' is required (got None) on order 'O-1'"),
        ({"paid": None}, "'paid' is required (got None) on order 'O-1'"),
        ({"amount": "-1.00"}, "'amount' must be a finite amount >= 0 (got Decimal('-1.00')) "
                              "on order 'O-1'"),
        ({"amount": "abc"}, "'amount' must be a finite amount >= 0 (got 'abc') "
                            "on order 'O-1'"),
        ({"amount": Decimal("NaN")}, "'amount' must be a finite amount >= 0 "
                                     "(got Decimal('NaN')) on order 'O-1'"),
        ({"valid": "yes"}, "'valid' must be True or False (got 'yes') on order 'O-1'"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidOrderError, match=exactly(message)):
            make_order(**changes)


class TestPeriod:
    """Periods are half-open local intervals that parse, step and contain instants."""

    @pytest.mark.parametrize(("text", "kind", "year", "index", "label"), [
        ("2026-10", PeriodKind.MONTH, 2026, 10, "2026-10"),
        ("2026-1", PeriodKind.MONTH, 2026, 1, "2026-01"),
        (" 2026-01 ", PeriodKind.MONTH, 2026, 1, "2026-01"),
        ("2026-Q4", PeriodKind.QUARTER, 2026, 4, "2026-Q4"),
        ("2026q1", PeriodKind.QUARTER, 2026, 1, "2026-Q1"),
        ("2026", PeriodKind.YEAR, 2026, 1, "2026"),
    ])
    def test_parse(self, text: str, kind: PeriodKind, year: int, index: int,
                   label: str) -> None:
        period = Period.parse(text, tz="Asia/Shanghai")
        assert (kind, year, index, label) == (period.kind, period.year, period.index,
                                              period.label)
        assert period == Period.parse(label, tz="Asia/Shanghai")

    @pytest.mark.parametrize("text", ["Oct 2026", "2026-Q5", "26-10", "", "2026-10-01"])
    def test_parse_rejects(self, text: str) -> None:
        with pytest.raises(InvalidPeriodError, match=exactly(
                f"cannot parse period {text!r}: use 'YYYY-MM', 'YYYY-Qn' or 'YYYY'")):
            Period.parse(text, tz="UTC")

    def test_parse_rejects_non_string(self) -> None:
        with pytest.raises(InvalidPeriodError, match=exactly(
                "cannot parse period 202610: use 'YYYY-MM', 'YYYY-Qn' or 'YYYY'")):
            Period.parse(202610, tz="UTC")  # type: ignore[arg-type]

    @pytest.mark.parametrize(("changes", "message"), [
        ({"kind": "month", "index": 13}, "'index' of a month must be in [1, 12] (got 13)"),
        ({"kind": "month", "index": 0}, "'index' of a month must be in [1, 12] (got 0)"),
        ({"kind": "quarter", "index": 5}, "'index' of a quarter must be in [1, 4] (got 5)"),
        ({"kind": "year", "index": 2}, "'index' of a year must be in [1, 1] (got 2)"),
        ({"kind": "month", "index": True}, "'index' of a month must be in [1, 12] "
                                           "(got True)"),
        ({"kind": "month", "year": 1969}, "'year' must be in [1970, 2200] (got 1969)"),
        ({"kind": "month", "year": "2026"}, "'year' must be in [1970, 2200] (got '2026')"),
        ({"kind": "month", "tz": "Mars/Base"}, "'tz' must be an IANA time zone such as "
                                               "'Asia/Shanghai' (got 'Mars/Base')"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        fields: dict[str, Any] = dict(year=2026, index=1, tz="UTC")
        fields.update(changes)
        with pytest.raises(InvalidPeriodError, match=exactly(message)):
            Period(**fields)

    def test_unknown_kind(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown period kind 'week'. Known: month, quarter, year")):
            Period(kind="week", year=2026, tz="UTC")

    def test_start_end_label_str(self) -> None:
        period = Period.parse("2026-10", tz="Asia/Shanghai")
        assert "2026-10-01T00:00:00+08:00" == period.start.isoformat()
        assert "2026-11-01T00:00:00+08:00" == period.end.isoformat()
        assert "2026-10 (Asia/Shanghai)" == str(period)
        assert datetime(2026, 10, 1, tzinfo=SHANGHAI) == period.start
        assert timedelta(hours=8) == period.zone.utcoffset(period.start)

    @pytest.mark.parametrize(("label", "following"), [
        ("2026-11", "2026-12"), ("2026-12", "2027-01"), ("2026-Q3", "2026-Q4"),
        ("2026-Q4", "2027-Q1"), ("2026", "2027"),
    ])
    def test_next_and_previous(self, label: str, following: str) -> None:
        period = Period.parse(label, tz="UTC")
        assert following == period.next().label
        assert label == Period.parse(following, tz="UTC").previous().label
        assert period.end == period.next().start

    def test_year_boundary_instants(self) -> None:
        december = Period.month(2026, 12, tz="Asia/Shanghai")
        assert "2027-01-01T00:00:00+08:00" == december.end.isoformat()
        assert "2026-12-31T16:00:00+00:00" == december.end.astimezone(UTC).isoformat()

    @pytest.mark.parametrize(("tz", "kind", "label"), [
        ("Asia/Shanghai", "month", "2026-11"),
        ("UTC", "month", "2026-10"),
        ("America/New_York", "month", "2026-10"),
        ("Asia/Shanghai", "quarter", "2026-Q4"),
        ("Asia/Shanghai", PeriodKind.YEAR, "2026"),
    ])
    def test_containing(self, tz: str, kind: PeriodKind | str, label: str) -> None:
        moment = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
        period = Period.containing(moment, kind=kind, tz=tz)
        assert Period.parse(label, tz=tz) == period
        assert period.contains(moment)

    def test_containing_across_year_boundary(self) -> None:
        moment = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January in Shanghai
        assert ["2027-01", "2027-Q1", "2027"] == [
            Period.containing(moment, kind=kind, tz="Asia/Shanghai").label
            for kind in PeriodKind]
        assert "2026-12" == Period.containing(moment, tz="UTC").label

    def test_sakhalin_is_ahead_of_moscow(self) -> None:
        moment = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)  # 02:30 in Sakhalin, 18:30 Moscow
        assert "2026-11" == Period.containing(moment, tz="Asia/Sakhalin").label
        assert "2026-10" == Period.containing(moment, tz="Europe/Moscow").label

    def test_contains_is_half_open(self) -> None:
        period = Period.month(2026, 10, tz="Asia/Shanghai")
        assert period.contains(period.start)
        assert period.contains(period.end - timedelta(seconds=1))
        assert not period.contains(period.end)
        assert not period.contains(period.start - timedelta(seconds=1))
        assert period.contains(datetime(2026, 9, 30, 16, 0, tzinfo=UTC))
        assert not period.contains(datetime(2026, 9, 30, 15, 59, 59, tzinfo=UTC))

    def test_naive_moments(self) -> None:
        naive = datetime(2026, 10, 1)
        message = exactly("'moment' must be timezone-aware "
                          "(got datetime.datetime(2026, 10, 1, 0, 0))")
        with pytest.raises(NaiveDatetimeError, match=message):
            Period.containing(naive, tz="UTC")
        with pytest.raises(NaiveDatetimeError, match=message):
            OCTOBER.contains(naive)

    @pytest.mark.parametrize(("label", "months"), [
        ("2026-Q1", ["2026-01", "2026-02", "2026-03"]),
        ("2026-Q4", ["2026-10", "2026-11", "2026-12"]),
        ("2026-07", ["2026-07"]),
        ("2026", [f"2026-{m:02d}" for m in range(1, 13)]),
    ])
    def test_months(self, label: str, months: list[str]) -> None:
        parts = Period.parse(label, tz="Europe/Berlin").months()
        assert months == [part.label for part in parts]
        assert {"Europe/Berlin"} == {part.tz for part in parts}

    def test_dst_month_boundaries(self) -> None:
        march = Period.month(2026, 3, tz="Europe/Berlin")
        assert "2026-03-01T00:00:00+01:00" == march.start.isoformat()
        assert "2026-04-01T00:00:00+02:00" == march.end.isoformat()
        # The spring-forward hour is missing from March.
        assert timedelta(days=31, hours=-1) == (march.end.astimezone(UTC)
                                                - march.start.astimezone(UTC))
        october = Period.month(2026, 10, tz="Europe/Berlin")
        assert timedelta(days=31, hours=1) == (october.end.astimezone(UTC)
                                               - october.start.astimezone(UTC))

    def test_month_starting_in_a_dst_gap(self) -> None:
        # Paraguay sprang forward at midnight on 1 October 2023: 00:00 never existed.
        october = Period.month(2023, 10, tz="America/Asuncion")
        assert "2023-10-01T01:00:00-03:00" == october.start.isoformat()
        assert october.start == october.previous().end
        last_of_september = datetime(2023, 10, 1, 3, 59, 59, tzinfo=UTC)
        assert "2023-09" == Period.containing(last_of_september, tz="America/Asuncion").label
        assert october.contains(datetime(2023, 10, 1, 4, 0, tzinfo=UTC))

    def test_month_starting_in_a_repeated_hour(self) -> None:
        # Cuba fell back at 01:00 on 1 November 2020: 00:00-01:00 happened twice.
        november = Period.month(2020, 11, tz="America/Havana")
        assert "2020-11-01T04:00:00+00:00" == november.start.astimezone(UTC).isoformat()
        for first_or_second_pass in (4, 5):
            moment = datetime(2020, 11, 1, first_or_second_pass, 30, tzinfo=UTC)
            assert november == Period.containing(moment, tz="America/Havana")
        assert not november.contains(datetime(2020, 11, 1, 3, 59, 59, tzinfo=UTC))

    def test_value_semantics(self) -> None:
        assert Period.month(2026, 10, tz="UTC") == OCTOBER
        assert hash(Period.month(2026, 10, tz="UTC")) == hash(OCTOBER)
        assert Period.month(2026, 10, tz="Asia/Shanghai") != OCTOBER
        with pytest.raises(TypeError):
            OCTOBER < OCTOBER.next()  # type: ignore[operator]  # noqa: B015

    def test_whole_year(self) -> None:
        year = Period.whole_year(2026, tz="UTC")
        assert (PeriodKind.YEAR, 1, "2026") == (year.kind, year.index, year.label)
        assert datetime(2027, 1, 1, tzinfo=UTC) == year.end

    def test_end_of_last_valid_period(self) -> None:
        assert datetime(2201, 1, 1, tzinfo=UTC) == Period.month(2200, 12, tz="UTC").end


class TestAppraisal:
    """Appraisal items weigh 1 in total and the fields match the track."""

    def test_performance_agreement(self) -> None:
        appraisal = make_appraisal(
            track="Performance Agreement", quality_score=85,
            items=[AppraisalItem(name="hotline", weight=0.6, score=90),
                   AppraisalItem(name="reports", weight=0.4)])
        assert AppraisalTrack.PERFORMANCE_AGREEMENT is appraisal.track
        assert tuple is type(appraisal.items)
        assert (0.0, 100.0) == (appraisal.total_deduction, appraisal.standard_score)

    def test_key_indicators(self) -> None:
        appraisal = make_appraisal(
            items=[AppraisalItem(name=f"k{i}", weight=0.1) for i in range(10)],
            deductions=[Deduction(behaviour="late_report", points=2),
                        Deduction(behaviour="rude", points=0.5, at=T0)])
        assert 2.5 == appraisal.total_deduction
        assert tuple is type(appraisal.deductions)

    def test_no_items(self) -> None:
        assert () == make_appraisal().items

    @pytest.mark.parametrize(("changes", "message"), [
        ({"items": [AppraisalItem(name="compliance", weight=0.6),
                    AppraisalItem(name="feedback", weight=0.3)]},
         "item weights must sum to 1 (got 0.9) on appraisal 'A-1'"),
        ({"items": [AppraisalItem(name="compliance", weight=0.7),
                    AppraisalItem(name="feedback", weight=0.7)]},
         "item weights must sum to 1 (got 1.4) on appraisal 'A-1'"),
        ({"items": [AppraisalItem(name="compliance", weight=0.5),
                    AppraisalItem(name="compliance", weight=0.5)]},
         "duplicate item names ['compliance'] on appraisal 'A-1'"),
        ({"items": ["compliance"]},
         "'items' must hold AppraisalItem (got 'compliance') on appraisal 'A-1'"),
        ({"deductions": [("late", 2)]},
         "'deductions' must hold Deduction (got ('late', 2)) on appraisal 'A-1'"),
        ({"track": "performance_agreement", "deductions": [Deduction(behaviour="late",
                                                                     points=2)]},
         "'deductions' belong to the key-indicators track, not the performance agreement "
         "on appraisal 'A-1'"),
        ({"quality_score": 80},
         "'quality_score' belongs to the performance agreement, not the key-indicators "
         "track on appraisal 'A-1'"),
        ({"track": "performance_agreement", "quality_score": 101},
         "'quality_score' must be in [0, 100] (got 101) on appraisal 'A-1'"),
        ({"standard_score": 0}, "'standard_score' must be in (0, 1e+09] (got 0) "
                                "on appraisal 'A-1'"),
        ({"agent_id": ""}, "'agent_id' must be a non-empty string without surrounding "
                           "spaces or control characters (got '')"),
    ])
    def test_rejects(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidAppraisalError, match=exactly(message)):
            make_appraisal(**changes)

    def test_unknown_track(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown appraisal track 'kpi'. Known: key_indicators, performance_agreement")):
            make_appraisal(track="kpi")

    @pytest.mark.parametrize(("changes", "message"), [
        ({"weight": 0}, "'weight' must be in (0, 1] (got 0) on appraisal item 'x'"),
        ({"weight": 1.5}, "'weight' must be in (0, 1] (got 1.5) on appraisal item 'x'"),
        ({"score": -1}, "'score' must be in [0, 100] (got -1) on appraisal item 'x'"),
        ({"requirement": None}, "'requirement' must be a string (got None) "
                                "on appraisal item 'x'"),
    ])
    def test_item_rejects(self, changes: dict[str, Any], message: str) -> None:
        fields: dict[str, Any] = dict(name="x", weight=0.5)
        fields.update(changes)
        with pytest.raises(InvalidAppraisalError, match=exactly(message)):
            AppraisalItem(**fields)

    def test_deduction_rejects(self) -> None:
        with pytest.raises(InvalidAppraisalError, match=exactly(
                "'points' must be in (0, 1e+09] (got 0) on deduction 'late_report'")):
            Deduction(behaviour="late_report", points=0)
        with pytest.raises(NaiveDatetimeError, match=exactly(
                "'at' must be timezone-aware (got datetime.datetime(2026, 10, 5, 0, 0)) "
                "on deduction 'late_report'")):
            Deduction(behaviour="late_report", points=1, at=datetime(2026, 10, 5))

    def test_period_of_wrong_type(self) -> None:
        with pytest.raises(InvalidAppraisalError, match="'period'"):
            make_appraisal(period="2026-10")

    def test_items_not_a_collection(self) -> None:
        with pytest.raises(InvalidAppraisalError, match="'items'"):
            make_appraisal(items=5)


SAMPLES = [
    pytest.param(make_agent(), "name", id="Agent"),
    pytest.param(Team(team_id="TM1", name="Hotline"), "name", id="Team"),
    pytest.param(Station(station_id="S1", name="N", responsible="W"), "tz", id="Station"),
    pytest.param(Customer(customer_id="C-1"), "tier", id="Customer"),
    pytest.param(make_ticket(), "resolved_at", id="Ticket"),
    pytest.param(make_complaint(), "flags", id="Complaint"),
    pytest.param(make_callback(), "done_at", id="Callback"),
    pytest.param(make_rating(), "score", id="Rating"),
    pytest.param(make_order(), "paid", id="Order"),
    pytest.param(OCTOBER, "index", id="Period"),
    pytest.param(AppraisalItem(name="x", weight=1), "score", id="AppraisalItem"),
    pytest.param(Deduction(behaviour="late", points=1), "points", id="Deduction"),
    pytest.param(make_appraisal(), "items", id="Appraisal"),
]

LATE = T0 + timedelta(days=1)


class TestFrozen:
    """Domain objects are immutable and attrs.evolve revalidates."""

    @pytest.mark.parametrize(("obj", "field"), SAMPLES)
    def test_assignment_fails(self, obj: Any, field: str) -> None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(obj, field, None)

    @pytest.mark.parametrize(("obj", "field"), SAMPLES)
    def test_hashable_and_equal_by_value(self, obj: Any, field: str) -> None:
        assert obj == attrs.evolve(obj)
        assert hash(obj) == hash(attrs.evolve(obj))

    @pytest.mark.parametrize(("obj", "changes", "error", "message"), [
        (make_ticket(), {"resolved_at": T0 - timedelta(days=2)}, InvalidTicketError,
         "'resolved_at' (2025-02-01T10:12+08:00) is before 'opened_at' "
         "(2025-02-03T10:12+08:00) on ticket 'T-21177'"),
        (make_ticket(resolved_at=LATE), {"resolved_at": None, "closed_at": LATE,
                                         "first_contact_resolved": True},
         InvalidTicketError,
         "'first_contact_resolved' is True but 'resolved_at' is None on ticket 'T-21177'"),
        (make_agent(), {"supervisor_id": "A-1"}, InvalidAgentError,
         "'supervisor_id' must differ from 'agent_id' (got 'A-1') on agent 'A-1'"),
        (OCTOBER, {"index": 13}, InvalidPeriodError,
         "'index' of a month must be in [1, 12] (got 13)"),
        (OCTOBER, {"kind": "quarter"}, InvalidPeriodError,
         "'index' of a quarter must be in [1, 4] (got 10)"),
        (make_order(), {"refunded": "1"}, InvalidOrderError,
         "'refunded' (1) exceeds 'paid' (0) on order 'O-1'"),
        (make_callback(), {"outcome": "solved"}, InvalidCallbackError,
         "'outcome' is 'solved' but 'done_at' is None on callback 'CB-1'"),
        (make_rating(), {"scale_max": 5}, InvalidRatingError,
         "'score' must be in [0, 5] (got 80)"),
        (make_appraisal(), {"quality_score": 50}, InvalidAppraisalError,
         "'quality_score' belongs to the performance agreement, not the key-indicators "
         "track on appraisal 'A-1'"),
        (Customer(customer_id="C-1"), {"tz": "Mars/Base"}, InvalidCustomerError,
         "'tz' must be an IANA time zone such as 'Asia/Shanghai' (got 'Mars/Base') "
         "on customer 'C-1'"),
    ])
    def test_evolve_revalidates(self, obj: Any, changes: dict[str, Any],
                                error: type[InvalidRecordError], message: str) -> None:
        with pytest.raises(error, match=exactly(message)):
            attrs.evolve(obj, **changes)

    def test_evolve_converts(self) -> None:
        assert Channel.EMAIL is attrs.evolve(make_ticket(), channel="Email").channel


STRATEGIES = {
    "agents": S.agents(), "teams": S.teams(), "stations": S.stations(),
    "customers": S.customers(), "tickets": S.tickets(), "complaints": S.complaints(),
    "callbacks": S.callbacks(), "ratings": S.ratings(), "orders": S.orders(),
    "appraisal_items": S.appraisal_items(), "appraisals": S.appraisals(),
    "periods": S.periods(),
}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class TestProperties:
    """Properties over the strategies: generated objects are valid, periods are consistent."""

    @pytest.mark.parametrize("name", sorted(STRATEGIES))
    @FAST
    @given(data=st.data())
    def test_generated_objects_revalidate(self, name: str, data: st.DataObject) -> None:
        obj: Any = data.draw(STRATEGIES[name])
        assert obj == attrs.evolve(obj)

    @FAST
    @given(ticket=S.tickets())
    def test_ticket_timestamps_are_chronological(self, ticket: Ticket) -> None:
        opened = _utc(ticket.opened_at)
        for later in (ticket.first_response_at, ticket.resolved_at, ticket.closed_at):
            assert later is None or opened <= _utc(later)
        if ticket.resolved_at is not None and ticket.closed_at is not None:
            assert _utc(ticket.resolved_at) <= _utc(ticket.closed_at)
        assert 0 == ticket.opened_at.microsecond

    @FAST
    @given(ticket=S.tickets(agent_ids=st.sampled_from(["A-1", "A-2"]),
                            service_types=st.just(ServiceType.REPAIR),
                            datetimes=S.aware_datetimes(2026, 2026), resolved=st.just(True)))
    def test_tickets_can_be_pinned(self, ticket: Ticket) -> None:
        assert ticket.agent_id in {"A-1", "A-2"}
        assert ServiceType.REPAIR is ticket.service_type
        assert 2026 == ticket.opened_at.year
        assert ticket.is_resolved

    @FAST
    @given(period=S.periods())
    def test_next_and_previous_are_inverse(self, period: Period) -> None:
        assert period == period.next().previous()
        assert period == period.previous().next()

    @FAST
    @given(period=S.periods())
    def test_bounds(self, period: Period) -> None:
        assert period.start < period.end
        assert period.contains(period.start)
        assert not period.contains(period.end)
        assert period.end == period.next().start
        assert period == Period.containing(period.start, kind=period.kind, tz=period.tz)
        assert [period.start] == [month.start for month in period.months()][:1]
        assert period.end == period.months()[-1].end

    @FAST
    @given(moment=S.aware_datetimes(), kind=st.sampled_from(PeriodKind),
           tz=st.sampled_from(S.IANA_ZONES))
    def test_containing_contains(self, moment: datetime, kind: PeriodKind, tz: str) -> None:
        period = Period.containing(moment, kind=kind, tz=tz)
        assert period.contains(moment)
        assert not period.next().contains(moment)
        assert not period.previous().contains(moment)

    @FAST
    @given(appraisal=S.appraisals())
    def test_appraisal_tracks(self, appraisal: Appraisal) -> None:
        if appraisal.items:
            assert 1.0 == pytest.approx(sum(item.weight for item in appraisal.items))
        if appraisal.track is AppraisalTrack.PERFORMANCE_AGREEMENT:
            assert () == appraisal.deductions
        else:
            assert None is appraisal.quality_score

    @FAST
    @given(order=S.orders())
    def test_order_money(self, order: Order) -> None:
        assert order.refunded <= order.paid <= order.amount
        assert {-2} == {amount.as_tuple().exponent
                        for amount in (order.amount, order.paid, order.refunded)}
