"""The errors servicekpi raises.

Every error is a :class:`ServiceKPIError` and also the builtin exception it refines,
so ``except ValueError`` in a caller keeps working:

>>> from servicekpi.exceptions import InvalidTicketError, ServiceKPIError
>>> issubclass(InvalidTicketError, ServiceKPIError), issubclass(InvalidTicketError, ValueError)
(True, True)

Messages name the field and show the offending value with ``!r``. Failed look-ups
add a "Did you mean …?" hint (:meth:`UnknownKeyError.for_key`).

This module imports nothing but the standard library, so every layer may use it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = (
    "CalendarError",
    "DuplicateKeyError",
    "EvaluationFormatError",
    "InvalidAgentError",
    "InvalidAppraisalError",
    "InvalidCallbackError",
    "InvalidChoiceError",
    "InvalidComplaintError",
    "InvalidCustomerError",
    "InvalidEventError",
    "InvalidOrderError",
    "InvalidPeriodError",
    "InvalidRatingError",
    "InvalidRecordError",
    "InvalidTicketError",
    "InvalidTransitionError",
    "MissingExtraError",
    "NaiveDatetimeError",
    "PolicyError",
    "SchemaError",
    "ServiceKPIError",
    "UnknownKeyError",
    "ValidationFailedError",
)


class ServiceKPIError(Exception):
    """Base class of every error servicekpi raises on purpose.

    .. versionadded:: 0.1
    """


class InvalidRecordError(ServiceKPIError, ValueError):
    """A domain object would be in an invalid state."""


class InvalidAgentError(InvalidRecordError):
    """An agent, team or station is invalid."""


class InvalidCustomerError(InvalidRecordError):
    """A customer is invalid."""


class InvalidTicketError(InvalidRecordError):
    """A ticket is invalid (e.g. resolved before it was opened)."""


class InvalidComplaintError(InvalidRecordError):
    """A complaint is invalid."""


class InvalidCallbackError(InvalidRecordError):
    """A callback is invalid."""


class InvalidRatingError(InvalidRecordError):
    """A rating is invalid (e.g. outside its scale)."""


class InvalidOrderError(InvalidRecordError):
    """An order is invalid (e.g. more refunded than paid)."""


class InvalidEventError(InvalidRecordError):
    """A ticket event is invalid (e.g. a status change without the new status)."""


class InvalidAppraisalError(InvalidRecordError):
    """An appraisal is invalid."""


class InvalidPeriodError(InvalidRecordError):
    """A period is invalid or cannot be parsed."""


class InvalidTransitionError(ServiceKPIError, ValueError):
    """A complaint closed-loop action is not allowed in the case's state, or at that time."""


class NaiveDatetimeError(ServiceKPIError, ValueError):
    """A datetime without a time zone was given where an aware one is required."""


class CalendarError(ServiceKPIError, ValueError):
    """A working calendar is invalid, or a computation falls outside its range."""


class PolicyError(ServiceKPIError, ValueError):
    """A policy is contradictory or a policy file is malformed.

    The message starts with the TOML key path of the offending setting when known.
    """


class SchemaError(ServiceKPIError, ValueError):
    """Columns given to a table do not match its schema (missing, unknown, wrong length)."""


class ValidationFailedError(ServiceKPIError, ValueError):
    """Rows were rejected while the caller asked for ``on_invalid="raise"``."""


class DuplicateKeyError(ServiceKPIError, ValueError):
    """The same key appears twice where keys must be unique."""


def _hint(key: object, known: Iterable[object]) -> str:
    names = [str(k) for k in known]
    close = difflib.get_close_matches(key, names, n=1) if isinstance(key, str) else []
    if close:
        return f". Did you mean {close[0]!r}?"
    if names and len(names) <= 16:
        return f". Known: {', '.join(sorted(names))}"
    return ""


class InvalidChoiceError(ServiceKPIError, ValueError):
    """A value is not a member of a closed set (an enum); says what was meant."""

    @classmethod
    def for_value(cls, what: str, value: object, known: Iterable[object]) -> InvalidChoiceError:
        """Build the error for *value*, with a "Did you mean …?" hint from *known*.

        >>> str(InvalidChoiceError.for_value("channel", "phnoe", ["phone", "online"]))
        "unknown channel 'phnoe'. Did you mean 'phone'?"
        """
        return cls(f"unknown {what} {value!r}{_hint(value, known)}")


class UnknownKeyError(ServiceKPIError, KeyError):
    """A name or id was looked up and not found."""

    def __str__(self) -> str:
        # KeyError.__str__ repr()s its argument; ours is already a sentence.
        return str(self.args[0]) if self.args else ""

    @classmethod
    def for_key(cls, what: str, key: object, known: Iterable[object]) -> UnknownKeyError:
        """Build the error for *key*, with a "Did you mean …?" hint from *known*.

        >>> str(UnknownKeyError.for_key("KPI", "fcr_rat", ["fcr_rate", "csat_mean"]))
        "unknown KPI 'fcr_rat'. Did you mean 'fcr_rate'?"
        """
        return cls(f"unknown {what} {key!r}{_hint(key, known)}")


class EvaluationFormatError(ServiceKPIError, ValueError):
    """A text that is not a MonthlyEvaluation written by ``MonthlyEvaluation.to_json``."""


class MissingExtraError(ServiceKPIError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    @classmethod
    def for_extra(cls, extra: str, module: str) -> MissingExtraError:
        """Build the error for a missing *module* that the *extra* provides.

        >>> str(MissingExtraError.for_extra("frames", "narwhals"))
        "this feature needs the optional dependency 'narwhals': pip install 'servicekpi[frames]'"
        """
        return cls(
            f"this feature needs the optional dependency {module!r}: "
            f"pip install 'servicekpi[{extra}]'"
        )
