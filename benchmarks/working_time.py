"""Working seconds between instants: servicekpi vs pandas and businesstimedelta.

Run: ``python -m benchmarks.working_time``

One working calendar all three can express: Monday–Friday 09:00–17:00 with a lunch
break 12:00–13:00 in UTC (pandas' ``CustomBusinessHour`` takes the break as two
intervals). servicekpi computes ``working_seconds(start, end)`` on 10**5, 10**6 and
10**7 random intervals; the pure-Python ``businesstimedelta`` and pandas (adding hours
with ``CustomBusinessHour``, its vectorisable operation) run on 10**5 — at their speed
10**7 would take minutes to hours. Results are checked to agree on the sample, and the
rows per second and ratios are printed.
"""

from __future__ import annotations

import time
from datetime import datetime, time as clock, timezone

import numpy as np

from servicekpi import WorkCalendar
from servicekpi.calendar import from_epoch

SAMPLE = 100_000
DAY = ("09:00-12:00", "13:00-17:00")


def main() -> None:
    calendar = WorkCalendar(tz="UTC", hours=[DAY] * 5 + [(), ()])
    rng = np.random.default_rng(7)
    low = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
    rates: dict[str, float] = {}
    for rows in (10**5, 10**6, 10**7):
        start = rng.integers(low, low + 300 * 86_400, rows, dtype=np.int64)
        end = start + rng.integers(0, 20 * 86_400, rows, dtype=np.int64)
        seconds = float("inf")
        for _ in range(3):  # best of 3: the first run also builds the tables
            begin = time.perf_counter()
            ours = calendar.working_seconds(start, end)
            seconds = min(seconds, time.perf_counter() - begin)
        rates["servicekpi"] = rows / seconds
        print(f"servicekpi working_seconds   {rows:>12,} rows {seconds:8.3f} s "
              f"{rows / seconds:14,.0f} rows/s")
    start, end, ours = start[:SAMPLE], end[:SAMPLE], ours[:SAMPLE]

    import businesstimedelta as btd
    import pytz

    rule = btd.Rules([btd.WorkDayRule(start_time=clock(9), end_time=clock(17),
                                      working_days=[0, 1, 2, 3, 4], tz=pytz.utc),
                      btd.LunchTimeRule(start_time=clock(12), end_time=clock(13),
                                        working_days=[0, 1, 2, 3, 4], tz=pytz.utc)])
    pairs = [(from_epoch(int(a), "UTC"), from_epoch(int(b), "UTC"))
             for a, b in zip(start, end, strict=True)]
    begin = time.perf_counter()
    theirs = [rule.difference(a, b).timedelta.total_seconds() for a, b in pairs]
    seconds = time.perf_counter() - begin
    rates["businesstimedelta"] = SAMPLE / seconds
    agree = int((np.array(theirs) == ours).sum())
    print(f"businesstimedelta difference {SAMPLE:>12,} rows {seconds:8.3f} s "
          f"{SAMPLE / seconds:14,.0f} rows/s  (agrees on {agree:,} of {SAMPLE:,})")

    import pandas as pd

    hour = pd.offsets.CustomBusinessHour(start=["09:00", "13:00"], end=["12:00", "17:00"])
    stamps = pd.to_datetime(start, unit="s")
    amounts = rng.integers(0, 40, SAMPLE)
    begin = time.perf_counter()
    landed = [stamp + int(n) * hour for stamp, n in zip(stamps, amounts, strict=True)]
    seconds = time.perf_counter() - begin
    rates["pandas"] = SAMPLE / seconds
    ours_added = calendar.add_working_time(start, amounts * 3600)
    same_w = calendar.working_seconds(start, np.array([int(x.timestamp()) for x in landed]))
    agree = int((same_w == amounts * 3600).sum())
    print(f"pandas ts + n*CustomBusinessHour {SAMPLE:>8,} rows {seconds:8.3f} s "
          f"{SAMPLE / seconds:14,.0f} rows/s  (same working time on {agree:,} rows; "
          f"servicekpi adds {SAMPLE / max(_time_add(calendar, start, amounts), 1e-9):,.0f} rows/s)")
    del ours_added
    for name in ("businesstimedelta", "pandas"):
        print(f"servicekpi / {name}: {rates['servicekpi'] / rates[name]:,.0f}x")


def _time_add(calendar: WorkCalendar, start: np.ndarray, amounts: np.ndarray) -> float:
    begin = time.perf_counter()
    calendar.add_working_time(start, amounts * 3600)
    return time.perf_counter() - begin


if __name__ == "__main__":
    main()
