"""A thread-safe map that creates its values on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerKey(Generic[T]):
    """One ``T`` per key (a host, or a host and an operation), made by ``factory``."""

    def __init__(self, factory: Callable[[str], T]) -> None:
        self._factory = factory
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T:
        """The item for ``key``, made on first use."""
        item = self._items.get(key)  # dict reads are atomic: no lock on the fast path
        if item is None:
            with self._lock:
                item = self._items.get(key)
                if item is None:
                    item = self._items[key] = self._factory(key)
        return item

    def items(self) -> list[tuple[str, T]]:
        """A snapshot of (key, item) pairs."""
        with self._lock:
            return list(self._items.items())
