"""Tests of _merge_analyses: analyses of customer partitions merge into the whole's analysis."""

from __future__ import annotations

import pickle
import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi import synth
from servicekpi.domain import (
    Callback,
    CallbackSubject,
    Complaint,
    ComplaintFlag,
    ComplaintSource,
    Period,
)
from servicekpi.policy import EscalationPolicy, Policy
from servicekpi.rules.analysis import (
    ComplaintAnalysis,
    StationShare,
    _analysed,
    _merge_analyses,
    _Partial,
    _volumes,
    complaint_analysis,
)
from servicekpi.tables import CallbackTable, ComplaintTable

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import strategies as S
else:
    from tests import strategies as S

Part = tuple[ComplaintTable, CallbackTable, NDArray[np.int64], NDArray[np.int64]]
Merged = tuple[_Partial, NDArray[np.int64], NDArray[np.int64]]

CST = timezone(timedelta(hours=8))
MARCH = Period.month(2024, 3, tz="Asia/Shanghai")
DEFAULT = Policy.default()
RECORD_ONLY = DEFAULT.replace(escalation=EscalationPolicy(enforce_penalties=False))
# Rates whose float sums depend on grouping: (1 + 5) * 0.1 != 0.1 + 5 * 0.1.
ODD_RATES = DEFAULT.replace(escalation=EscalationPolicy(repeat_penalty=0.7,
                                                        severe_penalty=0.1))


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def at(month: int, day: int, hour: int = 9) -> datetime:
    """An instant of 2024 in China Standard Time."""
    return datetime(2024, month, day, hour, tzinfo=CST)


def mid(period: Period) -> datetime:
    """The middle of *period*, in whole seconds."""
    return period.start + timedelta(
        seconds=int((period.end - period.start).total_seconds()) // 2)


def part_of(customer_id: str, k: int) -> int:
    """The part a customer's complaints go to (what servicekpi.dask will do)."""
    return zlib.crc32(customer_id.encode()) % k


def split_by_customer(complaints: ComplaintTable, callbacks: CallbackTable, k: int
                      ) -> list[Part]:
    """*k* parts: (complaints, callbacks, their rows in the whole tables).

    Complaints go by customer; a callback about a complaint goes with the first
    complaint row of that id, any other callback to part 0. Rows keep their order.
    """
    parts = np.array([part_of(str(c), k) for c in complaints.decode("customer_id")],
                     dtype=np.int64)
    first_row: dict[str, int] = {}
    for row, complaint_id in enumerate(complaints.decode("complaint_id")):
        first_row.setdefault(str(complaint_id), row)
    callback_parts = np.zeros(len(callbacks), dtype=np.int64)
    subjects, subject_ids = callbacks.decode("subject"), callbacks.decode("subject_id")
    for row, (subject, subject_id) in enumerate(zip(subjects, subject_ids)):
        if subject is CallbackSubject.COMPLAINT and str(subject_id) in first_row:
            callback_parts[row] = parts[first_row[str(subject_id)]]
    out = []
    for p in range(k):
        complaint_rows = np.flatnonzero(parts == p).astype(np.int64)
        callback_rows = np.flatnonzero(callback_parts == p).astype(np.int64)
        out.append((complaints.take(complaint_rows), callbacks.take(callback_rows),
                    complaint_rows, callback_rows))
    return out


def analyse_parts(complaints: ComplaintTable, callbacks: CallbackTable, k: int, *,
                  period: Period, policy: Policy, now: datetime,
                  special_period: bool | None = None) -> list[Merged]:
    """Each part's analysis (no volume) with its rows, as the Dask code will make them."""
    return [(_analysed(c, cb, period=period, policy=policy, volume=None, now=now,
                       special_period=special_period), c_rows, cb_rows)
            for c, cb, c_rows, cb_rows in split_by_customer(complaints, callbacks, k)]


def assert_same(merged: ComplaintAnalysis, whole: ComplaintAnalysis) -> None:
    """Field by field (readable failures), orders included, then ``==`` as a whole."""
    checked = ["period", "complaints", "by_type", "by_level", "stations", "repeat", "severe",
               "penalties", "special_period", "report"]
    # a field added to ComplaintAnalysis must be merged and checked here too
    assert checked == [f.name for f in attrs.fields(ComplaintAnalysis) if f.eq]
    assert whole.period == merged.period
    assert whole.complaints == merged.complaints
    assert list(whole.by_type.items()) == list(merged.by_type.items())
    assert list(whole.by_level.items()) == list(merged.by_level.items())
    assert whole.stations == merged.stations
    assert whole.repeat == merged.repeat
    assert whole.severe == merged.severe
    assert whole.penalties == merged.penalties
    assert whole.special_period == merged.special_period
    assert whole.report.issues == merged.report.issues
    assert whole.report == merged.report
    assert whole == merged


def check(complaints: ComplaintTable, callbacks: CallbackTable, k: int, *, period: Period,
          policy: Policy = DEFAULT, volumes: Mapping[str, float], now: datetime,
          special_period: bool | None = None) -> ComplaintAnalysis:
    """Merge the parts' analyses, check them against the whole's, return the whole's."""
    parts = analyse_parts(complaints, callbacks, k, period=period, policy=policy, now=now,
                          special_period=special_period)
    whole = complaint_analysis(complaints, callbacks, period=period, policy=policy,
                               volume=volumes, now=now, special_period=special_period)
    assert_same(_merge_analyses(parts, volumes=volumes), whole)
    return whole


# --------------------------------------------------------------------------- synthetic


class TestSynthetic:
    """Synthetic months, any number of parts, judged at the period's end or its middle."""

    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 10_000), tickets=st.integers(300, 3000),
           agents=st.integers(6, 24), k=st.integers(1, 6), at_end=st.booleans())
    def test_merged_equals_whole(self, seed: int, tickets: int, agents: int, k: int,
                                 at_end: bool) -> None:
        data = synth.month(seed=seed, tickets=tickets, agents=agents, stations=3)
        period = data.period
        assert period is not None
        check(data.complaints, data.callbacks, k, period=period,
              volumes=_volumes(data.tickets, period), now=period.end if at_end else mid(period))

    def test_the_parts_interleave(self) -> None:
        """A month whose escalations come from several parts, not in blocks of one part."""
        data = synth.month(seed=3, tickets=3000, agents=12, stations=3)
        assert data.period is not None
        whole = check(data.complaints, data.callbacks, 4, period=data.period,
                      volumes=_volumes(data.tickets, data.period), now=data.period.end)
        customer = dict(zip(map(str, data.complaints.decode("complaint_id")),
                            map(str, data.complaints.decode("customer_id"))))
        for escalations in (whole.repeat, whole.severe):
            parts = [part_of(customer[e.complaint_id], 4) for e in escalations]
            # concatenating the parts' lists would give a sorted list of parts
            assert parts != sorted(parts) and len(set(parts)) >= 3
        assert len(whole.penalties) >= 3 and whole.report.rows_in == len(data.callbacks)


# --------------------------------------------------------------------------- records

# 25 February to 5 April: history, March (the period) and later. Centred on March, as
# hypothesis favours (and shrinks to) offsets near 0.
INSTANTS = st.integers(-20 * 86_400, 20 * 86_400).map(
    lambda seconds: datetime(2024, 3, 16, tzinfo=timezone.utc) + timedelta(seconds=seconds))
STATIONS = ["S1", "S2", "S3"]


def _complaints(n_min: int = 6, n_max: int = 24) -> st.SearchStrategy[list[Complaint]]:
    """Complaints of a few customers on two matters, around March, unique ids."""
    one = S.complaints(customer_ids=st.sampled_from([f"C-{i}" for i in range(1, 9)]),
                       complaint_types=st.sampled_from(["late_delivery", "billing"]),
                       station_ids=st.sampled_from(STATIONS),
                       flags=st.just(frozenset()) | st.frozensets(
                           st.sampled_from(ComplaintFlag), max_size=1),
                       sources=st.sampled_from([ComplaintSource.HOTLINE,
                                                ComplaintSource.ONLINE,
                                                ComplaintSource.WALK_IN]),
                       datetimes=INSTANTS)
    # few responsible people, so that a penalty row gathers complaints of several parts
    return st.lists(one, min_size=n_min, max_size=n_max).flatmap(lambda items: st.lists(
        st.sampled_from(["Wang", "Li"]), min_size=len(items), max_size=len(items)).map(
        lambda people: [attrs.evolve(c, complaint_id=f"K-{i}", responsible=person)
                        for i, (c, person) in enumerate(zip(items, people))]))


def _callbacks(ids: Sequence[str], n_max: int = 30) -> st.SearchStrategy[list[Callback]]:
    """Callbacks mostly about the given complaints, some about unknown ones or tickets."""
    one = S.callbacks(subjects=st.sampled_from([CallbackSubject.COMPLAINT] * 5
                                               + [CallbackSubject.TICKET]),
                      subject_ids=st.sampled_from([*ids, "K-404", "K-405"]),
                      done=st.booleans() | st.just(True), datetimes=INSTANTS)
    return st.lists(one, max_size=n_max).map(
        lambda items: [attrs.evolve(c, callback_id=f"CB-{i}") for i, c in enumerate(items)])


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Tables, parts, policy, special period, volumes (ties, zeros, gaps) and now."""
    complaints = draw(_complaints())
    callbacks = draw(_callbacks([c.complaint_id for c in complaints]))
    return dict(
        complaints=ComplaintTable.from_records(complaints),
        callbacks=CallbackTable.from_records(callbacks),
        k=draw(st.integers(1, 6) | st.integers(2, 4)),  # mostly parts that all get some
        policy=draw(st.sampled_from([DEFAULT, RECORD_ONLY, ODD_RATES])),
        special_period=draw(st.sampled_from([None, True, False])),
        volumes=draw(st.dictionaries(st.sampled_from([*STATIONS, "S8", "S9"]),
                                     st.sampled_from([0, 0.0, 5, 10, 20.0]))),
        now=draw(st.sampled_from([MARCH.end, mid(MARCH), at(4, 20)])))


class TestRecords:
    """Repeats, severe flags, unusable callbacks, special periods, stations without volume."""

    @settings(max_examples=60, deadline=None)
    @given(scenarios())
    def test_merged_equals_whole(self, scenario: dict[str, Any]) -> None:
        check(scenario.pop("complaints"), scenario.pop("callbacks"), scenario.pop("k"),
              period=MARCH, **scenario)

    def test_hand_made_month(self) -> None:
        """Every case at once, with the parts' roles checked so the case stays meaningful."""
        c1, c2 = "C-1", "C-4"  # part 0 and part 1 of 2
        assert (part_of(c1, 2), part_of(c2, 2)) == (0, 1)

        def complaint(complaint_id: str, customer: str, station: str, matter: str,
                      received_at: datetime, **changes: Any) -> Complaint:
            return Complaint(complaint_id=complaint_id, customer_id=customer,
                             station_id=station, responsible="Wang",
                             source=changes.pop("source", "hotline"), complaint_type=matter,
                             received_at=received_at, **changes)

        def callback(callback_id: str, subject_id: str, done_at: datetime,
                     subject: str = "complaint") -> Callback:
            return Callback(callback_id=callback_id, subject=subject, subject_id=subject_id,
                            due_from=done_at, due_by=done_at, done_at=done_at,
                            outcome="unsolved")

        # rows alternate between the parts, so that concatenating the parts' lists of
        # repeat or severe complaints would give the wrong order
        complaints = ComplaintTable.from_records([
            complaint("K-1", c2, "S1", "billing", at(3, 2)),
            complaint("K-2", c1, "S1", "billing", at(2, 20)),              # history
            complaint("K-4", c2, "S1", "billing", at(3, 6), closed_at=at(3, 7)),  # repeat
            complaint("K-3", c1, "S1", "billing", at(3, 4), closed_at=at(3, 5)),  # repeat
            complaint("K-6", c2, "S3", "attitude", at(3, 9), source="walk_in"),  # severe
            complaint("K-5", c1, "S2", "late_delivery", at(3, 8), flags="media"),  # severe
            complaint("K-7", c1, "S4", "attitude", at(3, 10)),             # no volume
        ])
        callbacks = CallbackTable.from_records([
            callback("CB-1", "T-1", at(3, 3), subject="ticket"),
            callback("CB-2", "K-6", at(3, 1)),     # before its complaint: part 1
            callback("CB-3", "K-404", at(3, 5)),   # unknown complaint: part 0
            callback("CB-4", "K-1", at(3, 5)),
            callback("CB-5", "K-7", at(3, 7)),     # before its complaint: part 0
        ])
        # shares: S6 0 (no complaints), S1 3/150 = S2 1/50 (a tie), S3 1/25; S4, S5 none
        volumes = {"S1": 150, "S2": 50, "S3": 25, "S4": 0, "S5": 0, "S6": 10}
        for k in range(1, 7):
            for policy in (DEFAULT, RECORD_ONLY, ODD_RATES):
                whole = check(complaints, callbacks, k, period=MARCH, policy=policy,
                              volumes=volumes, now=MARCH.end)
        assert (["K-4", "K-3"], ["K-6", "K-5"]) == (
            [e.complaint_id for e in whole.repeat], [e.complaint_id for e in whole.severe])
        assert [("CB-2", 1, "before_complaint"), ("CB-3", 2, "unknown_complaint"),
                ("CB-5", 4, "before_complaint")] == [
            (i.key, i.row, i.code) for i in whole.report.issues]
        assert [("S6", 1), ("S1", 2), ("S2", 2), ("S3", 4), ("S4", None), ("S5", None)] == [
            (s.station_id, s.rank) for s in whole.stations]

    def test_report_rows_are_whole_callback_rows(self) -> None:
        """An issue's row is the callback's row in the whole table, its key the callback id."""
        complaints = ComplaintTable.from_records([
            Complaint(complaint_id=f"K-{i}", customer_id=f"C-{i}", station_id="S1",
                      responsible="Wang", source="hotline", complaint_type="billing",
                      received_at=at(3, 10)) for i in range(8)])
        callbacks = CallbackTable.from_records([
            Callback(callback_id=f"CB-{i}", subject="complaint", subject_id=f"K-{i % 10}",
                     due_from=at(3, 1), due_by=at(3, 1), done_at=at(3, 1 + i % 2 * 20),
                     outcome="solved") for i in range(30)])
        parts = analyse_parts(complaints, callbacks, 3, period=MARCH, policy=DEFAULT,
                              now=MARCH.end)
        merged = _merge_analyses(parts, volumes={})
        ids = callbacks.decode("callback_id")
        assert 18 == len(merged.report.issues)  # 12 too early, 6 about K-8 or K-9
        assert all(ids[issue.row] == issue.key for issue in merged.report.issues)
        # the parts' rows are their own, so the merge did renumber
        assert any(issue.row != cb_rows[issue.row]
                   for part, _, cb_rows in parts for issue in part.analysis.report.issues)
        assert (30, 12) == (merged.report.rows_in, merged.report.rows_valid)

    def test_amounts_are_recomputed_not_summed(self) -> None:
        """Six severe complaints of one station split 1 + 5: the sum of the parts' amounts
        is off in the last bit, the merge is not."""
        customers = [f"C-{i}" for i in range(40)]
        ones = [c for c in customers if part_of(c, 2) == 0][:1]
        fives = [c for c in customers if part_of(c, 2) == 1][:5]
        complaints = ComplaintTable.from_records([
            Complaint(complaint_id=f"K-{i}", customer_id=customer, station_id="S1",
                      responsible="Wang", source="walk_in", complaint_type="billing",
                      received_at=at(3, 10)) for i, customer in enumerate(ones + fives)])
        callbacks = CallbackTable.from_records([])
        parts = analyse_parts(complaints, callbacks, 2, period=MARCH, policy=ODD_RATES,
                              now=MARCH.end)
        summed = sum(p.amount for data, _, _ in parts for p in data.analysis.penalties)
        whole = check(complaints, callbacks, 2, period=MARCH, policy=ODD_RATES, volumes={},
                      now=MARCH.end)
        assert (6, 6 * 0.1) == (whole.penalties[0].severe, whole.penalties[0].amount)
        assert summed != whole.penalties[0].amount

    def test_pickled_parts_merge(self) -> None:
        """Parts come back from Dask workers pickled; their merge data comes with them."""
        data = synth.month(seed=3, tickets=2000, agents=8, stations=3)
        assert data.period is not None
        parts = analyse_parts(data.complaints, data.callbacks, 3, period=data.period,
                              policy=DEFAULT, now=data.period.end)
        volumes = _volumes(data.tickets, data.period)
        whole = complaint_analysis(data.complaints, data.callbacks, period=data.period,
                                   volume=volumes)
        assert_same(_merge_analyses(pickle.loads(pickle.dumps(parts)), volumes=volumes), whole)

    def test_the_parts_volume_does_not_matter(self) -> None:
        """Only the parts' complaint counts are merged: a volume given to the parts (here
        with a station the whole has no volume for) changes nothing."""
        data = synth.month(seed=3, tickets=2000, agents=8, stations=3)
        assert data.period is not None
        volumes = _volumes(data.tickets, data.period)
        parts = [(_analysed(c, cb, period=data.period, policy=None,
                            volume={**volumes, "S-X": 5}, special_period=None,
                            now=data.period.end), c_rows, cb_rows)
                 for c, cb, c_rows, cb_rows in split_by_customer(data.complaints,
                                                                 data.callbacks, 3)]
        assert all("S-X" in {s.station_id for s in analysis.stations}
                   for part, _, _ in parts for analysis in [part.analysis])
        whole = complaint_analysis(data.complaints, data.callbacks, period=data.period,
                                   volume=volumes)
        assert_same(_merge_analyses(parts, volumes=volumes), whole)

    def test_no_volume_shares_compare_equal(self) -> None:
        """A NaN share (no volume) equals another NaN share, so such analyses compare."""
        one = StationShare(station_id="S1", complaints=2, volume=0.0, share=float("nan"),
                           rank=None)
        other = StationShare(station_id="S1", complaints=2, volume=0.0, share=float("nan"),
                             rank=None)
        assert one == other and hash(one) == hash(other)
        assert one != attrs.evolve(other, share=0.5)


# --------------------------------------------------------------------------- errors


class TestErrors:
    """Parts that cannot make the whole are refused with a clear message."""

    def _parts(self, k: int = 2, **options: Any) -> list[Merged]:
        """Parts of a small synthetic month."""
        data = synth.month(seed=1, tickets=500, agents=6, stations=3)
        assert data.period is not None
        options = {"period": data.period, "policy": DEFAULT, "now": data.period.end, **options}
        return analyse_parts(data.complaints, data.callbacks, k, **options)

    def test_no_parts(self) -> None:
        with pytest.raises(ValueError, match=exactly("no analyses to merge: 'parts' is empty")):
            _merge_analyses([], volumes={})

    def test_different_periods(self) -> None:
        october = self._parts()
        november = self._parts(period=october[0][0].analysis.period.next())
        with pytest.raises(ValueError, match=exactly(
                "cannot merge analyses of different periods: part 1 is of 2026-11 "
                "(Asia/Shanghai), part 0 of 2026-10 (Asia/Shanghai)")):
            _merge_analyses([october[0], november[1]], volumes={})

    def test_different_penalty_status(self) -> None:
        enforced, recorded = self._parts(), self._parts(special_period=True)
        with pytest.raises(ValueError, match=exactly(
                "cannot merge analyses of different penalty status: part 1 has "
                "special_period=True, part 0 False")):
            _merge_analyses([enforced[0], recorded[1]], volumes={})

    def test_different_rates(self) -> None:
        default, odd = self._parts(), self._parts(policy=ODD_RATES)
        with pytest.raises(ValueError, match=exactly(
                "cannot merge analyses of different penalty rates: part 1 has (0.7, 0.1), "
                "part 0 (200.0, 500.0)")):
            _merge_analyses([default[0], odd[1]], volumes={})

    def test_callback_rows_of_another_part(self) -> None:
        parts = self._parts()
        swapped = (parts[0][0], parts[0][1], parts[1][2])
        with pytest.raises(ValueError, match=exactly(
                f"part 0 has {len(parts[1][2])} callback rows but its report read "
                f"{len(parts[0][2])} callbacks")):
            _merge_analyses([swapped, parts[1]], volumes={})

    def test_bad_volume_as_complaint_analysis(self) -> None:
        with pytest.raises(ValueError, match=exactly(
                "volume of station 'S1' must be a number >= 0 (got -1)")):
            _merge_analyses(self._parts(), volumes={"S1": -1})
