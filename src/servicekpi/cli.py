"""The ``servicekpi`` command line (an edge: argparse; data to stdout or ``--out``,
diagnostics to stderr).

Commands: ``demo``, ``evaluate``, ``validate``, ``schedule``, ``policy``, ``bench``.

Exit codes: 0 ok; 1 finished, but rows were rejected and ``--fail-on-invalid`` was
given; 2 usage, configuration or input error (one line on stderr, no traceback);
3 internal error. Long reads and evaluations show a progress bar on stderr when it is
a terminal and tqdm is installed (the ``progress`` extra); otherwise they are silent.

.. versionadded:: 0.1
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from servicekpi import synth
from servicekpi.clocks import measure_clocks
from servicekpi.dataset import Dataset
from servicekpi.domain import ClockStatus, Period
from servicekpi.evaluation import MonthlyEvaluation, evaluate
from servicekpi.exceptions import InvalidChoiceError, NaiveDatetimeError, ServiceKPIError
from servicekpi.policy import Policy
from servicekpi.report import render_text
from servicekpi.rules.followup import plan_followups
from servicekpi.tables import (
    AgentTable,
    CallbackTable,
    ComplaintTable,
    CustomerTable,
    OrderTable,
    RatingTable,
    Table,
    TicketEventTable,
    TicketTable,
)

if TYPE_CHECKING:
    from servicekpi.io.csv import CsvReport

__all__ = ("main",)

_TABLES: dict[str, type[Table]] = {
    "tickets": TicketTable, "agents": AgentTable, "customers": CustomerTable,
    "complaints": ComplaintTable, "callbacks": CallbackTable, "ratings": RatingTable,
    "orders": OrderTable, "ticket_events": TicketEventTable,
}
_OUTPUTS = (".txt", ".md", ".html", ".json", ".csv")
_PLAN_COLUMNS = ("rule", "kind", "subject", "subject_id", "customer_id", "earliest", "latest",
                 "assignee", "substitute_for", "overdue")


T = TypeVar("T", bound=Table)


class _Usage(ServiceKPIError, ValueError):
    """A command line that cannot be carried out as given (exit code 2)."""


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
    ev = commands.add_parser("evaluate", help="the monthly evaluation of CSV files")
    ev.add_argument("--period", required=True, help="the period, e.g. 2026-10 or 2026-Q4")
    ev.add_argument("--tz", default=None, help="IANA zone of local dates (without an "
                    "offset) in the files; without it such dates are rejected rows. The "
                    "period is in this zone, else in the policy calendar's")
    for name in ("tickets", "agents"):
        ev.add_argument(f"--{name}", required=True, metavar="CSV", help=f"{name} (CSV)")
    for name in ("customers", "complaints", "callbacks", "ratings", "orders"):
        ev.add_argument(f"--{name}", metavar="CSV", help=f"{name} (CSV, optional)")
    ev.add_argument("--events", metavar="CSV", help="ticket events (CSV, optional): the "
                    "sla_* KPIs then come from the SLA clocks (docs/clocks.md)")
    _common_input(ev)
    ev.add_argument("--now", help="report date, ISO-8601 with offset (default: period end)")
    ev.add_argument("--history", action="append", default=[], metavar="JSON",
                    help="an earlier evaluation written with --out X.json (repeatable)")
    ev.add_argument("--out", metavar="FILE", help="write the report to FILE: .txt, .md, "
                    ".html, .json (the whole evaluation) or .csv (the scorecard); default: "
                    "text to stdout")
    val = commands.add_parser("validate", help="validate a CSV file against a table schema")
    val.add_argument("file", metavar="FILE")
    val.add_argument("--table", required=True, choices=sorted(_TABLES))
    val.add_argument("--tz", default=None, help="IANA zone for dates without an offset")
    _common_input(val)
    sch = commands.add_parser("schedule", help="the follow-up plan of CSV files, as CSV")
    sch.add_argument("--tickets", required=True, metavar="CSV")
    sch.add_argument("--customers", required=True, metavar="CSV")
    for name in ("agents", "callbacks"):
        sch.add_argument(f"--{name}", metavar="CSV", help=f"{name} (CSV, optional)")
    sch.add_argument("--now", required=True, help="plan as of, ISO-8601 with offset")
    sch.add_argument("--tz", default=None, help="IANA zone for dates without an offset")
    sch.add_argument("--horizon-days", type=int, default=90)
    _common_input(sch)
    sch.add_argument("--out", metavar="FILE", help="write the plan to FILE (CSV); "
                     "default: stdout")
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
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # argparse printed the usage line already
        return 0 if stop.code == 0 else 2
    try:
        if args.command == "demo":
            period = Period.parse(args.month, tz=args.tz)
            data = synth.month(seed=args.seed, tickets=args.tickets, agents=args.agents,
                               stations=args.stations, start=period)
            data = attrs.evolve(data, events=synth.events(data.tickets, seed=args.seed))
            evaluation = evaluate(data, period=period, policy=Policy.default())
            print(render_text(evaluation, preamble=_preamble(data)), end="")
        elif args.command == "evaluate":
            return _evaluate(args)
        elif args.command == "validate":
            return _validate(args)
        elif args.command == "schedule":
            return _schedule(args)
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
    except OSError as error:  # a file that cannot be read or written: an input error
        where = f": {error.filename}" if error.filename else ""
        print(f"servicekpi: error: {error.strerror or error}{where}", file=sys.stderr)
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
    if data.events is not None and data.period is not None:
        clocks = measure_clocks(tickets, data.events, now=data.period.end)
        lines += ["", f"SLA clocks at the period end (docs/clocks.md): "
                      f"{int(clocks['at_risk'].sum()):,} at risk, "
                      f"{sum(clocks.handoffs().values()):,} hand-offs"]
        lines.append(f"  {'clock':<16}" + "".join(f"{s.value:>10}" for s in ClockStatus))
        for name, counts in clocks.counts().items():
            lines.append(f"  {name:<16}" + "".join(f"{n:>10,}" for n in counts.values()))
    return lines


# --------------------------------------------------------------------------- commands


def _common_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", metavar="TOML", help="policy file (default: the "
                        "documents' defaults)")
    parser.add_argument("--encoding", default="auto", help="CSV encoding (default: auto = "
                        "UTF-8 with or without BOM, else GB18030)")
    parser.add_argument("--date-format", action="append", default=[], metavar="FMT",
                        help="a strptime format for local dates (repeatable)")
    parser.add_argument("--rejected", action="store_true",
                        help="write the rejected rows beside each input, as "
                             "<input>.rejected.csv")
    parser.add_argument("--fail-on-invalid", action="store_true",
                        help="exit with code 1 when any row was rejected")


def _policy_of(args: argparse.Namespace) -> Policy:
    return Policy.from_toml(Path(args.policy)) if args.policy else Policy.default()


def _read(args: argparse.Namespace, kind: type[T], path: str, tz: str | None,
          reports: list[CsvReport]) -> T:
    from servicekpi.io.csv import read_csv

    table, report = read_csv(Path(path), kind, encoding=args.encoding,
                             default_tz=tz, date_formats=tuple(args.date_format),
                             rejected=True if args.rejected else None)
    reports.append(report)
    return table


def _summarise(reports: list[CsvReport], fail: bool) -> int:
    """Each file's report on stderr: counts, then its first issues as file:line."""
    for report in reports:
        print(report, file=sys.stderr)
    rejected = sum(report.rows_rejected for report in reports)
    return 1 if fail and rejected else 0


def _moment(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Usage(f"{what} must be ISO-8601, e.g. 2026-11-01T00:00:00+08:00 "
                     f"(got {text!r})") from None
    if moment.utcoffset() is None:
        raise NaiveDatetimeError(f"{what} needs an offset, e.g. {text}+08:00 (got {text!r})")
    return moment


def _steps(total: int, what: str) -> Any:
    """A progress bar on stderr when it is a terminal and tqdm is installed, else None."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=what, file=sys.stderr, leave=False)


def _evaluate(args: argparse.Namespace) -> int:
    policy = _policy_of(args)
    tz = args.tz  # naive dates are placed only in a zone the user names
    period = Period.parse(args.period, tz=tz or policy.calendar.tz)
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in _OUTPUTS:
        raise InvalidChoiceError.for_value("--out suffix", out.suffix, _OUTPUTS)
    now = _moment(args.now, "--now")  # arguments first: fail before reading any file
    history = [MonthlyEvaluation.from_json(Path(path)) for path in args.history]
    names = [n for n in ("agents", "tickets", "customers", "complaints", "callbacks",
                         "ratings", "orders") if getattr(args, n)]
    reports: list[CsvReport] = []
    bar = _steps(len(names) + 1, "evaluate")
    tables: dict[str, Any] = {}
    for name in names:
        tables[name] = _read(args, _TABLES[name], getattr(args, name), tz, reports)
        if bar is not None:
            bar.update(1)
    if args.events:
        events = _read(args, TicketEventTable, args.events, tz, reports)
        # The file was validated chunk by chunk: now the whole of it, with the tickets.
        tables["events"], whole = events.validate_against(tables["tickets"])
        if whole.issues:
            print(f"{args.events} (whole file, rows of the valid table): {whole}",
                  file=sys.stderr)
    code = _summarise(reports, args.fail_on_invalid)
    evaluation = evaluate(Dataset(**tables, period=period), period=period, policy=policy,
                          history=history, now=now)
    if bar is not None:
        bar.update(1)
        bar.close()
    _write_evaluation(evaluation, out)
    return code


def _write_evaluation(evaluation: MonthlyEvaluation, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(render_text(evaluation))
        return
    suffix = out.suffix.lower()
    if suffix == ".csv":
        from servicekpi.io.csv import write_csv

        write_csv(evaluation.scorecard.to_records(), out)
    else:
        if suffix == ".md":
            text = evaluation.to_markdown()
        elif suffix == ".html":
            text = evaluation.to_html()
        elif suffix == ".json":
            text = evaluation.to_json()
        else:
            text = render_text(evaluation)
        out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    policy = _policy_of(args)
    reports: list[CsvReport] = []
    table = _read(args, _TABLES[args.table], args.file, args.tz, reports)
    code = _summarise(reports, args.fail_on_invalid)
    if isinstance(table, TicketEventTable):  # duplicates across the file's chunks
        _, whole = table.validate_against()
        if whole.issues:
            print(f"{args.file} (whole file, rows of the valid table): {whole}",
                  file=sys.stderr)
            code = 1 if args.fail_on_invalid else code
    return code


def _schedule(args: argparse.Namespace) -> int:
    policy = _policy_of(args)
    tz = args.tz
    now = _moment(args.now, "--now")
    if now is None:  # pragma: no cover - argparse requires --now
        raise _Usage("--now is required")
    reports: list[CsvReport] = []
    tickets = _read(args, TicketTable, args.tickets, tz, reports)
    customers = _read(args, CustomerTable, args.customers, tz, reports)
    agents = _read(args, AgentTable, args.agents, tz, reports) if args.agents else None
    callbacks = _read(args, CallbackTable, args.callbacks, tz, reports) \
        if args.callbacks else None
    code = _summarise(reports, args.fail_on_invalid)
    plan = plan_followups(tickets, customers, now=now, policy=policy, agents=agents,
                          callbacks=callbacks, horizon_days=args.horizon_days)
    from servicekpi.io.csv import write_csv

    rows = [{"rule": c.rule_id, "kind": c.kind.value, "subject": c.subject.value,
             "subject_id": c.subject_id, "customer_id": c.customer_id,
             "earliest": c.earliest, "latest": c.latest, "assignee": c.assignee,
             "substitute_for": c.substitute_for, "overdue": c.overdue}
            for c in plan.contacts()]
    if args.out:
        write_csv(rows, Path(args.out))
        print(f"wrote {args.out}: {len(rows):,} contacts", file=sys.stderr)
    else:  # machines read stdout: plain CSV, ISO-8601 datetimes
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_PLAN_COLUMNS)
        for row in rows:
            writer.writerow([_cell(row[c]) for c in _PLAN_COLUMNS])
    return code


def _cell(value: object) -> object:
    """A plan cell as write_csv(raw=True) writes it: booleans in lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, datetime) else value
