"""The Markdown report: its sections, well-formed tables, escaping."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from servicekpi.report import render_markdown
from servicekpi.report.markdown import _md

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import report_support as R
else:
    from tests.report import report_support as R


class TestSections:
    """The report follows the text report's sections."""

    def test_every_section_in_order(self) -> None:
        text = R.month().to_markdown()
        headings = [line for line in text.splitlines() if line.startswith("## ")]
        expected = ["## Scores and ranking by team (综合排名)",
                    "## Consequences (考核结果的运用)", "## Why the last place: A0001",
                    "## KPIs by team (targets from the policy)", "## Complaints (投诉)",
                    "## Follow-ups (跟踪服务)", "## Team targets vs actuals (售后经营发展目标)",
                    "## Customers by loyalty (忠诚/一般/流失)", "## Policy in force"]
        assert expected == headings

    def test_to_markdown_is_render_markdown(self) -> None:
        assert render_markdown(R.month()) == R.month().to_markdown()

    def test_ranking_rows_carry_grade_and_consequences(self) -> None:
        text = R.month().to_markdown()
        assert "| 1 | A0010 | 86.0 | B | 86.7 | – | 83.3 | 205 | reward +100 |" in text
        assert ("| 8 | A0001 | 54.6 | E | 43.4 | 67.7 | 77.7 | 259 | improvement plan due "
                "2026-11-08; deduction -100 |") in text

    def test_kpi_table_marks_attainment_and_shows_targets(self) -> None:
        rows = {table[2][0]: table for table in R.markdown_tables(R.month().to_markdown())
                if table[0][0] == "Team"}
        table = rows["T0001"]
        assert ["Team", "Tickets", "FCR", "CSI"] == table[0][:4]
        assert ["T0001", "1,621", "65.1% ~", "81.1% ~"] == table[2][:4]
        assert ["T0002", "1,997", "51.1% ~", "75.0% ✗"] == table[3][:4]
        assert ["**target**", "", "80.0%", "93.0%"] == table[5][:4]

    def test_bounded_groups_and_rows(self) -> None:
        text = render_markdown(R.month(), groups=1, rows=2)
        assert "… and 2 more groups" in text
        assert "… and 10 more consequences." in text
        assert "… and 1 more teams." in text

    def test_rejects_other_objects(self) -> None:
        with pytest.raises(TypeError, match="'evaluation' must be a MonthlyEvaluation "
                                            r"\(got Scorecard\)"):
            render_markdown(R.month().scorecard)  # type: ignore[arg-type]


class TestTables:
    """Every table has a header, an alignment row and equally many cells per row."""

    @pytest.mark.parametrize("build", [R.month, R.hostile], ids=["month", "hostile"])
    def test_well_formed(self, build: object) -> None:
        assert callable(build)
        tables = R.markdown_tables(build().to_markdown())
        assert len(tables) >= 10
        for table in tables:
            assert [len(table[0])] * len(table) == [len(row) for row in table]
            assert all(R.ALIGNMENT.match(cell) for cell in table[1])


class TestEscaping:
    """Strings from the data cannot inject markup or break a table."""

    def test_hostile_ids_never_raw(self) -> None:
        text = R.hostile().to_markdown()
        assert R.SCRIPT not in text
        assert all(value not in text for value in R.HOSTILE.values())
        assert _md(R.HOSTILE["A0001"]) in text

    @pytest.mark.parametrize(("raw", "expected"), [
        ("A|1", r"A\|1"),
        ("<b>x</b>", r"\<b\>x\</b\>"),
        ("*a* _b_ `c`", r"\*a\* \_b\_ \`c\`"),
        ("[x](y) & #1 ~z~ $m$", r"\[x\](y) \& \#1 \~z\~ \$m\$"),
        ("back\\slash", r"back\\slash"),
        ("- item", r"\- item"),
        ("1. first", r"1\. first"),
        ("two\nlines", "two lines"),
    ])
    def test_md(self, raw: str, expected: str) -> None:
        assert expected == _md(raw)
