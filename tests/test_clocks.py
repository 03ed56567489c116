"""SLA clocks: the event table's rules, clock definitions, worked examples, the panel path.

The naive event-by-event oracle and its hypothesis properties are in
tests/test_clocks_oracle.py; here every expected number is worked out by hand on a
24/7 UTC calendar, so working seconds are wall seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicekpi import (
    AgentTable,
    ClockDefinition,
    ClockName,
    ClockStatus,
    EventKind,
    Period,
    Policy,
    TicketEvent,
    TicketEventTable,
    TicketTable,
    WorkCalendar,
    clocks_at_risk,
    kpi_panel,
    measure_clocks,
)
from servicekpi.exceptions import InvalidEventError, PolicyError, SchemaError
from servicekpi.kernel import MISSING
from servicekpi.kernel.segments import forward_fill, segment_sums

ALWAYS = WorkCalendar(tz="UTC", hours=[["00:00-24:00"]] * 7)
POLICY = Policy.default().replace(calendar=ALWAYS)
HOUR = 3600


def at(hour: float, day: int = 5) -> datetime:
    return datetime(2026, 10, day, tzinfo=timezone.utc) + timedelta(hours=hour)


def tickets(*rows: tuple[str, str, float], priority: str = "normal") -> TicketTable:
    table, report = TicketTable.from_columns({
        "ticket_id": [r[0] for r in rows], "agent_id": [r[1] for r in rows],
        "station_id": ["S1"] * len(rows), "customer_id": ["C1"] * len(rows),
        "service_type": ["repair"] * len(rows), "channel": ["phone"] * len(rows),
        "priority": [priority] * len(rows), "opened_at": [at(r[2]) for r in rows]})
    assert report.ok
    return table


def events(*rows: tuple[Any, ...], against: TicketTable | None = None) -> TicketEventTable:
    """Rows of (ticket, hour, kind, to_value, actor[, from_value])."""
    table, report = TicketEventTable.from_columns({
        "ticket_id": [r[0] for r in rows], "at": [at(r[1]) for r in rows],
        "kind": [r[2] for r in rows], "to_value": [r[3] for r in rows],
        "actor": [r[4] for r in rows],
        "from_value": [r[5] if len(r) > 5 else None for r in rows]}, tickets=against)
    assert report.ok, str(report)
    return table


def row(table: Any, clock: str, ticket: str = "T1", n: int = 0) -> dict[str, Any]:
    records = [r for r in table.to_records() if r.clock.value == clock and r.ticket_id == ticket]
    return {"status": records[n].status.value, "elapsed": records[n].elapsed,
            "paused": records[n].paused, "agent": records[n].agent_id,
            "stopped_at": records[n].stopped_at, "at_risk": records[n].at_risk,
            "due_at": records[n].due_at, "started_at": records[n].started_at}


class TestEventTable:
    def test_rules_report_every_bad_row(self) -> None:
        t = tickets(("T1", "A1", 8))
        table, report = TicketEventTable.from_columns({
            "ticket_id": ["T1", "T1", "T9", "T1", "T1", "T1"],
            "at": [at(9), at(7), at(9), at(10), at(10), at(11)],
            "kind": ["assignment", "agent_reply", "customer_message", "assignment",
                     "assignment", "status"],
            "to_value": [None, None, None, "A2", "A3", "solved"]}, tickets=t)
        assert [(i.row, i.code) for i in report.issues] == [
            (0, "needs_to_value"), (1, "before_opened"), (2, "unknown_ticket"),
            (3, "same_instant"), (4, "same_instant")]
        assert str(report.issues[3]) == ("row 3 (T1): to_value='A2': another assignment of "
                                         "this ticket at the same second (order unknown) "
                                         "[same_instant]")
        assert report.rows_in == report.rows_valid + report.rows_rejected == 6
        assert len(table) == 1

    def test_duplicates_keep_the_first_row(self) -> None:
        table, report = TicketEventTable.from_columns({
            "ticket_id": ["T1", "T1", "T1"], "at": [at(9)] * 3,
            "kind": ["agent_reply"] * 3, "actor": ["A1", "A2", "A1"]})
        assert [(i.row, i.code) for i in report.issues] == [(2, "duplicate")]
        assert len(table) == 2

    def test_same_status_twice_at_one_second_is_a_duplicate_not_a_clash(self) -> None:
        _, report = TicketEventTable.from_columns({
            "ticket_id": ["T1", "T1"], "at": [at(9)] * 2, "kind": ["status"] * 2,
            "to_value": ["solved", "solved"]})
        assert [i.code for i in report.issues] == ["duplicate"]

    def test_tickets_must_be_a_ticket_table(self) -> None:
        with pytest.raises(TypeError, match="'tickets' must be a TicketTable"):
            TicketEventTable.from_columns({"ticket_id": [], "at": [], "kind": []},
                                          tickets={})  # type: ignore[arg-type]

    def test_records_round_trip(self) -> None:
        record = TicketEvent(ticket_id="T1", at=at(9), kind="assignment", to_value="A2",
                             from_value="A1", actor="M1")
        table = TicketEventTable.from_records([record])
        assert table.to_records() == [record]

    def test_the_record_needs_to_value(self) -> None:
        with pytest.raises(InvalidEventError,
                           match="^a 'status' event needs 'to_value' on ticket 'T1'$"):
            TicketEvent(ticket_id="T1", at=at(9), kind="status")

    def test_event_kinds_keep_their_code_order(self) -> None:
        # The clocks read the int8 codes: status 0, assignment 1, message 2, reply 3.
        assert [k.value for k in EventKind] == ["status", "assignment", "customer_message",
                                                 "agent_reply"]
        assert [c.value for c in ClockName] == ["first_response", "next_reply", "resolution"]


class TestDefinitions:
    @pytest.mark.parametrize(("changes", "message"), [
        ({"stop": ["agent_replied"]},
         "stop: unknown condition 'agent_replied'. Did you mean 'agent_reply'?"),
        ({"start": ["opened"], "stop": ["opened"]},
         "stop: 'opened' can only start a clock"),
        ({"start": ["agent_reply"], "stop": ["agent_reply"]},
         "start and stop: 'agent_reply' is in both (a stop wins, so the start would never "
         "count)"),
        ({"start": ["reopened"], "stop": ["agent_reply"]},
         "start: 'reopened' needs a 'status:<name>' stop condition to leave"),
        ({"stop": ["status:"]}, "stop: 'status:' needs a status name after 'status:' (no "
                                "surrounding spaces)"),
        ({"pause": ["status:waiting"]},
         "pause: 'status:waiting' is not a status name (a plain name such as "
         "'waiting_customer', without 'status:')"),
        ({"start": []}, "start: a clock needs at least one start condition"),
        ({"attribution": "loudest"}, "'attribution' must be in ('ticket', 'first_replier', "
                                     "'assignee_at_stop', 'time_held') (got 'loudest')"),
    ])
    def test_bad_definitions_are_refused(self, changes: dict[str, Any], message: str) -> None:
        fields: dict[str, Any] = {"start": ["opened"], "stop": ["agent_reply"], **changes}
        with pytest.raises(PolicyError, match="^" + message.replace("(", r"\(")
                           .replace(")", r"\)").replace("?", r"\?").replace(".", r"\.")):
            ClockDefinition(**fields)

    def test_policy_sections(self) -> None:
        with pytest.raises(PolicyError, match=r"'at_risk_share' must be in \(0, 1\]"):
            Policy.from_mapping({"sla": {"at_risk_share": 0}})
        with pytest.raises(PolicyError, match="sla.next_reply.low: target must be > 0"):
            Policy.from_mapping({"sla": {"next_reply": {"low": -1}}})
        policy = Policy.from_mapping({"sla": {"clocks": {"resolution": {
            "attribution": "time_held", "quiet": ["legal_hold"]}}}})
        assert policy.sla.clocks["resolution"].quiet == ("legal_hold",)
        assert policy.sla.clocks["resolution"].start == ("opened", "reopened")
        assert Policy.from_toml(policy.to_toml()) == policy


class TestWorkedExamples:
    def test_pause_and_resume(self) -> None:
        # Opened 8:00, reply 9:00 then waiting on the customer until the message at
        # 11:00, solved 12:00: resolution ran 8–9 and 11–12, paused 9–11.
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "agent_reply", None, "A2"),
                   ("T1", 9, "status", "waiting_customer", "A2"),
                   ("T1", 11, "customer_message", None, None),
                   ("T1", 12, "status", "solved", "A1"), against=t)
        clocks = measure_clocks(t, e, now=at(13), policy=POLICY)
        assert row(clocks, "resolution") == {
            "status": "achieved", "elapsed": 2 * HOUR, "paused": 2 * HOUR, "agent": "A1",
            "stopped_at": at(12), "at_risk": False, "due_at": None, "started_at": at(8)}
        assert row(clocks, "first_response")["agent"] == "A2"  # the first replier
        assert row(clocks, "next_reply")["elapsed"] == HOUR  # 11:00 to the solve at 12:00

    def test_a_reopened_ticket_continues_its_resolution_clock(self) -> None:
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 10, "status", "solved", None), ("T1", 12, "status", "open", None),
                   ("T1", 13, "status", "solved", None))
        clocks = measure_clocks(t, e, now=at(14), policy=POLICY)
        got = row(clocks, "resolution")
        assert (got["elapsed"], got["stopped_at"], got["status"]) == (3 * HOUR, at(13),
                                                                    "achieved")
        # Judged at 12:30 the ticket is open again and the clock is running.
        early = row(measure_clocks(t, e, now=at(12.5), policy=POLICY), "resolution")
        assert (early["elapsed"], early["status"], early["stopped_at"]) == (
            int(2.5 * HOUR), "running", None)

    def test_messages_before_a_reply_open_one_next_reply_instance(self) -> None:
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "customer_message", None, None),
                   ("T1", 9.5, "customer_message", None, None),
                   ("T1", 10, "customer_message", None, None),
                   ("T1", 11, "agent_reply", None, "A1"),
                   ("T1", 12, "customer_message", None, None))
        clocks = measure_clocks(t, e, now=at(14), policy=POLICY)
        assert row(clocks, "next_reply", n=0)["elapsed"] == 2 * HOUR
        second = row(clocks, "next_reply", n=1)
        # 2 h of a 4 h target: running, not yet at risk (needs 3 h = 75 %).
        assert (second["status"], second["elapsed"], second["at_risk"]) == ("running",
                                                                          2 * HOUR, False)
        assert second["due_at"] == at(16)
        late = row(measure_clocks(t, e, now=at(15), policy=POLICY), "next_reply", n=1)
        assert late["at_risk"] is True

    def test_time_held_split_hand_offs_and_teams(self) -> None:
        # A1 holds 8–9, A2 holds 9–11 when it is solved: resolution split 1/3 : 2/3.
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "assignment", "A2", "M1", "A1"),
                   ("T1", 11, "status", "solved", "A2"))
        policy = Policy.from_mapping({"sla": {"clocks": {"resolution": {
            "attribution": "time_held"}}}}).replace(calendar=ALWAYS)
        roster, _ = AgentTable.from_columns({
            "agent_id": ["A1", "A2"], "role": ["field_engineer"] * 2,
            "team_id": ["red", "blue"], "station_id": ["S1"] * 2})
        clocks = measure_clocks(t, e, now=at(12), policy=policy, agents=roster)
        index = [r.clock for r in clocks.to_records()].index(ClockName.RESOLUTION)
        assert clocks.credits.to_dict()[index] == pytest.approx({"A1": 1 / 3, "A2": 2 / 3})
        assert row(clocks, "resolution")["agent"] == "A2"
        assert clocks.time_held() == {"A1": HOUR, "A2": 2 * HOUR}
        assert clocks.time_held("team") == {"blue": 2 * HOUR, "red": HOUR}
        assert clocks.handoffs() == {("A1", "A2"): 1}
        assert clocks.handoffs("team") == {("red", "blue"): 1}
        with pytest.raises(SchemaError, match="hand-offs by team need the roster"):
            measure_clocks(t, e, now=at(12), policy=policy).handoffs("team")

    def test_quiet_statuses_silence_warnings_but_the_clock_runs(self) -> None:
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "status", "legal_hold", None))
        policy = Policy.from_mapping({"sla": {"clocks": {"resolution": {
            "quiet": ["legal_hold"]}}}}).replace(calendar=ALWAYS)
        loud = row(measure_clocks(t, e, now=at(21), policy=POLICY), "resolution")
        quiet = row(measure_clocks(t, e, now=at(21), policy=policy), "resolution")
        assert (loud["elapsed"], loud["at_risk"]) == (13 * HOUR, True)  # 13 of 16 h
        assert (quiet["elapsed"], quiet["at_risk"]) == (13 * HOUR, False)

    def test_open_tickets_are_judged_and_breaches_have_no_due_time(self) -> None:
        t = tickets(("T1", "A1", 8), ("T2", "A1", 30))
        e = events(("T1", 40, "agent_reply", None, "A1"))
        clocks = measure_clocks(t, e, now=at(20), policy=POLICY)
        assert {r.ticket_id for r in clocks.to_records()} == {"T1"}  # T2 not yet open
        first = row(clocks, "first_response")  # the reply at 40:00 has not happened
        assert (first["status"], first["elapsed"], first["due_at"]) == ("breached",
                                                                      12 * HOUR, None)
        assert clocks.counts()["resolution"] == {"running": 1, "paused": 0, "achieved": 0,
                                                 "breached": 0}

    def test_events_of_unknown_tickets_are_counted_not_judged(self) -> None:
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "agent_reply", None, "A1"), ("T9", 9, "agent_reply", None, "A1"))
        clocks = measure_clocks(t, e, now=at(10), policy=POLICY)
        assert clocks.unmatched_events == 1
        assert len(clocks) == 2  # T1's first response and resolution

    def test_at_risk_lists_the_soonest_due_first(self) -> None:
        t = tickets(("T1", "A1", 8), ("T2", "A2", 7.5))
        e = events(("T1", 8.5, "agent_reply", None, "A1"),
                   ("T2", 7.75, "agent_reply", None, "A2"))
        risky = clocks_at_risk(e, tickets=t, now=at(20), policy=POLICY)
        assert [(r.ticket_id, r.clock.value, r.due_at) for r in risky.to_records()] == [
            ("T2", "resolution", at(23.5)), ("T1", "resolution", at(24))]
        assert str(risky).splitlines()[1].split() == [
            "resolution", "T2", "running", "12:30:00", "of", "16:00:00", "paused", "0:00:00",
            "AT", "RISK", "A2"]

    def test_bad_arguments(self) -> None:
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "agent_reply", None, "A1"))
        with pytest.raises(TypeError, match="'events' must be a TicketEventTable"):
            measure_clocks(t, t, now=at(9))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="'now' must be an aware datetime"):
            measure_clocks(t, e, now="2026-10-05")  # type: ignore[arg-type]
        with pytest.raises(SchemaError, match="computed by measure_clocks"):
            type(measure_clocks(t, e, now=at(9))).from_columns({})


class TestPanel:
    def test_attribution_moves_the_credit(self) -> None:
        # T1 opened by A1, reassigned to A2 who replies and solves: the first response
        # and the resolution are A2's; without events both stay with A1 (the ticket).
        t = tickets(("T1", "A1", 8))
        e = events(("T1", 9, "assignment", "A2", None),
                   ("T1", 10, "agent_reply", None, "A2"),
                   ("T1", 11, "customer_message", None, None),
                   ("T1", 20, "status", "solved", "A2"))
        period = Period.parse("2026-10", tz="UTC")
        panel = kpi_panel(t, period=period, policy=POLICY, events=e)
        assert panel.keys == ("A1", "A2")
        a2 = panel.row("A2")
        assert (a2["sla_first_response_rate"], a2["sla_resolution_rate"]) == (1.0, 1.0)
        # The message at 11:00 waits 9 h for the solve: past the 4 h next-reply target.
        assert a2["sla_next_reply_rate"] == 0.0
        assert panel.denominator("sla_first_response_rate").tolist() == [0.0, 1.0]
        plain = kpi_panel(t, period=period, policy=POLICY)
        assert np.isnan(plain.row("A1")["sla_next_reply_rate"])
        assert plain.denominator("sla_next_reply_rate").tolist() == [0.0]

    def test_the_period_end_judges_and_later_events_do_not_count(self) -> None:
        t = tickets(("T1", "A1", 24 * 26))  # opened 31 Oct 00:00
        e = events(("T1", 24 * 26 + 23, "agent_reply", None, "A1"),  # 31 Oct 23:00
                   ("T1", 24 * 27 + 1, "status", "solved", "A1"))  # 1 Nov 01:00
        period = Period.parse("2026-10", tz="UTC")
        panel = kpi_panel(t, period=period, policy=POLICY, events=e)
        row_ = panel.row("A1")
        assert row_["sla_first_response_rate"] == 0.0  # 23 h for a 2 h target
        # Solved after the period: at its end 24 h open for a 16 h target, breached.
        assert row_["sla_resolution_rate"] == 0.0
        assert panel.denominator("sla_resolution_rate")[0] == 1.0


class TestSegments:
    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.booleans(), st.integers(-5, 5)), min_size=1, max_size=40))
    def test_forward_fill_is_the_running_last_defined(self,
                                                      rows: list[tuple[bool, int]]) -> None:
        defined = np.array([True] + [d for d, _ in rows[1:]])
        values = np.array([v for _, v in rows])
        expected, last = [], 0
        for d, v in zip(defined, values, strict=True):
            last = int(v) if d else last
            expected.append(last)
        assert forward_fill(values, defined).tolist() == expected

    def test_forward_fill_needs_a_defined_first_row(self) -> None:
        with pytest.raises(ValueError, match="the first row must be defined"):
            forward_fill(np.array([1, 2]), np.array([False, True]))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(-100, 100), min_size=1, max_size=30), st.data())
    def test_segment_sums(self, values: list[int], data: st.DataObject) -> None:
        cuts = sorted(data.draw(st.sets(st.integers(1, len(values)), max_size=5)))
        starts = np.array([0, *cuts])
        bounds = [*starts.tolist(), len(values)]
        expected = [sum(values[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
        assert segment_sums(np.array(values), starts).tolist() == expected


def test_missing_is_the_no_time_value() -> None:
    t = tickets(("T1", "A1", 8))
    e = events(("T1", 9, "agent_reply", None, "A1"))
    clocks = measure_clocks(t, e, now=at(9), policy=POLICY)
    assert clocks["stopped_at"][clocks["clock"] == 2].tolist() == [MISSING]
    assert clocks.decode("status").tolist() == [ClockStatus.ACHIEVED, ClockStatus.RUNNING]


def test_nothing_open_yet_gives_an_empty_table() -> None:
    t = tickets(("T1", "A1", 8))
    empty, _ = TicketEventTable.from_columns({"ticket_id": [], "at": [], "kind": []})
    clocks = measure_clocks(t, empty, now=at(7), policy=POLICY)
    assert (len(clocks), clocks.time_held(), clocks.handoffs()) == (0, {}, {})
    assert len(clocks_at_risk(empty, tickets=t, now=at(7))) == 0


class TestIntegration:
    def test_a_dataset_with_events_evaluates_with_clocks(self) -> None:
        from servicekpi import evaluate, synth

        data = synth.month(seed=4, tickets=1_500, agents=10, stations=1)
        assert data.period is not None
        plain = evaluate(data, period=data.period)
        history = synth.events(data.tickets, seed=4)
        with_events = evaluate(attrs.evolve(data, events=history), period=data.period)
        expected = kpi_panel(data.tickets, period=data.period, callbacks=data.callbacks,
                             complaints=data.complaints, orders=data.orders, events=history)
        assert with_events.panel["sla_next_reply_rate"].tolist() == \
            expected["sla_next_reply_rate"].tolist()
        assert np.isnan(plain.panel["sla_next_reply_rate"]).all()
        assert "events     " in attrs.evolve(data, events=history).summary()

    def test_validate_against_catches_what_parts_missed(self) -> None:
        t = tickets(("T1", "A1", 8))
        first = events(("T1", 9, "customer_message", None, None))
        again = events(("T1", 9, "customer_message", None, None),
                       ("T1", 7, "agent_reply", None, "A1"))
        both, _ = TicketEventTable.from_columns({
            name: [*first.to_columns()[name], *again.to_columns()[name]]
            for name in first.columns})  # one table, validated as a whole: the duplicate goes
        assert len(both) == 2
        glued = TicketEventTable.from_records([*first.to_records(), *again.to_records()[1:]])
        kept, report = glued.validate_against(t)
        assert [(i.row, i.code, i.value) for i in report.issues] == [
            (1, "before_opened", at(7))]
        assert len(kept) == 1


class TestBlocks:
    """Big inputs run in blocks of whole tickets; any block size gives the same clocks."""

    @pytest.mark.parametrize("rows", [1, 5, 37, 1000])
    def test_block_size_does_not_matter(self, rows: int,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
        from servicekpi import clocks as module
        from servicekpi import synth

        data = synth.month(seed=9, tickets=600, agents=12, stations=2)
        history = synth.events(data.tickets, seed=9)
        assert data.period is not None
        now = data.period.start + timedelta(days=12)
        policy = Policy.from_mapping({"sla": {"clocks": {"resolution": {
            "attribution": "time_held"}}}})
        whole = measure_clocks(data.tickets, history, now=now, policy=policy)
        panel = kpi_panel(data.tickets, period=data.period, policy=policy, events=history)
        monkeypatch.setattr(module, "_BLOCK_ROWS", rows)
        parts = measure_clocks(data.tickets, history, now=now, policy=policy)
        assert parts == whole
        assert parts.credits.to_dict() == whole.credits.to_dict()
        assert (parts.time_held(), parts.handoffs()) == (whole.time_held(), whole.handoffs())
        blocked = kpi_panel(data.tickets, period=data.period, policy=policy, events=history)
        for name in ("sla_first_response_rate", "sla_next_reply_rate", "sla_resolution_rate"):
            assert blocked.numerator(name).tolist() == panel.numerator(name).tolist()
            assert blocked.denominator(name).tolist() == panel.denominator(name).tolist()


    @pytest.mark.parametrize(("key_bits", "sort_bits"), [(62, 63), (62, 0), (0, 0)])
    def test_sort_strategy_does_not_matter(self, key_bits: int, sort_bits: int,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
        """The packed value sort, the packed argsort and the lexsort fallback order a
        shuffled history with same-second ties alike: ties by content, not input order."""
        from servicekpi import clocks as module
        from servicekpi import synth

        monkeypatch.setattr(module, "_KEY_BITS", key_bits)
        monkeypatch.setattr(module, "_SORT_BITS", sort_bits)
        t = tickets(("T1", "A1", 8))
        replies = [("T1", 9, "agent_reply", None, "A-9"), ("T1", 9, "agent_reply", None, "A-2")]
        for rows in (replies, replies[::-1]):
            assert row(measure_clocks(t, events(*rows), now=at(10), policy=POLICY),
                       "first_response")["agent"] == "A-2"

        data = synth.month(seed=5, tickets=300, agents=8, stations=2)
        columns = synth.events(data.tickets, seed=5).to_columns()
        columns["at"] = [t.replace(minute=0, second=0) for t in columns["at"]]
        shuffle = np.random.default_rng(5).permutation(len(columns["at"]))
        shuffled = {name: [values[i] for i in shuffle] for name, values in columns.items()}
        assert data.period is not None
        now = data.period.start + timedelta(days=20)
        got = measure_clocks(data.tickets, TicketEventTable.from_columns(shuffled)[0],
                             now=now, policy=POLICY)
        monkeypatch.undo()
        expected = measure_clocks(data.tickets, TicketEventTable.from_columns(columns)[0],
                                  now=now, policy=POLICY)
        assert got.to_records() == expected.to_records()
        assert got.handoffs() == expected.handoffs()


def test_decades_long_ticket_is_exact() -> None:
    """Past 2**31 working seconds of a ticket (68 years round the clock) the running and
    paused sums no longer share one int64; they stay exact."""
    def year(y: int) -> datetime:
        return datetime(y, 1, 2, tzinfo=timezone.utc)

    def seconds(a: int, b: int) -> int:
        return int((year(b) - year(a)).total_seconds())

    t, _ = TicketTable.from_columns({
        "ticket_id": ["T1"], "agent_id": ["A1"], "station_id": ["S1"], "customer_id": ["C1"],
        "service_type": ["repair"], "channel": ["phone"], "opened_at": [year(1970)]})
    e, _ = TicketEventTable.from_columns({
        "ticket_id": ["T1"] * 3, "at": [year(1980), year(2000), year(2045)],
        "kind": ["status", "customer_message", "status"],
        "to_value": ["waiting_customer", None, "solved"]})
    clock = row(measure_clocks(t, e, now=year(2046), policy=POLICY), "resolution")
    assert seconds(1970, 2045) >= 2**31
    assert (clock["elapsed"], clock["paused"]) == (seconds(1970, 1980) + seconds(2000, 2045),
                                                   seconds(1980, 2000))


def test_events_validated_against_tickets_share_their_ids() -> None:
    t = tickets(("T1", "A1", 8), ("T2", "A1", 8))
    e = events(("T2", 9, "agent_reply", None, "A1"), against=t)
    assert e.labels("ticket_id") is t.labels("ticket_id")  # no look-up when measuring
    assert e.decode("ticket_id").tolist() == ["T2"]
    loose = events(("T2", 9, "agent_reply", None, "A1"))
    assert measure_clocks(t, e, now=at(10), policy=POLICY) == \
        measure_clocks(t, loose, now=at(10), policy=POLICY)
