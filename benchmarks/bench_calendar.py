"""Benchmark of servicekpi.calendar on 10 M random rows (run: python benchmarks/bench_calendar.py).

Times ``working_seconds`` and ``add_working_time`` in the default calendar, the two
lookups tried for ``W(t)`` (bucket index arithmetic vs ``np.searchsorted``), and, for
comparison, pandas ``CustomBusinessHour`` adding on a 100 k sample. Not collected by
pytest (the name is ``bench_*``).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np

from servicekpi import calendar as calendar_module
from servicekpi.calendar import WorkCalendar

ROWS = 10_000_000
SAMPLE = 100_000
REPEATS = 3


def best_of(call: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of a few runs, in seconds (the first run also builds the caches)."""
    call()
    timings = []
    for _ in range(repeats):
        begin = time.perf_counter()
        call()
        timings.append(time.perf_counter() - begin)
    return min(timings)


def report(name: str, seconds: float, rows: int) -> float:
    print(f"{name:<46} {seconds:8.3f} s  {rows / seconds:14,.0f} rows/s")
    return rows / seconds


def main() -> None:
    rng = np.random.default_rng(20240301)
    low = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
    high = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
    start = rng.integers(low, high, ROWS, dtype=np.int64)
    end = start + rng.integers(0, 30 * 86_400, ROWS, dtype=np.int64)
    amount = rng.integers(0, 40 * 3600, ROWS, dtype=np.int64)
    calendar = WorkCalendar.default()
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}, {ROWS:,} rows, default calendar")

    years = calendar_module._span(None, ("start", start), ("end", end))
    assert years is not None
    table = calendar_module._table(calendar, *years)
    print(f"table {years}: {table.starts.size} intervals, {table.instants.base.size} buckets of "
          f"2**{table.instants.shift} s, {table.instants.steps} step(s)")

    bucket = report("W(t) bucket index (kept)", best_of(lambda: calendar_module._working_clock(table, start)), ROWS)
    binary = report("W(t) np.searchsorted", best_of(lambda: calendar_module._working_clock_searchsorted(table, start)), ROWS)
    print(f"{'  bucket / searchsorted speed-up':<46} {bucket / binary:8.2f} x")
    ours_ws = report("working_seconds(start, end)", best_of(lambda: calendar.working_seconds(start, end)), ROWS)
    ours_add = report("add_working_time(start, seconds)", best_of(lambda: calendar.add_working_time(start, amount)), ROWS)
    report("add_working_days(start, 3)", best_of(lambda: calendar.add_working_days(start, 3)), ROWS)
    report("is_working(start)", best_of(lambda: calendar.is_working(start)), ROWS)
    report("local_dates(start)", best_of(lambda: calendar.local_dates(start)), ROWS)
    report("utc_offsets(start, 'America/New_York')",
           best_of(lambda: calendar_module.utc_offsets(start, "America/New_York")), ROWS)

    try:
        import pandas as pd
    except ImportError:
        print("pandas not installed: comparison skipped")
        return
    # The same model in pandas: two opening intervals a day, no DST in Shanghai.
    cbh = pd.offsets.CustomBusinessHour(start=["08:30", "13:30"], end=["12:00", "17:30"])
    sample = pd.DatetimeIndex(start[:SAMPLE].astype("datetime64[s]")).tz_localize("UTC").tz_convert("Asia/Shanghai")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PerformanceWarning: non-vectorised offset
        begin = time.perf_counter()
        theirs = sample + 5 * cbh
        elapsed = time.perf_counter() - begin
    pandas_add = report(f"pandas ts + 5 * CustomBusinessHour ({SAMPLE:,})", elapsed, SAMPLE)
    ours = calendar.add_working_time(start[:SAMPLE], 5 * 3600)
    theirs_epochs = np.asarray(theirs.as_unit("s").asi8, dtype=np.int64)
    # pandas lands on the next opening where we land on a closing time: compare W.
    disagree = int(np.count_nonzero(calendar.working_seconds(ours, theirs_epochs)))
    same = int(np.count_nonzero(ours == theirs_epochs))
    print(f"{'  rows: same instant / same W / W differs':<46} {same:8d} {SAMPLE - disagree - same:8d} {disagree:8d}")
    print(f"{'  add_working_time / pandas speed-up':<46} {ours_add / pandas_add:8.0f} x")
    print(f"{'  working_seconds rows/s / pandas add rows/s':<46} {ours_ws / pandas_add:8.0f} x")


if __name__ == "__main__":
    main()
