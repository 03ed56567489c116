"""Tests of servicekpi.io.csv: CSV files read into tables and written for people."""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dateutil import tz as dateutil_tz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekpi import (
    Channel,
    ComplaintFlag,
    ComplaintTable,
    CustomerTable,
    TicketTable,
    complaint_analysis,
    kpi_panel,
    score_agents,
    synth,
)
from servicekpi.exceptions import (
    InvalidChoiceError,
    NaiveDatetimeError,
    SchemaError,
    UnknownKeyError,
    ValidationFailedError,
)
from servicekpi.io.csv import CHUNK_ROWS, read_csv, write_csv
from servicekpi.kernel import MISSING
from servicekpi.tables import Table, ValidationReport

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

SHANGHAI_9AM = 1_791_162_000  # 2026-10-05T09:00:00+08:00
TICKET: dict[str, str] = {
    "ticket_id": "T-1", "agent_id": "A-1", "station_id": "S1", "customer_id": "C-1",
    "service_type": "repair", "channel": "phone", "opened_at": "2026-10-05T09:00:00+08:00"}
COMPLAINT: dict[str, str] = {
    "complaint_id": "K-1", "customer_id": "C-1", "station_id": "北京一站", "responsible": "王伟",
    "source": "hotline", "complaint_type": "维修延误", "received_at": "2026-10-05T09:00:00+08:00",
    "description": "客户说：等了三天，“还没修好”"}


@pytest.fixture
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], *,
               encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """A CSV file written by the stdlib, as another system would."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_records(path: Path, records: Sequence[Mapping[str, str]], **options: Any) -> Path:
    header = list(records[0])
    return write_rows(path, header, [[r[h] for h in header] for r in records], **options)


def tickets(*changes: Mapping[str, str]) -> list[dict[str, str]]:
    """One valid ticket row per change (ids T-0, T-1, …), with the change applied; a
    column that only some changes set is empty on the other rows."""
    extra = dict.fromkeys((name for change in changes for name in change
                           if name not in TICKET), "")
    return [{**TICKET, **extra, "ticket_id": f"T-{i}", **change}
            for i, change in enumerate(changes)]


def read_back(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def reference(table: type[Table], records: Sequence[Mapping[str, str]],
              **options: Any) -> tuple[Table, ValidationReport]:
    """What ``from_columns`` makes of the same cells as text: the semantics to match."""
    names = list(records[0]) if records else list(TICKET)
    return table.from_columns({name: [r[name] for r in records] for name in names},
                              **options)


def lines_by_hand(path: Path, encoding: str = "utf-8") -> list[int]:
    """The start line of every data row, one record at a time (the slow, sure way)."""
    starts = []
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        previous, header_seen = 0, False
        for record in reader:
            if record and header_seen:
                starts.append(previous + 1)
            header_seen = header_seen or bool(record)
            previous = reader.line_num
    return starts


def by_hand(cell: str, formats: Sequence[str], zone: str) -> int | None:
    """Epoch seconds of a time cell read the slow, sure way: ISO-8601 first, then each
    format in order, a naive result in *zone*; ``None`` when it is no time."""
    text = cell.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for pattern in formats:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            return None
    if moment.tzinfo is None:
        moment = dateutil_tz.resolve_imaginary(moment.replace(tzinfo=dateutil_tz.gettz(zone)))
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(seconds=1)


class TestEncodings:
    """UTF-8, UTF-8 with BOM and GB18030 files are detected and read; others fail."""

    @pytest.mark.parametrize(("encoding", "detected"), [
        ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"),
        ("gbk", "gb18030")])
    def test_chinese_text_is_detected_and_read(self, folder: Path, encoding: str,
                                               detected: str) -> None:
        path = write_records(folder / "complaints.csv", [COMPLAINT], encoding=encoding)
        table, report = read_csv(path, ComplaintTable)
        assert (detected, True) == (report.encoding, report.ok)
        assert ["客户说：等了三天，“还没修好”"] == table["description"].tolist()
        assert (("北京一站",), ("王伟",)) == (table.labels("station_id"),
                                          table.labels("responsible"))

    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
    def test_round_trip_through_write_csv(self, folder: Path, encoding: str) -> None:
        table, _ = reference(ComplaintTable, [COMPLAINT])
        for raw in (False, True):
            write_csv(table, folder / "c.csv", raw=raw, encoding=encoding)
            again, report = read_csv(folder / "c.csv", ComplaintTable)
            assert (table, True, encoding) == (again, report.ok, report.encoding)

    def test_explicit_encoding_is_used(self, folder: Path) -> None:
        path = write_records(folder / "c.csv", [COMPLAINT], encoding="gb18030")
        table, report = read_csv(path, ComplaintTable, encoding="gb18030")
        assert ("gb18030", ("王伟",)) == (report.encoding, table.labels("responsible"))

    def test_bom_read_as_plain_utf8_is_still_a_bom(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}), encoding="utf-8-sig")
        table, report = read_csv(path, TicketTable, encoding="utf-8", rejected=True)
        assert ("utf-8-sig", 1) == (report.encoding, len(table))
        assert (folder / "t.rejected.csv").read_bytes().startswith(codecs.BOM_UTF8)

    def test_undecodable_file_names_the_file_and_the_encodings(self, folder: Path) -> None:
        path = folder / "t.csv"
        path.write_bytes(b"ticket_id\nT-1\xff\xfe\n")
        message = (f"{path}: not UTF-8 (with or without BOM) nor GB18030 (utf-8: byte "
                   f"b'\\xff' at offset 13 (line 2): invalid start byte; gb18030: byte "
                   f"b'\\xff' at offset 13 (line 2): illegal multibyte sequence); pass "
                   f"encoding= if you know it")
        with pytest.raises(SchemaError, match=re.escape(message)):
            read_csv(path, TicketTable)

    def test_late_bad_byte_is_found_at_its_offset(self, folder: Path) -> None:
        path = folder / "t.csv"
        path.write_bytes(b"x\n" * (3 << 19) + b"\x80")
        with pytest.raises(SchemaError, match=re.escape(
                "(utf-8: byte b'\\x80' at offset 3145728 (line 1572865): invalid start byte; "
                "gb18030: byte b'\\x80' at offset 3145728 (line 1572865): incomplete "
                "multibyte sequence)")):
            read_csv(path, TicketTable)

    def test_explicit_encoding_that_does_not_fit(self, folder: Path) -> None:
        path = folder / "t.csv"
        path.write_bytes(",".join(TICKET).encode() + b"\nT-1\xff\n")
        with pytest.raises(SchemaError, match=re.escape(
                f"{path}: cannot decode as 'utf-8': byte b'\\xff' at offset 76 (line 2): "
                f"invalid start byte")):
            read_csv(path, TicketTable, encoding="utf-8")

    def test_a_bad_byte_after_a_bom_has_its_own_line(self, folder: Path) -> None:
        """The decoder drops the BOM before it fails: the offset counts it anyway."""
        path = folder / "t.csv"
        head = codecs.BOM_UTF8 + ",".join(TICKET).encode() + b"\n"
        path.write_bytes(head + b"T-1\nT-2\n" + "T-中".encode("gb18030") + b"\n")
        with pytest.raises(SchemaError, match=re.escape(
                f"{path}: cannot decode as 'utf-8-sig': byte b'\\xd6' at offset "
                f"{len(head) + 10} (line 4): invalid continuation byte")):
            read_csv(path, TicketTable)

    def test_unknown_encoding(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(ValueError, match=re.escape("unknown encoding 'klingon'")):
            read_csv(path, TicketTable, encoding="klingon")


class TestDates:
    """ISO-8601 with an offset, naive ISO and local formats read in ``default_tz``."""

    @pytest.mark.parametrize(("text", "formats", "zone", "expected"), [
        ("2026-10-05T09:00:00+08:00", (), None, SHANGHAI_9AM),
        ("2026-10-05 09:00:00+08:00", (), None, SHANGHAI_9AM),
        ("2026-10-05T01:00:00Z", (), None, SHANGHAI_9AM),
        ("2026-10-05T01:00:00.999+00:00", (), None, SHANGHAI_9AM),
        ("2026-10-04T20:00:00-05:00", (), None, SHANGHAI_9AM),
        ("2026-10-05 09:00:00", (), "Asia/Shanghai", SHANGHAI_9AM),
        ("2026-10-05T09:00", (), "Asia/Shanghai", SHANGHAI_9AM),
        ("2026/10/05 09:00", ("%Y/%m/%d %H:%M",), "Asia/Shanghai", SHANGHAI_9AM),
        ("2026/10/5 9:00", ("%Y/%m/%d %H:%M",), "Asia/Shanghai", SHANGHAI_9AM),
        ("05.10.2026 03:00", ("%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M"), "Europe/Berlin",
         SHANGHAI_9AM),
        ("05.10.2026 03:00 +0200", ("%d.%m.%Y %H:%M %z",), None, SHANGHAI_9AM),
        (" 2026-10-05 09:00:00 ", (), "Asia/Shanghai", SHANGHAI_9AM),
    ])
    def test_formats(self, folder: Path, text: str, formats: tuple[str, ...],
                     zone: str | None, expected: int) -> None:
        path = write_records(folder / "t.csv", tickets({"opened_at": text}))
        table, report = read_csv(path, TicketTable, date_formats=formats, default_tz=zone)
        assert ([expected], True) == (table["opened_at"].tolist(), report.ok)

    @pytest.mark.parametrize("text", ["2026-10-05 09:00:00", "2026-10-05T09:00",
                                      "2026/10/05 09:00"])
    def test_naive_date_without_zone_is_rejected(self, folder: Path, text: str) -> None:
        path = write_records(folder / "t.csv", tickets({"opened_at": text}))
        table, report = read_csv(path, TicketTable, date_formats=["%Y/%m/%d %H:%M"])
        issue = report.issues[0]
        assert (0, 1) == (len(table), report.rows_rejected)
        assert ("opened_at", text, "naive_datetime",
                "a timezone-aware datetime (or pass default_tz)") == \
            (issue.field, issue.value, issue.code, issue.rule)

    def test_unreadable_date_names_the_formats(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({"opened_at": "yesterday"}))
        _, report = read_csv(path, TicketTable, date_formats=["%Y/%m/%d %H:%M"])
        assert ["ISO-8601 text with a UTC offset, or text in one of the date_formats "
                "'%Y/%m/%d %H:%M'"] == [i.rule for i in report.issues]
        _, report = read_csv(path, TicketTable)
        assert ["an aware datetime or ISO-8601 text with a UTC offset"] == \
            [i.rule for i in report.issues]

    @pytest.mark.parametrize("text", [
        "2026-02-29T09:00:00+08:00", "2026-13-01 09:00:00", "2026-10-05T24:00:00",
        "2026-10-05T09:60:00", "2026-10-05T09:00:60", "2026-10-05T09:00:00+24:00",
        "0000-10-05T09:00:00+00:00", "2026-10-05x09:00:00+08:00", "2026-1O-05T09:00:00",
        "٢٠٢٦-10-05T09:00:00+00:00", "2024-02-29T09:00:00+08:00", "1900-02-29 00:00:00",
        "2000-02-29 00:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59",
        "2026-10-05T09:00:00-00:00", "2026-10-05T09:00:00+08:00 ", "2026-10-05\t09:00:00",
        "2026-10-05 09:00:00\x00", "2026-10-05T09:00:00+08:00\x00", "2026-10-05 09:00:0",
        "2026-10-05 09:00:00+0800", "2026-10-05T09:00:00.5+08:00"])
    @pytest.mark.parametrize("zone", [None, "Asia/Shanghai"])
    def test_same_as_from_columns(self, folder: Path, text: str, zone: str | None) -> None:
        records = tickets({"opened_at": text}, {"first_response_at": text})
        self.assert_same(write_records(folder / "t.csv", records), records, zone)

    @staticmethod
    def assert_same(path: Path, records: Sequence[Mapping[str, str]],
                    zone: str | None) -> None:
        expected, expected_report = reference(TicketTable, records, default_tz=zone)
        table, report = read_csv(path, TicketTable, default_tz=zone)
        assert (expected, expected_report) == (table, report.validation)

    @PROPERTY
    @given(moments=st.lists(st.datetimes(min_value=datetime(1900, 1, 1),
                                         max_value=datetime(2100, 12, 31)),
                            min_size=1, max_size=12),
           zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                 "Asia/Shanghai", "America/Santiago", "UTC"]),
           style=st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                                  "%Y-%m-%dT%H:%M:%S+05:30", "%Y-%m-%d %H:%M:%S-11:00",
                                  "%Y-%m-%d %H:%M"]))
    def test_wall_clock_times_as_from_columns_reads_them(
            self, moments: list[datetime], zone: str, style: str) -> None:
        records = tickets(*({"opened_at": m.strftime(style)} for m in moments))
        with tempfile.TemporaryDirectory() as name:
            path = write_records(Path(name, "t.csv"), records)
            self.assert_same(path, records, zone)

    @pytest.mark.parametrize(("text", "zone"), [
        ("2026-10-25 02:30:00", "Europe/Berlin"),  # repeated hour: the first
        ("2026-03-29 02:30:00", "Europe/Berlin"),  # skipped hour: moved forward
        ("2026-11-01 01:59:59", "America/New_York"),
        ("2026-04-05 02:15:00", "Australia/Lord_Howe"),  # a 30-minute shift
        ("1900-01-01 00:00:00", "Asia/Shanghai"),  # local mean time, +08:05:43
    ])
    def test_transitions(self, folder: Path, text: str, zone: str) -> None:
        records = tickets({"opened_at": text}, {"opened_at": text[:11] + "00:00:00"},
                          {"opened_at": text[:11] + "23:59:59"})
        path = write_records(folder / "t.csv", records)
        self.assert_same(path, records, zone)

    @pytest.mark.parametrize(("cells", "formats"), [
        (["2026-05-10 09:00", "2026-13-10 09:00"], ["%Y-%d-%m %H:%M"]),  # ISO goes first
        (["2026年10月05日 09:05", "2026年10月5日 9:05", "2026年02月30日 09:05"],
         ["%Y年%m月%d日 %H:%M"]),
        (["20261005 0905", "20261305 0905", "2026100509"], ["%Y%m%d %H%M", "%Y%m%d%H"]),
        (["05.10.2026", "05.10.2026 09:05", "5.10.2026", "31.02.2026"],
         ["%d.%m.%Y", "%d.%m.%Y %H:%M"]),
        (["2026/10/05 09:05:60", "2026/10/05  09:05:00", "2026/10/05t09:05:00",
          "2026/10/05T09:05:00"], ["%Y/%m/%dT%H:%M:%S"]),
        (["10/05/2026 09:05", "0000/10/05 09:05"], ["%m/%d/%Y %H:%M", "%Y/%m/%d %H:%M"]),
    ])
    def test_date_formats_as_strptime_reads_them(self, folder: Path, cells: list[str],
                                                 formats: list[str]) -> None:
        records = tickets(*({"opened_at": cell} for cell in cells))
        path = write_records(folder / "t.csv", records)
        table, report = read_csv(path, TicketTable, date_formats=formats,
                                 default_tz="Europe/Berlin", rejected=True)
        expected = [by_hand(cell, formats, "Europe/Berlin") for cell in cells]
        assert [e for e in expected if e is not None] == table["opened_at"].tolist()
        assert [i for i, e in enumerate(expected) if e is None] == list(report.rejected_rows)

    @PROPERTY
    @given(moments=st.lists(st.datetimes(min_value=datetime(1, 1, 1),
                                         max_value=datetime(9999, 12, 31)),
                            min_size=1, max_size=12),
           pattern=st.sampled_from(["%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M:%S", "%Y%m%d",
                                    "%Y-%d-%m %H:%M", "%Y年%m月%d日", "%m/%d/%Y"]),
           zone=st.sampled_from(["Europe/Berlin", "Asia/Shanghai"]))
    def test_fixed_width_formats_as_strptime(self, moments: list[datetime], pattern: str,
                                             zone: str) -> None:
        cells = [m.strftime(pattern.replace("%Y", f"{m.year:04d}")) for m in moments]
        records = tickets(*({"opened_at": cell} for cell in cells))
        with tempfile.TemporaryDirectory() as name:
            path = write_records(Path(name, "t.csv"), records)
            table, report = read_csv(path, TicketTable, date_formats=[pattern],
                                     default_tz=zone)
        expected = [by_hand(cell, [pattern], zone) for cell in cells]
        assert [e for e in expected if e is not None] == table["opened_at"].tolist()

    def test_default_tz_must_be_a_zone(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        for zone in ("Mars/Base", ""):
            with pytest.raises(SchemaError, match=re.escape(
                    f"unknown time zone {zone!r} for 'default_tz'")):
                read_csv(path, TicketTable, default_tz=zone)

    def test_date_formats_must_be_patterns(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(TypeError, match=re.escape(
                "'date_formats' must be a sequence of strptime patterns (got '%Y')")):
            read_csv(path, TicketTable, date_formats="%Y")


CHINESE_HEADERS = {"工单号": "ticket_id", "坐席": "agent_id", "网点": "station_id",
                   "客户": "customer_id", "服务类型": "service_type", "渠道": "channel",
                   "受理时间": "opened_at", "满意度": "satisfaction"}


class TestHeaders:
    """Headers are matched to the schema, renamed with ``columns=`` or refused."""

    def test_chinese_headers_renamed(self, folder: Path) -> None:
        header = list(CHINESE_HEADERS)
        path = write_rows(folder / "导出.csv", header, [
            ["T-1", "A-1", "S1", "C-1", "repair", "phone", "2026/10/05 09:00", "5"],
            ["T-2", "A-1", "S1", "C-2", "repair", "phone", "2026/10/05 09:00", "7"]],
            encoding="gb18030")
        table, report = read_csv(path, TicketTable, columns=CHINESE_HEADERS,
                                 date_formats=["%Y/%m/%d %H:%M"], default_tz="Asia/Shanghai",
                                 rejected=True)
        assert (("T-1",), [5.0], ["out_of_range"]) == (
            table.labels("ticket_id"), table["satisfaction"].tolist(),
            [i.code for i in report.issues])
        rows = read_back(folder / "导出.rejected.csv", encoding="gb18030")
        assert [[*header, "_line", "_field", "_rule", "_code"],
                ["T-2", "A-1", "S1", "C-2", "repair", "phone", "2026/10/05 09:00", "7", "3",
                 "满意度", "a number in [1, 5]", "out_of_range"]] == rows

    def test_unknown_headers_are_named_with_a_hint(self, folder: Path) -> None:
        path = write_rows(folder / "t.csv", ["ticket_idd", *list(TICKET)[1:], "备注"],
                          [["T-1", *list(TICKET.values())[1:], "x"]])
        message = (f"{path}: tickets: unknown column 'ticket_idd'. Did you mean "
                   f"'ticket_id'?; unknown column '备注' (rename headers with columns=, or "
                   f"pass ignore_unknown=True)")
        with pytest.raises(SchemaError, match=re.escape(message)):
            read_csv(path, TicketTable)

    def test_ignore_unknown_keeps_them_in_the_rejected_file(self, folder: Path) -> None:
        path = write_rows(folder / "t.csv", [*TICKET, "备注"],
                          [[*TICKET.values(), "note"],
                           [*tickets({"channel": "fax"})[0].values(), "传真"]])
        table, report = read_csv(path, TicketTable, ignore_unknown=True,
                                 rejected=folder / "bad.csv")
        assert (1, 1) == (report.rows_valid, report.rows_rejected)
        assert [*tickets({"channel": "fax"})[0].values(), "传真", "3", "channel",
                "one of: phone, online, email, walk_in, on_site, letter",
                "unknown_choice"] == read_back(folder / "bad.csv")[1]

    def test_headers_are_trimmed(self, folder: Path) -> None:
        path = write_rows(folder / "t.csv", [f" {h} " for h in TICKET], [list(TICKET.values())])
        table, report = read_csv(path, TicketTable)
        assert (1, True) == (len(table), report.ok)

    def test_a_column_given_twice(self, folder: Path) -> None:
        path = write_rows(folder / "t.csv", [*TICKET, "工单号"], [[*TICKET.values(), "T-9"]])
        with pytest.raises(SchemaError, match=re.escape(
                f"{path}: tickets: column 'ticket_id' appears twice (headers 'ticket_id' and "
                f"'工单号')")):
            read_csv(path, TicketTable, columns={"工单号": "ticket_id"})

    def test_missing_required_columns(self, folder: Path) -> None:
        path = write_rows(folder / "t.csv", list(TICKET)[:-1], [list(TICKET.values())[:-1]])
        with pytest.raises(SchemaError, match=re.escape(
                f"{path}: tickets: missing required columns ['opened_at']")):
            read_csv(path, TicketTable)

    def test_mapping_to_an_unknown_column(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(SchemaError, match=re.escape(
                "tickets: columns= maps '工单号' to unknown column 'ticket_idd'. Did you mean "
                "'ticket_id'?")):
            read_csv(path, TicketTable, columns={"工单号": "ticket_idd"})

    @pytest.mark.parametrize("content", ["", "\n\r\n\n"])
    def test_no_header(self, folder: Path, content: str) -> None:
        path = folder / "t.csv"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(SchemaError, match=re.escape(
                f"{path}: no header row (the file is empty)")):
            read_csv(path, TicketTable)

    def test_header_only(self, folder: Path) -> None:
        path = write_rows(folder / "t.csv", list(TICKET), [])
        table, report = read_csv(path, TicketTable, rejected=True)
        assert (0, 0, True) == (len(table), report.rows_in, report.ok)
        assert TicketTable.from_records([]) == table

    def test_delimiter(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}, {}), delimiter=";")
        table, report = read_csv(path, TicketTable, delimiter=";")
        assert (2, True) == (len(table), report.ok)


class TestRows:
    """Cells become values, bad rows are reported with their line, nothing is lost."""

    def test_empty_cells_are_missing(self, folder: Path) -> None:
        records = tickets({"satisfaction": "", "priority": "", "reopen_count": "",
                           "rework": "", "resolved_at": "", "team_id": ""})
        table, report = read_csv(write_records(folder / "t.csv", records), TicketTable)
        assert report.ok
        assert (True, "normal", 0, False, MISSING, ()) == (
            math.isnan(table["satisfaction"][0]), table.decode("priority")[0].value,
            table["reopen_count"][0], table["rework"][0], table["resolved_at"][0],
            table.labels("team_id"))

    def test_empty_required_cell_is_rejected(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}, {"agent_id": ""}))
        _, report = read_csv(path, TicketTable)
        assert [(1, "T-1", "agent_id", "", "required")] == [
            (i.row, i.key, i.field, i.value, i.code) for i in report.issues]

    def test_values_are_the_cells_as_written(self, folder: Path) -> None:
        records = tickets({"satisfaction": "7", "reopen_count": "-1", "rework": "maybe",
                           "agent_id": " A-1", "answers": "1.5", "revenue": "abc"})
        _, report = read_csv(write_records(folder / "t.csv", records), TicketTable)
        assert {("agent_id", " A-1"), ("answers", "1.5"), ("reopen_count", "-1"),
                ("revenue", "abc"), ("rework", "maybe"), ("satisfaction", "7")} == \
            {(i.field, i.value) for i in report.issues}

    def test_rows_of_the_wrong_length(self, folder: Path) -> None:
        path = folder / "t.csv"
        path.write_text(",".join(TICKET) + "\n" + ",".join(TICKET.values()) + "\n"
                        "T-2,A-1\n" + ",".join(tickets({}, {})[1].values()) + ",extra\n",
                        encoding="utf-8")
        table, report = read_csv(path, TicketTable, rejected=True)
        assert (3, 1) == (report.rows_in, report.rows_valid)
        assert [(1, "T-2", "_cells", 2, "as many cells as the header (7)", "cell_count"),
                (2, "T-1", "_cells", 8, "as many cells as the header (7)", "cell_count")] == \
            [(i.row, i.key, i.field, i.value, i.rule, i.code) for i in report.issues]
        rows = read_back(folder / "t.rejected.csv")
        assert [["T-2", "A-1", "", "", "", "", "", "3", "_cells",
                 "as many cells as the header (7)", "cell_count"],
                [*tickets({}, {})[1].values(), "4", "_cells",
                 "as many cells as the header (7)", "cell_count"]] == rows[1:]

    def test_several_issues_on_one_row(self, folder: Path) -> None:
        records = tickets({"satisfaction": "9", "channel": "fax"})
        path = write_records(folder / "t.csv", records)
        _, report = read_csv(path, TicketTable, rejected=True)
        assert ["channel; satisfaction", "one of: phone, online, email, walk_in, on_site, "
                "letter; a number in [1, 5]", "unknown_choice; out_of_range"] == \
            read_back(folder / "t.rejected.csv")[1][-3:]
        assert (1, 2) == (report.rows_rejected, len(report.issues))

    def test_report_shows_file_line_key_field_value_rule_code(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}, {"satisfaction": "7"}))
        _, report = read_csv(path, TicketTable, rejected=True)
        assert (f"{path}: tickets: 2 rows in, 1 valid, 1 rejected\n"
                f"  {path}:3 (T-1): satisfaction='7': a number in [1, 5] [out_of_range]\n"
                f"  rejected rows written to {folder / 't.rejected.csv'}") == str(report)
        assert [{"file": str(path), "line": 3, "row": 1, "key": "T-1", "field": "satisfaction",
                 "value": "7", "rule": "a number in [1, 5]", "code": "out_of_range"}] == \
            report.to_records()

    def test_report_answers_like_a_validation_report(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}, {"satisfaction": "7"}, {}))
        _, report = read_csv(path, TicketTable)
        v = report.validation
        assert (v.table, v.rows_in, v.rows_valid, v.rows_rejected, v.issues, v.ok,
                v.rejected_rows, v.counts()) == (
            report.table, report.rows_in, report.rows_valid, report.rows_rejected,
            report.issues, report.ok, report.rejected_rows, report.counts())
        assert "tickets" == report.table and (1,) == report.rejected_rows

    def test_line_of_an_unknown_row(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}, {}))
        _, report = read_csv(path, TicketTable)
        for row in (2, -1, True):
            with pytest.raises(UnknownKeyError, match=re.escape(
                    f"{path}: no data row {row!r} (the file has 2)")):
                report.line_of(row)

    def test_blank_lines_and_line_breaks_in_cells(self, folder: Path) -> None:
        header = ",".join(COMPLAINT)
        row = ",".join(v for k, v in COMPLAINT.items() if k != "description")
        path = folder / "c.csv"
        path.write_text(f"\n\n{header}\r\n{row},\"one\r\ntwo\"\r\n\r\n"
                        f"{row.replace('K-1', 'K-2')},plain\n"
                        f"{row.replace('K-1', 'K-3')},\"a\rb\nc\"\n\n"
                        f"{row.replace('K-1', 'K-4')},last", encoding="utf-8", newline="")
        table, report = read_csv(path, ComplaintTable)
        assert (4, True) == (report.rows_in, report.ok)
        assert [4, 7, 8, 12] == [report.line_of(r) for r in range(4)] == lines_by_hand(path)
        assert ["one\r\ntwo", "plain", "a\rb\nc", "last"] == table["description"].tolist()

    @PROPERTY
    @given(texts=st.lists(st.text(alphabet="ab,\"\r\n 中", max_size=6), min_size=1,
                          max_size=25),
           blanks=st.lists(st.integers(0, 2), min_size=25, max_size=25),
           chunk_rows=st.integers(1, 30))
    def test_lines_match_a_record_by_record_count(self, texts: list[str], blanks: list[int],
                                                  chunk_rows: int) -> None:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(list(COMPLAINT))
        for i, text in enumerate(texts):
            out.write("\r\n" * blanks[i])
            writer.writerow([*list(COMPLAINT.values())[:-1], text])
        with tempfile.TemporaryDirectory() as name:
            path = Path(name, "c.csv")
            path.write_text(out.getvalue(), encoding="utf-8", newline="")
            table, report = read_csv(path, ComplaintTable, chunk_rows=chunk_rows)
            assert lines_by_hand(path) == [report.line_of(r) for r in range(report.rows_in)]
        assert len(texts) == report.rows_in

    def test_malformed_csv(self, folder: Path) -> None:
        path = folder / "t.csv"
        path.write_text(",".join(TICKET) + "\n\"" + "x" * 200_000 + "\"\n", encoding="utf-8")
        with pytest.raises(SchemaError, match=re.escape(
                f"{path}:2: not valid CSV: field larger than field limit (131072)")):
            read_csv(path, TicketTable)


class TestRejectedFile:
    """Every rejected row, with all its original cells and why, in the input's encoding."""

    def test_beside_the_input(self, folder: Path) -> None:
        records = tickets({}, {"channel": "fax"}, {"ticket_id": "T-0"})
        path = write_records(folder / "tickets.csv", records, encoding="utf-8-sig")
        _, report = read_csv(path, TicketTable, rejected=True)
        target = folder / "tickets.rejected.csv"
        assert str(target) == report.rejected_path
        assert target.read_bytes().startswith(codecs.BOM_UTF8)
        assert [[*TICKET, "_line", "_field", "_rule", "_code"],
                [*records[1].values(), "3", "channel",
                 "one of: phone, online, email, walk_in, on_site, letter", "unknown_choice"],
                [*records[2].values(), "4", "ticket_id", "unique: seen on an earlier row",
                 "unique"]] == read_back(target)

    def test_written_even_when_nothing_is_rejected(self, folder: Path) -> None:
        target = folder / "old.csv"
        target.write_text("stale", encoding="utf-8")
        path = write_records(folder / "t.csv", tickets({}))
        _, report = read_csv(path, TicketTable, rejected=target)
        assert [[*TICKET, "_line", "_field", "_rule", "_code"]] == read_back(target)
        assert report.ok

    def test_no_bom_when_the_input_had_none(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({"channel": "fax"}))
        read_csv(path, TicketTable, rejected=True)
        assert not (folder / "t.rejected.csv").read_bytes().startswith(codecs.BOM_UTF8)

    def test_not_the_input_itself(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(ValueError, match=re.escape(
                f"'rejected' must not be the input file itself (got {str(path)!r})")):
            read_csv(path, TicketTable, rejected=str(path))

    def test_written_before_raising(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}, {"satisfaction": "7"}))
        with pytest.raises(ValidationFailedError, match=re.escape(
                f"{path}: tickets: 2 rows in, 1 valid, 1 rejected\n  {path}:3 (T-1): "
                f"satisfaction='7': a number in [1, 5] [out_of_range]")):
            read_csv(path, TicketTable, on_invalid="raise", rejected=True)
        assert 2 == len(read_back(folder / "t.rejected.csv"))

    def test_on_invalid_raise_passes_good_files(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        assert 1 == len(read_csv(path, TicketTable, on_invalid="raise")[0])


# Ticket rows for the properties: each field valid or broken in a few ways.
CELLS: dict[str, list[str]] = {
    "ticket_id": ["T-1", "T-2", "T-3", "T-4", "", " T-5"],
    "agent_id": ["A-1", "A-2", "", "A-3 "],
    "station_id": ["S1", "北京"],
    "customer_id": ["C-1", "C-2", "客户"],
    "service_type": ["repair", "Repair", "consultation", "repiar", ""],
    "channel": ["phone", "online", "fax", " phone "],
    "opened_at": ["2026-10-05T09:00:00+08:00", "2026-10-05 09:00:00", "2026/10/05 09:00",
                  "2026-02-30T09:00:00+08:00", "", "2026-10-05T09:00:00Z",
                  "2026-10-05 09:00:00\x00"],
    "resolved_at": ["", "2026-10-06T09:00:00+08:00", "2026-10-01T09:00:00+08:00"],
    "first_contact_resolved": ["", "true", "FALSE", "yes", "2"],
    "reopen_count": ["", "0", "3", "-1", "1.0", "x"],
    "satisfaction": ["", "5", "4.5", "0", "nan", "1e1", " 3 "],
    "revenue": ["", "100.50", "-1", "1_000", "Infinity"],
}


@st.composite
def ticket_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    n = draw(st.integers(0, 30))
    return [{name: draw(st.sampled_from(options)) for name, options in CELLS.items()}
            for _ in range(n)]


class TestChunks:
    """Streaming in chunks changes nothing: same table, report, lines and rejected file."""

    def read(self, path: Path, chunk_rows: int, **options: Any) -> tuple[
            Table, ValidationReport, list[int], list[list[str]]]:
        """Table, validation, line of every row and rejected file of one read."""
        target = path.with_name(f"rejected-{chunk_rows}.csv")
        table, report = read_csv(path, TicketTable, chunk_rows=chunk_rows, rejected=target,
                                 **options)
        return (table, report.validation, [report.line_of(r) for r in range(report.rows_in)],
                read_back(target, encoding="utf-8"))

    def test_default_chunk_size(self) -> None:
        assert 5_000 == CHUNK_ROWS

    def test_duplicates_across_chunks(self, folder: Path) -> None:
        records = tickets({"ticket_id": "T-1", "channel": "fax"}, {"ticket_id": "T-1"},
                          {"ticket_id": "T-2"}, {"ticket_id": "T-2"}, {"ticket_id": "T-1"})
        path = write_records(folder / "t.csv", records)
        results = [self.read(path, n) for n in (1, 2, 3, 100)]
        table, report, _, _ = results[-1]
        assert ["T-2"] == list(table.labels("ticket_id"))
        assert [(0, "unknown_choice"), (1, "unique"), (3, "unique"), (4, "unique")] == \
            [(i.row, i.code) for i in report.issues]
        assert [results[-1]] * 4 == results

    def test_labels_only_of_kept_rows(self, folder: Path) -> None:
        records = tickets({"agent_id": "A-9"}, {"ticket_id": "T-0", "agent_id": "A-8"})
        path = write_records(folder / "t.csv", records)
        assert ("A-9",) == self.read(path, 1)[0].labels("agent_id")

    @PROPERTY
    @given(records=ticket_rows(), chunk_rows=st.integers(1, 8),
           zone=st.sampled_from([None, "Asia/Shanghai"]))
    def test_rows_in_is_valid_plus_rejected(self, records: list[dict[str, str]],
                                            chunk_rows: int, zone: str | None) -> None:
        with tempfile.TemporaryDirectory() as name:
            path = Path(name, "t.csv")
            if records:
                write_records(path, records)
            else:
                write_rows(path, list(CELLS), [])
            chunked = self.read(path, chunk_rows, default_tz=zone)
            whole = self.read(path, 10_000, default_tz=zone)
        table, report, lines, rejected = chunked
        assert len(records) == report.rows_in == report.rows_valid + report.rows_rejected
        assert len(table) == report.rows_valid
        # The rejected file holds exactly the rejected rows, cells as written.
        assert [*CELLS, "_line", "_field", "_rule", "_code"] == rejected[0]
        assert [[*records[row].values(), str(row + 2)] for row in report.rejected_rows] == \
            [line[:len(CELLS) + 1] for line in rejected[1:]]
        # The same as one chunk, and as from_columns given the same text.
        assert whole == chunked
        if records:
            expected, expected_report = reference(TicketTable, records, default_tz=zone)
            assert (expected, expected_report) == (table, report)


class TestArguments:
    """Arguments are checked before the file is read."""

    def test_table_class(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(TypeError, match=re.escape(
                "'table' must be a table class such as TicketTable (got 'tickets')")):
            read_csv(path, "tickets")  # type: ignore[arg-type]

    def test_on_invalid(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(InvalidChoiceError, match=re.escape(
                "unknown on_invalid 'rase'. Did you mean 'raise'?")):
            read_csv(path, TicketTable, on_invalid="rase")  # type: ignore[arg-type]

    @pytest.mark.parametrize("chunk_rows", [0, True, 1.5])
    def test_chunk_rows(self, folder: Path, chunk_rows: Any) -> None:
        path = write_records(folder / "t.csv", tickets({}))
        with pytest.raises(ValueError, match=re.escape(
                f"'chunk_rows' must be an integer >= 1 (got {chunk_rows!r})")):
            read_csv(path, TicketTable, chunk_rows=chunk_rows)


def cells_of(path: Path, *, encoding: str = "utf-8-sig") -> list[list[str]]:
    return read_back(path, encoding=encoding)


class TestWriteGuard:
    """Text that a spreadsheet would run is guarded for people, never for machines."""

    @pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx",
                                      "=HYPERLINK(\"http://x\",\"y\")"])
    def test_formula_text_is_guarded(self, folder: Path, text: str) -> None:
        write_csv([{"note": text}], folder / "o.csv")
        assert [["note"], ["'" + text]] == cells_of(folder / "o.csv")

    @pytest.mark.parametrize("text", ["=1+1", "-1", "@SUM(A1)", "\tx"])
    def test_raw_is_not_guarded(self, folder: Path, text: str) -> None:
        write_csv([{"note": text}], folder / "o.csv", raw=True)
        assert [["note"], [text]] == cells_of(folder / "o.csv", encoding="utf-8")

    @pytest.mark.parametrize(("value", "cell"), [
        (-1.5, "-1.5"), (-3, "-3"), (Decimal("-2.50"), "-2.50"), (np.float64(-1.5), "-1.5"),
        (np.int64(-2), "-2"), (np.float32(0.5), "0.5"), (1e20, "1e+20")])
    def test_numbers_stay_numbers(self, folder: Path, value: Any, cell: str) -> None:
        write_csv([{"delta": value}], folder / "o.csv")
        assert [["delta"], [cell]] == cells_of(folder / "o.csv")

    @pytest.mark.parametrize("text", ["1+1", "a=b", "", "'quoted", "中文=1"])
    def test_plain_text_is_left_alone(self, folder: Path, text: str) -> None:
        write_csv([{"note": text}], folder / "o.csv")
        assert [["note"], [text]] == cells_of(folder / "o.csv")

    def test_headers_and_ids_are_guarded(self, folder: Path) -> None:
        write_csv({"=cmd": ["-x"]}, folder / "o.csv")
        assert [["'=cmd"], ["'-x"]] == cells_of(folder / "o.csv")
        table, _ = reference(ComplaintTable, [{**COMPLAINT, "responsible": "=cmd|' /C calc'!A0",
                                               "description": "+danger"}])
        write_csv(table, folder / "c.csv")
        row = dict(zip(*cells_of(folder / "c.csv"), strict=True))
        assert ("'=cmd|' /C calc'!A0", "'+danger") == (row["responsible"], row["description"])


class TestWriteFormat:
    """For people: UTF-8 with BOM, every cell quoted; for machines: plain UTF-8."""

    def test_excel_style(self, folder: Path) -> None:
        write_csv([{"a": "x", "b": 1}], folder / "o.csv")
        assert codecs.BOM_UTF8 + b'"a","b"\r\n"x","1"\r\n' == (folder / "o.csv").read_bytes()

    def test_raw(self, folder: Path) -> None:
        write_csv([{"a": "x,y", "b": 1}], folder / "o.csv", raw=True)
        assert b'a,b\r\n"x,y",1\r\n' == (folder / "o.csv").read_bytes()

    def test_encoding(self, folder: Path) -> None:
        write_csv([{"名字": "王伟"}], folder / "o.csv", encoding="gb18030")
        assert '"名字"\r\n"王伟"\r\n'.encode("gb18030") == (folder / "o.csv").read_bytes()

    @pytest.mark.parametrize(("value", "cell"), [
        (None, ""), (math.nan, ""), (np.nan, ""), (Decimal("NaN"), ""), (True, "true"),
        (np.bool_(False), "false"), (Channel.PHONE, "phone"),
        (datetime(2026, 10, 5, 9, tzinfo=timezone(timedelta(hours=8))),
         "2026-10-05T09:00:00+08:00"),
        (np.datetime64("2026-10-05T01:00:00"), "2026-10-05T01:00:00+00:00"),
        (np.datetime64("NaT"), ""), (date(2026, 10, 5), "2026-10-05"),
        (frozenset({ComplaintFlag.SAFETY, ComplaintFlag.MEDIA}), "media,safety"),
        (["repeat", "severe"], "repeat; severe"), (("a",), "a")])
    def test_cells(self, folder: Path, value: Any, cell: str) -> None:
        write_csv({"v": [value]}, folder / "o.csv")
        assert [["v"], [cell]] == cells_of(folder / "o.csv")

    def test_naive_datetimes_are_refused(self, folder: Path) -> None:
        with pytest.raises(NaiveDatetimeError, match=re.escape(
                "'opened_at' must be timezone-aware (got datetime.datetime(2026, 10, 5, 9, 0))")):
            write_csv([{"opened_at": datetime(2026, 10, 5, 9)}], folder / "o.csv")
        assert not (folder / "o.csv").exists()

    def test_records_with_different_keys(self, folder: Path) -> None:
        assert 2 == write_csv(iter([{"a": 1}, {"b": 2, "a": 3}]), folder / "o.csv")
        assert [["a", "b"], ["1", ""], ["3", "2"]] == cells_of(folder / "o.csv")

    def test_columns_of_unequal_length(self, folder: Path) -> None:
        with pytest.raises(SchemaError, match=re.escape(
                "columns differ in length {'a': 1, 'b': 2}")):
            write_csv({"a": [1], "b": [1, 2]}, folder / "o.csv")

    @pytest.mark.parametrize(("data", "message"), [
        (3, "write_csv writes a table, a KpiPanel, a mapping of columns, records (mappings) or "
            "an object with to_records() (got int)"),
        ("text", "write_csv writes a table, a KpiPanel, a mapping of columns, records "
                 "(mappings) or an object with to_records() (got str)"),
        ([1, 2], "records must be mappings (got int)")])
    def test_unsupported(self, folder: Path, data: Any, message: str) -> None:
        with pytest.raises(TypeError, match=re.escape(message)):
            write_csv(data, folder / "o.csv")


@pytest.fixture(scope="module")
def data() -> Any:
    return synth.month(seed=5, tickets=400, agents=10, stations=1)


class TestWriteResults:
    """Tables read back equal; panels, scorecards and reports are written as rows."""

    @pytest.mark.parametrize("name", ["tickets", "complaints", "callbacks", "ratings",
                                      "orders", "customers", "agents"])
    @pytest.mark.parametrize("raw", [False, True])
    def test_tables_round_trip(self, data: Any, name: str, raw: bool) -> None:
        table = getattr(data, name)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder, f"{name}.csv")
            assert len(table) == write_csv(table, path, raw=raw)
            again, report = read_csv(path, type(table), chunk_rows=97)
        # Equal values; ids read from text get sorted labels, synth's may not be sorted.
        assert (table.to_columns(), True) == (again.to_columns(), report.ok)

    def test_panel(self, data: Any, folder: Path) -> None:
        panel = kpi_panel(data.tickets, period=data.period, by=("agent", "channel"))
        assert len(panel) == write_csv(panel, folder / "p.csv")
        rows = cells_of(folder / "p.csv")
        assert ["agent", "channel", *panel.names] == rows[0]
        first = dict(zip(rows[0], rows[1], strict=True))
        agent, channel = panel.keys[0]
        value = panel[panel.names[0]][0]
        assert (agent, channel.value, "" if math.isnan(value) else repr(float(value))) == \
            (first["agent"], first["channel"], first[panel.names[0]])

    def test_scorecard(self, data: Any, folder: Path) -> None:
        card = score_agents(data, period=data.period)
        assert len(card) == write_csv(card, folder / "s.csv")
        assert list(card.to_records()[0]) == cells_of(folder / "s.csv")[0]

    def test_complaint_analysis_sections(self, data: Any, folder: Path) -> None:
        analysis = complaint_analysis(data.complaints, data.callbacks, period=data.period)
        with pytest.raises(TypeError, match=re.escape(
                "ComplaintAnalysis.to_records() returns sections ['by_level', 'by_type', "
                "'escalations', 'penalties', 'stations']; write one of them, e.g. "
                "write_csv(x.to_records()['by_type'], path)")):
            write_csv(analysis, folder / "a.csv")
        write_csv(analysis.to_records()["by_level"], folder / "a.csv")
        assert ["level", "complaints"] == cells_of(folder / "a.csv")[0]

    def test_csv_report(self, folder: Path) -> None:
        path = write_records(folder / "t.csv", tickets({"satisfaction": "=7"}))
        _, report = read_csv(path, TicketTable)
        write_csv(report, folder / "issues.csv")
        assert [["file", "line", "row", "key", "field", "value", "rule", "code"],
                [str(path), "2", "0", "T-0", "satisfaction", "'=7", "a finite number",
                 "not_a_number"]] == cells_of(folder / "issues.csv")

    def test_customers_with_chinese_names(self, folder: Path) -> None:
        table, _ = CustomerTable.from_columns({"customer_id": ["C-1", "C-2"],
                                               "name": ["张三", "-李四"], "tz": ["", "UTC"]})
        write_csv(table, folder / "c.csv", raw=True)
        again, report = read_csv(folder / "c.csv", CustomerTable)
        assert (table, "utf-8") == (again, report.encoding)


class TestGuardRoundTrip:
    """The formula guard is undone on reading, so files written for people come back."""

    def test_a_guarded_table_reads_back_equal(self, folder: Path) -> None:
        source = write_records(folder / "t.csv", tickets(
            {"ticket_id": "=1+2", "agent_id": "-A"}, {"ticket_id": "@S", "agent_id": "+C"}))
        table, report = read_csv(source, TicketTable)
        assert report.ok
        written = folder / "people.csv"
        write_csv(table, written)  # guarded: '=1+2, '-A …
        assert "\"'=1+2\"" in written.read_text(encoding="utf-8-sig")
        again, _ = read_csv(written, TicketTable)
        assert (("=1+2", "@S"), ("+C", "-A")) == (
            tuple(sorted(again.labels("ticket_id"))), tuple(sorted(again.labels("agent_id"))))
        assert table.to_records() == again.to_records()

    def test_a_quote_before_other_text_is_data(self, folder: Path) -> None:
        source = write_records(folder / "t.csv", tickets({"agent_id": "'A"}))
        table, _ = read_csv(source, TicketTable)
        assert ("'A",) == table.labels("agent_id")

    def test_the_rejected_file_is_guarded_and_reads_back(self, folder: Path) -> None:
        source = write_records(folder / "t.csv", tickets(
            {"ticket_id": "=HYPERLINK(\"http://x\")", "channel": "fax",
             "reopen_count": "-1"}))
        _, report = read_csv(source, TicketTable, rejected=True)
        rows = read_back(folder / "t.rejected.csv")
        header, row = rows[0], rows[1]
        assert "'=HYPERLINK(\"http://x\")" == row[header.index("ticket_id")]
        assert "-1" == row[header.index("reopen_count")]  # a number stays a number
        fixes = {"channel": "phone", "reopen_count": "0"}
        mended = [[fixes.get(name, cell) for name, cell in
                   zip(header, row, strict=True)][:header.index("_line")]]
        back, again = read_csv(write_rows(folder / "mended.csv", header[:header.index("_line")],
                                          mended), TicketTable)
        assert (("=HYPERLINK(\"http://x\")",), 0) == (back.labels("ticket_id"),
                                                      again.rows_rejected)


def test_ids_with_control_characters_are_rejected_rows(folder: Path) -> None:
    """A NUL or a tab in an id is a rejected row with its line, not a crash or a kept id."""
    path = folder / "t.csv"
    path.write_text("ticket_id,agent_id,station_id,customer_id,service_type,channel,opened_at\n"
                    "T-1,A-1,S1,C-1,repair,phone,2026-10-05T09:00:00+08:00\n"
                    "T\x002,A-1,S1,C-2,repair,phone,2026-10-05T09:00:00+08:00\n"
                    "T\t3,A-1,S1,C-2,repair,phone,2026-10-05T09:00:00+08:00\n", encoding="utf-8")
    table, report = read_csv(path, TicketTable)
    assert ("T-1",) == table.labels("ticket_id")
    assert [(3, "T\x002"), (4, "T\t3")] == [(report.line_of(i.row), i.value)
                                            for i in report.issues]
    assert {"invalid_id"} == {i.code for i in report.issues}
