"""servicekpi: after-sales service KPIs, explainable scores, escalations and follow-ups.

The stable API is what this module exports; everything under ``servicekpi.domain``,
``servicekpi.kernel`` and the ``_``-prefixed modules is internal. Errors live in
:mod:`servicekpi.exceptions`.

>>> import servicekpi as sk
>>> data = sk.synth.month(seed=3, tickets=1_000, agents=10, stations=1)
>>> len(data.tickets), sk.Policy.default().kpis["csi_rate"].target
(1000, 0.93)
"""

from servicekpi import rulebook, synth
from servicekpi.calendar import WorkCalendar
from servicekpi.clocks import ClockTable, Credits, clocks_at_risk, measure_clocks
from servicekpi.dataset import Dataset
from servicekpi.domain import (
    Agent,
    Appraisal,
    AppraisalItem,
    AppraisalTrack,
    Callback,
    CallbackOutcome,
    CallbackSubject,
    Channel,
    ClockInstance,
    ClockName,
    ClockStatus,
    Complaint,
    ComplaintFlag,
    ComplaintSource,
    Customer,
    Deduction,
    Direction,
    EscalationLevel,
    EventKind,
    Loyalty,
    Order,
    Period,
    PeriodKind,
    Priority,
    Rating,
    RaterRole,
    Role,
    ServiceType,
    Station,
    Team,
    Ticket,
    TicketEvent,
    Tier,
    Training,
)
from servicekpi.evaluation import MonthlyEvaluation, evaluate
from servicekpi.exceptions import ServiceKPIError
from servicekpi.kernel import MISSING
from servicekpi.metrics import DIMENSIONS, KPIS, KpiDefinition, KpiPanel, kpi_panel
from servicekpi.policy import (
    Cadence,
    ClockDefinition,
    ConsequencePolicy,
    EscalationPolicy,
    FollowUpPolicy,
    KpiTarget,
    LoyaltyPolicy,
    Policy,
    RaterPolicy,
    ScoringPolicy,
    SlaPolicy,
    TeamTargets,
)
from servicekpi.rulebook import Rule, Rulebook
from servicekpi.rules.analysis import (
    ComplaintAnalysis,
    PenaltyRow,
    PenaltyStatus,
    StationShare,
    complaint_analysis,
)
from servicekpi.rules.closed_loop import (
    CaseAction,
    CaseEvent,
    CaseEventKind,
    CaseState,
    ComplaintCase,
    NextAction,
    next_action,
)
from servicekpi.rules.escalation import Escalation, EscalationTable, escalate, escalate_table
from servicekpi.rules.followup import (
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
from servicekpi.scoring import (
    Consequence,
    ConsequenceKind,
    Explanation,
    LoyaltyTable,
    Scorecard,
    ScoreLine,
    TargetRow,
    TeamReport,
    consequences,
    loyalty_classes,
    score_agents,
    team_targets,
)
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    Coded,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    TicketEventTable,
    TicketTable,
    ValidationIssue,
    ValidationReport,
)

__version__ = "0.1.0"

__all__ = (
    # domain: who is measured
    "Agent",
    "Customer",
    "Station",
    "Team",
    # domain: records
    "Appraisal",
    "AppraisalItem",
    "Callback",
    "Complaint",
    "Deduction",
    "Order",
    "Period",
    "Rating",
    "Ticket",
    "TicketEvent",
    "Training",
    # domain: closed sets
    "AppraisalTrack",
    "CallbackOutcome",
    "CallbackSubject",
    "Channel",
    "ClockName",
    "ClockStatus",
    "ComplaintFlag",
    "ComplaintSource",
    "Direction",
    "EscalationLevel",
    "EventKind",
    "Loyalty",
    "PeriodKind",
    "Priority",
    "RaterRole",
    "Role",
    "ServiceType",
    "Tier",
    # policy and business time
    "Cadence",
    "ClockDefinition",
    "ConsequencePolicy",
    "EscalationPolicy",
    "FollowUpPolicy",
    "KpiTarget",
    "LoyaltyPolicy",
    "Policy",
    "RaterPolicy",
    "ScoringPolicy",
    "SlaPolicy",
    "TeamTargets",
    "WorkCalendar",
    # tables
    "AgentTable",
    "CallbackTable",
    "Coded",
    "ComplaintTable",
    "CustomerTable",
    "Dataset",
    "MISSING",
    "OrderTable",
    "RatingTable",
    "TicketEventTable",
    "TicketTable",
    "ValidationIssue",
    "ValidationReport",
    # KPIs
    "DIMENSIONS",
    "KPIS",
    "KpiDefinition",
    "KpiPanel",
    "kpi_panel",
    # SLA clocks over ticket events
    "ClockInstance",
    "ClockTable",
    "Credits",
    "clocks_at_risk",
    "measure_clocks",
    # complaints
    "CaseAction",
    "CaseEvent",
    "CaseEventKind",
    "CaseState",
    "ComplaintAnalysis",
    "ComplaintCase",
    "Escalation",
    "EscalationTable",
    "NextAction",
    "PenaltyRow",
    "PenaltyStatus",
    "Rule",
    "Rulebook",
    "StationShare",
    "complaint_analysis",
    "escalate",
    "escalate_table",
    "next_action",
    "rulebook",
    # follow-ups
    "CustomerEvent",
    "FollowUp",
    "FollowUpKind",
    "FollowUpPlan",
    "MaintenanceDue",
    "ReconcileStatus",
    "Reconciliation",
    "StaffAvailability",
    "cadence_dates",
    "plan_followups",
    "reconcile",
    # appraisal and the monthly evaluation
    "Consequence",
    "ConsequenceKind",
    "Explanation",
    "LoyaltyTable",
    "MonthlyEvaluation",
    "ScoreLine",
    "Scorecard",
    "TargetRow",
    "TeamReport",
    "consequences",
    "evaluate",
    "loyalty_classes",
    "score_agents",
    "team_targets",
    # errors and data
    "ServiceKPIError",
    "synth",
)
