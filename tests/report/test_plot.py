"""matplotlib charts: the bars drawn, the errors, and the extra when it is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from servicekpi.exceptions import MissingExtraError, UnknownKeyError

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import report_support as R
else:
    from tests.report import report_support as R


@pytest.fixture
def ax() -> Iterator[Axes]:
    yield Figure().subplots()


class TestPlotPanel:
    """One bar per group, coloured against the target."""

    def test_bars(self, ax: Axes) -> None:
        panel = R.month().team_panel
        out = panel.plot("csi_rate", ax=ax)
        assert out is ax
        assert 3 == len(ax.patches)
        assert ["T0001", "T0002", "T0003"] == [t.get_text() for t in ax.get_xticklabels()]
        heights = [p.get_height() for p in ax.patches]
        assert pytest.approx(panel["csi_rate"].tolist()) == heights
        assert "csi_rate by team, 2026-10 (Asia/Shanghai)" == ax.get_title()

    def test_default_kpi_is_the_first_rate(self, ax: Axes) -> None:
        panel = R.month().panel
        panel.plot(ax=ax)
        first = next(n for n in panel.names if n.endswith("_rate"))
        assert ax.get_title().startswith(f"{first} by agent")
        assert 24 == len(ax.patches)

    def test_durations_in_hours(self, ax: Axes) -> None:
        panel = R.month().team_panel
        panel.plot("resolution_work_seconds_median", ax=ax)
        assert "hours" == ax.get_ylabel()
        assert pytest.approx(panel["resolution_work_seconds_median"][0] / 3600) \
            == ax.patches[0].get_height()  # type: ignore[attr-defined]

    def test_target_colours(self, ax: Axes) -> None:
        R.month().team_panel.plot("csi_rate", ax=ax)
        colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
        # CSI 81.1 % and 80.1 % lie between floor (80 %) and target; 75.0 % below the floor
        assert ["#d4a72c", "#cf222e", "#d4a72c"] == colours

    def test_unknown_kpi(self, ax: Axes) -> None:
        with pytest.raises(UnknownKeyError, match="unknown KPI 'csi_rat'. Did you mean "
                                                  "'csi_rate'"):
            R.month().team_panel.plot("csi_rat", ax=ax)

    def test_new_figure_without_ax(self) -> None:
        import matplotlib.pyplot as plt

        try:
            out = R.month().team_panel.plot("fcr_rate")
            assert isinstance(out, Axes)
            assert 3 == len(out.patches)
        finally:
            plt.close("all")


class TestPlotScorecard:
    """One bar per ranked agent and part, rank 1 on top."""

    def test_bars(self, ax: Axes) -> None:
        card = R.month().scorecard
        out = card.plot("T0002", ax=ax)
        assert out is ax
        assert 8 * 3 == len(ax.patches)
        assert card.ranking("T0002") == [t.get_text() for t in ax.get_yticklabels()]
        assert ax.yaxis_inverted()

    def test_parts_add_up_to_the_composite(self, ax: Axes) -> None:
        card = R.month().scorecard
        card.plot("T0001", ax=ax)
        agents = card.ranking("T0001")
        widths = [p.get_width() for p in ax.patches]  # type: ignore[attr-defined]
        totals = [sum(widths[k::len(agents)]) for k in range(len(agents))]
        expected = [float(card.composite[card.index(a)]) for a in agents]
        assert pytest.approx(expected) == totals

    def test_default_group_is_the_first(self, ax: Axes) -> None:
        R.month().scorecard.plot(ax=ax)
        assert "Ranking of T0001, 2026-10" == ax.get_title()

    def test_unknown_group(self, ax: Axes) -> None:
        with pytest.raises(UnknownKeyError, match="unknown ranking group 'T001'. Did you "
                                                  "mean 'T0001'"):
            R.month().scorecard.plot("T001", ax=ax)


class TestMissingExtra:
    """Without matplotlib the chart methods say which extra to install."""

    def test_plot_raises_missing_extra(self) -> None:
        code = textwrap.dedent("""
            import sys
            sys.modules["matplotlib"] = None  # as if it were not installed
            import servicekpi as sk
            from servicekpi.exceptions import MissingExtraError
            data = sk.synth.month(seed=1, tickets=300, agents=4, stations=1)
            panel = sk.kpi_panel(data.tickets, period=data.period, by="team")
            for call in (lambda: panel.plot(),
                         lambda: sk.score_agents(data, period=data.period).plot()):
                try:
                    call()
                except MissingExtraError as error:
                    print(type(error).__name__, isinstance(error, ImportError), error)
            """)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.splitlines()
        message = ("MissingExtraError True this feature needs the optional dependency "
                   "'matplotlib': pip install 'servicekpi[plot]'")
        assert [message, message] == out

    def test_error_type(self) -> None:
        assert issubclass(MissingExtraError, ImportError)

    def test_report_package_never_loads_matplotlib(self) -> None:
        code = ("import sys, servicekpi as sk, servicekpi.report, servicekpi.report.html, "
                "servicekpi.report.markdown, servicekpi.report.notebook; "
                "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.strip()
        assert "[]" == out
