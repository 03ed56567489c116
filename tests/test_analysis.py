"""Tests of servicekpi.rules.analysis: the monthly complaint analysis and penalty summary."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from servicekpi.domain import Callback, Complaint, EscalationLevel, Period
from servicekpi.exceptions import NaiveDatetimeError
from servicekpi.policy import EscalationPolicy, Policy
from servicekpi.rules.analysis import (
    ComplaintAnalysis,
    PenaltyRow,
    PenaltyStatus,
    StationShare,
    complaint_analysis,
)
from servicekpi.rules.escalation import escalate
from servicekpi.tables import CallbackTable, ComplaintTable, OrderTable, TicketTable

CST = timezone(timedelta(hours=8))
GENERAL, REPEAT, SEVERE = EscalationLevel.GENERAL, EscalationLevel.REPEAT, EscalationLevel.SEVERE
MARCH = Period.month(2024, 3, tz="Asia/Shanghai")
DEFAULT = Policy.default()
ENFORCED, RECORD_ONLY = PenaltyStatus.ENFORCED, PenaltyStatus.RECORD_ONLY


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=CST)


def complaint(complaint_id: str, station: str, responsible: str, customer: str,
              matter: str, received_at: datetime, **changes: Any) -> Complaint:
    return Complaint(complaint_id=complaint_id, customer_id=customer, station_id=station,
                     responsible=responsible, source=changes.pop("source", "hotline"),
                     complaint_type=matter, received_at=received_at, **changes)


def callback(callback_id: str, subject_id: str, done_at: datetime, outcome: str) -> Callback:
    return Callback(callback_id=callback_id, subject="complaint", subject_id=subject_id,
                    due_from=done_at, due_by=done_at, done_at=done_at, outcome=outcome)


# The month: March 2024 in Shanghai. Expected levels as of the end of the month:
#   K-01 S1 general (closed)      K-02 S1 general          K-09 S1 severe (safety flag)
#   K-03 S2 repeat (2 unsolved callbacks, then solved)     K-04 S2 severe (walk-in)
#   K-05 S3 repeat (K-00 of February: same customer, same matter)   K-06 S3 general
#   K-08 S4 general (S4 has no volume)
#   K-00 (February) and K-07 (April, media) are outside the period.
COMPLAINTS = [
    complaint("K-00", "S3", "Zhao", "C-5", "late_delivery", at(2, 25)),
    complaint("K-01", "S1", "Wang", "C-1", "late_delivery", at(3, 5),
              closed_at=at(3, 6)),
    complaint("K-02", "S1", "Wang", "C-2", "billing", at(3, 6)),
    complaint("K-03", "S2", "Li", "C-3", "late_delivery", at(3, 10)),
    complaint("K-04", "S2", "Li", "C-4", "attitude", at(3, 15), source="walk_in"),
    complaint("K-05", "S3", "Zhao", "C-5", "late_delivery", at(3, 20)),
    complaint("K-06", "S3", "Zhao", "C-6", "billing", at(3, 25)),
    complaint("K-07", "S1", "Wang", "C-7", "billing", at(4, 2), flags="media"),
    complaint("K-08", "S4", "Sun", "C-8", "billing", at(3, 28)),
    complaint("K-09", "S1", "Wang", "C-9", "attitude", at(3, 29), flags="safety"),
]
CALLBACKS = [
    callback("CB-1", "K-03", at(3, 11), "unsolved"),
    callback("CB-2", "K-03", at(3, 12), "unsolved"),
    callback("CB-3", "K-03", at(3, 13), "solved"),
    callback("CB-4", "K-404", at(3, 13), "unsolved"),
]
TABLE = ComplaintTable.from_records(COMPLAINTS)
CALLBACK_TABLE = CallbackTable.from_records(CALLBACKS)
VOLUME = {"S1": 150, "S2": 100, "S3": 50}  # shares 0.02, 0.02, 0.04


def analyse(**options: Any) -> ComplaintAnalysis:
    return complaint_analysis(TABLE, CALLBACK_TABLE, period=MARCH, **options)


def penalty(responsible: str, station: str, repeat: int, severe: int, amount: float,
            ids: tuple[str, ...], status: PenaltyStatus = ENFORCED) -> PenaltyRow:
    return PenaltyRow(responsible=responsible, station_id=station, repeat=repeat,
                      severe=severe, amount=amount, status=status, complaint_ids=ids)


PENALTIES = (penalty("Li", "S2", 1, 1, 700.0, ("K-03", "K-04")),
             penalty("Wang", "S1", 0, 1, 500.0, ("K-09",)),
             penalty("Zhao", "S3", 1, 0, 200.0, ("K-05",)))


def _shares(analysis: ComplaintAnalysis) -> list[tuple[str, int, float, int | None]]:
    """(station, complaints, volume, rank) in result order; shares checked separately."""
    return [(s.station_id, s.complaints, s.volume, s.rank) for s in analysis.stations]


class TestMonth:
    """The hand-written month: counts, levels, shares, ranks and penalties."""

    def test_counts(self) -> None:
        analysis = analyse(volume=VOLUME)
        assert MARCH == analysis.period
        assert 8 == analysis.complaints
        assert [("billing", 3), ("late_delivery", 3), ("attitude", 2)] == list(
            analysis.by_type.items())
        assert {GENERAL: 4, REPEAT: 2, SEVERE: 2} == dict(analysis.by_level)

    def test_repeat_and_severe_with_explanations(self) -> None:
        analysis = analyse(volume=VOLUME)
        assert ["K-03", "K-05"] == [e.complaint_id for e in analysis.repeat]
        assert ["K-04", "K-09"] == [e.complaint_id for e in analysis.severe]
        assert ("repeat-unsolved-callbacks",) == analysis.repeat[0].fired
        assert ("CB-1", "CB-2") == analysis.repeat[0].evidence
        assert ("repeat-same-matter",) == analysis.repeat[1].fired
        assert ("K-00",) == analysis.repeat[1].evidence
        for item in analysis.repeat + analysis.severe:
            original = next(c for c in COMPLAINTS if c.complaint_id == item.complaint_id)
            assert escalate(original, callbacks=CALLBACKS, history=COMPLAINTS,
                            now=MARCH.end) == item

    def test_shares_and_ranks_with_a_tie(self) -> None:
        analysis = analyse(volume=VOLUME)
        assert [("S1", 3, 150.0, 1), ("S2", 2, 100.0, 1), ("S3", 2, 50.0, 3),
                ("S4", 1, 0.0, None)] == _shares(analysis)
        shares = [s.share for s in analysis.stations]
        assert [0.02, 0.02, 0.04] == pytest.approx(shares[:3])
        assert math.isnan(shares[3])

    def test_rank_skips_after_ties_and_zero_share_ranks_first(self) -> None:
        analysis = analyse(volume={**VOLUME, "S5": 10, "S6": 0})
        assert [("S5", 0, 10.0, 1), ("S1", 3, 150.0, 2), ("S2", 2, 100.0, 2),
                ("S3", 2, 50.0, 4), ("S4", 1, 0.0, None), ("S6", 0, 0.0, None),
                ] == _shares(analysis)
        assert 0.0 == analysis.stations[0].share
        assert math.isnan(analysis.stations[5].share)

    def test_penalty_summary(self) -> None:
        analysis = analyse(volume=VOLUME)
        assert PENALTIES == analysis.penalties
        assert 1400.0 == analysis.penalty_total
        assert not analysis.special_period

    def test_amounts_from_the_policy(self) -> None:
        policy = DEFAULT.replace(escalation=EscalationPolicy(repeat_penalty=100,
                                                             severe_penalty=1000.5))
        analysis = analyse(policy=policy)
        assert [("Li", 1100.5), ("Wang", 1000.5), ("Zhao", 100.0)] == [
            (p.responsible, p.amount) for p in analysis.penalties]

    def test_equal_amounts_sort_by_person(self) -> None:
        policy = DEFAULT.replace(escalation=EscalationPolicy(repeat_penalty=500))
        assert [("Li", 1000.0), ("Wang", 500.0), ("Zhao", 500.0)] == [
            (p.responsible, p.amount) for p in analyse(policy=policy).penalties]

    def test_one_person_two_stations_two_rows(self) -> None:
        extra = complaint("K-10", "S2", "Wang", "C-10", "billing", at(3, 30),
                          source="walk_in")
        analysis = complaint_analysis(ComplaintTable.from_records([*COMPLAINTS, extra]),
                                      CALLBACK_TABLE, period=MARCH)
        assert [("Li", "S2", 700.0), ("Wang", "S1", 500.0), ("Wang", "S2", 500.0),
                ("Zhao", "S3", 200.0)] == [(p.responsible, p.station_id, p.amount)
                                           for p in analysis.penalties]

    def test_report_of_unusable_callbacks(self) -> None:
        report = analyse().report
        assert {"unknown_complaint": 1} == report.counts()
        assert "CB-4" == report.issues[0].key

    def test_now_defaults_to_the_period_end(self) -> None:
        explicit, default = analyse(now=MARCH.end), analyse()
        assert ((explicit.repeat, explicit.severe, explicit.penalties)
                == (default.repeat, default.severe, default.penalties))
        # three weeks later K-05 is a repeat complaint unsolved for 10 working days
        later = analyse(now=at(4, 20))
        assert ["K-03"] == [e.complaint_id for e in later.repeat]
        assert ["K-04", "K-05", "K-09"] == [e.complaint_id for e in later.severe]
        assert penalty("Zhao", "S3", 0, 1, 500.0, ("K-05",)) == later.penalties[-1]


class TestPeriodAndHistory:
    """Only complaints received in the period count; earlier ones still make repeats."""

    def test_outside_the_period_not_counted(self) -> None:
        analysis = analyse()
        ids = {e.complaint_id for e in analysis.repeat + analysis.severe}
        assert "K-07" not in ids  # April, flagged media
        assert "K-00" not in ids
        assert 8 == sum(analysis.by_level.values())

    def test_history_makes_the_repeat(self) -> None:
        without = [c for c in COMPLAINTS if c.complaint_id != "K-00"]
        analysis = complaint_analysis(ComplaintTable.from_records(without), CALLBACK_TABLE,
                                      period=MARCH)
        assert ["K-03"] == [e.complaint_id for e in analysis.repeat]
        assert ("Li", "Wang") == tuple(p.responsible for p in analysis.penalties)

    def test_other_periods(self) -> None:
        april = complaint_analysis(TABLE, CALLBACK_TABLE, period=MARCH.next())
        assert 1 == april.complaints
        assert ["K-07"] == [e.complaint_id for e in april.severe]
        assert (penalty("Wang", "S1", 0, 1, 500.0, ("K-07",)),) == april.penalties
        february = complaint_analysis(TABLE, CALLBACK_TABLE, period=MARCH.previous())
        assert (1, ()) == (february.complaints, february.penalties)

    def test_period_boundaries_in_the_period_zone(self) -> None:
        edge = [complaint("K-A", "S1", "Wang", "C-1", "billing", MARCH.start),
                complaint("K-B", "S1", "Wang", "C-2", "billing",
                          MARCH.end - timedelta(seconds=1)),
                complaint("K-C", "S1", "Wang", "C-3", "billing", MARCH.end),
                complaint("K-D", "S1", "Wang", "C-4", "billing",
                          MARCH.start - timedelta(seconds=1))]
        analysis = complaint_analysis(ComplaintTable.from_records(edge), period=MARCH)
        assert 2 == analysis.complaints

    def test_month_without_complaints(self) -> None:
        ticket_callback = Callback(callback_id="CB-1", subject="ticket", subject_id="T-1",
                                   due_from=at(3, 5), due_by=at(3, 6), done_at=at(3, 5),
                                   outcome="solved")
        analysis = complaint_analysis(ComplaintTable.from_records([]),
                                      CallbackTable.from_records([ticket_callback]),
                                      period=MARCH, volume=VOLUME)
        assert (0, (), 0.0) == (analysis.complaints, analysis.penalties,
                                analysis.penalty_total)
        assert [("S1", 0, 150.0, 1), ("S2", 0, 100.0, 1), ("S3", 0, 50.0, 1)] == _shares(
            analysis)

    def test_month_without_anything(self) -> None:
        analysis = complaint_analysis(ComplaintTable.from_records([]), period=MARCH)
        assert (0, (), (), ()) == (analysis.complaints, analysis.stations, analysis.repeat,
                                   analysis.penalties)
        assert {GENERAL: 0, REPEAT: 0, SEVERE: 0} == dict(analysis.by_level)

    def test_naive_now(self) -> None:
        with pytest.raises(NaiveDatetimeError, match=exactly(
                "'now' must be a timezone-aware datetime (got datetime.datetime(2024, 4, 1, "
                "0, 0))")):
            analyse(now=datetime(2024, 4, 1))

    def test_period_must_be_a_period(self) -> None:
        with pytest.raises(TypeError, match=exactly("'period' must be a Period (got '2024-03')")):
            complaint_analysis(TABLE, period="2024-03")  # type: ignore[arg-type]


class TestPenaltyStatus:
    """ENFORCED by default; RECORD_ONLY in a special period or when the policy says so."""

    @pytest.mark.parametrize(("enforce", "special_period", "status"), [
        (True, None, ENFORCED),
        (True, True, RECORD_ONLY),
        (True, False, ENFORCED),
        (False, None, RECORD_ONLY),
        (False, True, RECORD_ONLY),
        (False, False, ENFORCED),  # an explicit False overrides the policy
    ])
    def test_status(self, enforce: bool, special_period: bool | None,
                    status: PenaltyStatus) -> None:
        policy = DEFAULT.replace(escalation=EscalationPolicy(enforce_penalties=enforce))
        analysis = analyse(policy=policy, special_period=special_period)
        assert tuple(attrs.evolve(p, status=status) for p in PENALTIES) == analysis.penalties
        assert (status is RECORD_ONLY) == analysis.special_period
        assert 1400.0 == analysis.penalty_total  # recorded amounts are still summed


class TestVolume:
    """The volume is a TicketTable, an OrderTable or a mapping; bad volumes are refused."""

    def _tickets(self) -> TicketTable:
        stations = ["S1"] * 6 + ["S2"] * 4 + ["S3"] * 2 + ["S1", "S3"]
        opened = [at(3, 1 + i % 28) for i in range(12)] + [at(2, 28), at(4, 1)]
        n = len(stations)
        table, report = TicketTable.from_columns({
            "ticket_id": [f"T-{i}" for i in range(n)], "agent_id": ["A-1"] * n,
            "customer_id": ["C-1"] * n, "station_id": stations,
            "service_type": ["repair"] * n, "channel": ["phone"] * n, "opened_at": opened})
        assert report.ok
        return table

    def _orders(self) -> OrderTable:
        names = ["S1"] * 6 + ["S2"] * 4 + ["S3"] * 2 + ["", "S2"]  # "": no station
        stations = [name or None for name in names]
        created = [at(3, 2 + i) for i in range(13)] + [at(4, 1, 0)]
        n = len(stations)
        table, report = OrderTable.from_columns({
            "order_id": [f"O-{i}" for i in range(n)], "customer_id": ["C-1"] * n,
            "agent_id": ["A-1"] * n, "created_at": created, "amount": ["10.00"] * n,
            "station_id": stations})
        assert report.ok
        return table

    def test_tickets_orders_and_mapping_agree(self) -> None:
        expected = [("S1", 3, 6.0, 1), ("S2", 2, 4.0, 1), ("S3", 2, 2.0, 3),
                    ("S4", 1, 0.0, None)]
        by_tickets = analyse(volume=self._tickets())
        by_orders = analyse(volume=self._orders())
        by_mapping = analyse(volume={"S1": 6, "S2": 4.0, "S3": 2})
        assert expected == _shares(by_tickets)
        assert by_tickets.stations[:3] == by_orders.stations[:3] == by_mapping.stations[:3]
        assert [0.5, 0.5, 1.0] == [s.share for s in by_tickets.stations[:3]]

    def test_no_volume_no_shares(self) -> None:
        analysis = analyse()
        assert [("S1", 3, 0.0, None), ("S2", 2, 0.0, None), ("S3", 2, 0.0, None),
                ("S4", 1, 0.0, None)] == _shares(analysis)
        assert all(math.isnan(s.share) for s in analysis.stations)

    @pytest.mark.parametrize(("volume", "error", "message"), [
        ({"S1": -1}, ValueError, "volume of station 'S1' must be a number >= 0 (got -1)"),
        ({"S1": 10, "S2": "100"}, ValueError,
         "volume of station 'S2' must be a number >= 0 (got '100')"),
        ({"S1": True}, ValueError, "volume of station 'S1' must be a number >= 0 (got True)"),
        ({"S1": None}, ValueError, "volume of station 'S1' must be a number >= 0 (got None)"),
        ([("S1", 10)], TypeError,
         "'volume' must be a TicketTable, an OrderTable or a mapping (got list)"),
        (CALLBACK_TABLE, TypeError,
         "'volume' must be a TicketTable, an OrderTable or a mapping (got CallbackTable)"),
    ])
    def test_bad_volume(self, volume: Any, error: type[Exception], message: str) -> None:
        with pytest.raises(error, match=exactly(message)):
            analyse(volume=volume)

    def test_nan_volume_refused(self) -> None:
        with pytest.raises(ValueError, match=exactly(
                "volume of station 'S1' must be a number >= 0 (got nan)")):
            analyse(volume={"S1": float("nan")})


class TestExport:
    """to_records() gives plain rows per section; PenaltyRow.explain() one sentence."""

    def test_to_records(self) -> None:
        records = analyse(volume=VOLUME).to_records()
        assert ["by_type", "by_level", "stations", "escalations", "penalties"] == list(records)
        assert [{"complaint_type": "billing", "complaints": 3},
                {"complaint_type": "late_delivery", "complaints": 3},
                {"complaint_type": "attitude", "complaints": 2}] == records["by_type"]
        assert [{"level": "general", "complaints": 4}, {"level": "repeat", "complaints": 2},
                {"level": "severe", "complaints": 2}] == records["by_level"]
        stations = records["stations"]
        assert {"station_id": "S1", "complaints": 3, "volume": 150.0, "rank": 1} == {
            k: v for k, v in stations[0].items() if k != "share"}
        assert 0.02 == pytest.approx(stations[0]["share"])
        assert "S4" == stations[3]["station_id"] and stations[3]["rank"] is None
        assert ["K-04", "K-09", "K-03", "K-05"] == [
            e["complaint_id"] for e in records["escalations"]]
        assert {"complaint_id": "K-05", "level": "repeat", "fired": ["repeat-same-matter"],
                "reasons": ["the same customer complained about the same matter within 30 "
                            "days: 1 earlier complaint on the same matter within 30 days "
                            "(>= 1)"],
                "evidence": ["K-00"]} == records["escalations"][3]
        assert {"responsible": "Li", "station_id": "S2", "repeat": 1, "severe": 1,
                "amount": 700.0, "status": "enforced",
                "complaint_ids": ["K-03", "K-04"]} == records["penalties"][0]
        assert 3 == len(records["penalties"])

    def test_explain(self) -> None:
        assert ("Li (S2) is charged 700 for 1 repeat and 1 severe complaints: K-03, K-04"
                == PENALTIES[0].explain())
        recorded = attrs.evolve(PENALTIES[2], status=RECORD_ONLY, amount=200.5)
        assert ("Zhao (S3) is recorded for 200.5 for 1 repeat and 0 severe complaints: K-05"
                == recorded.explain())

    def test_explain_large_amount(self) -> None:
        row = penalty("Li", "S2", 0, 1, 1_234_567.0, ("K-04",))
        assert "Li (S2) is charged 1234567 for 0 repeat and 1 severe complaints: K-04" == (
            row.explain())

    def test_value_objects_are_frozen(self) -> None:
        share = analyse(volume=VOLUME).stations[0]
        assert isinstance(share, StationShare)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            share.rank = 2  # type: ignore[misc]
