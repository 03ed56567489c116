"""Tests of merging follow-up plans of customer partitions (``followup._merge_plans``).

``servicekpi.dask`` plans each customer partition apart and merges the parts' plans; the
merge must give exactly the plan of the whole data in memory, in the same row order, and
an order that carries the parts' reconciliations over to the whole plan.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi import synth
from servicekpi.calendar import WorkCalendar, to_epoch
from servicekpi.dataset import Dataset
from servicekpi.domain import Callback, CallbackSubject, Customer, Ticket
from servicekpi.policy import Policy
from servicekpi.rules.followup import (
    CustomerEvent,
    FollowUpPlan,
    MaintenanceDue,
    ReconcileStatus,
    _merge_plans,
    plan_followups,
    reconcile,
)
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    Coded,
    ComplaintTable,
    CustomerTable,
    TicketTable,
)

if TYPE_CHECKING:
    from test_followup import ROSTER as FOLLOWUP_ROSTER
else:
    from tests.test_followup import ROSTER as FOLLOWUP_ROSTER

POLICY = Policy.default()
SHANGHAI = "Asia/Shanghai"
DAY = timedelta(days=1)


def _at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """An aware datetime in Shanghai (the default policy's zone)."""
    return datetime(year, month, day, hour, tzinfo=dateutil_tz.gettz(SHANGHAI))


# --------------------------------------------------------------------------- splitting


class Part(NamedTuple):
    """One customer partition of a dataset; ``callback_rows``: each callback's row in
    the whole callbacks table."""

    tickets: TicketTable
    customers: CustomerTable
    complaints: ComplaintTable
    callbacks: CallbackTable
    callback_rows: NDArray[np.int64]


def _label_parts(labels: Sequence[str], k: int) -> NDArray[np.int64]:
    """The part of each customer id (crc32 mod k), plus a last 0 for code -1 (missing)."""
    return np.array([zlib.crc32(label.encode()) % k for label in labels] + [0],
                    dtype=np.int64)


def _row_parts(table: TicketTable | CustomerTable | ComplaintTable, k: int
               ) -> NDArray[np.int64]:
    """The part of each row of a table with a ``customer_id`` column."""
    codes: NDArray[np.int32] = table["customer_id"]  # -1 (missing) picks the last 0
    return _label_parts(table.labels("customer_id"), k)[codes]


def _id_parts(table: TicketTable | ComplaintTable, key: str, k: int,
              ids: Sequence[str]) -> NDArray[np.int64]:
    """The part of the first row of *table* with each of *ids* (0 for unknown ids)."""
    codes, first = np.unique(table[key], return_index=True)
    by_code = np.zeros(len(table.labels(key)) + 1, dtype=np.int64)  # last: code -1
    by_code[codes] = _row_parts(table, k)[first]
    return by_code[table.codes_of(key, ids)]


def split_by_customer(data: Dataset, k: int) -> list[Part]:
    """*data* split in *k* parts by customer, as ``servicekpi.dask`` will split it.

    Tickets, customers and complaints go to the part of their customer id (missing: 0);
    a callback on a ticket or complaint to the part of its first row's customer, on a
    customer to that customer's part, on anything else (or unknown) to part 0. Each
    part keeps its rows in the whole table's order.
    """
    callbacks = data.callbacks
    ids = callbacks.labels("subject_id")
    kinds = list(CallbackSubject)
    by_kind = {CallbackSubject.TICKET: _id_parts(data.tickets, "ticket_id", k, ids),
               CallbackSubject.COMPLAINT: _id_parts(data.complaints, "complaint_id", k, ids),
               CallbackSubject.CUSTOMER: _label_parts(ids, k)[:-1]}
    callback_parts = np.zeros(len(callbacks), dtype=np.int64)
    for kind, parts in by_kind.items():
        mine = callbacks["subject"] == kinds.index(kind)
        callback_parts[mine] = parts[callbacks["subject_id"][mine]]
    tickets, customers = _row_parts(data.tickets, k), _row_parts(data.customers, k)
    complaints = _row_parts(data.complaints, k)
    out = []
    for part in range(k):
        rows = np.flatnonzero(callback_parts == part).astype(np.int64)
        out.append(Part(data.tickets.take(np.flatnonzero(tickets == part)),
                        data.customers.take(np.flatnonzero(customers == part)),
                        data.complaints.take(np.flatnonzero(complaints == part)),
                        callbacks.take(rows), rows))
    return out


# --------------------------------------------------------------------------- checking


class Merged(NamedTuple):
    """The whole plan, the parts' plans, the merge, and the parts used."""

    whole: FollowUpPlan
    plans: list[FollowUpPlan]
    merged: FollowUpPlan
    order: NDArray[np.intp]
    parts: list[Part]


def _plan(data: Dataset | Part, agents: AgentTable, now: datetime,
          policy: Policy = POLICY) -> FollowUpPlan:
    """plan_followups of a dataset or a part, with its callbacks and the whole roster."""
    return plan_followups(data.tickets, data.customers, now=now, policy=policy,
                          callbacks=data.callbacks, agents=agents)


def _merge(data: Dataset, k: int, now: datetime) -> Merged:
    """Plan *data* whole and in *k* customer parts, and merge the parts' plans."""
    parts = split_by_customer(data, k)
    plans = [_plan(part, data.agents, now) for part in parts]
    merged, order = _merge_plans([(plan, part.callbacks, part.callback_rows)
                                  for plan, part in zip(plans, parts, strict=True)])
    return Merged(_plan(data, data.agents, now), plans, merged, order, parts)


def _assert_same_plan(merged: FollowUpPlan, whole: FollowUpPlan) -> None:
    """Every column equal, row by row (labels decoded)."""
    assert (len(merged), merged.now, merged.tz, merged.columns) \
        == (len(whole), whole.now, whole.tz, whole.columns)
    for name in whole.columns:
        assert merged[name].tolist() == whole[name].tolist(), name
        if merged[name].dtype != object:
            assert np.array_equal(merged[name], whole[name]), name


def _assert_same_statuses(result: Merged, callbacks: CallbackTable, as_of: datetime) -> None:
    """The parts' reconciliations, reordered by ``order``, are the whole plan's."""
    expected = reconcile(result.whole, callbacks, as_of=as_of).status_codes
    parts = [reconcile(plan, part.callbacks, as_of=as_of).status_codes
             for plan, part in zip(result.plans, result.parts, strict=True)]
    assert np.concatenate(parts)[result.order].tolist() == expected.tolist()


# --------------------------------------------------------------------------- properties


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), tickets=st.integers(50, 600), agents=st.integers(4, 8),
       k=st.integers(1, 6), days_before_end=st.sampled_from([0, 10]))
def test_merged_plan_is_the_whole_plan(seed: int, tickets: int, agents: int, k: int,
                                       days_before_end: int) -> None:
    """Any synthetic month, 1-6 parts, planned at the period's end or 10 days before:
    the merge is the whole plan, and the parts' statuses reordered are the whole's.

    (Two stations need two agents each: synth.month refuses three.)"""
    data = synth.month(seed=seed, tickets=tickets, agents=agents, stations=2)
    assert data.period is not None
    now = data.period.end - timedelta(days=days_before_end)
    result = _merge(data, k, now)
    assert sorted(result.order.tolist()) == list(range(len(result.whole)))
    _assert_same_plan(result.merged, result.whole)
    for as_of in (now, data.period.end + 30 * DAY):
        _assert_same_statuses(result, data.callbacks, as_of)


# --------------------------------------------------------------------------- ties

K = 3
NOW = _at(2026, 10, 20, 10)  # Tuesday
DONE = _at(2026, 10, 13, 11)  # Tuesday: four unsolved callbacks in this same second


# report to SUP-1; A-3 has no supervisor (keeps its reports); K-1, K-2 clerks.
ROSTER = FOLLOWUP_ROSTER


def _ticket(ticket_id: str, customer: str, *, opened: datetime,
            resolved: datetime | None = None, closed: datetime | None = None) -> Ticket:
    return Ticket(ticket_id=ticket_id, agent_id="A-1", customer_id=customer,
                  station_id="S1", service_type="repair", channel="phone",
                  opened_at=opened, resolved_at=resolved, closed_at=closed)


def _callback(number: int, subject_id: str, done: datetime, outcome: str, *,
              subject: str = "ticket", agent: str = "A-1") -> Callback:
    return Callback(callback_id=f"CB-{number}", subject=subject, subject_id=subject_id,
                    due_from=done - DAY, due_by=done + DAY, done_at=done, outcome=outcome,
                    agent_id=agent)


def _tied_data() -> Dataset:
    """Ties that only the right keys break the whole plan's way (see the test)."""
    # C-05 -> part 1, C-02 and the unknown C-ZZ -> part 0, C-01 -> part 2 (crc32 mod 3)
    tickets = TicketTable.from_records([
        _ticket("T-9", "C-05", opened=_at(2026, 10, 9, 16), resolved=_at(2026, 10, 14, 10),
                closed=_at(2026, 10, 15, 10)),
        _ticket("T-1", "C-02", opened=_at(2026, 10, 12, 10), closed=_at(2026, 10, 12, 16)),
        _ticket("T-5", "C-ZZ", opened=_at(2026, 10, 12, 10), closed=_at(2026, 10, 13, 9)),
    ])
    customers = CustomerTable.from_records(
        Customer(customer_id=f"C-{i:02d}", tier="a",
                 loyalty="lost" if i % 4 == 3 else "ordinary", tz=SHANGHAI)
        for i in range(1, 13))
    callbacks = CallbackTable.from_records([
        # T-9 first: its report codes before T-1's in the whole plan, though T-1 sorts
        # first by label and its part (0) comes before T-9's (1)
        _callback(0, "T-9", DONE, "unsolved"),
        _callback(1, "T-1", DONE, "unsolved"),
        _callback(2, "T-1", DONE, "unsolved", agent="A-3"),  # ties with CB-1 on every key
        _callback(3, "T-99", DONE, "unsolved", agent="A-2"),  # an unknown ticket: part 0
        _callback(4, "T-1", _at(2026, 10, 16, 10), "solved"),
        _callback(5, "C-01", NOW + 7 * DAY + timedelta(hours=1), "solved",
                  subject="customer"),
    ])
    return Dataset(tickets=tickets, customers=customers, callbacks=callbacks, agents=ROSTER)


class TestTies:
    """Rows tied on window start and rule, across and within parts."""

    def test_the_data_is_split_as_the_ties_need(self) -> None:
        """Guards the other tests: which part each record lands in."""
        parts = split_by_customer(_tied_data(), K)
        assert [p.tickets.decode("ticket_id").tolist() for p in parts] \
            == [["T-1", "T-5"], ["T-9"], []]
        assert [p.callback_rows.tolist() for p in parts] == [[1, 2, 3, 4], [0], [5]]
        assert [p.customers.decode("customer_id").tolist() for p in parts] == [
            ["C-02", "C-03"], ["C-05", "C-08", "C-09", "C-10", "C-12"],
            ["C-01", "C-04", "C-06", "C-07", "C-11"]]

    def test_reports_follow_the_first_unsolved_callback(self) -> None:
        """Four reports in the same second: T-9 first (its callback came first), though
        its part comes later and its label sorts later; T-1's two tied reports keep the
        callbacks' order (their assignees tell them apart); the unknown ticket's last."""
        result = _merge(_tied_data(), K, NOW)
        report = result.whole.by_rule("report-unanswered")
        assert len(set(report["earliest"].tolist())) == 1
        assert report["subject_id"].tolist() == ["T-9", "T-1", "T-1", "T-99"]
        assert report["assignee"].tolist() == ["SUP-1", "SUP-1", "A-3", "SUP-1"]
        assert report["customer_id"].tolist() == ["C-05", "C-02", "C-02", None]
        _assert_same_plan(result.merged, result.whole)
        _assert_same_plan(result.merged.by_rule("report-unanswered"), report)

    def test_cadence_of_many_customers_on_the_same_day(self) -> None:
        """Customers never seen start their weekly cadence at ``now``: ten customers of
        every part due at the same moment, a week on, in customer id order."""
        result = _merge(_tied_data(), K, NOW)
        cadence = result.whole.by_rule("cadence-a")
        first = cadence["earliest"] == to_epoch(NOW + 7 * DAY)
        assert cadence["subject_id"][first].tolist() \
            == [f"C-{i:02d}" for i in range(1, 13) if i not in (2, 5)]
        lost = result.whole.by_rule("lost-customer")["subject_id"].tolist()
        assert lost == ["C-03", "C-07", "C-11"]
        _assert_same_plan(result.merged, result.whole)

    def test_unknown_customer(self) -> None:
        """A ticket of a customer missing from the customers table: rows without a
        customer (code -1), merged in place."""
        result = _merge(_tied_data(), K, NOW)
        rules = result.whole.by_rule("customer-file")
        assert dict(zip(rules["subject_id"].tolist(), rules["customer_id"].tolist(),
                        strict=True)) == {"T-9": "C-05", "T-1": "C-02", "T-5": None}
        _assert_same_plan(result.merged, result.whole)

    def test_statuses(self) -> None:
        """The reconciliations agree, ticket calls and a customer's cadence call alike."""
        data = _tied_data()
        result = _merge(data, K, NOW)
        as_of = NOW + 40 * DAY
        whole = reconcile(result.whole, data.callbacks, as_of=as_of)
        cadence = (result.whole["rule"] == result.whole.by_rule("cadence-a")["rule"][0]) \
            & (result.whole["subject_id"] == "C-01")
        assert ReconcileStatus.ON_TIME in {whole.status[i] for i in np.flatnonzero(cadence)}
        assert whole.counts()[ReconcileStatus.MISSED] > 0
        _assert_same_statuses(result, data.callbacks, as_of)

    def test_one_part_is_the_whole(self) -> None:
        """One part: its plan, in its own order."""
        result = _merge(_tied_data(), 1, NOW)
        assert result.order.tolist() == list(range(len(result.whole)))
        _assert_same_plan(result.merged, result.whole)


# --------------------------------------------------------------------------- refusals


def _exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def _parts_of(data: Dataset, now: datetime = NOW
              ) -> list[tuple[FollowUpPlan, CallbackTable | None, NDArray[np.int64]]]:
    """The merge's input for *data* in K parts."""
    return [(_plan(part, data.agents, now), part.callbacks, part.callback_rows)
            for part in split_by_customer(data, K)]


class TestRefused:
    """Inputs the merge cannot rebuild the whole plan from."""

    def test_no_parts(self) -> None:
        with pytest.raises(ValueError, match=_exactly(
                "no plans to merge: _merge_plans needs at least one part")):
            _merge_plans([])

    def test_parts_planned_at_another_now(self) -> None:
        parts = _parts_of(_tied_data())
        later = _parts_of(_tied_data(), NOW + DAY)
        with pytest.raises(ValueError, match=_exactly(
                f"plans to merge must share now and tz: part 1 has now="
                f"{to_epoch(NOW + DAY)}, tz='Asia/Shanghai'; part 0 now={to_epoch(NOW)}, "
                f"tz='Asia/Shanghai'")):
            _merge_plans([parts[0], later[1], parts[2]])

    def test_parts_planned_in_another_zone(self) -> None:
        data = _tied_data()
        moscow = POLICY.replace(calendar=WorkCalendar(tz="Europe/Moscow"))
        part = split_by_customer(data, K)[2]
        other = (_plan(part, data.agents, NOW, moscow), part.callbacks, part.callback_rows)
        with pytest.raises(ValueError, match=r"^plans to merge must share now and tz: "
                                             r"part 2 has now=\d+, tz='Europe/Moscow'"):
            _merge_plans([*_parts_of(data)[:2], other])

    def test_callback_rows_not_matching_the_callbacks(self) -> None:
        plan, callbacks, rows = _parts_of(_tied_data())[0]
        with pytest.raises(ValueError, match=_exactly(
                "part 0 has 4 callbacks but 3 callback rows")):
            _merge_plans([(plan, callbacks, rows[:3])])

    def test_reports_without_their_callbacks(self) -> None:
        """A part planned with callbacks, merged without them (or with others)."""
        parts = _parts_of(_tied_data())
        plan, callbacks, _ = parts[1]
        with pytest.raises(ValueError, match=_exactly(
                "part 1 reports unsolved callbacks but has no callbacks")):
            _merge_plans([parts[0], (plan, None, np.zeros(0, np.int64)), parts[2]])
        with pytest.raises(ValueError, match=_exactly(
                "part 1 reports an unsolved callback on 'T-9' that its callbacks do not "
                "hold")):
            _merge_plans([parts[0], (plan, parts[2][1], parts[2][2]), parts[2]])

    @pytest.mark.parametrize("extra", ["event", "maintenance"])
    def test_events_and_maintenance(self, extra: str) -> None:
        """Their subjects (an event's id) are shared by every customer's part."""
        data = _tied_data()
        part = split_by_customer(data, K)[0]
        plan = plan_followups(
            part.tickets, part.customers, now=NOW, agents=ROSTER, callbacks=part.callbacks,
            events=[CustomerEvent(event_id="E-1", at=NOW + 30 * DAY)] if extra == "event"
            else (),
            maintenance=[MaintenanceDue(customer_id="C-02", due=NOW + 30 * DAY)]
            if extra == "maintenance" else ())
        with pytest.raises(ValueError, match=_exactly(
                "part 0 has event or maintenance contacts: their subjects are shared by "
                "every customer's part, so the plans cannot be merged")):
            _merge_plans([(plan, part.callbacks, part.callback_rows)])

    def test_ids_not_labelled_in_string_order(self) -> None:
        """Customers built from Coded ids keep the caller's label order, which the whole
        plan follows and labels cannot tell."""
        coded, _ = CustomerTable.from_columns({
            "customer_id": Coded(codes=np.array([0, 1]), labels=("C-2", "C-1")),
            "tier": ["a", "a"], "loyalty": ["ordinary"] * 2, "tz": [SHANGHAI] * 2},
            on_invalid="raise")
        plan = plan_followups(TicketTable.from_records([]), coded, now=NOW, agents=ROSTER)
        with pytest.raises(ValueError, match=_exactly(
                "part 0: customer id labels are not in string order, so the whole plan's "
                "order cannot be rebuilt from the labels")):
            _merge_plans([(plan, None, np.zeros(0, np.int64))])

    def test_ticket_ids_not_labelled_in_string_order(self) -> None:
        """The same for tickets: T-9 coded before T-1."""
        data = _tied_data()
        columns: dict[str, object] = dict(data.tickets.to_columns())
        columns["ticket_id"] = Coded(codes=np.arange(3), labels=("T-9", "T-1", "T-5"))
        tickets, _ = TicketTable.from_columns(columns, on_invalid="raise")
        plan = plan_followups(tickets, data.customers, now=NOW, agents=ROSTER)
        with pytest.raises(ValueError, match=_exactly(
                "part 0: ticket id labels are not in string order, so the whole plan's "
                "order cannot be rebuilt from the labels")):
            _merge_plans([(plan, None, np.zeros(0, np.int64))])

    def test_parts_that_contradict_their_own_order(self) -> None:
        """Callback rows going backwards: part 0's T-99 report would move before its T-1
        reports, against the part's own order."""
        parts = _parts_of(_tied_data())
        plan, callbacks, rows = parts[0]
        with pytest.raises(ValueError, match=_exactly(
                "the parts' rows leave their own order once merged: the parts must split "
                "the data by customer (each subject in one part), with id labels in string "
                "order and callback rows increasing")):
            _merge_plans([(plan, callbacks, rows[::-1].copy()), *parts[1:]])
