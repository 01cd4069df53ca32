"""An in-memory tree of compound-file storages and streams.

The pure codec turns messages into this tree and back; only ``msgsess.cfb``
turns it into a compound file. Keeping the tree plain (dicts of bytes) lets
tests compare layouts as data and keeps large attachments un-copied.

A stream is ``bytes``, or a :class:`StreamSource` when its bytes live elsewhere
(a file, a session blob): the compound-file writer asks a source for its size
while it lays the file out and reads it in chunks only when it copies it, so
nothing has to hold a whole attachment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeAlias, runtime_checkable

NULL_CLSID = bytes(16)


@runtime_checkable
class StreamSource(Protocol):
    """Where a stream's bytes come from when they are not held in memory.

    ``size`` must be known before any byte is read (a compound file's layout
    needs every size first) and must not change; ``chunks`` yields the bytes in
    order, none longer than ``chunk_size``, and may be called more than once.
    """

    @property
    def size(self) -> int: ...

    def chunks(self, chunk_size: int) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class FileSource:
    """A stream read from a file when the compound file is written.

    The file is opened only by :meth:`chunks`; if it no longer has ``size``
    bytes by then, the writer stops with an error instead of writing a
    damaged file.
    """

    path: Path
    size: int

    @classmethod
    def of(cls, path: Path | str) -> FileSource:
        """A source for the file at ``path`` as it is now (its size taken here)."""
        path = Path(path)
        return cls(path, path.stat().st_size)

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        with open(self.path, "rb", buffering=0) as f:
            while chunk := f.read(chunk_size):
                yield chunk


#: A child of a storage: a sub-storage, a stream held in memory, or a stream read later.
Entry: TypeAlias = "Storage | bytes | StreamSource"


def stream_size(entry: bytes | StreamSource) -> int:
    """Length of a stream, in memory or not."""
    return len(entry) if isinstance(entry, bytes) else entry.size


@dataclass(frozen=True)
class DirectoryEntry:
    """One directory entry as a compound file holds it ([MS-CFB] 2.6.1), for structure checks.

    ``left``, ``right`` and ``child`` are stream ids (0xFFFFFFFF for none); ``colour`` is 0 for
    red, 1 for black.
    """

    name: str
    colour: int
    left: int
    right: int
    child: int


@dataclass(frozen=True)
class FileLayout:
    """What a compound file held besides its tree, as it was read: for ``msgsess check``.

    ``entries``: the directory entries reachable from the root, by stream id (the root is 0);
    ``storages``: the stream id of each storage by its path ('' for the root). The allocation
    tables ([MS-CFB] 2.2, 2.5): the FAT and DIFAT sector counts the header declares; the FAT
    sectors its 109 slots and the DIFAT sectors list, in order; the DIFAT sectors, followed from
    the header; what the last of them (or the header, when there is none) names as the next
    DIFAT sector; and the FAT entry of each FAT and DIFAT sector the FAT covers.
    """

    size: int
    sector_size: int
    entries: dict[int, DirectoryEntry]
    storages: dict[str, int]
    fat_declared: int
    difat_declared: int
    fat_sectors: tuple[int, ...]
    difat_sectors: tuple[int, ...]
    difat_next: int
    fat_entries: dict[int, int]


@dataclass
class Storage:
    """A storage: named children that are streams (bytes or sources) or storages."""

    entries: dict[str, Entry] = field(default_factory=dict)
    clsid: bytes = NULL_CLSID
    created: int = 0
    modified: int = 0
    #: How the file this tree was read from was laid out (the root of a tree read from a file).
    layout: FileLayout | None = field(default=None, compare=False, repr=False)

    def storage(self, name: str) -> Storage:
        """The child storage ``name``, created when missing."""
        child = self.entries.get(name)
        if child is None:
            child = self.entries[name] = Storage()
        if not isinstance(child, Storage):
            raise TypeError(f"{name} is a stream, not a storage")
        return child

    def stream(self, name: str) -> bytes | None:
        """The stream ``name`` when it is held in memory."""
        child = self.entries.get(name)
        return child if isinstance(child, bytes) else None

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Entry]]:
        """Every descendant as (path with '/', entry), parents before children."""
        for name, child in self.entries.items():
            path = f"{prefix}{name}"
            yield path, child
            if isinstance(child, Storage):
                yield from child.walk(path + "/")

    def count(self) -> int:
        """Number of directory entries below this storage."""
        return sum(1 for _ in self.walk())
