"""Planning the follow-ups of 1 M tickets and reconciling them: vectorised vs per-row loops.

Run: ``python -m benchmarks.followup [--tickets 1000000]``

The planning loop plans the four ticket rules (customer file, first, quality and second
call) of a sample one ticket at a time with the same calendar functions on one-element
arrays — what a straightforward per-row implementation does — and is extrapolated. The
reconcile loop is the per-contact loop ``reconcile`` was before it was vectorised (the
reference of tests/test_followup.py), run on the whole plan and checked to agree.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np

from servicekpi import Policy, WorkCalendar, synth
from servicekpi.calendar import fit_windows
from servicekpi.kernel import MISSING
from servicekpi.rules.followup import FollowUpPlan, ReconcileStatus, plan_followups, reconcile
from servicekpi.tables import CallbackTable

DAY = 86_400


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    data = synth.month(seed=1, tickets=args.tickets, agents=max(40, args.tickets // 1000),
                       stations=5)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    times, plan = [], None
    for _ in range(3):
        begin = time.perf_counter()
        plan = plan_followups(data.tickets, data.customers, now=now, agents=data.agents,
                              callbacks=data.callbacks)
        times.append(time.perf_counter() - begin)
    best = min(times)
    print(f"plan_followups: {args.tickets:,} tickets, {len(data.customers):,} customers -> "
          f"{plan!r} in {best:.3f} s (first call, cold caches: {times[0]:.3f} s)")
    assert plan is not None
    as_of = now + timedelta(days=30)
    timed = []
    for _ in range(3):
        begin = time.perf_counter()
        result = reconcile(plan, data.callbacks, as_of=as_of)
        timed.append(time.perf_counter() - begin)
    print(f"reconcile: {len(plan):,} contacts, {len(data.callbacks):,} callbacks in "
          f"{min(timed):.3f} s; {dict(Counter(s.value for s in result.status))}")
    begin = time.perf_counter()
    looped = _reconcile_loop(plan, data.callbacks, int(as_of.timestamp()))
    loop_seconds = time.perf_counter() - begin
    print(f"per-contact reconcile loop: {loop_seconds:.3f} s, "
          f"vectorised / loop: {loop_seconds / min(timed):,.0f}x, "
          f"same statuses: {looped == result.status}")

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


def _reconcile_loop(plan: FollowUpPlan, callbacks: CallbackTable,
                    at: int) -> tuple[ReconcileStatus, ...]:
    """reconcile before issue 6: one Python step per contact."""
    done_at = callbacks["done_at"]
    made = (done_at != MISSING) & (done_at <= at)
    times: dict[str, list[int]] = {}
    for subject, when in zip(callbacks.decode("subject_id")[made], done_at[made],
                             strict=True):
        times.setdefault(str(subject), []).append(int(when))
    for values in times.values():
        values.sort()
    used: dict[str, int] = {}
    status = []
    subjects, earliest, latest = plan["subject_id"], plan["earliest"], plan["latest"]
    for i in range(len(plan)):
        subject = str(subjects[i])
        start, end = int(earliest[i]), int(latest[i])
        options = times.get(subject, [])
        position = used.get(subject, 0)
        while position < len(options) and options[position] < start:
            position += 1
        if position < len(options):
            used[subject] = position + 1
            status.append(ReconcileStatus.ON_TIME if options[position] < end
                          else ReconcileStatus.LATE)
        elif end <= at:
            status.append(ReconcileStatus.MISSED)
        else:
            status.append(ReconcileStatus.PENDING)
    return tuple(status)


if __name__ == "__main__":
    main()
