"""The monthly evaluation end to end: 1 M tickets, 2 000 agents (issue target: < 5 s).

Run: ``python -m benchmarks.evaluation [--tickets 1000000 --agents 2000]``

Prints the time of :func:`servicekpi.evaluate` (best of 3) and of each of its steps,
then the scoring step alone (KPI points, ticket-mix weights, composite, rank within
team) against the same arithmetic written in pandas and in polars from the same
per-agent KPI values, with the results checked to agree first.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from servicekpi import Policy, evaluate, kpi_panel, synth
from servicekpi.rules.analysis import complaint_analysis
from servicekpi.rules.followup import plan_followups, reconcile
from servicekpi.scoring import consequences, loyalty_classes, score_agents, team_targets


def best_of(n: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(n):
        begin = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - begin)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=2_000)
    parser.add_argument("--stations", type=int, default=20)
    args = parser.parse_args()
    data = synth.month(seed=1, tickets=args.tickets, agents=args.agents,
                       stations=args.stations)
    period, policy = data.period, Policy.default()
    assert period is not None
    now = period.end

    total, ev = best_of(3, lambda: evaluate(data, period=period, policy=policy))
    print(f"evaluate: {args.tickets:,} tickets, {args.agents:,} agents, "
          f"{len(data.customers):,} customers -> {ev!r}")
    print(f"  end to end (best of 3)     {total:7.3f} s   (target < 5 s)")

    tables = dict(callbacks=data.callbacks, complaints=data.complaints, orders=data.orders)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("kpi_panel by agent", lambda: kpi_panel(data.tickets, period=period, by="agent",
                                                 policy=policy, **tables)),
        ("kpi_panel by team", lambda: kpi_panel(data.tickets, period=period, by="team",
                                                policy=policy, **tables)),
        ("score_agents", lambda: score_agents(data, period=period, policy=policy,
                                              panel=ev.panel)),
        ("consequences", lambda: consequences(ev.scorecard, report_date=now, policy=policy)),
        ("complaint_analysis", lambda: complaint_analysis(
            data.complaints, data.callbacks, period=period, policy=policy,
            volume=data.tickets, now=now)),
        ("plan_followups", lambda: plan_followups(data.tickets, data.customers, now=now,
                                                  policy=policy, callbacks=data.callbacks,
                                                  agents=data.agents)),
        ("reconcile", lambda: reconcile(ev.followups, data.callbacks, as_of=now)),
        ("team_targets", lambda: team_targets(data, period=period, policy=policy)),
        ("loyalty_classes", lambda: loyalty_classes(data.tickets, data.customers,
                                                    period=period, policy=policy)),
    ]
    for name, run in steps:
        seconds, _ = best_of(3, run)
        print(f"  {name:<26} {seconds:7.3f} s")
    json_seconds, text = best_of(1, ev.to_json)
    print(f"  to_json (not in evaluate)  {json_seconds:7.3f} s   {len(text) / 1e6:,.0f} MB")

    _scoring_side_by_side(ev, data, policy)


def _scoring_side_by_side(ev: Any, data: Any, policy: Policy) -> None:
    """KPI points -> ticket-mix weights -> composite of the KPI part -> rank in team."""
    import pandas as pd
    import polars as pl

    card = ev.scorecard
    mixes = list(policy.weights)
    names: list[str] = []
    for mix in policy.weights.values():
        names.extend(n for n in mix if n not in names)
    panel_rows = {key: i for i, key in enumerate(ev.panel.keys)}
    rows = np.array([panel_rows.get(a, -1) for a in card.agent_ids])
    values = {n: np.where(rows >= 0, ev.panel[n][rows], np.nan) for n in names}
    tickets = data.tickets
    start, end = int(data.period.start.timestamp()), int(data.period.end.timestamp())
    inside = (tickets["opened_at"] >= start) & (tickets["opened_at"] < end)
    ticket_frame = {"agent": tickets.decode("agent_id")[inside].astype(str),
                    "type": tickets.decode("service_type")[inside].astype(str)}
    weights = {(mix, n): policy.weights[mix].get(n, 0.0) for mix in mixes for n in names}
    types = {t: (t if t in policy.weights else "default") for t in set(ticket_frame["type"])}
    target = {n: policy.kpis[n].target for n in names}
    floor = {n: policy.kpis[n].floor for n in names}
    team = dict(zip(card.agent_ids, card.groups, strict=True))
    expected = dict(zip(card.agent_ids, card.kpi_score.tolist(), strict=True))

    def with_pandas() -> dict[str, float]:
        mix = (pd.DataFrame(ticket_frame).assign(mix=lambda f: f["type"].map(types))
               .groupby(["agent", "mix"]).size().rename("n").reset_index())
        mix["share"] = mix["n"] / mix.groupby("agent")["n"].transform("sum")
        w = pd.DataFrame([(m, n, v) for (m, n), v in weights.items()],
                         columns=["mix", "kpi", "w"])
        aw = mix.merge(w, on="mix").assign(w=lambda f: f["w"] * f["share"]) \
            .groupby(["agent", "kpi"])["w"].sum().reset_index()
        vals = pd.DataFrame({"agent": list(card.agent_ids), **values}).melt(
            id_vars="agent", var_name="kpi", value_name="v")
        f = aw.merge(vals, on=["agent", "kpi"])
        f["t"], f["fl"] = f["kpi"].map(target), f["kpi"].map(floor)
        f["p"] = ((f["v"] - f["fl"]) / (f["t"] - f["fl"])).clip(0, 1)
        f = f[f["v"].notna() & (f["w"] > 0)]
        f["w"] = f["w"] / f.groupby("agent")["w"].transform("sum")
        score = (f["w"] * f["p"] * 100).groupby(f["agent"]).sum()
        ranked = score.rename("s").reset_index().assign(team=lambda g: g["agent"].map(team))
        ranked["rank"] = ranked.groupby("team")["s"].rank(ascending=False, method="first")
        return dict(zip(ranked["agent"], ranked["s"], strict=True))

    def with_polars() -> dict[str, float]:
        mix = (pl.DataFrame(ticket_frame)
               .with_columns(pl.col("type").replace_strict(types).alias("mix"))
               .group_by(["agent", "mix"]).len()
               .with_columns((pl.col("len") / pl.col("len").sum().over("agent")).alias("share")))
        w = pl.DataFrame({"mix": [m for m, _ in weights], "kpi": [n for _, n in weights],
                          "w": list(weights.values())})
        aw = (mix.join(w, on="mix").with_columns(pl.col("w") * pl.col("share"))
              .group_by(["agent", "kpi"]).agg(pl.col("w").sum()))
        vals = pl.DataFrame({"agent": list(card.agent_ids), **values}).unpivot(
            index="agent", variable_name="kpi", value_name="v")
        f = (aw.join(vals, on=["agent", "kpi"])
             .with_columns(pl.col("kpi").replace_strict(target).alias("t"),
                           pl.col("kpi").replace_strict(floor).alias("fl"))
             .with_columns(((pl.col("v") - pl.col("fl")) / (pl.col("t") - pl.col("fl")))
                           .clip(0, 1).alias("p"))
             .filter(pl.col("v").is_not_nan() & (pl.col("w") > 0))
             .with_columns(pl.col("w") / pl.col("w").sum().over("agent")))
        score = f.group_by("agent").agg((pl.col("w") * pl.col("p") * 100).sum().alias("s"))
        ranked = score.with_columns(pl.col("agent").replace_strict(team).alias("team")) \
            .with_columns(pl.col("s").rank("ordinal", descending=True).over("team")
                          .alias("rank"))
        return dict(zip(ranked["agent"].to_list(), ranked["s"].to_list(), strict=True))

    for name, run in (("pandas", with_pandas), ("polars", with_polars)):
        got = run()
        bad = [a for a, s in got.items() if not np.isclose(s, expected[a], rtol=0, atol=1e-9)]
        if bad:
            raise SystemExit(f"{name} disagrees on {len(bad)} agents, e.g. {bad[0]}")
    mine, _ = best_of(3, lambda: score_agents(data, period=data.period, policy=policy,
                                              panel=ev.panel))
    print(f"scoring step (KPI points, weights, composite, rank; results agree):")
    print(f"  servicekpi score_agents    {mine:7.3f} s   (all three parts and explanations)")
    for name, run in (("pandas", with_pandas), ("polars", with_polars)):
        seconds, _ = best_of(3, run)
        print(f"  {name:<26} {seconds:7.3f} s   (KPI part only)  ratio {seconds / mine:5.2f}×")


if __name__ == "__main__":
    main()
