"""docs/policy.md documents every key of the policy with its default, and no other key.

The keys come from ``Policy.default().to_mapping()`` (what ``servicekpi policy
--dump-default`` prints), walked alongside the policy object so that a section whose
keys are data (KPI names, service types, roles, …) is told apart from a section of
fixed fields. Conventions the page follows:

- every key path is mentioned in backticks: ``followup.first_call_min_days``;
- a section whose keys are data is documented once as a pattern, with a placeholder for
  the data key (``kpis.<name>.target``, ``weights.<type>.<kpi>``), and each of its
  default entries by its own path (``kpis.csi_rate``, ``weights.repair.csi_rate``);
- a table row that starts with a key gives its default in the next cell as the TOML
  literal (``| `followup.first_call_min_days` | `3` |``); a row for an entry whose value
  is a table of fields (``kpis.csi_rate``, ``followup.cadence.a``) gives every field's
  literal, in field order, in the cells that follow; a key whose default is unset reads
  ``not set``. Every leaf key and every such entry has its row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest

import servicekpi

PAGE = Path(__file__).resolve().parents[1] / "docs" / "policy.md"

#: The placeholder of each section whose keys are data, by the section's pattern path.
PLACEHOLDERS = {
    "kpis": "<name>",
    "weights": "<type>",
    "weights.<type>": "<kpi>",
    "grades": "<grade>",
    "tracks": "<role>",
    "raters.weights": "<role>",
    "followup.cadence": "<tier>",
    "sla.first_response": "<priority>",
    "sla.resolution": "<priority>",
    "sla.next_reply": "<priority>",
    "sla.clocks": "<clock>",
    "team.trainings_per_year": "<kind>",
    "scoring.components": "<part>",
    "scoring.role_mixes": "<role>",
}

_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")
_TOKEN = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_<>]+)*)`")


class Key(NamedTuple):
    """One key of the default policy."""

    path: str  # e.g. "kpis.csi_rate.target"
    pattern: str  # e.g. "kpis.<name>.target"
    entry: bool  # its last part is a data key (a KPI name, a role, …)
    value: object  # the object at the key (an attrs section, a mapping or a leaf)
    data: Any  # the same as plain data (what to_mapping holds)


def _children(value: object, data: Mapping[str, Any]) -> Iterator[tuple[str, object, bool]]:
    """(key, the object under it, whether the key is data) for every key of *data*."""
    if attrs.has(type(value)):
        for key in data:
            yield key, getattr(value, key), False
    elif isinstance(value, Mapping):
        # to_mapping keeps the order of the mapping, and writes each key as text.
        for key, child in zip(data, value.values(), strict=True):
            yield key, child, True
    else:  # pragma: no cover - only sections and mappings dump to tables
        raise TypeError(f"cannot walk {value!r}")


def _walk(value: object, data: Mapping[str, Any], path: tuple[str, ...] = (),
          pattern: tuple[str, ...] = ()) -> Iterator[Key]:
    for key, child, is_data in _children(value, data):
        here = (*path, key)
        shape = (*pattern, PLACEHOLDERS.get(".".join(pattern), "<?>") if is_data else key)
        yield Key(".".join(here), ".".join(shape), is_data, child, data[key])
        if isinstance(data[key], Mapping):
            yield from _walk(child, data[key], here, shape)


def _keys() -> list[Key]:
    policy = servicekpi.Policy.default()
    data = policy.to_mapping()
    # to_mapping writes extends = "none" (it is the whole policy); the default of the
    # key, what a file that leaves it out gets, is "default".
    assert "none" == data.pop("extends")
    return [Key("extends", "extends", False, "default", "default"), *_walk(policy, data)]


def _literal(value: Any) -> str:
    """The TOML literal of a plain default, as the page writes it."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    raise TypeError(f"no TOML literal for {value!r}")  # pragma: no cover


def _cell(value: Any) -> str:
    literal = _literal(value)
    return literal if value is None else f"`{literal}`"


def _rows(text: str) -> dict[str, list[str]]:
    """The cells after the key of every table row that starts with a key."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def _expected_rows(keys: list[Key]) -> dict[str, list[str]]:
    """The default cells every documented row must start with, by key path."""
    expected: dict[str, list[str]] = {}
    for key in keys:
        if key.entry and attrs.has(type(key.value)):  # kpis.csi_rate, followup.cadence.a
            expected[key.path] = [_cell(v) for v in key.data.values()]
        elif not isinstance(key.data, Mapping) and not any(
                key.path.startswith(entry + ".") for entry in expected):
            expected[key.path] = [_cell(key.data)]
    return expected


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


class TestPolicyReference:
    """Every key of the default policy is on docs/policy.md, with its default."""

    def test_every_data_section_has_a_placeholder(self) -> None:
        sections = {key.pattern.rsplit(".", 1)[0] for key in _keys() if key.entry}
        assert set(PLACEHOLDERS) == sections

    def test_every_key_is_mentioned(self, page: str) -> None:
        wanted = {key.pattern for key in _keys()} | {key.path for key in _keys() if key.entry}
        missing = sorted(path for path in wanted if f"`{path}`" not in page)
        assert [] == missing

    def test_every_default_is_shown(self, page: str) -> None:
        rows = _rows(page)
        expected = _expected_rows(_keys())
        missing = sorted(path for path in expected if path not in rows)
        assert [] == missing
        stale = {path: rows[path][:len(cells)] for path, cells in expected.items()
                 if rows[path][:len(cells)] != cells}
        assert {} == stale, {path: expected[path] for path in stale}

    def test_no_key_that_is_gone(self, page: str) -> None:
        keys = _keys()
        known = {key.path for key in keys} | {key.pattern for key in keys}
        tops = {key.path for key in keys if "." not in key.path}
        mentioned = {token for token in _TOKEN.findall(page) if "." in token
                     and token.split(".", 1)[0] in tops}
        assert [] == sorted(mentioned - known)
