"""Reports of a monthly evaluation, for people (an edge: presentation only)."""

from servicekpi.report.text import render_text

__all__ = ("render_text",)
