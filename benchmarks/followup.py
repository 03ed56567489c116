"""Planning the follow-ups of 1 M tickets: vectorised vs a per-row loop.

Run: ``python -m benchmarks.followup [--tickets 1000000]``

The loop plans the four ticket rules (customer file, first, quality and second call) of
a sample one ticket at a time with the same calendar functions on one-element arrays —
what a straightforward per-row implementation does — and is extrapolated.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import numpy as np

from servicekpi import Policy, WorkCalendar, synth
from servicekpi.calendar import fit_windows
from servicekpi.kernel import MISSING
from servicekpi.rules.followup import plan_followups

DAY = 86_400


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    data = synth.month(seed=1, tickets=args.tickets, agents=max(40, args.tickets // 1000),
                       stations=5)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    best, plan = float("inf"), None
    for _ in range(3):
        begin = time.perf_counter()
        plan = plan_followups(data.tickets, data.customers, now=now, agents=data.agents,
                              callbacks=data.callbacks)
        best = min(best, time.perf_counter() - begin)
    print(f"plan_followups: {args.tickets:,} tickets, {len(data.customers):,} customers -> "
          f"{plan!r} in {best:.3f} s")

    policy = Policy.default()
    follow = policy.followup
    calendars = [policy.calendar, WorkCalendar(tz=policy.calendar.tz,
                                               hours=[list(follow.customer_hours)] * 6 + [()])]
    t = data.tickets
    begin = time.perf_counter()
    for i in range(args.sample):
        opened = np.array([t["opened_at"][i]])
        fit_windows(opened, opened + follow.customer_file_days * DAY, calendars)
        back = t["closed_at"][i] if t["closed_at"][i] != MISSING else t["resolved_at"][i]
        if back != MISSING:
            first = np.array([back + follow.first_call_min_days * DAY])
            fit_windows(first, np.array([back + follow.first_call_max_days * DAY]), calendars)
            second = first + follow.second_call_after_days * DAY
            fit_windows(second, second + follow.second_call_window_days * DAY, calendars)
        if t["closed_at"][i] != MISSING:
            closed = np.array([t["closed_at"][i]])
            due = policy.calendar.end_of_working_day(policy.calendar.add_working_days(
                closed, follow.quality_call_working_days))
            fit_windows(closed, np.maximum(due, closed + 1), calendars)
    loop = time.perf_counter() - begin
    rate = args.sample / loop
    print(f"per-row loop (4 ticket rules): {args.sample:,} tickets in {loop:.3f} s "
          f"({rate:,.0f} tickets/s) -> {args.tickets / rate:,.0f} s for all")
    print(f"vectorised / loop: {args.tickets / rate / best:,.0f}x")


if __name__ == "__main__":
    main()
