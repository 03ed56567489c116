"""Tests of servicekpi.tables: schemas, validation reports, codes and round trips."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from servicekpi.domain import (
    Agent,
    Callback,
    Channel,
    Complaint,
    ComplaintFlag,
    Customer,
    Order,
    Priority,
    Rating,
    ServiceType,
    Ticket,
)
from servicekpi.exceptions import (
    DuplicateKeyError,
    SchemaError,
    UnknownKeyError,
    ValidationFailedError,
)
from servicekpi.kernel import MISSING
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    Coded,
    Column,
    ComplaintTable,
    CustomerTable,
    Kind,
    OrderTable,
    RatingTable,
    Table,
    TicketTable,
    ValidationIssue,
    ValidationReport,
)

if TYPE_CHECKING:
    import strategies as S
else:
    from tests import strategies as S

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL_PROPERTY = settings(max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

T0 = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
T0_EPOCH = 1_791_190_800
HOUR = timedelta(hours=1)
SHANGHAI_9AM_EPOCH = T0_EPOCH - 8 * 3600  # 2026-10-05T09:00+08:00
NAIVE = datetime(2026, 10, 5, 9)

ALL_TABLES: tuple[type[Table], ...] = (TicketTable, ComplaintTable, CallbackTable, RatingTable,
                                      OrderTable, CustomerTable, AgentTable)

# One valid row per table (the key, when the table has one, is set per row, ...).
BASE: dict[type[Table], dict[str, Any]] = {
    TicketTable: {"agent_id": "A-1", "station_id": "S1", "customer_id": "C-1",
                  "service_type": "repair", "channel": "phone", "opened_at": T0},
    ComplaintTable: {"customer_id": "C-1", "station_id": "S1", "responsible": "Wang Wei",
                     "source": "hotline", "complaint_type": "delay", "received_at": T0},
    CallbackTable: {"subject": "ticket", "subject_id": "T-1", "due_from": T0,
                    "due_by": T0 + 24 * HOUR},
    RatingTable: {"agent_id": "A-1", "rater_role": "self", "item": "teamwork", "score": 50,
                  "rated_at": T0},
    OrderTable: {"customer_id": "C-1", "agent_id": "A-1", "created_at": T0, "amount": 100},
    CustomerTable: {},
    AgentTable: {"role": "trainer", "team_id": "TM-1", "station_id": "S1"},
}


def three_rows(table: type[Table], row1: Mapping[str, Any] | None = None,
               whole: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Three copies of the base row; *row1* overrides cells of row 1, *whole* whole columns.

    Optional columns that only row 1 sets are missing (``None``) on rows 0 and 2.
    """
    columns: dict[str, Any] = {name: [value] * 3 for name, value in BASE[table].items()}
    key = table.SCHEMA.key
    if key is not None:
        columns[key] = ["X-0", "X-1", "X-2"]
    for name, value in (row1 or {}).items():
        columns.setdefault(name, [None] * 3)
        columns[name][1] = value
    columns.update(whole or {})
    return columns


AUTO = "<the key of row 1>"


class Reject(NamedTuple):
    """One rejection: the input change on row 1 and the single issue it must produce."""

    table: type[Table]
    row1: dict[str, Any]
    field: str
    code: str
    value: Any
    rule: str
    key: str | None = AUTO
    whole: dict[str, Any] = {}


ID_RULE = "a non-empty string without surrounding spaces or control characters"
REQUIRED = "a value is required"
NAIVE_RULE = "a timezone-aware datetime (or pass default_tz)"
BAD_TIME = "an aware datetime or ISO-8601 text with a UTC offset"
ZONE_RULE = "an IANA time zone such as 'Asia/Shanghai'"

REJECTIONS = [
    # required
    pytest.param(Reject(TicketTable, {"ticket_id": None}, "ticket_id", "required", None,
                        REQUIRED, key=None), id="ticket-key-required"),
    pytest.param(Reject(TicketTable, {"agent_id": None}, "agent_id", "required", None,
                        REQUIRED), id="ticket-id-required"),
    pytest.param(Reject(TicketTable, {"channel": "  "}, "channel", "required", "  ", REQUIRED),
                 id="ticket-choice-required-blank"),
    pytest.param(Reject(TicketTable, {"opened_at": None}, "opened_at", "required", None,
                        REQUIRED), id="ticket-time-required"),
    pytest.param(Reject(ComplaintTable, {"received_at": ""}, "received_at", "required", "",
                        REQUIRED), id="complaint-time-required"),
    pytest.param(Reject(ComplaintTable, {"responsible": None}, "responsible", "required", None,
                        REQUIRED), id="complaint-responsible-required"),
    pytest.param(Reject(CallbackTable, {"subject": None}, "subject", "required", None,
                        REQUIRED), id="callback-choice-required"),
    pytest.param(Reject(RatingTable, {"score": None}, "score", "required", None, REQUIRED,
                        key=None), id="rating-number-required"),
    pytest.param(Reject(OrderTable, {"amount": None}, "amount", "required", None, REQUIRED),
                 id="order-money-required"),
    pytest.param(Reject(CustomerTable, {"customer_id": ""}, "customer_id", "required", "",
                        REQUIRED, key=None), id="customer-key-required"),
    pytest.param(Reject(AgentTable, {"role": None}, "role", "required", None, REQUIRED),
                 id="agent-role-required"),
    # invalid_id
    pytest.param(Reject(TicketTable, {"agent_id": " A-1"}, "agent_id", "invalid_id", " A-1",
                        ID_RULE), id="ticket-id-padded"),
    pytest.param(Reject(TicketTable, {"customer_id": True}, "customer_id", "invalid_id", True,
                        ID_RULE), id="ticket-id-bool"),
    pytest.param(Reject(ComplaintTable, {"responsible": 3.5}, "responsible", "invalid_id", 3.5,
                        ID_RULE), id="complaint-id-float"),
    pytest.param(Reject(CallbackTable, {"subject_id": "T-1\n"}, "subject_id", "invalid_id",
                        "T-1\n", ID_RULE), id="callback-id-newline"),
    pytest.param(Reject(RatingTable, {"item": False}, "item", "invalid_id", False, ID_RULE,
                        key=None), id="rating-id-bool"),
    pytest.param(Reject(OrderTable, {"order_id": 2.0}, "order_id", "invalid_id", 2.0, ID_RULE,
                        key=None), id="order-key-float"),
    pytest.param(Reject(CustomerTable, {"customer_id": " C"}, "customer_id", "invalid_id", " C",
                        ID_RULE, key=None), id="customer-key-padded"),
    pytest.param(Reject(AgentTable, {"supervisor_id": ["A-2"]}, "supervisor_id", "invalid_id",
                        ["A-2"], ID_RULE), id="agent-id-list"),
    # unknown_choice
    pytest.param(Reject(TicketTable, {"service_type": "repiar"}, "service_type",
                        "unknown_choice", "repiar",
                        "one of: repair, consultation, technical_support, complaint_handling, "
                        "maintenance, installation, warranty_claim"), id="ticket-service-type"),
    pytest.param(Reject(TicketTable, {"channel": "fax"}, "channel", "unknown_choice", "fax",
                        "one of: phone, online, email, walk_in, on_site, letter"),
                 id="ticket-channel"),
    pytest.param(Reject(TicketTable, {"priority": 2}, "priority", "unknown_choice", 2,
                        "one of: low, normal, high, urgent"), id="ticket-priority-int"),
    pytest.param(Reject(TicketTable, {"customer_tier": "d"}, "customer_tier", "unknown_choice",
                        "d", "one of: a, b, c"), id="ticket-tier"),
    pytest.param(Reject(ComplaintTable, {"source": "tv"}, "source", "unknown_choice", "tv",
                        "one of: hotline, online, letter, walk_in"), id="complaint-source"),
    pytest.param(Reject(ComplaintTable, {"flags": "media, tv"}, "flags", "unknown_choice",
                        "media, tv", "complaint flags among: media, regulator, safety, threat"),
                 id="complaint-flags"),
    pytest.param(Reject(CallbackTable, {"subject": "order"}, "subject", "unknown_choice",
                        "order", "one of: ticket, complaint, customer, event"),
                 id="callback-subject"),
    pytest.param(Reject(CallbackTable, {"outcome": "great"}, "outcome", "unknown_choice",
                        "great", "one of: solved, unsolved, unreachable"),
                 id="callback-outcome"),
    pytest.param(Reject(RatingTable, {"rater_role": "boss"}, "rater_role", "unknown_choice",
                        "boss", "one of: self, supervisor, peer, subordinate, customer, "
                                "external_expert", key=None), id="rating-role"),
    pytest.param(Reject(CustomerTable, {"loyalty": "fickle"}, "loyalty", "unknown_choice",
                        "fickle", "one of: loyal, ordinary, lost"), id="customer-loyalty"),
    pytest.param(Reject(AgentTable, {"role": "ceo"}, "role", "unknown_choice", "ceo",
                        "one of: service_manager, service_representative, technical_support, "
                        "field_engineer, quality_assurance, followup_clerk, feedback_clerk, "
                        "trainer, data_analyst, coordinator, logistics_coordinator, "
                        "inventory_clerk, service_advisor"), id="agent-role"),
    pytest.param(Reject(AgentTable, {"track": "vibes"}, "track", "unknown_choice", "vibes",
                        "one of: performance_agreement, key_indicators"), id="agent-track"),
    # naive_datetime
    pytest.param(Reject(TicketTable, {"opened_at": NAIVE}, "opened_at", "naive_datetime",
                        NAIVE, NAIVE_RULE), id="ticket-naive"),
    pytest.param(Reject(TicketTable, {"closed_at": "2026-10-06T09:00"}, "closed_at",
                        "naive_datetime", "2026-10-06T09:00", NAIVE_RULE),
                 id="ticket-naive-text"),
    pytest.param(Reject(ComplaintTable, {"received_at": NAIVE}, "received_at",
                        "naive_datetime", NAIVE, NAIVE_RULE), id="complaint-naive"),
    pytest.param(Reject(CallbackTable, {"due_from": NAIVE}, "due_from", "naive_datetime",
                        NAIVE, NAIVE_RULE), id="callback-naive"),
    pytest.param(Reject(RatingTable, {"rated_at": "2026-10-05"}, "rated_at", "naive_datetime",
                        "2026-10-05", NAIVE_RULE, key=None), id="rating-naive-date"),
    pytest.param(Reject(OrderTable, {"created_at": NAIVE}, "created_at", "naive_datetime",
                        NAIVE, NAIVE_RULE), id="order-naive"),
    # bad_datetime
    pytest.param(Reject(TicketTable, {"opened_at": "yesterday"}, "opened_at", "bad_datetime",
                        "yesterday", BAD_TIME), id="ticket-bad-text"),
    pytest.param(Reject(TicketTable, {"resolved_at": 1.7e9}, "resolved_at", "bad_datetime",
                        1.7e9, BAD_TIME), id="ticket-bad-float"),
    pytest.param(Reject(ComplaintTable, {"received_at": "2026-13-01T00:00+00:00"},
                        "received_at", "bad_datetime", "2026-13-01T00:00+00:00", BAD_TIME),
                 id="complaint-bad-month"),
    pytest.param(Reject(CallbackTable, {"done_at": True, "outcome": "solved"}, "done_at",
                        "bad_datetime", True, BAD_TIME), id="callback-bad-bool"),
    pytest.param(Reject(OrderTable, {"created_at": T0.date()}, "created_at", "bad_datetime",
                        T0.date(), BAD_TIME), id="order-bad-date"),
    # out_of_range
    pytest.param(Reject(TicketTable, {"satisfaction": 7}, "satisfaction", "out_of_range", 7,
                        "a number in [1, 5]"), id="ticket-satisfaction-high"),
    pytest.param(Reject(TicketTable, {"satisfaction": "0.5"}, "satisfaction", "out_of_range",
                        "0.5", "a number in [1, 5]"), id="ticket-satisfaction-low-text"),
    pytest.param(Reject(TicketTable, {"reopen_count": -1}, "reopen_count", "out_of_range", -1,
                        "an integer in [0, 2**53]"), id="ticket-count-negative"),
    pytest.param(Reject(TicketTable, {"answers": 1.5}, "answers", "out_of_range", 1.5,
                        "an integer in [0, 2**53]"), id="ticket-count-fraction"),
    pytest.param(Reject(TicketTable, {"labour_cost": "-0.01"}, "labour_cost", "out_of_range",
                        "-0.01", "a number >= 0"), id="ticket-money-negative"),
    pytest.param(Reject(OrderTable, {"amount": Decimal("-5")}, "amount", "out_of_range",
                        Decimal("-5"), "a number >= 0"), id="order-amount-negative"),
    pytest.param(Reject(RatingTable, {"score": 120}, "score", "out_of_range", 120,
                        "'score' must lie in [scale_min, scale_max]", key=None),
                 id="rating-score-above-default-scale"),
    pytest.param(Reject(RatingTable, {"score": 0.5, "scale_min": 1, "scale_max": 5}, "score",
                        "out_of_range", 0.5, "'score' must lie in [scale_min, scale_max]",
                        key=None), id="rating-score-below-own-scale"),
    # not_a_number
    pytest.param(Reject(TicketTable, {"satisfaction": "good"}, "satisfaction", "not_a_number",
                        "good", "a finite number"), id="ticket-number-text"),
    pytest.param(Reject(TicketTable, {"satisfaction": math.inf}, "satisfaction",
                        "not_a_number", math.inf, "a finite number"), id="ticket-number-inf"),
    pytest.param(Reject(TicketTable, {"revenue": "12,50"}, "revenue", "not_a_number", "12,50",
                        "a finite number"), id="ticket-money-comma"),
    pytest.param(Reject(RatingTable, {"score": "high"}, "score", "not_a_number", "high",
                        "a finite number", key=None), id="rating-score-text"),
    pytest.param(Reject(RatingTable, {"scale_max": [10]}, "scale_max", "not_a_number", [10],
                        "a finite number", key=None), id="rating-scale-list"),
    pytest.param(Reject(OrderTable, {"paid": True}, "paid", "not_a_number", True,
                        "a finite number"), id="order-money-bool"),
    # bad_bool
    pytest.param(Reject(TicketTable, {"rework": "maybe"}, "rework", "bad_bool", "maybe",
                        "true or false"), id="ticket-bool-text"),
    pytest.param(Reject(TicketTable, {"first_contact_resolved": 2,
                                      "resolved_at": T0 + HOUR},
                        "first_contact_resolved", "bad_bool", 2, "true or false"),
                 id="ticket-bool-two"),
    pytest.param(Reject(OrderTable, {"valid": "sure"}, "valid", "bad_bool", "sure",
                        "true or false"), id="order-bool-text"),
    pytest.param(Reject(OrderTable, {"abnormal": 0.5}, "abnormal", "bad_bool", 0.5,
                        "true or false"), id="order-bool-float"),
    # time_order
    pytest.param(Reject(TicketTable, {"resolved_at": T0 - HOUR}, "resolved_at", "time_order",
                        T0 - HOUR, "'resolved_at' must not be before 'opened_at'"),
                 id="ticket-resolved-before-opened"),
    pytest.param(Reject(TicketTable, {"resolved_at": T0 + 2 * HOUR, "closed_at": T0 + HOUR},
                        "closed_at", "time_order", T0 + HOUR,
                        "'closed_at' must not be before 'resolved_at'"),
                 id="ticket-closed-before-resolved"),
    pytest.param(Reject(TicketTable, {"first_response_at": "2026-10-05T16:59:59+08:00"},
                        "first_response_at", "time_order", "2026-10-05T16:59:59+08:00",
                        "'first_response_at' must not be before 'opened_at'"),
                 id="ticket-response-before-opened"),
    pytest.param(Reject(CallbackTable, {"due_by": T0 - timedelta(seconds=1)}, "due_by",
                        "time_order", T0 - timedelta(seconds=1),
                        "'due_by' must not be before 'due_from'"), id="callback-due-by"),
    pytest.param(Reject(ComplaintTable, {"closed_at": T0 - HOUR}, "closed_at", "time_order",
                        T0 - HOUR, "'closed_at' must not be before 'received_at'"),
                 id="complaint-closed-before-received"),
    # exceeds
    pytest.param(Reject(TicketTable, {"answers": 2, "answer_errors": 3}, "answer_errors",
                        "exceeds", 3, "'answer_errors' must not exceed 'answers'"),
                 id="ticket-answer-errors"),
    pytest.param(Reject(OrderTable, {"paid": "100.01"}, "paid", "exceeds", "100.01",
                        "'paid' must not exceed 'amount'"), id="order-paid"),
    pytest.param(Reject(OrderTable, {"paid": 40, "refunded": 50}, "refunded", "exceeds", 50,
                        "'refunded' must not exceed 'paid'"), id="order-refunded"),
    # fcr_unresolved
    pytest.param(Reject(TicketTable, {"first_contact_resolved": "yes"},
                        "first_contact_resolved", "fcr_unresolved", "yes",
                        "'first_contact_resolved' needs 'resolved_at'"), id="ticket-fcr"),
    # outcome_iff_done
    pytest.param(Reject(CallbackTable, {"done_at": T0 + HOUR}, "outcome", "outcome_iff_done",
                        None, "'outcome' is given exactly when 'done_at' is"),
                 id="callback-done-without-outcome"),
    pytest.param(Reject(CallbackTable, {"outcome": "solved"}, "outcome", "outcome_iff_done",
                        "solved", "'outcome' is given exactly when 'done_at' is"),
                 id="callback-outcome-without-done"),
    # scale_order
    pytest.param(Reject(RatingTable, {"scale_min": 10, "scale_max": 5}, "scale_min",
                        "scale_order", 10, "'scale_min' must be below 'scale_max'", key=None),
                 id="rating-scale-reversed"),
    pytest.param(Reject(RatingTable, {"scale_min": 50, "scale_max": 50.0}, "scale_min",
                        "scale_order", 50, "'scale_min' must be below 'scale_max'", key=None),
                 id="rating-scale-empty"),
    # unique: only the second occurrence
    pytest.param(Reject(TicketTable, {"ticket_id": "X-0"}, "ticket_id", "unique", "X-0",
                        "unique: seen on an earlier row", key="X-0"), id="ticket-unique"),
    pytest.param(Reject(ComplaintTable, {"complaint_id": "X-0"}, "complaint_id", "unique",
                        "X-0", "unique: seen on an earlier row", key="X-0"),
                 id="complaint-unique"),
    pytest.param(Reject(CallbackTable, {"callback_id": "X-0"}, "callback_id", "unique", "X-0",
                        "unique: seen on an earlier row", key="X-0"), id="callback-unique"),
    pytest.param(Reject(OrderTable, {"order_id": "X-0"}, "order_id", "unique", "X-0",
                        "unique: seen on an earlier row", key="X-0"), id="order-unique"),
    pytest.param(Reject(CustomerTable, {"customer_id": "X-0"}, "customer_id", "unique", "X-0",
                        "unique: seen on an earlier row", key="X-0"), id="customer-unique"),
    pytest.param(Reject(AgentTable, {"agent_id": "X-0"}, "agent_id", "unique", "X-0",
                        "unique: seen on an earlier row", key="X-0"), id="agent-unique"),
    pytest.param(Reject(TicketTable, {}, "ticket_id", "unique", "X-0",
                        "unique: seen on an earlier row", key="X-0",
                        whole={"ticket_id": Coded(codes=np.array([0, 0, 1]),
                                                  labels=("X-0", "X-2"))}),
                 id="ticket-unique-coded"),
    # unknown_zone, and the id rule on zone columns
    pytest.param(Reject(CustomerTable, {"tz": "Mars/Base"}, "tz", "unknown_zone", "Mars/Base",
                        ZONE_RULE), id="customer-zone"),
    pytest.param(Reject(AgentTable, {"tz": "Asia/Shangai"}, "tz", "unknown_zone",
                        "Asia/Shangai", ZONE_RULE), id="agent-zone-typo"),
    pytest.param(Reject(AgentTable, {"tz": " UTC"}, "tz", "invalid_id", " UTC", ID_RULE),
                 id="agent-zone-padded"),
    # not_text
    pytest.param(Reject(AgentTable, {"name": 5}, "name", "not_text", 5, "a string"),
                 id="agent-name-int"),
    pytest.param(Reject(ComplaintTable, {"description": b"x"}, "description", "not_text",
                        b"x", "a string"), id="complaint-description-bytes"),
    # bad_code (Coded input) and whole-array input
    pytest.param(Reject(TicketTable, {}, "agent_id", "bad_code", 5, "a code in [-1, 1)",
                        whole={"agent_id": Coded(codes=np.array([0, 5, 0]),
                                                 labels=("A-1",))}),
                 id="ticket-id-code-too-big"),
    pytest.param(Reject(OrderTable, {}, "agent_id", "bad_code", -2, "a code in [-1, 2)",
                        whole={"agent_id": Coded(codes=np.array([0, -2, 1]),
                                                 labels=("A-1", "A-2"))}),
                 id="order-id-code-negative"),
    pytest.param(Reject(TicketTable, {}, "channel", "bad_code", 3, "a code in [-1, 1)",
                        whole={"channel": Coded(codes=np.array([0, 3, 0]),
                                                labels=("phone",))}),
                 id="ticket-choice-code-too-big"),
    pytest.param(Reject(TicketTable, {}, "agent_id", "required", -1, REQUIRED,
                        whole={"agent_id": Coded(codes=np.array([0, -1, 0]),
                                                 labels=("A-1",))}),
                 id="ticket-id-code-missing"),
    pytest.param(Reject(ComplaintTable, {}, "flags", "out_of_range", 16,
                        "a bit mask of complaint flags",
                        whole={"flags": np.array([0, 16, 15])}), id="complaint-flags-mask"),
    pytest.param(Reject(TicketTable, {}, "reopen_count", "out_of_range", -1, "an integer in [0, 2**53]",
                        whole={"reopen_count": np.array([0, -1, 3])}),
                 id="ticket-count-array"),
    pytest.param(Reject(TicketTable, {}, "closed_at", "time_order", T0_EPOCH - 1,
                        "'closed_at' must not be before 'opened_at'",
                        whole={"opened_at": np.full(3, T0_EPOCH),
                               "closed_at": np.array([MISSING, T0_EPOCH - 1, T0_EPOCH])}),
                 id="ticket-epoch-array"),
]


class TestRejections:
    """Each rule rejects exactly the offending row, naming row, key, field, value and rule."""

    @pytest.mark.parametrize("case", REJECTIONS)
    def test_single_issue(self, case: Reject) -> None:
        columns = three_rows(case.table, case.row1, case.whole)
        table, report = case.table.from_columns(columns)
        key = ("X-1" if case.table.SCHEMA.key else None) if case.key == AUTO else case.key
        expected = ValidationIssue(row=1, key=key, field=case.field, value=case.value,
                                   rule=case.rule, code=case.code)
        assert (expected,) == report.issues
        assert (3, 2, 1, (1,)) == (report.rows_in, report.rows_valid, report.rows_rejected,
                                   report.rejected_rows)
        assert 2 == len(table)
        assert {case.code: 1} == report.counts()
        assert not report.ok

    @pytest.mark.parametrize("table", ALL_TABLES)
    def test_base_rows_are_valid(self, table: type[Table]) -> None:
        built, report = table.from_columns(three_rows(table))
        assert (3, 3, (), True) == (report.rows_in, report.rows_valid, report.issues, report.ok)
        assert 3 == len(built)

    @pytest.mark.parametrize("table", [t for t in ALL_TABLES if t.SCHEMA.key])
    def test_rejected_row_leaves_the_table(self, table: type[Table]) -> None:
        key = table.SCHEMA.key
        assert key is not None
        built, _ = table.from_columns(three_rows(table, {key: "X-0"}))
        assert ("X-0", "X-2") == built.labels(key)
        assert ["X-0", "X-2"] == built.decode(key).tolist()

    def test_only_later_duplicates_are_rejected(self) -> None:
        columns = three_rows(CustomerTable, whole={"customer_id": ["C", "C", "C"]})
        _, report = CustomerTable.from_columns(columns)
        assert (1, 2) == report.rejected_rows
        assert {"unique": 2} == report.counts()

    def test_one_row_can_break_several_rules(self) -> None:
        columns = three_rows(TicketTable, {"satisfaction": 9, "rework": "maybe",
                                           "resolved_at": T0 - HOUR})
        _, report = TicketTable.from_columns(columns)
        assert [("resolved_at", "time_order"), ("rework", "bad_bool"),
                ("satisfaction", "out_of_range")] == sorted(
            (issue.field, issue.code) for issue in report.issues)
        assert (1,) == report.rejected_rows

    def test_rules_skip_cells_already_rejected(self) -> None:
        # an unreadable resolved_at is reported once, not also as out of order
        _, report = TicketTable.from_columns(three_rows(
            TicketTable, {"resolved_at": "soon", "first_contact_resolved": True}))
        assert [("resolved_at", "bad_datetime")] == [(i.field, i.code) for i in report.issues]

    def test_report_text(self) -> None:
        _, report = TicketTable.from_columns(three_rows(TicketTable, {"satisfaction": 7}))
        assert ("tickets: 3 rows in, 2 valid, 1 rejected\n"
                "  row 1 (X-1): satisfaction=7: a number in [1, 5] [out_of_range]"
                ) == str(report)

    def test_report_text_is_truncated_after_20_issues(self) -> None:
        n = 25
        columns = {name: [value] * n for name, value in BASE[RatingTable].items()}
        columns["score"] = [-1] * n
        _, report = RatingTable.from_columns(columns)
        lines = str(report).splitlines()
        assert 22 == len(lines)
        assert "  … and 5 more issues" == lines[-1]
        assert "  row 0: score=-1: 'score' must lie in [scale_min, scale_max] [out_of_range]" \
            == lines[1]


TIME_ANCHORS = [(TicketTable, "opened_at"), (ComplaintTable, "received_at"),
                (CallbackTable, "due_from"), (RatingTable, "rated_at"),
                (OrderTable, "created_at")]


class TestTimes:
    """Timestamps: aware values, ISO text, epochs, naive values with default_tz."""

    @pytest.mark.parametrize(("table", "name"), TIME_ANCHORS)
    @pytest.mark.parametrize("naive", [NAIVE, "2026-10-05T09:00:00", "2026-10-05 09:00"])
    def test_naive_accepted_with_default_tz(self, table: type[Table], name: str,
                                            naive: Any) -> None:
        built, report = table.from_columns(three_rows(table, {name: naive}),
                                           default_tz="Asia/Shanghai")
        assert report.ok
        assert [T0_EPOCH, SHANGHAI_9AM_EPOCH, T0_EPOCH] == built[name].tolist()

    @pytest.mark.parametrize(("text", "expected"), [
        ("2026-10-05T09:00:00+00:00", T0_EPOCH),
        ("2026-10-05T09:00:00Z", T0_EPOCH),
        ("2026-10-05T17:00:00+08:00", T0_EPOCH),
        (" 2026-10-05T09:00:00.999+00:00 ", T0_EPOCH),  # floored to whole seconds
        (T0_EPOCH, T0_EPOCH),
        (np.int64(T0_EPOCH), T0_EPOCH),
        (datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=timezone.utc), -1),
    ])
    def test_values_become_epoch_seconds(self, text: Any, expected: int) -> None:
        built, report = TicketTable.from_columns(three_rows(TicketTable, {"opened_at": text}))
        assert report.ok
        assert expected == int(built["opened_at"][1])

    @pytest.mark.parametrize(("naive", "expected"), [
        # a wall time in the spring-forward gap moves forward by the gap
        ("2026-03-08T02:30:00", datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)),
        # an ambiguous wall time takes its first occurrence (EDT)
        ("2026-11-01T01:30:00", datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)),
    ])
    def test_default_tz_gaps_and_folds(self, naive: str, expected: datetime) -> None:
        built, _ = TicketTable.from_columns(three_rows(TicketTable, {"opened_at": naive}),
                                            default_tz="America/New_York")
        assert int(expected.timestamp()) == int(built["opened_at"][1])

    def test_datetime64_with_utc(self) -> None:
        values = np.array(["2026-10-05T09:00:00.7", "NaT", "2026-10-05T10:00"],
                          dtype="datetime64[ns]")
        built, report = TicketTable.from_columns(
            three_rows(TicketTable, whole={"closed_at": values}), default_tz="UTC")
        assert report.ok
        assert [T0_EPOCH, MISSING, T0_EPOCH + 3600] == built["closed_at"].tolist()

    def test_missing_time_reads_back_as_nat(self) -> None:
        built, _ = TicketTable.from_columns(three_rows(TicketTable, {"closed_at": T0}))
        decoded = built.decode("closed_at")
        assert np.dtype("datetime64[s]") == decoded.dtype
        assert [True, False, True] == np.isnat(decoded).tolist()
        assert np.datetime64("2026-10-05T09:00:00") == decoded[1]


class TestSchemaErrors:
    """Column sets that do not fit the schema raise SchemaError with a precise message."""

    def test_unknown_column_with_hint(self) -> None:
        columns = {**three_rows(TicketTable), "ticket_idd": ["a", "b", "c"]}
        with pytest.raises(SchemaError, match=re.escape(
                "tickets: unknown column 'ticket_idd'. Did you mean 'ticket_id'?")):
            TicketTable.from_columns(columns)

    def test_unknown_column_lists_known_ones_for_small_schemas(self) -> None:
        with pytest.raises(SchemaError, match=re.escape(
                "customers: unknown column 'bogus'. Known: customer_id, loyalty, name, tier, "
                "tz")):
            CustomerTable.from_columns({"customer_id": ["C"], "bogus": [1]})

    def test_missing_required_columns(self) -> None:
        with pytest.raises(SchemaError, match=re.escape(
                "tickets: missing required columns ['agent_id', 'channel', 'customer_id', "
                "'opened_at', 'service_type', 'station_id']")):
            TicketTable.from_columns({"ticket_id": ["T-1"]})

    @pytest.mark.parametrize("table", ALL_TABLES)
    def test_missing_every_required_column(self, table: type[Table]) -> None:
        required = sorted(c.name for c in table.SCHEMA.columns if c.required)
        with pytest.raises(SchemaError, match=re.escape(
                f"{table.SCHEMA.name}: missing required columns {required!r}")):
            table.from_columns({})

    def test_unequal_lengths(self) -> None:
        columns = {**three_rows(CustomerTable), "name": ["a", "b"]}
        with pytest.raises(SchemaError, match=re.escape(
                "customers: columns differ in length {'customer_id': 3, 'name': 2}")):
            CustomerTable.from_columns(columns)

    @pytest.mark.parametrize("default_tz", [None, "Asia/Shanghai", "Europe/London"])
    def test_datetime64_needs_utc(self, default_tz: str | None) -> None:
        columns = three_rows(TicketTable, whole={
            "opened_at": np.array(["2026-10-05T09:00"] * 3, dtype="datetime64[s]")})
        with pytest.raises(SchemaError, match=re.escape(
                "'opened_at': numpy datetime64 values have no time zone; convert them to "
                "aware datetimes or pass default_tz='UTC'")):
            TicketTable.from_columns(columns, default_tz=default_tz)

    def test_unknown_default_tz(self) -> None:
        with pytest.raises(SchemaError, match=re.escape(
                "unknown time zone 'Mars/Base' for 'default_tz'")):
            TicketTable.from_columns(three_rows(TicketTable), default_tz="Mars/Base")

    @pytest.mark.parametrize("blank", ["", "  "])
    def test_blank_default_tz_is_not_the_local_zone(self, blank: str) -> None:
        with pytest.raises(SchemaError, match=re.escape(
                f"unknown time zone {blank!r} for 'default_tz'")):
            TicketTable.from_columns(three_rows(TicketTable), default_tz=blank)

    @pytest.mark.parametrize(("labels", "shown"), [
        ((" A-1",), "' A-1'"), (("",), "''"), (("A-1", 7), "7"), (("A-1\t",), "'A-1\\t'")])
    def test_coded_bad_labels(self, labels: tuple[Any, ...], shown: str) -> None:
        coded = Coded(codes=np.zeros(3, dtype=np.int64), labels=labels)
        with pytest.raises(SchemaError, match=re.escape(
                f"'agent_id': Coded labels must be non-empty strings without surrounding "
                f"spaces or control characters (got {shown})")):
            TicketTable.from_columns(three_rows(TicketTable, whole={"agent_id": coded}))

    def test_coded_duplicate_labels(self) -> None:
        coded = Coded(codes=np.array([0, 1, 0]), labels=("A-1", "A-1"))
        with pytest.raises(SchemaError, match=re.escape(
                "'agent_id': Coded labels must be unique")):
            TicketTable.from_columns(three_rows(TicketTable, whole={"agent_id": coded}))

    def test_coded_choice_bad_label(self) -> None:
        coded = Coded(codes=np.zeros(3, dtype=np.int64), labels=("fax",))
        with pytest.raises(SchemaError, match="'channel'"):
            TicketTable.from_columns(three_rows(TicketTable, whole={"channel": coded}))


class TestOnInvalidRaise:
    """on_invalid="raise" turns a non-empty report into ValidationFailedError."""

    def test_message_is_the_report(self) -> None:
        columns = three_rows(OrderTable, {"paid": 150, "valid": "sure"})
        _, report = OrderTable.from_columns(columns)
        with pytest.raises(ValidationFailedError, match=re.escape(str(report))):
            OrderTable.from_columns(columns, on_invalid="raise")
        assert ("orders: 3 rows in, 2 valid, 1 rejected\n"
                "  row 1 (X-1): paid=150: 'paid' must not exceed 'amount' [exceeds]\n"
                "  row 1 (X-1): valid='sure': true or false [bad_bool]") == str(report)

    def test_valid_input_does_not_raise(self) -> None:
        built, report = OrderTable.from_columns(three_rows(OrderTable), on_invalid="raise")
        assert (3, True) == (len(built), report.ok)

    def test_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match=re.escape("[required]")):
            CustomerTable.from_columns({"customer_id": [None]}, on_invalid="raise")


def ticket(ticket_id: str = "T-1", **changes: Any) -> Ticket:
    """A valid ticket."""
    values: dict[str, Any] = {"ticket_id": ticket_id, "agent_id": "A-1", "customer_id": "C-1",
                              "station_id": "S1", "service_type": "repair",
                              "channel": "phone", "opened_at": T0}
    values.update(changes)
    return Ticket(**values)


def sample_tickets() -> TicketTable:
    """Three tickets with missing values in some optional columns."""
    return TicketTable.from_records([
        ticket("T-3", agent_id="A-2", team_id="TM-1", satisfaction=4.0,
               resolved_at=T0 + HOUR, priority="urgent"),
        ticket("T-1", customer_tier="a"),
        ticket("T-2", agent_id="A-2", closed_at=T0 + 2 * HOUR, labour_cost="12.30"),
    ])


class TestAccess:
    """present, decode, take, labels and indexing of a built table."""

    def test_getitem_dtypes_follow_the_schema(self) -> None:
        table = sample_tickets()
        for column in TicketTable.SCHEMA.columns:
            assert np.dtype(column.dtype) == table[column.name].dtype, column.name

    def test_unknown_column(self) -> None:
        with pytest.raises(UnknownKeyError, match=re.escape(
                "unknown column of tickets 'opend_at'. Did you mean 'opened_at'?")):
            sample_tickets()["opend_at"]

    @pytest.mark.parametrize("method", ["present", "decode", "labels"])
    def test_unknown_column_in_methods(self, method: str) -> None:
        table = sample_tickets()
        with pytest.raises(UnknownKeyError, match=re.escape(
                "unknown column of tickets 'agentid'. Did you mean 'agent_id'?")):
            getattr(table, method)("agentid")

    def test_unknown_key_error_is_a_key_error(self) -> None:
        with pytest.raises(KeyError, match="Did you mean 'satisfaction'"):
            sample_tickets()["satisfactoin"]

    def test_labels_of_a_non_id_column(self) -> None:
        with pytest.raises(SchemaError, match=re.escape(
                "'opened_at' is not an id column of tickets")):
            sample_tickets().labels("opened_at")

    def test_labels_and_codes(self) -> None:
        table = sample_tickets()
        assert ("T-1", "T-2", "T-3") == table.labels("ticket_id")
        assert [2, 0, 1] == table["ticket_id"].tolist()
        assert ("A-1", "A-2") == table.labels("agent_id")
        assert ("TM-1",) == table.labels("team_id")
        assert [0, -1, -1] == table["team_id"].tolist()

    def test_present(self) -> None:
        table = sample_tickets()
        assert [True, False, False] == table.present("team_id").tolist()
        assert [True, False, False] == table.present("satisfaction").tolist()
        assert [True, False, False] == table.present("resolved_at").tolist()
        assert [False, True, False] == table.present("customer_tier").tolist()
        assert [True, True, True] == table.present("priority").tolist()  # has a default
        assert [True, True, True] == table.present("rework").tolist()
        assert [False, False, True] == table.present("labour_cost").tolist()

    def test_decode(self) -> None:
        table = sample_tickets()
        assert ["T-3", "T-1", "T-2"] == table.decode("ticket_id").tolist()
        assert ["TM-1", None, None] == table.decode("team_id").tolist()
        assert [Priority.URGENT, Priority.NORMAL, Priority.NORMAL] == \
            table.decode("priority").tolist()
        assert [None, "a", None] == [t and t.value for t in table.decode("customer_tier")]
        assert [ServiceType.REPAIR] * 3 == table.decode("service_type").tolist()
        assert [Channel.PHONE] * 3 == table.decode("channel").tolist()
        assert 12.3 == table.decode("labour_cost")[2]

    @pytest.mark.parametrize("rows", [np.array([False, True, True]), np.array([2, 1])])
    def test_take(self, rows: NDArray[Any]) -> None:
        table = sample_tickets()
        part = table.take(rows)
        assert isinstance(part, TicketTable)
        assert 2 == len(part)
        assert ["T-1", "T-2"] == sorted(part.decode("ticket_id").tolist())

    def test_take_reorders(self) -> None:
        table = sample_tickets()
        assert ["T-2", "T-3", "T-1"] == table.take(np.array([2, 0, 1])).decode(
            "ticket_id").tolist()

    def test_take_nothing(self) -> None:
        empty = sample_tickets().take(np.zeros(3, dtype=bool))
        assert (0, 0) == (len(empty), empty.n_rows)

    @pytest.mark.parametrize("name", ["opened_at", "ticket_id", "satisfaction", "rework",
                                      "priority", "answers"])
    def test_columns_are_read_only(self, name: str) -> None:
        table = sample_tickets()
        with pytest.raises(ValueError, match="read-only"):
            table[name][0] = table[name][1]

    def test_decoded_times_are_read_only(self) -> None:
        with pytest.raises(ValueError, match="read-only"):
            sample_tickets().decode("opened_at")[0] = np.datetime64("2020-01-01T00:00:00")

    def test_input_arrays_are_neither_frozen_nor_shared(self) -> None:
        opened = np.full(3, T0_EPOCH, dtype=np.int64)
        answers = np.array([1, 2, 3])
        built, _ = TicketTable.from_columns(three_rows(
            TicketTable, whole={"opened_at": opened, "answers": answers}))
        assert opened.flags.writeable and answers.flags.writeable
        opened[0] = 0
        answers[0] = 99
        assert [T0_EPOCH] * 3 == built["opened_at"].tolist()
        assert [1, 2, 3] == built["answers"].tolist()

    def test_shape_and_repr(self) -> None:
        table = sample_tickets()
        assert (3, 3, TicketTable.SCHEMA.names) == (len(table), table.n_rows, table.columns)
        assert "<TicketTable: 3 rows × 24 columns>" == repr(table)

    def test_equality(self) -> None:
        assert sample_tickets() == sample_tickets()
        assert sample_tickets() != sample_tickets().take(np.array([0, 1]))
        empty_tickets, _ = TicketTable.from_columns({n: [] for n in BASE[TicketTable]} |
                                                    {"ticket_id": []})
        empty_orders, _ = OrderTable.from_columns({n: [] for n in BASE[OrderTable]} |
                                                  {"order_id": []})
        assert empty_tickets != empty_orders
        with pytest.raises(TypeError, match="unhashable"):
            hash(sample_tickets())


class TestFromRecords:
    """from_records takes valid domain objects of the right type with unique keys."""

    def test_wrong_type(self) -> None:
        complaint = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
                              responsible="Wang", source="hotline", complaint_type="delay",
                              received_at=T0)
        with pytest.raises(TypeError, match=re.escape(
                "TicketTable.from_records expects Ticket objects (got Complaint(")):
            TicketTable.from_records([ticket(), complaint])

    def test_wrong_type_dict(self) -> None:
        with pytest.raises(TypeError, match=re.escape(
                "CustomerTable.from_records expects Customer objects (got {'customer_id': "
                "'C-1'})")):
            CustomerTable.from_records([{"customer_id": "C-1"}])

    def test_duplicate_key(self) -> None:
        with pytest.raises(DuplicateKeyError, match=re.escape("ticket_id 'T-1' appears twice")):
            TicketTable.from_records([ticket("T-1"), ticket("T-2"), ticket("T-1")])

    def test_duplicate_key_is_a_value_error(self) -> None:
        customer = Customer(customer_id="C-1")
        with pytest.raises(ValueError, match=re.escape("customer_id 'C-1' appears twice")):
            CustomerTable.from_records([customer, customer])

    def test_ratings_have_no_key(self) -> None:
        rating = Rating(agent_id="A-1", rater_role="self", item="teamwork", score=80,
                        rated_at=T0)
        assert 2 == len(RatingTable.from_records([rating, rating]))

    def test_empty(self) -> None:
        table = AgentTable.from_records([])
        assert 0 == len(table)
        assert [] == table.to_records()

    def test_accepts_any_iterable(self) -> None:
        table = TicketTable.from_records(ticket(f"T-{i}") for i in range(3))
        assert ("T-0", "T-1", "T-2") == table.labels("ticket_id")

    def test_to_records_gives_utc_and_decimals(self) -> None:
        cst = timezone(timedelta(hours=8))
        original = ticket(opened_at=datetime(2026, 10, 5, 17, tzinfo=cst), labour_cost="12.30")
        (back,) = TicketTable.from_records([original]).to_records()
        assert timezone.utc == back.opened_at.tzinfo
        assert T0 == back.opened_at
        assert Decimal("12.3") == back.labour_cost
        assert isinstance(back.labour_cost, Decimal)
        assert original == back

    def test_complaint_flags_round_trip(self) -> None:
        complaint = Complaint(complaint_id="K-1", customer_id="C-1", station_id="S1",
                              responsible="Wang", source="walk_in", complaint_type="delay",
                              received_at=T0, flags="media; threat")
        table = ComplaintTable.from_records([complaint])
        assert [0b1001] == table["flags"].tolist()
        assert frozenset({ComplaintFlag.MEDIA, ComplaintFlag.THREAT}) == \
            table.to_records()[0].flags

    def test_blank_text_round_trips(self) -> None:
        customer = Customer(customer_id="C-1", name=" ")
        assert [customer] == CustomerTable.from_records([customer]).to_records()


class TestCodedValue:
    """Coded: dictionary-encoded input, decoded with None for -1."""

    def test_decode(self) -> None:
        coded = Coded(codes=[0, 1, -1, 0], labels=["A-1", "A-2"])
        assert 4 == len(coded)
        assert ("A-1", "A-2") == coded.labels
        assert ["A-1", "A-2", None, "A-1"] == coded.decode().tolist()

    def test_coded_ids_are_relabelled_to_the_used_labels(self) -> None:
        coded = Coded(codes=np.array([2, 0, 2]), labels=("A-9", "A-5", "A-1"))
        built, report = TicketTable.from_columns(three_rows(TicketTable,
                                                            whole={"agent_id": coded}))
        assert report.ok
        assert ("A-9", "A-1") == built.labels("agent_id")
        assert ["A-1", "A-9", "A-1"] == built.decode("agent_id").tolist()

    def test_coded_choices_by_value_or_name(self) -> None:
        coded = Coded(codes=np.array([1, 0, -1]), labels=("PHONE", "walk-in"))
        built, report = TicketTable.from_columns(three_rows(
            TicketTable, whole={"channel": coded, "priority": Coded(
                codes=np.array([-1, 0, 1]), labels=("low", "urgent"))}))
        assert [(2, "channel", "required")] == [(i.row, i.field, i.code) for i in report.issues]
        assert [Channel.WALK_IN, Channel.PHONE] == built.decode("channel").tolist()
        assert [Priority.NORMAL, Priority.LOW] == built.decode("priority").tolist()


class TestSchema:
    """Schema documentation and look-ups."""

    @pytest.mark.parametrize("table", ALL_TABLES)
    def test_describe_mentions_every_column_and_rule(self, table: type[Table]) -> None:
        text = table.SCHEMA.describe()
        lines = text.splitlines()
        assert "| column | kind | dtype | required | default | meaning |" == lines[0]
        for column in table.SCHEMA.columns:
            assert any(line.startswith(f"| `{column.name}` | {column.kind.value}")
                       for line in lines), column.name
        for rule in table.SCHEMA.rules:
            assert f"- rule `{rule.code}`: {rule.description}" in lines

    def test_describe_row(self) -> None:
        lines = TicketTable.SCHEMA.describe().splitlines()
        assert "| `satisfaction` | number in [1, 5] | float64 | no |  | customer rating; " \
               "missing = not rated |" in lines
        assert "| `priority` | choice (low, normal, high, urgent) | int8 | no | `normal` | " \
               "HIGH/URGENT = complex problem |" in lines
        assert "| `reopen_count` | count >= 0 | int64 | no | `0` | times reopened |" in lines

    def test_column_lookup(self) -> None:
        assert Column(name="tz", kind=Kind.ZONE, doc="the customer's IANA time zone",
                      default="Asia/Shanghai") == CustomerTable.SCHEMA.column("tz")
        with pytest.raises(UnknownKeyError, match=re.escape(
                "unknown column of customers 'zone'. Known: customer_id, loyalty, name, "
                "tier, tz")):
            CustomerTable.SCHEMA.column("zone")

    @pytest.mark.parametrize("table", ALL_TABLES)
    def test_schema_matches_record_fields(self, table: type[Table]) -> None:
        assert sorted(f.name for f in attrs.fields(table.RECORD)) == sorted(table.SCHEMA.names)


# --------------------------------------------------------------------------- properties

_OPAQUE = object()
_JUNK_VALUES: list[Any] = [
    None, math.nan, "", "   ", "garbage", -1, 3.5, True, 10**6, "2026-10-05", NAIVE,
    "Mars/Base", (1,), _OPAQUE, " pad ", "inf", 7, Decimal("NaN"), b"bytes", 0,
]
# Left out on purpose, each covered by an xfail test in TestKnownBugs: unhashable values
# (crash choice columns), integers beyond int64 (wrap in count columns), "sNaN" (crashes
# number columns), ids with trailing NUL characters (truncated by numpy).
JUNK = st.sampled_from(_JUNK_VALUES)
_TIMES: list[Any] = [T0, T0 + HOUR, T0 - HOUR, "2026-10-05T19:00:00+08:00", T0_EPOCH + 7200,
                     datetime(2026, 10, 5, 9, 30, tzinfo=timezone(timedelta(hours=-3)))]


def valid_values(column: Column) -> st.SearchStrategy[Any]:
    """Values that a cell of *column* accepts on its own (rules may still reject the row)."""
    kind = column.kind
    if kind is Kind.ID:
        return st.sampled_from(["A-1", "B-2", "C-3", 42])
    if kind is Kind.CHOICE:
        members = list(column.choices or ())
        return st.sampled_from(members + [m.value for m in members]
                               + [m.name for m in members])
    if kind is Kind.TIME:
        return st.sampled_from(_TIMES)
    if kind is Kind.BOOL:
        return st.sampled_from([True, False, "yes", "No", 0, 1, np.bool_(True)])
    if kind is Kind.COUNT:
        return st.sampled_from([0, 1, 2, 3, "2", 5.0, np.int64(4)])
    if kind in (Kind.NUMBER, Kind.MONEY):
        return st.sampled_from([1, 2.5, 4, Decimal("3.50"), "4.5", 50, 100, np.float64(3.0)])
    if kind is Kind.TEXT:
        return st.sampled_from(["", "Li Na", "x"])
    if kind is Kind.FLAGS:
        return st.sampled_from(["media", "safety, threat", frozenset({ComplaintFlag.MEDIA}),
                                ["regulator"]])
    return st.sampled_from(["Asia/Shanghai", "UTC", "Europe/Moscow"])


@st.composite
def messy_columns(draw: st.DrawFn, table: type[Table],
                  keys: st.SearchStrategy[Any] | None = None) -> dict[str, list[Any]]:
    """Columns mixing clean rows and rows with junk (None, NaN, wrong types, bad text).

    *keys* draws the key column; by default keys are unique and valid.
    """
    schema = table.SCHEMA
    n = draw(st.integers(min_value=0, max_value=8))
    clean = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    columns: dict[str, list[Any]] = {}
    for column in schema.columns:
        if column.name == schema.key:
            columns[column.name] = ([f"X-{i}" for i in range(n)] if keys is None
                                    else draw(st.lists(keys, min_size=n, max_size=n)))
            continue
        if not column.required and not draw(st.booleans()):
            continue
        columns[column.name] = [draw(valid_values(column) if ok else valid_values(column) | JUNK)
                                for ok in clean]
    return columns


def rows_of(table: Table) -> Counter[tuple[Any, ...]]:
    """The rows as a multiset of tuples of Python values."""
    columns = table.to_columns()
    return Counter(zip(*columns.values())) if len(table) else Counter()


def utc_record(record: Any) -> Any:
    """*record* with its datetimes in UTC and whitespace-only text as ''.

    Folds make same-instant datetimes of different zones compare unequal (PEP 495), and
    blank text is a known bug (see TestFromRecords.test_blank_text_round_trips).
    """
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        if isinstance(value, datetime):
            changes[field.name] = value.astimezone(timezone.utc)
        elif field.name in ("name", "description") and not value.strip():
            changes[field.name] = ""
    return attrs.evolve(record, **changes)


RECORD_STRATEGIES: list[Any] = [
    pytest.param(TicketTable, S.tickets(), id="tickets"),
    pytest.param(ComplaintTable, S.complaints(), id="complaints"),
    pytest.param(CallbackTable, S.callbacks(), id="callbacks"),
    pytest.param(RatingTable, S.ratings(), id="ratings"),
    pytest.param(OrderTable, S.orders(), id="orders"),
    pytest.param(CustomerTable, S.customers(), id="customers"),
    pytest.param(AgentTable, S.agents(), id="agents"),
]


MONEY_FIELDS = ("labour_cost", "parts_cost", "revenue", "amount", "paid", "refunded")


def _key_of(table: type[Table]) -> Callable[[Any], Any] | None:
    key = table.SCHEMA.key
    return None if key is None else (lambda record: getattr(record, key))


class TestProperties:
    """Invariants over arbitrary input: counts, round trips, order and codes."""

    @pytest.mark.parametrize("table", ALL_TABLES)
    @SMALL_PROPERTY
    @given(data=st.data())
    def test_rows_are_counted_and_kept_rows_are_clean(self, table: type[Table],
                                                      data: st.DataObject) -> None:
        columns = data.draw(messy_columns(table, keys=valid_values(
            Column(name="k", kind=Kind.ID)) | JUNK))
        built, report = table.from_columns(columns)
        n = len(next(iter(columns.values())))
        assert n == report.rows_in
        assert report.rows_in == report.rows_valid + report.rows_rejected
        assert report.rows_valid == len(built)
        assert report.rows_rejected == len(report.rejected_rows)
        assert all(0 <= issue.row < n for issue in report.issues)
        assert list(report.issues) == sorted(report.issues, key=lambda i: i.row)
        assert report.ok == (report.rows_rejected == 0)
        again, second = table.from_columns(built.to_columns())
        assert second.ok
        assert rows_of(built) == rows_of(again)

    @pytest.mark.parametrize(("table", "records"), RECORD_STRATEGIES)
    @PROPERTY
    @given(data=st.data())
    def test_records_round_trip(self, table: type[Table], records: st.SearchStrategy[Any],
                                data: st.DataObject) -> None:
        objs = data.draw(st.lists(records, max_size=5, unique_by=_key_of(table)))
        built = table.from_records(objs)
        back = built.to_records()
        assert [utc_record(o) for o in objs] == [utc_record(o) for o in back]
        assert all(type(o) is table.RECORD for o in back)
        values = [getattr(o, f.name) for o in back for f in attrs.fields(table.RECORD)]
        assert all(v.tzinfo is timezone.utc for v in values if isinstance(v, datetime))
        assert all(v is None or isinstance(v, Decimal) for o in back for v in (
            getattr(o, name, None) for name in MONEY_FIELDS))
        assert built == table.from_columns(built.to_columns())[0]

    @pytest.mark.parametrize("table", ALL_TABLES)
    @SMALL_PROPERTY
    @given(data=st.data())
    def test_shuffling_rows_permutes_table_and_report(self, table: type[Table],
                                                      data: st.DataObject) -> None:
        columns = data.draw(messy_columns(table))
        n = len(next(iter(columns.values())))
        perm = data.draw(st.permutations(range(n)))
        shuffled = {name: [values[p] for p in perm] for name, values in columns.items()}
        first, first_report = table.from_columns(columns)
        second, second_report = table.from_columns(shuffled)

        def issues(report: ValidationReport, origin: Callable[[int], int]
                   ) -> Counter[tuple[Any, ...]]:
            return Counter((origin(i.row), i.key, i.field, i.code, i.rule, repr(i.value))
                           for i in report.issues)

        assert issues(first_report, lambda row: row) == issues(second_report,
                                                               lambda row: perm[row])
        kept_first = [row for row in range(n) if row not in first_report.rejected_rows]
        kept_second = [row for row in range(n) if row not in second_report.rejected_rows]
        position = {row: i for i, row in enumerate(kept_first)}
        order = np.array([position[perm[row]] for row in kept_second], dtype=np.intp)
        assert first.take(order) == second

    @pytest.mark.parametrize("table", [t for t in ALL_TABLES if t.SCHEMA.key])
    @SMALL_PROPERTY
    @given(data=st.data())
    def test_shuffling_with_duplicate_keys_keeps_the_issue_set(self, table: type[Table],
                                                                data: st.DataObject) -> None:
        columns = data.draw(messy_columns(table, keys=st.sampled_from(
            ["X-1", "X-2", "X-3", None, " X-4"])))
        n = len(next(iter(columns.values())))
        perm = data.draw(st.permutations(range(n)))
        shuffled = {name: [values[p] for p in perm] for name, values in columns.items()}
        _, first = table.from_columns(columns)
        _, second = table.from_columns(shuffled)
        assert {(i.key, i.field, i.code) for i in first.issues} == \
            {(i.key, i.field, i.code) for i in second.issues}

    @PROPERTY
    @given(data=st.data())
    def test_id_labels_are_sorted_and_decode_the_input(self, data: st.DataObject) -> None:
        good_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                            min_size=1, max_size=5)
        agent_ids = data.draw(st.lists(S.ids("A") | st.integers(0, 10**9) | good_text,
                                       min_size=1, max_size=12))
        n = len(agent_ids)
        scores = data.draw(st.lists(st.sampled_from([None, 3, 9]), min_size=n, max_size=n))
        columns = {name: [value] * n for name, value in BASE[TicketTable].items()}
        columns.update(ticket_id=[f"T-{i}" for i in range(n)], agent_id=agent_ids,
                       satisfaction=scores)
        built, _ = TicketTable.from_columns(columns)
        kept = [str(a) for a, s in zip(agent_ids, scores) if s != 9]
        labels = built.labels("agent_id")
        assert tuple(sorted(set(kept))) == labels
        assert kept == [labels[code] for code in built["agent_id"]]
        assert kept == built.decode("agent_id").tolist()


class TestKnownBugs:
    """Library bugs found while testing; each test states the correct behaviour."""

    @pytest.mark.parametrize("value", [1e30, 2**70])
    def test_huge_count_is_out_of_range(self, value: Any) -> None:
        with np.errstate(invalid="ignore"):
            _, report = TicketTable.from_columns(three_rows(TicketTable,
                                                            {"reopen_count": value}))
        assert [("reopen_count", "out_of_range")] == [(i.field, i.code) for i in report.issues]

    def test_infinite_money_in_an_array_is_rejected(self) -> None:
        built, report = TicketTable.from_columns(three_rows(
            TicketTable, whole={"labour_cost": np.array([1.0, np.inf, 2.0])}))
        assert [("labour_cost", "not_a_number")] == [(i.field, i.code) for i in report.issues]
        assert 2 == len(built)

    @pytest.mark.parametrize("value", ["sNaN", Decimal("sNaN")])
    def test_signalling_nan_is_not_a_number(self, value: Any) -> None:
        _, report = TicketTable.from_columns(three_rows(TicketTable, {"labour_cost": value}))
        assert [("labour_cost", "not_a_number")] == [(i.field, i.code) for i in report.issues]

    @pytest.mark.parametrize("value", [["phone"], {"channel": "phone"}])
    def test_unhashable_choice_is_unknown_choice(self, value: Any) -> None:
        _, report = TicketTable.from_columns(three_rows(TicketTable, {"channel": value}))
        assert [("channel", "unknown_choice")] == [(i.field, i.code) for i in report.issues]

    def test_ids_with_a_trailing_nul_are_rejected_not_truncated(self) -> None:
        """Once kept verbatim (astype(str) had dropped the NUL); a control character in
        an id is now a rejected row (it would join with nothing)."""
        built, report = TicketTable.from_columns(three_rows(
            TicketTable, whole={"agent_id": ["A-1", "A-1\x00", "A-2"]}))
        assert [(1, "agent_id", "invalid_id")] == [(i.row, i.field, i.code)
                                                   for i in report.issues]
        assert ("A-1", "A-2") == built.labels("agent_id")

    def test_zone_default_keeps_tables_canonical(self) -> None:
        built, _ = CustomerTable.from_columns({"customer_id": ["C-1", "C-2"],
                                               "tz": ["UTC", None]})
        assert built == CustomerTable.from_columns(built.to_columns())[0]

    def test_pandas_series_with_an_index(self) -> None:
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(three_rows(TicketTable, {"satisfaction": 9}), index=[10, 11, 12])
        _, report = TicketTable.from_columns({name: frame[name] for name in frame.columns})
        assert [(1, "satisfaction", 9)] == [(i.row, i.field, i.value) for i in report.issues]


def test_record_types_are_the_domain_classes() -> None:
    assert (Ticket, Complaint, Callback, Rating, Order, Customer, Agent) == tuple(
        t.RECORD for t in ALL_TABLES)


class TestControlCharactersInIds:
    """A NUL or a tab inside an id looks like another id in every report and joins with
    none: such a row is rejected, never kept."""

    @pytest.mark.parametrize("bad", ["T-1\x00", "T\t1", "T-1\x7f", "T\n1"])
    def test_rejected_row(self, bad: str) -> None:
        t0 = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
        table, report = TicketTable.from_columns({
            "ticket_id": ["T-0", bad], "agent_id": ["A-1", "A-1"], "station_id": ["S1"] * 2,
            "customer_id": ["C-1", "C-2"], "service_type": ["repair"] * 2,
            "channel": ["phone"] * 2, "opened_at": [t0, t0]})
        assert (1, ("T-0",)) == (len(table), table.labels("ticket_id"))
        assert [("ticket_id", bad, "invalid_id")] == [(i.field, i.value, i.code)
                                                      for i in report.issues]

    def test_coded_labels_refused(self) -> None:
        with pytest.raises(SchemaError, match="control characters"):
            TicketTable.from_columns({
                "ticket_id": Coded(codes=np.array([0]), labels=("T\x001",)),
                "agent_id": ["A-1"], "station_id": ["S1"], "customer_id": ["C-1"],
                "service_type": ["repair"], "channel": ["phone"],
                "opened_at": [datetime(2026, 10, 5, 9, tzinfo=timezone.utc)]})
