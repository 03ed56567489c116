"""Tests of servicekpi.exceptions: the hierarchy and the message constructors."""

from __future__ import annotations

import re

import pytest

from servicekpi import exceptions
from servicekpi.exceptions import (
    CalendarError,
    DuplicateKeyError,
    EvaluationFormatError,
    InvalidAgentError,
    InvalidAppraisalError,
    InvalidCallbackError,
    InvalidChoiceError,
    InvalidComplaintError,
    InvalidCustomerError,
    InvalidEventError,
    InvalidOrderError,
    InvalidPeriodError,
    InvalidTransitionError,
    InvalidRatingError,
    InvalidRecordError,
    InvalidTicketError,
    MissingExtraError,
    NaiveDatetimeError,
    PolicyError,
    SchemaError,
    ServiceKPIError,
    UnknownKeyError,
    ValidationFailedError,
)


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


HIERARCHY = [
    (InvalidRecordError, ValueError),
    (InvalidAgentError, InvalidRecordError),
    (InvalidCustomerError, InvalidRecordError),
    (InvalidTicketError, InvalidRecordError),
    (InvalidComplaintError, InvalidRecordError),
    (InvalidCallbackError, InvalidRecordError),
    (InvalidRatingError, InvalidRecordError),
    (InvalidOrderError, InvalidRecordError),
    (InvalidEventError, InvalidRecordError),
    (InvalidAppraisalError, InvalidRecordError),
    (InvalidPeriodError, InvalidRecordError),
    (NaiveDatetimeError, ValueError),
    (InvalidTransitionError, ValueError),
    (CalendarError, ValueError),
    (PolicyError, ValueError),
    (SchemaError, ValueError),
    (ValidationFailedError, ValueError),
    (DuplicateKeyError, ValueError),
    (EvaluationFormatError, ValueError),
    (InvalidChoiceError, ValueError),
    (UnknownKeyError, KeyError),
    (MissingExtraError, ImportError),
]


class TestHierarchy:
    """Every error is a ServiceKPIError and the builtin it refines."""

    @pytest.mark.parametrize(("error", "parent"), HIERARCHY,
                             ids=[error.__name__ for error, _ in HIERARCHY])
    def test_bases(self, error: type[Exception], parent: type[Exception]) -> None:
        assert issubclass(error, ServiceKPIError)
        assert issubclass(error, parent)
        with pytest.raises(parent):
            raise error("boom")

    def test_base(self) -> None:
        assert (Exception,) == ServiceKPIError.__bases__

    def test_every_exported_error_is_covered(self) -> None:
        exported = {getattr(exceptions, name) for name in exceptions.__all__}
        assert exported == {error for error, _ in HIERARCHY} | {ServiceKPIError}
        assert sorted(exceptions.__all__) == list(exceptions.__all__)

    @pytest.mark.parametrize("error", [InvalidTicketError, NaiveDatetimeError,
                                       InvalidPeriodError])
    def test_caught_as_value_error(self, error: type[Exception]) -> None:
        with pytest.raises(ValueError, match=exactly("bad")):
            raise error("bad")


class TestUnknownKeyError:
    """UnknownKeyError.for_key says what was meant, and prints as a sentence."""

    @pytest.mark.parametrize(("key", "known", "message"), [
        ("fcr_rat", ["fcr_rate", "csat_mean"], "unknown KPI 'fcr_rat'. Did you mean 'fcr_rate'?"),
        ("zzz", ["fcr_rate", "csat_mean"], "unknown KPI 'zzz'. Known: csat_mean, fcr_rate"),
        ("zzz", [], "unknown KPI 'zzz'"),
        ("zzz", [f"kpi_{i:02d}" for i in range(17)], "unknown KPI 'zzz'"),
        ("fcr_rat", ["fcr_rate", *(f"x{i}" for i in range(12))],
         "unknown KPI 'fcr_rat'. Did you mean 'fcr_rate'?"),
        (7, [1, 2], "unknown KPI 7. Known: 1, 2"),
    ])
    def test_for_key(self, key: object, known: list[object], message: str) -> None:
        error = UnknownKeyError.for_key("KPI", key, known)
        assert message == str(error)
        assert isinstance(error, UnknownKeyError)
        with pytest.raises(KeyError, match=exactly(message)):
            raise error

    def test_str_is_not_quoted(self) -> None:
        # KeyError would print repr("...") with quotes around the sentence.
        assert "no such agent" == str(UnknownKeyError("no such agent"))
        assert "" == str(UnknownKeyError())

    def test_known_accepts_any_iterable(self) -> None:
        error = UnknownKeyError.for_key("agent", "A-1", (name for name in ("A-10", "B-20")))
        assert "unknown agent 'A-1'. Did you mean 'A-10'?" == str(error)


class TestInvalidChoiceError:
    """InvalidChoiceError.for_value says what was meant."""

    @pytest.mark.parametrize(("value", "known", "message"), [
        ("phnoe", ["phone", "online"], "unknown channel 'phnoe'. Did you mean 'phone'?"),
        ("fax", ["phone", "online"], "unknown channel 'fax'. Known: online, phone"),
        (3, ["phone"], "unknown channel 3. Known: phone"),
        ("fax", [], "unknown channel 'fax'"),
    ])
    def test_for_value(self, value: object, known: list[str], message: str) -> None:
        error = InvalidChoiceError.for_value("channel", value, known)
        assert message == str(error)
        with pytest.raises(ValueError, match=exactly(message)):
            raise error


class TestMissingExtraError:
    """MissingExtraError.for_extra names the module and the extra to install."""

    def test_for_extra(self) -> None:
        error = MissingExtraError.for_extra("frames", "narwhals")
        assert ("this feature needs the optional dependency 'narwhals': "
                "pip install 'servicekpi[frames]'") == str(error)
        with pytest.raises(ImportError, match=exactly(str(error))):
            raise error

    @pytest.mark.parametrize(("extra", "module"), [("plot", "matplotlib"), ("dask", "dask"),
                                                   ("progress", "tqdm")])
    def test_other_extras(self, extra: str, module: str) -> None:
        assert (f"this feature needs the optional dependency {module!r}: "
                f"pip install 'servicekpi[{extra}]'") == str(
                    MissingExtraError.for_extra(extra, module))
