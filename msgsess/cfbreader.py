"""Reading compound files ([MS-CFB]) into a :class:`~msgsess.storage.Storage` tree.

Our own reader, so that ``dump`` and ``check`` start without olefile (and the logging it
imports). It is as strict as olefile read with ``raise_defects=DEFECT_INCORRECT`` was here:
the same rules in the same order, with the same words (so that a damaged file gets the error
it got before), followed by our own checks (header counts, sector chains, entry names, sizes,
depth, entry count, total bytes). Damaged or hostile input ends in one
:class:`~msgsess.errors.CorruptFile` with a one-line message, never a traceback or a hang:
every loop is bounded by the file's size and nothing recurses. ``tests/test_cfbreader.py``
reads files both ways, olefile being the reference.

:mod:`msgsess.cfb` re-exports :func:`read_file`, :func:`read_bytes` and :class:`Limits`.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from array import array

from msgsess.cfbformat import (
    DIFSECT,
    DIR_ENTRY,
    DIR_ENTRY_SIZE,
    ENDOFCHAIN,
    FATSECT,
    FREESECT,
    HEADER,
    HEADER_DIFAT,
    MINI_SECTOR,
    MINI_STREAM_CUTOFF,
    NOSTREAM,
    ROOT,
    SIGNATURE,
    STORAGE,
    STREAM,
    UNALLOCATED,
)
from msgsess.errors import CorruptFile, InvalidParameter, NotFound, out_of_memory
from msgsess.inputs import open_input, path_text
from msgsess.records import Frozen
from msgsess.storage import NULL_CLSID, DirectoryEntry, FileLayout, Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

__all__ = ["DEFAULT_LIMITS", "FORBIDDEN_NAME_CHARS", "Limits", "read_bytes", "read_file"]

#: Characters [MS-CFB] 2.6.1 forbids in names (a reader finds NUL only as the terminator).
FORBIDDEN_NAME_CHARS = frozenset("/\\:!")


class Limits(Frozen):
    """Bounds for reading untrusted compound files (read-only: :data:`DEFAULT_LIMITS` is every
    reader's default, so changing it in place would change every later read)."""

    __slots__ = _fields = __match_args__ = ("max_depth", "max_entries", "max_total_bytes")
    #: Deepest nesting of storages below the root.
    max_depth: int
    #: Most directory entries (streams and storages) in one file.
    max_entries: int
    #: Most stream bytes in total.
    max_total_bytes: int

    def __init__(
        self, max_depth: int = 64, max_entries: int = 200_000, max_total_bytes: int = 4 << 30
    ) -> None:
        object.__setattr__(self, "max_depth", max_depth)
        object.__setattr__(self, "max_entries", max_entries)
        object.__setattr__(self, "max_total_bytes", max_total_bytes)


DEFAULT_LIMITS = Limits()


class _Damaged(Exception):
    """Internal: what is wrong, for the CorruptFile message."""


class _Entry:
    """A directory entry as read ([MS-CFB] 2.6.1), with its children once the tree is walked."""

    __slots__ = (
        "child",
        "clsid",
        "color",
        "created",
        "entry_type",
        "kids",
        "left",
        "modified",
        "name",
        "name_raw",
        "namelength",
        "right",
        "sid",
        "size",
        "start",
    )

    def __init__(self, raw: bytes, sid: int, big_sectors: bool) -> None:
        (
            self.name_raw,
            self.namelength,
            self.entry_type,
            self.color,
            self.left,
            self.right,
            self.child,
            self.clsid,
            _state,
            self.created,
            self.modified,
            self.start,
            size,
        ) = DIR_ENTRY.unpack(raw)
        self.sid = sid
        # Version 3 files keep only the low 32 bits ([MS-CFB] 2.6.3: some writers leave garbage above).
        self.size: int = size if big_sectors else size & 0xFFFFFFFF
        self.kids: list[_Entry] = []
        # What olefile took for the name: the bytes the length field counts, lost bytes replaced.
        self.name: str = self.name_raw[: self.namelength - 2].decode("utf-16-le", "replace")


def _words(data: bytes) -> array[int]:
    """Little-endian 32-bit words, as an array."""
    words = array("I", data)
    if sys.byteorder != "little":
        words.byteswap()
    return words


class _File:
    """The header, FAT and directory of a compound file, read and judged in olefile's order."""

    def __init__(self, fp: BinaryIO, size: int, max_entries: int) -> None:
        self.fp = fp
        self.size = size
        self.max_entries = max_entries
        self.loaded = 0
        self.used: tuple[set[int], set[int]] = (set(), set())  # first sectors: FAT, MiniFAT
        fp.seek(0)
        self.header = head = fp.read(512)
        fields = HEADER.unpack_from(head)
        major, byte_order, shift, mini_shift, reserved = fields[3:8]
        if fields[1] != NULL_CLSID:
            raise _Damaged("incorrect CLSID in OLE header")
        if major not in (3, 4):
            raise _Damaged("incorrect DllVersion in OLE header")
        if byte_order != 0xFFFE:
            raise _Damaged("incorrect ByteOrder in OLE header")
        self.sectorsize = sector = 1 << shift  # 512 or 4096 (_check_header)
        if (major == 3 and sector != 512) or (major == 4 and sector != 4096):
            raise _Damaged("sector_size does not match DllVersion in OLE header")
        if mini_shift != 6:
            raise _Damaged("incorrect mini_sector_size in OLE header")
        if reserved != bytes(6):
            raise _Damaged("incorrect OLE header (non-null reserved bytes)")
        if sector == 512 and fields[8] != 0:
            raise _Damaged("incorrect number of directory sectors in OLE header")
        if fields[12] != MINI_STREAM_CUTOFF:
            raise _Damaged("incorrect mini_stream_cutoff_size in OLE header")
        self.num_fat_sectors = fields[9]
        self.first_dir_sector = fields[10]
        self.first_mini_fat_sector = fields[13]
        self.num_mini_fat_sectors = fields[14]
        self.first_difat_sector = fields[15]
        self.num_difat_sectors = fields[16]
        #: Sectors after the header, the last one possibly partial.
        self.nb_sect = (size + sector - 1) // sector - 1
        self._first_sector(self.first_dir_sector, False)
        if self.num_mini_fat_sectors:
            self._first_sector(self.first_mini_fat_sector, False)
        if self.num_difat_sectors:
            self._first_sector(self.first_difat_sector, False)
        self.fat = self._load_fat()
        self.minifat: array[int] | None = None
        self._ministream: io.BytesIO | None = None
        self._directory = self._chain(fp, self.first_dir_sector, None, sector, sector, self.fat)
        self.direntries: list[_Entry | None] = [None] * (len(self._directory) // DIR_ENTRY_SIZE)
        self.root = self._load_entry(0)
        self._walk(self.root)

    # ------------------------------------------------------------------ sectors and chains

    def _first_sector(self, first: int, mini: bool) -> None:
        """Two streams must not start in one sector (special values aside, in the FAT)."""
        if not mini and first in (DIFSECT, FATSECT, ENDOFCHAIN, FREESECT):
            return
        used = self.used[mini]
        if first in used:
            raise _Damaged("Stream referenced twice")
        used.add(first)

    def _sector(self, sect: int) -> bytes:
        self.fp.seek(self.sectorsize * (sect + 1))
        data = self.fp.read(self.sectorsize)
        if len(data) != self.sectorsize:
            raise _Damaged("incomplete OLE sector")
        return data

    def _add_fat_sectors(self, fat: array[int], sectors: array[int]) -> None:
        """Append the FAT sectors listed, up to the first free or end-of-chain mark."""
        for sect in sectors:
            if sect in (ENDOFCHAIN, FREESECT):
                break
            fat.extend(_words(self._sector(sect)))

    def _load_fat(self) -> array[int]:
        fat: array[int] = array("I")
        self._add_fat_sectors(fat, _words(self.header[HEADER.size : HEADER.size + 4 * HEADER_DIFAT]))
        if self.num_difat_sectors:
            if self.num_fat_sectors <= HEADER_DIFAT:
                raise _Damaged("incorrect DIFAT, not enough sectors")
            if self.first_difat_sector >= self.nb_sect:
                raise _Damaged("incorrect DIFAT, first index out of range")
            per_sector = self.sectorsize // 4 - 1
            expected = (self.num_fat_sectors - HEADER_DIFAT + per_sector - 1) // per_sector
            if self.num_difat_sectors != expected:
                raise _Damaged("incorrect DIFAT")
            sect = self.first_difat_sector
            for _ in range(expected):
                listed = _words(self._sector(sect))
                self._add_fat_sectors(fat, listed[:per_sector])
                sect = listed[per_sector]
            if sect not in (ENDOFCHAIN, FREESECT):
                raise _Damaged("incorrect end of DIFAT")
        if len(fat) > self.nb_sect:
            del fat[self.nb_sect :]
        return fat

    @staticmethod
    def _chain(
        fp: BinaryIO, sect: int, size: int | None, offset: int, sector: int, table: array[int]
    ) -> bytes:
        """The stream starting at ``sect`` in ``table``: ``size`` bytes, or (None) up to its end.

        Sectors are read at ``offset + sector * n`` of ``fp``; the chain is followed at most as
        many steps as the stream has sectors (or the table entries, for an unknown size).
        """
        unknown = size is None
        want = len(table) * sector if size is None else size
        count = (want + sector - 1) // sector
        if count > len(table):
            raise _Damaged("malformed OLE document, stream too large")
        if want == 0 and sect != ENDOFCHAIN:
            raise _Damaged("incorrect OLE sector index for empty stream")
        last = len(table) - 1
        parts: list[bytes] = []
        for _ in range(count):
            if sect == ENDOFCHAIN:
                if unknown:
                    break
                raise _Damaged("incomplete OLE stream")
            if sect >= len(table):
                raise _Damaged("incorrect OLE FAT, sector index out of range")
            fp.seek(offset + sector * sect)
            data = fp.read(sector)
            if len(data) != sector and sect != last:
                raise _Damaged("incomplete OLE sector")
            parts.append(data)
            sect = table[sect]
        data = b"".join(parts)
        if len(data) > want:
            return data[:want]
        if len(data) < want and not unknown:
            raise _Damaged("OLE stream size is less than declared")
        return data

    def load_minifat(self) -> array[int]:
        """The MiniFAT, cut to the mini sectors the mini stream holds ([MS-CFB] 2.3)."""
        if self.minifat is None:
            sector = self.sectorsize
            stream_size = self.num_mini_fat_sectors * sector
            mini_sectors = (self.root.size + MINI_SECTOR - 1) // MINI_SECTOR
            if mini_sectors * 4 > stream_size:
                raise _Damaged("OLE MiniStream is larger than MiniFAT")
            data = self._chain(self.fp, self.first_mini_fat_sector, stream_size, sector, sector, self.fat)
            self.minifat = _words(data[: len(data) // 4 * 4])[:mini_sectors]
        return self.minifat

    def mini_stream(self, start: int, size: int) -> bytes:
        """A stream of the mini stream ([MS-CFB] 2.6.3: smaller than the cutoff)."""
        minifat = self.load_minifat()
        if self._ministream is None:
            sector = self.sectorsize
            self._ministream = io.BytesIO(
                self._chain(self.fp, self.root.start, self.root.size, sector, sector, self.fat)
            )
        return self._chain(self._ministream, start, size, 0, MINI_SECTOR, minifat)

    # ------------------------------------------------------------------ directory

    def _load_entry(self, sid: int) -> _Entry:
        self.loaded += 1
        if self.loaded > self.max_entries:
            raise _Damaged(f"more than {self.max_entries} directory entries")
        if sid >= len(self.direntries):
            raise _Damaged("OLE directory index out of range")
        if self.direntries[sid] is not None:
            raise _Damaged("double reference for OLE stream/storage")
        at = sid * DIR_ENTRY_SIZE
        entry = _Entry(self._directory[at : at + DIR_ENTRY_SIZE], sid, self.sectorsize != 512)
        kind = entry.entry_type
        if kind not in (UNALLOCATED, STORAGE, STREAM, ROOT):
            raise _Damaged("unhandled OLE storage type")
        if kind == ROOT and sid != 0:
            raise _Damaged("duplicate OLE root entry")
        if sid == 0 and kind != ROOT:
            raise _Damaged("incorrect OLE root entry")
        if entry.namelength > 64:
            raise _Damaged("incorrect DirEntry name length >64 bytes")
        if kind in (ROOT, STREAM) and entry.size > 0:
            self._first_sector(entry.start, kind == STREAM and entry.size < MINI_STREAM_CUTOFF)
        self.direntries[sid] = entry
        return entry

    def _walk(self, root: _Entry) -> None:
        """Load every entry reachable from ``root`` and list each one's children by name.

        The order of olefile's recursive walk (an entry, its left subtree, itself, its right
        subtree, then its own children), kept with an explicit stack of steps, so that the
        first defect found is the one olefile reported.
        """
        # Steps: (0, sid, parent) load a subtree; (1, entry, parent) list an entry in its parent;
        # (2, entry, None) walk an entry's children; (3, entry, None) sort them. No depth bound:
        # each entry is loaded once (_load_entry refuses a second reference), so the walk ends.
        steps: list[tuple[int, object, _Entry | None]] = [(2, root, None)]
        seen: dict[int, set[str]] = {}
        while steps:
            step, what, parent = steps.pop()
            if step == 0:
                sid = what
                assert isinstance(sid, int)
                if sid == NOSTREAM:
                    continue
                if sid >= len(self.direntries):
                    raise _Damaged("OLE DirEntry index out of range")
                entry = self._load_entry(sid)
                steps += (
                    (2, entry, None),
                    (0, entry.right, parent),
                    (1, entry, parent),
                    (0, entry.left, parent),
                )
            elif step == 1:
                assert isinstance(what, _Entry) and parent is not None
                names = seen.setdefault(parent.sid, set())
                folded = what.name.lower()
                if folded in names:
                    raise _Damaged("Duplicate filename in OLE storage")
                names.add(folded)
                parent.kids.append(what)
            elif step == 2:
                assert isinstance(what, _Entry)
                if what.child != NOSTREAM:
                    steps += ((3, what, None), (0, what.child, what))
            else:
                assert isinstance(what, _Entry)
                what.kids.sort(key=_by_name)


def _by_name(entry: _Entry) -> str:
    return entry.name


def _check_header(fp: BinaryIO, size: int) -> None:
    """Sanity of [MS-CFB] 2.2 header counts before anything else trusts them."""
    head = fp.read(512)
    fp.seek(0)
    if len(head) < 8 or head[:8] != SIGNATURE:
        raise _Damaged("not a compound file (no CFB signature)")
    if len(head) < 512:
        raise _Damaged(f"truncated: {size} bytes, shorter than a compound-file header")
    fields = HEADER.unpack_from(head)
    sector_shift = fields[5]
    n_fat, n_minifat, n_difat = fields[9], fields[14], fields[16]
    if sector_shift not in (9, 12):
        raise _Damaged(f"invalid sector size 2**{sector_shift}")
    sector = 1 << sector_shift
    n_sect = max(0, (size - sector + sector - 1) // sector)
    if size < 3 * 512:
        raise _Damaged(f"truncated: {size} bytes, too short for a compound file")
    for label, count in (("FAT", n_fat), ("MiniFAT", n_minifat), ("DIFAT", n_difat)):
        if count > n_sect:
            raise _Damaged(f"header declares {count} {label} sectors but the file has only {n_sect}")


def _mark_chain(
    fat: array[int], start: int, count: int | None, used: bytearray, what: str, sectors: int = 0
) -> None:
    """Follow a sector chain, failing on loops, overlaps, and sectors outside the table.

    ``count`` sectors are expected; ``None`` follows the chain to ENDOFCHAIN. ``sectors`` is how
    many the file holds (a sector in the file that the table does not map is named as such).
    """
    limit = len(fat)
    sect = start
    steps = 0
    while count is None or steps < count:
        if sect == ENDOFCHAIN:
            if count is None:
                return
            raise _Damaged(f"{what} ends after {steps} of {count} sectors (truncated?)")
        if sect >= limit:
            if sect < sectors:
                raise _Damaged(
                    f"{what} points to sector {sect:#x}, beyond the {limit} sectors its FAT maps "
                    "(the DIFAT lists too few FAT sectors)"
                )
            raise _Damaged(f"{what} points to sector {sect:#x} outside the file (truncated?)")
        if used[sect]:
            raise _Damaged(f"sector chain of {what} loops or overlaps another stream")
        used[sect] = 1
        sect = fat[sect]
        steps += 1


def _entry_name(kid: _Entry, where: str) -> str:
    """A directory entry's name as [MS-CFB] 2.6.1 defines it, or ``_Damaged``.

    The name-length field counts the bytes of the name and its terminator: even, 4..64 for a
    name of 1..31 UTF-16 code units. Read as olefile reads it, a length of 1 gives a name of 32
    characters ending in U+FFFD, and what is no UTF-16 is replaced; a writer could not write
    either back.
    """
    length = kid.namelength
    if length % 2 or not 4 <= length <= 64:
        raise _Damaged(
            f"directory entry {kid.sid} in {where} has name-length field {length}; it must be even, 4..64"
        )
    try:
        name = str(kid.name_raw[: length - 2].decode("utf-16-le"))
    except UnicodeDecodeError:
        raise _Damaged(f"directory entry {kid.sid} in {where} has a name that is not UTF-16") from None
    if "\0" in name or not FORBIDDEN_NAME_CHARS.isdisjoint(name):
        raise _Damaged(f"invalid entry name {name!r} in {where}")
    return name


def _read(fp: BinaryIO, limits: Limits) -> Storage:
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(0)
    _check_header(fp, size)
    cfb = _File(fp, size, limits.max_entries)
    tree, storages = _to_tree(cfb, size, limits)
    tree.layout = _layout(cfb, size, storages)
    return tree


def _layout(cfb: _File, size: int, storages: dict[str, int]) -> FileLayout:
    """The directory entries and allocation tables as the file holds them, for ``check``.

    Only what the reading does not judge is gathered here, not judged: the red-black sibling
    trees ([MS-CFB] 2.6.4) and the DIFAT ([MS-CFB] 2.5) are checked by ``msgsess.oxmsg.check``.
    """
    entries = {
        entry.sid: DirectoryEntry(entry.name, entry.color, entry.left, entry.right, entry.child)
        for entry in cfb.direntries
        if entry is not None
    }
    head = cfb.header
    fields = HEADER.unpack_from(head)
    sector = 1 << fields[5]
    fat_declared, first_difat, difat_declared = fields[9], fields[15], fields[16]
    listed = [s for s in struct.unpack_from(f"<{HEADER_DIFAT}I", head, HEADER.size) if s != FREESECT]
    per_sector = sector // 4 - 1
    sectors_in_file = max(0, (size - sector) // sector)
    difat: list[int] = []
    next_difat = first_difat
    fp = cfb.fp
    while next_difat < sectors_in_file and next_difat not in difat and len(difat) <= sectors_in_file:
        difat.append(next_difat)
        fp.seek((next_difat + 1) * sector)
        data = fp.read(sector)
        if len(data) < sector:
            break
        values = struct.unpack_from(f"<{per_sector + 1}I", data)
        listed.extend(s for s in values[:per_sector] if s != FREESECT)
        next_difat = values[per_sector]
    fat = cfb.fat
    marks = {s: int(fat[s]) for s in (*listed, *difat) if s < len(fat)}
    return FileLayout(
        size=size,
        sector_size=sector,
        entries=entries,
        storages=storages,
        fat_declared=fat_declared,
        difat_declared=difat_declared,
        fat_sectors=tuple(listed),
        difat_sectors=tuple(difat),
        difat_next=next_difat,
        fat_entries=marks,
    )


def _to_tree(cfb: _File, size: int, limits: Limits) -> tuple[Storage, dict[str, int]]:
    """The tree of ``cfb``, and the stream id of each storage by path ('' for the root)."""
    root = cfb.root
    sector = cfb.sectorsize
    fat = cfb.fat
    used = bytearray(len(fat))
    in_file = max(0, (size - sector) // sector)
    # The directory and MiniFAT chains, then the mini stream ([MS-CFB] 2.6.2, 2.3, 2.7).
    _mark_chain(fat, cfb.first_dir_sector, None, used, "the directory", in_file)
    if cfb.num_mini_fat_sectors:
        count_minifat = cfb.num_mini_fat_sectors
        _mark_chain(fat, cfb.first_mini_fat_sector, count_minifat, used, "the MiniFAT", in_file)
    if root.size > size:
        raise _Damaged(f"mini stream declares {root.size} bytes, more than the file's {size}")
    if root.size:
        _mark_chain(fat, root.start, -(-root.size // sector), used, "the mini stream", in_file)

    # Walk the directory tree without recursion; check depth, sizes and totals.
    tree = Storage(clsid=root.clsid, created=root.created, modified=root.modified)
    streams: list[tuple[Storage, str, _Entry, str]] = []
    stack: list[tuple[_Entry, Storage, str, int]] = [(root, tree, "", 0)]
    total = 0
    count = 0
    #: Names of each storage's children, upper-cased as [MS-CFB] 2.6.4 compares them.
    names_seen: dict[int, set[str]] = {}
    storages: dict[str, int] = {}
    while stack:
        entry, node, path, depth = stack.pop()
        storages[path.rstrip("/")] = entry.sid
        for kid in entry.kids:
            count += 1
            if count > limits.max_entries:
                raise _Damaged(f"more than {limits.max_entries} directory entries")
            kid_name = _entry_name(kid, path.rstrip("/") or "the root")
            kid_path = f"{path}{kid_name}"
            folded = kid_name.upper()
            if folded in names_seen.setdefault(id(node), set()):
                raise _Damaged(f"two entries named {kid_name!r} in {path.rstrip('/') or 'the root'}")
            names_seen[id(node)].add(folded)
            if kid.entry_type == STORAGE:
                if depth + 1 > limits.max_depth:
                    raise _Damaged(f"storages nested deeper than {limits.max_depth} levels")
                child = Storage(clsid=kid.clsid, created=kid.created, modified=kid.modified)
                node.entries[kid_name] = child
                stack.append((kid, child, kid_path + "/", depth + 1))
            elif kid.entry_type == STREAM:
                if kid.size > size:
                    raise _Damaged(
                        f"stream {kid_path} declares {kid.size} bytes, more than the file's {size}"
                    )
                total += kid.size
                if total > limits.max_total_bytes:
                    raise _Damaged(f"streams hold more than {limits.max_total_bytes} bytes in total")
                streams.append((node, kid_name, kid, kid_path))
            # Unallocated entries linked into the tree carry nothing: skip them.

    # Check every stream's chain before reading any of them.
    mini_used = bytearray(-(-root.size // MINI_SECTOR))
    for _node, _name, kid, kid_path in streams:
        if kid.size == 0:
            continue
        if kid.size < MINI_STREAM_CUTOFF:
            count_mini = -(-kid.size // MINI_SECTOR)
            _mark_chain(cfb.load_minifat(), kid.start, count_mini, mini_used, f"stream {kid_path}")
        else:
            count_big = -(-kid.size // sector)
            _mark_chain(fat, kid.start, count_big, used, f"stream {kid_path}", in_file)

    for node, kid_name, kid, kid_path in streams:
        if kid.size == 0:
            node.entries[kid_name] = b""
        elif kid.size < MINI_STREAM_CUTOFF:
            node.entries[kid_name] = cfb.mini_stream(kid.start, kid.size)
        else:
            node.entries[kid_name] = _read_chain(cfb.fp, fat, kid.start, kid.size, sector, kid_path)
    return tree, storages


def _read_chain(fp: BinaryIO, fat: array[int], start: int, size: int, sector: int, path: str) -> bytes:
    """A stream of the FAT whose chain :func:`_mark_chain` has checked, read run by run.

    Sectors that follow one another in the file are read at once: a stream stored in one run
    (as writers lay them out) is one read into one bytes object. Only a fragmented stream is
    joined from its runs.
    """
    runs: list[tuple[int, int]] = []
    sect, left = start, -(-size // sector)
    while left:
        first, count = sect, 1
        sect, left = fat[sect], left - 1
        while left and sect == first + count:
            sect, left, count = fat[sect], left - 1, count + 1
        runs.append((first, count))
    parts: list[bytes] = []
    got = 0
    for first, count in runs:
        fp.seek((first + 1) * sector)
        want = min(count * sector, size - got)
        part = fp.read(want)
        if len(part) != want:
            raise _Damaged(f"stream {path} goes past the end of the file (truncated?)")
        parts.append(part)
        got += want
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _wrap_read(name: str, fp_factory: Callable[[], BinaryIO], limits: Limits) -> Storage:
    try:
        with fp_factory() as fp:
            return _read(fp, limits)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound("no such file").at(name) from exc
    except _Damaged as exc:
        raise CorruptFile(f"damaged compound file: {exc}").at(name) from exc
    except MemoryError:
        raise out_of_memory(f"read {name}") from None
    except RecursionError as exc:
        raise CorruptFile(
            "damaged compound file: directory tree too deep (unbalanced or nested too deeply)"
        ).at(name) from exc
    except OSError as exc:
        if isinstance(exc, IsADirectoryError | PermissionError):
            raise InvalidParameter(f"cannot read {name}: {_os_reason(exc)}") from exc
        raise CorruptFile(f"damaged compound file: {_os_reason(exc)}").at(name) from exc
    except (ValueError, IndexError, KeyError, TypeError, struct.error, OverflowError, EOFError) as exc:
        # Anything else malformed input trips over.
        detail = str(exc) or type(exc).__name__
        raise CorruptFile(f"damaged compound file: {detail}").at(name) from exc


def read_file(path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS) -> Storage:
    """Read the compound file at ``path`` into a :class:`Storage` tree.

    Only a regular file within the limit on inputs is opened (:func:`msgsess.inputs.open_input`):
    a FIFO, a device or a folder is refused without blocking. The path is taken as
    ``pathlib.Path`` takes it (:func:`msgsess.inputs.path_text`: ``./a//b.msg/`` is ``a/b.msg``),
    in what is opened and in errors, as when callers gave a ``Path``.
    """
    name = path_text(path)
    return _wrap_read(name, lambda: io.BufferedReader(open_input(name)), limits)


def read_bytes(data: bytes | bytearray, name: str = "<bytes>", *, limits: Limits = DEFAULT_LIMITS) -> Storage:
    """Read a compound file held in memory into a :class:`Storage` tree."""
    return _wrap_read(name, lambda: io.BytesIO(data), limits)
