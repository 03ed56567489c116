"""Appraisal periods: a month, a quarter or a year in an explicit time zone."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import ClassVar, final

import attrs
from dateutil import tz as dateutil_tz

from servicekpi.domain import _checks
from servicekpi.domain.enums import PeriodKind
from servicekpi.exceptions import InvalidPeriodError, NaiveDatetimeError

__all__ = ("Period",)

_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})-?[Qq]([1-4])$"), PeriodKind.QUARTER),
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
)
_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
_COUNT = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}


def _check_index(instance: Period, attribute: attrs.Attribute[int], value: int) -> None:
    high = _COUNT[instance.kind]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise InvalidPeriodError(
            f"'index' of a {instance.kind.value} must be in [1, {high}] (got {value!r})"
        )


def _check_year(instance: Period, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1970 <= value <= 2200:
        raise InvalidPeriodError(f"'year' must be in [1970, 2200] (got {value!r})")


@final
@attrs.frozen(kw_only=True, order=False)
class Period:
    """A month, quarter or year, as the half-open interval ``[start, end)`` in ``tz``.

    Records belong to a period by their timestamp in the period's own zone: a ticket
    opened at 23:30 UTC on 31 October belongs to November in Shanghai.

    Args:
        kind: month, quarter or year.
        year: the calendar year.
        index: month 1–12, quarter 1–4, or 1 for a year.
        tz: IANA time zone of the period's boundaries (no default on purpose).

    Raises:
        InvalidPeriodError: for an index out of range or an unknown zone.

    >>> p = Period.parse("2026-10", tz="Asia/Shanghai")
    >>> p.label, p.start.isoformat(), p.end.isoformat()
    ('2026-10', '2026-10-01T00:00:00+08:00', '2026-11-01T00:00:00+08:00')
    >>> Period.quarter(2026, 4, tz="UTC").months()[0].label
    '2026-10'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidPeriodError]] = InvalidPeriodError
    _noun: ClassVar[str] = "period"

    kind: PeriodKind = attrs.field(converter=PeriodKind)
    year: int = attrs.field(validator=_check_year)
    index: int = attrs.field(default=1, validator=_check_index)
    tz: str = attrs.field(validator=_checks.zone)

    @classmethod
    def month(cls, year: int, month: int, *, tz: str) -> Period:
        """The calendar month *month* of *year*."""
        return cls(kind=PeriodKind.MONTH, year=year, index=month, tz=tz)

    @classmethod
    def quarter(cls, year: int, quarter: int, *, tz: str) -> Period:
        """The quarter *quarter* (1–4) of *year*."""
        return cls(kind=PeriodKind.QUARTER, year=year, index=quarter, tz=tz)

    @classmethod
    def whole_year(cls, year: int, *, tz: str) -> Period:
        """The calendar year *year*."""
        return cls(kind=PeriodKind.YEAR, year=year, index=1, tz=tz)

    @classmethod
    def parse(cls, text: str, *, tz: str) -> Period:
        """Parse ``"2026-10"``, ``"2026-Q4"`` or ``"2026"``.

        >>> Period.parse("2026-Q4", tz="UTC").kind
        <PeriodKind.QUARTER: 'quarter'>
        >>> Period.parse("Oct 2026", tz="UTC")
        Traceback (most recent call last):
        ...
        servicekpi.exceptions.InvalidPeriodError: cannot parse period 'Oct 2026': use 'YYYY-MM', 'YYYY-Qn' or 'YYYY'
        """
        if isinstance(text, str):
            for pattern, kind in _PATTERNS:
                match = pattern.match(text.strip())
                if match:
                    index = int(match.group(2)) if kind is not PeriodKind.YEAR else 1
                    return cls(kind=kind, year=int(match.group(1)), index=index, tz=tz)
        raise InvalidPeriodError(
            f"cannot parse period {text!r}: use 'YYYY-MM', 'YYYY-Qn' or 'YYYY'"
        )

    @classmethod
    def containing(cls, moment: datetime, *, kind: PeriodKind | str = PeriodKind.MONTH,
                   tz: str) -> Period:
        """The period of *kind* that contains the aware datetime *moment* in zone *tz*."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise NaiveDatetimeError(f"'moment' must be timezone-aware (got {moment!r})")
        parsed = PeriodKind.parse(kind)
        local = moment.astimezone(_zone(tz))
        index = (local.month - 1) // _MONTHS[parsed] + 1
        return cls(kind=parsed, year=local.year, index=index, tz=tz)

    @property
    def zone(self) -> tzinfo:
        """The :class:`~datetime.tzinfo` of ``tz``."""
        return _zone(self.tz)

    @property
    def first_month(self) -> int:
        """The first calendar month (1–12) of the period."""
        return (self.index - 1) * _MONTHS[self.kind] + 1

    @property
    def start(self) -> datetime:
        """The first instant of the period (inclusive), in ``tz``."""
        return _local_midnight(self.year, self.first_month, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive), in ``tz``."""
        month = self.first_month + _MONTHS[self.kind]
        return _local_midnight(self.year + (month - 1) // 12, (month - 1) % 12 + 1, self.zone)

    @property
    def label(self) -> str:
        """``"2026-10"``, ``"2026-Q4"`` or ``"2026"``."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    def __str__(self) -> str:
        return f"{self.label} ({self.tz})"

    def contains(self, moment: datetime) -> bool:
        """Whether the aware datetime *moment* lies in ``[start, end)``."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise NaiveDatetimeError(f"'moment' must be timezone-aware (got {moment!r})")
        instant = _checks.utc(moment)
        return _checks.utc(self.start) <= instant < _checks.utc(self.end)

    def next(self) -> Period:
        """The period of the same kind that follows this one."""
        if self.index < _COUNT[self.kind]:
            return attrs.evolve(self, index=self.index + 1)
        return attrs.evolve(self, year=self.year + 1, index=1)

    def previous(self) -> Period:
        """The period of the same kind that precedes this one."""
        if self.index > 1:
            return attrs.evolve(self, index=self.index - 1)
        return attrs.evolve(self, year=self.year - 1, index=_COUNT[self.kind])

    def months(self) -> tuple[Period, ...]:
        """The months the period is made of, in order."""
        first = self.first_month
        return tuple(Period.month(self.year, first + i, tz=self.tz)
                     for i in range(_MONTHS[self.kind]))


def _zone(name: str) -> tzinfo:
    zone = dateutil_tz.gettz(name)
    if zone is None:  # pragma: no cover - validated on construction
        raise InvalidPeriodError(f"unknown time zone {name!r}")
    return zone


def _local_midnight(year: int, month: int, zone: tzinfo) -> datetime:
    # A zone may skip midnight on a DST day (e.g. America/Santiago); the period then
    # starts at the first instant that exists, which is what resolve_imaginary gives.
    return dateutil_tz.resolve_imaginary(datetime(year, month, 1, tzinfo=zone))
