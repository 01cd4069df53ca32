"""An in-memory tree of compound-file storages and streams.

The pure codec turns messages into this tree and back; only ``msgsess.cfb``
turns it into a compound file. Keeping the tree plain (dicts of bytes) lets
tests compare layouts as data and keeps large attachments un-copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

NULL_CLSID = bytes(16)


@dataclass
class Storage:
    """A storage: named children that are streams (bytes) or storages."""

    entries: dict[str, Storage | bytes] = field(default_factory=dict)
    clsid: bytes = NULL_CLSID
    created: int = 0
    modified: int = 0

    def storage(self, name: str) -> Storage:
        """The child storage ``name``, created when missing."""
        child = self.entries.get(name)
        if child is None:
            child = self.entries[name] = Storage()
        if not isinstance(child, Storage):
            raise TypeError(f"{name} is a stream, not a storage")
        return child

    def stream(self, name: str) -> bytes | None:
        child = self.entries.get(name)
        return child if isinstance(child, bytes) else None

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Storage | bytes]]:
        """Every descendant as (path with '/', entry), parents before children."""
        for name, child in self.entries.items():
            path = f"{prefix}{name}"
            yield path, child
            if isinstance(child, Storage):
                yield from child.walk(path + "/")

    def count(self) -> int:
        """Number of directory entries below this storage."""
        return sum(1 for _ in self.walk())
