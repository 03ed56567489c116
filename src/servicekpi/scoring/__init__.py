"""Appraisal and scoring: KPI points, the two appraisal tracks, 360° ratings, grades,
ranks and consequences (DOMAIN.md §3), and team targets (§7)."""

from servicekpi.scoring.consequences import Consequence, ConsequenceKind, consequences
from servicekpi.scoring.scorecard import Explanation, ScoreLine, Scorecard, score_agents

__all__ = ("Consequence", "ConsequenceKind", "Explanation", "ScoreLine", "Scorecard",
           "consequences", "score_agents")
