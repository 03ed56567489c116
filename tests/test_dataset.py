"""Tests of servicekpi.dataset: a month's tables together."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from servicekpi import synth
from servicekpi.dataset import Dataset
from servicekpi.domain import Period, Station, Team
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    Table,
    TicketTable,
)

T0 = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
FIELDS: dict[str, type[Table]] = {
    "tickets": TicketTable, "agents": AgentTable, "customers": CustomerTable,
    "complaints": ComplaintTable, "callbacks": CallbackTable, "ratings": RatingTable,
    "orders": OrderTable,
}


def empty(table: type[Table]) -> Table:
    built, _ = table.from_columns({c.name: [] for c in table.SCHEMA.columns if c.required})
    return built


def two_tickets() -> TicketTable:
    built, _ = TicketTable.from_columns({
        "ticket_id": ["T-1", "T-2"], "agent_id": ["A-1", "A-2"], "station_id": ["S1"] * 2,
        "customer_id": ["C-1", "C-2"], "service_type": ["repair"] * 2,
        "channel": ["phone"] * 2, "opened_at": [T0] * 2}, on_invalid="raise")
    return built


class TestValidation:
    """Only tickets is required; every table must have its own type."""

    def test_tickets_required(self) -> None:
        with pytest.raises(TypeError, match="tickets"):
            Dataset()  # type: ignore[call-arg]

    @pytest.mark.parametrize("name", list(FIELDS))
    def test_wrong_table_type(self, name: str) -> None:
        wrong = ComplaintTable if FIELDS[name] is not ComplaintTable else OrderTable
        values: dict[str, Any] = {"tickets": two_tickets(), name: empty(wrong)}
        expected = FIELDS[name]
        with pytest.raises(TypeError, match=re.escape(
                f"'{name}' must be <class 'servicekpi.tables.{expected.__name__}'> (got "
                f"<{wrong.__name__}: 0 rows")):
            Dataset(**values)

    def test_domain_objects_are_not_tables(self) -> None:
        with pytest.raises(TypeError, match=re.escape(
                "'tickets' must be <class 'servicekpi.tables.TicketTable'> (got [")):
            Dataset(tickets=two_tickets().to_records())  # type: ignore[arg-type]

    def test_defaults_are_empty_tables(self) -> None:
        data = Dataset(tickets=two_tickets())
        for name, table in FIELDS.items():
            value = getattr(data, name)
            assert type(value) is table
            assert (0 if name != "tickets" else 2) == len(value)
        assert ((), (), None) == (data.teams, data.stations, data.period)

    def test_collections_become_tuples(self) -> None:
        team = Team(team_id="T1", name="Hotline")
        station = Station(station_id="S1", name="North", responsible="Wang Wei")
        data = Dataset(tickets=two_tickets(), teams=[team], stations=iter([station]))
        assert ((team,), (station,)) == (data.teams, data.stations)

    def test_frozen(self) -> None:
        data = Dataset(tickets=two_tickets())
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            data.tickets = two_tickets()  # type: ignore[misc]

    def test_equality_is_identity(self) -> None:
        tickets = two_tickets()
        data = Dataset(tickets=tickets)
        assert data == data
        assert Dataset(tickets=tickets) != data

    @pytest.mark.parametrize("name", ["teams", "stations"])
    def test_wrong_team_or_station_type(self, name: str) -> None:
        values: dict[str, Any] = {"tickets": two_tickets(), name: ["T1"]}
        with pytest.raises(TypeError, match=name):
            Dataset(**values)


class TestSummary:
    """summary() names each table and its size."""

    def test_tickets_only(self) -> None:
        assert ("dataset\n"
                "  agents        0 rows\n"
                "  teams         0\n"
                "  stations      0\n"
                "  customers     0 rows\n"
                "  tickets       2 rows\n"
                "  complaints    0 rows\n"
                "  callbacks     0 rows\n"
                "  ratings       0 rows\n"
                "  orders        0 rows\n"
                "  appraisals    0\n"
                "  trainings     0") == Dataset(tickets=two_tickets()).summary()

    def test_with_period_and_people(self) -> None:
        data = Dataset(tickets=two_tickets(), period=Period.month(2026, 10, tz="UTC"),
                       teams=[Team(team_id="T1", name="Hotline")],
                       stations=[Station(station_id="S1", name="N", responsible="W"),
                                 Station(station_id="S2", name="S", responsible="L")])
        lines = data.summary().splitlines()
        assert "dataset for 2026-10 (UTC)" == lines[0]
        assert ["  teams         1", "  stations      2"] == lines[2:4]

    def test_synthetic_month(self) -> None:
        data = synth.month(seed=1, tickets=500, agents=8, stations=1)
        lines = data.summary().splitlines()
        assert "dataset for 2026-10 (Asia/Shanghai)" == lines[0]
        assert 12 == len(lines)
        for name, table in FIELDS.items():
            size = len(getattr(data, name))
            assert f"  {name:<10}{size:>5} rows" in lines
        assert "  agents        8 rows" in lines
        assert "  tickets     500 rows" in lines
