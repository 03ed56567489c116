"""The HTML report in a real browser: Debian's Chromium, headless.

Chromium renders the report of a synthetic month to a PNG (which must show a page, not
a blank) and dumps the DOM it built (which must hold the ranking table and the SVG
charts, and no script). Skipped where ``/usr/bin/chromium`` is not installed
(``.ci/run`` installs it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from servicekpi.report import render_html

if TYPE_CHECKING:
    # mypy names a module of a folder without __init__.py by its file name
    import report_support as R
else:
    from tests.report import report_support as R

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 4000

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed (/usr/bin/chromium missing; "
           "apt-get install chromium)")


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "report.html"
    path.write_text(render_html(R.month(), history=R.history()), encoding="utf-8")
    yield path


class TestPngReader:
    """The PNG reader the screenshot test relies on."""

    def test_rows_of_a_known_image(self) -> None:
        pixels = np.zeros((4, 5, 3), dtype=np.uint8)
        pixels[2, 3] = (200, 10, 250)
        rows = R.png_rows(R.make_png(pixels))
        assert (5, 4) == R.png_size(R.make_png(pixels))
        assert pixels.tolist() == [row.tolist() for row in rows]

    def test_one_colour(self) -> None:
        pixels = np.full((3, 6, 3), 17, dtype=np.uint8)
        colours = np.unique(np.concatenate(R.png_rows(R.make_png(pixels))), axis=0)
        assert 1 == len(colours)


@needs_chromium
class TestChromium:
    """What Chromium makes of the page."""

    def test_screenshot(self, page: Path) -> None:
        shot = page.parent / "shot.png"
        _chromium(page.parent / "profile-shot", f"--screenshot={shot}",
                  f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars", page.as_uri())
        data = shot.read_bytes()
        assert (WIDTH, HEIGHT) == R.png_size(data)
        assert len(data) > 100_000  # a blank page of this size is a few kilobytes
        rows = R.png_rows(data)
        assert len(rows) > 100
        colours = np.unique(np.concatenate(rows)[:, :3], axis=0)
        assert len(colours) > 50  # text, badges, coloured cells, chart bars
        # the header's white page on its grey background
        assert {(255, 255, 255), (238, 240, 243)} <= {tuple(c) for c in colours.tolist()}

    def test_dom(self, page: Path) -> None:
        dom = _chromium(page.parent / "profile-dom", "--dump-dom", page.as_uri()).stdout
        assert dom.lstrip().startswith("<!DOCTYPE html>\n<html")
        assert "<script" not in dom.lower()
        ranking = dom[dom.index('<section id="ranking">'):dom.index('<section id="consequences">')]
        assert 3 == ranking.count("<table>")
        assert "<th>Rank</th>" in ranking.replace(' class="n"', "")
        assert "A0010" in ranking
        assert 9 == dom.count("<svg")  # 3 rankings, 4 distributions, 2 trends
        assert '<section id="trend">' in dom
