"""A lossless JSON codec for servicekpi's immutable result objects.

``Codec(types).dumps(obj)`` writes attrs objects, enums, aware datetimes (with their IANA
zone), dates, numpy arrays (dtype kept), mappings with any keys, tuples, NaN and
infinities as plain JSON; ``loads`` builds equal objects back. Only the registered
types are ever constructed from a document, so loading is not a way to run code.

Tags (``"$t"``) name the kind of a value: ``attrs`` (with ``"type"`` and ``"fields"``),
``enum``, ``datetime``, ``date``, ``array``, ``map``, ``tuple``, ``float`` (non-finite),
and ``custom`` for types with their own (encode, decode) pair. Numeric arrays longer
than 64 items are written as base64 of their little-endian bytes.
"""

from __future__ import annotations

import base64
import enum
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs
import numpy as np
from dateutil import tz as dateutil_tz

__all__ = ("Codec",)

_TAG: Final = "$t"
_INLINE: Final = 64  # arrays up to this size are written as readable lists

Custom = tuple[Callable[[Any], Any], Callable[[Any], Any]]


class Codec:
    """Encode and decode the registered *types* (attrs classes, enums, custom pairs)."""

    def __init__(self, types: Iterable[type], custom: Mapping[type, Custom] | None = None
                 ) -> None:
        self._types = {t.__name__: t for t in types}
        self._custom = dict(custom or {})
        for kind in self._custom:
            self._types.setdefault(kind.__name__, kind)

    def dumps(self, obj: Any, *, indent: int | None = None) -> str:
        """*obj* as JSON text (strict JSON: no NaN literals)."""
        return json.dumps(self.to_document(obj), ensure_ascii=False, allow_nan=False,
                          indent=indent, sort_keys=False)

    def loads(self, text: str) -> Any:
        """The object :meth:`dumps` wrote."""
        return self.from_document(json.loads(text))

    def to_document(self, obj: Any) -> Any:
        """*obj* as plain JSON data, custom objects met twice written once."""
        return self._encode(obj, {})

    def from_document(self, data: Any) -> Any:
        """The object :meth:`to_document` turned into *data*."""
        return self._decode(data, {})

    # -- encoding

    def encode(self, value: Any) -> Any:
        """*value* as plain JSON data."""
        return self._encode(value, None)

    def _encode(self, value: Any, memo: dict[int, int] | None) -> Any:
        # Enums first: a StrEnum is a str and an IntEnum an int, but must come back as
        # its member.
        if isinstance(value, enum.Enum):
            return {_TAG: "enum", "type": self._known(type(value)).__name__,
                    "value": value.value}
        if value is None or isinstance(value, (bool, str)):
            return str(value) if isinstance(value, str) and type(value) is not str \
                else value
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            number = float(value)
            return number if math.isfinite(number) else {_TAG: "float", "value": repr(number)}
        for kind, (encode, _) in self._custom.items():
            if type(value) is kind:
                # A custom object met again (a plan and its reconciliation) is written
                # once and referred to by number after that.
                if memo is not None and id(value) in memo:
                    return {_TAG: "ref", "id": memo[id(value)]}
                number = len(memo) if memo is not None else -1
                encoded = {_TAG: "custom", "type": kind.__name__, "id": number,
                           "value": encode(value)}
                if memo is not None:
                    memo[id(value)] = number
                return encoded
        if isinstance(value, datetime):
            if value.utcoffset() is None:
                raise TypeError(f"cannot encode a naive datetime ({value!r})")
            zone, library = _zone_name(value.tzinfo)
            return {_TAG: "datetime", "value": value.isoformat(), "zone": zone,
                    "tzlib": library}
        if isinstance(value, date):
            return {_TAG: "date", "value": value.isoformat()}
        if isinstance(value, Decimal):
            return {_TAG: "decimal", "value": str(value)}
        if isinstance(value, np.ndarray):
            flat = value.ravel()
            if flat.dtype.kind in "iufb" and flat.size > _INLINE:
                # Large numeric arrays travel as base64 of their bytes (little-endian):
                # exact, NaN included, and fast for millions of rows.
                packed = _narrowest(flat)
                raw = np.ascontiguousarray(flat, dtype=packed.newbyteorder("<"))
                return {_TAG: "array", "dtype": flat.dtype.str, "packed": raw.dtype.str,
                        "shape": list(value.shape),
                        "base64": base64.b64encode(raw.tobytes()).decode("ascii")}
            if flat.dtype.kind in "iub":
                data = flat.tolist()
            elif flat.dtype.kind == "f":
                data = flat.tolist()
                if not np.isfinite(flat).all():
                    # NaN as null, infinities by name: strict JSON has neither.
                    data = [x if math.isfinite(x) else None if x != x else repr(x)
                            for x in data]
            else:
                data = [self._encode(v, memo) for v in flat.tolist()]
            return {_TAG: "array", "dtype": flat.dtype.str, "shape": list(value.shape),
                    "data": data}
        if attrs.has(type(value)):
            kind = self._known(type(value))
            fields = {f.alias: self._encode(getattr(value, f.name), memo)
                      for f in attrs.fields(kind) if f.init}
            return {_TAG: "attrs", "type": kind.__name__, "fields": fields}
        if isinstance(value, Mapping):
            if all(type(k) is str for k in value):
                return {_TAG: "map", "str": True,
                        "items": {k: self._encode(v, memo) for k, v in value.items()}}
            return {_TAG: "map", "str": False,
                    "items": [[self._encode(k, memo), self._encode(v, memo)]
                              for k, v in value.items()]}
        if isinstance(value, (tuple, list)):
            items = [self._encode(v, memo) for v in value]
            return items if isinstance(value, list) else {_TAG: "tuple", "items": items}
        raise TypeError(f"cannot encode {type(value).__name__} ({value!r:.80})")

    def _known(self, kind: type) -> type:
        if self._types.get(kind.__name__) is not kind:
            raise TypeError(f"{kind.__name__} is not registered with the codec")
        return kind

    # -- decoding

    def decode(self, data: Any) -> Any:
        """The value :meth:`encode` turned into *data*."""
        return self._decode(data, None)

    def _decode(self, data: Any, seen: dict[int, Any] | None) -> Any:
        if isinstance(data, list):
            return [self._decode(v, seen) for v in data]
        if not isinstance(data, dict):
            return data
        tag = data.get(_TAG)
        if tag == "tuple":
            return tuple(self._decode(v, seen) for v in data["items"])
        if tag == "float":
            return float(data["value"])
        if tag == "enum":
            return self._type(data["type"])(data["value"])
        if tag == "datetime":
            moment = datetime.fromisoformat(data["value"])
            zone = data["zone"]
            if not zone:
                return moment
            if not isinstance(zone, str) or not _ZONE_NAME.fullmatch(zone) or ".." in zone:
                # an IANA name only: no file path, no POSIX TZ string, no local zone
                raise ValueError(f"not an IANA time zone name: {zone!r}")
            if data.get("tzlib") == "dateutil":
                found = dateutil_tz.gettz(zone)
                if found is None:
                    raise ValueError(f"unknown time zone {zone!r} in the document")
                return moment.astimezone(found)
            return moment.astimezone(ZoneInfo(zone))
        if tag == "date":
            return date.fromisoformat(data["value"])
        if tag == "decimal":
            return Decimal(data["value"])
        if tag == "array":
            dtype = _safe_dtype(data["dtype"])
            size = math.prod(data["shape"])
            if "base64" in data:
                packed = _safe_dtype(data.get("packed", data["dtype"]))
                payload = base64.b64decode(data["base64"])
                if len(payload) != size * packed.itemsize:
                    raise ValueError(f"array of shape {data['shape']} holds "
                                     f"{len(payload)} bytes")
                raw = np.frombuffer(payload, dtype=packed)
                return raw.astype(dtype.newbyteorder("="), copy=True).reshape(data["shape"])
            values = data["data"]
            if not isinstance(values, list) or len(values) != size:
                raise ValueError(f"array of shape {data['shape']} holds the wrong data")
            if dtype.kind == "f":
                values = [math.nan if v is None else float(v) for v in values]
            elif dtype.kind not in "iub":
                values = [self._decode(v, seen) for v in values]
            array = np.empty(len(values), dtype=dtype)
            array[:] = values
            return array.reshape(data["shape"])
        if tag == "map":
            if data["str"]:
                return {k: self._decode(v, seen) for k, v in data["items"].items()}
            return {_hashable(self._decode(k, seen)): self._decode(v, seen)
                    for k, v in data["items"]}
        if tag == "custom":
            kind = self._type(data["type"])
            value = self._custom[kind][1](data["value"])
            if seen is not None and data.get("id", -1) >= 0:
                seen[data["id"]] = value
            return value
        if tag == "ref":
            try:
                return seen[data["id"]] if seen is not None else {}[data["id"]]
            except KeyError:
                raise ValueError(f"a reference to an unknown object: {data!r:.80}") from None
        if tag == "attrs":
            kind = self._type(data["type"])
            fields = {name: self._decode(v, seen) for name, v in data["fields"].items()}
            return kind(**fields)
        raise ValueError(f"not a servicekpi JSON value: {data!r:.80}")

    def _type(self, name: str) -> Any:
        try:
            return self._types[name]
        except KeyError:
            raise ValueError(f"unknown type {name!r} in the document") from None


_ZONE_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")
_DTYPE_KINDS: Final = frozenset("iufbO")


def _safe_dtype(spec: Any) -> np.dtype[Any]:
    """A dtype a document may ask for: numbers, booleans and objects of normal size."""
    if not isinstance(spec, str):
        raise ValueError(f"not a dtype: {spec!r}")
    dtype = np.dtype(spec)
    if dtype.kind not in _DTYPE_KINDS or dtype.itemsize > 16:
        raise ValueError(f"dtype {spec!r} is not one servicekpi writes")
    return dtype


def _zone_name(zone: Any) -> tuple[str | None, str | None]:
    """The IANA name of a zone (zoneinfo's key, dateutil's file name) and its library."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key, "zoneinfo"
    filename = getattr(zone, "_filename", None)  # dateutil.tz.tzfile
    if isinstance(filename, str) and filename:
        return filename.rsplit("zoneinfo/", 1)[-1].lstrip("/"), "dateutil"
    return None, None  # a fixed offset: the ISO text keeps it


def _narrowest(values: np.ndarray[Any, Any]) -> np.dtype[Any]:
    """The smallest integer dtype that holds *values* exactly (else their own dtype)."""
    own: np.dtype[Any] = values.dtype
    if own.kind not in "iu" or values.size == 0:
        return own
    low, high = int(values.min()), int(values.max())
    for candidate in ("i1", "i2", "i4", "i8"):
        info = np.iinfo(candidate)
        if info.min <= low and high <= info.max:
            return np.dtype(candidate)
    return own


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value
