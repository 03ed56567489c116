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
>>> panel, report = skd.kpi_panel(dd.from_pandas(frame, npartitions=4),
...                               period=data.period, by="team")
>>> report.rows_in, report.rows_rejected
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

from servicekpi.domain import Period
from servicekpi.exceptions import InvalidChoiceError, MissingExtraError
from servicekpi.metrics import KpiPanel, _normalise_by
from servicekpi.metrics import kpi_panel as _kpi_panel
from servicekpi.policy import Policy
from servicekpi.tables import TicketTable, ValidationIssue, ValidationReport

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
              policy: Policy | None = None, default_tz: str | None = None
              ) -> tuple[KpiPanel, ValidationReport]:
    """:func:`servicekpi.kpi_panel` of a Dask dataframe of tickets, and its validation.

    Args:
        tickets: a ``dask.dataframe.DataFrame`` with the ticket columns
            (``docs/tables.md#tickets``), read from Parquet or CSV partitions.
        period, by, policy: as :func:`servicekpi.kpi_panel`.
        default_tz: the zone of timestamps given without an offset, as in
            :meth:`TicketTable.from_columns`.

    Returns:
        The panel — equal, group for group and KPI for KPI, to the in-memory one — and
        the validation report of every partition together: ``rows_in`` is the whole
        input, issue rows are positions in it (partition by partition, in order).

    Raises:
        TypeError: *tickets* is not a Dask dataframe.
        InvalidChoiceError: an unknown dimension in *by*.
        SchemaError: missing or unknown ticket columns.
    """
    if not isinstance(tickets, dd.DataFrame):
        raise TypeError(f"'tickets' must be a dask DataFrame (got {type(tickets).__name__})")
    if not isinstance(period, Period):
        raise TypeError(f"'period' must be a Period (got {period!r})")
    dims = _normalise_by(by)
    policy = policy or Policy.default()
    if _ROW in tickets.columns or _KEY in tickets.columns:
        raise InvalidChoiceError(f"column names {_ROW!r} and {_KEY!r} are reserved")
    # Global row numbers first (partition lengths, then offsets), so a rejected row is
    # reported where it stands in the input, wherever the shuffle takes it.
    lengths = [int(n) for n in tickets.map_partitions(len).compute()]
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    numbered = tickets.map_partitions(_number, list(offsets),
                                      meta=_meta(tickets, _ROW, np.int64), align_dataframes=False)
    keyed = numbered.assign(**{_KEY: numbered.map_partitions(
        _group_key, dims, period.tz, meta=(_KEY, "object"))})
    whole_groups = keyed.shuffle(on=_KEY) if keyed.npartitions > 1 else keyed
    parts = [dask.delayed(_panel_of)(part, period, dims, policy, default_tz)
             for part in whole_groups.to_delayed()]
    results = dask.compute(*parts)
    panels = [panel for panel, _ in results]
    issues = sorted((issue for _, report in results for issue in report.issues),
                    key=lambda issue: (issue.row, issue.field))
    rows_in = int(sum(lengths))
    rejected = len({issue.row for issue in issues})
    report = ValidationReport(table="tickets", rows_in=rows_in,
                              rows_valid=rows_in - rejected, issues=tuple(issues))
    return KpiPanel.stack(panels), report


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


def _panel_of(part: Any, period: Period, dims: tuple[str, ...], policy: Policy,
              default_tz: str | None) -> tuple[KpiPanel, ValidationReport]:
    rows = part[_ROW].to_numpy(dtype=np.int64)
    frame = part.drop(columns=[_ROW, _KEY]).reset_index(drop=True)
    table, report = TicketTable.from_frame(frame, default_tz=default_tz)
    issues = tuple(ValidationIssue(row=int(rows[issue.row]), key=issue.key, field=issue.field,
                                   value=issue.value, rule=issue.rule, code=issue.code)
                   for issue in report.issues)
    panel = _kpi_panel(table, period=period, by=dims, policy=policy)
    return panel, ValidationReport(table=report.table, rows_in=report.rows_in,
                                   rows_valid=report.rows_valid, issues=issues)
