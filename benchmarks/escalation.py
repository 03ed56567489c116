"""Escalating 1 M complaints with 3 M callbacks: vectorised vs the scalar path in a loop.

Run: ``python -m benchmarks.escalation [--complaints 1000000 --callbacks 3000000]``

The vectorised :func:`escalate_table` runs on the whole table; the pure-Python loop
over :func:`escalate` runs on a sample (it would take far too long on all of it) and is
extrapolated. Both paths are checked to agree on the sample.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import datetime, timezone

import numpy as np

from servicekpi.rules.escalation import escalate, escalate_table
from servicekpi.tables import CallbackTable, Coded, ComplaintTable

START = int(datetime(2026, 7, 1, tzinfo=timezone.utc).timestamp())
QUARTER = 92 * 86_400


def tables(complaints: int, callbacks: int, seed: int = 3) -> tuple[ComplaintTable,
                                                                      CallbackTable]:
    rng = np.random.default_rng(seed)
    received = START + rng.integers(0, QUARTER, complaints)
    ids = [f"K{i:08d}" for i in range(complaints)]
    stations = [f"S{i:03d}" for i in range(200)]
    station = rng.integers(0, 200, complaints)
    complaint_table, _ = ComplaintTable.from_columns({
        "complaint_id": Coded(codes=np.arange(complaints), labels=ids),
        "customer_id": Coded(codes=rng.integers(0, complaints // 5, complaints),
                             labels=[f"C{i:07d}" for i in range(complaints // 5)]),
        "station_id": Coded(codes=station, labels=stations),
        "responsible": Coded(codes=station, labels=[f"P{i:03d}" for i in range(200)]),
        "source": Coded(codes=rng.choice(4, complaints, p=[0.5, 0.3, 0.15, 0.05]),
                        labels=["hotline", "online", "letter", "walk_in"]),
        "complaint_type": Coded(codes=rng.integers(0, 5, complaints),
                                labels=["delay", "quality", "attitude", "billing", "parts"]),
        "received_at": received,
        "flags": np.where(rng.random(complaints) < 0.05, 1 << rng.integers(0, 4, complaints),
                          0).astype(np.uint8),
    }, on_invalid="raise")
    owner = rng.integers(0, complaints, callbacks)
    due = received[owner] + rng.integers(86_400, 10 * 86_400, callbacks)
    made = rng.random(callbacks) < 0.9
    done = np.where(made, due + rng.integers(-86_400, 3 * 86_400, callbacks), np.iinfo(np.int64).min)
    done = np.where(made, np.maximum(done, received[owner]), done)
    callback_table, _ = CallbackTable.from_columns({
        "callback_id": Coded(codes=np.arange(callbacks),
                             labels=[f"B{i:08d}" for i in range(callbacks)]),
        "subject": Coded(codes=np.zeros(callbacks, dtype=np.int64), labels=["complaint"]),
        "subject_id": Coded(codes=owner, labels=ids),
        "due_from": due, "due_by": due + 2 * 86_400, "done_at": done,
        "outcome": Coded(codes=np.where(made, rng.choice(3, callbacks, p=[0.6, 0.3, 0.1]), -1),
                         labels=["solved", "unsolved", "unreachable"]),
    }, on_invalid="raise")
    return complaint_table, callback_table


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--callbacks", type=int, default=3_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    complaints, callbacks = tables(args.complaints, args.callbacks)
    now = datetime.fromtimestamp(START + QUARTER, tz=timezone.utc)
    escalate_table(complaints, callbacks, now=now)  # warm the calendar tables
    best = float("inf")
    for _ in range(3):
        begin = time.perf_counter()
        table = escalate_table(complaints, callbacks, now=now)
        best = min(best, time.perf_counter() - begin)
    print(f"escalate_table: {args.complaints:,} complaints, {args.callbacks:,} callbacks "
          f"in {best:.3f} s ({args.complaints / best:,.0f} complaints/s) — {table!r}")

    records = complaints.to_records()
    sample = records[: args.sample]
    wanted = {c.complaint_id for c in sample}
    by_complaint = defaultdict(list)
    for cb in callbacks.take(np.isin(callbacks["subject_id"],
                                     callbacks.codes_of("subject_id", sorted(wanted)))
                             ).to_records():
        by_complaint[cb.subject_id].append(cb)
    by_customer = defaultdict(list)
    for c in records:
        by_customer[c.customer_id].append(c)
    begin = time.perf_counter()
    scalar = [escalate(c, callbacks=by_complaint[c.complaint_id],
                       history=by_customer[c.customer_id], now=now) for c in sample]
    loop = time.perf_counter() - begin
    agree = sum(e == table.escalation(e.complaint_id) for e in scalar)
    rate = len(sample) / loop
    print(f"scalar escalate() loop: {len(sample):,} complaints in {loop:.3f} s "
          f"({rate:,.0f} complaints/s, callbacks and history pre-grouped); agrees on "
          f"{agree:,} of {len(sample):,}")
    print(f"vectorised / loop: {args.complaints / best / rate:,.0f}x "
          f"(the loop would take {args.complaints / rate:,.0f} s for all)")


if __name__ == "__main__":
    main()
