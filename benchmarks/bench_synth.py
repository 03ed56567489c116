"""Benchmark of the synthetic month (run: python benchmarks/bench_synth.py [tickets ...]).

Generation feeds every other benchmark, so it must stay fast: the target is 10 M
tickets well under a minute on 2 cores. Prints seconds and tickets per second, and the
peak resident memory of the process.
"""

from __future__ import annotations

import resource
import sys
import time

from servicekpi import synth


def main(sizes: list[int]) -> None:
    for tickets in sizes:
        agents = max(40, tickets // 1000)
        stations = max(4, agents // 200)
        begin = time.perf_counter()
        data = synth.month(seed=1, tickets=tickets, agents=agents, stations=stations)
        seconds = time.perf_counter() - begin
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"synth.month {tickets:>11,} tickets, {agents:>6,} agents: {seconds:7.2f} s "
              f"({tickets / seconds:12,.0f} tickets/s), {len(data.callbacks):,} callbacks, "
              f"peak RSS {peak:,.0f} MiB", flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100_000, 1_000_000, 10_000_000])
