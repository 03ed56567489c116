"""A ticket history stored as monthly Parquet files, evaluated on Dask and in memory.

    .venv/bin/python -m benchmarks.dask_panel --months 10 --tickets 10000000   # 100 M

Writes ``--months`` synthetic months of ``--tickets`` tickets each (skipped when the
files exist), then computes the KPI panel by agent of the last month in memory and on Dask (shuffled by
agent; checked equal), then the panel by (month, agent) of the whole history on Dask
with one partition per monthly file (``whole_groups=True``: nothing shuffled), on an
in-process ``distributed.LocalCluster`` (two worker threads). Prints wall time, time
per 10 M tickets and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _own_ids(tickets: Any, label: str) -> Any:
    """The month's tickets with ids of their own (every synthetic month counts from 1)."""
    labels = dict(tickets._labels)  # a benchmark may reach inside: ids only change
    labels["ticket_id"] = tuple(f"{label}-{ticket}" for ticket in labels["ticket_id"])
    return type(tickets)({name: tickets[name] for name in tickets.columns}, labels,
                         len(tickets))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=10)
    parser.add_argument("--tickets", type=int, default=10_000_000, help="per month")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "servicekpi-history"))
    args = parser.parse_args(argv)

    import dask.dataframe as dd
    import distributed

    import servicekpi as sk
    from servicekpi import dask as skd
    from servicekpi.io.parquet import read_parquet, write_parquet

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    months = [sk.Period.month(2026, m, tz="Asia/Shanghai") for m in range(1, args.months + 1)]
    started = time.perf_counter()
    for seed, period in enumerate(months):
        path = folder / f"tickets-{period.label}.parquet"
        if not path.exists():
            data = sk.synth.month(seed=seed, tickets=args.tickets, agents=args.agents,
                                  stations=max(4, args.agents // 250), start=period)
            write_parquet(_own_ids(data.tickets, period.label), path)
    total = args.months * args.tickets
    print(f"{total:,} tickets in {args.months} monthly Parquet files under {folder} "
          f"(written or found in {time.perf_counter() - started:.1f} s); "
          f"peak RSS so far {_peak_mib():,.0f} MiB", flush=True)

    # One month in memory: the reference and the single-machine time.
    last = months[-1]
    t0 = time.perf_counter()
    table, report = read_parquet(folder / f"tickets-{last.label}.parquet", sk.TicketTable)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    in_memory = sk.kpi_panel(table, period=last, by="agent")
    t_panel = time.perf_counter() - t0
    per_10m = (t_read + t_panel) * 10_000_000 / max(len(table), 1)
    print(f"in memory, one month: read {t_read:.1f} s + panel {t_panel:.1f} s for "
          f"{len(table):,} tickets = {per_10m:.1f} s per 10 M tickets", flush=True)
    del table

    year = sk.Period.parse("2026", tz="Asia/Shanghai")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None,
                                  local_directory=str(folder / "dask")) as cluster, \
            distributed.Client(cluster):
        month_frame = dd.read_parquet(str(folder / f"tickets-{last.label}.parquet"))
        month_frame = month_frame.repartition(npartitions=max(1, args.tickets // 2_000_000))
        t0 = time.perf_counter()
        month_panel, _ = skd.kpi_panel(month_frame, period=last, by="agent")
        t_month = time.perf_counter() - t0
        same = month_panel.keys == in_memory.keys and all(
            np.array_equal(month_panel[n], in_memory[n], equal_nan=True)
            for n in in_memory.names)
        print(f"Dask, one month by agent: {t_month:.1f} s = "
              f"{t_month * 10_000_000 / args.tickets:.1f} s per 10 M tickets; equal to the "
              f"in-memory panel: {same}", flush=True)
        # One partition per monthly file: groups by (month, agent) are whole in it, so
        # nothing is shuffled (whole_groups=True); a split group would be refused.
        frame = dd.read_parquet(sorted(str(p) for p in folder.glob("tickets-*.parquet")),
                                split_row_groups=False)
        t0 = time.perf_counter()
        panel, reports = skd.kpi_panel(frame, period=year, by=("month", "agent"),
                                       whole_groups=True)
        elapsed = time.perf_counter() - t0
    print(f"Dask, the whole history by (month, agent), judged at the year's end: "
          f"{elapsed:.1f} s for {total:,} tickets = {elapsed * 10_000_000 / total:.1f} s per "
          f"10 M tickets; {len(panel.keys):,} groups; rows rejected "
          f"{reports['tickets'].rows_rejected}; peak RSS {_peak_mib():,.0f} MiB", flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
