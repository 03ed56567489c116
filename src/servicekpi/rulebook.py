"""Escalation rules as data: conditions, rules and the rule book, checked when built.

A :class:`Rule` lifts a complaint to a level (REPEAT or SEVERE) when its condition holds.
Conditions are built from a few combinators:

- :func:`field` — a field of the complaint: ``field("source", "==", "walk_in")``,
  ``field("flags", "contains_any", ["media", "safety"])``;
- :func:`count` — a count over related records, at least a threshold:
  ``count("unsolved_callbacks", at_least=2)``, or earlier complaints by the same customer
  on the same matter: ``count("earlier_complaints", at_least=1, within_days=30)``;
- :func:`unsolved_for` — still unsolved after N working days (policy calendar);
- :func:`level_at_least` — the level that rules of *lower* target levels reached;
- :func:`all_of`, :func:`any_of`, :func:`not_`.

Rules are validated when built: unknown fields and counters get a "Did you mean …?"
hint, contradictory thresholds (``count(x) >= 3`` and ``not count(x) >= 2``) and
impossible field combinations are rejected, and ``level_at_least`` may only look at
levels below the rule's own (no cycles). The book loads from and writes to the policy
TOML (``[[escalation.rules]]``); evaluation lives in :mod:`servicekpi.rules.escalation`.

>>> rule = Rule(id="walk-in", level="severe", description="walk-in petition (上访)",
...             when=field("source", "==", "walk_in"))
>>> Rulebook(rules=(rule,)).rules[0].level
<EscalationLevel.SEVERE: 2>
>>> field("sorce", "==", "walk_in")
Traceback (most recent call last):
...
servicekpi.exceptions.PolicyError: unknown complaint field 'sorce'. Did you mean 'source'?

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, final

import attrs

from servicekpi.domain import ComplaintFlag, ComplaintSource, EscalationLevel
from servicekpi.exceptions import PolicyError, UnknownKeyError

if TYPE_CHECKING:
    from servicekpi.policy import EscalationPolicy

__all__ = (
    "AllOf",
    "AnyOf",
    "Condition",
    "CountAtLeast",
    "FieldIs",
    "LevelAtLeast",
    "Not",
    "Rule",
    "Rulebook",
    "UnsolvedFor",
    "all_of",
    "any_of",
    "count",
    "field",
    "level_at_least",
    "not_",
    "unsolved_for",
)

FIELDS: Final = {"source": ("==", "!=", "in"), "complaint_type": ("==", "!=", "in"),
                 "station_id": ("==", "!=", "in"), "flags": ("contains_any",)}
COUNTERS: Final = ("unsolved_callbacks", "earlier_complaints")
Op = Literal["==", "!=", "in", "contains_any"]


def _level(value: object) -> EscalationLevel:
    return EscalationLevel.parse(value)


def _error(message: str) -> PolicyError:
    return PolicyError(message)


def _values(name: str, raw: object) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, Iterable) else [raw]
    if not items:
        raise _error(f"condition on {name!r} needs at least one value")
    out = []
    for item in items:
        try:
            if name == "source":
                out.append(ComplaintSource.parse(item).value)
            elif name == "flags":
                out.append(ComplaintFlag.parse(item).value)
            elif isinstance(item, str) and item.strip() and item == item.strip():
                out.append(item)
            else:
                raise _error(f"condition on {name!r}: values must be non-empty strings "
                             f"(got {item!r})")
        except ValueError as error:
            if isinstance(error, PolicyError):
                raise
            raise _error(f"condition on {name!r}: {error}") from error
    return tuple(sorted(set(out)))


@final
@attrs.frozen
class FieldIs:
    """A field of the complaint compared with values (``in``/``contains_any`` take several)."""

    name: str
    op: Op
    values: tuple[str, ...]

    def __attrs_post_init__(self) -> None:
        if self.name not in FIELDS:
            raise _error(str(UnknownKeyError.for_key("complaint field", self.name, FIELDS)))
        if self.op not in FIELDS[self.name]:
            raise _error(f"field {self.name!r} takes the operators {FIELDS[self.name]!r} "
                         f"(got {self.op!r})")
        if self.op in ("==", "!=") and len(self.values) != 1:
            raise _error(f"{self.name!r} {self.op} takes exactly one value "
                         f"(got {list(self.values)!r})")


@final
@attrs.frozen
class CountAtLeast:
    """At least ``at_least`` related records of the kind ``counter``.

    ``unsolved_callbacks``: callbacks on this complaint, made by ``now``, that left it
    unsolved (and unreachable ones when the policy counts them). ``earlier_complaints``:
    complaints of the same customer on the same ``complaint_type`` received in the
    ``within_days`` calendar days before this one (strictly earlier).
    """

    counter: str
    at_least: int
    within_days: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.counter not in COUNTERS:
            raise _error(str(UnknownKeyError.for_key("counter", self.counter, COUNTERS)))
        if isinstance(self.at_least, bool) or not isinstance(self.at_least, int) \
                or self.at_least < 1:
            raise _error(f"'at_least' must be an integer >= 1 (got {self.at_least!r})")
        if self.counter == "earlier_complaints":
            days = self.within_days
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                raise _error(f"'earlier_complaints' needs 'within_days' >= 1 (got {days!r})")
        elif self.within_days is not None:
            raise _error(f"{self.counter!r} takes no 'within_days' (got {self.within_days!r})")


@final
@attrs.frozen
class UnsolvedFor:
    """Still unsolved after the end of the ``working_days``-th working day after receipt."""

    working_days: int

    def __attrs_post_init__(self) -> None:
        days = self.working_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise _error(f"'unsolved_working_days' must be an integer >= 0 (got {days!r})")


@final
@attrs.frozen
class LevelAtLeast:
    """The level reached by the rules of lower target levels is at least ``level``."""

    level: EscalationLevel = attrs.field(converter=_level)


@final
@attrs.frozen
class AllOf:
    """Every condition holds."""

    conditions: tuple[Condition, ...]

    def __attrs_post_init__(self) -> None:
        if not self.conditions:
            raise _error("'all_of' needs at least one condition")
        _check_consistent(self)


@final
@attrs.frozen
class AnyOf:
    """At least one condition holds."""

    conditions: tuple[Condition, ...]

    def __attrs_post_init__(self) -> None:
        if not self.conditions:
            raise _error("'any_of' needs at least one condition")


@final
@attrs.frozen
class Not:
    """The condition does not hold."""

    condition: Condition


Condition: TypeAlias = "FieldIs | CountAtLeast | UnsolvedFor | LevelAtLeast | AllOf | AnyOf | Not"
_CONDITIONS: Final = (FieldIs, CountAtLeast, UnsolvedFor, LevelAtLeast, AllOf, AnyOf, Not)


def field(name: str, op: str, value: str | Sequence[str]) -> FieldIs:
    """A comparison on a complaint field (``source``, ``complaint_type``, ``station_id``,
    ``flags``)."""
    if name not in FIELDS:
        raise _error(str(UnknownKeyError.for_key("complaint field", name, FIELDS)))
    return FieldIs(name, op, _values(name, value))  # type: ignore[arg-type]


def count(counter: str, *, at_least: int, within_days: int | None = None) -> CountAtLeast:
    """At least *at_least* related records (see :class:`CountAtLeast`)."""
    return CountAtLeast(counter, at_least, within_days)


def unsolved_for(working_days: int) -> UnsolvedFor:
    """Unsolved after *working_days* working days (see :class:`UnsolvedFor`)."""
    return UnsolvedFor(working_days)


def level_at_least(level: EscalationLevel | str) -> LevelAtLeast:
    """The level of lower rules is at least *level*."""
    return LevelAtLeast(EscalationLevel.parse(level))


def all_of(*conditions: Condition) -> AllOf:
    """Every condition holds."""
    return AllOf(_conditions(conditions))


def any_of(*conditions: Condition) -> AnyOf:
    """At least one condition holds."""
    return AnyOf(_conditions(conditions))


def not_(condition: Condition) -> Not:
    """The condition does not hold."""
    return Not(_conditions((condition,))[0])


def _conditions(items: Iterable[object]) -> tuple[Condition, ...]:
    out = tuple(items)
    for item in out:
        if not isinstance(item, _CONDITIONS):
            raise _error(f"expected a condition (got {item!r})")
    return out  # type: ignore[return-value]


def _flatten_all(condition: AllOf) -> list[Condition]:
    out: list[Condition] = []
    for part in condition.conditions:
        out.extend(_flatten_all(part) if isinstance(part, AllOf) else [part])
    return out


def _check_consistent(condition: AllOf) -> None:
    """Reject conjunctions that can never hold (contradictory thresholds or fields)."""
    parts = _flatten_all(condition)
    at_least: dict[tuple[str, int | None], int] = {}
    below: dict[tuple[str, int | None], int] = {}
    allowed: dict[str, set[str]] = {}
    forbidden: dict[str, set[str]] = {}
    for part in parts:
        if isinstance(part, CountAtLeast):
            key = (part.counter, part.within_days)
            at_least[key] = max(at_least.get(key, 0), part.at_least)
        elif isinstance(part, Not) and isinstance(part.condition, CountAtLeast):
            inner = part.condition
            key = (inner.counter, inner.within_days)
            below[key] = min(below.get(key, inner.at_least), inner.at_least)
        elif isinstance(part, FieldIs) and part.op in ("==", "in"):
            current = allowed.get(part.name)
            allowed[part.name] = set(part.values) if current is None \
                else current & set(part.values)
        elif isinstance(part, FieldIs) and part.op == "!=":
            forbidden.setdefault(part.name, set()).update(part.values)
        elif isinstance(part, Not) and isinstance(part.condition, FieldIs) \
                and part.condition.op in ("==", "in"):
            forbidden.setdefault(part.condition.name, set()).update(part.condition.values)
    for key, low in at_least.items():
        if key in below and below[key] <= low:
            raise _error(f"contradictory thresholds: {key[0]} >= {low} and not "
                         f"{key[0]} >= {below[key]} can never both hold")
    for name, values in allowed.items():
        if not values or values <= forbidden.get(name, set()):
            raise _error(f"contradictory conditions: {name!r} cannot take every required "
                         f"value at once")


def _levels_used(condition: Condition) -> list[EscalationLevel]:
    if isinstance(condition, LevelAtLeast):
        return [condition.level]
    if isinstance(condition, (AllOf, AnyOf)):
        return [lvl for part in condition.conditions for lvl in _levels_used(part)]
    if isinstance(condition, Not):
        return _levels_used(condition.condition)
    return []


@final
@attrs.frozen(kw_only=True)
class Rule:
    """Lift a complaint to ``level`` when ``when`` holds; ``description`` explains it.

    Raises:
        PolicyError: an empty id, a GENERAL target (every complaint is general already),
            or ``level_at_least`` of a level not below the rule's own.

    .. versionadded:: 0.1
    """

    id: str
    level: EscalationLevel = attrs.field(converter=_level)
    description: str
    when: Condition

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip() or self.id != self.id.strip():
            raise _error(f"rule 'id' must be a non-empty string (got {self.id!r})")
        if self.level is EscalationLevel.GENERAL:
            raise _error(f"rule {self.id!r}: the target level must be repeat or severe "
                         f"(every complaint is general to begin with)")
        if not isinstance(self.description, str) or not self.description.strip():
            raise _error(f"rule {self.id!r}: 'description' must be a non-empty sentence")
        _conditions((self.when,))
        for used in _levels_used(self.when):
            if used >= self.level:
                raise _error(f"rule {self.id!r} ({self.level.name.lower()}) may only look at "
                             f"lower levels with level_at_least (got "
                             f"{used.name.lower()!r})")


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class Rulebook:
    """An ordered, validated collection of rules with unique ids.

    Evaluation takes the rules by ascending target level, so ``level_at_least`` sees
    everything below; the complaint's level is the maximum over the fired rules.

    .. versionadded:: 0.1
    """

    rules: tuple[Rule, ...] = attrs.field(converter=_rules)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if not isinstance(rule, Rule):
                raise _error(f"a rule book holds Rule objects (got {rule!r})")
            if rule.id in seen:
                raise _error(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise UnknownKeyError.for_key("rule", rule_id, [r.id for r in self.rules])

    @classmethod
    def default(cls, escalation: EscalationPolicy) -> Rulebook:
        """The rules of DOMAIN.md §4 with the thresholds of *escalation*."""
        rules = [
            Rule(id="repeat-unsolved-callbacks", level=EscalationLevel.REPEAT,
                 description=f"still unsolved after {escalation.repeat_unsolved_callbacks} "
                             f"callbacks (多次回访未解决)",
                 when=count("unsolved_callbacks",
                            at_least=escalation.repeat_unsolved_callbacks)),
            Rule(id="repeat-same-matter", level=EscalationLevel.REPEAT,
                 description=f"the same customer complained about the same matter within "
                             f"{escalation.repeat_window_days} days",
                 when=count("earlier_complaints", at_least=1,
                            within_days=escalation.repeat_window_days)),
        ]
        if escalation.severe_sources:
            rules.append(Rule(
                id="severe-source", level=EscalationLevel.SEVERE,
                description="received as " + " or ".join(
                    sorted(s.value.replace("_", "-") for s in escalation.severe_sources)),
                when=field("source", "in", sorted(s.value for s in escalation.severe_sources))))
        if escalation.severe_flags:
            rules.append(Rule(
                id="severe-flags", level=EscalationLevel.SEVERE,
                description="serious circumstances (情节严重): " + ", ".join(
                    sorted(f.value for f in escalation.severe_flags)),
                when=field("flags", "contains_any",
                           sorted(f.value for f in escalation.severe_flags))))
        rules.append(Rule(
            id="severe-repeat-unsolved", level=EscalationLevel.SEVERE,
            description=f"a repeat complaint still unsolved after "
                        f"{escalation.severe_after_working_days} working days",
            when=all_of(level_at_least(EscalationLevel.REPEAT),
                        unsolved_for(escalation.severe_after_working_days))))
        return cls(rules=rules)

    # -- data (TOML) form

    @classmethod
    def _from_data(cls, data: object, path: str) -> Rulebook:
        if not isinstance(data, (list, tuple)):
            raise _error(f"{path}: expected an array of rules (got {data!r})")
        rules = []
        for i, item in enumerate(data):
            here = f"{path}[{i}]"
            if isinstance(item, Rule):
                rules.append(item)
                continue
            if not isinstance(item, Mapping):
                raise _error(f"{here}: expected a table (got {item!r})")
            _known_keys(item, ("id", "level", "description", "when"), here)
            for key in ("id", "level", "description", "when"):
                if key not in item:
                    raise _error(f"{here}: missing key {key!r}")
            try:
                rules.append(Rule(id=item["id"], level=item["level"],
                                  description=item["description"],
                                  when=condition_from_data(item["when"], f"{here}.when")))
            except PolicyError as error:
                if str(error).startswith(here):
                    raise
                raise _error(f"{here}: {error}") from error
            except ValueError as error:
                raise _error(f"{here}: {error}") from error
        try:
            return cls(rules=rules)
        except PolicyError as error:
            raise _error(f"{path}: {error}") from error

    def _to_data(self) -> list[dict[str, Any]]:
        return [{"id": r.id, "level": r.level.name.lower(), "description": r.description,
                 "when": condition_to_data(r.when)} for r in self.rules]


def _known_keys(item: Mapping[str, Any], known: Sequence[str], path: str) -> None:
    for key in item:
        if key not in known:
            raise _error(f"{path}: {UnknownKeyError.for_key('key', key, known)}")


_FORMS: Final = {
    "field": ("field", "op", "value"), "count": ("count", "at_least", "within_days"),
    "unsolved_working_days": ("unsolved_working_days",), "level_at_least": ("level_at_least",),
    "all_of": ("all_of",), "any_of": ("any_of",), "not": ("not",),
}


def condition_from_data(data: object, path: str = "when") -> Condition:
    """A condition from its TOML/dict form (see the module docstring).

    >>> condition_from_data({"count": "unsolved_callbacks", "at_least": 2})
    CountAtLeast(counter='unsolved_callbacks', at_least=2, within_days=None)
    """
    if not isinstance(data, Mapping):
        raise _error(f"{path}: expected a table (got {data!r})")
    heads = [key for key in _FORMS if key in data]
    if len(heads) != 1:
        raise _error(f"{path}: a condition has exactly one of {sorted(_FORMS)!r} "
                     f"(got {sorted(data)!r})")
    head = heads[0]
    _known_keys(data, _FORMS[head], path)
    try:
        if head == "field":
            return field(data["field"], data.get("op", "=="), data.get("value", ()))
        if head == "count":
            if "at_least" not in data:
                raise _error("missing key 'at_least'")
            return count(data["count"], at_least=data["at_least"],
                         within_days=data.get("within_days"))
        if head == "unsolved_working_days":
            return unsolved_for(data["unsolved_working_days"])
        if head == "level_at_least":
            return level_at_least(data["level_at_least"])
        if head == "not":
            return not_(condition_from_data(data["not"], f"{path}.not"))
        parts = data[head]
        if not isinstance(parts, (list, tuple)):
            raise _error(f"'{head}' takes an array of conditions (got {parts!r})")
        built = [condition_from_data(part, f"{path}.{head}[{i}]")
                 for i, part in enumerate(parts)]
        return all_of(*built) if head == "all_of" else any_of(*built)
    except PolicyError as error:
        if str(error).startswith(path):
            raise
        raise _error(f"{path}: {error}") from error
    except ValueError as error:
        raise _error(f"{path}: {error}") from error


def condition_to_data(condition: Condition) -> dict[str, Any]:
    """The TOML/dict form of *condition* (read back by :func:`condition_from_data`)."""
    if isinstance(condition, FieldIs):
        value: Any = list(condition.values) if condition.op in ("in", "contains_any") \
            else condition.values[0]
        return {"field": condition.name, "op": condition.op, "value": value}
    if isinstance(condition, CountAtLeast):
        out: dict[str, Any] = {"count": condition.counter, "at_least": condition.at_least}
        if condition.within_days is not None:
            out["within_days"] = condition.within_days
        return out
    if isinstance(condition, UnsolvedFor):
        return {"unsolved_working_days": condition.working_days}
    if isinstance(condition, LevelAtLeast):
        return {"level_at_least": condition.level.name.lower()}
    if isinstance(condition, Not):
        return {"not": condition_to_data(condition.condition)}
    head = "all_of" if isinstance(condition, AllOf) else "any_of"
    return {head: [condition_to_data(part) for part in condition.conditions]}
