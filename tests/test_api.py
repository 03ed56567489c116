"""The stable API: ``servicekpi.__all__`` is pinned and documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import servicekpi
import servicekpi.exceptions

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"

FROZEN = (
    "Agent", "Customer", "Station", "Team",
    "Appraisal", "AppraisalItem", "Callback", "Complaint", "Deduction", "Order", "Period",
    "Rating", "Ticket", "TicketEvent", "Training",
    "AppraisalTrack", "CallbackOutcome", "CallbackSubject", "Channel", "ClockName",
    "ClockStatus", "ComplaintFlag", "ComplaintSource", "Direction", "EscalationLevel",
    "EventKind", "Loyalty", "PeriodKind", "Priority", "RaterRole", "Role", "ServiceType",
    "Tier",
    "Cadence", "ClockDefinition", "ConsequencePolicy", "EscalationPolicy", "FollowUpPolicy", "KpiTarget",
    "LoyaltyPolicy", "Policy", "RaterPolicy", "ScoringPolicy", "SlaPolicy", "TeamTargets",
    "WorkCalendar",
    "AgentTable", "CallbackTable", "Coded", "ComplaintTable", "CustomerTable", "Dataset",
    "MISSING", "OrderTable", "RatingTable", "TicketEventTable", "TicketTable",
    "ValidationIssue", "ValidationReport",
    "DIMENSIONS", "KPIS", "KpiDefinition", "KpiPanel", "kpi_panel",
    "ClockInstance", "ClockTable", "Credits", "clocks_at_risk", "measure_clocks",
    "CaseAction", "CaseEvent", "CaseEventKind", "CaseState", "ComplaintAnalysis",
    "ComplaintCase", "Escalation", "EscalationTable", "NextAction", "PenaltyRow",
    "PenaltyStatus", "Rule", "Rulebook", "StationShare", "complaint_analysis", "escalate",
    "escalate_table", "next_action", "rulebook",
    "CustomerEvent", "FollowUp", "FollowUpKind", "FollowUpPlan", "MaintenanceDue",
    "ReconcileStatus", "Reconciliation", "StaffAvailability", "cadence_dates",
    "plan_followups", "reconcile",
    "Consequence", "ConsequenceKind", "Explanation", "LoyaltyTable", "MonthlyEvaluation",
    "ScoreLine", "Scorecard", "TargetRow", "TeamReport", "consequences", "evaluate",
    "loyalty_classes", "score_agents", "team_targets",
    "ServiceKPIError", "synth",
)


def _documented(section: str) -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `([A-Za-z_]+)`", body, flags=re.MULTILINE))


class TestStableApi:
    """``__all__`` equals the frozen list and the documented one, and every name exists."""

    def test_all_is_frozen(self) -> None:
        assert FROZEN == servicekpi.__all__

    def test_all_is_documented(self) -> None:
        assert set(FROZEN) == _documented("servicekpi")

    def test_every_name_resolves(self) -> None:
        missing = [name for name in servicekpi.__all__ if not hasattr(servicekpi, name)]
        assert [] == missing

    def test_no_duplicates(self) -> None:
        assert len(set(servicekpi.__all__)) == len(servicekpi.__all__)

    def test_exceptions_are_documented(self) -> None:
        text = DOCS.read_text(encoding="utf-8").split("## servicekpi.exceptions", 1)[1]
        undocumented = [n for n in servicekpi.exceptions.__all__ if f"`{n}`" not in text]
        assert [] == undocumented

    def test_every_class_and_function_says_versionadded(self) -> None:
        # STYLE.md §9; modules (synth, rulebook) and constants (KPIS, MISSING, ...) aside.
        objects = {name: getattr(servicekpi, name) for name in servicekpi.__all__}
        public = {name: obj for name, obj in objects.items()
                  if inspect.isclass(obj) or inspect.isfunction(obj)}
        assert len(public) > 90
        unmarked = [name for name, obj in public.items()
                    if ".. versionadded::" not in (obj.__doc__ or "")]
        assert [] == unmarked


class TestTableDocs:
    """docs/tables.md shows every table's schema exactly as the code defines it."""

    def test_schemas_match(self) -> None:
        from servicekpi.tables import ALL_TABLES

        text = (DOCS.parent / "tables.md").read_text(encoding="utf-8")
        stale = [t.SCHEMA.name for t in ALL_TABLES if t.SCHEMA.describe() not in text]
        assert [] == stale


class TestKpiDocs:
    """docs/kpis.md lists every KPI with its formula, unit and kind, as the code has them."""

    def test_every_kpi_is_documented(self) -> None:
        text = (DOCS.parent / "kpis.md").read_text(encoding="utf-8")
        stale = [name for name, kpi in servicekpi.KPIS.items()
                 if f"| `{name}` | {kpi.definition} | {kpi.formula} | {kpi.unit} |" not in text]
        assert [] == stale

    def test_no_undocumented_rows(self) -> None:
        text = (DOCS.parent / "kpis.md").read_text(encoding="utf-8")
        documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.MULTILINE))
        assert set(servicekpi.KPIS) == documented
