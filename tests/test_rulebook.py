"""Tests of servicekpi.rulebook: conditions, rules and the rule book, and their TOML form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from servicekpi.domain import ComplaintFlag, ComplaintSource, EscalationLevel
from servicekpi.exceptions import InvalidChoiceError, PolicyError, UnknownKeyError
from servicekpi.policy import EscalationPolicy, Policy
from servicekpi.rulebook import (
    AllOf,
    AnyOf,
    Condition,
    CountAtLeast,
    FieldIs,
    LevelAtLeast,
    Not,
    Rule,
    Rulebook,
    UnsolvedFor,
    all_of,
    any_of,
    condition_from_data,
    condition_to_data,
    count,
    field,
    level_at_least,
    not_,
    unsolved_for,
)

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)
REPEAT, SEVERE = EscalationLevel.REPEAT, EscalationLevel.SEVERE


def exactly(message: str) -> str:
    """A ``match=`` pattern that accepts *message* and nothing else."""
    return f"^{re.escape(message)}$"


def _rule(when: Condition, *, id: str = "r", level: str = "repeat") -> Rule:
    return Rule(id=id, level=level, description="a rule", when=when)


def _rules_toml(*rules: tuple[str, str, str]) -> str:
    """TOML text of ``[[escalation.rules]]`` entries (id, level, inline ``when``)."""
    return "\n".join(f'[[escalation.rules]]\nid = "{rid}"\nlevel = "{level}"\n'
                     f'description = "d"\nwhen = {when}\n' for rid, level, when in rules)


class TestField:
    """field() checks the field name, its operators and the values it compares with."""

    @pytest.mark.parametrize(("name", "op", "value", "expected"), [
        ("source", "==", "walk_in", FieldIs("source", "==", ("walk_in",))),
        ("source", "==", "Walk-In", FieldIs("source", "==", ("walk_in",))),
        ("source", "!=", ComplaintSource.LETTER, FieldIs("source", "!=", ("letter",))),
        ("source", "in", ["walk_in", "letter", "walk_in"],
         FieldIs("source", "in", ("letter", "walk_in"))),
        ("complaint_type", "==", "billing", FieldIs("complaint_type", "==", ("billing",))),
        ("station_id", "in", ["S2", "S1"], FieldIs("station_id", "in", ("S1", "S2"))),
        ("flags", "contains_any", ["safety", "MEDIA"],
         FieldIs("flags", "contains_any", ("media", "safety"))),
        ("flags", "contains_any", "threat", FieldIs("flags", "contains_any", ("threat",))),
    ])
    def test_valid(self, name: str, op: str, value: Any, expected: FieldIs) -> None:
        assert expected == field(name, op, value)

    @pytest.mark.parametrize(("name", "op", "value", "message"), [
        ("sorce", "==", "walk_in", "unknown complaint field 'sorce'. Did you mean 'source'?"),
        ("station", "==", "S1",
         "unknown complaint field 'station'. Did you mean 'station_id'?"),
        ("colour", "==", "red",
         "unknown complaint field 'colour'. Known: complaint_type, flags, source, station_id"),
        ("flags", "==", "media",
         "field 'flags' takes the operators ('contains_any',) (got '==')"),
        ("source", "contains_any", ["walk_in"],
         "field 'source' takes the operators ('==', '!=', 'in') (got 'contains_any')"),
        ("station_id", ">=", "S1",
         "field 'station_id' takes the operators ('==', '!=', 'in') (got '>=')"),
        ("source", "==", ["walk_in", "letter"],
         "'source' == takes exactly one value (got ['letter', 'walk_in'])"),
        ("complaint_type", "!=", ["a", "b"],
         "'complaint_type' != takes exactly one value (got ['a', 'b'])"),
        ("source", "==", "walkin",
         "condition on 'source': unknown complaint source 'walkin'. Did you mean 'walk_in'?"),
        ("source", "in", ["fax"], "condition on 'source': unknown complaint source 'fax'. "
                                  "Known: hotline, letter, online, walk_in"),
        ("flags", "contains_any", ["medai"],
         "condition on 'flags': unknown complaint flag 'medai'. Did you mean 'media'?"),
        ("station_id", "==", " S1",
         "condition on 'station_id': values must be non-empty strings (got ' S1')"),
        ("complaint_type", "in", ["billing", 3],
         "condition on 'complaint_type': values must be non-empty strings (got 3)"),
        ("station_id", "in", [], "condition on 'station_id' needs at least one value"),
    ])
    def test_invalid(self, name: str, op: str, value: Any, message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            field(name, op, value)

    def test_the_class_checks_too(self) -> None:
        with pytest.raises(PolicyError, match=exactly(
                "unknown complaint field 'sorce'. Did you mean 'source'?")):
            FieldIs("sorce", "==", ("walk_in",))


class TestCount:
    """count() knows two counters; only earlier_complaints takes a window, and needs one."""

    @pytest.mark.parametrize(("counter", "at_least", "within_days", "message"), [
        ("unsolved_callback", 2, None,
         "unknown counter 'unsolved_callback'. Did you mean 'unsolved_callbacks'?"),
        ("earlier_complaint", 1, 30,
         "unknown counter 'earlier_complaint'. Did you mean 'earlier_complaints'?"),
        ("earlier", 1, 30,
         "unknown counter 'earlier'. Known: earlier_complaints, unsolved_callbacks"),
        ("callbacks", 1, None,
         "unknown counter 'callbacks'. Did you mean 'unsolved_callbacks'?"),
        ("unsolved_callbacks", 0, None, "'at_least' must be an integer >= 1 (got 0)"),
        ("unsolved_callbacks", -2, None, "'at_least' must be an integer >= 1 (got -2)"),
        ("unsolved_callbacks", True, None, "'at_least' must be an integer >= 1 (got True)"),
        ("unsolved_callbacks", 1.5, None, "'at_least' must be an integer >= 1 (got 1.5)"),
        ("earlier_complaints", 1, None,
         "'earlier_complaints' needs 'within_days' >= 1 (got None)"),
        ("earlier_complaints", 1, 0, "'earlier_complaints' needs 'within_days' >= 1 (got 0)"),
        ("earlier_complaints", 1, True,
         "'earlier_complaints' needs 'within_days' >= 1 (got True)"),
        ("unsolved_callbacks", 2, 30,
         "'unsolved_callbacks' takes no 'within_days' (got 30)"),
    ])
    def test_invalid(self, counter: str, at_least: Any, within_days: Any,
                     message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            count(counter, at_least=at_least, within_days=within_days)

    def test_valid(self) -> None:
        assert CountAtLeast("unsolved_callbacks", 2, None) == count("unsolved_callbacks",
                                                                    at_least=2)
        assert CountAtLeast("earlier_complaints", 1, 30) == count(
            "earlier_complaints", at_least=1, within_days=30)


class TestUnsolvedForAndLevel:
    """unsolved_for() takes whole working days >= 0; level_at_least() parses levels."""

    @pytest.mark.parametrize("days", [-1, -10, True, 1.5, "3"])
    def test_invalid_days(self, days: Any) -> None:
        with pytest.raises(PolicyError, match=exactly(
                f"'unsolved_working_days' must be an integer >= 0 (got {days!r})")):
            unsolved_for(days)

    @pytest.mark.parametrize("days", [0, 1, 10])
    def test_valid_days(self, days: int) -> None:
        assert UnsolvedFor(days) == unsolved_for(days)

    @pytest.mark.parametrize("level", ["repeat", "REPEAT", 1, EscalationLevel.REPEAT])
    def test_level_parsed(self, level: Any) -> None:
        assert LevelAtLeast(EscalationLevel.REPEAT) == level_at_least(level)

    def test_unknown_level(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown escalation level 'sever'. Did you mean 'severe'?")):
            level_at_least("sever")


class TestCombinators:
    """all_of/any_of/not_ need conditions; all_of rejects conjunctions that never hold."""

    @pytest.mark.parametrize(("build", "message"), [
        (all_of, "'all_of' needs at least one condition"),
        (any_of, "'any_of' needs at least one condition"),
    ])
    def test_empty(self, build: Callable[..., Condition], message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            build()

    @pytest.mark.parametrize("build", [all_of, any_of, not_])
    def test_not_a_condition(self, build: Callable[..., Condition]) -> None:
        with pytest.raises(PolicyError, match=exactly("expected a condition (got 'x')")):
            build("x")

    @pytest.mark.parametrize(("parts", "message"), [
        ((count("unsolved_callbacks", at_least=3), not_(count("unsolved_callbacks",
                                                              at_least=2))),
         "contradictory thresholds: unsolved_callbacks >= 3 and not unsolved_callbacks "
         ">= 2 can never both hold"),
        ((count("unsolved_callbacks", at_least=3), not_(count("unsolved_callbacks",
                                                              at_least=3))),
         "contradictory thresholds: unsolved_callbacks >= 3 and not unsolved_callbacks "
         ">= 3 can never both hold"),
        ((not_(count("earlier_complaints", at_least=1, within_days=30)),
          all_of(count("earlier_complaints", at_least=2, within_days=30))),
         "contradictory thresholds: earlier_complaints >= 2 and not earlier_complaints "
         ">= 1 can never both hold"),
        ((field("source", "==", "walk_in"), field("source", "==", "letter")),
         "contradictory conditions: 'source' cannot take every required value at once"),
        ((field("station_id", "in", ["S1", "S2"]), field("station_id", "==", "S3")),
         "contradictory conditions: 'station_id' cannot take every required value at once"),
        ((all_of(field("complaint_type", "==", "a")), unsolved_for(1),
          field("complaint_type", "==", "b")),
         "contradictory conditions: 'complaint_type' cannot take every required value "
         "at once"),
    ])
    def test_contradictions(self, parts: tuple[Condition, ...], message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            all_of(*parts)

    @pytest.mark.parametrize("parts", [
        (count("unsolved_callbacks", at_least=3), not_(count("unsolved_callbacks",
                                                             at_least=4))),
        # different windows are different counters
        (count("earlier_complaints", at_least=2, within_days=30),
         not_(count("earlier_complaints", at_least=1, within_days=7))),
        (field("source", "in", ["walk_in", "letter"]), field("source", "==", "letter")),
        (field("source", "==", "walk_in"), field("station_id", "==", "S1")),
        (field("flags", "contains_any", ["media"]), field("flags", "contains_any", ["safety"])),
    ])
    def test_satisfiable(self, parts: tuple[Condition, ...]) -> None:
        assert parts == all_of(*parts).conditions

    @pytest.mark.parametrize("parts", [
        (field("source", "==", "walk_in"), field("source", "!=", "walk_in")),
        (field("source", "==", "walk_in"), not_(field("source", "==", "walk_in"))),
        (field("station_id", "in", ["S1"]), not_(field("station_id", "in", ["S1", "S2"]))),
    ])
    def test_negated_field_contradictions(self, parts: tuple[Condition, ...]) -> None:
        with pytest.raises(PolicyError, match="^contradictory conditions: "):
            all_of(*parts)

    def test_any_of_may_hold_alternatives(self) -> None:
        parts = (field("source", "==", "walk_in"), field("source", "==", "letter"))
        assert AnyOf(parts) == any_of(*parts)
        assert Not(parts[0]) == not_(parts[0])


class TestRule:
    """A rule targets REPEAT or SEVERE and looks only at lower levels."""

    def test_level_parsed(self) -> None:
        assert SEVERE == _rule(unsolved_for(1), level="Severe").level

    @pytest.mark.parametrize(("level", "when", "message"), [
        ("general", unsolved_for(1), "rule 'r': the target level must be repeat or severe "
                                     "(every complaint is general to begin with)"),
        ("repeat", level_at_least("repeat"),
         "rule 'r' (repeat) may only look at lower levels with level_at_least "
         "(got 'repeat')"),
        ("repeat", level_at_least("severe"),
         "rule 'r' (repeat) may only look at lower levels with level_at_least "
         "(got 'severe')"),
        ("severe", all_of(unsolved_for(2), level_at_least("severe")),
         "rule 'r' (severe) may only look at lower levels with level_at_least "
         "(got 'severe')"),
        ("repeat", not_(any_of(unsolved_for(1), level_at_least("repeat"))),
         "rule 'r' (repeat) may only look at lower levels with level_at_least "
         "(got 'repeat')"),
    ])
    def test_invalid_level(self, level: str, when: Condition, message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            _rule(when, level=level)

    def test_lower_levels_allowed(self) -> None:
        rule = _rule(all_of(level_at_least("repeat"), unsolved_for(3)), level="severe")
        assert SEVERE == rule.level
        assert REPEAT == _rule(not_(level_at_least("general"))).level

    def test_unknown_level(self) -> None:
        with pytest.raises(InvalidChoiceError, match=exactly(
                "unknown escalation level 'repat'. Did you mean 'repeat'?")):
            _rule(unsolved_for(1), level="repat")

    @pytest.mark.parametrize("rule_id", ["", " r", "r ", "   "])
    def test_bad_id(self, rule_id: str) -> None:
        with pytest.raises(PolicyError, match=exactly(
                f"rule 'id' must be a non-empty string (got {rule_id!r})")):
            _rule(unsolved_for(1), id=rule_id)

    def test_bad_description(self) -> None:
        with pytest.raises(PolicyError, match=exactly(
                "rule 'r': 'description' must be a non-empty sentence")):
            Rule(id="r", level="repeat", description=" ", when=unsolved_for(1))

    def test_when_must_be_a_condition(self) -> None:
        with pytest.raises(PolicyError, match=exactly("expected a condition (got 'x')")):
            Rule(id="r", level="repeat", description="d", when="x")  # type: ignore[arg-type]


class TestRulebook:
    """A rule book holds Rule objects with unique ids and looks them up by id."""

    def test_duplicate_ids(self) -> None:
        rule = _rule(unsolved_for(1), id="twice")
        with pytest.raises(PolicyError, match=exactly("duplicate rule id 'twice'")):
            Rulebook(rules=(rule, attrs.evolve(rule, level="severe")))

    def test_not_a_rule(self) -> None:
        with pytest.raises(PolicyError, match=exactly(
                "a rule book holds Rule objects (got 'x')")):
            Rulebook(rules=[_rule(unsolved_for(1)), "x"])  # type: ignore[list-item]

    def test_lookup(self) -> None:
        book = Rulebook(rules=[_rule(unsolved_for(1), id="slow"),
                               _rule(unsolved_for(2), id="slower")])
        assert 2 == len(book)
        assert UnsolvedFor(2) == book["slower"].when
        assert isinstance(book.rules, tuple)
        with pytest.raises(UnknownKeyError, match=exactly(
                "unknown rule 'slowr'. Did you mean 'slower'?")):
            book["slowr"]


DEFAULT_RULES = [
    ("repeat-unsolved-callbacks", REPEAT, count("unsolved_callbacks", at_least=2),
     "still unsolved after 2 callbacks (多次回访未解决)"),
    ("repeat-same-matter", REPEAT, count("earlier_complaints", at_least=1, within_days=30),
     "the same customer complained about the same matter within 30 days"),
    ("severe-source", SEVERE, field("source", "in", ["walk_in"]), "received as walk-in"),
    ("severe-flags", SEVERE,
     field("flags", "contains_any", ["media", "regulator", "safety", "threat"]),
     "serious circumstances (情节严重): media, regulator, safety, threat"),
    ("severe-repeat-unsolved", SEVERE, all_of(level_at_least("repeat"), unsolved_for(10)),
     "a repeat complaint still unsolved after 10 working days"),
]


class TestDefaultRules:
    """The default rule book is DOMAIN.md §4 with the EscalationPolicy's numbers."""

    @pytest.mark.parametrize(("rule_id", "level", "when", "description"), DEFAULT_RULES)
    def test_default_rule(self, rule_id: str, level: EscalationLevel, when: Condition,
                          description: str) -> None:
        rule = Policy.default().escalation.rulebook[rule_id]
        assert (level, when, description) == (rule.level, rule.when, rule.description)

    def test_order_and_ids(self) -> None:
        assert [r[0] for r in DEFAULT_RULES] == [
            r.id for r in Policy.default().escalation.rulebook.rules]

    def test_default_equals_rulebook_default(self) -> None:
        escalation = EscalationPolicy()
        assert Rulebook.default(escalation) == escalation.rulebook
        assert escalation.rules is None

    def test_numbers_follow_the_policy(self) -> None:
        escalation = EscalationPolicy(repeat_unsolved_callbacks=3, repeat_window_days=14,
                                      severe_sources=["letter", "walk_in"],
                                      severe_flags=["safety"], severe_after_working_days=5)
        book = escalation.rulebook
        assert count("unsolved_callbacks", at_least=3) == book[
            "repeat-unsolved-callbacks"].when
        assert count("earlier_complaints", at_least=1, within_days=14) == book[
            "repeat-same-matter"].when
        assert field("source", "in", ["letter", "walk_in"]) == book["severe-source"].when
        assert "received as letter or walk-in" == book["severe-source"].description
        assert field("flags", "contains_any", ["safety"]) == book["severe-flags"].when
        assert all_of(level_at_least("repeat"), unsolved_for(5)) == book[
            "severe-repeat-unsolved"].when
        assert "still unsolved after 3 callbacks (多次回访未解决)" == book[
            "repeat-unsolved-callbacks"].description

    def test_no_sources_or_flags_no_rules(self) -> None:
        book = EscalationPolicy(severe_sources=[], severe_flags=[]).rulebook
        assert ["repeat-unsolved-callbacks", "repeat-same-matter",
                "severe-repeat-unsolved"] == [r.id for r in book.rules]

    def test_own_rules_replace_the_defaults(self) -> None:
        own = Rulebook(rules=[_rule(field("source", "==", "letter"), id="letters")])
        assert own == EscalationPolicy(rules=own).rulebook
        assert own == EscalationPolicy(rules=list(own.rules)).rulebook


# --------------------------------------------------------------------------- data form

_leaves: st.SearchStrategy[Condition] = st.one_of(
    st.builds(field, st.just("source"), st.sampled_from(["==", "!="]),
              st.sampled_from([s.value for s in ComplaintSource])),
    st.builds(field, st.just("source"), st.just("in"),
              st.lists(st.sampled_from(list(ComplaintSource)), min_size=1, max_size=3)),
    st.builds(field, st.sampled_from(["complaint_type", "station_id"]),
              st.sampled_from(["==", "!="]),
              st.sampled_from(["S1", "billing", "x y", "站-1", 'a"b', "it's"])),
    st.builds(field, st.sampled_from(["complaint_type", "station_id"]), st.just("in"),
              st.lists(st.sampled_from(["S1", "S2", "billing"]), min_size=1, max_size=3)),
    st.builds(field, st.just("flags"), st.just("contains_any"),
              st.lists(st.sampled_from(list(ComplaintFlag)), min_size=1, max_size=4)),
    st.builds(lambda n: count("unsolved_callbacks", at_least=n),
              st.integers(min_value=1, max_value=5)),
    st.builds(lambda n, d: count("earlier_complaints", at_least=n, within_days=d),
              st.integers(min_value=1, max_value=5), st.sampled_from([7, 30, 90])),
    st.builds(unsolved_for, st.integers(min_value=0, max_value=20)),
    st.builds(level_at_least, st.sampled_from(["general", "repeat"])),
)


def _try_all_of(parts: list[Condition]) -> Condition | None:
    try:
        return all_of(*parts)
    except PolicyError:  # a contradictory conjunction: not a condition at all
        return None


def _extend(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    parts = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        parts.map(_try_all_of).filter(lambda c: c is not None),
        parts.map(lambda p: any_of(*p)),
        children.map(not_),
    )


conditions: st.SearchStrategy[Condition] = st.recursive(_leaves, _extend, max_leaves=8)


class TestConditionData:
    """condition_to_data and condition_from_data are inverse; bad data names its path."""

    @FAST
    @given(conditions)
    def test_round_trip(self, condition: Condition) -> None:
        data = condition_to_data(condition)
        assert condition == condition_from_data(data)
        assert data == condition_to_data(condition_from_data(data))

    @pytest.mark.parametrize(("condition", "data"), [
        (field("source", "==", "walk_in"), {"field": "source", "op": "==", "value": "walk_in"}),
        (field("flags", "contains_any", ["safety", "media"]),
         {"field": "flags", "op": "contains_any", "value": ["media", "safety"]}),
        (count("unsolved_callbacks", at_least=2), {"count": "unsolved_callbacks",
                                                   "at_least": 2}),
        (count("earlier_complaints", at_least=1, within_days=30),
         {"count": "earlier_complaints", "at_least": 1, "within_days": 30}),
        (unsolved_for(10), {"unsolved_working_days": 10}),
        (level_at_least("repeat"), {"level_at_least": "repeat"}),
        (not_(unsolved_for(0)), {"not": {"unsolved_working_days": 0}}),
        (all_of(unsolved_for(1), level_at_least("repeat")),
         {"all_of": [{"unsolved_working_days": 1}, {"level_at_least": "repeat"}]}),
        (any_of(unsolved_for(1)), {"any_of": [{"unsolved_working_days": 1}]}),
    ])
    def test_data_form(self, condition: Condition, data: dict[str, Any]) -> None:
        assert data == condition_to_data(condition)
        assert condition == condition_from_data(data)

    def test_op_defaults_to_equals(self) -> None:
        assert field("source", "==", "walk_in") == condition_from_data(
            {"field": "source", "value": "walk_in"})

    @pytest.mark.parametrize(("data", "message"), [
        (3, "when: expected a table (got 3)"),
        ({}, "when: a condition has exactly one of ['all_of', 'any_of', 'count', 'field', "
             "'level_at_least', 'not', 'unsolved_working_days'] (got [])"),
        ({"count": "unsolved_callbacks", "unsolved_working_days": 1},
         "when: a condition has exactly one of ['all_of', 'any_of', 'count', 'field', "
         "'level_at_least', 'not', 'unsolved_working_days'] (got ['count', "
         "'unsolved_working_days'])"),
        ({"count": "unsolved_callbacks"}, "when: missing key 'at_least'"),
        ({"count": "unsolved_callbacks", "at_least": 2, "within": 3},
         "when: unknown key 'within'. Did you mean 'within_days'?"),
        ({"field": "sorce", "value": "walk_in"},
         "when: unknown complaint field 'sorce'. Did you mean 'source'?"),
        ({"field": "source", "value": "walkin"}, "when: condition on 'source': unknown "
                                                 "complaint source 'walkin'. Did you mean "
                                                 "'walk_in'?"),
        ({"field": "flags", "op": "contains_any", "value": ["medai"]},
         "when: condition on 'flags': unknown complaint flag 'medai'. Did you mean 'media'?"),
        ({"level_at_least": "sever"},
         "when: unknown escalation level 'sever'. Did you mean 'severe'?"),
        ({"all_of": {"unsolved_working_days": 1}},
         "when: 'all_of' takes an array of conditions (got {'unsolved_working_days': 1})"),
        ({"any_of": []}, "when: 'any_of' needs at least one condition"),
        ({"all_of": [{"unsolved_working_days": 1}, {"count": "x", "at_least": 1}]},
         "when.all_of[1]: unknown counter 'x'. Known: earlier_complaints, unsolved_callbacks"),
        ({"not": {"any_of": [{"unsolved_working_days": -1}]}},
         "when.not.any_of[0]: 'unsolved_working_days' must be an integer >= 0 (got -1)"),
        ({"all_of": [{"field": "source", "value": "walk_in"},
                     {"field": "source", "value": "letter"}]},
         "when: contradictory conditions: 'source' cannot take every required value "
         "at once"),
    ])
    def test_invalid(self, data: Any, message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            condition_from_data(data)


class TestPolicyToml:
    """``[[escalation.rules]]`` loads a rule book; errors start with the key path."""

    def test_load(self) -> None:
        policy = Policy.from_toml(_rules_toml(
            ("walk-in", "severe", '{ field = "source", op = "==", value = "walk_in" }'),
            ("twice", "repeat", '{ all_of = [{ count = "unsolved_callbacks", at_least = 2 }, '
                                '{ not = { field = "flags", op = "contains_any", '
                                'value = ["media"] } }] }')))
        expected = Rulebook(rules=[
            Rule(id="walk-in", level="severe", description="d",
                 when=field("source", "==", "walk_in")),
            Rule(id="twice", level="repeat", description="d",
                 when=all_of(count("unsolved_callbacks", at_least=2),
                             not_(field("flags", "contains_any", ["media"]))))])
        assert expected == policy.escalation.rules
        assert expected == policy.escalation.rulebook
        # the other escalation settings keep their defaults
        assert 200.0 == policy.escalation.repeat_penalty

    @pytest.mark.parametrize(("text", "message"), [
        (_rules_toml(("a", "repeat", '{ field = "sorce", value = "walk_in" }')),
         "policy.escalation.rules[0].when: unknown complaint field 'sorce'. "
         "Did you mean 'source'?"),
        (_rules_toml(("a", "repeat", '{ unsolved_working_days = 1 }'),
                     ("b", "repeat", '{ count = "unsolved_callbacks" }')),
         "policy.escalation.rules[1].when: missing key 'at_least'"),
        (_rules_toml(("a", "repeat", '{ all_of = [{ count = "unsolved_callbacks", '
                                     'at_least = 0 }] }')),
         "policy.escalation.rules[0].when.all_of[0]: 'at_least' must be an integer >= 1 "
         "(got 0)"),
        (_rules_toml(("a", "repeat", '{ count = "earlier_complaints", at_least = 1 }')),
         "policy.escalation.rules[0].when: 'earlier_complaints' needs 'within_days' >= 1 "
         "(got None)"),
        (_rules_toml(("a", "repeat", '{ all_of = [{ count = "unsolved_callbacks", '
                                     'at_least = 3 }, { not = { count = '
                                     '"unsolved_callbacks", at_least = 2 } }] }')),
         "policy.escalation.rules[0].when: contradictory thresholds: unsolved_callbacks >= 3 "
         "and not unsolved_callbacks >= 2 can never both hold"),
        (_rules_toml(("a", "repat", '{ unsolved_working_days = 3 }')),
         "policy.escalation.rules[0]: unknown escalation level 'repat'. "
         "Did you mean 'repeat'?"),
        (_rules_toml(("a", "general", '{ unsolved_working_days = 3 }')),
         "policy.escalation.rules[0]: rule 'a': the target level must be repeat or severe "
         "(every complaint is general to begin with)"),
        (_rules_toml(("a", "repeat", '{ level_at_least = "repeat" }')),
         "policy.escalation.rules[0]: rule 'a' (repeat) may only look at lower levels "
         "with level_at_least (got 'repeat')"),
        (_rules_toml(("a", "repeat", '{ unsolved_working_days = 3 }'),
                     ("a", "severe", '{ unsolved_working_days = 5 }')),
         "policy.escalation.rules: duplicate rule id 'a'"),
        ('[[escalation.rules]]\nid = "a"\nlevel = "repeat"\ndescription = "d"\n',
         "policy.escalation.rules[0]: missing key 'when'"),
        ('[[escalation.rules]]\nid = "a"\nlevel = "repeat"\ndescription = "d"\n'
         'wehn = { unsolved_working_days = 3 }\n',
         "policy.escalation.rules[0]: unknown key 'wehn'. Did you mean 'when'?"),
        ("[escalation]\nrules = 3\n",
         "policy.escalation.rules: expected an array of rules (got 3)"),
        ("[escalation]\nrules = [3]\n",
         "policy.escalation.rules[0]: expected a table (got 3)"),
    ])
    def test_invalid(self, text: str, message: str) -> None:
        with pytest.raises(PolicyError, match=exactly(message)):
            Policy.from_toml(text)

    def test_round_trip_custom_rules(self) -> None:
        book = Rulebook(rules=[
            Rule(id="letters", level="repeat", description="letters from S1 (信函)",
                 when=all_of(field("source", "==", "letter"),
                             field("station_id", "in", ["S1", "S2"]))),
            Rule(id="slow", level="severe", description="repeat and slow",
                 when=all_of(level_at_least("repeat"),
                             not_(any_of(unsolved_for(0), count(
                                 "earlier_complaints", at_least=2, within_days=60))))),
        ])
        policy = Policy.default().replace(
            escalation=EscalationPolicy(rules=book, repeat_penalty=150.0))
        text = policy.to_toml()
        assert "[[escalation.rules]]" in text
        assert policy == Policy.from_toml(text)
        assert book == Policy.from_toml(text).escalation.rulebook

    def test_empty_rule_book(self) -> None:
        policy = Policy.from_toml("[escalation]\nrules = []\n")
        assert Rulebook(rules=()) == policy.escalation.rulebook
        assert policy == Policy.from_toml(policy.to_toml())

    def test_default_policy_round_trip_keeps_default_rules(self) -> None:
        policy = Policy.default()
        again = Policy.from_toml(policy.to_toml())
        assert policy == again
        assert policy.escalation.rulebook == again.escalation.rulebook

    @FAST
    @given(conditions, st.sampled_from(["repeat", "severe"]))
    def test_round_trip_generated(self, condition: Condition, level: str) -> None:
        levels = [c.level for c in _all_levels(condition)]
        assume(all(lvl < EscalationLevel.parse(level) for lvl in levels))
        book = Rulebook(rules=[Rule(id="gen", level=level, description="generated",
                                    when=condition)])
        policy = Policy.default().replace(escalation=EscalationPolicy(rules=book))
        assert policy == Policy.from_toml(policy.to_toml())


def _all_levels(condition: Condition) -> list[LevelAtLeast]:
    if isinstance(condition, LevelAtLeast):
        return [condition]
    if isinstance(condition, (AllOf, AnyOf)):
        return [x for part in condition.conditions for x in _all_levels(part)]
    if isinstance(condition, Not):
        return _all_levels(condition.condition)
    return []
