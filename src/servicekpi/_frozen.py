"""An immutable, hashable mapping for frozen value objects (policies, registries)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = ("FrozenDict",)


class FrozenDict(Mapping[K, V], Generic[K, V]):
    """A read-only dict that keeps insertion order and hashes by content.

    >>> d = FrozenDict({"a": 1})
    >>> d["a"], hash(d) == hash(FrozenDict({"a": 1})), d == {"a": 1}
    (1, True, True)
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data or {})
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"
