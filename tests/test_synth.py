"""Tests of servicekpi.synth: a seeded, realistic synthetic month."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import numpy as np
import pytest

from servicekpi import synth
from servicekpi.calendar import WorkCalendar
from servicekpi.dataset import Dataset
from servicekpi.domain import CallbackOutcome, CallbackSubject, Period, Station, Team
from servicekpi.exceptions import InvalidRecordError
from servicekpi.kernel import MISSING
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    TicketTable,
)

TABLES = ("agents", "customers", "tickets", "complaints", "callbacks", "ratings", "orders")


@cache
def month(seed: int = 7, tickets: int = 20_000, agents: int = 40, stations: int = 4) -> Dataset:
    """A synthetic month, built once per argument set (the dataset is immutable)."""
    return synth.month(seed=seed, tickets=tickets, agents=agents, stations=stations)


class TestDeterminism:
    """The seed decides the month, bit for bit."""

    def test_same_seed_gives_equal_tables(self) -> None:
        first = synth.month(seed=11, tickets=3_000, agents=12, stations=2)
        second = synth.month(seed=11, tickets=3_000, agents=12, stations=2)
        for name in TABLES:
            assert getattr(first, name) == getattr(second, name), name
        assert first.teams == second.teams
        assert first.stations == second.stations
        assert first.period == second.period

    def test_different_seed_gives_different_tickets(self) -> None:
        first = synth.month(seed=11, tickets=3_000, agents=12, stations=2)
        second = synth.month(seed=12, tickets=3_000, agents=12, stations=2)
        assert first.tickets != second.tickets
        assert not np.array_equal(first.tickets["opened_at"], second.tickets["opened_at"])

    def test_default_seed_is_zero(self) -> None:
        assert synth.month(tickets=500, agents=4, stations=1).tickets == synth.month(
            seed=0, tickets=500, agents=4, stations=1).tickets


class TestSizes:
    """Requested sizes are honoured and every table has its type."""

    @pytest.mark.parametrize(("tickets", "agents", "stations"),
                             [(1, 2, 1), (500, 8, 1), (2_000, 20, 2), (20_000, 40, 4)])
    def test_sizes(self, tickets: int, agents: int, stations: int) -> None:
        data = synth.month(seed=1, tickets=tickets, agents=agents, stations=stations)
        assert tickets == len(data.tickets)
        assert agents == len(data.agents)
        assert stations == len(data.stations)
        assert stations == len(data.agents.labels("station_id"))
        assert 1 <= len(data.teams)

    def test_table_types(self) -> None:
        data = month()
        assert (AgentTable, CustomerTable, TicketTable, ComplaintTable, CallbackTable,
                RatingTable, OrderTable) == tuple(type(getattr(data, n)) for n in TABLES)
        assert all(isinstance(team, Team) for team in data.teams)
        assert all(isinstance(station, Station) for station in data.stations)

    def test_period_and_zone(self) -> None:
        data = synth.month(seed=1, tickets=200, agents=4, stations=1, start="2025-02",
                           tz="Europe/Moscow")
        assert Period.month(2025, 2, tz="Europe/Moscow") == data.period
        assert {"Europe/Moscow"} == {station.tz for station in data.stations}
        assert ("Europe/Moscow",) == data.agents.labels("tz")

    def test_teams_of_about_eight(self) -> None:
        data = month()
        assert 4 == len(data.teams)  # 10 agents per station, one team each
        sizes = Counter(data.agents.decode("team_id").tolist())
        assert {team.team_id for team in data.teams} == set(sizes)


class TestTickets:
    """Tickets are opened in the month, in working time, with timestamps in order."""

    def test_opened_inside_the_period(self) -> None:
        data = month()
        assert data.period is not None
        opened = data.tickets["opened_at"]
        assert int(data.period.start.timestamp()) <= int(opened.min())
        assert int(opened.max()) < int(data.period.end.timestamp())

    def test_opened_on_working_days(self) -> None:
        opened = month().tickets["opened_at"]
        days = WorkCalendar.default().local_dates(opened)
        weekday = (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday
        assert bool((weekday < 5).all())

    def test_opened_in_working_time(self) -> None:
        opened = month().tickets["opened_at"]
        assert 0 == int((~WorkCalendar.default().is_working(opened)).sum())

    def test_opened_at_most_a_minute_after_working_time(self) -> None:
        # bounds the bug above: the stray openings are the extra seconds past an interval end
        opened = month().tickets["opened_at"]
        calendar = WorkCalendar.default()
        assert bool((calendar.is_working(opened) | calendar.is_working(opened - 60)).all())

    def test_timestamps_in_order(self) -> None:
        tickets = month().tickets
        opened = tickets["opened_at"]
        response = tickets["first_response_at"]
        resolved = tickets["resolved_at"]
        closed = tickets["closed_at"]
        has_response = response != MISSING
        has_resolution = resolved != MISSING
        both = has_response & has_resolution
        assert bool((response[has_response] >= opened[has_response]).all())
        assert bool((resolved[has_resolution] >= opened[has_resolution]).all())
        assert bool((resolved[both] >= response[both]).all())
        has_close = closed != MISSING
        assert bool((closed[has_close] >= resolved[has_close]).all())
        assert bool((has_resolution[has_close]).all())  # only resolved tickets are closed

    def test_some_tickets_are_open(self) -> None:
        tickets = month().tickets
        assert 0 < int((~tickets.present("resolved_at")).sum()) < len(tickets) // 5
        assert 0 < int(tickets.present("resolved_at").sum())

    def test_per_agent_volumes_are_skewed(self) -> None:
        for seed in (1, 2, 3):
            tickets = month(seed=seed).tickets
            volumes = np.bincount(tickets["agent_id"], minlength=40)
            assert 40 == len(tickets.labels("agent_id"))
            assert int(volumes.max()) > 2 * int(volumes.min()), seed

    def test_references_and_ranges(self) -> None:
        data = month()
        tickets = data.tickets
        assert set(tickets.labels("agent_id")) <= set(data.agents.labels("agent_id"))
        assert set(tickets.labels("customer_id")) <= set(data.customers.labels("customer_id"))
        satisfaction = tickets["satisfaction"][tickets.present("satisfaction")]
        assert bool(((satisfaction >= 1) & (satisfaction <= 5)).all())
        assert bool((tickets["answer_errors"] <= tickets["answers"]).all())
        fcr = tickets["first_contact_resolved"]
        assert bool(tickets.present("resolved_at")[fcr].all())


class TestComplaints:
    """Complaints refer to existing records and some repeat."""

    def test_reference_existing_tickets_customers_agents(self) -> None:
        data = month()
        complaints = data.complaints
        assert 0 < len(complaints)
        assert set(complaints.labels("ticket_id")) <= set(data.tickets.labels("ticket_id"))
        assert set(complaints.labels("customer_id")) <= set(
            data.customers.labels("customer_id"))
        assert set(complaints.labels("agent_id")) <= set(data.agents.labels("agent_id"))
        assert set(complaints.labels("station_id")) == {s.station_id for s in data.stations}

    def test_customer_matches_the_ticket(self) -> None:
        data = month()
        by_ticket = dict(zip(data.tickets.decode("ticket_id").tolist(),
                             data.tickets.decode("customer_id").tolist()))
        complaints = data.complaints
        for ticket_id, customer_id in zip(complaints.decode("ticket_id").tolist(),
                                          complaints.decode("customer_id").tolist()):
            assert by_ticket[ticket_id] == customer_id

    def test_some_repeat_the_same_customer_and_type(self) -> None:
        complaints = month().complaints
        pairs = Counter(zip(complaints.decode("customer_id").tolist(),
                            complaints.decode("complaint_type").tolist()))
        assert any(count >= 2 for count in pairs.values())

    def test_received_inside_the_period_after_the_ticket(self) -> None:
        data = month()
        assert data.period is not None
        received = data.complaints["received_at"]
        assert int(received.max()) < int(data.period.end.timestamp())
        opened = dict(zip(data.tickets.decode("ticket_id").tolist(),
                          data.tickets["opened_at"].tolist()))
        for ticket_id, at in zip(data.complaints.decode("ticket_id").tolist(),
                                 received.tolist()):
            assert at > opened[ticket_id]

    def test_responsible_is_the_station_responsible(self) -> None:
        data = month()
        responsible = {s.station_id: s.responsible for s in data.stations}
        complaints = data.complaints
        for station_id, person in zip(complaints.decode("station_id").tolist(),
                                      complaints.decode("responsible").tolist()):
            assert responsible[station_id] == person


class TestCallbacks:
    """Callbacks are due after their subject; some are late or unsolved."""

    def test_some_late_and_some_unsolved(self) -> None:
        callbacks = month().callbacks
        done = callbacks.present("done_at")
        late = done & (callbacks["done_at"] > callbacks["due_by"])
        assert 0 < int(late.sum()) < int(done.sum())
        outcomes = Counter(callbacks.decode("outcome")[done].tolist())
        assert 0 < outcomes[CallbackOutcome.UNSOLVED]
        assert 0 < outcomes[CallbackOutcome.SOLVED]
        assert 0 < int((~done).sum())

    def test_subjects_exist(self) -> None:
        data = month()
        callbacks = data.callbacks
        subjects = callbacks.decode("subject")
        ids = callbacks.decode("subject_id")
        tickets = set(data.tickets.labels("ticket_id"))
        complaints = set(data.complaints.labels("complaint_id"))
        assert {CallbackSubject.TICKET, CallbackSubject.COMPLAINT} == set(subjects.tolist())
        for subject, subject_id in zip(subjects.tolist(), ids.tolist()):
            assert subject_id in (tickets if subject is CallbackSubject.TICKET else complaints)

    def test_substitutes_differ_from_the_doer(self) -> None:
        callbacks = month().callbacks
        stand_in = callbacks.present("substitute_for")
        assert 0 < int(stand_in.sum())
        doers = callbacks.decode("agent_id")[stand_in]
        absent = callbacks.decode("substitute_for")[stand_in]
        assert bool((doers != absent).all())


class TestRatingsAndOrders:
    """Ratings lie within their scale; orders come from consultations."""

    def test_ratings_within_scale(self) -> None:
        ratings = month().ratings
        assert 0 < len(ratings)
        score = ratings["score"]
        assert bool(((score >= ratings["scale_min"]) & (score <= ratings["scale_max"])).all())
        assert set(ratings.labels("agent_id")) == set(month().agents.labels("agent_id"))

    def test_orders_paid_and_refunded_in_bounds(self) -> None:
        orders = month().orders
        assert 0 < len(orders)
        assert bool((orders["paid"] <= orders["amount"]).all())
        assert bool((orders["refunded"] <= orders["paid"]).all())
        assert 0 < int((orders["refunded"] > 0).sum())

    def test_orders_come_from_consultations(self) -> None:
        data = month()
        kinds = dict(zip(data.tickets.decode("ticket_id").tolist(),
                         [t.value for t in data.tickets.decode("service_type")]))
        for ticket_id in data.orders.decode("consultation_ticket_id").tolist():
            assert "consultation" == kinds[ticket_id]


class TestValidation:
    """month() rejects sizes that cannot make a month."""

    @pytest.mark.parametrize(("kwargs", "message"), [
        ({"tickets": 0}, "'tickets' must be an integer >= 1 (got 0)"),
        ({"tickets": -5}, "'tickets' must be an integer >= 1 (got -5)"),
        ({"tickets": True}, "'tickets' must be an integer >= 1 (got True)"),
        ({"tickets": 10.0}, "'tickets' must be an integer >= 1 (got 10.0)"),
        ({"stations": 0}, "'stations' must be an integer >= 1 (got 0)"),
        ({"agents": 7, "stations": 4},
         "'agents' must be an integer >= 2 per station (got 7 for 4 stations)"),
        ({"agents": 1, "stations": 1},
         "'agents' must be an integer >= 2 per station (got 1 for 1 stations)"),
        ({"agents": "8", "stations": 1},
         "'agents' must be an integer >= 2 per station (got '8' for 1 stations)"),
    ])
    def test_bad_sizes(self, kwargs: dict[str, object], message: str) -> None:
        with pytest.raises(InvalidRecordError, match=re.escape(message)):
            synth.month(seed=1, **kwargs)  # type: ignore[arg-type]

    def test_two_agents_per_station_is_enough(self) -> None:
        assert 8 == len(synth.month(seed=1, tickets=100, agents=8, stations=4).agents)

    def test_bad_start(self) -> None:
        with pytest.raises(InvalidRecordError, match=re.escape(
                "cannot parse period 'October': use 'YYYY-MM', 'YYYY-Qn' or 'YYYY'")):
            synth.month(seed=1, tickets=10, agents=2, stations=1, start="October")


class TestTicketsOnlyDataset:
    """A Dataset built from tickets alone has empty other tables."""

    def test_other_tables_empty(self) -> None:
        data = Dataset(tickets=month(tickets=500, agents=8, stations=1).tickets)
        assert 500 == len(data.tickets)
        for name in ("agents", "customers", "complaints", "callbacks", "ratings", "orders"):
            table = getattr(data, name)
            assert 0 == len(table), name
            assert table.SCHEMA.names == table.columns
        assert ((), (), None) == (data.teams, data.stations, data.period)
