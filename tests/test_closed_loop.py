"""Tests of servicekpi.rules.closed_loop: the complaint closed loop and its deadlines."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicekpi.calendar import WorkCalendar
from servicekpi.domain import Callback, CallbackOutcome, Complaint
from servicekpi.exceptions import InvalidRecordError, NaiveDatetimeError, ServiceKPIError
from servicekpi.policy import Policy
from servicekpi.exceptions import InvalidTransitionError
from servicekpi.rules.closed_loop import (
    CaseAction,
    CaseEvent,
    CaseEventKind,
    CaseState,
    ComplaintCase,
    NextAction,
    next_action,
    replay,
)

UTC = timezone.utc
CST = timezone(timedelta(hours=8))
FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None)
POLICY = Policy.default()
CLOSES_ONLY_AFTER_SOLVED = "a case closes only after a callback with outcome 'solved'"


def _exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in March 2024, China Standard Time (Monday 4 March is day 4)."""
    return datetime(2024, 3, day, hour, minute, tzinfo=CST)


def _complaint(**changes: Any) -> Complaint:
    fields: dict[str, Any] = dict(
        complaint_id="K-1", customer_id="C-1", station_id="S1", responsible="P-7",
        source="hotline", complaint_type="late_delivery", received_at=_at(4, 9))
    fields.update(changes)
    return Complaint(**fields)


def _callback(callback_id: str = "CB-1", *, done_at: datetime | None,
              outcome: str | None = "solved", subject: str = "complaint",
              subject_id: str = "K-1", due_from: datetime | None = None) -> Callback:
    start = due_from if due_from is not None else _at(4, 9)
    return Callback(callback_id=callback_id, subject=subject, subject_id=subject_id,
                    due_from=start, due_by=start + timedelta(days=2), done_at=done_at,
                    outcome=outcome if done_at is not None else None, agent_id="A-1")


def _received() -> ComplaintCase:
    return ComplaintCase.open(_complaint())


def _verified() -> ComplaintCase:
    return _received().verify(at=_at(4, 15), by="P-7")


def _called_back() -> ComplaintCase:
    return _verified().call_back(_callback(done_at=_at(5, 10)))


def _pushed_back() -> ComplaintCase:
    return _verified().call_back(_callback(done_at=_at(5, 10), outcome="unsolved"))


def _closed() -> ComplaintCase:
    return _called_back().close(at=_at(5, 11), by="P-9")


CASES: dict[str, Callable[[], ComplaintCase]] = {
    "received": _received, "verified": _verified, "called_back": _called_back,
    "pushed_back": _pushed_back, "closed": _closed,
}
LATER = _at(6, 9)
ACTIONS: dict[str, Callable[[ComplaintCase], ComplaintCase]] = {
    "verify": lambda case: case.verify(at=LATER, by="P-7"),
    "call_back": lambda case: case.call_back(_callback("CB-9", done_at=LATER)),
    "close": lambda case: case.close(at=LATER),
}


class TestOpen:
    """A new case is received, with no history."""

    def test_open(self) -> None:
        case = ComplaintCase.open(_complaint())
        assert (CaseState.RECEIVED, (), _at(4, 9)) == (case.state, case.events,
                                                        case.last_event_at)
        assert (0, 0, False) == (case.callbacks_made, case.unsolved_callbacks,
                                 case.is_closed)

    def test_not_a_complaint(self) -> None:
        with pytest.raises(InvalidTransitionError,
                           match=_exactly("'complaint' must be a Complaint (got 'K-1')")):
            ComplaintCase.open(cast(Any, "K-1"))


class TestHappyPath:
    """Verify, call back solved, close."""

    def test_full_loop(self) -> None:
        case = _closed()
        expected = (
            CaseEvent(kind="verified", at=_at(4, 15), by="P-7"),
            CaseEvent(kind="called_back", at=_at(5, 10), by="A-1", callback_id="CB-1",
                      outcome="solved"),
            CaseEvent(kind="closed", at=_at(5, 11), by="P-9"),
        )
        assert expected == case.events
        assert (CaseState.CLOSED, True, 1, 0, _at(5, 11)) == (
            case.state, case.is_closed, case.callbacks_made, case.unsolved_callbacks,
            case.last_event_at)

    def test_each_step_has_its_state(self) -> None:
        assert [CaseState.RECEIVED, CaseState.VERIFIED, CaseState.CALLED_BACK,
                CaseState.CLOSED] == [_received().state, _verified().state,
                                      _called_back().state, _closed().state]

    def test_transitions_are_pure(self) -> None:
        case = _verified()
        before = attrs.evolve(case)
        case.call_back(_callback(done_at=_at(5, 10)))
        assert before == case
        assert CaseState.VERIFIED == case.state

    def test_equal_instants_are_allowed(self) -> None:
        t = _at(4, 9)
        case = _received().verify(at=t, by=None).call_back(_callback(done_at=t)).close(at=t)
        assert CaseState.CLOSED == case.state


class TestPushBackLoop:
    """A callback that did not solve it pushes the station again, and the loop repeats."""

    def test_unsolved_then_solved(self) -> None:
        case = _pushed_back()
        assert CaseState.PUSHED_BACK == case.state
        assert [CaseEventKind.VERIFIED, CaseEventKind.CALLED_BACK,
                CaseEventKind.PUSHED_BACK] == [e.kind for e in case.events]
        pushed = case.events[-1]
        assert (_at(5, 10), None, "callback 'CB-1' was 'unsolved'; the station is pushed "
                "again") == (pushed.at, pushed.by, pushed.note)
        case = case.verify(at=_at(6, 9), by="P-7")
        assert CaseState.VERIFIED == case.state
        case = case.call_back(_callback("CB-2", done_at=_at(6, 14)))
        assert CaseState.CALLED_BACK == case.state
        case = case.close(at=_at(6, 15))
        assert (CaseState.CLOSED, 2, 1) == (case.state, case.callbacks_made,
                                           case.unsolved_callbacks)

    def test_unreachable_pushes_back_but_is_not_unsolved(self) -> None:
        case = _verified().call_back(_callback(done_at=_at(5, 10), outcome="unreachable"))
        assert (CaseState.PUSHED_BACK, 1, 0) == (case.state, case.callbacks_made,
                                                case.unsolved_callbacks)


class TestInvalidTransitions:
    """Every action outside the loop raises, naming the case, state and action."""

    @pytest.mark.parametrize(("state", "action", "message"), [
        ("received", "call_back", "cannot call back complaint 'K-1' in state 'received': "
                                  "verify with the station's responsible person first"),
        ("received", "close", f"cannot close complaint 'K-1' in state 'received': "
                              f"{CLOSES_ONLY_AFTER_SOLVED}"),
        ("verified", "verify", "cannot verify complaint 'K-1' in state 'verified': it is "
                               "already verified; call the customer back next"),
        ("verified", "close", f"cannot close complaint 'K-1' in state 'verified': "
                              f"{CLOSES_ONLY_AFTER_SOLVED}"),
        ("called_back", "verify", "cannot verify complaint 'K-1' in state 'called_back': "
                                  "the customer confirmed it solved; close the case next"),
        ("called_back", "call_back", "cannot call back complaint 'K-1' in state "
                                     "'called_back': the customer confirmed it solved; "
                                     "close the case next"),
        ("pushed_back", "call_back", "cannot call back complaint 'K-1' in state "
                                     "'pushed_back': the station was pushed again; verify "
                                     "with its responsible person first"),
        ("pushed_back", "close", f"cannot close complaint 'K-1' in state 'pushed_back': "
                                 f"{CLOSES_ONLY_AFTER_SOLVED}"),
        ("closed", "verify", "cannot verify complaint 'K-1' in state 'closed': the case is "
                             "closed"),
        ("closed", "call_back", "cannot call back complaint 'K-1' in state 'closed': the "
                                "case is closed"),
        ("closed", "close", "cannot close complaint 'K-1' in state 'closed': the case is "
                            "closed"),
    ])
    def test_refused(self, state: str, action: str, message: str) -> None:
        case = CASES[state]()
        with pytest.raises(InvalidTransitionError, match=_exactly(message)):
            ACTIONS[action](case)

    @pytest.mark.parametrize(("state", "action", "expected"), [
        ("received", "verify", CaseState.VERIFIED),
        ("pushed_back", "verify", CaseState.VERIFIED),
        ("verified", "call_back", CaseState.CALLED_BACK),
        ("called_back", "close", CaseState.CLOSED),
    ])
    def test_allowed(self, state: str, action: str, expected: CaseState) -> None:
        assert expected == ACTIONS[action](CASES[state]()).state

    def test_is_a_value_error(self) -> None:
        assert issubclass(InvalidTransitionError, ServiceKPIError)
        assert issubclass(InvalidTransitionError, ValueError)


class TestCallbackChecks:
    """Only a callback that was made, about this complaint, and not yet recorded counts."""

    @pytest.mark.parametrize(("callback", "reason"), [
        (_callback(done_at=_at(5, 10), subject_id="K-2"), "it is about complaint 'K-2'"),
        (_callback(done_at=_at(5, 10), subject="ticket"), "it is about ticket 'K-1'"),
        (_callback(done_at=None), "it has not been made ('done_at' is None)"),
    ])
    def test_refused(self, callback: Callback, reason: str) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                f"cannot call back complaint 'K-1' with callback 'CB-1': {reason}")):
            _verified().call_back(callback)

    def test_recorded_twice(self) -> None:
        case = _pushed_back().verify(at=_at(6, 9), by="P-7")
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' with callback 'CB-1': it is already "
                "recorded")):
            case.call_back(_callback(done_at=_at(6, 10)))

    def test_not_a_callback(self) -> None:
        with pytest.raises(InvalidTransitionError,
                           match=_exactly("'callback' must be a Callback (got 'CB-1')")):
            _verified().call_back(cast(Any, "CB-1"))


class TestTime:
    """Event times never go backwards; naive datetimes are refused."""

    def test_verify_before_receipt(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot verify complaint 'K-1' at 2024-03-04T08:00+08:00: that is before "
                "the complaint was received at 2024-03-04T09:00+08:00")):
            _received().verify(at=_at(4, 8), by="P-7")

    def test_callback_before_verification(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' at 2024-03-04T14:00+08:00: that is "
                "before the last event ('verified') at 2024-03-04T15:00+08:00")):
            _verified().call_back(_callback(done_at=_at(4, 14)))

    def test_close_before_callback(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot close complaint 'K-1' at 2024-03-05T09:59+08:00: that is before "
                "the last event ('called_back') at 2024-03-05T10:00+08:00")):
            _called_back().close(at=_at(5, 9, 59))

    def test_compared_as_instants_across_zones(self) -> None:
        case = _verified()  # at 15:00+08:00 = 07:00Z
        assert CaseState.CALLED_BACK == case.call_back(
            _callback(done_at=datetime(2024, 3, 4, 7, 30, tzinfo=UTC))).state
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' at 2024-03-04T06:30+00:00: that is "
                "before the last event ('verified') at 2024-03-04T15:00+08:00")):
            case.call_back(_callback(done_at=datetime(2024, 3, 4, 6, 30, tzinfo=UTC)))

    @pytest.mark.parametrize("action", [
        lambda case: case.verify(at=datetime(2024, 3, 4, 15), by="P-7"),
        lambda case: case.close(at=datetime(2024, 3, 4, 15)),
    ])
    def test_naive(self, action: Callable[[ComplaintCase], ComplaintCase]) -> None:
        with pytest.raises(NaiveDatetimeError, match="^'at' must be timezone-aware"):
            action(_received())


class TestConstruction:
    """A case built directly is checked: its events must lead to its state."""

    def test_equal_to_the_built_case(self) -> None:
        events = [CaseEvent(kind="verified", at=_at(4, 15), by="P-7")]
        assert _verified() == ComplaintCase(complaint=_complaint(), state="verified",
                                            events=events)

    def test_state_mismatch(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "complaint 'K-1': 'state' is 'closed' but its events lead to 'verified'")):
            ComplaintCase(complaint=_complaint(), state="closed", events=_verified().events)

    def test_push_without_a_callback(self) -> None:
        events = [CaseEvent(kind="verified", at=_at(4, 15)),
                  CaseEvent(kind="pushed_back", at=_at(4, 16))]
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot push back complaint 'K-1' in state 'verified': the station is "
                "pushed again only right after a callback that did not solve it")):
            ComplaintCase(complaint=_complaint(), state="pushed_back", events=events)

    @pytest.mark.parametrize(("tail", "got"), [
        ([], "None"),
        ([CaseEvent(kind="verified", at=_at(5, 11))], "'verified'"),
    ])
    def test_unsolved_callback_without_a_push(self, tail: list[CaseEvent], got: str) -> None:
        events = [CaseEvent(kind="verified", at=_at(4, 15)),
                  CaseEvent(kind="called_back", at=_at(5, 10), callback_id="CB-1",
                            outcome="unsolved"), *tail]
        with pytest.raises(InvalidTransitionError, match=_exactly(
                f"complaint 'K-1': the 'unsolved' callback 'CB-1' must be followed by a "
                f"'pushed_back' event (got {got})")):
            ComplaintCase(complaint=_complaint(), state="verified", events=events)

    def test_events_must_be_case_events(self) -> None:
        with pytest.raises(InvalidTransitionError,
                           match=_exactly("'events' must hold CaseEvent objects (got 'x')")):
            ComplaintCase(complaint=_complaint(), events=cast(Any, ["x"]))

    @pytest.mark.parametrize(("fields", "message"), [
        ({"kind": "called_back", "outcome": "solved"},
         "'callback_id' is required on a 'called_back' event (got None)"),
        ({"kind": "called_back", "callback_id": "CB-1"},
         "'outcome' is required on a 'called_back' event (got None)"),
        ({"kind": "verified", "outcome": "solved"},
         "'outcome' must be None on a 'verified' event (got 'solved')"),
        ({"kind": "closed", "callback_id": "CB-1"},
         "'callback_id' must be None on a 'closed' event (got 'CB-1')"),
    ])
    def test_invalid_event(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidRecordError, match=_exactly(message)):
            CaseEvent(at=_at(4, 9), **fields)


def _policy(**calendar: Any) -> Policy:
    return POLICY.replace(calendar=WorkCalendar(**calendar))


class TestNextAction:
    """The next action, its working-time deadline and whether it is overdue."""

    @pytest.mark.parametrize(("state", "expected"), [
        ("received", NextAction(
            action=CaseAction.VERIFY, due=_at(5, 17, 30), overdue=False,
            reason="Verify with the station's responsible person 'P-7' (station 'S1') that "
                   "complaint 'K-1' is solved, within 1 working day of its receipt.")),
        ("verified", NextAction(
            action=CaseAction.CALL_BACK, due=_at(6, 17, 30), overdue=False,
            reason="Call customer 'C-1' back to confirm complaint 'K-1' is solved, within "
                   "2 working days of the verification.")),
        ("pushed_back", NextAction(
            action=CaseAction.VERIFY, due=_at(6, 17, 30), overdue=False,
            reason="Verify again with the station's responsible person 'P-7' (station "
                   "'S1') that complaint 'K-1' is solved, within 1 working day of the "
                   "push-back: callback 'CB-1' was 'unsolved'.")),
        ("called_back", NextAction(
            action=CaseAction.CLOSE, due=_at(5, 17, 30), overdue=False,
            reason="Close complaint 'K-1': callback 'CB-1' confirmed it solved, so it "
                   "closes by the end of that working day.")),
        ("closed", NextAction(
            action=CaseAction.NONE, due=None, overdue=False,
            reason="Nothing to do: complaint 'K-1' was closed at 2024-03-05T11:00+08:00.")),
    ])
    def test_each_state(self, state: str, expected: NextAction) -> None:
        assert expected == next_action(CASES[state](), now=_at(5, 12), policy=POLICY)

    @pytest.mark.parametrize(("now", "overdue"), [
        (_at(5, 17, 29), False),
        (_at(5, 17, 30), False),  # met to the second
        (_at(5, 17, 31), True),
        (datetime(2024, 3, 5, 9, 31, tzinfo=UTC), True),  # 17:31+08:00
    ])
    def test_overdue(self, now: datetime, overdue: bool) -> None:
        assert overdue == next_action(_received(), now=now, policy=POLICY).overdue

    def test_overdue_after_push_back(self) -> None:
        step = next_action(_pushed_back(), now=_at(7, 9), policy=POLICY)
        assert (CaseAction.VERIFY, _at(6, 17, 30), True) == (step.action, step.due,
                                                             step.overdue)

    def test_weekend(self) -> None:
        case = ComplaintCase.open(_complaint(received_at=_at(8, 16)))  # a Friday
        assert _at(11, 17, 30) == next_action(case, now=_at(8, 16), policy=POLICY).due

    def test_holiday_moves_the_deadline(self) -> None:
        policy = _policy(holidays={date(2024, 3, 5)})
        assert _at(6, 17, 30) == next_action(_received(), now=_at(4, 9), policy=policy).due

    def test_makeup_day_brings_it_forward(self) -> None:
        case = ComplaintCase.open(_complaint(received_at=_at(8, 16)))  # a Friday
        policy = _policy(extra_workdays={date(2024, 3, 9)})  # a working Saturday
        assert _at(9, 17, 30) == next_action(case, now=_at(8, 16), policy=policy).due

    def test_dst(self) -> None:
        new_york = ZoneInfo("America/New_York")  # springs forward on Sunday 10 March 2024
        case = ComplaintCase.open(_complaint(received_at=datetime(2024, 3, 8, 10,
                                                                  tzinfo=new_york)))
        due = next_action(case, now=_at(8, 9), policy=_policy(tz="America/New_York")).due
        assert datetime(2024, 3, 11, 21, 30, tzinfo=UTC) == due  # 17:30 EDT, not EST
        assert due is not None
        assert timedelta(hours=-4) == due.utcoffset()

    def test_policy_numbers(self) -> None:
        policy = POLICY.replace(escalation=attrs.evolve(POLICY.escalation,
                                                        verify_working_days=3,
                                                        callback_working_days=0))
        received = next_action(_received(), now=_at(4, 9), policy=policy)
        verified = next_action(_verified(), now=_at(4, 9), policy=policy)
        assert (_at(7, 17, 30), _at(4, 17, 30)) == (received.due, verified.due)
        assert received.reason.endswith("within 3 working days of its receipt.")

    def test_naive_now(self) -> None:
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                "'now' must be a timezone-aware datetime (got datetime.datetime(2024, 3, "
                "5, 12, 0))")):
            next_action(_received(), now=datetime(2024, 3, 5, 12), policy=POLICY)


class TestReplay:
    """A case rebuilt from the complaint's callback records."""

    def test_no_callbacks(self) -> None:
        assert _received() == replay(_complaint(), [])

    def test_verified_at_without_callbacks(self) -> None:
        case = replay(_complaint(), [], verified_at=_at(4, 15))
        assert (CaseEvent(kind="verified", at=_at(4, 15), by="P-7"),) == case.events

    def test_push_back_loop_then_closed(self) -> None:
        complaint = _complaint(closed_at=_at(7, 9))
        calls = [_callback("CB-2", done_at=_at(6, 10), due_from=_at(6, 9)),
                 _callback("CB-1", done_at=_at(5, 10), outcome="unsolved",
                           due_from=_at(5, 9))]
        case = replay(complaint, calls)
        expected = (
            CaseEvent(kind="verified", at=_at(5, 9), by="P-7"),
            CaseEvent(kind="called_back", at=_at(5, 10), by="A-1", callback_id="CB-1",
                      outcome="unsolved"),
            CaseEvent(kind="pushed_back", at=_at(5, 10),
                      note="callback 'CB-1' was 'unsolved'; the station is pushed again"),
            CaseEvent(kind="verified", at=_at(6, 9), by="P-7"),
            CaseEvent(kind="called_back", at=_at(6, 10), by="A-1", callback_id="CB-2",
                      outcome="solved"),
            CaseEvent(kind="closed", at=_at(7, 9)),
        )
        assert expected == case.events
        assert case == replay(complaint, list(reversed(calls)))

    @pytest.mark.parametrize(("due_from", "done_at", "verified"), [
        (_at(4, 8), _at(4, 10), _at(4, 9)),  # due before receipt: verified on receipt
        (_at(5, 9), _at(5, 8), _at(5, 8)),  # an early call: verified by the call
        (_at(5, 9), _at(5, 10), _at(5, 9)),
    ])
    def test_implicit_verification_time(self, due_from: datetime, done_at: datetime,
                                        verified: datetime) -> None:
        case = replay(_complaint(), [_callback(done_at=done_at, due_from=due_from)])
        assert verified == case.events[0].at

    def test_implicit_verification_not_before_the_push_back(self) -> None:
        calls = [_callback("CB-1", done_at=_at(5, 10), outcome="unsolved"),
                 _callback("CB-2", done_at=_at(6, 10), due_from=_at(4, 9))]
        assert _at(5, 10) == replay(_complaint(), calls).events[3].at

    def test_verified_at_is_the_first_verification(self) -> None:
        calls = [_callback("CB-1", done_at=_at(5, 10), outcome="unsolved"),
                 _callback("CB-2", done_at=_at(6, 10), due_from=_at(6, 9))]
        case = replay(_complaint(), calls, verified_at=_at(4, 15))
        assert [_at(4, 15), _at(6, 9)] == [e.at for e in case.events
                                           if e.kind is CaseEventKind.VERIFIED]

    def test_solved_without_closed_at_stays_called_back(self) -> None:
        assert CaseState.CALLED_BACK == replay(_complaint(), [_callback(done_at=_at(5, 10))]
                                               ).state

    def test_closed_at_without_a_solved_callback_closes_nothing(self) -> None:
        case = replay(_complaint(closed_at=_at(7, 9)),
                      [_callback(done_at=_at(5, 10), outcome="unreachable")])
        assert CaseState.PUSHED_BACK == case.state

    def test_callbacks_not_made_are_skipped(self) -> None:
        calls = [_callback("CB-0", done_at=None), _callback(done_at=_at(5, 10))]
        assert 1 == replay(_complaint(), calls).callbacks_made

    def test_callback_after_a_solved_one(self) -> None:
        calls = [_callback(done_at=_at(5, 10)),
                 _callback("CB-2", done_at=_at(6, 10), outcome="unsolved")]
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' with callback 'CB-2': an earlier "
                "callback 'CB-1' already confirmed it solved")):
            replay(_complaint(), calls)

    def test_callback_for_another_complaint(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' with callback 'CB-1': it is about "
                "complaint 'K-2'")):
            replay(_complaint(), [_callback(done_at=_at(5, 10), subject_id="K-2")])

    def test_callback_before_receipt(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' with callback 'CB-1' at "
                "2024-03-04T08:00+08:00: that is before the complaint was received at "
                "2024-03-04T09:00+08:00")):
            replay(_complaint(), [_callback(done_at=_at(4, 8))])

    def test_callback_before_verified_at(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot call back complaint 'K-1' at 2024-03-05T10:00+08:00: that is "
                "before the last event ('verified') at 2024-03-05T11:00+08:00")):
            replay(_complaint(), [_callback(done_at=_at(5, 10))], verified_at=_at(5, 11))

    def test_closed_before_the_solved_callback(self) -> None:
        with pytest.raises(InvalidTransitionError, match=_exactly(
                "cannot close complaint 'K-1' at 2024-03-05T09:00+08:00: that is before "
                "the last event ('called_back') at 2024-03-05T10:00+08:00")):
            replay(_complaint(closed_at=_at(5, 9)), [_callback(done_at=_at(5, 10))])


# Mostly loops that follow the rules (pushes, then perhaps one solved call), and some
# arbitrary sequences, where a solved call may come too early.
_outcomes = st.one_of(
    st.builds(lambda pushes, last: pushes + last,
              st.lists(st.sampled_from([CallbackOutcome.UNSOLVED,
                                        CallbackOutcome.UNREACHABLE]), max_size=5),
              st.sampled_from([[], [CallbackOutcome.SOLVED]])),
    st.lists(st.sampled_from(CallbackOutcome), max_size=6),
)
_gaps = st.integers(min_value=1, max_value=5 * 86_400)
_zones = st.sampled_from([UTC, CST, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")])


@st.composite
def _histories(draw: st.DrawFn) -> tuple[Complaint, list[Callback]]:
    """A complaint and its callbacks, made at strictly increasing instants in any zone."""
    received = draw(st.datetimes(min_value=datetime(2023, 1, 1),
                                 max_value=datetime(2026, 12, 31), timezones=_zones,
                                 allow_imaginary=False))
    outcomes = draw(_outcomes)
    done, calls = received.astimezone(UTC), []
    for index, outcome in enumerate(outcomes):
        done += timedelta(seconds=draw(_gaps))
        due_from = done + timedelta(seconds=draw(st.integers(-6 * 86_400, 86_400)))
        calls.append(Callback(
            callback_id=f"CB-{index}", subject="complaint", subject_id="K-1",
            due_from=due_from.astimezone(draw(_zones)), due_by=done + timedelta(days=2),
            done_at=done.astimezone(draw(_zones)), outcome=outcome))
    calls += [_callback(f"CB-x{i}", done_at=None) for i in range(draw(st.integers(0, 2)))]
    closed_at = None
    if draw(st.booleans()):
        closed_at = done + timedelta(seconds=draw(st.integers(0, 86_400)))
    complaint = _complaint(received_at=received, closed_at=closed_at)
    return complaint, draw(st.permutations(calls))


class TestReplayProperties:
    """Replay follows the loop for any callback history."""

    @FAST
    @given(_histories())
    def test_closes_only_after_solved_and_pushes_per_unsolved(
            self, history: tuple[Complaint, list[Callback]]) -> None:
        complaint, calls = history
        made = sorted((c for c in calls if c.done_at is not None),
                      key=lambda c: int(c.callback_id.removeprefix("CB-")))
        outcomes = [c.outcome for c in made]
        if CallbackOutcome.SOLVED in outcomes[:-1]:
            with pytest.raises(InvalidTransitionError, match="already confirmed it solved"):
                replay(complaint, calls)
            return
        case = replay(complaint, calls)
        pushes = sum(1 for e in case.events if e.kind is CaseEventKind.PUSHED_BACK)
        not_solved = sum(1 for o in outcomes if o is not CallbackOutcome.SOLVED)
        assert not_solved == pushes
        last_solved = bool(outcomes) and outcomes[-1] is CallbackOutcome.SOLVED
        if case.is_closed:
            assert last_solved
        assert (last_solved and complaint.closed_at is not None) == case.is_closed
        assert len(made) == case.callbacks_made
        assert case == ComplaintCase(complaint=complaint, state=case.state,
                                     events=case.events)
