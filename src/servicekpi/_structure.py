"""Build frozen attrs objects from plain data (TOML) and back, with key-path errors.

The loader is structural: it walks the attrs fields of the target class, converts
nested tables into nested attrs objects, mappings and tuples by their annotations,
leaves leaf values it does not know (dates, times, strings for custom converters) to
the class's own converters, and reports every failure as a :class:`PolicyError` that
starts with the TOML key path (``policy.kpis.csi_rate.target: …``).
"""

from __future__ import annotations

import enum
import math
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, TypeVar

import attrs

from servicekpi._frozen import FrozenDict
from servicekpi.exceptions import PolicyError, ServiceKPIError, UnknownKeyError

T = TypeVar("T")

__all__ = ("build", "dump", "to_toml")


def build(cls: type[T], data: Mapping[str, Any], path: str) -> T:
    """An instance of the attrs class *cls* from the mapping *data* found at *path*."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"{path}: expected a table (got {data!r})")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in attrs.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields or not fields[key].init:
            hint = str(UnknownKeyError.for_key("key", key, [k for k in fields
                                                          if fields[k].init]))
            raise PolicyError(f"{path}: {hint}")
        kwargs[key] = _convert(hints[key], value, f"{path}.{key}")
    try:
        return cls(**kwargs)
    except (ServiceKPIError, ValueError, TypeError) as error:
        if isinstance(error, PolicyError) and str(error).startswith(path):
            raise
        raise PolicyError(f"{path}: {error}") from error


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)][:1] or (Any,)
        return _convert(inner, value, path)
    if isinstance(tp, type) and hasattr(tp, "_from_data"):
        return value if isinstance(value, tp) else tp._from_data(value, path)
    if isinstance(tp, type) and attrs.has(tp):
        return value if isinstance(value, tp) else build(tp, value, path)
    if origin in (FrozenDict, Mapping, dict) or tp is FrozenDict:
        if not isinstance(value, Mapping):
            raise PolicyError(f"{path}: expected a table (got {value!r})")
        key_tp, value_tp = args or (Any, Any)
        return FrozenDict({_convert(key_tp, k, f"{path}.{k}"): _convert(value_tp, v, f"{path}.{k}")
                           for k, v in value.items()})
    if origin in (tuple, frozenset):
        item_tp = args[0] if args else Any
        if not isinstance(value, (list, tuple, set, frozenset)):
            if _is_scalar(item_tp):
                raise PolicyError(f"{path}: expected an array (got {value!r})")
            return value  # e.g. a calendar day written "08:30-12:00": its converter reads it
        items = [_convert(item_tp, item, f"{path}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else frozenset(items)
    try:
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return tp(value)
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PolicyError(f"{path}: expected a number (got {value!r})")
            return float(value)
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise PolicyError(f"{path}: expected an integer (got {value!r})")
            return value
        if tp is bool and not isinstance(value, bool):
            raise PolicyError(f"{path}: expected true or false (got {value!r})")
        if tp is str and not isinstance(value, str):
            raise PolicyError(f"{path}: expected a string (got {value!r})")
    except PolicyError:
        raise
    except (ServiceKPIError, ValueError) as error:
        raise PolicyError(f"{path}: {error}") from error
    return value


def _is_scalar(tp: Any) -> bool:
    return tp in (str, int, float, bool) or (isinstance(tp, type) and issubclass(tp, enum.Enum))


def dump(value: Any) -> Any:
    """Plain data (TOML-ready) for an attrs object, mapping, tuple, enum or leaf."""
    if hasattr(value, "_to_data"):
        return value._to_data()
    if attrs.has(type(value)):
        return {f.name: dump(getattr(value, f.name))
                for f in attrs.fields(type(value)) if f.init}
    if isinstance(value, Mapping):
        return {str(dump(k)): dump(v) for k, v in value.items()}
    if isinstance(value, frozenset):
        return sorted(dump(item) for item in value)
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and all(isinstance(v, time) for v in value):
            return f"{_clock(value[0])}-{_clock(value[1])}"
        return [dump(item) for item in value]
    if isinstance(value, enum.IntEnum):
        return value.name.lower()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, time):
        return _clock(value)
    return value


def _clock(value: time) -> str:
    return value.strftime("%H:%M") if not value.second else value.strftime("%H:%M:%S")


def to_toml(data: Mapping[str, Any]) -> str:
    """TOML text for plain nested data of tables, scalars, dates and arrays of those.

    >>> print(to_toml({"a": 1, "t": {"x": [1.5, "s"], "u": {"y": True}}}))
    a = 1
    <BLANKLINE>
    [t]
    x = [1.5, "s"]
    <BLANKLINE>
    [t.u]
    y = true
    <BLANKLINE>
    """
    lines: list[str] = []
    _table(lines, data, ())
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(lines: list[str], data: Mapping[str, Any], path: tuple[str, ...]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping) and v is not None
               and not _is_table_array(v)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in data.items() if _is_table_array(v)}
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, items in arrays.items():  # [[path.key]] blocks, one per table
        for item in items:
            lines.append("")
            lines.append("[[" + ".".join(_key(p) for p in (*path, key)) + "]]")
            for item_key, item_value in item.items():
                if item_value is not None:
                    lines.append(f"{_key(item_key)} = {_value(item_value)}")
    for key, value in tables.items():
        _table(lines, value, (*path, key))


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping)
                                                          for v in value)


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else _string(key)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n",
            "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise PolicyError(f"cannot write {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Mapping):  # an inline table, e.g. a rule inside an array
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()
                                if v is not None) + " }"
    raise PolicyError(f"cannot write {value!r} to TOML")
