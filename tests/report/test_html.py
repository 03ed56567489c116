"""The HTML report: one self-contained page, escaped, with SVG charts and no script."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pytest

import servicekpi as sk
from servicekpi.report import render_html

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import report_support as R
else:
    from tests.report import report_support as R


class _Tags(HTMLParser):
    """Start tags with their attributes, and whether every element was closed."""

    VOID = {"meta", "br", "img", "link", "input", "hr", "rect", "line", "circle",
            "polyline", "path"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.open or self.open[-1] != tag:
            raise AssertionError(f"</{tag}> closes <{self.open[-1] if self.open else ''}>")
        self.open.pop()


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


class TestPage:
    """A self-contained page: inline CSS, inline SVG, nothing fetched, nothing run."""

    def test_structure(self) -> None:
        page = R.month().to_html()
        parser = _parse(page)
        names = [tag for tag, _ in parser.tags]
        assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
        assert [] == parser.open
        assert 1 == names.count("style")
        assert {"script", "link", "img", "iframe", "object"}.isdisjoint(names)
        assert not any(key.startswith("on") for _, attrs in parser.tags for key in attrs)
        assert not re.search(r"(?i)javascript:|https?://(?!www\.w3\.org/2000/svg)", page)

    def test_svg_charts(self) -> None:
        parser = _parse(R.month().to_html())
        svgs = [attrs for tag, attrs in parser.tags if tag == "svg"]
        # a ranking per team (3) + composite and three KPI distributions (4)
        assert 7 == len(svgs)
        assert all(a.get("role") == "img" and a.get("aria-label") for a in svgs)

    def test_sections(self) -> None:
        parser = _parse(R.month().to_html())
        sections = [attrs["id"] for tag, attrs in parser.tags if tag == "section"]
        assert ["ranking", "consequences", "explain", "kpis", "complaints", "followups",
                "targets", "loyalty", "policy"] == sections

    def test_kpi_cells_coloured_by_attainment(self) -> None:
        page = R.month().to_html()
        assert re.search(r'<td class="n near" title="between floor and target · target '
                         r'80\.0%, floor 50\.0% · over [\d,]+">65\.1%</td>', page)
        assert '<td class="n below" title="at or below the floor' in page
        assert '<td class="n met" title="target met' in page

    def test_ranking_has_grades_and_consequences(self) -> None:
        page = R.month().to_html()
        assert '<span class="grade g1">B</span>' in page
        assert '<span class="tag reward" title="rank 1 of 8 in T0001">reward +100</span>' in page

    def test_missed_calls_bounded(self) -> None:
        page = render_html(R.month(), rows=5)
        assert "Missed calls: window closed, no callback (7,900)" in page
        assert "… and 7,895 more missed calls" in page

    def test_size(self) -> None:
        assert 50_000 < len(R.month().to_html().encode()) < 250_000


class TestHistory:
    """With history the page draws the trend; without it, no trend section."""

    def test_trend(self) -> None:
        page = render_html(R.month(), history=R.history())
        parser = _parse(page)
        assert '<section id="trend">' in page
        assert "Trend over 3 periods" in page
        assert 9 == sum(tag == "svg" for tag, _ in parser.tags)
        assert "2026-08" in page and "2026-09" in page

    def test_same_period_is_not_counted_twice(self) -> None:
        page = render_html(R.month(), history=[R.month()])
        assert '<section id="trend">' not in page

    def test_package_level_function(self) -> None:
        assert sk.report.render_html is render_html

    def test_rejects_other_history(self) -> None:
        with pytest.raises(TypeError, match=r"'history' must hold MonthlyEvaluation objects "
                                            r"\(got a Scorecard\)"):
            render_html(R.month(), history=[R.month().scorecard])  # type: ignore[list-item]

    def test_rejects_other_objects(self) -> None:
        with pytest.raises(TypeError, match="'evaluation' must be a MonthlyEvaluation"):
            render_html("month")  # type: ignore[arg-type]


class TestEscaping:
    """Strings from the data are escaped everywhere, SVG included."""

    def test_hostile_ids_never_raw(self) -> None:
        page = render_html(R.hostile(), history=R.history())
        assert R.SCRIPT not in page
        assert "<script" not in page
        assert all(value not in page for value in R.HOSTILE.values())
        assert html.escape(R.HOSTILE["A0001"]) in page
        svg = page[page.index("<svg"):]
        assert html.escape(R.HOSTILE["T0001"]) in svg

    def test_hostile_page_still_parses(self) -> None:
        parser = _parse(R.hostile().to_html())
        assert [] == parser.open
        assert "script" not in {tag for tag, _ in parser.tags}
