"""Notebook tables: bounded, escaped, reached through ``_repr_html_``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pytest

import servicekpi as sk
from servicekpi.report import notebook

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import report_support as R
else:
    from tests.report import report_support as R


def _body_rows(fragment: str) -> int:
    """Rows of the last table's body."""
    body = fragment[fragment.rindex("<tbody>"):fragment.rindex("</tbody>")]
    return body.count("<tr>")


class TestBounded:
    """At most MAX_ROWS rows, and a line saying how many more."""

    def test_panel(self) -> None:
        page = R.month().panel._repr_html_()
        assert 20 == notebook.MAX_ROWS == _body_rows(page)
        assert "… 4 more groups (20 of 24 shown; panel.row(key) or panel.to_dict() lists " \
               "all)." in page
        assert "more KPIs: panel.row(key) shows every KPI." in page

    def test_small_panel_shows_everything(self) -> None:
        panel = R.month().team_panel.select("fcr_rate", "csi_rate")
        page = panel._repr_html_()
        assert 3 == _body_rows(page)
        assert "more" not in page
        assert "<th>FCR</th><th>CSI</th>" in page

    def test_scorecard(self) -> None:
        page = R.month().scorecard._repr_html_()
        assert 20 == _body_rows(page)
        assert "… 4 more agents (20 of 24 shown" in page
        first = page[page.index("<tbody>"):]
        assert first.startswith("<tbody><tr><td>A0010</td><td>T0001</td>")

    def test_evaluation(self) -> None:
        page = R.month()._repr_html_()
        assert 20 == _body_rows(page)
        assert "MonthlyEvaluation 2026-10 (Asia/Shanghai): 24 agents" in page
        assert "reward +100" in page
        assert "… 4 more ranked agents" in page

    def test_followups(self) -> None:
        page = R.month().followups._repr_html_()
        assert 20 == _body_rows(page)
        assert "… 22,005 more contacts (20 of 22,025 shown" in page

    def test_escalations(self) -> None:
        data = sk.synth.month(seed=1, tickets=5_000, agents=24, stations=3)
        table = sk.escalate_table(data.complaints, data.callbacks,
                                  now=datetime(2026, 11, 1, tzinfo=timezone.utc))
        page = table._repr_html_()
        assert 20 == _body_rows(page)
        assert f"… {len(table) - 20} more complaints" in page
        # the highest levels come first
        assert page.index(">severe<") < page.index(">repeat<")
        assert ">general<" not in page


class TestEscaped:
    """Every id, group and reason is escaped."""

    @pytest.mark.parametrize("render", [
        lambda ev: ev._repr_html_(),
        lambda ev: ev.scorecard._repr_html_(),
        lambda ev: ev.panel._repr_html_(),
        lambda ev: ev.team_panel._repr_html_(),
        lambda ev: ev.followups.for_agent(R.HOSTILE["A0001"])._repr_html_(),
    ], ids=["evaluation", "scorecard", "panel", "team_panel", "followups"])
    def test_hostile(self, render: object) -> None:
        assert callable(render)
        page = render(R.hostile())
        assert "&lt;script&gt;" in page
        assert "<script" not in page
        assert all(value not in page for value in R.HOSTILE.values())


class TestFallback:
    """Outside a notebook the objects show their repr."""

    def test_repr(self) -> None:
        assert repr(R.month().scorecard).startswith("<Scorecard 2026-10")
