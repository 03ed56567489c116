"""attrs validators and converters shared by the domain objects.

Each domain class names its error type and its noun in two class variables
(``_error``, ``_noun``); the validators raise that type with a message that names
the field, shows the value and, when known, the record's id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Protocol

import attrs
from dateutil import tz as dateutil_tz

from servicekpi.exceptions import InvalidRecordError, NaiveDatetimeError

# "UTC" or Area/Location names; rejects POSIX TZ strings ("GMT+3") and file paths.
_IANA = re.compile(r"^(?:UTC|[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)+)$")

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


class _Record(Protocol):
    _error: ClassVar[type[InvalidRecordError]]
    _noun: ClassVar[str]
    _key: ClassVar[str]


def fmt(value: object) -> str:
    """Show a value in an error message: datetimes as compact ISO-8601, else ``repr``."""
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%dT%H:%M")
        if value.second or value.microsecond:
            text += value.strftime(":%S")
        offset = value.utcoffset()
        if offset is None:
            return text
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        return f"{text}{sign}{hours:02d}:{mins:02d}"
    return repr(value)


def where(instance: object) -> str:
    """`` on ticket 'T-1'`` when the instance already has a valid id, else ``''``."""
    cls = type(instance)
    key = getattr(cls, "_key", None)
    value = getattr(instance, key, None) if key else None
    if isinstance(value, str) and value.strip():
        return f" on {cls._noun} {value!r}"  # type: ignore[attr-defined]
    return ""


def fail(instance: object, message: str) -> InvalidRecordError:
    """The instance's error type carrying *message* plus the record id."""
    error: type[InvalidRecordError] = getattr(type(instance), "_error", InvalidRecordError)
    return error(message + where(instance))


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""C0 control characters and DEL: never part of an id (a NUL or a tab hidden in an id
looks like another id in every report, and joins with none)."""


def clean_id(value: str) -> bool:
    """Non-empty, no surrounding white space, no control character."""
    return bool(value.strip()) and value == value.strip() and CONTROL.search(value) is None


def ident(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A non-empty string without surrounding white space or control characters."""
    if not isinstance(value, str) or not clean_id(value):
        raise fail(instance, f"{attribute.name!r} must be a non-empty string without "
                             f"surrounding spaces or control characters (got {value!r})")


def optional_ident(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or an :func:`ident`."""
    if value is not None:
        ident(instance, attribute, value)


def text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Any string, possibly empty."""
    if not isinstance(value, str):
        raise fail(instance, f"{attribute.name!r} must be a string (got {value!r})")


def aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A timezone-aware datetime (naive ones are ambiguous across zones)."""
    if not isinstance(value, datetime):
        raise fail(instance, f"{attribute.name!r} must be a datetime (got {value!r})")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{attribute.name!r} must be timezone-aware (got {value!r}){where(instance)}"
        )


def optional_aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or an :func:`aware` datetime."""
    if value is not None:
        aware(instance, attribute, value)


def zone(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An IANA time-zone name that dateutil knows."""
    if not isinstance(value, str) or not _IANA.match(value) or dateutil_tz.gettz(value) is None:
        raise fail(instance, f"{attribute.name!r} must be an IANA time zone such as "
                             f"'Asia/Shanghai' (got {value!r})")


def non_negative_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An ``int`` (not a ``bool``) >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(instance, f"{attribute.name!r} must be an integer >= 0 (got {value!r})")


def boolean(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A real ``bool`` (``1`` and ``"yes"`` are rejected rather than guessed)."""
    if not isinstance(value, bool):
        raise fail(instance, f"{attribute.name!r} must be True or False (got {value!r})")


def finite(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite real number (not a ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(instance, f"{attribute.name!r} must be a finite number (got {value!r})")


def between(low: float, high: float, *, low_open: bool = False) -> Validator:
    """A finite number in ``[low, high]`` (``(low, high]`` with *low_open*)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        finite(instance, attribute, value)
        below = value <= low if low_open else value < low
        if below or value > high:
            bracket = "(" if low_open else "["
            raise fail(instance, f"{attribute.name!r} must be in {bracket}{low:g}, {high:g}] "
                                 f"(got {value!r})")

    return check


def required(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Not ``None``."""
    if value is None:
        raise fail(instance, f"{attribute.name!r} is required (got None)")


def money(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or a finite, non-negative :class:`~decimal.Decimal`."""
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise fail(instance, f"{attribute.name!r} must be a finite amount >= 0 (got {value!r})")


def to_decimal(value: object) -> object:
    """Amounts as exact decimals: ``12.3`` becomes ``Decimal('12.3')``, not its binary twin.

    Values that are not numbers pass through unchanged for :func:`money` to reject.
    """
    if value is None or isinstance(value, Decimal) or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, str)):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            return value
    return value


def utc(moment: datetime) -> datetime:
    """*moment* in UTC. Python compares two datetimes that share a tzinfo by wall clock,
    ignoring ``fold``; in UTC the comparison is by instant, as it must be."""
    return moment.astimezone(timezone.utc)


def to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """Collections become tuples (hashable, immutable)."""
    return tuple(value)


def not_before(instance: Any, later: str, earlier: str) -> None:
    """Raise when the optional datetime field *later* is before *earlier*."""
    late = getattr(instance, later)
    early = getattr(instance, earlier)
    if late is not None and early is not None and utc(late) < utc(early):
        raise fail(
            instance,
            f"{later!r} ({fmt(late)}) is before {earlier!r} ({fmt(early)})",
        )
