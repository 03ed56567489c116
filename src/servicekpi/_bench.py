"""The KPI panel by agent with servicekpi, polars and pandas on the same synthetic month.

Run: ``servicekpi bench --tickets 10000000 --agents 10000`` (or
``python -m benchmarks.panel …`` from a checkout). An edge module: polars and pandas
are imported only here, only if installed; without them only servicekpi is timed.

Every engine computes, per agent: ticket and resolved counts, mean / median / p90 of
first-response, resolution and repair durations in calendar and in working seconds,
and the rates fcr, rework, reopen, CSI and answer accuracy. Working seconds are
business time, which neither polars nor pandas has: they get the working-second
columns precomputed by servicekpi's calendar (and that time is not charged to them),
while servicekpi's figure includes computing them. The three results are checked to
agree, then wall time, peak memory and the ratios are printed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from servicekpi import MISSING, Period, Policy, synth
from servicekpi.domain import ServiceType
from servicekpi.metrics import kpi_panel

STATS = ("mean", "median", "p90")
DURATIONS = ("first_response", "resolution", "repair_duration")
RATES = ("fcr_rate", "rework_rate", "reopen_rate", "csi_rate", "answer_accuracy_rate")


def columns_for_frames(data: Any, period: Period, policy: Policy) -> dict[str, NDArray[Any]]:
    """Flat per-ticket columns (all tickets are in the month) for the dataframe engines."""
    t = data.tickets
    end = int(period.end.timestamp())
    opened, first, resolved = t["opened_at"], t["first_response_at"], t["resolved_at"]
    answered = (first != MISSING) & (first < end)
    done = (resolved != MISSING) & (resolved < end)
    w_open, w_first, w_res = policy.calendar.working_clocks(
        opened, np.where(answered, first, MISSING), np.where(done, resolved, MISSING))
    repair = t["service_type"] == list(ServiceType).index(ServiceType.REPAIR)
    nan = np.nan
    return {
        "agent": t["agent_id"],
        "first_response": np.where(answered, first - opened, nan),
        "first_response_work": np.where(answered, w_first - w_open, nan),
        "resolution": np.where(done, resolved - opened, nan),
        "resolution_work": np.where(done, w_res - w_open, nan),
        "repair_duration": np.where(done & repair, resolved - opened, nan),
        "repair_duration_work": np.where(done & repair, w_res - w_open, nan),
        "resolved": done,
        "fcr": done & t["first_contact_resolved"],
        "repaired": done & repair,
        "rework": done & repair & t["rework"],
        "reopened": done & (t["reopen_count"] > 0),
        "rated": ~np.isnan(t["satisfaction"]),
        "satisfied": t["satisfaction"] >= policy.satisfied_threshold,
        "answers": t["answers"],
        "correct": t["answers"] - t["answer_errors"],
    }


def run_polars(cols: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    import polars as pl

    frame = pl.DataFrame(cols, nan_to_null=True)
    aggs = [pl.len().alias("tickets"), pl.col("resolved").sum().alias("resolved_n")]
    for base in DURATIONS:
        for infix in ("", "_work"):
            name = base + infix
            col = pl.col(name)
            aggs += [col.mean().alias(f"{name}_seconds_mean"),
                     col.median().alias(f"{name}_seconds_median"),
                     col.quantile(0.9, interpolation="linear").alias(f"{name}_seconds_p90")]
    aggs += [
        (pl.col("fcr").sum() / pl.col("resolved").sum()).alias("fcr_rate"),
        (pl.col("rework").sum() / pl.col("repaired").sum()).alias("rework_rate"),
        (pl.col("reopened").sum() / pl.col("resolved").sum()).alias("reopen_rate"),
        ((pl.col("satisfied") & pl.col("rated")).sum() / pl.col("rated").sum()).alias(
            "csi_rate"),
        (pl.col("correct").sum() / pl.col("answers").sum()).alias("answer_accuracy_rate"),
    ]
    out = frame.lazy().group_by("agent").agg(aggs).sort("agent").collect()
    return {name: out[name].to_numpy() for name in out.columns}


def run_pandas(cols: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    import pandas as pd

    frame = pd.DataFrame(cols)
    grouped = frame.groupby("agent", sort=True)
    out: dict[str, NDArray[Any]] = {"tickets": grouped.size().to_numpy()}
    for base in DURATIONS:
        for infix in ("", "_work"):
            name = base + infix
            g = grouped[name]
            out[f"{name}_seconds_mean"] = g.mean().to_numpy()
            out[f"{name}_seconds_median"] = g.median().to_numpy()
            out[f"{name}_seconds_p90"] = g.quantile(0.9).to_numpy()
    sums = grouped[["resolved", "fcr", "repaired", "rework", "reopened", "rated",
                    "answers", "correct"]].sum()
    both = (frame["satisfied"] & frame["rated"]).groupby(frame["agent"]).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fcr_rate"] = (sums["fcr"] / sums["resolved"]).to_numpy()
        out["rework_rate"] = (sums["rework"] / sums["repaired"]).to_numpy()
        out["reopen_rate"] = (sums["reopened"] / sums["resolved"]).to_numpy()
        out["csi_rate"] = (both / sums["rated"]).to_numpy()
        out["answer_accuracy_rate"] = (sums["correct"] / sums["answers"]).to_numpy()
    return out


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        begin = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - begin)
    return best, result


def compare(name: str, ours: NDArray[Any], theirs: NDArray[Any]) -> None:
    theirs = np.asarray(theirs, dtype=np.float64)
    if not np.allclose(ours, theirs, rtol=1e-9, atol=1e-9, equal_nan=True):
        bad = int((~np.isclose(ours, theirs, rtol=1e-9, atol=1e-9, equal_nan=True)).sum())
        raise SystemExit(f"disagreement on {name}: {bad} groups differ")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's command-line options."""
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets (1 M)")
    parser.add_argument("--agents", type=int, default=1_000, help="agents (1 000)")
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs (3)")
    parser.add_argument("--skip-pandas", action="store_true", help="time polars only")


def main(argv: list[str] | None = None) -> None:
    """Parse *argv* and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> None:
    """Time the panel with servicekpi and, where installed, polars and pandas."""
    policy = Policy.default()
    period = Period.parse("2026-10", tz=policy.calendar.tz)
    data = synth.month(seed=1, tickets=args.tickets, agents=args.agents,
                       stations=max(1, args.agents // 200), start=period)
    print(f"{args.tickets:,} tickets, {args.agents:,} agents, numpy {np.__version__}")

    ours_s, panel = timed(lambda: kpi_panel(data.tickets, period=period, by="agent",
                                            policy=policy), args.repeats)
    print(f"servicekpi kpi_panel (incl. working time)  {ours_s:8.3f} s")
    cols = columns_for_frames(data, period, policy)
    keys = np.array([panel.index(k) for k in panel.keys])
    results: dict[str, float] = {}
    engines: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = []
    if importlib.util.find_spec("polars"):
        engines.append(("polars", run_polars))
    if importlib.util.find_spec("pandas") and not args.skip_pandas:
        engines.append(("pandas", run_pandas))
    if not engines:
        print("polars and pandas are not installed: pip install 'servicekpi[frames]' to "
              "compare")
    for engine, function in engines:
        seconds, out = timed(lambda f=function: f(cols), args.repeats)  # type: ignore[misc]
        results[engine] = seconds
        for name, values in out.items():
            if name in panel:
                compare(f"{engine} {name}", panel[name][keys], values)
        print(f"{engine:<10} group_by (columns given)       {seconds:8.3f} s   "
              f"servicekpi is {seconds / ours_s:5.2f}x faster")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    agreed = "all engines agree on every KPI; " if engines else ""
    print(f"{agreed}peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
