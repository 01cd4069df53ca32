"""Small value classes without ``dataclasses``: what a ``@dataclass`` gave them (a repr naming
each field, equality field by field, frozen ones hashable and read-only), for modules that every
command reading a file imports. ``dataclasses`` loads ``inspect``, ``ast`` and ``dis`` and costs
about half of a bare Python's start-up (issue 11); a class here spells its ``__init__`` out.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Frozen", "Record"]


class Record:
    """A class whose fields are named in ``_fields`` (in order); those also in ``_hidden`` are
    left out of the repr and of equality, as ``field(compare=False, repr=False)`` did. Mutable,
    so unhashable (defining ``__eq__`` alone sets ``__hash__`` to None), as a dataclass with
    ``eq=True``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _hidden: frozenset[str] = frozenset()

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields if name not in self._hidden)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self._fields if name not in self._hidden
        )
        return f"{type(self).__qualname__}({shown})"

    def _asdict(self) -> dict[str, object]:
        """The fields and their values, in order (``namedtuple._asdict``; it was
        ``dataclasses.asdict`` when these were dataclasses, which also converted nested records)."""
        return {name: _plain(getattr(self, name)) for name in self._fields}

    def _replace(self, **changes: object) -> Any:
        """A copy with ``changes`` applied (``namedtuple._replace``, ``dataclasses.replace``)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__qualname__} has no field {sorted(unknown)[0]!r}")
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._key() == other._key()


class Frozen(Record):
    """A :class:`Record` that cannot change once made (``@dataclass(frozen=True)``): hashable.
    Its ``__init__`` sets the fields with ``object.__setattr__``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[object, ...]:
        # pickle and copy restore slots through setattr, which a frozen record refuses (as a
        # frozen dataclass pickles and copies, so must these: worker processes, deepcopy).
        names = [name for cls in type(self).__mro__ for name in getattr(cls, "__slots__", ())]
        return (
            _restore,
            (type(self), tuple((name, getattr(self, name)) for name in names if hasattr(self, name))),
        )


def _restore(cls: type[Frozen], fields: tuple[tuple[str, object], ...]) -> Frozen:
    made = object.__new__(cls)
    for name, value in fields:
        object.__setattr__(made, name, value)
    return made


def _plain(value: object) -> object:
    """``value`` with records inside it (also in lists, tuples and dicts) as dicts."""
    if isinstance(value, Record):
        return value._asdict()
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
