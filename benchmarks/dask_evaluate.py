"""The monthly evaluation on Dask next to the in-memory one, on one synthetic month.

    .venv/bin/python -m benchmarks.dask_evaluate --tickets 1000000 --partitions 4

Writes the month's tables as Parquet files (one per table, skipped when they exist),
evaluates them in memory (``read_parquet`` + ``servicekpi.evaluate``) and on Dask
(``dd.read_parquet`` + ``servicekpi.dask.evaluate``) on an in-process
``distributed.LocalCluster`` (two worker threads), checks the two agree part for part,
and prints wall times, the time per 10 M tickets and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TABLES = ("tickets", "customers", "callbacks", "complaints", "orders")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "servicekpi-month"))
    args = parser.parse_args(argv)

    import dask.dataframe as dd
    import distributed

    import servicekpi as sk
    from servicekpi import dask as skd
    from servicekpi.io.frames import table_from_frame
    from servicekpi.io.parquet import write_parquet

    folder = Path(args.dir) / str(args.tickets)
    folder.mkdir(parents=True, exist_ok=True)
    data = sk.synth.month(seed=1, tickets=args.tickets, agents=max(40, args.tickets // 500),
                          stations=max(4, args.tickets // 50_000))
    assert data.period is not None
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if not path.exists():
            table = getattr(data, name)
            columns = table.to_columns()
            if "flags" in columns:  # complaint flags as text, as a file holds them
                columns["flags"] = [",".join(sorted(f.value for f in flags))
                                    for flags in columns["flags"]]
            import pandas as pd
            write_parquet(pd.DataFrame(columns), path)

    import pyarrow.parquet as pq
    t0 = time.perf_counter()
    tables = {name: table_from_frame(kind, pq.read_table(folder / f"{name}.parquet"))[0]
              for name, kind in (("tickets", sk.TicketTable), ("customers", sk.CustomerTable),
                                 ("callbacks", sk.CallbackTable),
                                 ("complaints", sk.ComplaintTable), ("orders", sk.OrderTable))}
    t_read = time.perf_counter() - t0
    dataset = sk.Dataset(agents=data.agents, ratings=data.ratings, appraisals=data.appraisals,
                         trainings=data.trainings, **tables)
    t0 = time.perf_counter()
    whole = sk.evaluate(dataset, period=data.period)
    t_eval = time.perf_counter() - t0
    per = 10_000_000 / args.tickets
    print(f"{args.tickets:,} tickets; in memory: read {t_read:.1f} s + evaluate {t_eval:.1f} s "
          f"= {(t_read + t_eval) * per:.1f} s per 10 M tickets", flush=True)

    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        frames = {name: dd.read_parquet(str(folder / f"{name}.parquet"))
                  .repartition(npartitions=args.partitions) for name in TABLES}
        t0 = time.perf_counter()
        got, reports = skd.evaluate(frames["tickets"], period=data.period, agents=data.agents,
                                    ratings=data.ratings, appraisals=data.appraisals,
                                    trainings=data.trainings,
                                    **{name: frames[name] for name in TABLES[1:]})
        t_dask = time.perf_counter() - t0
    from servicekpi.evaluation import _CODEC
    same = all(_CODEC.to_document(getattr(got, part)) == _CODEC.to_document(getattr(whole, part))
               for part in ("panel", "team_panel", "scorecard", "consequences", "complaints",
                            "team", "loyalty")) \
        and all(got.followups[c].tolist() == whole.followups[c].tolist()
                for c in whole.followups.columns) \
        and np.array_equal(got.reconciliation.status_codes, whole.reconciliation.status_codes)
    print(f"Dask, {args.partitions} partitions: evaluate {t_dask:.1f} s = {t_dask * per:.1f} s "
          f"per 10 M tickets ({t_dask / (t_read + t_eval):.1f}× the in-memory path); "
          f"equal to the in-memory evaluation: {same}; rows rejected "
          f"{sum(r.rows_rejected for r in reports.values())}; peak RSS {_peak_mib():,.0f} MiB",
          flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
