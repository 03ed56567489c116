"""Reports of a monthly evaluation, for people (an edge: presentation only).

- :func:`render_text` — plain text (what ``servicekpi demo`` prints);
- :func:`render_markdown` — Markdown, tables escaped (``MonthlyEvaluation.to_markdown``);
- :func:`render_html` — one self-contained HTML page with inline SVG charts and no
  JavaScript; ``history=`` adds the trend over earlier months
  (``MonthlyEvaluation.to_html`` renders without history).

The notebook tables (:mod:`servicekpi.report.notebook`) and the matplotlib charts
(:mod:`servicekpi.report.plot`, the ``plot`` extra) are reached through the result
objects' ``_repr_html_`` and ``plot`` methods; importing this package never loads
matplotlib.
"""

from servicekpi.report.html import render_html
from servicekpi.report.markdown import render_markdown
from servicekpi.report.text import render_text

__all__ = ("render_html", "render_markdown", "render_text")
