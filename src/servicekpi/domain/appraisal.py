"""绩效考核 inputs: an agent's appraisal for a period, on one of the two tracks."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar, final

import attrs

from servicekpi.domain import _checks
from servicekpi.domain.enums import AppraisalTrack
from servicekpi.domain.period import Period
from servicekpi.exceptions import InvalidAppraisalError, InvalidRecordError

__all__ = ("Appraisal", "AppraisalItem", "Deduction", "Training")


def _optional_score(instance: object, attribute: attrs.Attribute[float | None],
                    value: float | None) -> None:
    if value is not None:
        _checks.between(0, 100)(instance, attribute, value)


@final
@attrs.frozen(kw_only=True)
class AppraisalItem:
    """One plan item or key indicator, with its weight and (once scored) its score.

    Args:
        name: the item, e.g. ``"fault_handling_response"``.
        weight: its share of the total, in (0, 1].
        requirement: the written completion requirement (完成要求).
        score: completion score 0–100 given by the evaluator; ``None`` = not yet scored.

    >>> AppraisalItem(name="compliance", weight=0.25, score=90).score
    90

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidAppraisalError
    _noun: ClassVar[str] = "appraisal item"
    _key: ClassVar[str] = "name"

    name: str = attrs.field(validator=_checks.ident)
    weight: float = attrs.field(validator=_checks.between(0, 1, low_open=True))
    requirement: str = attrs.field(default="", validator=_checks.text)
    score: float | None = attrs.field(default=None, validator=_optional_score)


@final
@attrs.frozen(kw_only=True)
class Deduction:
    """A key-behaviour deduction (关键行为扣分) from the standard score.

    >>> Deduction(behaviour="late_report", points=2).points
    2

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidAppraisalError
    _noun: ClassVar[str] = "deduction"
    _key: ClassVar[str] = "behaviour"

    behaviour: str = attrs.field(validator=_checks.ident)
    points: float = attrs.field(validator=_checks.between(0, 1e9, low_open=True))
    at: datetime | None = attrs.field(default=None, validator=_checks.optional_aware)
    note: str = attrs.field(default="", validator=_checks.text)


def _collection(name: str, value: object) -> tuple[object, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidAppraisalError(f"{name!r} must be a collection (got {value!r})")
    return tuple(value)


def _items(value: object) -> tuple[AppraisalItem, ...]:
    return _collection("items", value)  # type: ignore[return-value]


def _deductions(value: object) -> tuple[Deduction, ...]:
    return _collection("deductions", value)  # type: ignore[return-value]


def _period(instance: object, attribute: attrs.Attribute[Period], value: object) -> None:
    if not isinstance(value, Period):
        raise _checks.fail(instance, f"'period' must be a Period (got {value!r})")


@final
@attrs.frozen(kw_only=True)
class Appraisal:
    """An agent's appraisal for a period.

    On the performance-agreement track (绩效协议) ``items`` are the plan items agreed at
    the start of the month, scored by the direct supervisor, and ``quality_score`` is the
    daily-work quality score. On the key-indicator track (关键指标/关键行为) ``items`` are
    the key indicators and ``deductions`` the listed bad behaviours, taken from
    ``standard_score``.

    Args:
        agent_id: the agent appraised.
        period: the period appraised.
        track: which of the two tracks.
        items: weighted items; their weights sum to 1 when any are given.
        deductions: key-behaviour deductions (key-indicator track only).
        quality_score: daily-work quality score 0–100 (performance-agreement track only).
        standard_score: the standard score deductions are taken from (default 100).

    Raises:
        InvalidAppraisalError: duplicate item names, weights not summing to 1, or a
            field that does not belong to the track.

    >>> from servicekpi.domain import Period
    >>> Appraisal(agent_id="A-1", period=Period.parse("2026-10", tz="UTC"),
    ...           track="key_indicators",
    ...           items=[AppraisalItem(name="compliance", weight=0.6),
    ...                  AppraisalItem(name="feedback", weight=0.3)])
    Traceback (most recent call last):
    ...
    servicekpi.exceptions.InvalidAppraisalError: item weights must sum to 1 (got 0.9) on appraisal 'A-1'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidAppraisalError
    _noun: ClassVar[str] = "appraisal"
    _key: ClassVar[str] = "agent_id"

    agent_id: str = attrs.field(validator=_checks.ident)
    period: Period = attrs.field(validator=_period)
    track: AppraisalTrack = attrs.field(converter=AppraisalTrack)
    items: tuple[AppraisalItem, ...] = attrs.field(factory=tuple, converter=_items)
    deductions: tuple[Deduction, ...] = attrs.field(factory=tuple, converter=_deductions)
    quality_score: float | None = attrs.field(default=None, validator=_optional_score)
    standard_score: float = attrs.field(default=100.0,
                                        validator=_checks.between(0, 1e9, low_open=True))

    def __attrs_post_init__(self) -> None:
        for item in self.items:
            if not isinstance(item, AppraisalItem):
                raise _checks.fail(self, f"'items' must hold AppraisalItem (got {item!r})")
        for deduction in self.deductions:
            if not isinstance(deduction, Deduction):
                raise _checks.fail(self, f"'deductions' must hold Deduction "
                                         f"(got {deduction!r})")
        names = [item.name for item in self.items]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise _checks.fail(self, f"duplicate item names {duplicates!r}")
        total = math.fsum(item.weight for item in self.items)
        if self.items and not math.isclose(total, 1.0, abs_tol=1e-9):
            raise _checks.fail(self, f"item weights must sum to 1 (got {total:g})")
        if self.track is AppraisalTrack.PERFORMANCE_AGREEMENT and self.deductions:
            raise _checks.fail(self, "'deductions' belong to the key-indicators track, "
                                     "not the performance agreement")
        if self.track is AppraisalTrack.KEY_INDICATORS and self.quality_score is not None:
            raise _checks.fail(self, "'quality_score' belongs to the performance agreement, "
                                     "not the key-indicators track")

    @property
    def total_deduction(self) -> float:
        """The sum of all deduction points."""
        return math.fsum(d.points for d in self.deductions)


@final
@attrs.frozen(kw_only=True)
class Training:
    """A training held (培训), counted against the team's yearly targets (DOMAIN.md §7).

    Args:
        kind: the kind of training, a key of ``policy.team.trainings_per_year``
            (``front_desk``, ``technical_basics``, ``workshop``, ``hard_case_reviews``,
            ``team_activities``).
        held_at: when it was held (aware).
        training_id: an id, if the source has one.
        team_id: the team trained, if it was one team.
        attendees: how many took part.

    >>> from datetime import datetime, timezone
    >>> Training(kind="workshop", held_at=datetime(2026, 3, 2, tzinfo=timezone.utc)).kind
    'workshop'

    .. versionadded:: 0.1
    """

    _error: ClassVar[type[InvalidRecordError]] = InvalidAppraisalError
    _noun: ClassVar[str] = "training"
    _key: ClassVar[str] = "training_id"

    kind: str = attrs.field(validator=_checks.ident)
    held_at: datetime = attrs.field(validator=_checks.aware)
    training_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    team_id: str | None = attrs.field(default=None, validator=_checks.optional_ident)
    attendees: int = attrs.field(default=0, validator=_checks.non_negative_int)
