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

from servicekpi import synth
from servicekpi.dataset import Dataset
from servicekpi.domain import Period
from servicekpi.evaluation import evaluate
from servicekpi.exceptions import ServiceKPIError
from servicekpi.policy import Policy
from servicekpi.report import render_text

__all__ = ("main",)


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
            evaluation = evaluate(data, period=period, policy=Policy.default())
            print(render_text(evaluation, preamble=_preamble(data)), end="")
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


def _preamble(data: Dataset) -> list[str]:
    tickets = data.tickets
    lines = [*data.summary().splitlines(), ""]
    if len(tickets):
        lines += _counts("Tickets by service type", tickets.decode("service_type"),
                         len(tickets))
    return lines
