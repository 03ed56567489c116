"""Tests of servicekpi.rules.followup: the follow-up plan, its windows, queries, reconcile."""

from __future__ import annotations

import bisect
import functools
import random
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import numpy as np
import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi.calendar import WorkCalendar, fit_windows, from_epoch, joint_intervals, to_epoch
from servicekpi.domain import Agent, Callback, Customer, Ticket
from servicekpi.exceptions import NaiveDatetimeError, UnknownKeyError
from servicekpi.kernel import MISSING
from servicekpi.policy import Cadence, FollowUpPolicy, Policy
from servicekpi.rules import followup
from servicekpi.rules.followup import (
    _RULES,
    RULE_IDS,
    CustomerEvent,
    FollowUp,
    FollowUpKind,
    FollowUpPlan,
    MaintenanceDue,
    ReconcileStatus,
    Reconciliation,
    StaffAvailability,
    cadence_dates,
    plan_followups,
    reconcile,
)
from servicekpi.tables import AgentTable, CallbackTable, CustomerTable, TicketTable

UTC = timezone.utc
DAY = timedelta(days=1)
SHANGHAI, MOSCOW, SAKHALIN = "Asia/Shanghai", "Europe/Moscow", "Asia/Sakhalin"
BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
POLICY = Policy.default()
MOSCOW_POLICY = POLICY.replace(calendar=WorkCalendar(tz=MOSCOW))
FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def _exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def _zone(name: str) -> tzinfo:
    zone = dateutil_tz.gettz(name)
    assert zone is not None
    return zone


def _at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0
        ) -> datetime:
    """An aware datetime in an IANA zone (a dateutil zone, as the library uses)."""
    return datetime(year, month, day, hour, minute, tzinfo=_zone(zone))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _ticket(ticket_id: str = "T-1", *, opened: datetime, customer: str = "C-1",
            agent: str = "A-1", resolved: datetime | None = None,
            closed: datetime | None = None) -> Ticket:
    return Ticket(ticket_id=ticket_id, agent_id=agent, customer_id=customer,
                  station_id="S1", service_type="repair", channel="phone",
                  opened_at=opened, resolved_at=resolved, closed_at=closed)


def _customer(customer_id: str = "C-1", *, zone: str = SHANGHAI, tier: str = "b",
              loyalty: str = "ordinary") -> Customer:
    return Customer(customer_id=customer_id, tier=tier, loyalty=loyalty, tz=zone)


def _agent(agent_id: str, *, role: str = "service_advisor",
           supervisor: str | None = None) -> Agent:
    return Agent(agent_id=agent_id, name="", role=role, team_id="TM1", station_id="S1",
                 supervisor_id=supervisor)


# A-1, A-2 report to SUP-1; A-3 has no supervisor; K-1, K-2 are follow-up clerks.
ROSTER = AgentTable.from_records([
    _agent("A-1", supervisor="SUP-1"), _agent("A-2", supervisor="SUP-1"), _agent("A-3"),
    _agent("K-1", role="followup_clerk"), _agent("K-2", role="followup_clerk"),
    _agent("SUP-1", role="service_manager")])


def _tickets(*items: Ticket) -> TicketTable:
    return TicketTable.from_records(items)


def _customers(*items: Customer) -> CustomerTable:
    return CustomerTable.from_records(items)


def _windows(plan: FollowUpPlan, rule: str, zone: str = SHANGHAI
             ) -> list[tuple[datetime, datetime]]:
    """The ``[earliest, latest)`` windows of one rule, as aware datetimes in *zone*."""
    part = plan.by_rule(rule)
    return [(from_epoch(int(s), zone), from_epoch(int(e), zone))
            for s, e in zip(part["earliest"], part["latest"], strict=True)]


def _customer_calendar(zone: str, policy: Policy = POLICY) -> WorkCalendar:
    return WorkCalendar(tz=zone, hours=[list(policy.followup.customer_hours)] * 6 + [()])


def _working_both(policy: Policy, zone: str, epochs: Sequence[int]) -> list[bool]:
    t = np.array(list(epochs), dtype=np.int64)
    both = policy.calendar.is_working(t) & _customer_calendar(zone, policy).is_working(t)
    return [bool(x) for x in both]


def _rows(plan: FollowUpPlan) -> list[tuple[str, str, str | None, int, int, str | None]]:
    """(rule, subject, customer, earliest, latest, assignee) of every row."""
    return [(RULE_IDS[int(plan["rule"][i])], str(plan["subject_id"][i]),
             None if plan["customer_id"][i] is None else str(plan["customer_id"][i]),
             int(plan["earliest"][i]), int(plan["latest"][i]),
             None if plan["assignee"][i] is None else str(plan["assignee"][i]))
            for i in range(len(plan))]


# --------------------------------------------------------------------------- a reference


@functools.lru_cache(maxsize=64)
def _joint(calendars: tuple[WorkCalendar, ...], year: int) -> list[tuple[int, int]]:
    starts, ends = joint_intervals(calendars, year - 1, year + 2)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _fit(earliest: datetime, latest: datetime, calendars: Sequence[WorkCalendar]
         ) -> tuple[int, int]:
    """The documented fitting, one window at a time over the joint intervals."""
    a, b = to_epoch(earliest), max(to_epoch(latest), to_epoch(earliest) + 1)
    pairs = _joint(tuple(calendars), earliest.astimezone(UTC).year)
    near = pairs[max(0, bisect.bisect_left(pairs, (a, a)) - 1):]  # skip what ends before a
    inside = []
    for s, e in near:
        if s >= b:
            break
        if max(s, a) < min(e, b):
            inside.append((max(s, a), min(e, b)))
    if inside:  # start forward to joint time, end back to joint time
        return inside[0][0], inside[-1][1]
    return next((s, e) for s, e in near if s >= a)  # the next joint interval


def _end_of_next_working_day(calendar: WorkCalendar, moment: datetime) -> datetime:
    """The end of the last working interval on the local date of the first working
    interval that ends after *moment* (the day the centre next works in)."""
    at = to_epoch(moment)
    pairs = _joint((calendar,), moment.astimezone(UTC).year)
    start = next(s for s, e in pairs if e > at)
    day = from_epoch(start, calendar.tz).date()
    return from_epoch(max(e for s, e in pairs
                          if from_epoch(s, calendar.tz).date() == day), calendar.tz)


def _expected_windows(tickets: Sequence[Ticket], customers: Sequence[Customer],
                      *, now: datetime, policy: Policy, horizon_days: int = 90,
                      callbacks: Sequence[Callback] = (), events: Sequence[CustomerEvent] = (),
                      maintenance: Sequence[MaintenanceDue] = (),
                      home_visits: frozenset[str] = frozenset()
                      ) -> Counter[tuple[str, str, str | None, int, int]]:
    """Every rule's nominal window from the policy numbers, fitted one by one.

    Who gets a home visit is the plan's (seeded) choice, passed in as *home_visits*.
    """
    follow, cal = policy.followup, policy.calendar
    by_id = {c.customer_id: c for c in customers}
    out: Counter[tuple[str, str, str | None, int, int]] = Counter()

    def add(rule: str, subject: str, customer: str | None, start: datetime,
            end: datetime) -> None:
        known = by_id.get(customer) if customer is not None else None
        zone = known.tz if known is not None else cal.tz
        s, e = _fit(start, end, [cal, _customer_calendar(zone, policy)])
        out[(rule, subject, customer if known is not None else None, s, e)] += 1

    # "days" are 86 400 s: the plan works in UTC epoch seconds, so do the same here
    # (aware datetimes in a DST zone would add wall-clock days)
    for t in tickets:
        opened = _utc(t.opened_at)
        add("customer-file", t.ticket_id, t.customer_id, opened,
            opened + follow.customer_file_days * DAY)
        hand_back = t.closed_at or t.resolved_at
        if hand_back is not None:
            first = _utc(hand_back) + follow.first_call_min_days * DAY
            add("first-call", t.ticket_id, t.customer_id, first,
                _utc(hand_back) + follow.first_call_max_days * DAY)
            second = first + follow.second_call_after_days * DAY
            add("second-call", t.ticket_id, t.customer_id, second,
                second + follow.second_call_window_days * DAY)
        if t.closed_at is not None:
            deadline = cal.end_of_working_day_at(
                cal.add_working_days_at(t.closed_at, follow.quality_call_working_days))
            add("quality-call", t.ticket_id, t.customer_id, t.closed_at, deadline)
    customer_of = {t.ticket_id: t.customer_id for t in tickets}
    unsolved: dict[str, list[datetime]] = {}
    for cb in callbacks:
        if cb.outcome is not None and cb.outcome.value == "unsolved" \
                and cb.subject.value == "ticket" and cb.done_at is not None:
            done = _utc(cb.done_at)
            add("report-unanswered", cb.subject_id, customer_of.get(cb.subject_id),
                done, done + follow.unanswered_report_days * DAY)
            unsolved.setdefault(cb.subject_id, []).append(done)
    for t in tickets:
        if t.resolved_at is not None and any(_utc(t.resolved_at) > done
                                             for done in unsolved.get(t.ticket_id, [])):
            solved = _utc(t.resolved_at)
            add("tell-solution", t.ticket_id, t.customer_id, solved,
                _end_of_next_working_day(cal, solved))
    now = _utc(now)
    until = now + horizon_days * DAY
    for c in customers:
        visits = [_utc(t.opened_at) for t in tickets if t.customer_id == c.customer_id]
        start = min(max(visits), now) if visits else now
        dtstart = start.astimezone(_zone(c.tz))
        rule = f"cadence-{c.tier.value}"
        for when in cadence_dates(follow.cadence[c.tier.value], dtstart, now, until):
            add(rule, c.customer_id, c.customer_id, _utc(when), _utc(when) + DAY)
        if c.loyalty.value == "lost":
            add("lost-customer", c.customer_id, c.customer_id, now, now + 7 * DAY)
        if c.customer_id in home_visits:
            add("home-visit", c.customer_id, c.customer_id, now, now + 30 * DAY)
    for event in events:
        at = _utc(event.at)
        for c in customers:
            if event.customers is not None and c.customer_id not in event.customers:
                continue
            before = at - follow.event_call_days_before * DAY
            if c.loyalty.value == "loyal":
                called = before - 3 * DAY
                add("event-call", event.event_id, c.customer_id, called, before)
            else:
                called = before
                add("event-call", event.event_id, c.customer_id, before, at - 7 * DAY)
            if event.letter:  # within two days of the phone notice
                add("event-letter", event.event_id, c.customer_id, called,
                    called + follow.event_letter_days_after * DAY)
    for item in maintenance:
        subject = item.subject_id or item.customer_id
        due = _utc(item.due)
        first = due - follow.maintenance_remind_days_before * DAY
        add("maintenance-reminder", subject, item.customer_id, first,
            max(due - 7 * DAY, first + timedelta(seconds=1)))
        add("maintenance-near", subject, item.customer_id,
            due - follow.maintenance_near_days_before * DAY, due)
    return out


def _actual_windows(plan: FollowUpPlan) -> Counter[tuple[str, str, str | None, int, int]]:
    return Counter((rule, subject, customer, s, e)
                   for rule, subject, customer, s, e, _ in _rows(plan))


# --------------------------------------------------------------------------- the rules

NOW = _at(SHANGHAI, 2026, 10, 1, 9)  # Thursday; before every hand-built window
FRIDAY_16 = _at(SHANGHAI, 2026, 10, 9, 16)  # Friday 9 October 2026, 16:00 in Shanghai


class TestTicketRules:
    """Each ticket rule's window follows the policy numbers, fitted into joint hours."""

    def test_quality_call_runs_to_the_end_of_the_third_working_day(self) -> None:
        """Delivered Friday 16:00: Monday, Tuesday, Wednesday are the 3 working days."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16 - 5 * timedelta(hours=1),
                                               closed=FRIDAY_16)),
                              _customers(_customer()), now=NOW)
        expected = [(FRIDAY_16, _at(SHANGHAI, 2026, 10, 14, 17, 30))]
        assert expected == _windows(plan, "quality-call")
        assert [FRIDAY_16] == [from_epoch(int(t), SHANGHAI)
                               for t in plan.by_rule("quality-call")["trigger"]]

    def test_quality_call_after_hours_starts_at_the_next_joint_opening(self) -> None:
        """Delivered Friday 19:00 (centre closed): Monday 09:00 (customer hours) .. Wednesday."""
        closed = _at(SHANGHAI, 2026, 10, 9, 19)
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=closed)),
                              _customers(_customer()), now=NOW)
        expected = [(_at(SHANGHAI, 2026, 10, 12, 9), _at(SHANGHAI, 2026, 10, 14, 17, 30))]
        assert expected == _windows(plan, "quality-call")

    def test_quality_call_counts_the_policys_working_days(self) -> None:
        """quality_call_working_days=1: the end of Monday."""
        policy = POLICY.replace(followup=FollowUpPolicy(quality_call_working_days=1))
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=FRIDAY_16)),
                              _customers(_customer()), now=NOW, policy=policy)
        expected = [(FRIDAY_16, _at(SHANGHAI, 2026, 10, 12, 17, 30))]
        assert expected == _windows(plan, "quality-call")

    def test_first_call_is_3_to_7_days_after_hand_back(self) -> None:
        """Hand-back Friday 16:00: Monday 16:00 .. Friday 16:00 (both joint working)."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=FRIDAY_16)),
                              _customers(_customer()), now=NOW)
        expected = [(_at(SHANGHAI, 2026, 10, 12, 16), _at(SHANGHAI, 2026, 10, 16, 16))]
        assert expected == _windows(plan, "first-call")
        assert [to_epoch(FRIDAY_16)] == plan.by_rule("first-call")["trigger"].tolist()

    def test_first_call_hands_back_at_resolution_when_not_closed(self) -> None:
        """Without ``closed_at`` the hand-back is ``resolved_at`` and no quality call is due."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, resolved=FRIDAY_16)),
                              _customers(_customer()), now=NOW)
        expected = [(_at(SHANGHAI, 2026, 10, 12, 16), _at(SHANGHAI, 2026, 10, 16, 16))]
        assert expected == _windows(plan, "first-call")
        assert [] == _windows(plan, "quality-call")

    def test_open_ticket_gets_only_its_customer_file(self) -> None:
        """Neither resolved nor closed: no calls yet."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16)),
                              _customers(_customer(tier="c")), now=NOW, horizon_days=30)
        assert {"customer-file": 1} == plan.counts()

    def test_first_call_window_end_moves_back_to_joint_time(self) -> None:
        """Hand-back Saturday 10:00: Tuesday 10:00 .. Friday 17:30 (not Saturday 10:00)."""
        saturday = _at(SHANGHAI, 2026, 10, 10, 10)
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=saturday)),
                              _customers(_customer()), now=NOW)
        expected = [(_at(SHANGHAI, 2026, 10, 13, 10), _at(SHANGHAI, 2026, 10, 16, 17, 30))]
        assert expected == _windows(plan, "first-call")

    def test_second_call_is_the_7_days_after_a_week_from_the_first(self) -> None:
        """First call from Monday 12 Oct 16:00: second call 19 Oct 16:00 .. 26 Oct 16:00."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=FRIDAY_16)),
                              _customers(_customer()), now=NOW)
        expected = [(_at(SHANGHAI, 2026, 10, 19, 16), _at(SHANGHAI, 2026, 10, 26, 16))]
        assert expected == _windows(plan, "second-call")

    def test_customer_file_within_2_days_of_the_visit(self) -> None:
        """Visit Monday 10:00: Monday 10:00 .. Wednesday 10:00."""
        monday = _at(SHANGHAI, 2026, 10, 12, 10)
        plan = plan_followups(_tickets(_ticket(opened=monday)), _customers(_customer()),
                              now=NOW)
        assert [(monday, monday + 2 * DAY)] == _windows(plan, "customer-file")
        assert ["A-1"] == plan.by_rule("customer-file")["assignee"].tolist()

    def test_customer_file_follows_the_policy_number(self) -> None:
        """customer_file_days=3: Monday 10:00 .. Thursday 10:00."""
        monday = _at(SHANGHAI, 2026, 10, 12, 10)
        policy = POLICY.replace(followup=FollowUpPolicy(customer_file_days=3))
        plan = plan_followups(_tickets(_ticket(opened=monday)), _customers(_customer()),
                              now=NOW, policy=policy)
        assert [(monday, monday + 3 * DAY)] == _windows(plan, "customer-file")

    def test_changed_call_numbers_move_the_windows(self) -> None:
        """first call 1..2 days, second call 3 days after it for 2 days."""
        policy = POLICY.replace(followup=FollowUpPolicy(
            first_call_min_days=1, first_call_max_days=2, second_call_after_days=3,
            second_call_window_days=2))
        monday = _at(SHANGHAI, 2026, 10, 12, 10)
        plan = plan_followups(_tickets(_ticket(opened=monday, closed=monday)),
                              _customers(_customer()), now=NOW, policy=policy)
        assert [(monday + DAY, monday + 2 * DAY)] == _windows(plan, "first-call")
        # 16 .. 18 Oct 10:00, but Saturday and Sunday have no hours: it ends Friday 17:30
        expected = [(monday + 4 * DAY, _at(SHANGHAI, 2026, 10, 16, 17, 30))]
        assert expected == _windows(plan, "second-call")

    def test_ticket_rules_go_to_the_tickets_agent(self) -> None:
        """customer file, first and second call: the ticket's agent."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=FRIDAY_16,
                                               agent="A-7")),
                              _customers(_customer()), now=NOW)
        for rule in ("customer-file", "first-call", "second-call"):
            assert ["A-7"] == plan.by_rule(rule)["assignee"].tolist()


class TestReportUnanswered:
    """An unsolved callback is reported to the caller's supervisor within 2 days."""

    DONE = _at(SHANGHAI, 2026, 10, 13, 11)  # Tuesday 11:00

    def _callback(self, outcome: str, *, callback_id: str = "CB-1", subject: str = "ticket",
                  agent: str | None = "A-1") -> Callback:
        return Callback(callback_id=callback_id, subject=subject, subject_id="T-1",
                        due_from=self.DONE - DAY, due_by=self.DONE + DAY, done_at=self.DONE,
                        outcome=outcome, agent_id=agent)

    def _plan(self, *callbacks: Callback) -> FollowUpPlan:
        agents = AgentTable.from_records([_agent("A-1", supervisor="SUP-1"),
                                          _agent("SUP-1", role="service_manager")])
        return plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=FRIDAY_16)),
                              _customers(_customer()), now=NOW, agents=agents,
                              callbacks=CallbackTable.from_records(callbacks))

    def test_unsolved_callback_is_reported_to_the_supervisor(self) -> None:
        """Tuesday 11:00 .. Thursday 11:00, to SUP-1, about the ticket."""
        plan = self._plan(self._callback("unsolved")).by_rule("report-unanswered")
        assert [(self.DONE, self.DONE + 2 * DAY)] == _windows(plan, "report-unanswered")
        assert ["SUP-1"] == plan["assignee"].tolist()
        assert ["T-1"] == plan["subject_id"].tolist()
        assert ["C-1"] == plan["customer_id"].tolist()
        assert [to_epoch(self.DONE)] == plan["trigger"].tolist()

    @pytest.mark.parametrize("outcome", ["solved", "unreachable"])
    def test_other_outcomes_need_no_report(self, outcome: str) -> None:
        """Only UNSOLVED triggers the report."""
        plan = self._plan(self._callback(outcome))
        assert 0 == len(plan.by_rule("report-unanswered"))

    def test_a_callback_not_yet_made_needs_no_report(self) -> None:
        """No ``done_at``: nothing to report."""
        pending = Callback(callback_id="CB-1", subject="ticket", subject_id="T-1",
                           due_from=self.DONE, due_by=self.DONE + DAY)
        assert 0 == len(self._plan(pending).by_rule("report-unanswered"))

    def test_unsolved_callback_without_tickets(self) -> None:
        """An empty ticket table: the report has no customer (centre's zone).

        Regression: at 4b1059f this raised IndexError (``cust_of_ticket`` was empty).
        """
        done = self.DONE
        callback = Callback(callback_id="CB-1", subject="ticket", subject_id="T-99",
                            due_from=done, due_by=done, done_at=done, outcome="unsolved",
                            agent_id="A-1")
        plan = plan_followups(_tickets(), _customers(_customer()), now=NOW, agents=ROSTER,
                              callbacks=CallbackTable.from_records([callback]))
        report = plan.by_rule("report-unanswered")
        assert [(done, done + 2 * DAY)] == _windows(report, "report-unanswered")
        assert (["SUP-1"], [None]) == (report["assignee"].tolist(),
                                       report["customer_id"].tolist())

    def test_unsolved_callback_on_an_unknown_ticket(self) -> None:
        """With other tickets present, an unknown ticket's report has no customer."""
        done = self.DONE
        callback = Callback(callback_id="CB-1", subject="ticket", subject_id="T-99",
                            due_from=done, due_by=done, done_at=done, outcome="unsolved",
                            agent_id="A-1")
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16)), _customers(_customer()),
                              now=NOW, agents=ROSTER,
                              callbacks=CallbackTable.from_records([callback]))
        report = plan.by_rule("report-unanswered")
        assert [(done, done + 2 * DAY)] == _windows(report, "report-unanswered")
        assert (["SUP-1"], [None], ["T-99"]) == (report["assignee"].tolist(),
                                                 report["customer_id"].tolist(),
                                                 report["subject_id"].tolist())

    def test_caller_without_supervisor_keeps_the_report(self) -> None:
        """No supervisor on the roster: the caller itself."""
        done = self.DONE
        callback = Callback(callback_id="CB-1", subject="ticket", subject_id="T-1",
                            due_from=done, due_by=done, done_at=done, outcome="unsolved",
                            agent_id="A-3")
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16)), _customers(_customer()),
                              now=NOW, agents=ROSTER,
                              callbacks=CallbackTable.from_records([callback]))
        assert ["A-3"] == plan.by_rule("report-unanswered")["assignee"].tolist()

    def test_each_unsolved_callback_is_reported(self) -> None:
        """Two unsolved callbacks: two reports."""
        plan = self._plan(self._callback("unsolved"),
                          self._callback("unsolved", callback_id="CB-2"))
        assert 2 == len(plan.by_rule("report-unanswered"))


class TestTellSolution:
    """A ticket resolved after an unsolved call: tell the customer the same working day."""

    CALLED = _at(SHANGHAI, 2026, 10, 13, 11)  # Tuesday 11:00: the question stays open

    def _plan(self, resolved: datetime | None, *outcomes: str, subject: str = "ticket",
              ticket_id: str = "T-1", zone: str = SHANGHAI,
              staff: StaffAvailability | None = None) -> FollowUpPlan:
        callbacks = CallbackTable.from_records(
            Callback(callback_id=f"CB-{i}", subject=subject, subject_id=ticket_id,
                     due_from=self.CALLED, due_by=self.CALLED,
                     done_at=self.CALLED + i * timedelta(hours=1), outcome=outcome,
                     agent_id="A-1")
            for i, outcome in enumerate(outcomes))
        return plan_followups(
            _tickets(_ticket(opened=FRIDAY_16, resolved=resolved, agent="A-2")),
            _customers(_customer(zone=zone)), now=NOW, agents=ROSTER, callbacks=callbacks,
            staff=staff).by_rule("tell-solution")

    @pytest.mark.parametrize(("resolved", "window"), [
        # in working time: from then to the end of that day
        ((2026, 10, 14, 15, 0), ((2026, 10, 14, 15, 0), (2026, 10, 14, 17, 30))),
        # at lunch (centre closed 12:00-13:30): the afternoon of the same day
        ((2026, 10, 14, 12, 30), ((2026, 10, 14, 13, 30), (2026, 10, 14, 17, 30))),
        # before the centre opens: that day (from 09:00, when the customer is reachable)
        ((2026, 10, 14, 7, 0), ((2026, 10, 14, 9, 0), (2026, 10, 14, 17, 30))),
        # after hours: the next working day
        ((2026, 10, 14, 19, 0), ((2026, 10, 15, 9, 0), (2026, 10, 15, 17, 30))),
        # Friday evening and Saturday: Monday
        ((2026, 10, 16, 18, 0), ((2026, 10, 19, 9, 0), (2026, 10, 19, 17, 30))),
        ((2026, 10, 17, 10, 0), ((2026, 10, 19, 9, 0), (2026, 10, 19, 17, 30))),
        # the last working second still counts as that day
        ((2026, 10, 14, 17, 29), ((2026, 10, 14, 17, 29), (2026, 10, 14, 17, 30))),
    ])
    def test_window_runs_to_the_end_of_the_working_day(
            self, resolved: tuple[int, int, int, int, int],
            window: tuple[tuple[int, int, int, int, int], tuple[int, int, int, int, int]]
            ) -> None:
        """From the resolution to the end of the centre's working day (joint hours)."""
        plan = self._plan(_at(SHANGHAI, *resolved), "unsolved")
        expected = [(_at(SHANGHAI, *window[0]), _at(SHANGHAI, *window[1]))]
        assert expected == _windows(plan, "tell-solution")
        assert [to_epoch(_at(SHANGHAI, *resolved))] == plan["trigger"].tolist()

    def test_to_the_customer_by_the_tickets_agent(self) -> None:
        """A call about the ticket, to its customer, by the ticket's agent (not the caller)."""
        contact = self._plan(_at(SHANGHAI, 2026, 10, 14, 15), "unsolved").contacts()
        assert [("tell-solution", "call", "ticket", "T-1", "C-1", "A-2")] == [
            (c.rule_id, c.kind.value, c.subject.value, c.subject_id, c.customer_id,
             c.assignee) for c in contact]

    @pytest.mark.parametrize("resolved", [None, (2026, 10, 13, 11, 0), (2026, 10, 13, 10, 0)])
    def test_only_when_resolved_after_the_call(
            self, resolved: tuple[int, int, int, int, int] | None) -> None:
        """Not resolved, resolved at the very moment of the call, or before it: nothing."""
        moment = None if resolved is None else _at(SHANGHAI, *resolved)
        assert 0 == len(self._plan(moment, "unsolved"))

    @pytest.mark.parametrize("outcome", ["solved", "unreachable"])
    def test_only_after_an_unsolved_call(self, outcome: str) -> None:
        """A solved or unreachable call needs no news."""
        assert 0 == len(self._plan(_at(SHANGHAI, 2026, 10, 14, 15), outcome))

    def test_once_per_ticket(self) -> None:
        """Two unsolved calls, one solution: one contact (a later solved call changes
        nothing)."""
        plan = self._plan(_at(SHANGHAI, 2026, 10, 14, 15), "unsolved", "unsolved", "solved")
        assert 1 == len(plan)

    def test_one_unsolved_call_before_the_resolution_is_enough(self) -> None:
        """Resolved at 11:30: the 11:00 call counts, the 12:00 one (after it) does not."""
        assert 1 == len(self._plan(_at(SHANGHAI, 2026, 10, 13, 11, 30), "unsolved",
                                   "unsolved"))

    def test_calls_about_other_things_or_unknown_tickets(self) -> None:
        """A complaint callback with the ticket's id, or a call on an unknown ticket."""
        resolved = _at(SHANGHAI, 2026, 10, 14, 15)
        assert 0 == len(self._plan(resolved, "unsolved", subject="complaint"))
        assert 0 == len(self._plan(resolved, "unsolved", ticket_id="T-99"))

    def test_fitted_into_the_customers_hours(self) -> None:
        """A Sakhalin customer (three hours ahead) is reachable until 17:00 Shanghai:
        resolved at 17:10, the next joint interval is the next morning."""
        plan = self._plan(_at(SHANGHAI, 2026, 10, 14, 17, 10), "unsolved", zone=SAKHALIN)
        # Sakhalin 09:00-12:00 and 13:30-20:00 are 06:00-09:00 and 10:30-17:00 Shanghai
        assert [(_at(SHANGHAI, 2026, 10, 15, 8, 30), _at(SHANGHAI, 2026, 10, 15, 9, 0))] == \
            _windows(plan, "tell-solution")

    def test_absent_agent_is_replaced(self) -> None:
        """The ticket's agent away: the designated substitute tells the customer."""
        resolved = _at(SHANGHAI, 2026, 10, 14, 15)
        staff = StaffAvailability(absences={"A-2": [(resolved - DAY, resolved + DAY)]},
                                  substitutes={"A-2": "A-3"})
        plan = self._plan(resolved, "unsolved", staff=staff)
        assert (["A-3"], ["A-2"]) == (plan["assignee"].tolist(),
                                      plan["substitute_for"].tolist())


class TestEventsAndMaintenance:
    """Event calls 14 days before (loyal 3 days earlier), letters after, maintenance."""

    EVENT = _at(SHANGHAI, 2026, 11, 25, 10)  # Wednesday

    def _plan(self, event: CustomerEvent, *customers: Customer) -> FollowUpPlan:
        return plan_followups(_tickets(), _customers(*customers), now=NOW, events=[event],
                              policy=POLICY.replace(
                                  followup=FollowUpPolicy(home_visit_share=0.0)),
                              horizon_days=1)

    def test_event_call_two_weeks_ahead_and_loyal_customers_first(self) -> None:
        """Ordinary: 11 .. 18 Nov 10:00; loyal: from 8 Nov (Sunday, so Monday 09:00)."""
        plan = self._plan(CustomerEvent(event_id="E-1", at=self.EVENT),
                          _customer("C-1"), _customer("C-2", loyalty="loyal"))
        calls = {c.customer_id: (c.earliest, c.latest) for c in plan.contacts()
                 if c.rule_id == "event-call"}
        assert (self.EVENT - 14 * DAY, self.EVENT - 7 * DAY) == calls["C-1"]
        assert _at(SHANGHAI, 2026, 11, 9, 9) == calls["C-2"][0]
        assert calls["C-2"][0] < calls["C-1"][0]
        assert 0 == len(plan.by_rule("event-letter"))
        assert {"E-1"} == set(plan["subject_id"].tolist())

    def test_letter_follows_within_2_days_when_asked(self) -> None:
        """letter=True: within two days of the phone notice (然后于两日内), for every
        invited customer: ordinary from 11 Nov 10:00, loyal from 8 Nov (a Sunday, so
        Monday 9 Nov 09:00) to 10 Nov 10:00."""
        plan = self._plan(CustomerEvent(event_id="E-1", at=self.EVENT, letter=True),
                          _customer("C-1"), _customer("C-2", loyalty="loyal"))
        letters = {c.customer_id: (c.earliest, c.latest) for c in plan.contacts()
                   if c.rule_id == "event-letter"}
        assert (self.EVENT - 14 * DAY, self.EVENT - 12 * DAY) == letters["C-1"]
        assert (_at(SHANGHAI, 2026, 11, 9, 9), _at(SHANGHAI, 2026, 11, 10, 10)) == \
            letters["C-2"]

    def test_only_invited_customers_are_called(self) -> None:
        """``customers`` restricts the invitation."""
        plan = self._plan(CustomerEvent(event_id="E-1", at=self.EVENT, customers=("C-2",)),
                          _customer("C-1"), _customer("C-2"))
        assert ["C-2"] == plan.by_rule("event-call")["customer_id"].tolist()

    def test_maintenance_reminders_14_and_2_days_before(self) -> None:
        """Due Wednesday 25 Nov 10:00: 11 .. 18 Nov, then 23 .. 25 Nov."""
        due = self.EVENT
        plan = plan_followups(_tickets(), _customers(_customer()), now=NOW, horizon_days=1,
                              maintenance=[MaintenanceDue(customer_id="C-1", due=due,
                                                          subject_id="V-1")])
        assert [(due - 14 * DAY, due - 7 * DAY)] == _windows(plan, "maintenance-reminder")
        assert [(due - 2 * DAY, due)] == _windows(plan, "maintenance-near")
        assert ["V-1", "V-1"] == plan.by_rule("maintenance-reminder")["subject_id"].tolist() \
            + plan.by_rule("maintenance-near")["subject_id"].tolist()

    def test_maintenance_subject_defaults_to_the_customer(self) -> None:
        """No subject id: the customer id."""
        plan = plan_followups(_tickets(), _customers(_customer()), now=NOW, horizon_days=1,
                              maintenance=[MaintenanceDue(customer_id="C-1", due=self.EVENT)])
        assert ["C-1"] == plan.by_rule("maintenance-near")["subject_id"].tolist()


class TestCustomerRules:
    """Lost customers, home visits and the ABC cadence."""

    def test_lost_customers_get_a_call_within_a_week(self) -> None:
        """now Monday 10:00: until next Monday 10:00; only the LOST customer."""
        now = _at(SHANGHAI, 2026, 10, 12, 10)
        plan = plan_followups(_tickets(), _customers(_customer("C-1", loyalty="lost"),
                                                     _customer("C-2")), now=now)
        assert [(now, now + 7 * DAY)] == _windows(plan, "lost-customer")
        assert ["C-1"] == plan.by_rule("lost-customer")["subject_id"].tolist()

    def test_home_visit_share_is_reproducible_and_near_the_policy(self) -> None:
        """2 000 customers: about 5 % chosen, the same ones every time."""
        customers = _customers(*(_customer(f"C-{i}", tier="c") for i in range(2000)))
        now = _at(SHANGHAI, 2026, 10, 12, 10)
        first = plan_followups(_tickets(), customers, now=now, horizon_days=1)
        again = plan_followups(_tickets(), customers, now=now, horizon_days=1)
        chosen = first.by_rule("home-visit")["subject_id"].tolist()
        assert chosen == again.by_rule("home-visit")["subject_id"].tolist()
        assert abs(len(chosen) / 2000 - POLICY.followup.home_visit_share) < 0.015
        assert {(now, now + 30 * DAY)} == set(_windows(first, "home-visit"))

    @pytest.mark.parametrize(("share", "expected"), [(0.0, 0), (1.0, 50)])
    def test_home_visit_share_bounds(self, share: float, expected: int) -> None:
        """Share 0: nobody; share 1: everybody."""
        policy = POLICY.replace(followup=FollowUpPolicy(home_visit_share=share))
        customers = _customers(*(_customer(f"C-{i}", tier="c") for i in range(50)))
        plan = plan_followups(_tickets(), customers, now=NOW, policy=policy, horizon_days=1)
        assert expected == len(plan.by_rule("home-visit"))

    @pytest.mark.parametrize(("tier", "horizon", "dates"), [
        ("a", 22, [(2026, 10, 7), (2026, 10, 14), (2026, 10, 21)]),
        ("b", 100, [(2026, 10, 30), (2026, 11, 30), (2026, 12, 30)]),
        ("c", 400, [(2027, 3, 30), (2027, 9, 30)])])
    def test_cadence_a_weekly_b_monthly_c_half_yearly(
            self, tier: str, horizon: int, dates: list[tuple[int, int, int]]) -> None:
        """From the last visit (Wednesday 30 Sept 10:00), strictly after now, = rrule."""
        visit = _at(SHANGHAI, 2026, 9, 30, 10)
        now = _at(SHANGHAI, 2026, 10, 1, 9)
        plan = plan_followups(_tickets(_ticket(opened=visit)),
                              _customers(_customer(tier=tier)), now=now, horizon_days=horizon)
        expected = [_at(SHANGHAI, *day, 10) for day in dates]
        triggers = [from_epoch(int(t), SHANGHAI)
                    for t in plan.by_rule(f"cadence-{tier}")["trigger"]]
        assert expected == triggers
        cadence = POLICY.followup.cadence[tier]
        assert expected == cadence_dates(cadence, visit, now, now + horizon * DAY)
        # window: that day (working days here, so it starts at the occurrence)
        assert [t for t in expected] == [s for s, _ in _windows(plan, f"cadence-{tier}")]
        assert all(e <= t + DAY for (_, e), t in
                   zip(_windows(plan, f"cadence-{tier}"), expected, strict=True))

    def test_cadence_starts_from_now_for_unseen_customers(self) -> None:
        """No ticket: dtstart is ``now``; occurrences come strictly after it."""
        now = _at(SHANGHAI, 2026, 10, 12, 10)
        plan = plan_followups(_tickets(), _customers(_customer(tier="a")), now=now,
                              horizon_days=21)
        expected = [now + 7 * DAY, now + 14 * DAY, now + 21 * DAY]
        assert expected == [from_epoch(int(t), SHANGHAI)
                            for t in plan.by_rule("cadence-a")["trigger"]]
        windows = _windows(plan, "cadence-a")
        assert expected == [s for s, _ in windows]
        assert all(s < e <= s + DAY for s, e in windows)

    def test_cadence_follows_the_policy(self) -> None:
        """Tier B every 2 weeks."""
        policy = POLICY.replace(followup=FollowUpPolicy(
            cadence={"a": Cadence(freq="weekly"), "b": Cadence(freq="weekly", interval=2),
                     "c": Cadence(freq="yearly")}))
        now = _at(SHANGHAI, 2026, 10, 12, 10)
        plan = plan_followups(_tickets(), _customers(_customer()), now=now, policy=policy,
                              horizon_days=42)
        assert [now + 14 * DAY, now + 28 * DAY, now + 42 * DAY] == [
            from_epoch(int(t), SHANGHAI) for t in plan.by_rule("cadence-b")["trigger"]]

    def test_clerk_rules_go_to_followup_clerks_by_customer(self) -> None:
        """Quality, cadence, lost, home-visit and event contacts: one clerk per customer."""
        agents = AgentTable.from_records([_agent("K-1", role="followup_clerk"),
                                          _agent("K-2", role="followup_clerk"),
                                          _agent("A-1")])
        customers = [_customer(f"C-{i}", tier="a", loyalty="lost") for i in range(40)]
        tickets = [_ticket(f"T-{i}", customer=f"C-{i}", opened=FRIDAY_16, closed=FRIDAY_16)
                   for i in range(40)]
        plan = plan_followups(_tickets(*tickets), _customers(*customers), now=NOW,
                              agents=agents, horizon_days=30,
                              events=[CustomerEvent(event_id="E-1", at=FRIDAY_16 + 30 * DAY)])
        clerk_rules = {"quality-call", "cadence-a", "lost-customer", "home-visit",
                       "event-call"}
        by_customer: dict[str, set[str]] = {}
        for contact in plan.contacts():
            if contact.rule_id in clerk_rules:
                assert contact.customer_id is not None and contact.assignee is not None
                by_customer.setdefault(contact.customer_id, set()).add(contact.assignee)
        assert 40 == len(by_customer)
        assert all(1 == len(who) for who in by_customer.values())
        assert {"K-1", "K-2"} == set().union(*by_customer.values())

    def test_clerk_of_a_customer_does_not_depend_on_the_other_customers(self) -> None:
        """A stable hash of the customer id: alone or among 40, the same clerk."""
        agents = AgentTable.from_records([_agent(f"K-{i}", role="followup_clerk")
                                          for i in range(3)])

        def clerks(customers: list[Customer]) -> dict[str, str]:
            plan = plan_followups(_tickets(), _customers(*customers), now=NOW,
                                  agents=agents, horizon_days=10)
            part = plan.by_rule("cadence-a")
            return {str(c): str(a) for c, a in zip(part["customer_id"], part["assignee"],
                                                    strict=True)}

        many = clerks([_customer(f"C-{i}", tier="a") for i in range(40)])
        assert {"K-0", "K-1", "K-2"} == set(many.values())
        for i in (0, 7, 39):
            assert {f"C-{i}": many[f"C-{i}"]} == clerks([_customer(f"C-{i}", tier="a")])

    def test_clerk_rules_without_a_roster_are_unassigned(self) -> None:
        """No AgentTable: nobody to balance over."""
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16, closed=FRIDAY_16)),
                              _customers(_customer(loyalty="lost")), now=NOW)
        assert [None] == plan.by_rule("lost-customer")["assignee"].tolist()
        assert [None] == plan.by_rule("quality-call")["assignee"].tolist()


class TestCadenceDates:
    """``cadence_dates``: dateutil rrule occurrences in ``(after, until]``."""

    START = _at(NEW_YORK, 2026, 2, 22, 10)  # a Sunday, 10:00 EST

    def test_bounds_exclude_after_and_include_until(self) -> None:
        """An occurrence at ``after`` is left out, one at ``until`` kept."""
        weekly = Cadence(freq="weekly")
        dates = cadence_dates(weekly, self.START, self.START, self.START + 14 * DAY)
        assert [self.START + 7 * DAY, self.START + 14 * DAY] == dates

    def test_local_wall_time_is_kept_across_dst(self) -> None:
        """10:00 New York on 1, 8 and 15 March: 15:00 UTC (EST), then 14:00 UTC (EDT)."""
        dates = cadence_dates(Cadence(freq="weekly"), self.START, self.START,
                              self.START + 21 * DAY)
        assert [15, 14, 14] == [_utc(d).hour for d in dates]
        assert {10} == {d.hour for d in dates}

    def test_nonexistent_wall_time_moves_forward_by_the_gap(self) -> None:
        """02:30 on 8 March does not exist in New York: 03:30 EDT."""
        start = _at(NEW_YORK, 2026, 3, 1, 2, 30)
        dates = cadence_dates(Cadence(freq="weekly"), start, start, start + 8 * DAY)
        assert [datetime(2026, 3, 8, 7, 30, tzinfo=UTC)] == [_utc(d) for d in dates]

    def test_monthly_skips_months_without_the_day(self) -> None:
        """From 31 January: 31 March and 31 May (rrule semantics)."""
        start = _at(SHANGHAI, 2026, 1, 31, 10)
        dates = cadence_dates(Cadence(freq="monthly"), start, start,
                              _at(SHANGHAI, 2026, 6, 1))
        assert [_at(SHANGHAI, 2026, 3, 31, 10), _at(SHANGHAI, 2026, 5, 31, 10)] == dates

    def test_interval(self) -> None:
        """Every 6 months."""
        start = _at(SHANGHAI, 2026, 1, 15, 10)
        dates = cadence_dates(Cadence(freq="monthly", interval=6), start, start,
                              _at(SHANGHAI, 2027, 12, 31))
        assert [_at(SHANGHAI, 2026, 7, 15, 10), _at(SHANGHAI, 2027, 1, 15, 10),
                _at(SHANGHAI, 2027, 7, 15, 10)] == dates

    @pytest.mark.parametrize("side", ["after", "until"])
    def test_bounds_are_instants_in_a_repeated_hour(self, side: str) -> None:
        """The same instants as bounds give the same dates, whatever their zone."""
        start = _at(NEW_YORK, 2026, 10, 25, 1, 30)  # EDT; weekly: 1 Nov 01:30 EDT (05:30Z)
        second_pass = datetime(2026, 11, 1, 1, 15, tzinfo=_zone(NEW_YORK), fold=1)
        assert datetime(2026, 11, 1, 6, 15, tzinfo=UTC) == _utc(second_pass)
        weekly = Cadence(freq="weekly")
        if side == "after":  # 05:30Z is before 06:15Z: nothing in (06:15Z, 06:15Z + 3 days]
            expected: list[datetime] = []
            bounds = (second_pass, _utc(second_pass) + 3 * DAY)
        else:  # 05:30Z is in (30 Oct, 06:15Z]
            expected = [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]
            bounds = (_at(NEW_YORK, 2026, 10, 30), second_pass)
        as_utc = cadence_dates(weekly, start, _utc(bounds[0]), _utc(bounds[1]))
        assert expected == [_utc(d) for d in as_utc]
        assert expected == [_utc(d) for d in cadence_dates(weekly, start, *bounds)]


class TestTimeZones:
    """Windows lie in the centre's hours and in the customer's local hours."""

    MONDAY_13 = _at(MOSCOW, 2026, 10, 12, 13)  # = 21:00 in Sakhalin

    def test_sakhalin_customer_of_a_moscow_centre_is_called_in_the_morning(self) -> None:
        """Moscow 08:30-12:00 is Sakhalin 16:30-20:00: the only joint hours."""
        plan = plan_followups(_tickets(_ticket(opened=self.MONDAY_13, closed=self.MONDAY_13)),
                              _customers(_customer(zone=SAKHALIN)), now=self.MONDAY_13,
                              policy=MOSCOW_POLICY, horizon_days=1)
        expected = {
            "customer-file": (_at(MOSCOW, 2026, 10, 13, 8, 30), _at(MOSCOW, 2026, 10, 14, 12)),
            "quality-call": (_at(MOSCOW, 2026, 10, 13, 8, 30), _at(MOSCOW, 2026, 10, 15, 12)),
            "first-call": (_at(MOSCOW, 2026, 10, 16, 8, 30), _at(MOSCOW, 2026, 10, 19, 12)),
        }
        for rule, window in expected.items():
            assert [window] == _windows(plan, rule, MOSCOW)
        assert _at(SAKHALIN, 2026, 10, 16, 16, 30) == \
            from_epoch(int(plan.by_rule("first-call")["earliest"][0]), SAKHALIN)
        assert all(_working_both(MOSCOW_POLICY, SAKHALIN, plan["earliest"].tolist()))
        assert all(_working_both(MOSCOW_POLICY, SAKHALIN, (plan["latest"] - 1).tolist()))

    def test_no_overlap_on_the_day_moves_to_the_next_days_overlap(self) -> None:
        """A 0-day customer file at Monday 13:00 Moscow: Tuesday 08:30-12:00 Moscow."""
        policy = MOSCOW_POLICY.replace(followup=FollowUpPolicy(customer_file_days=0))
        plan = plan_followups(_tickets(_ticket(opened=self.MONDAY_13)),
                              _customers(_customer(zone=SAKHALIN)), now=self.MONDAY_13,
                              policy=policy, horizon_days=1)
        expected = [(_at(MOSCOW, 2026, 10, 13, 8, 30), _at(MOSCOW, 2026, 10, 13, 12))]
        assert expected == _windows(plan, "customer-file", MOSCOW)

    def test_friday_afternoon_moves_past_the_weekend(self) -> None:
        """Friday 13:00 Moscow (Sakhalin 21:00), the customer's Saturday is no centre day."""
        friday = _at(MOSCOW, 2026, 10, 16, 13)
        policy = MOSCOW_POLICY.replace(followup=FollowUpPolicy(customer_file_days=0))
        plan = plan_followups(_tickets(_ticket(opened=friday)),
                              _customers(_customer(zone=SAKHALIN)), now=friday,
                              policy=policy, horizon_days=1)
        expected = [(_at(MOSCOW, 2026, 10, 19, 8, 30), _at(MOSCOW, 2026, 10, 19, 12))]
        assert expected == _windows(plan, "customer-file", MOSCOW)

    def test_unknown_customer_is_planned_in_the_centres_zone(self) -> None:
        """A ticket of a customer not in the table: the centre's hours only (13:30 ok)."""
        policy = MOSCOW_POLICY.replace(followup=FollowUpPolicy(customer_file_days=0))
        plan = plan_followups(_tickets(_ticket(opened=self.MONDAY_13, customer="C-404")),
                              _customers(_customer(zone=SAKHALIN)), now=self.MONDAY_13,
                              policy=policy, horizon_days=1)
        expected = [(_at(MOSCOW, 2026, 10, 12, 13, 30), _at(MOSCOW, 2026, 10, 12, 17, 30))]
        assert expected == _windows(plan, "customer-file", MOSCOW)
        assert [None] == plan.by_rule("customer-file")["customer_id"].tolist()

    @pytest.mark.parametrize(("opened", "start"), [
        # Berlin on CET (UTC+1): 09:00 Berlin is 16:00 Shanghai
        ((2026, 3, 26, 10), (2026, 3, 26, 16)),
        # after the spring change (29 March) CEST (UTC+2): 09:00 Berlin is 15:00 Shanghai
        ((2026, 3, 30, 10), (2026, 3, 30, 15)),
        ((2026, 10, 22, 10), (2026, 10, 22, 15)),
        # after the autumn change (25 October) CET again
        ((2026, 10, 26, 10), (2026, 10, 26, 16)),
    ])
    def test_berlin_customer_across_dst(self, opened: tuple[int, int, int, int],
                                        start: tuple[int, int, int, int]) -> None:
        """The joint hours follow Berlin's offset: from 09:00 Berlin to 17:30 Shanghai."""
        visit = _at(SHANGHAI, *opened)
        policy = POLICY.replace(followup=FollowUpPolicy(customer_file_days=0))
        plan = plan_followups(_tickets(_ticket(opened=visit)),
                              _customers(_customer(zone=BERLIN)), now=visit, policy=policy,
                              horizon_days=1)
        day = _at(SHANGHAI, *start)
        assert [(day, day.replace(hour=17, minute=30))] == _windows(plan, "customer-file")
        assert _at(BERLIN, *start[:3], 9) == from_epoch(to_epoch(day), BERLIN)

    @pytest.mark.parametrize(("day", "start"), [
        ((2026, 10, 30), (2026, 10, 30, 16)),  # EDT: 09:00 New York = 16:00 Moscow
        ((2026, 11, 2), (2026, 11, 2, 17)),  # EST after 1 November: 17:00 Moscow
        ((2026, 3, 6), (2026, 3, 6, 17)),  # EST
        ((2026, 3, 9), (2026, 3, 9, 16)),  # EDT after 8 March
    ])
    def test_new_york_customer_of_a_moscow_centre_across_dst(
            self, day: tuple[int, int, int], start: tuple[int, int, int, int]) -> None:
        """Joint hours: 09:00 New York .. 17:30 Moscow, whatever New York's offset."""
        visit = _at(MOSCOW, *day, 9)
        policy = MOSCOW_POLICY.replace(followup=FollowUpPolicy(customer_file_days=0))
        plan = plan_followups(_tickets(_ticket(opened=visit)),
                              _customers(_customer(zone=NEW_YORK)), now=visit,
                              policy=policy, horizon_days=1)
        begin = _at(MOSCOW, *start)
        assert [(begin, begin.replace(hour=17, minute=30))] == \
            _windows(plan, "customer-file", MOSCOW)

    @pytest.mark.parametrize(("zone", "visit", "horizon"), [
        (NEW_YORK, (2026, 2, 22, 2, 30), 30),  # 8 March 02:30 does not exist
        (NEW_YORK, (2026, 10, 25, 1, 30), 14),  # 1 November 01:30 happens twice
        (BERLIN, (2026, 3, 1, 2, 30), 40),  # 29 March 02:30 does not exist
        (BERLIN, (2026, 10, 18, 2, 30), 14),  # 25 October 02:30 happens twice
    ])
    def test_cadence_keeps_local_wall_time_across_dst_like_rrule(
            self, zone: str, visit: tuple[int, int, int, int, int], horizon: int) -> None:
        """Weekly cadence of a DST-zone customer equals ``cadence_dates`` (dateutil)."""
        opened = _at(zone, *visit)
        now = opened + timedelta(hours=1)
        plan = plan_followups(_tickets(_ticket(opened=opened)),
                              _customers(_customer(zone=zone, tier="a")), now=now,
                              horizon_days=horizon)
        expected = [to_epoch(d) for d in
                    cadence_dates(Cadence(freq="weekly"), opened, now, now + horizon * DAY)]
        assert expected == plan.by_rule("cadence-a")["trigger"].tolist()
        assert 2 <= len(expected)

    def test_windows_are_working_time_in_both_zones_across_dst(self) -> None:
        """Every rule, Berlin and New York customers, the weeks around the changes."""
        customers = [_customer("C-B", zone=BERLIN, tier="a", loyalty="lost"),
                     _customer("C-N", zone=NEW_YORK, tier="a", loyalty="loyal")]
        for now in (_at(MOSCOW, 2026, 3, 3, 9), _at(MOSCOW, 2026, 10, 20, 9)):
            tickets = [_ticket(f"T-{i}", customer=c.customer_id,
                               opened=now + i * timedelta(hours=7),
                               closed=now + i * timedelta(hours=29))
                       for i, c in enumerate(customers * 4)]
            plan = plan_followups(
                _tickets(*tickets), _customers(*customers), now=now, policy=MOSCOW_POLICY,
                horizon_days=30,
                events=[CustomerEvent(event_id="E", at=now + 20 * DAY, letter=True)],
                maintenance=[MaintenanceDue(customer_id="C-B", due=now + 21 * DAY)])
            zones = {"C-B": BERLIN, "C-N": NEW_YORK}
            for contact in plan.contacts():
                assert contact.customer_id is not None
                zone = zones[contact.customer_id]
                moments = [to_epoch(contact.earliest), to_epoch(contact.latest) - 1]
                assert [True, True] == _working_both(MOSCOW_POLICY, zone, moments), contact


# --------------------------------------------------------------------------- assignment

MONDAY_10 = _at(SHANGHAI, 2026, 10, 12, 10)


def _two_ticket_plan(staff: StaffAvailability | None) -> FollowUpPlan:
    """T-1 (A-1) opened Monday 10:00, T-2 (A-1) a week later; customer files only."""
    return plan_followups(
        _tickets(_ticket("T-1", opened=MONDAY_10), _ticket("T-2", opened=MONDAY_10 + 7 * DAY)),
        _customers(_customer(tier="c")), now=NOW, staff=staff, horizon_days=1,
        policy=POLICY.replace(followup=FollowUpPolicy(home_visit_share=0.0)))


class TestSubstitutes:
    """An assignee absent at the window start is replaced by the designated substitute."""

    ABSENT = (MONDAY_10 - DAY, MONDAY_10 + DAY)

    def test_absent_agent_is_replaced_and_recorded(self) -> None:
        """T-1 falls in A-1's absence: A-2 stands in; T-2 stays with A-1."""
        plan = _two_ticket_plan(StaffAvailability(absences={"A-1": [self.ABSENT]},
                                                  substitutes={"A-1": "A-2"}))
        rows = {c.subject_id: (c.assignee, c.substitute_for) for c in plan.contacts()}
        assert {"T-1": ("A-2", "A-1"), "T-2": ("A-1", None)} == rows

    def test_without_a_designated_substitute_it_stays(self) -> None:
        """Absent but nobody designated: still A-1, no stand-in recorded."""
        plan = _two_ticket_plan(StaffAvailability(absences={"A-1": [self.ABSENT]}))
        assert ["A-1", "A-1"] == plan["assignee"].tolist()
        assert [None, None] == plan["substitute_for"].tolist()

    def test_absence_is_half_open(self) -> None:
        """An absence that ends exactly at the window start does not cover it."""
        staff = StaffAvailability(absences={"A-1": [(MONDAY_10 - DAY, MONDAY_10)]},
                                  substitutes={"A-1": "A-2"})
        assert ["A-1", "A-1"] == _two_ticket_plan(staff)["assignee"].tolist()
        staff = StaffAvailability(absences={"A-1": [(MONDAY_10, MONDAY_10 + DAY)]},
                                  substitutes={"A-1": "A-2"})
        assert ["A-2", "A-1"] == _two_ticket_plan(staff)["assignee"].tolist()

    def test_absence_is_judged_at_the_fitted_window_start(self) -> None:
        """Visit Sunday 10:00: the window starts Monday 09:00, inside a Monday absence."""
        sunday = _at(SHANGHAI, 2026, 10, 11, 10)
        staff = StaffAvailability(absences={"A-1": [(_at(SHANGHAI, 2026, 10, 12, 8),
                                                     _at(SHANGHAI, 2026, 10, 12, 18))]},
                                  substitutes={"A-1": "A-2"})
        plan = plan_followups(_tickets(_ticket(opened=sunday)), _customers(_customer()),
                              now=NOW, staff=staff, horizon_days=1)
        assert ["A-2"] == plan.by_rule("customer-file")["assignee"].tolist()

    def test_several_absences_and_other_agents(self) -> None:
        """Two absence periods of A-1; an absence of an agent with no contacts is harmless."""
        staff = StaffAvailability(
            absences={"A-1": [self.ABSENT, (MONDAY_10 + 6 * DAY, MONDAY_10 + 8 * DAY)],
                      "A-9": [self.ABSENT]},
            substitutes={"A-1": "A-2", "A-9": "A-3"})
        plan = _two_ticket_plan(staff)
        assert ["A-2", "A-2"] == plan["assignee"].tolist()
        assert ["A-1", "A-1"] == plan["substitute_for"].tolist()

    def test_for_agent_includes_stand_ins(self) -> None:
        """The substitute sees the contact; the absent agent keeps only its own."""
        plan = _two_ticket_plan(StaffAvailability(absences={"A-1": [self.ABSENT]},
                                                  substitutes={"A-1": "A-2"}))
        assert ["T-1"] == plan.for_agent("A-2")["subject_id"].tolist()
        assert ["T-2"] == plan.for_agent("A-1")["subject_id"].tolist()
        assert 0 == len(plan.for_agent("A-404"))

    def test_naive_absence_is_rejected(self) -> None:
        """Absence periods must be aware."""
        naive = datetime(2026, 10, 11)
        staff = StaffAvailability(absences={"A-1": [(naive, naive + DAY)]},
                                  substitutes={"A-1": "A-2"})
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'absence start' must be a timezone-aware datetime (got {naive!r})")):
            _two_ticket_plan(staff)

    def test_report_goes_to_the_callers_supervisor_or_stand_in(self) -> None:
        """The supervisor absent: the report goes to the supervisor's substitute."""
        done = _at(SHANGHAI, 2026, 10, 13, 11)
        callback = Callback(callback_id="CB-1", subject="ticket", subject_id="T-1",
                            due_from=done, due_by=done, done_at=done, outcome="unsolved",
                            agent_id="A-1")
        agents = AgentTable.from_records([_agent("A-1", supervisor="SUP-1"),
                                          _agent("SUP-1", role="service_manager")])
        staff = StaffAvailability(absences={"SUP-1": [(done - DAY, done + DAY)]},
                                  substitutes={"SUP-1": "SUP-2"})
        plan = plan_followups(_tickets(_ticket(opened=FRIDAY_16)), _customers(_customer()),
                              now=NOW, agents=agents, staff=staff,
                              callbacks=CallbackTable.from_records([callback]))
        report = plan.by_rule("report-unanswered")
        assert (["SUP-2"], ["SUP-1"]) == (report["assignee"].tolist(),
                                          report["substitute_for"].tolist())


# --------------------------------------------------------------------------- queries


def _query_plan() -> FollowUpPlan:
    """A ticket closed long before now (overdue contacts) and one after it."""
    old = _at(SHANGHAI, 2026, 9, 1, 10)  # Tuesday
    new = MONDAY_10
    return plan_followups(
        _tickets(_ticket("T-OLD", opened=old, closed=old, agent="A-1"),
                 _ticket("T-NEW", opened=new, closed=new, agent="A-2")),
        _customers(_customer(tier="c")), now=_at(SHANGHAI, 2026, 10, 12, 9),
        horizon_days=1, policy=POLICY.replace(followup=FollowUpPolicy(home_visit_share=0.0)))


class TestQueries:
    """due_between, overdue, for_agent, by_rule, contacts and counts."""

    def test_plan_is_sorted_by_window_start(self) -> None:
        """Rows come in order of ``earliest``."""
        plan = _query_plan()
        earliest = plan["earliest"].tolist()
        assert sorted(earliest) == earliest
        assert 8 == len(plan)

    def test_overdue_contacts_stay_in_the_plan_and_are_marked(self) -> None:
        """T-OLD's four windows all closed before now; T-NEW's did not."""
        plan = _query_plan()
        overdue = plan.overdue()
        assert ["T-OLD"] * 4 == overdue["subject_id"].tolist()
        marked = [c.subject_id for c in plan.contacts() if c.overdue]
        assert ["T-OLD"] * 4 == marked
        assert all(c.latest <= _at(SHANGHAI, 2026, 10, 12, 9) for c in overdue.contacts())

    def test_overdue_at_a_later_moment(self) -> None:
        """On 1 December every window has closed."""
        plan = _query_plan()
        assert len(plan) == len(plan.overdue(_at(SHANGHAI, 2026, 12, 1, 0)))
        assert 0 == len(plan.overdue(_at(SHANGHAI, 2026, 9, 1, 0)))

    def test_overdue_is_closed_at_or_before_now(self) -> None:
        """A window ending exactly at ``now`` is overdue."""
        plan = _query_plan()
        end = plan.by_rule("first-call").contacts()[-1].latest
        calls = plan.by_rule("first-call")  # T-OLD's closed long ago, T-NEW's at ``end``
        assert ["T-OLD", "T-NEW"] == calls.overdue(end)["subject_id"].tolist()
        assert ["T-OLD"] == calls.overdue(end - timedelta(seconds=1))["subject_id"].tolist()

    def test_due_between_is_window_overlap(self) -> None:
        """Half-open windows overlapping ``[start, end)``."""
        plan = _query_plan()
        first = plan.by_rule("first-call").contacts()[-1]  # T-NEW: Thu 10:00 .. Mon 10:00
        assert ["T-NEW"] == plan.by_rule("first-call").due_between(
            first.earliest, first.earliest + timedelta(seconds=1))["subject_id"].tolist()
        assert 0 == len(plan.by_rule("first-call").due_between(
            first.latest, first.latest + DAY))
        assert 0 == len(plan.by_rule("first-call").due_between(
            first.earliest - DAY, first.earliest))
        everything = plan.due_between(_at(SHANGHAI, 2026, 1, 1, 0), _at(SHANGHAI, 2027, 1, 1, 0))
        assert len(plan) == len(everything)

    def test_due_between_equals_a_filter(self) -> None:
        """The same rows as a plain filter over ``contacts()``."""
        plan = _query_plan()
        start, end = _at(SHANGHAI, 2026, 10, 13, 0), _at(SHANGHAI, 2026, 10, 20, 0)
        expected = [(c.rule_id, c.subject_id) for c in plan.contacts()
                    if c.earliest < end and c.latest > start]
        assert expected == [(c.rule_id, c.subject_id)
                            for c in plan.due_between(start, end).contacts()]

    def test_for_agent(self) -> None:
        """Ticket rules go to each ticket's agent (the quality call to a clerk)."""
        plan = _query_plan()
        mine = plan.for_agent("A-2")
        assert ["T-NEW"] * 3 == mine["subject_id"].tolist()
        assert {"customer-file", "first-call", "second-call"} == {
            c.rule_id for c in mine.contacts()}

    def test_by_rule_and_counts(self) -> None:
        """Each ticket rule once per ticket."""
        plan = _query_plan()
        expected = {"customer-file": 2, "first-call": 2, "quality-call": 2, "second-call": 2}
        assert expected == plan.counts()
        assert {rule: len(plan.by_rule(rule)) for rule in RULE_IDS
                if len(plan.by_rule(rule))} == plan.counts()
        assert [RULE_IDS.index("first-call")] * 2 == plan.by_rule("first-call")["rule"].tolist()

    def test_unknown_rule_gets_a_hint(self) -> None:
        """A near miss suggests the rule id."""
        with pytest.raises(UnknownKeyError,
                           match=_exactly("unknown follow-up rule 'first_call'. "
                                          "Did you mean 'first-call'?")):
            _query_plan().by_rule("first_call")

    def test_unknown_column_gets_a_hint(self) -> None:
        """Columns are looked up with a hint too."""
        with pytest.raises(UnknownKeyError,
                           match=_exactly("unknown plan column 'earlist'. "
                                          "Did you mean 'earliest'?")):
            _query_plan()["earlist"]

    def test_contacts_are_followup_objects(self) -> None:
        """Aware datetimes in the centre's zone, the rule's kind and subject."""
        contact = _query_plan().by_rule("quality-call").contacts()[-1]
        assert isinstance(contact, FollowUp)
        assert ("quality_call", "ticket") == (contact.kind.value, contact.subject.value)
        assert timedelta(hours=8) == contact.earliest.utcoffset()
        assert ("T-NEW", "C-1", None, None) == (contact.subject_id, contact.customer_id,
                                               contact.assignee, contact.substitute_for)

    def test_columns_are_read_only(self) -> None:
        """The plan is immutable."""
        plan = _query_plan()
        with pytest.raises(ValueError, match="read-only"):
            plan["earliest"][0] = 0

    def test_naive_query_bounds_are_rejected(self) -> None:
        """due_between and overdue need aware datetimes."""
        plan = _query_plan()
        naive = datetime(2026, 10, 1)
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'start' must be a timezone-aware datetime (got {naive!r})")):
            plan.due_between(naive, _at(SHANGHAI, 2026, 10, 2, 0))
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'now' must be a timezone-aware datetime (got {naive!r})")):
            plan.overdue(naive)


# --------------------------------------------------------------------------- reconcile

VISIT = _at(SHANGHAI, 2026, 11, 2, 9)  # Monday; closed at 15:00 the same day
# customer-file [2 Nov 09:00, 3 Nov 17:30), quality-call [2 Nov 15:00, 5 Nov 17:30),
# first-call [5 Nov 15:00, 9 Nov 15:00), second-call [12 Nov 15:00, 19 Nov 15:00)
ORDER = ["customer-file", "quality-call", "first-call", "second-call"]


def _reconcile_plan() -> FollowUpPlan:
    return plan_followups(
        _tickets(_ticket(opened=VISIT, closed=VISIT.replace(hour=15))),
        _customers(_customer(tier="c")), now=_at(SHANGHAI, 2026, 11, 1, 0), horizon_days=1,
        policy=POLICY.replace(followup=FollowUpPolicy(home_visit_share=0.0)))


def _made(*moments: datetime, subject_id: str = "T-1") -> CallbackTable:
    return CallbackTable.from_records(
        Callback(callback_id=f"CB-{i}", subject="ticket", subject_id=subject_id,
                 due_from=VISIT, due_by=VISIT + DAY, done_at=moment, outcome="solved")
        for i, moment in enumerate(moments))


class TestReconcile:
    """ON_TIME / LATE / MISSED / PENDING per contact; each callback used at most once."""

    def test_windows_of_the_hand_built_plan(self) -> None:
        """The plan the other cases reconcile against."""
        plan = _reconcile_plan()
        assert ORDER == [RULE_IDS[int(r)] for r in plan["rule"]]
        assert [(_at(SHANGHAI, 2026, 11, 12, 15), _at(SHANGHAI, 2026, 11, 19, 15))] == \
            _windows(plan, "second-call")

    @pytest.mark.parametrize(("as_of", "last"), [
        ((2026, 11, 20), ReconcileStatus.MISSED), ((2026, 11, 15), ReconcileStatus.PENDING)])
    def test_each_status(self, as_of: tuple[int, int, int], last: ReconcileStatus) -> None:
        """The customer file is not a call; the quality call on time; the first call
        late (after its end); the second missed or pending by ``as_of``."""
        callbacks = _made(_at(SHANGHAI, 2026, 11, 2, 16), _at(SHANGHAI, 2026, 11, 10, 10))
        result = reconcile(_reconcile_plan(), callbacks, as_of=_at(SHANGHAI, *as_of, 0))
        expected = (ReconcileStatus.NOT_A_CALL, ReconcileStatus.ON_TIME,
                    ReconcileStatus.LATE, last)
        assert expected == result.status
        due = 3 if last is ReconcileStatus.MISSED else 2
        assert 2 / due == result.callback_completion_rate
        assert 1 / due == result.callback_on_time_rate
        assert _at(SHANGHAI, *as_of, 0) == result.as_of

    def test_one_callback_satisfies_one_contact(self) -> None:
        """A single call on 4 Nov is taken by the earliest open call (the quality call);
        the customer file is not a call and takes none."""
        result = reconcile(_reconcile_plan(), _made(_at(SHANGHAI, 2026, 11, 4, 10)),
                           as_of=_at(SHANGHAI, 2026, 11, 20, 0))
        expected = (ReconcileStatus.NOT_A_CALL, ReconcileStatus.ON_TIME,
                    ReconcileStatus.MISSED, ReconcileStatus.MISSED)
        assert expected == result.status

    def test_callbacks_before_a_window_do_not_count_for_it(self) -> None:
        """A first-call sub-plan: a call before the window opens is not the first call."""
        plan = _reconcile_plan().by_rule("first-call")
        early = reconcile(plan, _made(_at(SHANGHAI, 2026, 11, 4, 10)),
                          as_of=_at(SHANGHAI, 2026, 11, 20, 0))
        assert (ReconcileStatus.MISSED,) == early.status
        on_time = reconcile(plan, _made(_at(SHANGHAI, 2026, 11, 4, 10),
                                        _at(SHANGHAI, 2026, 11, 6, 10)),
                            as_of=_at(SHANGHAI, 2026, 11, 20, 0))
        assert (ReconcileStatus.ON_TIME,) == on_time.status

    def test_window_end_is_exclusive(self) -> None:
        """A call exactly at ``latest`` is late."""
        plan = _reconcile_plan().by_rule("first-call")
        end = plan.contacts()[0].latest
        result = reconcile(plan, _made(end), as_of=end + DAY)
        assert (ReconcileStatus.LATE,) == result.status
        result = reconcile(plan, _made(end - timedelta(seconds=1)), as_of=end + DAY)
        assert (ReconcileStatus.ON_TIME,) == result.status

    def test_a_callback_on_another_kind_of_subject_is_not_it(self) -> None:
        """Ticket T-1 and customer T-1 are different subjects."""
        plan = _reconcile_plan().by_rule("first-call")
        other_kind = CallbackTable.from_records([Callback(
            callback_id="CB-1", subject="customer", subject_id="T-1", due_from=VISIT,
            due_by=VISIT + DAY, done_at=_at(SHANGHAI, 2026, 11, 6, 10), outcome="solved")])
        assert (ReconcileStatus.MISSED,) == reconcile(
            plan, other_kind, as_of=_at(SHANGHAI, 2026, 11, 20, 0)).status

    def test_contacts_that_are_not_calls(self) -> None:
        """Customer files, reports, letters and visits: NOT_A_CALL, in no rate."""
        plan = _reconcile_plan().by_rule("customer-file")
        result = reconcile(plan, _made(_at(SHANGHAI, 2026, 11, 2, 10)),
                           as_of=_at(SHANGHAI, 2026, 11, 20, 0))
        assert (ReconcileStatus.NOT_A_CALL,) == result.status
        assert np.isnan(result.callback_completion_rate)

    def test_calls_after_as_of_and_other_subjects_are_ignored(self) -> None:
        """Only calls on the subject made by ``as_of`` count."""
        plan = _reconcile_plan().by_rule("first-call")
        as_of = _at(SHANGHAI, 2026, 11, 6, 0)
        later = reconcile(plan, _made(_at(SHANGHAI, 2026, 11, 6, 10)), as_of=as_of)
        assert (ReconcileStatus.PENDING,) == later.status
        other = reconcile(plan, _made(_at(SHANGHAI, 2026, 11, 5, 16), subject_id="T-2"),
                          as_of=as_of)
        assert (ReconcileStatus.PENDING,) == other.status
        pending = CallbackTable.from_records([Callback(
            callback_id="CB-1", subject="ticket", subject_id="T-1", due_from=VISIT,
            due_by=VISIT + DAY)])
        assert (ReconcileStatus.MISSED,) == reconcile(
            plan, pending, as_of=_at(SHANGHAI, 2026, 11, 20, 0)).status

    def test_as_of_defaults_to_the_plans_now(self) -> None:
        """Before any window closed everything is pending; rates are NaN (nothing due)."""
        result = reconcile(_reconcile_plan(), _made())
        assert (ReconcileStatus.NOT_A_CALL,) + (ReconcileStatus.PENDING,) * 3 == result.status
        assert _at(SHANGHAI, 2026, 11, 1, 0) == result.as_of
        assert np.isnan(result.callback_completion_rate)
        assert np.isnan(result.callback_on_time_rate)

    def test_naive_as_of_is_rejected(self) -> None:
        """``as_of`` must be aware."""
        naive = datetime(2026, 11, 20)
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'as_of' must be a timezone-aware datetime (got {naive!r})")):
            reconcile(_reconcile_plan(), _made(), as_of=naive)


# --------------------------------------------------------------------------- input errors


class TestInputErrors:
    """Naive datetimes and wrong table types are rejected with pinned messages."""

    def test_naive_now(self) -> None:
        """``now`` must be aware."""
        naive = datetime(2026, 10, 1, 9)
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'now' must be a timezone-aware datetime (got {naive!r})")):
            plan_followups(_tickets(), _customers(), now=naive)

    @pytest.mark.parametrize("swap", ["list", "customers-as-tickets", "tickets-as-customers"])
    def test_wrong_table_types(self, swap: str) -> None:
        """Tickets must be a TicketTable and customers a CustomerTable."""
        tickets: Any = _tickets()
        customers: Any = _customers()
        if swap == "list":
            tickets = []
        elif swap == "customers-as-tickets":
            tickets = _customers()
        else:
            customers = _tickets()
        with pytest.raises(TypeError, match=_exactly(
                "'tickets' must be a TicketTable and 'customers' a CustomerTable")):
            plan_followups(tickets, customers, now=NOW)

    def test_naive_event_and_maintenance(self) -> None:
        """Event and maintenance dates must be aware."""
        naive = datetime(2026, 11, 1, 9)
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'event.at' must be a timezone-aware datetime (got {naive!r})")):
            plan_followups(_tickets(), _customers(_customer()), now=NOW,
                           events=[CustomerEvent(event_id="E-1", at=naive)])
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'maintenance.due' must be a timezone-aware datetime (got {naive!r})")):
            plan_followups(_tickets(), _customers(_customer()), now=NOW,
                           maintenance=[MaintenanceDue(customer_id="C-1", due=naive)])

    def test_naive_cadence_bounds(self) -> None:
        """cadence_dates needs aware bounds too."""
        naive = datetime(2026, 11, 1, 9)
        with pytest.raises(NaiveDatetimeError, match=_exactly(
                f"'dtstart' must be a timezone-aware datetime (got {naive!r})")):
            cadence_dates(Cadence(freq="weekly"), naive, NOW, NOW + DAY)

    def test_empty_inputs_give_an_empty_plan(self) -> None:
        """No tickets, no customers: no contacts."""
        plan = plan_followups(_tickets(), _customers(), now=NOW)
        assert (0, {}, []) == (len(plan), plan.counts(), plan.contacts())


# --------------------------------------------------------------------------- properties

# Santiago's customer hours never meet Shanghai's (20:00 there is 07:00-08:00 here), so
# Santiago customers are generated only for the Moscow and Berlin centres.
ZONES = (SHANGHAI, SAKHALIN, MOSCOW, BERLIN, NEW_YORK, "Australia/Lord_Howe",
         "Asia/Kathmandu")
MOSCOW_ZONES = (*ZONES, "America/Santiago")
MONTHS = ((2026, 3), (2026, 10), (2026, 12))


class World:
    """One generated input of ``plan_followups`` (small tables, a month of activity)."""

    def __init__(self, *, tickets: list[Ticket], customers: list[Customer],
                 callbacks: list[Callback], events: list[CustomerEvent],
                 maintenance: list[MaintenanceDue], staff: StaffAvailability | None,
                 now: datetime, policy: Policy, horizon_days: int) -> None:
        self.tickets, self.customers, self.callbacks = tickets, customers, callbacks
        self.events, self.maintenance, self.staff = events, maintenance, staff
        self.now, self.policy, self.horizon_days = now, policy, horizon_days

    def plan(self, tickets: Sequence[Ticket] | None = None,
             customers: Sequence[Customer] | None = None,
             roster: AgentTable = ROSTER) -> FollowUpPlan:
        return plan_followups(
            _tickets(*(self.tickets if tickets is None else tickets)),
            _customers(*(self.customers if customers is None else customers)),
            now=self.now, policy=self.policy, events=self.events,
            maintenance=self.maintenance, staff=self.staff,
            callbacks=CallbackTable.from_records(self.callbacks), agents=roster,
            horizon_days=self.horizon_days)

    def zone_of(self, customer_id: str | None) -> str:
        zones = {c.customer_id: c.tz for c in self.customers}
        return zones.get(customer_id or "", self.policy.calendar.tz)

    def __repr__(self) -> str:
        return (f"World(now={self.now!r}, centre={self.policy.calendar.tz!r}, "
                f"followup={self.policy.followup!r}, horizon_days={self.horizon_days}, "
                f"tickets={self.tickets!r}, customers={self.customers!r}, "
                f"callbacks={self.callbacks!r}, events={self.events!r}, "
                f"maintenance={self.maintenance!r}, staff={self.staff!r})")


CENTRES = {
    SHANGHAI: WorkCalendar(tz=SHANGHAI),
    MOSCOW: WorkCalendar(tz=MOSCOW),
    # holidays, a make-up Saturday and a DST zone for the centre itself
    BERLIN: WorkCalendar(tz=BERLIN, holidays={"2026-03-06", "2026-10-02", "2026-12-24",
                                              "2026-12-25", "2027-01-01"},
                         extra_workdays={"2026-10-10"}),
}


@st.composite
def followup_policies(draw: st.DrawFn) -> FollowUpPolicy:
    """Distinct small numbers, so that a field read in the wrong place shows."""
    low = draw(st.integers(0, 4))
    near = draw(st.integers(0, 5))
    return FollowUpPolicy(
        customer_file_days=draw(st.integers(0, 5)), first_call_min_days=low,
        first_call_max_days=low + draw(st.integers(0, 6)),
        quality_call_working_days=draw(st.integers(1, 5)),
        second_call_after_days=draw(st.integers(0, 9)),
        second_call_window_days=draw(st.integers(1, 9)),
        unanswered_report_days=draw(st.integers(0, 5)),
        event_call_days_before=draw(st.integers(0, 20)),
        event_letter_days_after=draw(st.integers(0, 5)),
        maintenance_near_days_before=near,
        maintenance_remind_days_before=near + draw(st.integers(1, 15)),
        home_visit_share=draw(st.sampled_from([0.0, 0.3, 1.0])),
        cadence={"a": Cadence(freq="weekly", interval=draw(st.integers(1, 2))),
                 "b": draw(st.sampled_from([Cadence(freq="monthly"),
                                            Cadence(freq="daily", interval=5)])),
                 "c": draw(st.sampled_from([Cadence(freq="monthly", interval=2),
                                            Cadence(freq="yearly")]))})


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Tickets opened, resolved and closed at random over a month, customers in DST zones."""
    year, month = draw(st.sampled_from(MONTHS))
    base = datetime(year, month, 1, tzinfo=UTC)

    def moment(after: datetime, max_days: int) -> datetime:
        return after + timedelta(seconds=draw(st.integers(0, max_days * 86_400)))

    centre = draw(st.sampled_from(sorted(CENTRES)))
    follow = draw(st.just(FollowUpPolicy()) | followup_policies())
    ids = draw(st.lists(st.integers(1, 8), min_size=1, max_size=5, unique=True))
    zones = ZONES if centre == SHANGHAI else MOSCOW_ZONES
    customers = [Customer(customer_id=f"C-{i}", tier=draw(st.sampled_from("abc")),
                          loyalty=draw(st.sampled_from(["loyal", "ordinary", "lost"])),
                          tz=draw(st.sampled_from(zones))) for i in ids]
    tickets = []
    for n in range(draw(st.integers(0, 6))):
        opened = moment(base, 30).astimezone(_zone(draw(st.sampled_from(ZONES))))
        resolved = moment(opened, 10) if draw(st.booleans()) else None
        closed = moment(resolved or opened, 5) if draw(st.booleans()) else None
        tickets.append(_ticket(f"T-{n}", opened=opened, resolved=resolved, closed=closed,
                               customer=f"C-{draw(st.integers(1, 9))}",
                               agent=draw(st.sampled_from(["A-1", "A-2", "A-3"]))))
    callbacks = []
    opened_of = {t.ticket_id: _utc(t.opened_at) for t in tickets}
    for n in range(draw(st.integers(0, 3))):
        subject_id = draw(st.sampled_from([t.ticket_id for t in tickets] + ["T-99"]))
        # often soon after the ticket opened, so that it may be resolved after the call
        done = moment(opened_of[subject_id], 4) if subject_id in opened_of \
            and draw(st.booleans()) else moment(base, 35)
        callbacks.append(Callback(
            callback_id=f"CB-{n}", subject=draw(st.sampled_from(["ticket", "complaint"])),
            subject_id=subject_id, due_from=done, due_by=done, done_at=done,
            agent_id=draw(st.sampled_from(["A-1", "A-3", "K-1"])),
            outcome=draw(st.sampled_from(["solved", "unsolved", "unreachable"]))))
    events = [CustomerEvent(event_id=f"E-{n}", at=moment(base, 60), letter=draw(st.booleans()),
                            customers=draw(st.none() | st.just(tuple(
                                f"C-{i}" for i in ids[:1]))))
              for n in range(draw(st.integers(0, 1)))]
    maintenance = [MaintenanceDue(customer_id=f"C-{draw(st.integers(1, 9))}",
                                  due=moment(base, 60),
                                  subject_id=draw(st.sampled_from([None, f"V-{n}"])))
                   for n in range(draw(st.integers(0, 2)))]
    staff = None
    if draw(st.booleans()):
        away = moment(base, 40)
        staff = StaffAvailability(absences={"A-1": [(away, away + 5 * DAY)]},
                                  substitutes={"A-1": "A-2"})
    return World(tickets=tickets, customers=customers, callbacks=callbacks, events=events,
                 maintenance=maintenance, staff=staff, now=moment(base, 30),
                 policy=POLICY.replace(calendar=CENTRES[centre], followup=follow),
                 horizon_days=draw(st.sampled_from([45, 200])))


class TestPlanProperties:
    """Invariants of the plan over generated tickets, customers and zones."""

    @FAST
    @given(worlds())
    def test_windows_start_after_their_trigger_inside_joint_working_time(
            self, world: World) -> None:
        """trigger <= earliest < latest; earliest and latest-1 work in both calendars."""
        plan = world.plan()
        assert bool((plan["earliest"] >= plan["trigger"]).all())
        assert bool((plan["earliest"] < plan["latest"]).all())
        for i in range(len(plan)):
            zone = world.zone_of(plan["customer_id"][i])
            moments = [int(plan["earliest"][i]), int(plan["latest"][i]) - 1]
            assert [True, True] == _working_both(world.policy, zone, moments), \
                plan.contacts()[i]

    @FAST
    @given(worlds())
    def test_windows_equal_the_rule_table_fitted_one_by_one(self, world: World) -> None:
        """Every rule's nominal window from the policy numbers, fitted as documented."""
        plan = world.plan()
        chosen = frozenset(str(c) for c in plan.by_rule("home-visit")["customer_id"])
        expected = _expected_windows(
            world.tickets, world.customers, now=world.now, policy=world.policy,
            horizon_days=world.horizon_days, callbacks=world.callbacks, events=world.events,
            maintenance=world.maintenance, home_visits=chosen)
        assert expected == _actual_windows(plan)
        share = world.policy.followup.home_visit_share
        if share in (0.0, 1.0):
            assert len(world.customers) * share == len(chosen)

    @FAST
    @given(worlds(), st.data())
    def test_tell_solution_equals_the_rule_table(self, world: World, data: st.DataObject
                                                 ) -> None:
        """Unsolved calls on tickets, some before and some after their resolution."""
        for n, ticket in enumerate(world.tickets):
            opened = _utc(ticket.opened_at)
            done = opened + timedelta(seconds=data.draw(st.integers(0, 12 * 86_400)))
            world.callbacks.append(Callback(
                callback_id=f"U-{n}", subject="ticket", subject_id=ticket.ticket_id,
                due_from=done, due_by=done, done_at=done, agent_id="A-1",
                outcome=data.draw(st.sampled_from(["unsolved", "unsolved", "solved"]))))
        plan = world.plan()
        chosen = frozenset(str(c) for c in plan.by_rule("home-visit")["customer_id"])
        expected = _expected_windows(
            world.tickets, world.customers, now=world.now, policy=world.policy,
            horizon_days=world.horizon_days, callbacks=world.callbacks, events=world.events,
            maintenance=world.maintenance, home_visits=chosen)
        assert expected == _actual_windows(plan)
        told = plan.by_rule("tell-solution")
        agents = {t.ticket_id: t.agent_id for t in world.tickets}
        assert [agents[str(s)] for s in told["subject_id"]] == \
            [str(a) if f is None else str(f) for a, f in zip(
                told["assignee"], told["substitute_for"], strict=True)]

    @FAST
    @given(worlds())
    def test_cadence_strictly_increases_after_now(self, world: World) -> None:
        """Each customer's cadence contacts come after ``now``, in strictly rising order."""
        plan = world.plan()
        now = to_epoch(world.now)
        for customer in world.customers:
            part = plan.by_rule(f"cadence-{customer.tier.value}")
            mine = part["customer_id"] == customer.customer_id
            triggers = part["trigger"][mine].tolist()
            assert all(t > now for t in triggers)
            assert all(a < b for a, b in zip(triggers, triggers[1:]))
            assert sorted(part["earliest"][mine].tolist()) == part["earliest"][mine].tolist()

    @FAST
    @given(worlds(), st.randoms(use_true_random=False))
    def test_plan_does_not_depend_on_input_order(self, world: World,
                                                 rng: random.Random) -> None:
        """Shuffled tickets, customers and roster: the same multiset of rows."""
        tickets, customers = list(world.tickets), list(world.customers)
        rng.shuffle(tickets)
        rng.shuffle(customers)
        roster = AgentTable.from_records(rng.sample(ROSTER.to_records(), len(ROSTER)))
        shuffled = world.plan(tickets, customers, roster)
        assert Counter(_rows(world.plan())) == Counter(_rows(shuffled))

    @FAST
    @given(worlds())
    def test_substitutes_only_for_the_absent(self, world: World) -> None:
        """A row is substituted exactly when A-1 is its agent and away at its start."""
        plan = world.plan()
        away = [] if world.staff is None else [
            (to_epoch(a), to_epoch(b)) for a, b in world.staff.absences["A-1"]]
        for i in range(len(plan)):
            start = int(plan["earliest"][i])
            covered = any(a <= start < b for a, b in away)
            if plan["substitute_for"][i] is not None:
                assert ("A-2", "A-1", True) == (plan["assignee"][i],
                                                 plan["substitute_for"][i], covered)
            else:
                assert not (covered and plan["assignee"][i] == "A-1")

    @FAST
    @given(worlds(), st.integers(0, 60))
    def test_reconcile_rates_and_single_use(self, world: World, days: int) -> None:
        """Rates in [0, 1], on time <= completion, no more done contacts than calls."""
        plan = world.plan()
        base = world.now.replace(day=1)
        calls = [Callback(callback_id=f"R-{i}", subject="ticket", subject_id=t.ticket_id,
                          due_from=base, due_by=base, done_at=base + (i % 7) * 3 * DAY,
                          outcome="solved")
                 for i, t in enumerate(world.tickets * 2)]
        as_of = base + days * DAY
        result = reconcile(plan, CallbackTable.from_records(calls), as_of=as_of)
        assert len(plan) == len(result.status)
        done = Counter(str(plan["subject_id"][i]) for i, s in enumerate(result.status)
                       if s in (ReconcileStatus.ON_TIME, ReconcileStatus.LATE))
        made = Counter(c.subject_id for c in calls
                       if c.done_at is not None and c.done_at <= as_of)
        assert all(done[s] <= made[s] for s in done)
        completion, on_time = result.callback_completion_rate, result.callback_on_time_rate
        if not np.isnan(completion):
            assert 0.0 <= on_time <= completion <= 1.0
        for status, latest in zip(result.status, plan["latest"].tolist(), strict=True):
            if status is ReconcileStatus.PENDING:
                assert latest > to_epoch(as_of)
            if status is ReconcileStatus.MISSED:
                assert latest <= to_epoch(as_of)


class TestUnreachableZone:
    """A customer whose hours never meet the centre's is planned in the centre's hours."""

    def test_fallback_to_the_centre_calendar(self) -> None:
        # Shanghai 08:30-17:30 is 00:30-09:30 UTC; Santiago 09:00-20:00 is 12:00-24:00
        # UTC or later: the two never overlap.
        opened = datetime(2026, 10, 5, 10, 0, tzinfo=_zone(SHANGHAI))
        plan = plan_followups(_tickets(_ticket(opened=opened)),
                              _customers(_customer(zone="America/Santiago")),
                              now=datetime(2026, 10, 6, tzinfo=UTC), policy=POLICY)
        centre = POLICY.calendar
        assert 0 < len(plan)
        assert bool(centre.is_working(plan["earliest"]).all())
        assert bool(centre.is_working(plan["latest"] - 1).all())

    def test_alongside_reachable_customers(self) -> None:
        """Most rows in Shanghai, one customer in Santiago: each fitted as documented."""
        opened = datetime(2026, 10, 5, 10, 0, tzinfo=_zone(SHANGHAI))
        tickets = [_ticket(f"T-{i}", opened=opened + i * timedelta(hours=5),
                           closed=opened + i * timedelta(hours=7),
                           customer="C-2" if i == 3 else "C-1") for i in range(6)]
        customers = [_customer("C-1"), _customer("C-2", zone="America/Santiago")]
        now = datetime(2026, 10, 6, tzinfo=UTC)
        plan = plan_followups(_tickets(*tickets), _customers(*customers), now=now,
                              policy=POLICY)
        centre = POLICY.calendar
        for contact in plan.contacts():
            calendars = [centre] if contact.customer_id == "C-2" else \
                [centre, _customer_calendar(SHANGHAI)]
            assert bool(np.all([c.is_working_at(contact.earliest) for c in calendars]))
            assert bool(np.all([c.is_working_at(contact.latest - timedelta(seconds=1))
                                for c in calendars]))
        chosen = frozenset(str(c) for c in plan.by_rule("home-visit")["customer_id"])
        expected = _expected_windows([t for t in tickets if t.customer_id == "C-1"],
                                     customers[:1], now=now, policy=POLICY,
                                     home_visits=chosen - {"C-2"})
        actual = Counter(row for row in _actual_windows(plan).elements() if row[2] != "C-2")
        assert expected == actual
        assert 0 < len([c for c in plan.contacts() if c.customer_id == "C-2"])


# --------------------------------------------------------------------------- reconcile:
# the vectorised matching against the loop it replaced


def _reference_status(plan: FollowUpPlan, callbacks: CallbackTable,
                      as_of: datetime | None = None) -> tuple[ReconcileStatus, ...]:
    """reconcile as a per-row loop: the implementation before it was vectorised (issue 6).

    Only calls are matched (customer files, reports, letters and visits are NOT_A_CALL);
    a subject is its kind and its id. Per subject, in plan row order, each call takes
    the first unused callback made at or after its start (ON_TIME before its end, else
    LATE); none left: MISSED when its window closed by ``as_of``, else PENDING.
    """
    call_kinds = {FollowUpKind.CALL, FollowUpKind.QUALITY_CALL, FollowUpKind.REMINDER}
    at = plan.now if as_of is None else to_epoch(as_of)
    done_at = callbacks["done_at"]
    made = (done_at != MISSING) & (done_at <= at)
    times: dict[tuple[str, str], list[int]] = {}
    for kind, subject, when in zip(callbacks.decode("subject")[made],
                                   callbacks.decode("subject_id")[made], done_at[made],
                                   strict=True):
        times.setdefault((str(kind), str(subject)), []).append(int(when))
    for values in times.values():
        values.sort()
    used: dict[tuple[str, str], int] = {}
    status = []
    for i in range(len(plan)):
        kind, subject_kind = _RULES[RULE_IDS[int(plan["rule"][i])]]
        if kind not in call_kinds:
            status.append(ReconcileStatus.NOT_A_CALL)
            continue
        subject = (str(subject_kind), str(plan["subject_id"][i]))
        start, end = int(plan["earliest"][i]), int(plan["latest"][i])
        options = times.get(subject, [])
        position = used.get(subject, 0)
        while position < len(options) and options[position] < start:
            position += 1
        if position < len(options):
            used[subject] = position + 1
            status.append(ReconcileStatus.ON_TIME if options[position] < end
                          else ReconcileStatus.LATE)
        elif end <= at:
            status.append(ReconcileStatus.MISSED)
        else:
            status.append(ReconcileStatus.PENDING)
    return tuple(status)


HOUR = 3_600
BASE = to_epoch(_at(SHANGHAI, 2026, 11, 2, 9))


def _hand_plan(windows: Sequence[tuple[str, int, int]], *, labels: tuple[str, ...] = (),
               assignees: Sequence[int] = (), agents: tuple[str, ...] = ("A-1", "A-2"),
               presorted: bool = True) -> FollowUpPlan:
    """A plan of first calls from ``(subject, start hour, end hour)`` after BASE, in the
    given row order (``presorted``) or sorted by the plan; ``now`` is BASE.

    *assignees*: codes into *agents* (-1 = nobody; default: nobody)."""
    subject_labels = labels or tuple(dict.fromkeys(s for s, _, _ in windows))
    n = len(windows)
    earliest = np.array([BASE + s * HOUR for _, s, _ in windows], dtype=np.int64)
    codes = {label: [i for i, x in enumerate(subject_labels) if x == label]
             for label in subject_labels}
    columns: dict[str, NDArray[Any]] = {
        "rule": np.full(n, RULE_IDS.index("first-call"), dtype=np.int8),
        # a label in the vocabulary twice: the rows alternate between its codes
        "subject_id": np.array([codes[s][k % len(codes[s])]
                                for k, (s, _, _) in enumerate(windows)], dtype=np.int64),
        "customer_id": np.full(n, -1, dtype=np.int64),
        "trigger": earliest.copy(), "earliest": earliest,
        "latest": np.array([BASE + e * HOUR for _, _, e in windows], dtype=np.int64),
        "assignee": np.array(list(assignees) or [-1] * n, dtype=np.int64),
        "substitute_for": np.full(n, -1, dtype=np.int64)}
    return FollowUpPlan(columns, {"subject_id": subject_labels, "customer_id": (),
                                  "assignee": agents, "substitute_for": agents},
                        now=BASE, tz=SHANGHAI, presorted=presorted)


def _calls(*made: tuple[str, int | None]) -> CallbackTable:
    """Callbacks ``(subject, hour after BASE or None = not made)``."""
    due = from_epoch(BASE, SHANGHAI)
    return CallbackTable.from_records(
        Callback(callback_id=f"CB-{i}", subject="ticket", subject_id=subject,
                 due_from=due, due_by=due,
                 done_at=None if hour is None else from_epoch(BASE + hour * HOUR, SHANGHAI),
                 outcome=None if hour is None else "solved")
        for i, (subject, hour) in enumerate(made))


ON_TIME, LATE = ReconcileStatus.ON_TIME, ReconcileStatus.LATE
MISSED, PENDING = ReconcileStatus.MISSED, ReconcileStatus.PENDING


class TestReconcileMatching:
    """The matching rules, pinned on hand-built plans (also in rows not sorted by start)."""

    @pytest.mark.parametrize(("windows", "made", "as_of", "expected"), [
        # two contacts with the same start, one call: the first row takes it
        ([("T-1", 0, 4), ("T-1", 0, 4)], [("T-1", 1)], 10, (ON_TIME, MISSED)),
        # a call exactly at the start counts, exactly at the end is late
        ([("T-1", 2, 4), ("T-1", 5, 6)], [("T-1", 2), ("T-1", 6)], 10, (ON_TIME, LATE)),
        # calls before every window are never used
        ([("T-1", 5, 6)], [("T-1", 1), ("T-1", 4)], 10, (MISSED,)),
        # a call before the second window is used by the first (late), not the second
        ([("T-1", 0, 2), ("T-1", 3, 5)], [("T-1", 3)], 10, (LATE, MISSED)),
        # calls after as_of and calls not made are ignored; open windows are pending
        ([("T-1", 0, 2), ("T-1", 3, 20)], [("T-1", 1), ("T-1", 12), ("T-1", None)], 10,
         (ON_TIME, PENDING)),
        # subjects are kept apart; a subject without calls misses
        ([("T-1", 0, 2), ("T-2", 0, 2), ("T-3", 0, 2)], [("T-2", 1), ("T-9", 1)], 10,
         (MISSED, ON_TIME, MISSED)),
        # rows not sorted by start: the later window takes the call, the earlier is missed
        ([("T-1", 10, 20), ("T-1", 0, 5)], [("T-1", 3), ("T-1", 12)], 30, (ON_TIME, MISSED)),
        # a contact with no call at or after its start uses none: the next row still can
        ([("T-1", 30, 40), ("T-1", 0, 5)], [("T-1", 3)], 50, (MISSED, ON_TIME)),
        # once every call is used, an earlier window later in the rows gets nothing
        ([("T-1", 0, 5), ("T-1", 0, 1), ("T-1", 2, 3)], [("T-1", 4), ("T-1", 2)], 50,
         (ON_TIME, LATE, MISSED)),
    ])
    def test_pinned(self, windows: list[tuple[str, int, int]],
                    made: list[tuple[str, int | None]], as_of: int,
                    expected: tuple[ReconcileStatus, ...]) -> None:
        """Each case against the reference loop too."""
        plan, callbacks = _hand_plan(windows), _calls(*made)
        moment = from_epoch(BASE + as_of * HOUR, SHANGHAI)
        result = reconcile(plan, callbacks, as_of=moment)
        assert expected == result.status
        assert expected == _reference_status(plan, callbacks, moment)

    def test_a_label_in_two_blocks_is_one_subject(self) -> None:
        """The plan's vocabulary may hold a label twice: both codes match its calls."""
        plan = _hand_plan([("T-1", 0, 2), ("T-1", 1, 3)], labels=("T-1", "T-2", "T-1"))
        assert [0, 2] == plan._codes("subject_id")[0].tolist()
        result = reconcile(plan, _calls(("T-1", 1), ("T-1", 2)),
                           as_of=from_epoch(BASE + 9 * HOUR, SHANGHAI))
        assert (ON_TIME, ON_TIME) == result.status

    def test_no_callbacks_at_all(self) -> None:
        """An empty callback table: missed or pending by the window's end."""
        result = reconcile(_hand_plan([("T-1", 0, 2), ("T-1", 3, 9)]), _calls(),
                           as_of=from_epoch(BASE + 5 * HOUR, SHANGHAI))
        assert (MISSED, PENDING) == result.status

    def test_empty_plan(self) -> None:
        """No contacts: no statuses, NaN rates, zero counts."""
        result = reconcile(_hand_plan([]), _calls(("T-1", 1)))
        assert ((), {s: 0 for s in ReconcileStatus}, {}) == (
            result.status, result.counts(), result.rates_by_agent())
        assert np.isnan(result.callback_completion_rate)


class TestReconciliation:
    """The result: int8 status codes, the status tuple, counts and rates per agent."""

    def _result(self) -> Reconciliation:
        windows = [("T-1", 0, 2), ("T-2", 0, 2), ("T-3", 0, 2), ("T-4", 0, 2),
                   ("T-5", 3, 20)]
        plan = _hand_plan(windows, assignees=[0, 0, 1, -1, 1])
        return reconcile(plan, _calls(("T-1", 1), ("T-2", 3), ("T-4", 1)),
                         as_of=from_epoch(BASE + 10 * HOUR, SHANGHAI))

    def test_status_codes_are_a_read_only_int8_array(self) -> None:
        """Indices into tuple(ReconcileStatus), aligned with the plan's rows."""
        result = self._result()
        assert (np.dtype(np.int8), [0, 1, 2, 0, 3]) == (result.status_codes.dtype,
                                                         result.status_codes.tolist())
        with pytest.raises(ValueError, match="read-only"):
            result.status_codes[0] = 1

    def test_status_is_a_tuple_built_once(self) -> None:
        """The codes as ReconcileStatus members; the same tuple on every access."""
        result = self._result()
        assert (ON_TIME, LATE, MISSED, ON_TIME, PENDING) == result.status
        assert result.status is result.status

    def test_counts(self) -> None:
        """Every status, zero included."""
        assert {ON_TIME: 2, LATE: 1, MISSED: 1, PENDING: 0, ReconcileStatus.NOT_A_CALL: 0} == \
            reconcile(_hand_plan([("T-1", 0, 2), ("T-1", 0, 2), ("T-1", 0, 2),
                                  ("T-1", 0, 2)]),
                      _calls(("T-1", 1), ("T-1", 1), ("T-1", 5)),
                      as_of=from_epoch(BASE + 10 * HOUR, SHANGHAI)).counts()

    def test_rates_by_agent(self) -> None:
        """A-1: on time and late; A-2: missed (the pending one is not due); no assignee
        left out."""
        assert {"A-1": (1.0, 0.5), "A-2": (0.0, 0.0)} == self._result().rates_by_agent()

    def test_rates_by_agent_nan_when_nothing_is_due(self) -> None:
        """Only pending contacts: (nan, nan)."""
        plan = _hand_plan([("T-1", 3, 20)], assignees=[0])
        rates = reconcile(plan, _calls(), as_of=from_epoch(BASE, SHANGHAI)).rates_by_agent()
        assert ["A-1"] == list(rates)
        assert all(np.isnan(x) for x in rates["A-1"])

    def test_rates_by_agent_merge_a_label_in_two_blocks(self) -> None:
        """An agent under two codes of the plan's vocabulary is one agent."""
        plan = _hand_plan([("T-1", 0, 2), ("T-2", 0, 2)], assignees=[0, 1],
                          agents=("A-1", "A-1"))
        result = reconcile(plan, _calls(("T-1", 1)),
                           as_of=from_epoch(BASE + 9 * HOUR, SHANGHAI))
        assert {"A-1": (0.5, 0.5)} == result.rates_by_agent()

    def test_rates_equal_the_counts(self) -> None:
        """Completion and on-time rates from the counts; rates by agent add up."""
        result = self._result()
        counts = result.counts()
        due = len(result.plan) - counts[PENDING]
        assert ((counts[ON_TIME] + counts[LATE]) / due, counts[ON_TIME] / due) == (
            result.callback_completion_rate, result.callback_on_time_rate)


@st.composite
def matching_cases(draw: st.DrawFn) -> tuple[FollowUpPlan, CallbackTable, datetime | None]:
    """Small plans and callbacks on a few subjects, hours apart (ties likely)."""
    subjects = ["T-1", "T-2", "T-3", "C-1"]
    windows = draw(st.lists(st.tuples(st.sampled_from(subjects), st.integers(0, 12),
                                      st.integers(0, 6)), max_size=14))
    # a label may sit twice in the vocabulary (two blocks of the planner's labels)
    labels = tuple(subjects) + draw(st.sampled_from([(), ("T-1",), ("T-1", "C-1")]))
    plan = _hand_plan([(s, a, a + d) for s, a, d in windows], labels=labels,
                      presorted=draw(st.booleans()))
    made = draw(st.lists(st.tuples(st.sampled_from([*subjects, "T-9"]),
                                   st.none() | st.integers(-3, 24)), max_size=14))
    as_of = draw(st.none() | st.integers(-2, 26).map(
        lambda h: from_epoch(BASE + h * HOUR, SHANGHAI)))
    return plan, _calls(*made), as_of


class TestReconcileProperties:
    """reconcile equals the per-row loop it replaced."""

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(matching_cases())
    def test_equals_the_reference_loop(
            self, case: tuple[FollowUpPlan, CallbackTable, datetime | None]) -> None:
        """Random windows, ties, repeated subjects, calls before/inside/after windows and
        after as_of, unsorted rows, as_of defaulted or not."""
        plan, callbacks, as_of = case
        assert _reference_status(plan, callbacks, as_of) == \
            reconcile(plan, callbacks, as_of=as_of).status

    @FAST
    @given(worlds(), st.integers(0, 60))
    def test_equals_the_reference_loop_on_plans(self, world: World, days: int) -> None:
        """On generated plans, with the world's callbacks and made-up solved ones."""
        plan = world.plan()
        base = world.now.replace(day=1)
        calls = [Callback(callback_id=f"R-{i}", subject="ticket", subject_id=t.ticket_id,
                          due_from=base, due_by=base, done_at=base + (i % 7) * 3 * DAY,
                          outcome="solved")
                 for i, t in enumerate(world.tickets * 2)]
        for table in (CallbackTable.from_records(calls),
                      CallbackTable.from_records(world.callbacks)):
            as_of = base + days * DAY
            assert _reference_status(plan, table, as_of) == \
                reconcile(plan, table, as_of=as_of).status


# --------------------------------------------------------------------------- plan order


@st.composite
def plan_columns(draw: st.DrawFn) -> dict[str, NDArray[Any]]:
    """Unsorted plan columns with many ties; sometimes keys too wide for one int64."""
    n = draw(st.integers(0, 60))
    span = draw(st.sampled_from([1, 5, 3_600, 2**40, 2**60]))
    codes = draw(st.sampled_from([3, 1_000, 2**31 - 1]))
    ints = st.integers

    def column(low: int, high: int, dtype: Any) -> NDArray[Any]:
        return np.array(draw(st.lists(ints(low, high), min_size=n, max_size=n)), dtype=dtype)

    earliest = BASE + column(0, span - 1, np.int64)
    return {"rule": column(0, len(RULE_IDS) - 1, np.int8),
            "subject_id": column(-1, codes, np.int32), "customer_id": column(-1, codes, np.int32),
            "trigger": earliest - column(0, 5, np.int64), "earliest": earliest,
            "latest": earliest + column(1, 9, np.int64), "assignee": column(-1, 3, np.int32),
            "substitute_for": column(-1, 0, np.int32)}


class TestPlanOrder:
    """The plan's rows: by window start, rule, subject and customer code, then input row."""

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(plan_columns())
    def test_equals_lexsort(self, columns: dict[str, NDArray[Any]]) -> None:
        """Every column in the order of a lexsort (missing codes sort as 0)."""
        order = np.lexsort((np.maximum(columns["customer_id"], 0),
                            np.maximum(columns["subject_id"], 0), columns["rule"],
                            columns["earliest"]))
        labels = {name: () for name in ("subject_id", "customer_id", "assignee",
                                         "substitute_for")}
        plan = FollowUpPlan(columns, labels, now=BASE, tz=SHANGHAI)
        for name, values in columns.items():
            actual = plan[name] if name not in plan._LABELLED else plan._codes(name)[0]
            assert (values.dtype, values[order].tolist()) == (actual.dtype, actual.tolist())

    @FAST
    @given(worlds())
    def test_two_threads_plan_the_same(self, world: World) -> None:
        """Long plans fit and gather on two threads: the same plan, row for row."""
        one = world.plan()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(followup, "_PARALLEL_ROWS", 2)
            two = world.plan()
        for name in one.columns:
            assert one[name].tolist() == two[name].tolist()


class TestFitWindowsInBlocks:
    """fit_windows works through long arrays in blocks: rows of every block fit as
    documented (the one-by-one reference)."""

    @pytest.mark.parametrize("zone", [SHANGHAI, SAKHALIN, NEW_YORK])
    def test_long_arrays(self, zone: str) -> None:
        rng = np.random.default_rng(7)
        n = 40_000  # three blocks
        earliest = to_epoch(datetime(2026, 10, 1, tzinfo=UTC)) \
            + rng.integers(0, 60 * 86_400, n)
        latest = earliest + rng.integers(1, 5 * 86_400, n)
        calendars = [POLICY.calendar, _customer_calendar(zone)]
        start, end = fit_windows(earliest, latest, calendars)
        for i in rng.choice(n, 300, replace=False).tolist():
            expected = _fit(from_epoch(int(earliest[i]), zone), from_epoch(int(latest[i]), zone),
                            calendars)
            assert expected == (int(start[i]), int(end[i]))
