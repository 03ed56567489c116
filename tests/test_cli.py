"""The command line: evaluate / validate / schedule on CSV files, exit codes, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import servicekpi
from servicekpi import MonthlyEvaluation, synth
from servicekpi.cli import main
from servicekpi.dataset import Dataset
from servicekpi.io.csv import write_csv

NAMES = ("tickets", "agents", "customers", "complaints", "callbacks", "ratings", "orders")


@pytest.fixture(scope="module")
def month() -> Dataset:
    return synth.month(seed=7, tickets=1_200, agents=10, stations=1)


@pytest.fixture()
def files(month: Dataset, tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in NAMES:
        path = tmp_path / f"{name}.csv"
        write_csv(getattr(month, name), path, raw=True)
        out[name] = path
    return out


def evaluate_args(files: dict[str, Path], *extra: str) -> list[str]:
    args = ["evaluate", "--period", "2026-10"]
    for name in NAMES:
        args += [f"--{name}", str(files[name])]
    return [*args, *extra]


class TestEvaluate:
    def test_text_report_to_stdout(self, files: dict[str, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
        assert 0 == main(evaluate_args(files))
        out, err = capsys.readouterr()
        assert out.startswith("servicekpi — monthly evaluation 2026-10 (Asia/Shanghai)")
        assert "tickets.csv: tickets: 1200 rows in, 1200 valid, 0 rejected" in err

    @pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".json", ".csv"])
    def test_outputs(self, files: dict[str, Path], tmp_path: Path, suffix: str,
                     capsys: pytest.CaptureFixture[str]) -> None:
        target = tmp_path / f"report{suffix}"
        assert 0 == main(evaluate_args(files, "--out", str(target)))
        assert f"wrote {target}" in capsys.readouterr().err
        text = target.read_text(encoding="utf-8-sig")
        if suffix == ".json":
            ev = MonthlyEvaluation.from_json(target)
            assert "2026-10" == ev.period.label
        elif suffix == ".html":
            assert text.startswith("<!DOCTYPE html>") and "<script" not in text
        elif suffix == ".csv":
            assert text.startswith('"agent_id","group"')
        else:
            assert "2026-10" in text.splitlines()[0]

    def test_history_from_json(self, files: dict[str, Path], tmp_path: Path) -> None:
        first = tmp_path / "2026-09.json"
        assert 0 == main(evaluate_args(files, "--out", str(first)))
        assert 0 == main(evaluate_args(files, "--history", str(first),
                                       "--out", str(tmp_path / "again.json")))

    def test_unknown_output_suffix_is_a_usage_error(
            self, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
        assert 2 == main(evaluate_args(files, "--out", "report.pdf"))
        err = capsys.readouterr().err
        assert err.startswith("servicekpi: error: ")
        assert "'.pdf'" in err and "Traceback" not in err

    def test_naive_now(self, files: dict[str, Path],
                       capsys: pytest.CaptureFixture[str]) -> None:
        assert 2 == main(evaluate_args(files, "--now", "2026-11-01T00:00:00"))
        assert ("servicekpi: error: --now needs an offset, e.g. 2026-11-01T00:00:00+08:00 "
                "(got '2026-11-01T00:00:00')\n") == capsys.readouterr().err


class TestValidate:
    BAD = ("ticket_id,agent_id,station_id,customer_id,service_type,channel,opened_at\n"
           "T-1,A-1,S1,C-1,repair,phone,2026-10-05T09:00:00+08:00\n"
           "T-2,A-1,S1,C-2,repiar,phone,2026-10-05T09:30:00+08:00\n")

    def test_ok_file(self, files: dict[str, Path],
                     capsys: pytest.CaptureFixture[str]) -> None:
        assert 0 == main(["validate", str(files["callbacks"]), "--table", "callbacks"])
        assert "0 rejected" in capsys.readouterr().err

    def test_rejected_rows_exit_1_only_when_asked(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "t.csv"
        path.write_text(self.BAD, encoding="utf-8")
        assert 0 == main(["validate", str(path), "--table", "tickets"])
        err = capsys.readouterr().err
        assert f"{path}:3 (T-2): service_type='repiar'" in err
        assert 1 == main(["validate", str(path), "--table", "tickets", "--fail-on-invalid",
                          "--rejected"])
        rejected = tmp_path / "t.rejected.csv"
        assert "T-2" in rejected.read_text(encoding="utf-8")

    def test_local_dates_need_an_explicit_zone(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Never assumed: without --tz a date without an offset is a rejected row."""
        path = tmp_path / "t.csv"
        path.write_text(self.BAD.splitlines()[0] + "\n"
                        "T-1,A-1,S1,C-1,repair,phone,2026-10-05T09:00:00\n", encoding="utf-8")
        assert 1 == main(["validate", str(path), "--table", "tickets", "--fail-on-invalid"])
        assert "[naive_datetime]" in capsys.readouterr().err
        assert 0 == main(["validate", str(path), "--table", "tickets", "--fail-on-invalid",
                          "--tz", "Asia/Shanghai"])

    def test_missing_file_is_one_clear_line(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert 2 == main(["validate", str(tmp_path / "nope.csv"), "--table", "tickets"])
        err = capsys.readouterr().err
        assert 1 == len(err.strip().splitlines()) and err.startswith("servicekpi: error: ")

    def test_unknown_table_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert 2 == main(["validate", "x.csv", "--table", "tikets"])
        assert "invalid choice: 'tikets'" in capsys.readouterr().err


class TestSchedule:
    def test_plan_to_stdout(self, files: dict[str, Path],
                            capsys: pytest.CaptureFixture[str]) -> None:
        assert 0 == main(["schedule", "--tickets", str(files["tickets"]),
                          "--customers", str(files["customers"]),
                          "--agents", str(files["agents"]),
                          "--callbacks", str(files["callbacks"]),
                          "--now", "2026-11-01T00:00:00+08:00"])
        lines = capsys.readouterr().out.splitlines()
        assert ("rule,kind,subject,subject_id,customer_id,earliest,latest,assignee,"
                "substitute_for,overdue") == lines[0]
        assert len(lines) > 1_000
        assert {"customer-file", "first-call"} <= {line.split(",")[0] for line in lines[1:]}
        assert {"true", "false"} >= {line.rsplit(",", 1)[1] for line in lines[1:]}

    def test_plan_to_file(self, files: dict[str, Path], tmp_path: Path) -> None:
        target = tmp_path / "plan.csv"
        assert 0 == main(["schedule", "--tickets", str(files["tickets"]),
                          "--customers", str(files["customers"]),
                          "--now", "2026-11-01T00:00:00+08:00", "--out", str(target)])
        assert target.read_text(encoding="utf-8-sig").startswith('"rule","kind"')


class TestOthers:
    def test_policy_dump_is_toml(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert 0 == main(["policy", "--dump-default"])
        assert 'extends = "none"' in capsys.readouterr().out

    def test_help_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert 0 == main(["--help"])
        assert "evaluate" in capsys.readouterr().out

    def test_no_command_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert 2 == main([])
        assert "usage:" in capsys.readouterr().err

    def test_json_history_rejects_other_text(
            self, files: dict[str, Path], tmp_path: Path,
            capsys: pytest.CaptureFixture[str]) -> None:
        other = tmp_path / "other.json"
        other.write_text(json.dumps({"format": "x"}), encoding="utf-8")
        assert 2 == main(evaluate_args(files, "--history", str(other)))
        assert "not a servicekpi evaluation" in capsys.readouterr().err


class TestEvents:
    def test_events_feed_the_sla_clocks_and_are_checked_whole(
            self, month: Dataset, files: dict[str, Path], tmp_path: Path,
            capsys: pytest.CaptureFixture[str]) -> None:
        history = synth.events(month.tickets, seed=7)
        path = tmp_path / "events.csv"
        write_csv(history, path, raw=True)
        with path.open("a", encoding="utf-8") as handle:  # the first event again
            handle.write(path.read_text(encoding="utf-8").splitlines()[1] + "\n")
        out_json = tmp_path / "with.json"
        assert 0 == main(evaluate_args(files, "--events", str(path), "--out", str(out_json)))
        err = capsys.readouterr().err
        assert "(whole file, rows of the valid table)" in err and "[duplicate]" in err
        panel = MonthlyEvaluation.from_json(out_json).panel
        assert month.period is not None
        expected = servicekpi.kpi_panel(month.tickets, period=month.period,
                                        callbacks=month.callbacks,
                                        complaints=month.complaints, orders=month.orders,
                                        events=history)
        for name in ("sla_first_response_rate", "sla_next_reply_rate",
                     "sla_resolution_rate"):
            assert panel[name].tolist() == expected[name].tolist()
        assert not np.isnan(panel["sla_next_reply_rate"]).all()

    def test_validate_checks_events_across_chunks(
            self, month: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "events.csv"
        write_csv(synth.events(month.tickets, seed=7), path, raw=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(path.read_text(encoding="utf-8").splitlines()[1] + "\n")
        assert 1 == main(["validate", str(path), "--table", "ticket_events",
                          "--fail-on-invalid"])
        assert "[duplicate]" in capsys.readouterr().err
