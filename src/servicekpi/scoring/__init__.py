"""Appraisal and scoring: KPI points, the two appraisal tracks, 360° ratings, grades,
ranks and consequences (DOMAIN.md §3), team targets (§7) and loyalty classes (§6)."""

from servicekpi.scoring.consequences import Consequence, ConsequenceKind, consequences
from servicekpi.scoring.scorecard import Explanation, ScoreLine, Scorecard, score_agents
from servicekpi.scoring.team import (
    LoyaltyTable,
    TargetRow,
    TeamReport,
    loyalty_classes,
    team_targets,
)

__all__ = ("Consequence", "ConsequenceKind", "Explanation", "LoyaltyTable", "ScoreLine",
           "Scorecard", "TargetRow", "TeamReport", "consequences", "loyalty_classes",
           "score_agents", "team_targets")
