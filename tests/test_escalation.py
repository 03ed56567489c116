"""Tests of servicekpi.rules.escalation: escalate, escalate_table and their agreement."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicekpi.domain import (
    Callback,
    CallbackOutcome,
    CallbackSubject,
    Complaint,
    ComplaintFlag,
    ComplaintSource,
    EscalationLevel,
)
from servicekpi.exceptions import DuplicateKeyError, NaiveDatetimeError, UnknownKeyError
from servicekpi.policy import EscalationPolicy, Policy
from servicekpi.rulebook import (
    Rule,
    Rulebook,
    all_of,
    any_of,
    count,
    field,
    level_at_least,
    not_,
    unsolved_for,
)
from servicekpi.rules.escalation import Escalation, escalate, escalate_table
from servicekpi.tables import CallbackTable, ComplaintTable, ValidationIssue

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import strategies as S
else:
    from tests import strategies as S

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)
CST = timezone(timedelta(hours=8))
UTC = timezone.utc
GENERAL, REPEAT, SEVERE = EscalationLevel.GENERAL, EscalationLevel.REPEAT, EscalationLevel.SEVERE
DEFAULT = Policy.default()
UNREACHABLE_COUNTS = DEFAULT.replace(
    escalation=attrs.evolve(DEFAULT.escalation, count_unreachable=True))


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant in March 2024, China Standard Time (Monday 4 March is day 4)."""
    return datetime(2024, 3, day, hour, minute, second, tzinfo=CST)


RECEIVED = at(4, 9)  # Monday; the 10th working day after it is Monday 18 March
LATER = at(8, 9)


def complaint(complaint_id: str = "K-1", **changes: Any) -> Complaint:
    fields: dict[str, Any] = dict(
        complaint_id=complaint_id, customer_id="C-1", station_id="S1", responsible="P-7",
        source="hotline", complaint_type="late_delivery", received_at=RECEIVED)
    fields.update(changes)
    return Complaint(**fields)


def callback(callback_id: str, done_at: datetime | None, outcome: str = "unsolved", *,
             subject_id: str = "K-1", subject: str = "complaint") -> Callback:
    return Callback(callback_id=callback_id, subject=subject, subject_id=subject_id,
                    due_from=RECEIVED, due_by=RECEIVED, done_at=done_at,
                    outcome=outcome if done_at is not None else None)


def earlier(complaint_id: str, delta: timedelta, **changes: Any) -> Complaint:
    """A complaint received *delta* before RECEIVED (same customer and type by default)."""
    return complaint(complaint_id, received_at=RECEIVED - delta, **changes)


TWO_UNSOLVED = [callback("CB-1", at(5, 10)), callback("CB-2", at(6, 10))]
DAY = timedelta(days=1)

# id, complaint, callbacks, history, now, policy, expected level, expected fired rules
TIERS: list[Any] = [
    pytest.param(complaint(), [], [], LATER, DEFAULT, GENERAL, (), id="general-by-default"),
    # repeat: unsolved callbacks
    pytest.param(complaint(), TWO_UNSOLVED[:1], [], LATER, DEFAULT, GENERAL, (),
                 id="one-unsolved-is-not-enough"),
    pytest.param(complaint(), TWO_UNSOLVED, [], LATER, DEFAULT, REPEAT,
                 ("repeat-unsolved-callbacks",), id="two-unsolved"),
    pytest.param(complaint(), [*TWO_UNSOLVED, callback("CB-3", at(7, 10), "solved")], [],
                 LATER, DEFAULT, REPEAT, ("repeat-unsolved-callbacks",),
                 id="two-unsolved-then-solved-stays-repeat"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", at(6, 10), "unreachable")],
                 [], LATER, DEFAULT, GENERAL, (), id="unreachable-does-not-count"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", at(6, 10), "unreachable")],
                 [], LATER, UNREACHABLE_COUNTS, REPEAT, ("repeat-unsolved-callbacks",),
                 id="unreachable-counts-when-policy-says-so"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", at(8, 9, 0, 1))], [],
                 LATER, DEFAULT, GENERAL, (), id="callback-after-now-does-not-count"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", LATER)], [], LATER,
                 DEFAULT, REPEAT, ("repeat-unsolved-callbacks",), id="callback-at-now-counts"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", at(4, 8, 59, 59))], [],
                 LATER, DEFAULT, GENERAL, (), id="callback-before-complaint-does-not-count"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", RECEIVED)], [], LATER,
                 DEFAULT, REPEAT, ("repeat-unsolved-callbacks",),
                 id="callback-at-receipt-counts"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", None)], [], LATER,
                 DEFAULT, GENERAL, (), id="callback-not-made-does-not-count"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", at(6, 10), subject="ticket")],
                 [], LATER, DEFAULT, GENERAL, (), id="callback-about-a-ticket"),
    pytest.param(complaint(), [TWO_UNSOLVED[0], callback("CB-2", at(6, 10), subject_id="K-2")],
                 [], LATER, DEFAULT, GENERAL, (), id="callback-about-another-complaint"),
    pytest.param(complaint(), TWO_UNSOLVED + [callback("CB-3", at(7, 10))], [], LATER,
                 DEFAULT.replace(escalation=EscalationPolicy(repeat_unsolved_callbacks=4)),
                 GENERAL, (), id="threshold-from-policy"),
    # repeat: the same customer on the same matter
    pytest.param(complaint(), [], [earlier("K-0", 10 * DAY)], LATER, DEFAULT, REPEAT,
                 ("repeat-same-matter",), id="same-matter-10-days-earlier"),
    pytest.param(complaint(), [], [earlier("K-0", 30 * DAY)], LATER, DEFAULT, REPEAT,
                 ("repeat-same-matter",), id="same-matter-exactly-30-days-earlier"),
    pytest.param(complaint(), [], [earlier("K-0", 30 * DAY + timedelta(seconds=1))], LATER,
                 DEFAULT, GENERAL, (), id="same-matter-30-days-and-a-second-earlier"),
    pytest.param(complaint(), [], [earlier("K-0", 31 * DAY)], LATER, DEFAULT, GENERAL, (),
                 id="same-matter-31-days-earlier"),
    pytest.param(complaint(), [], [earlier("K-0", DAY, complaint_type="billing")], LATER,
                 DEFAULT, GENERAL, (), id="different-type"),
    pytest.param(complaint(), [], [earlier("K-0", DAY, customer_id="C-2")], LATER,
                 DEFAULT, GENERAL, (), id="different-customer"),
    pytest.param(complaint(), [], [earlier("K-0", timedelta(0))], LATER, DEFAULT, GENERAL,
                 (), id="equal-received-at-is-not-earlier"),
    pytest.param(complaint(), [], [earlier("K-2", -DAY)], LATER, DEFAULT, GENERAL, (),
                 id="a-later-complaint-is-not-earlier"),
    pytest.param(complaint(), [], [complaint()], LATER, DEFAULT, GENERAL, (),
                 id="the-complaint-itself-in-history"),
    pytest.param(complaint(), [], [earlier("K-0", 10 * DAY, station_id="S9",
                                           source="walk_in")],
                 LATER, DEFAULT, REPEAT, ("repeat-same-matter",),
                 id="other-station-same-matter"),
    pytest.param(complaint(), [], [earlier("K-0", 10 * DAY)], LATER,
                 DEFAULT.replace(escalation=EscalationPolicy(repeat_window_days=7)),
                 GENERAL, (), id="window-from-policy"),
    # severe: source and flags
    pytest.param(complaint(source="walk_in"), [], [], LATER, DEFAULT, SEVERE,
                 ("severe-source",), id="walk-in"),
    *(pytest.param(complaint(source=source), [], [], LATER, DEFAULT, GENERAL, (),
                   id=f"source-{source.value}")
      for source in ComplaintSource if source is not ComplaintSource.WALK_IN),
    *(pytest.param(complaint(flags=[flag]), [], [], LATER, DEFAULT, SEVERE,
                   ("severe-flags",), id=f"flag-{flag.value}") for flag in ComplaintFlag),
    pytest.param(complaint(source="walk_in", flags="media"), TWO_UNSOLVED, [], LATER,
                 DEFAULT, SEVERE, ("repeat-unsolved-callbacks", "severe-source",
                                   "severe-flags"), id="everything-at-once"),
    pytest.param(complaint(flags="safety"), [], [], LATER,
                 DEFAULT.replace(escalation=EscalationPolicy(severe_flags=["media"])),
                 GENERAL, (), id="flags-from-policy"),
    # severe: a repeat complaint left unsolved after 10 working days
    pytest.param(complaint(), TWO_UNSOLVED, [], at(18, 17, 30), DEFAULT, REPEAT,
                 ("repeat-unsolved-callbacks",), id="repeat-at-the-end-of-the-10th-day"),
    pytest.param(complaint(), TWO_UNSOLVED, [], at(18, 17, 30, 1), DEFAULT, SEVERE,
                 ("repeat-unsolved-callbacks", "severe-repeat-unsolved"),
                 id="repeat-unsolved-after-10-working-days"),
    pytest.param(complaint(), [], [earlier("K-0", 10 * DAY)], at(25, 9), DEFAULT, SEVERE,
                 ("repeat-same-matter", "severe-repeat-unsolved"),
                 id="same-matter-unsolved-after-10-working-days"),
    pytest.param(complaint(), [], [], at(25, 9), DEFAULT, GENERAL, (),
                 id="general-unsolved-for-long-stays-general"),
    pytest.param(complaint(), [*TWO_UNSOLVED, callback("CB-3", at(20, 10), "solved")], [],
                 at(25, 9), DEFAULT, REPEAT, ("repeat-unsolved-callbacks",),
                 id="solved-by-a-callback"),
    pytest.param(complaint(), [*TWO_UNSOLVED, callback("CB-3", at(26, 10), "solved")], [],
                 at(25, 9), DEFAULT, SEVERE,
                 ("repeat-unsolved-callbacks", "severe-repeat-unsolved"),
                 id="solved-after-now-is-not-solved"),
    pytest.param(complaint(closed_at=at(25, 9)), TWO_UNSOLVED, [], at(25, 9), DEFAULT,
                 REPEAT, ("repeat-unsolved-callbacks",), id="closed-at-now"),
    pytest.param(complaint(closed_at=at(25, 9, 0, 1)), TWO_UNSOLVED, [], at(25, 9), DEFAULT,
                 SEVERE, ("repeat-unsolved-callbacks", "severe-repeat-unsolved"),
                 id="closed-after-now"),
    pytest.param(complaint(), TWO_UNSOLVED, [], at(15, 9),
                 DEFAULT.replace(escalation=EscalationPolicy(severe_after_working_days=3)),
                 SEVERE, ("repeat-unsolved-callbacks", "severe-repeat-unsolved"),
                 id="working-days-from-policy"),
]


def _table_of(item: Complaint, callbacks: Sequence[Callback], history: Sequence[Complaint],
              now: datetime, policy: Policy) -> Escalation:
    """The escalation of *item* through escalate_table (the table is its own history)."""
    rows = {c.complaint_id: c for c in [*history, item]}
    rows[item.complaint_id] = item
    table = escalate_table(ComplaintTable.from_records(rows.values()),
                           CallbackTable.from_records(callbacks), now=now, policy=policy)
    assert table.level_of(item.complaint_id) == table.escalation(item.complaint_id).level
    return table.escalation(item.complaint_id)


class TestTiers:
    """The escalation tier of one complaint, by the default rules (and a few policies)."""

    @pytest.mark.parametrize(("item", "callbacks", "history", "now", "policy", "level",
                              "fired"), TIERS)
    def test_scalar(self, item: Complaint, callbacks: list[Callback],
                    history: list[Complaint], now: datetime, policy: Policy,
                    level: EscalationLevel, fired: tuple[str, ...]) -> None:
        result = escalate(item, callbacks=callbacks, history=history, now=now, policy=policy)
        assert (level, fired) == (result.level, result.fired)
        assert len(fired) == len(result.reasons)

    @pytest.mark.parametrize(("item", "callbacks", "history", "now", "policy", "level",
                              "fired"), TIERS)
    def test_table(self, item: Complaint, callbacks: list[Callback],
                   history: list[Complaint], now: datetime, policy: Policy,
                   level: EscalationLevel, fired: tuple[str, ...]) -> None:
        result = _table_of(item, callbacks, history, now, policy)
        assert (level, fired) == (result.level, result.fired)
        assert escalate(item, callbacks=callbacks, history=history, now=now,
                        policy=policy) == result

    def test_policy_defaults_to_the_default_policy(self) -> None:
        assert escalate(complaint(), callbacks=TWO_UNSOLVED, now=LATER,
                        policy=DEFAULT) == escalate(complaint(), callbacks=TWO_UNSOLVED,
                                                    now=LATER)


class TestExplanations:
    """Each fired rule gives a sentence; the evidence names the records that made it fire."""

    def test_unsolved_callbacks(self) -> None:
        result = escalate(complaint(), callbacks=[*TWO_UNSOLVED, callback(
            "CB-3", at(7, 10), "solved"), callback("CB-0", at(6, 11), subject_id="K-9")],
            now=LATER)
        assert Escalation(
            complaint_id="K-1", level=REPEAT, fired=("repeat-unsolved-callbacks",),
            reasons=("still unsolved after 2 callbacks (多次回访未解决): "
                     "2 unsolved callbacks (>= 2)",),
            evidence=("CB-1", "CB-2")) == result

    def test_same_matter_then_severe(self) -> None:
        history = [earlier("K-0", 10 * DAY), earlier("K-00", 40 * DAY),
                   earlier("K-000", 5 * DAY, complaint_type="billing")]
        result = escalate(complaint(), history=history, now=at(25, 9))
        assert Escalation(
            complaint_id="K-1", level=SEVERE,
            fired=("repeat-same-matter", "severe-repeat-unsolved"),
            reasons=("the same customer complained about the same matter within 30 days: "
                     "1 earlier complaint on the same matter within 30 days (>= 1)",
                     "a repeat complaint still unsolved after 10 working days: already "
                     "repeat; unsolved more than 10 working days after "
                     "2024-03-04T01:00+00:00"),
            evidence=("K-0",)) == result

    def test_walk_in_and_flags(self) -> None:
        result = escalate(complaint(source="walk_in", flags="safety, media"), now=LATER)
        assert ("severe-source", "severe-flags") == result.fired
        assert ("received as walk-in: source is 'walk_in'",
                "serious circumstances (情节严重): media, regulator, safety, threat: "
                "flagged media, safety") == result.reasons
        assert () == result.evidence

    def test_custom_rules_explain_negations(self) -> None:
        rules = Rulebook(rules=[
            Rule(id="quiet-repeat", level="repeat", description="repeated quietly",
                 when=all_of(count("earlier_complaints", at_least=1, within_days=7),
                             not_(field("source", "==", "walk_in")))),
            Rule(id="station-s1", level="severe", description="S1 repeat",
                 when=all_of(level_at_least("repeat"), field("station_id", "in", ["S1"]))),
        ])
        policy = DEFAULT.replace(escalation=EscalationPolicy(rules=rules))
        history = [earlier("K-0", 2 * DAY)]
        result = escalate(complaint(), history=history, now=LATER, policy=policy)
        assert Escalation(
            complaint_id="K-1", level=SEVERE, fired=("quiet-repeat", "station-s1"),
            reasons=("repeated quietly: 1 earlier complaint on the same matter within 7 "
                     "days (>= 1); source is 'hotline' (excluded)",
                     "S1 repeat: already repeat; station_id is 'S1'"),
            evidence=("K-0",)) == result
        assert result == _table_of(complaint(), [], history, LATER, policy)


class TestEscalationTable:
    """The table view: levels per row, look-ups with hints, counts and export."""

    def test_views(self) -> None:
        complaints = ComplaintTable.from_records([
            complaint("K-1"), complaint("K-2", received_at=at(6, 9)),
            complaint("K-3", customer_id="C-3", source="walk_in")])
        table = escalate_table(complaints, CallbackTable.from_records(TWO_UNSOLVED),
                               now=LATER)
        assert 3 == len(table)
        assert ("K-1", "K-2", "K-3") == table.complaint_ids
        assert [REPEAT, REPEAT, SEVERE] == [table.level_of(k) for k in table.complaint_ids]
        assert ("K-1", "K-2") == table.ids_at("repeat")
        assert {GENERAL: 0, REPEAT: 2, SEVERE: 1} == table.counts_by_level()
        assert [True, False, False] == table.fired("repeat-unsolved-callbacks").tolist()
        assert [{"complaint_id": "K-1", "level": "repeat",
                 "fired": ["repeat-unsolved-callbacks"]},
                {"complaint_id": "K-2", "level": "repeat", "fired": ["repeat-same-matter"]},
                {"complaint_id": "K-3", "level": "severe", "fired": ["severe-source"]},
                ] == table.to_records()
        assert "<EscalationTable: 3 complaints (general 0, repeat 2, severe 1)>" == repr(table)
        assert not table.levels.flags.writeable

    def test_unknown_lookups(self) -> None:
        table = escalate_table(ComplaintTable.from_records([complaint("K-1")]), now=LATER)
        with pytest.raises(UnknownKeyError, match=exactly(
                "unknown complaint 'K-2'. Did you mean 'K-1'?")):
            table.escalation("K-2")
        with pytest.raises(UnknownKeyError, match=exactly(
                "unknown rule 'severe-sources'. Did you mean 'severe-source'?")):
            table.fired("severe-sources")

    def test_empty(self) -> None:
        table = escalate_table(ComplaintTable.from_records([]),
                               CallbackTable.from_records([]), now=LATER)
        assert 0 == len(table)
        assert {GENERAL: 0, REPEAT: 0, SEVERE: 0} == table.counts_by_level()
        assert table.report.ok


class TestReport:
    """Callbacks the table cannot use are reported, never counted, never a crash."""

    def test_unknown_and_early_callbacks(self) -> None:
        complaints = ComplaintTable.from_records([
            complaint("K-1"), complaint("K-2", customer_id="C-2", received_at=at(6, 9))])
        callbacks = CallbackTable.from_records([
            callback("CB-1", at(5, 10)),
            callback("CB-2", at(5, 11), subject_id="K-404"),
            callback("CB-3", at(5, 12), subject_id="K-2"),  # before K-2 was received
            callback("CB-4", None, subject_id="K-405"),
            callback("CB-5", at(5, 13), subject="ticket", subject_id="T-404"),
            callback("CB-6", at(6, 10), subject_id="K-2"),
            callback("CB-7", at(7, 10), subject_id="K-2"),
        ])
        table = escalate_table(complaints, callbacks, now=LATER)
        report = table.report
        assert ("callbacks", 7, 4) == (report.table, report.rows_in, report.rows_valid)
        assert [(1, "CB-2", "subject_id", "K-404", "unknown_complaint"),
                (2, "CB-3", "done_at", None, "before_complaint"),
                (3, "CB-4", "subject_id", "K-405", "unknown_complaint"),
                ] == [(i.row, i.key, i.field, i.value if i.field == "subject_id" else None,
                       i.code) for i in report.issues]
        assert {"unknown_complaint": 2, "before_complaint": 1} == report.counts()
        assert "names a complaint of the table" == report.issues[0].rule
        assert "made after the complaint was received" == report.issues[1].rule
        # CB-3 is not counted: K-2 has two unsolved callbacks (CB-6, CB-7), not three
        assert [GENERAL, REPEAT] == [table.level_of("K-1"), table.level_of("K-2")]
        assert ("CB-6", "CB-7") == table.escalation("K-2").evidence

    @pytest.mark.parametrize(("callbacks", "counts"), [
        ([callback("CB-1", at(5, 10))], {"unknown_complaint": 1}),
        ([callback("CB-1", at(5, 10), subject="ticket", subject_id="T-1")], {}),
    ])
    def test_no_complaints_but_callbacks(self, callbacks: list[Callback],
                                         counts: dict[str, int]) -> None:
        table = escalate_table(ComplaintTable.from_records([]),
                               CallbackTable.from_records(callbacks), now=LATER)
        assert 0 == len(table)
        assert counts == table.report.counts()

    def test_early_callback_reported_with_its_instant(self) -> None:
        table = escalate_table(
            ComplaintTable.from_records([complaint("K-1")]),
            CallbackTable.from_records([callback("CB-1", at(4, 8))]), now=LATER)
        (issue,) = table.report.issues
        value = issue.value
        assert isinstance(value, datetime)
        instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        assert at(4, 8) == instant

    def test_duplicate_complaint_ids_rejected_by_the_table(self) -> None:
        item = complaint("K-1")
        columns = {name: [getattr(item, name), getattr(item, name)]
                   for name in ComplaintTable.SCHEMA.names}
        table, report = ComplaintTable.from_columns(columns)
        assert 1 == len(table)
        assert (ValidationIssue(row=1, key="K-1", field="complaint_id", value="K-1",
                                rule="unique: seen on an earlier row", code="unique"),
                ) == report.issues
        assert ("K-1",) == escalate_table(table, now=LATER).complaint_ids
        with pytest.raises(DuplicateKeyError, match=exactly(
                "complaint_id 'K-1' appears twice")):
            ComplaintTable.from_records([item, item])


class TestInputErrors:
    """Naive ``now`` and wrong table types are refused with a precise message."""

    def test_naive_now(self) -> None:
        naive = datetime(2024, 3, 8, 9)
        message = exactly(f"'now' must be a timezone-aware datetime (got {naive!r})")
        with pytest.raises(NaiveDatetimeError, match=message):
            escalate(complaint(), now=naive)
        with pytest.raises(NaiveDatetimeError, match=message):
            escalate_table(ComplaintTable.from_records([complaint()]), now=naive)

    @pytest.mark.parametrize(("complaints", "callbacks", "message"), [
        ([complaint()], None, "'complaints' must be a ComplaintTable (got list)"),
        (CallbackTable.from_records([]), None,
         "'complaints' must be a ComplaintTable (got CallbackTable)"),
        (ComplaintTable.from_records([]), [], "'callbacks' must be a CallbackTable (got list)"),
        (ComplaintTable.from_records([]), ComplaintTable.from_records([]),
         "'callbacks' must be a CallbackTable (got ComplaintTable)"),
    ])
    def test_wrong_types(self, complaints: Any, callbacks: Any, message: str) -> None:
        with pytest.raises(TypeError, match=exactly(message)):
            escalate_table(complaints, callbacks, now=LATER)


# --------------------------------------------------------------------------- properties

BASE = datetime(2024, 3, 1, tzinfo=UTC)
SPAN = 50 * 86_400
_ZONES = [UTC, CST, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]


@st.composite
def instants(draw: st.DrawFn, low: int = 0, high: int = SPAN) -> datetime:
    """Whole-second instants in March–April 2024, in a few zones."""
    seconds = draw(st.integers(min_value=low, max_value=high))
    return (BASE + timedelta(seconds=seconds)).astimezone(draw(st.sampled_from(_ZONES)))


def _few_complaints(n_max: int = 8) -> st.SearchStrategy[list[Complaint]]:
    """Complaints of two customers on two matters, close in time, with unique ids."""
    one = S.complaints(customer_ids=st.sampled_from(["C-1", "C-2"]),
                       complaint_types=st.sampled_from(["late_delivery", "billing"]),
                       station_ids=st.sampled_from(["S1", "S2"]),
                       flags=st.just(frozenset()) | st.frozensets(
                           st.sampled_from(ComplaintFlag), max_size=1),
                       sources=st.sampled_from([ComplaintSource.HOTLINE,
                                                ComplaintSource.ONLINE,
                                                ComplaintSource.WALK_IN]),
                       datetimes=instants())
    return st.lists(one, min_size=1, max_size=n_max).map(
        lambda items: [attrs.evolve(c, complaint_id=f"K-{i}") for i, c in enumerate(items)])


def _callbacks_on(ids: Sequence[str], n_max: int = 12) -> st.SearchStrategy[list[Callback]]:
    """Callbacks mostly about the given complaints (and an unknown one), unique ids."""
    one = S.callbacks(subjects=st.sampled_from([CallbackSubject.COMPLAINT] * 5
                                               + [CallbackSubject.TICKET]),
                      subject_ids=st.sampled_from([*ids, "K-404"]),
                      done=st.booleans() | st.just(True),
                      datetimes=instants())
    return st.lists(one, max_size=n_max).map(
        lambda items: [attrs.evolve(c, callback_id=f"CB-{i}") for i, c in enumerate(items)])


_CUSTOM = DEFAULT.replace(escalation=EscalationPolicy(rules=Rulebook(rules=[
    Rule(id="billing-twice", level="repeat", description="billing again",
         when=all_of(field("complaint_type", "==", "billing"),
                     count("earlier_complaints", at_least=1, within_days=7))),
    Rule(id="s2-unsolved", level="repeat", description="S2 and unsolved",
         when=all_of(field("station_id", "!=", "S1"), count("unsolved_callbacks", at_least=1),
                     not_(unsolved_for(0)))),
    Rule(id="media-or-old", level="severe", description="media or old",
         when=any_of(field("flags", "contains_any", ["media"]),
                     all_of(level_at_least("repeat"),
                            count("earlier_complaints", at_least=2, within_days=45)))),
]), count_unreachable=True))
_POLICIES = st.sampled_from([
    DEFAULT,
    UNREACHABLE_COUNTS.replace(escalation=attrs.evolve(
        UNREACHABLE_COUNTS.escalation, repeat_unsolved_callbacks=1,
        severe_after_working_days=2, repeat_window_days=5)),
    _CUSTOM,
])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Complaint], list[Callback], datetime, Policy]:
    complaints = draw(_few_complaints())
    callbacks = draw(_callbacks_on([c.complaint_id for c in complaints]))
    now = draw(instants(high=SPAN + 50 * 86_400))
    return complaints, callbacks, now, draw(_POLICIES)


class TestProperties:
    """The table path equals the scalar path; escalation is monotone and order-free."""

    @FAST
    @given(scenarios())
    def test_table_equals_scalar(
            self, scenario: tuple[list[Complaint], list[Callback], datetime, Policy]) -> None:
        complaints, callbacks, now, policy = scenario
        table = escalate_table(ComplaintTable.from_records(complaints),
                               CallbackTable.from_records(callbacks), now=now, policy=policy)
        for item in complaints:
            expected = escalate(item, callbacks=callbacks, history=complaints, now=now,
                                policy=policy)
            assert expected == table.escalation(item.complaint_id)
            assert expected.level == table.level_of(item.complaint_id)
        # every unusable callback about a complaint is reported, and only those
        known = {c.complaint_id: c for c in complaints}
        expected_issues = set()
        for cb in callbacks:
            if cb.subject is not CallbackSubject.COMPLAINT:
                continue
            if cb.subject_id not in known:
                expected_issues.add((cb.callback_id, "unknown_complaint"))
            elif cb.done_at is not None and cb.done_at < known[cb.subject_id].received_at:
                expected_issues.add((cb.callback_id, "before_complaint"))
        assert expected_issues == {(i.key, i.code) for i in table.report.issues}

    @FAST
    @given(scenarios(), st.randoms(use_true_random=False))
    def test_order_independent(
            self, scenario: tuple[list[Complaint], list[Callback], datetime, Policy],
            rng: Any) -> None:
        complaints, callbacks, now, policy = scenario
        first = escalate_table(ComplaintTable.from_records(complaints),
                               CallbackTable.from_records(callbacks), now=now, policy=policy)
        shuffled_complaints, shuffled_callbacks = list(complaints), list(callbacks)
        rng.shuffle(shuffled_complaints)
        rng.shuffle(shuffled_callbacks)
        second = escalate_table(ComplaintTable.from_records(shuffled_complaints),
                                CallbackTable.from_records(shuffled_callbacks), now=now,
                                policy=policy)
        for item in complaints:
            assert first.escalation(item.complaint_id) == second.escalation(item.complaint_id)
        assert ({(i.key, i.code) for i in first.report.issues}
                == {(i.key, i.code) for i in second.report.issues})

    @FAST
    @given(S.complaints(datetimes=instants(), complaint_ids=st.just("K-1"),
                        customer_ids=st.just("C-1"), complaint_types=st.just("billing")),
           st.lists(S.callbacks(subject_ids=st.just("K-1"),
                                subjects=st.just(CallbackSubject.COMPLAINT),
                                datetimes=instants()), max_size=4),
           st.integers(min_value=0, max_value=40 * 86_400),
           st.data())
    def test_monotone(self, item: Complaint, callbacks: list[Callback], delay: int,
                      data: st.DataObject) -> None:
        callbacks = [attrs.evolve(c, callback_id=f"CB-{i}") for i, c in enumerate(callbacks)]
        now = item.received_at + timedelta(seconds=delay)
        history = [complaint("K-0", customer_id="C-1", complaint_type="billing",
                             received_at=item.received_at - timedelta(days=60))]
        offset = data.draw(st.integers(min_value=0, max_value=delay), label="offset")
        unsolved = callback("CB-new", item.received_at + timedelta(seconds=offset),
                            data.draw(st.sampled_from(["unsolved", "unreachable"])))
        days = data.draw(st.integers(min_value=1, max_value=30 * 86_400), label="earlier")
        matter = complaint("K-new", customer_id="C-1", complaint_type="billing",
                           received_at=item.received_at - timedelta(seconds=days))
        flag = data.draw(st.sampled_from(ComplaintFlag), label="flag")
        flagged = attrs.evolve(item, flags=item.flags | {flag})
        for policy in (DEFAULT, UNREACHABLE_COUNTS):
            base = escalate(item, callbacks=callbacks, history=history, now=now,
                            policy=policy).level
            assert base <= escalate(item, callbacks=[*callbacks, unsolved], history=history,
                                    now=now, policy=policy).level
            assert base <= escalate(item, callbacks=callbacks, history=[*history, matter],
                                    now=now, policy=policy).level
            assert REPEAT <= escalate(item, callbacks=callbacks, history=[*history, matter],
                                      now=now, policy=policy).level
            assert SEVERE == escalate(flagged, callbacks=callbacks, history=history,
                                      now=now, policy=policy).level

    @FAST
    @given(S.complaints(datetimes=instants()), st.sampled_from(ComplaintFlag),
           st.sampled_from(ComplaintSource))
    def test_severity_signals(self, item: Complaint, flag: ComplaintFlag,
                              source: ComplaintSource) -> None:
        now = item.received_at + timedelta(days=1)
        base = escalate(item, now=now).level
        assert base <= escalate(attrs.evolve(item, flags=item.flags | {flag}), now=now).level
        assert base <= escalate(attrs.evolve(item, source=ComplaintSource.WALK_IN),
                                now=now).level
        expected = SEVERE if item.flags or source is ComplaintSource.WALK_IN else GENERAL
        assert expected == escalate(attrs.evolve(item, source=source), now=now).level
