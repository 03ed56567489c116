"""SLA clocks over ticket events: servicekpi, polars and pandas on the same synthetic month.

Run: ``python -m benchmarks.clocks [--tickets 2000000 --repeat 3]``

Issue target: the clocks of 2 M tickets (≈ 10 M events) in under 2 s on 2 cores.

``servicekpi.measure_clocks`` judges all three default clocks (first response, next
reply, resolution) with attribution, targets, at-risk flags and due instants. polars
and pandas compute, from the same arrays, the two non-recurring clocks of the default
policy (``docs/clocks.md``) — first response (opening to the first ``agent_reply``) and
resolution (opening or reopening to ``solved`` / ``closed``), both paused while the
status is ``waiting_customer`` / ``waiting_third_party`` and resumed by a
``customer_message`` — per ticket: running working seconds, paused working seconds and
status (achieved / breached / running / paused). Neither has a business calendar, so
they call servicekpi's ``W(t)`` (``policy.calendar.working_clocks``) once for every
event instant, inside their timed run; everything else (clipping to the opening, the
timeline sort, per-ticket forward fills and shifts, per-ticket sums) is written in
polars / pandas. The ticket-id codes of the events are mapped to the ticket table's
codes before timing (servicekpi does that mapping inside its own time). The three are
checked to agree on every ticket before the times are printed. polars seeds every
per-ticket state on the ticket's opening row and fills the sorted timeline in one go
(``--polars-over`` also times the same query with ``.over("ticket")`` windows, ≈ 7×
slower at 2 M tickets); pandas uses ``groupby("ticket").ffill()`` / ``.shift()``.

Each engine runs in a forked child of the process that generated the data, so every
one starts from the same state; "peak RSS +X" is the child's peak above its RSS at the
fork (Linux ``/proc/self/clear_refs``), i.e. the memory the engine itself needed.

Also timed: the panel path, ``kpi_panel(tickets, period=…, events=…)`` minus
``kpi_panel(tickets, period=…)`` — what the ``sla_*`` KPIs from the clocks add.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import math
import os
import pickle
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from servicekpi import Policy, kpi_panel, measure_clocks, synth
from servicekpi.calendar import WorkCalendar
from servicekpi.domain import ClockName, ClockStatus, EventKind, Priority
from servicekpi.tables import TicketEventTable, TicketTable

I64 = NDArray[np.int64]
CLOCKS = ("first_response", "resolution")
STATUS, ASSIGNMENT, MESSAGE, REPLY = (list(EventKind).index(k) for k in (
    EventKind.STATUS, EventKind.ASSIGNMENT, EventKind.CUSTOMER_MESSAGE,
    EventKind.AGENT_REPLY))
OPENED = -1  # the implicit opening event: before every event of its second
RUNNING, PAUSED, ACHIEVED, BREACHED = (list(ClockStatus).index(s) for s in (
    ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.ACHIEVED, ClockStatus.BREACHED))


@dataclass(frozen=True)
class Inputs:
    """The plain arrays both dataframe engines start from."""

    ticket: NDArray[Any]      # event -> ticket code of the ticket table (-1: unknown)
    at: I64                   # event instant, epoch seconds
    kind: NDArray[np.int8]    # 0 status, 1 assignment, 2 customer_message, 3 agent_reply
    to: NDArray[Any]          # to_value codes (-1: none)
    ticket_code: NDArray[Any]  # the ticket table's ticket_id codes
    opened: I64
    priority: NDArray[np.int8]  # codes in Priority order
    now: int
    pause: list[int]          # to_value codes of the pause statuses
    stop: list[int]           # to_value codes of the resolution clock's stop statuses
    targets: dict[str, dict[int, int]]  # clock -> priority code -> target (whole seconds)
    calendar: WorkCalendar


Result = dict[str, dict[str, NDArray[Any]]]  # clock -> ticket / elapsed / paused / status


def inputs(tickets: TicketTable, events: TicketEventTable, now: int,
           policy: Policy) -> Inputs:
    labels = events.labels("to_value")
    codes_of = {label: i for i, label in enumerate(labels)}
    clocks = policy.sla.clocks
    for name in CLOCKS:  # the baselines hard-code the default definitions: check them
        d = clocks[name]
        assert not d.recurring and d.resume == ("customer_message",), d
        assert d.pause == clocks["resolution"].pause, d
    assert clocks["first_response"].start == ("opened",)
    assert clocks["first_response"].stop == ("agent_reply",)
    assert clocks["resolution"].start == ("opened", "reopened")
    stop = [c.removeprefix("status:") for c in clocks["resolution"].stop]
    assert all(c.startswith("status:") for c in clocks["resolution"].stop)
    code_of = {label: i for i, label in enumerate(tickets.labels("ticket_id"))}
    to_code = np.array([code_of.get(label, -1) for label in events.labels("ticket_id")],
                       dtype=tickets["ticket_id"].dtype)  # -> ticket table code; -1: unknown
    priority = tickets["priority"]
    sample = tickets.decode("priority")[:1000]
    assert all(list(Priority)[c] == p for c, p in zip(priority[:1000], sample, strict=True))
    return Inputs(
        ticket=to_code[events["ticket_id"]], at=events["at"], kind=events["kind"],
        to=events["to_value"], ticket_code=tickets["ticket_id"], opened=tickets["opened_at"],
        priority=priority, now=now,
        pause=[codes_of[s] for s in clocks["resolution"].pause if s in codes_of],
        stop=[codes_of[s] for s in stop if s in codes_of],
        targets={name: {i: math.floor(policy.sla.targets(name)[p])
                        for i, p in enumerate(Priority)} for name in CLOCKS},
        calendar=policy.calendar)


def working_clocks(x: Inputs) -> tuple[I64, I64, int]:
    """W(t) of every event, every opening and *now* (one shared origin)."""
    w_at, w_opened, w_now = x.calendar.working_clocks(
        x.at, x.opened, np.array([x.now], dtype=np.int64))
    return w_at, w_opened, int(w_now[0])


def run_polars(x: Inputs, windows: bool = False) -> Result:
    """Both clocks in polars; *windows*: per-ticket ``.over("ticket")`` fills and shifts.

    Without *windows*, every state is seeded on the ticket's opening row (the first row
    of its run in the sorted timeline), so one ``forward_fill`` over the whole timeline
    never crosses tickets and gives the same result as ``forward_fill().over("ticket")``
    — several times faster in polars 2.1.
    """
    import polars as pl

    def per_ticket(expr: pl.Expr) -> pl.Expr:
        return expr.over("ticket") if windows else expr

    w_at, w_opened, w_now = working_clocks(x)
    tickets = pl.DataFrame({"ticket": x.ticket_code, "opened": x.opened, "w_open": w_opened,
                            "priority": x.priority}).lazy().filter(pl.col("opened") <= x.now)
    events = (
        pl.DataFrame({"ticket": x.ticket, "at": x.at, "kind": x.kind, "to": x.to,
                      "w": w_at}).lazy()
        .filter(pl.col("at") <= x.now)
        .join(tickets.select("ticket", "opened", "w_open"), on="ticket", how="inner")
        # an event before its ticket opened counts as at the opening (W is monotone)
        .select("ticket", pl.max_horizontal("at", "opened").alias("at"), "kind", "to",
                pl.max_horizontal("w", "w_open").alias("w")))
    opens = tickets.select("ticket", pl.col("opened").alias("at"),
                           pl.lit(OPENED, pl.Int8).alias("kind"),
                           pl.lit(-1, events.collect_schema()["to"]).alias("to"),
                           pl.col("w_open").alias("w"))
    kind, to, w = pl.col("kind"), pl.col("to"), pl.col("w")
    status, opened = kind == STATUS, kind == OPENED
    if windows:
        gap = w.shift(-1).over("ticket").fill_null(w_now) - w
    else:
        gap = pl.when(pl.col("ticket").shift(-1) == pl.col("ticket")).then(w.shift(-1)) \
            .otherwise(w_now) - w
    timeline = (
        # ties of one kind at one second: their order changes nothing for these clocks
        pl.concat([opens, events]).sort("ticket", "at", "kind")
        .with_columns(
            # the ticket's status after each event (-1 before the first status event)
            state=per_ticket(pl.when(status | opened).then(to).forward_fill()),
            # paused after each event: entering a pause status pauses, any other status
            # or a customer message unpauses; the opening starts unpaused
            paused=per_ticket(pl.when(status).then(to.is_in(x.pause))
                              .when((kind == MESSAGE) | opened).then(False).forward_fill()),
            fr_active=per_ticket(pl.when(opened).then(True).when(kind == REPLY).then(False)
                                 .forward_fill()),
            gap=gap)
        .with_columns(
            res_active=per_ticket(
                pl.when(opened).then(True)
                .when(status & to.is_in(x.stop)).then(False)
                # reopened: a stop status left for another status
                .when(status & per_ticket(pl.col("state").shift(1)).is_in(x.stop)).then(True)
                .forward_fill())))
    aggs = []
    for name, active in (("first_response", pl.col("fr_active")),
                         ("resolution", pl.col("res_active"))):
        aggs += [
            pl.when(active & ~pl.col("paused")).then("gap").otherwise(0).sum()
            .alias(f"{name}_elapsed"),
            pl.when(active & pl.col("paused")).then("gap").otherwise(0).sum()
            .alias(f"{name}_paused"),
            active.last().alias(f"{name}_active")]
    per = (timeline.group_by("ticket").agg(*aggs, pl.col("paused").last().alias("paused"))
           .join(tickets.select("ticket", "priority"), on="ticket").sort("ticket"))
    judged = []
    for name in CLOCKS:
        elapsed, active = pl.col(f"{name}_elapsed"), pl.col(f"{name}_active")
        target = pl.col("priority").replace_strict(x.targets[name], return_dtype=pl.Int64)
        judged.append(pl.when(elapsed > target).then(BREACHED).when(~active).then(ACHIEVED)
                      .when(pl.col("paused")).then(PAUSED).otherwise(RUNNING)
                      .cast(pl.Int8).alias(f"{name}_status"))
    out = per.with_columns(judged).collect()
    return {name: {"ticket": out["ticket"].to_numpy(),
                   "elapsed": out[f"{name}_elapsed"].to_numpy(),
                   "paused": out[f"{name}_paused"].to_numpy(),
                   "status": out[f"{name}_status"].to_numpy()} for name in CLOCKS}


def run_pandas(x: Inputs) -> Result:
    """Both clocks in pandas: ``groupby("ticket")`` forward fills and shifts.

    (Seeding the states on the opening rows and filling the whole timeline at once, as
    the polars baseline does, saves only ≈ 0.5 s of ≈ 7.5 s at 2 M tickets in pandas;
    the three-key ``sort_values`` is half of its time.)
    """
    import pandas as pd

    w_at, w_opened, w_now = working_clocks(x)
    tickets = pd.DataFrame({"ticket": x.ticket_code, "opened": x.opened, "w_open": w_opened,
                            "priority": x.priority})
    tickets = tickets[tickets["opened"] <= x.now]
    events = pd.DataFrame({"ticket": x.ticket, "at": x.at, "kind": x.kind, "to": x.to,
                           "w": w_at})
    events = events[events["at"] <= x.now].merge(
        tickets[["ticket", "opened", "w_open"]], on="ticket", how="inner")
    # an event before its ticket opened counts as at the opening (W is monotone)
    events["at"] = events["at"].clip(lower=events["opened"])
    events["w"] = events["w"].clip(lower=events["w_open"])
    opens = pd.DataFrame({"ticket": tickets["ticket"], "at": tickets["opened"],
                          "kind": np.int8(OPENED), "to": x.to.dtype.type(-1),
                          "w": tickets["w_open"]})
    tl = pd.concat([opens, events[["ticket", "at", "kind", "to", "w"]]], ignore_index=True)
    tl = tl.sort_values(["ticket", "at", "kind"], ignore_index=True)
    by = tl["ticket"]
    kind, to = tl["kind"], tl["to"]
    status = kind == STATUS
    # the ticket's status after each event (NaN before the first status event)
    state = to.where(status).groupby(by).ffill()
    # paused after each event: entering a pause status pauses, any other status or a
    # customer message unpauses; the opening starts unpaused
    paused = (status & to.isin(x.pause)).astype("float64") \
        .where(status | kind.isin([MESSAGE, OPENED])).groupby(by).ffill().astype(bool)
    fr_active = pd.Series(np.where(kind == OPENED, 1.0, np.nan)).mask(kind == REPLY, 0.0) \
        .groupby(by).ffill().astype(bool)
    reopened = status & ~to.isin(x.stop) & state.groupby(by).shift(1).isin(x.stop)
    res_active = pd.Series(np.where(kind == OPENED, 1.0, np.nan)) \
        .mask(status & to.isin(x.stop), 0.0).mask(reopened, 1.0) \
        .groupby(by).ffill().astype(bool)
    gap = tl["w"].groupby(by).shift(-1).fillna(w_now).astype("int64") - tl["w"]
    parts = {}
    for name, active in (("first_response", fr_active), ("resolution", res_active)):
        parts[f"{name}_elapsed"] = gap.where(active & ~paused, 0)
        parts[f"{name}_paused"] = gap.where(active & paused, 0)
    per = pd.DataFrame(parts).groupby(by).sum()
    last = pd.DataFrame({"first_response_active": fr_active, "resolution_active": res_active,
                         "paused": paused}).groupby(by).last()
    per = per.join(last).join(tickets.set_index("ticket")["priority"]).sort_index()
    result: Result = {}
    for name in CLOCKS:
        elapsed = per[f"{name}_elapsed"]
        target = per["priority"].map(x.targets[name])
        judged = np.select(
            [elapsed > target, ~per[f"{name}_active"], per["paused"]],
            [BREACHED, ACHIEVED, PAUSED], RUNNING).astype(np.int8)
        result[name] = {"ticket": per.index.to_numpy(), "elapsed": elapsed.to_numpy(),
                        "paused": per[f"{name}_paused"].to_numpy(), "status": judged}
    return result


def ours(table: Any) -> Result:
    """The first-response and resolution rows of a ClockTable, by ticket code."""
    out: Result = {}
    for name in CLOCKS:
        rows = np.flatnonzero(table["clock"] == list(ClockName).index(ClockName(name)))
        order = np.argsort(table["ticket_id"][rows], kind="stable")
        rows = rows[order]
        out[name] = {"ticket": table["ticket_id"][rows], "elapsed": table["elapsed"][rows],
                     "paused": table["paused"][rows], "status": table["status"][rows]}
    return out


def compare(engine: str, expected: Result, got: Result, tickets: TicketTable,
            events: TicketEventTable) -> None:
    """Fail loudly, with a few examples, unless *got* equals *expected* on every ticket."""
    names = list(ClockStatus)
    for name in CLOCKS:
        e, g = expected[name], got[name]
        if not np.array_equal(e["ticket"], g["ticket"]):
            raise SystemExit(f"{engine} {name}: {g['ticket'].size:,} tickets, servicekpi "
                             f"{e['ticket'].size:,} (or in another order)")
        bad = np.flatnonzero((e["elapsed"] != g["elapsed"]) | (e["paused"] != g["paused"])
                             | (e["status"] != g["status"]))
        if not bad.size:
            continue
        labels = tickets.labels("ticket_id")
        lines = [f"{engine} disagrees with servicekpi on the {name} clock of {bad.size:,} "
                 f"tickets, e.g.:"]
        for i in bad[:4]:
            ticket = int(e["ticket"][i])
            lines.append(
                f"  {labels[ticket]}: servicekpi elapsed {e['elapsed'][i]} paused "
                f"{e['paused'][i]} {names[e['status'][i]].value}; {engine} elapsed "
                f"{g['elapsed'][i]} paused {g['paused'][i]} {names[g['status'][i]].value}")
            lines.append(f"    opened {tickets['opened_at'][ticket]}")
            event_labels = events.labels("ticket_id")
            mine = np.flatnonzero(events["ticket_id"] == event_labels.index(labels[ticket])) \
                if labels[ticket] in event_labels else np.array([], dtype=np.int64)
            kinds, tos = events.decode("kind"), events.decode("to_value")
            for j in mine[np.lexsort((events["kind"][mine], events["at"][mine]))]:
                lines.append(f"    {events['at'][j]} {kinds[j].value} {tos[j] or ''}")
        raise SystemExit("\n".join(lines))


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and first wall time of *repeat* calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        result = None  # only the last call's result is kept
        gc.collect()
        begin = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - begin)
    return min(times), times[0], result


T = TypeVar("T")


def in_child(work: Callable[[], T]) -> tuple[T, int]:
    """``work()`` in a forked child, and the child's peak RSS above its RSS at the fork.

    Each engine starts from the same process state (data generated, nothing else run),
    so the peaks compare; the result comes back pickled. Without ``fork``: in process.
    """
    if not hasattr(os, "fork"):
        here = _PeakMemory()
        return work(), here.peak()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            memory = _PeakMemory()
            value = work()
            payload: tuple[bool, Any] = (True, (value, memory.peak()))
        except SystemExit as error:
            payload = (False, str(error.code))
        except BaseException:  # noqa: BLE001 - handed to the parent
            payload = (False, traceback.format_exc())
        with os.fdopen(write, "wb") as out:
            pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        try:
            answer: tuple[bool, Any] = pickle.load(source)
        except EOFError:
            answer = (False, "the child process died (out of memory?)")
    os.waitpid(pid, 0)
    if not answer[0]:
        raise SystemExit(answer[1])
    result: tuple[T, int] = answer[1]
    return result


def main(argv: list[str] | None = None) -> None:
    """Parse *argv*, generate the data and time the three engines."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2_000_000, help="tickets (2 M)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (3)")
    parser.add_argument("--skip-pandas", action="store_true", help="no pandas baseline")
    parser.add_argument("--polars-over", action="store_true",
                        help='also time polars with per-ticket .over("ticket") windows')
    args = parser.parse_args(argv)
    n = args.tickets
    data = synth.month(seed=1, tickets=n, agents=max(40, n // 200), stations=4)
    events = synth.events(data.tickets, seed=1)
    policy = Policy.default()
    period = data.period
    assert period is not None
    now_dt = period.end
    now = int(now_dt.timestamp())
    have = [m for m in ("polars", "pandas") if importlib.util.find_spec(m)]
    print(f"{n:,} tickets, {len(events):,} events ({int((events['at'] > now).sum()):,} "
          f"after now), judged at {now_dt.isoformat()}, best of {args.repeat}; numpy "
          f"{np.__version__}" + "".join(f", {m} {version(m)}" for m in have))

    def servicekpi_run() -> tuple[float, float, Result]:
        best, first, table = timed(
            lambda: measure_clocks(data.tickets, events, now=now_dt, policy=policy),
            args.repeat)
        return best, first, ours(table)

    (ours_s, ours_first, expected), peak = in_child(servicekpi_run)
    print(f"servicekpi measure_clocks (3 clocks, attribution, at risk)  {ours_s:7.3f} s"
          f"{_PeakMemory.text(peak)}  (first call {ours_first:.3f} s)")

    begin = time.perf_counter()
    x = inputs(data.tickets, events, now, policy)
    setup_s = time.perf_counter() - begin
    w_s, _, _ = timed(lambda: working_clocks(x), args.repeat)
    engines: list[tuple[str, Callable[[Inputs], Result]]] = []
    if "polars" in have:
        engines.append(("polars", run_polars))
        if args.polars_over:
            engines.append(('polars .over("ticket")',
                            lambda x: run_polars(x, windows=True)))
    if "pandas" in have and not args.skip_pandas:
        engines.append(("pandas", run_pandas))
    for engine, run in engines:

        def engine_run(run: Callable[[Inputs], Result] = run,
                       engine: str = engine) -> float:
            seconds, _, got = timed(lambda: run(x), args.repeat)
            compare(engine, expected, got, data.tickets, events)
            return seconds

        seconds, peak = in_child(engine_run)
        print(f"{engine + ' (2 clocks)':<58} {seconds:7.3f} s{_PeakMemory.text(peak)}  "
              + (f"servicekpi is {seconds / ours_s:.2f}x faster" if seconds >= ours_s
                 else f"servicekpi is {ours_s / seconds:.2f}x slower"))
    if engines:
        print(f"  all engines agree on elapsed, paused and status of the first_response and "
              f"resolution clocks of all {expected['resolution']['ticket'].size:,} tickets\n"
              f"  the baselines' times include servicekpi's W(t) of every event instant "
              f"(calendar.working_clocks: {w_s:.3f} s), not the mapping of the events' "
              f"ticket codes to the ticket table's ({setup_s:.2f} s, done once before)")

    def panel_run() -> tuple[float, float]:
        with_s, _, _ = timed(lambda: kpi_panel(data.tickets, period=period, policy=policy,
                                               events=events), args.repeat)
        without_s, _, _ = timed(lambda: kpi_panel(data.tickets, period=period,
                                                  policy=policy), args.repeat)
        return with_s, without_s

    (with_s, without_s), peak = in_child(panel_run)
    print(f"kpi_panel by agent: with events {with_s:.3f} s - without {without_s:.3f} s = "
          f"{with_s - without_s:.3f} s for the sla_* KPIs from the clocks"
          f"{_PeakMemory.text(peak)}")
    largest = max(resource.getrusage(who).ru_maxrss for who in (
        resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    print(f"peak RSS above the generated data: per engine, as shown; largest process "
          f"{largest:,.0f} MiB")


class _PeakMemory:
    """Peak RSS above the RSS at creation (Linux: writing 5 to clear_refs resets VmHWM)."""

    def __init__(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.base = self._status("VmRSS")
        except (OSError, ValueError):
            self.base = -1

    @staticmethod
    def _status(field: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) // 1024  # kB -> MiB
        raise ValueError(field)

    def peak(self) -> int:
        """MiB; -1 where unknown."""
        if self.base < 0:
            return -1
        try:
            return self._status("VmHWM") - self.base
        except (OSError, ValueError):
            return -1

    @staticmethod
    def text(peak: int) -> str:
        return f"  peak RSS +{peak:,} MiB" if peak >= 0 else ""


if __name__ == "__main__":
    main()
