"""The KPI panel of a ticket history too big for one machine, on Dask — exactly equal.

Needs the ``dask`` extra (``pip install 'servicekpi[dask]'``) and the ``frames`` extra
(pandas, narwhals) that reads each partition.

The design (``docs/scaling.md``): shuffle the tickets by the group key so that every
partition holds whole groups, run the in-memory kernel (:func:`servicekpi.kpi_panel`)
on each partition, and stack the partial panels. Because no group is split, every KPI
— exact medians and p90 included — equals the single-machine result to the bit; the
partial panels are small (groups × KPIs), so only they travel back to the client.

>>> import dask.dataframe as dd, pandas as pd
>>> import servicekpi as sk
>>> from servicekpi import dask as skd
>>> data = sk.synth.month(seed=3, tickets=2_000, agents=12, stations=2)
>>> frame = pd.DataFrame(data.tickets.to_columns())
>>> panel, reports = skd.kpi_panel(dd.from_pandas(frame, npartitions=4),
...                                period=data.period, by="team")
>>> reports["tickets"].rows_in, reports["tickets"].rows_rejected
(2000, 0)
>>> whole = sk.kpi_panel(data.tickets, period=data.period, by="team")
>>> import numpy as np
>>> panel.keys == whole.keys and all(
...     np.array_equal(panel[name], whole[name], equal_nan=True) for name in whole.names)
True

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from servicekpi.domain import Period
from servicekpi.exceptions import InvalidChoiceError, MissingExtraError
from servicekpi.metrics import KpiPanel, _normalise_by
from servicekpi.metrics import kpi_panel as _kpi_panel
from servicekpi.policy import Policy
from servicekpi.tables import (
    TicketEventTable,
    TicketTable,
    ValidationIssue,
    ValidationReport,
)

try:
    import dask
    import dask.dataframe as dd
    import pandas as pd
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise MissingExtraError(
        "servicekpi.dask needs the 'dask' and 'frames' extras: "
        "pip install 'servicekpi[dask,frames]'") from error

__all__ = ("kpi_panel",)

# The ticket column each non-time dimension groups by.
_COLUMN: Final = {"agent": "agent_id", "team": "team_id", "station": "station_id",
                  "service_type": "service_type", "channel": "channel",
                  "customer_tier": "customer_tier"}
_ROW: Final = "__servicekpi_row__"
_KEY: Final = "__servicekpi_key__"


def kpi_panel(tickets: Any, *, period: Period, by: str | Sequence[str] = "agent",
              policy: Policy | None = None, default_tz: str | None = None,
              events: Any = None, whole_groups: bool = False
              ) -> tuple[KpiPanel, dict[str, ValidationReport]]:
    """:func:`servicekpi.kpi_panel` of a Dask dataframe of tickets, and its validation.

    Args:
        tickets: a ``dask.dataframe.DataFrame`` with the ticket columns
            (``docs/tables.md#tickets``), read from Parquet or CSV partitions.
        period, by, policy: as :func:`servicekpi.kpi_panel`.
        default_tz: the zone of timestamps given without an offset, as in
            :meth:`TicketTable.from_columns`.
        events: a Dask dataframe of ticket events (``docs/tables.md#ticket-events``);
            each event travels with its ticket, so the ``sla_*`` KPIs come from the SLA
            clocks exactly as in memory.
        whole_groups: the partitions already hold whole groups — a history stored one
            month (or one station) per file, read one partition per file, grouped by a
            dimension that includes it. Nothing is shuffled then: each partition is one
            in-memory panel. A group found in two partitions after all is refused (its
            quantiles would be wrong), with :class:`InvalidChoiceError`.

    Returns:
        The panel — equal, group for group and KPI for KPI, to the in-memory one — and
        the validation report of each input (``"tickets"``, ``"ticket_events"``) over
        all its partitions: ``rows_in`` is the whole input, issue rows are positions in
        it (partition by partition, in order). A ticket id seen on an earlier row is
        rejected as in memory (``unique``), whichever partitions the two rows are in.

    Raises:
        TypeError: *tickets* (or *events*) is not a Dask dataframe.
        InvalidChoiceError: an unknown dimension in *by*.
        SchemaError: missing or unknown columns.
    """
    for name, frame in (("tickets", tickets), ("events", events)):
        if frame is not None and not isinstance(frame, dd.DataFrame):
            raise TypeError(f"{name!r} must be a dask DataFrame (got {type(frame).__name__})")
        if frame is not None and (_ROW in frame.columns or _KEY in frame.columns):
            raise InvalidChoiceError(f"column names {_ROW!r} and {_KEY!r} are reserved")
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    dims = _normalise_by(by)
    policy = policy or Policy.default()
    numbered, rows_in = _numbered(tickets)
    duplicates = _later_duplicates(numbered)
    keyed = numbered if whole_groups and events is None else numbered.assign(**{
        _KEY: numbered.map_partitions(_group_key, dims, period.tz, meta=(_KEY, "object"))})
    n = keyed.npartitions
    grouped = keyed.shuffle(on=_KEY, npartitions=n) if n > 1 and not whole_groups else keyed
    event_parts: list[Any] = [None] * grouped.npartitions
    events_in = 0
    if events is not None:
        # Every event goes where its ticket goes: the same key, the same partitioning.
        ev_numbered, events_in = _numbered(events)
        keys = keyed[["ticket_id", _KEY]].map_partitions(_id_keys, meta={
            _TID: "object", _KEY: "object"}).drop_duplicates(subset=[_TID])
        ev_keyed = ev_numbered.assign(**{_TID: ev_numbered["ticket_id"].map_partitions(
            _ids, meta=(_TID, "object"))}).merge(keys, on=_TID, how="left")
        ev_keyed = ev_keyed.assign(**{_KEY: ev_keyed[_KEY].fillna("")}).drop(columns=[_TID])
        if whole_groups and n > 1:
            raise InvalidChoiceError("'events' with whole_groups=True: events are "
                                     "partitioned with their tickets by a shuffle")
        event_parts = list((ev_keyed.shuffle(on=_KEY, npartitions=n) if n > 1
                            else ev_keyed.repartition(npartitions=1)).to_delayed())
    parts = [dask.delayed(_panel_of)(part, ev_part, period, dims, policy, default_tz,
                                     duplicates)
             for part, ev_part in zip(grouped.to_delayed(), event_parts, strict=True)]
    results = dask.compute(*parts)
    reports = {"tickets": _report("tickets", rows_in, [r[1] for r in results])}
    if events is not None:
        reports["ticket_events"] = _report("ticket_events", events_in,
                                           [r[2] for r in results if r[2] is not None])
    return KpiPanel.stack([r[0] for r in results]), reports


_TID: Final = "__servicekpi_ticket__"


def _numbered(frame: Any) -> tuple[Any, int]:
    """*frame* with its global row numbers (partition lengths, then offsets), so a
    rejected row is reported where it stands in the input, wherever the shuffle takes
    it; and the number of rows."""
    lengths = [int(n) for n in frame.map_partitions(len).compute()]
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    numbered = frame.map_partitions(_number, list(offsets), meta=_meta(frame, _ROW, np.int64),
                                    align_dataframes=False)
    return numbered, int(sum(lengths))


def _later_duplicates(numbered: Any) -> dict[int, str]:
    """Rows whose ticket id is on an earlier row (in any partition): row -> id."""
    ids = numbered[["ticket_id", _ROW]].map_partitions(
        lambda part: part.assign(ticket_id=_ids(part["ticket_id"])),
        meta={"ticket_id": "object", _ROW: np.int64})
    counts = ids.groupby("ticket_id")[_ROW].count(split_out=ids.npartitions)
    repeated = counts[counts > 1].compute()
    repeated = repeated[repeated.index != ""]
    if repeated.empty:
        return {}
    rows = ids[ids["ticket_id"].isin(list(repeated.index))].compute()
    first = rows.groupby("ticket_id")[_ROW].transform("min")
    later = rows[rows[_ROW] != first]
    return {int(row): str(ticket) for row, ticket in zip(later[_ROW], later["ticket_id"],
                                                        strict=True)}


def _ids(series: Any) -> Any:
    return series.map(lambda v: "" if v is None or bool(pd.isna(v)) else str(v)) \
        .astype(object)


def _id_keys(part: Any) -> Any:
    return pd.DataFrame({_TID: _ids(part["ticket_id"]), _KEY: part[_KEY]})


def _report(table: str, rows_in: int, reports: list[ValidationReport]) -> ValidationReport:
    issues = sorted((issue for report in reports for issue in report.issues),
                    key=lambda issue: (issue.row, issue.field, issue.code))
    rejected = len({issue.row for issue in issues})
    return ValidationReport(table=table, rows_in=rows_in, rows_valid=rows_in - rejected,
                            issues=tuple(issues))


def _meta(frame: Any, column: str, dtype: Any) -> Any:
    meta = frame._meta.copy()
    meta[column] = np.array([], dtype=dtype)
    return meta


def _number(part: Any, offsets: list[int], partition_info: Any = None) -> Any:
    index = partition_info["number"] if partition_info else 0
    out = part.copy()
    out[_ROW] = np.arange(len(part), dtype=np.int64) + offsets[index]
    return out


def _group_key(part: Any, dims: tuple[str, ...], tz: str) -> Any:
    """The shuffle key: a group's non-time dimension, else its coarsest time bucket.

    Tickets of one group always share it, so a shuffle on it keeps groups whole.
    """
    plain = [d for d in dims if d in _COLUMN]
    if plain:
        values = part[_COLUMN[plain[0]]] if _COLUMN[plain[0]] in part.columns \
            else pd.Series([None] * len(part), index=part.index)
        return values.map(lambda v: "" if v is None or bool(pd.isna(v))
                          else str(getattr(v, "value", v))).astype(object)
    opened = pd.to_datetime(part["opened_at"], utc=True, errors="coerce").dt.tz_convert(tz)
    if "month" in dims:
        return opened.dt.strftime("%Y-%m").fillna("")
    if "week" in dims:  # the ISO week's Monday
        return (opened.dt.normalize() - pd.to_timedelta(opened.dt.day_of_week, unit="D")) \
            .dt.strftime("%Y-%m-%d").fillna("")
    return opened.dt.strftime("%Y-%m-%d").fillna("")


def _panel_of(part: Any, events: Any, period: Period, dims: tuple[str, ...],
              policy: Policy, default_tz: str | None, duplicates: dict[int, str]
              ) -> tuple[KpiPanel, ValidationReport, ValidationReport | None]:
    rows = part[_ROW].to_numpy(dtype=np.int64)
    later = np.isin(rows, np.fromiter(duplicates, dtype=np.int64, count=len(duplicates)))
    frame = part[~later].drop(columns=[c for c in (_ROW, _KEY) if c in part.columns]) \
        .reset_index(drop=True)
    table, report = TicketTable.from_frame(frame, default_tz=default_tz)
    kept = rows[~later]
    issues = [_placed(issue, kept) for issue in report.issues]
    issues += [ValidationIssue(row=int(row), key=duplicates[int(row)], field="ticket_id",
                               value=duplicates[int(row)],
                               rule="unique: seen on an earlier row", code="unique")
               for row in rows[later]]
    event_table, event_report = None, None
    if events is not None:
        ev_rows = events[_ROW].to_numpy(dtype=np.int64)
        ev_frame = events.drop(columns=[_ROW, _KEY]).reset_index(drop=True)
        event_table, ev_report = TicketEventTable.from_frame(ev_frame, default_tz=default_tz)
        event_report = ValidationReport(
            table=ev_report.table, rows_in=ev_report.rows_in, rows_valid=ev_report.rows_valid,
            issues=tuple(_placed(issue, ev_rows) for issue in ev_report.issues))
    panel = _kpi_panel(table, period=period, by=dims, policy=policy, events=event_table)
    return panel, ValidationReport(table=report.table, rows_in=len(rows),
                                   rows_valid=len(rows) - len({i.row for i in issues}),
                                   issues=tuple(issues)), event_report


def _placed(issue: ValidationIssue, rows: NDArray[np.int64]) -> ValidationIssue:
    """*issue* with its row as the position in the whole input."""
    return ValidationIssue(row=int(rows[issue.row]), key=issue.key, field=issue.field,
                           value=issue.value, rule=issue.rule, code=issue.code)
