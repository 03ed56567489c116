"""The ``servicekpi`` command line (an edge: argparse, text to stdout).

Exit codes: 0 ok, 2 usage, configuration or input error (one line on stderr, no
traceback), 3 internal error.

.. versionadded:: 0.1
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from servicekpi import synth
from servicekpi.dataset import Dataset
from servicekpi.domain import Period
from servicekpi.exceptions import ServiceKPIError
from servicekpi.kernel import MISSING
from servicekpi.metrics import kpi_panel
from servicekpi.rules.analysis import complaint_analysis
from servicekpi.policy import Policy

__all__ = ("main", "render_overview")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicekpi",
        description="After-sales service KPIs, scores, escalations and follow-ups.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="evaluate the built-in synthetic month")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument("--tickets", type=int, default=20_000, help="tickets in the month")
    demo.add_argument("--agents", type=int, default=40, help="number of agents")
    demo.add_argument("--stations", type=int, default=4, help="number of stations")
    demo.add_argument("--month", default="2026-10", help="the month, YYYY-MM")
    demo.add_argument("--tz", default="Asia/Shanghai", help="IANA zone of the centre")
    bench = commands.add_parser("bench", help="time the KPI panel (vs polars/pandas if "
                                              "installed)")
    from servicekpi import _bench

    _bench.add_arguments(bench)
    policy = commands.add_parser("policy", help="show the policy")
    policy.add_argument("--dump-default", action="store_true",
                        help="print the default policy as TOML")
    policy.add_argument("--check", metavar="FILE", help="validate a policy TOML file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    >>> main(["policy", "--check", "/nonexistent/policy.toml"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            period = Period.parse(args.month, tz=args.tz)
            data = synth.month(seed=args.seed, tickets=args.tickets, agents=args.agents,
                               stations=args.stations, start=period)
            print(render_overview(data, Policy.default()))
        elif args.command == "bench":
            from servicekpi import _bench

            _bench.run(args)
        elif args.command == "policy":
            if args.check:
                Policy.from_toml(args.check)
                print(f"{args.check}: ok")
            else:
                print(Policy.default().to_toml(), end="")
        return 0
    except ServiceKPIError as error:
        print(f"servicekpi: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - the last line of defence of a CLI
        print(f"servicekpi: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 3


def _bar(share: float, width: int = 24) -> str:
    filled = int(round(share * width))
    return "█" * filled + "·" * (width - filled)


def _counts(title: str, values: Any, total: int) -> list[str]:
    lines = [title]
    for value, count in sorted(Counter(values).items(), key=lambda kv: -kv[1]):
        label = getattr(value, "value", value)
        lines.append(f"  {label!s:<22}{count:>9,}  {_bar(count / total)} {count / total:6.1%}")
    return lines


_COLUMNS = (  # (KPI, header, format)
    ("tickets", "tickets", "{:>8,.0f}"),
    ("fcr_rate", "FCR", "{:>6.1%}"),
    ("csi_rate", "CSI", "{:>6.1%}"),
    ("resolution_work_seconds_median", "res. h", "{:>6.1f}"),
    ("sla_resolution_rate", "SLA", "{:>6.1%}"),
    ("rework_rate", "rework", "{:>6.1%}"),
    ("callback_completion_rate", "callbk", "{:>6.1%}"),
    ("complaint_rate", "complnt", "{:>7.2%}"),
)


def _kpi_section(data: Dataset, policy: Policy) -> list[str]:
    if data.period is None:  # pragma: no cover - guarded by the caller
        return []
    panel = kpi_panel(data.tickets, period=data.period, by="team", policy=policy,
                      callbacks=data.callbacks, complaints=data.complaints, orders=data.orders)
    header = f"  {'team':<8}" + "".join(f"{h:>9}" for _, h, _ in _COLUMNS)
    lines = ["KPIs by team (kpi_panel; targets from the policy)", header]
    for i, key in enumerate(panel.keys):
        cells = []
        for name, _, fmt in _COLUMNS:
            value = float(panel[name][i])
            if name.endswith("_seconds_median"):
                value /= 3600
            cells.append(f"{fmt.format(value):>9}" if value == value else f"{'–':>9}")
        lines.append(f"  {str(key):<8}" + "".join(cells))
    targets = []
    for name, header, fmt in _COLUMNS[1:]:
        target = policy.kpis.get(name)
        if target is not None:
            value = target.target / 3600 if name.endswith("_seconds_median") else target.target
            targets.append(f"{fmt.format(value).strip()}")
        else:
            targets.append("")
    lines.append(f"  {'target':<8}{'':>9}" + "".join(f"{t:>9}" for t in targets))
    lines.append("")
    return lines


def _complaint_section(data: Dataset, policy: Policy) -> list[str]:
    if data.period is None:  # pragma: no cover - guarded by the caller
        return []
    analysis = complaint_analysis(data.complaints, data.callbacks, period=data.period,
                                  policy=policy, volume=data.tickets)
    levels = ", ".join(f"{level.name.lower()} {count:,}"
                       for level, count in analysis.by_level.items())
    lines = [f"Complaints (投诉): {analysis.complaints:,} received — {levels}"]
    lines.append("  by type: " + ", ".join(f"{k} {v}" for k, v in analysis.by_type.items()))
    lines.append("  station ranking (rank 1 = lowest complaint share):")
    for share in analysis.stations:
        rank = "–" if share.rank is None else str(share.rank)
        lines.append(f"    {rank:>2}. {share.station_id:<8} {share.complaints:>5} complaints / "
                     f"{share.volume:>8,.0f} tickets = {share.share:.2%}")
    status = "recorded only (special period)" if analysis.special_period else "enforced"
    lines.append(f"  penalty summary (月处罚汇总表, {status}): total "
                 f"{analysis.penalty_total:,.0f}")
    for row in analysis.penalties:
        lines.append(f"    {row.responsible:<12} {row.station_id:<6} repeat {row.repeat:>3}  "
                     f"severe {row.severe:>3}  amount {row.amount:>8,.0f}")
    if analysis.severe:
        example = analysis.severe[0]
        lines.append(f"  e.g. {example.complaint_id} is severe: {example.reasons[-1]}")
    lines.append("")
    return lines


def render_overview(data: Dataset, policy: Policy) -> str:
    """The month's records and the policy in force, as a readable text report.

    The KPI panel, scores and rankings join this report as they are built.
    """
    tickets = data.tickets
    n = len(tickets)
    title = f"servicekpi — monthly service report, {data.period or 'all records'}"
    lines = [title, "=" * len(title), "", data.summary(), ""]
    if n:
        lines += _counts("Tickets by service type", tickets.decode("service_type"), n)
        lines.append("")
        lines += _counts("Tickets by channel", tickets.decode("channel"), n)
        lines.append("")
        resolved = tickets.present("resolved_at")
        rated = tickets.present("satisfaction")
        satisfied = tickets["satisfaction"][rated] >= policy.satisfied_threshold
        lines += [
            "Records at a glance",
            f"  resolved              {int(resolved.sum()):>9,}  of {n:,} "
            f"({resolved.mean():.1%})",
            f"  rated                 {int(rated.sum()):>9,}  "
            f"satisfied (>= {policy.satisfied_threshold:g}): "
            f"{(satisfied.mean() if satisfied.size else float('nan')):.1%}"
            f"  (CSI target {policy.kpis['csi_rate'].target:.0%})",
            f"  first-contact solved  {int(tickets['first_contact_resolved'].sum()):>9,}",
            f"  rework (返修)          {int(tickets['rework'].sum()):>9,}",
        ]
        worked = resolved & (tickets["opened_at"] != MISSING)
        if worked.any():
            seconds = policy.calendar.working_seconds(tickets["opened_at"][worked],
                                                      tickets["resolved_at"][worked])
            lines.append(f"  resolution, working   median {np.median(seconds) / 3600:5.1f} h"
                         f"   p90 {np.percentile(seconds, 90) / 3600:5.1f} h"
                         f"   ({policy.calendar.tz} working calendar)")
        lines.append("")
    complaints = data.complaints
    if len(complaints) and data.period is not None:
        lines += _complaint_section(data, policy)
    if data.period is not None and n:
        lines += _kpi_section(data, policy)
    lines += ["Policy in force (defaults from the source documents)",
              f"  CSI target {policy.kpis['csi_rate'].target:.0%}, rework below "
              f"{policy.kpis['rework_rate'].target:.0%}, callbacks "
              f"{policy.kpis['callback_completion_rate'].target:.0%}, warranty approval "
              f"{policy.kpis['warranty_claim_approval_rate'].target:.0%}",
              "  raters: " + ", ".join(f"{role.value} {weight:.0%}"
                                       for role, weight in policy.raters.weights.items()),
              f"  rank 1 +{policy.consequences.first_reward:g}, last "
              f"−{policy.consequences.last_deduction:g}; bottom "
              f"{policy.consequences.improvement_plan_bottom} submit an improvement plan "
              f"within {policy.consequences.improvement_plan_days} days",
              "  grades: " + ", ".join(f"{g} ≥ {low:g}" for g, low in policy.grades.items())]
    return "\n".join(lines)
