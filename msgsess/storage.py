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

from msgsess.records import Frozen, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Protocol, TypeAlias, runtime_checkable

# Plain classes, not dataclasses, and no typing at run time: every command that reads a file
# imports this module, and dataclasses (with inspect, ast, dis...) and typing cost more than
# such a command's own work (issue 11's start-up).

NULL_CLSID = bytes(16)

if TYPE_CHECKING:

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

    #: A child of a storage: a sub-storage, a stream held in memory, or a stream read later.
    Entry: TypeAlias = "Storage | bytes | StreamSource"

else:

    class _HasSourceMembers(type):
        """``isinstance(x, StreamSource)`` as the runtime-checkable protocol answers it."""

        def __instancecheck__(cls, instance: object) -> bool:
            return hasattr(instance, "size") and hasattr(instance, "chunks")

    class StreamSource(metaclass=_HasSourceMembers):
        """Where a stream's bytes come from when they are not held in memory.

        ``size`` must be known before any byte is read (a compound file's layout
        needs every size first) and must not change; ``chunks`` yields the bytes in
        order, none longer than ``chunk_size``, and may be called more than once.
        """

    Entry = "Storage | bytes | StreamSource"


class FileSource(Frozen):
    """A stream read from a file when the compound file is written.

    The file is opened only by :meth:`chunks`; if it no longer has ``size``
    bytes by then, the writer stops with an error instead of writing a
    damaged file.
    """

    __slots__ = _fields = ("path", "size")
    path: Path
    size: int

    def __init__(self, path: Path, size: int) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "size", size)

    @classmethod
    def of(cls, path: Path | str) -> FileSource:
        """A source for the file at ``path`` as it is now (its size taken here)."""
        from pathlib import Path

        path = Path(path)
        return cls(path, path.stat().st_size)

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        with open(self.path, "rb", buffering=0) as f:
            while chunk := f.read(chunk_size):
                yield chunk


def stream_size(entry: bytes | StreamSource) -> int:
    """Length of a stream, in memory or not."""
    return len(entry) if isinstance(entry, bytes) else entry.size


class DirectoryEntry(Frozen):
    """One directory entry as a compound file holds it ([MS-CFB] 2.6.1), for structure checks.

    ``left``, ``right`` and ``child`` are stream ids (0xFFFFFFFF for none); ``colour`` is 0 for
    red, 1 for black.
    """

    __slots__ = _fields = ("name", "colour", "left", "right", "child")
    name: str
    colour: int
    left: int
    right: int
    child: int

    def __init__(self, name: str, colour: int, left: int, right: int, child: int) -> None:
        for field, value in zip(self._fields, (name, colour, left, right, child), strict=True):
            object.__setattr__(self, field, value)


class FileLayout(Frozen):
    """What a compound file held besides its tree, as it was read: for ``msgsess check``.

    ``entries``: the directory entries reachable from the root, by stream id (the root is 0);
    ``storages``: the stream id of each storage by its path ('' for the root). The allocation
    tables ([MS-CFB] 2.2, 2.5): the FAT and DIFAT sector counts the header declares; the FAT
    sectors its 109 slots and the DIFAT sectors list, in order; the DIFAT sectors, followed from
    the header; what the last of them (or the header, when there is none) names as the next
    DIFAT sector; and the FAT entry of each FAT and DIFAT sector the FAT covers.
    """

    __slots__ = _fields = (
        "size",
        "sector_size",
        "entries",
        "storages",
        "fat_declared",
        "difat_declared",
        "fat_sectors",
        "difat_sectors",
        "difat_next",
        "fat_entries",
    )
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

    def __init__(
        self,
        size: int,
        sector_size: int,
        entries: dict[int, DirectoryEntry],
        storages: dict[str, int],
        fat_declared: int,
        difat_declared: int,
        fat_sectors: tuple[int, ...],
        difat_sectors: tuple[int, ...],
        difat_next: int,
        fat_entries: dict[int, int],
    ) -> None:
        values = (size, sector_size, entries, storages, fat_declared, difat_declared, fat_sectors)
        for field, value in zip(self._fields, (*values, difat_sectors, difat_next, fat_entries), strict=True):
            object.__setattr__(self, field, value)


class Storage(Record):
    """A storage: named children that are streams (bytes or sources) or storages."""

    __slots__ = _fields = ("entries", "clsid", "created", "modified", "layout")
    _hidden = frozenset({"layout"})
    entries: dict[str, Entry]
    clsid: bytes
    created: int
    modified: int
    #: How the file this tree was read from was laid out (the root of a tree read from a file).
    layout: FileLayout | None

    def __init__(
        self,
        entries: dict[str, Entry] | None = None,
        clsid: bytes = NULL_CLSID,
        created: int = 0,
        modified: int = 0,
        layout: FileLayout | None = None,
    ) -> None:
        self.entries = {} if entries is None else entries
        self.clsid = clsid
        self.created = created
        self.modified = modified
        self.layout = layout

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
