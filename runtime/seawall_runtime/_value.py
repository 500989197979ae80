"""Value objects made on every call, cheaply.

A frozen dataclass stores each field through ``object.__setattr__`` (its own
``__setattr__`` refuses), which costs more than the rest of making the
object. The few classes made per call or per attempt are plain slotted
classes instead: ``Attempt`` and ``Outcome`` keep their fields in private
slots behind read-only properties (immutable, no setter to misuse), the
controller's single-use actions in public slots. This base gives them value
equality, a hash, a repr and pickling from ``_values()``, the fields in the
order that ``_names`` names them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Value:
    """Equality, hash, repr and pickling from ``_values()``."""

    __slots__ = ()
    _names: ClassVar[tuple[str, ...]]

    def _values(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        values = self._values()
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._names, values))
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), self._values()
