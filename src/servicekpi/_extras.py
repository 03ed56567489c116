"""The one door from the core to the edges: load an edge module when a method needs it.

Core classes offer a few conveniences that need an optional dependency —
``TicketTable.from_frame``, ``KpiPanel.to_frame``, ``KpiPanel.plot``, ``_repr_html_`` —
and the code behind them lives in an edge module (``servicekpi.io``,
``servicekpi.report``), because only edges may import narwhals, matplotlib and the
like. The core reaches that code through :func:`edge` at call time, never at import
time, so ``import servicekpi`` stays on attrs, numpy and python-dateutil, and the layers
still import downward only (pandas' ``DataFrame.plot`` reaches its plotting backend the
same way). ``tests/test_layers.py`` checks that :func:`edge` is only ever asked for edge
modules, by a literal name.

.. versionadded:: 0.1
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

__all__ = ("EDGE_MODULES", "edge")

EDGE_MODULES: Final = frozenset({"io.frames", "report.html", "report.markdown",
                                 "report.notebook", "report.plot"})


def edge(name: str) -> ModuleType:
    """The edge module ``servicekpi.<name>`` (one of :data:`EDGE_MODULES`), imported now.

    The edge module itself raises :class:`~servicekpi.exceptions.MissingExtraError`
    naming the extra when its optional dependency is not installed.

    >>> edge("cli")
    Traceback (most recent call last):
    ...
    ValueError: 'cli' is not an edge module the core may load
    """
    if name not in EDGE_MODULES:
        raise ValueError(f"{name!r} is not an edge module the core may load")
    return importlib.import_module(f"servicekpi.{name}")
