"""Our compound-file writer ([MS-CFB]): a :class:`~msgsess.storage.Storage` tree to bytes in one pass.

:func:`plan` checks the tree and lays the whole file out before a byte is
written, because every size is known up front (``bytes`` or a
:class:`~msgsess.storage.StreamSource`'s ``size``). Every chain is one run of
consecutive sectors, so the FAT, the MiniFAT and the DIFAT are arithmetic:

    header | FAT | DIFAT | directory | MiniFAT | mini stream | large streams…

:meth:`Plan.write_to` then writes that front part from memory and copies each
large stream straight into the output, in chunks when it comes from a source.
The file is version 3 (512-byte sectors) as Outlook writes it, or version 4
(4096-byte sectors) when a stream is larger than version 3 can hold.

Close writes thousands of trees of a few shapes, so what depends only on a
tree's shape (its names checked, the sibling trees, the directory packed) is
kept per shape (:class:`_Skeleton`), and what depends only on the counts of
entries and sectors (header, FAT, DIFAT) per layout (:class:`_Layout`): each
tree then costs its own CLSIDs, times, start sectors and sizes.

Each storage's children get consecutive directory ids in [MS-CFB] 2.6.4
order (shorter names first, then code unit by code unit after upper-casing),
and form a balanced binary tree: every node's two subtrees differ in size by
at most one, so all levels but the deepest are full; that level is red when
it is not full, the rest black, which keeps both red-black rules.

The output depends only on the tree: no clock, no randomness.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from struct import Struct
from typing import BinaryIO, NoReturn, cast

from msgsess.cfbformat import (
    DIFSECT,
    DIR_ENTRY,
    DIR_ENTRY_SIZE,
    ENDOFCHAIN,
    FATSECT,
    FREESECT,
    HEADER,
    HEADER_DIFAT,
    MAXREGSECT,
    MINI_SECTOR,
    MINI_SECTOR_SHIFT,
    MINI_STREAM_CUTOFF,
    NOSTREAM,
    SIGNATURE,
)
from msgsess.errors import TooBig, WriteFailed
from msgsess.storage import NULL_CLSID, Storage, StreamSource

__all__ = ["CHUNK", "MAX_V3_STREAM", "Plan", "plan", "sort_key", "to_bytes"]

MINOR_VERSION = 0x003E
BYTE_ORDER = 0xFFFE
#: An unused directory entry: all zero but the three ids, which are NOSTREAM ([MS-CFB] 2.6.3).
_NO_IDS = (NOSTREAM, NOSTREAM, NOSTREAM)  # left, right, child
FREE_ENTRY = DIR_ENTRY.pack(b"", 0, 0, 0, *_NO_IDS, bytes(16), 0, 0, 0, 0, 0)
#: Largest stream a version 3 file holds ([MS-CFB] 2.6.3: 0x80000000 bytes).
MAX_V3_STREAM = 0x80000000
MAX_NAME_UNITS = 31
FORBIDDEN_NAME_CHARS = frozenset("/\\:!\0")

_STORAGE, _STREAM, _ROOT = 1, 2, 5  # [MS-CFB] 2.6.1 object types
_RED, _BLACK = 0, 1
#: Where a directory entry holds its child's id, its CLSID (then state bits and two times),
#: its start sector and its size.
_CHILD_AT, _CLSID_AT, _START_AT = 76, 80, 116
_U32 = Struct("<I")
_CLSID_TIMES = Struct("<16sIQQ")  # at _CLSID_AT
_START_SIZE = Struct("<IQ")  # at _START_AT
_TIME_END = 1 << 64
#: The root storage's name ([MS-CFB] 2.6.2).
_ROOT_NAME = "Root Entry".encode("utf-16-le")

#: Padding of a small stream to a whole mini sector, by length.
_ZEROS = [bytes(n) for n in range(MINI_SECTOR)]

#: Bytes read from a source, and bytes gathered before one write, at a time.
CHUNK = 1 << 20
_LITTLE = sys.byteorder == "little"


# --------------------------------------------------------------------------- names


def sort_key(name: str) -> tuple[int, str]:
    """The [MS-CFB] 2.6.4 order of sibling names, as a sort key.

    Shorter names (in UTF-16 code units) come first; names of one length compare
    code unit by code unit after simple upper-casing. Python's ``str.upper`` is
    the full mapping: where it turns one character into several (``ß``, ``ﬀ``),
    the simple mapping is the single-character title case if there is one
    (``ᾳ`` → ``ᾼ``), else none. Supplementary characters are compared as their
    two surrogates, unchanged. Windows uses its own table for a few exceptions
    ([MS-CFB] note <3>); MS-OXMSG names are ASCII, where all of this agrees.
    """
    if name.isascii():
        return len(name), name.upper()
    units: list[str] = []
    for char in name:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            units += (chr(0xD800 | code >> 10), chr(0xDC00 | code & 0x3FF))
            continue
        upper = char.upper()
        if len(upper) != 1:
            title = char.title()
            upper = title if len(title) == 1 else char
        units.append(upper if ord(upper) <= 0xFFFF else char)
    return len(units), "".join(units)


#: name -> (UTF-16LE bytes, sort key) for names already checked; MS-OXMSG names repeat a lot.
_names: dict[str, tuple[bytes, tuple[int, str]]] = {}


def _check_name(name: object, where: str) -> tuple[bytes, tuple[int, str]]:
    """[MS-CFB] 2.6.1: 1..31 UTF-16 code units, none of / \\ : ! (nor NUL, the terminator)."""
    if not isinstance(name, str):
        raise ValueError(f"entry name {name!r} in {where} is not a str")
    try:
        raw = name.encode("utf-16-le")
    except UnicodeEncodeError:
        raise ValueError(f"entry name {name!r} in {where} is not valid UTF-16 (lone surrogate)") from None
    units = len(raw) // 2
    if not 1 <= units <= MAX_NAME_UNITS:
        raise ValueError(f"entry name {name!r} in {where} must have 1 to 31 characters, not {units}")
    if not FORBIDDEN_NAME_CHARS.isdisjoint(name):
        raise ValueError(f"entry name {name!r} in {where} contains one of / \\ : ! or NUL")
    info = (raw, sort_key(name))
    if len(_names) >= 1 << 16:
        _names.clear()
    _names[name] = info
    return info


def _check_times(node: Storage, where: str) -> tuple[bytes, int, int]:
    """A storage's CLSID and times, checked: 16 bytes, FILETIMEs (0 <= int < 2**64)."""
    clsid, created, modified = node.clsid, node.created, node.modified
    if (
        type(clsid) is bytes
        and len(clsid) == 16
        and type(created) is int
        and type(modified) is int
        and 0 <= created < _TIME_END
        and 0 <= modified < _TIME_END
    ):
        return clsid, created, modified  # the usual case, in one test
    if not isinstance(clsid, bytes) or len(clsid) != 16:
        raise ValueError(f"CLSID of {where} must be 16 bytes")
    for label, value in (("created", created), ("modified", modified)):
        if not isinstance(value, int) or not 0 <= value < _TIME_END:
            raise ValueError(f"{label} time of {where} must be a FILETIME (0 <= int < 2**64)")
    return clsid, created, modified


# --------------------------------------------------------------------------- sibling trees


@lru_cache(maxsize=1024)
def _shape(n: int) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """A balanced red-black tree over sorted positions 0..n-1.

    Returns the root's position and, per position, (left, right, colour) with -1
    for no child. Built by halving, so subtree sizes differ by at most one and
    only the deepest level can be partly filled; colouring that level red and
    the rest black gives every path the same number of black nodes, and no red
    node a red child.
    """
    left = [-1] * n
    right = [-1] * n
    depth = [0] * n

    def build(lo: int, hi: int, level: int) -> int:
        if lo > hi:
            return -1
        mid = (lo + hi) // 2
        depth[mid] = level
        left[mid] = build(lo, mid - 1, level + 1)
        right[mid] = build(mid + 1, hi, level + 1)
        return mid

    root = build(0, n - 1, 0)
    deepest = max(depth)
    full = n == (1 << (deepest + 1)) - 1
    return root, tuple(
        (left[i], right[i], _RED if depth[i] == deepest and not full else _BLACK) for i in range(n)
    )


# --------------------------------------------------------------------------- layout


@dataclass
class _Large:
    """A stream in regular sectors: where its directory entry's start sector is, its data, size
    and first sector (relative)."""

    at: int
    data: bytes | StreamSource
    size: int
    path: str
    first: int = 0


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _table_bytes(table: array[int]) -> bytes:
    if not _LITTLE:
        table = array("I", table)
        table.byteswap()
    return table.tobytes()


class _Fat:
    """The FAT of a file whose chains are runs of consecutive sectors, made block by block.

    Sector i points to i + 1, except FAT sectors (FATSECT), DIFAT sectors (DIFSECT),
    the last sector of each chain (ENDOFCHAIN, ``ends`` ascending) and the free end of the
    last FAT sector (FREESECT); so the table of a 2 GiB file is never held whole.
    """

    BLOCK = 1 << 16  # entries per block

    def __init__(
        self, fat_sectors: int, difat_sectors: int, total: int, per_sector: int, ends: tuple[int, ...]
    ) -> None:
        self.fat_sectors = fat_sectors
        self.difat_sectors = difat_sectors
        self.total = total
        self.per_sector = per_sector
        self.ends = ends
        self._one: tuple[bytes, ...] | None = None

    def blocks(self) -> Iterable[bytes]:
        if self.fat_sectors > 1:
            return self._make()
        if self._one is None:  # one sector (most messages): made once, kept with its _Layout
            self._one = tuple(self._make())
        return self._one

    def _make(self) -> Iterator[bytes]:
        specials = self.fat_sectors + self.difat_sectors
        length = self.fat_sectors * self.per_sector
        ends, e = self.ends, 0
        for lo in range(0, length, self.BLOCK):
            hi = min(lo + self.BLOCK, length)
            block = array("I", range(lo + 1, hi + 1))
            if lo < specials:
                for start, stop, mark in (
                    (0, self.fat_sectors, FATSECT),
                    (self.fat_sectors, specials, DIFSECT),
                ):
                    a, b = max(lo, start), min(hi, stop)
                    if a < b:
                        block[a - lo : b - lo] = array("I", [mark]) * (b - a)
            while e < len(ends) and ends[e] < hi:
                block[ends[e] - lo] = ENDOFCHAIN
                e += 1
            if hi > self.total:
                a = max(lo, self.total)
                block[a - lo :] = array("I", [FREESECT]) * (hi - a)
            yield _table_bytes(block)


class Plan:
    """A compound file laid out and ready to write."""

    def __init__(
        self,
        layout: _Layout,
        tables: list[bytes | bytearray],
        mini: list[bytes | StreamSource],
        mini_paths: dict[int, str],
        large: list[_Large],
    ) -> None:
        self._layout = layout
        self._tables = tables  # what follows the FAT: DIFAT sectors, directory, MiniFAT
        self._mini = mini  # each small stream, then its padding to a mini sector
        self._mini_paths = mini_paths  # the path of each small stream in _mini read from a source
        self._large = large
        fat = layout.fat
        #: Length of the file in bytes.
        self.size = layout.sector + fat.total * layout.sector
        #: 3 (512-byte sectors) or 4 (4096-byte sectors).
        self.version = 3 if layout.sector == 512 else 4
        self.fat_sectors = fat.fat_sectors
        #: DIFAT sectors beyond the header's 109 FAT sector numbers (a version 3 file past 6.8 MiB).
        self.difat_sectors = fat.difat_sectors

    def write_to(self, out: BinaryIO, chunk_size: int = CHUNK) -> None:
        """Write the file to ``out`` front to back (no seeking), sources in chunks.

        Parts are gathered up to ``chunk_size`` bytes and written with one call, so a
        small file goes out in one write.
        """
        layout = self._layout
        buf: list[bytes | bytearray | memoryview] = [layout.header]
        pending = len(layout.header)
        written = 0

        def flush() -> None:
            nonlocal pending, written
            if pending:
                _write_all(out, buf[0] if len(buf) == 1 else b"".join(buf))
                written += pending
                buf.clear()
                pending = 0

        for block in layout.fat.blocks():
            buf.append(block)
            pending += len(block)
            if pending >= chunk_size:
                flush()
        for table in self._tables:
            buf.append(table)
            pending += len(table)
        # The mini stream, in runs of at most chunk_size bytes (a small stream and its
        # padding are < 4 KiB together); the whole padded to a sector.
        mini, paths = self._mini, self._mini_paths
        run = max(2, chunk_size // MINI_STREAM_CUTOFF * 2)  # an even number: streams with their padding
        for lo in range(0, len(mini), run):
            pieces = mini[lo : lo + run]
            if paths:
                for i in range(lo, lo + len(pieces)):
                    if i in paths:
                        pieces[i - lo] = _read_small(cast(StreamSource, mini[i]), paths[i], chunk_size)
            read = cast("list[bytes]", pieces)  # every source read just above
            buf += read
            pending += sum(map(len, read))
            if pending >= chunk_size:
                flush()
        buf.append(layout.tail)
        pending += len(layout.tail)

        for big in self._large:
            pad = -big.size % layout.sector
            if isinstance(big.data, bytes):
                if big.size >= chunk_size:
                    flush()
                    _write_all(out, big.data)
                    written += big.size
                else:
                    buf.append(big.data)
                    pending += big.size
            else:
                flush()
                written += _copy(big.data, big.size, big.path, out, chunk_size)
            if pad:
                buf.append(bytes(pad))
                pending += pad
            if pending >= chunk_size:
                flush()
        flush()
        if written != self.size:  # a broken promise of this module, not of the input
            raise AssertionError(f"compound file writer wrote {written} bytes, planned {self.size}")


def _read_small(source: StreamSource, path: str, chunk_size: int) -> bytes:
    return b"".join(_pull(source, source.size, path, chunk_size))


def _copy(source: StreamSource, size: int, path: str, out: BinaryIO, chunk_size: int) -> int:
    for chunk in _pull(source, size, path, chunk_size):
        _write_all(out, chunk)
    return size


def _write_all(out: BinaryIO, data: bytes | bytearray | memoryview) -> None:
    """``out.write`` until all of ``data`` is written (a raw, unbuffered file may take less)."""
    done = out.write(data)
    if done is None or done >= len(data):
        return
    view = memoryview(data)
    while done < len(view):
        more = out.write(view[done:])
        if not more:
            raise OSError(f"short write: {done} of {len(view)} bytes")
        done += more


def _pull(source: StreamSource, size: int, path: str, chunk_size: int) -> Iterator[bytes]:
    """The chunks of a source, checked against the size it announced."""
    got = 0
    try:
        for chunk in source.chunks(chunk_size):
            got += len(chunk)
            if got > size:
                break
            yield chunk
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise WriteFailed(f"cannot read the data of stream {path}: {reason}") from exc
    if got != size:
        raise WriteFailed(
            f"the data of stream {path} changed while it was written: "
            f"{'more' if got > size else f'only {got}'} bytes instead of {size}",
            hint="write it again",
        )


def _duplicate(first: str, second: str, where: str) -> NoReturn:
    raise ValueError(f"two entries named {first!r} and {second!r} (the same case-insensitively) in {where}")


#: One storage's children in directory order: (name, UTF-16 name, left, right, colour) per child,
#: left and right as positions in that order (-1: none); and the position of the tree's root.
_Siblings = tuple[int, tuple[tuple[str, bytes, int, int, int], ...]]
#: The sibling trees of sets of names already checked and laid out: every message of a batch has
#: the same few sets (its properties, its recipients'), so laying one out is a lookup.
_siblings: dict[tuple[str, ...], _Siblings] = {}


def _sibling_tree(names: tuple[str, ...], where: str) -> _Siblings:
    """Check the names of one storage's children and lay out their red-black tree ([MS-CFB] 2.6.4)."""
    kids = []
    for name in names:
        info = _names.get(name) if type(name) is str else None
        if info is None:
            info = _check_name(name, where)
        kids.append((info[1], info[0], name))
    kids.sort(key=itemgetter(0))
    for i in range(1, len(kids)):
        if kids[i][0] == kids[i - 1][0]:
            _duplicate(kids[i - 1][2], kids[i][2], where)
    if not all(name.isascii() for name in names):
        # Readers (olefile, hence extract-msg) also fold names with str.lower(); outside
        # ASCII that can join names 2.6.4 keeps apart (KELVIN SIGN and K): refuse those too.
        folded: dict[str, str] = {}
        for name in names:
            other = folded.setdefault(name.lower(), name)
            if other != name:
                _duplicate(other, name, where)
    root_pos, shape = _shape(len(kids))
    siblings = (root_pos, tuple((name, raw, *shape[pos]) for pos, (_key, raw, name) in enumerate(kids)))
    if len(_siblings) >= 1024:
        _siblings.clear()
    _siblings[names] = siblings
    return siblings


class _Skeleton:
    """The directory of one shape of tree, checked and packed but for what each tree has of its own.

    A shape is the names and the types of each storage's children, the storages taken breadth
    first in the tree's own (dict) order: every tree of one shape has the same directory but for
    its storages' CLSIDs and times and its streams' start sectors and sizes, which
    :func:`plan` packs in. A batch of messages has few shapes, so their names are checked and
    their sibling trees laid out once per shape, not once per message.
    """

    __slots__ = ("at", "count", "dirs", "groups", "in_memory", "path_at", "paths", "storages")

    def __init__(
        self,
        dirs: bytes,
        count: int,
        storages: tuple[tuple[int, str], ...],
        streams: list[tuple[int, str, int, str]],
        in_memory: bool,
    ) -> None:
        #: The directory entries in id order, with zero CLSIDs, times, start sectors and sizes.
        self.dirs = dirs
        self.count = count
        #: Per storage but the root, in walk order: where its CLSID is, its path.
        self.storages = storages
        #: The streams in id order: their names, as runs of one storage's (by its walk index);
        #: where their start sectors are; their paths.
        self.groups = tuple(
            (walk, tuple(name for _w, name, _a, _p in run)) for walk, run in groupby(streams, itemgetter(0))
        )
        self.at = tuple(at for _w, _n, at, _p in streams)
        self.paths = tuple(path for _w, _n, _a, path in streams)
        self.path_at = {at: path for _w, _n, at, path in streams}
        #: Every stream is bytes (none from a source).
        self.in_memory = in_memory


#: Skeletons by shape (see :class:`_Skeleton`).
_skeletons: dict[tuple[tuple[object, ...], ...], _Skeleton] = {}
#: Directory entries of the skeletons kept, and the most they may have together (about 2 MiB with
#: their keys and paths): a batch of messages of a few shapes keeps them all, while one of ever
#: new large shapes (mail to hundreds of recipients) does not make a writer's memory grow.
_skeleton_entries = 0
_MOST_SKELETON_ENTRIES = 8192


def _keep_skeleton(key: tuple[tuple[object, ...], ...], skeleton: _Skeleton) -> None:
    global _skeleton_entries
    if skeleton.count > _MOST_SKELETON_ENTRIES // 8:
        return  # a tree this large gains little from it: laid out again each time
    if _skeleton_entries + skeleton.count > _MOST_SKELETON_ENTRIES:
        _skeletons.clear()
        _skeleton_entries = 0
    _skeletons[key] = skeleton
    _skeleton_entries += skeleton.count


#: Which of a storage's children are storages, by the types of its children.
_storages_among: dict[tuple[type, ...], tuple[int, ...]] = {}


def _skeleton(tree: Storage, walked: list[Storage]) -> _Skeleton:
    """Check the names of a tree's entries and lay out its directory ([MS-CFB] 2.6).

    ``walked`` is the tree's storages in walk order (:func:`plan`); a storage met twice (the
    tree is no tree) is refused here, with its path.
    """
    walk_index = {id(node): i for i, node in enumerate(walked)}
    pack = DIR_ENTRY.pack
    # Root first; what is known only later (a storage's child) is patched in place.
    dirs = bytearray(
        pack(_ROOT_NAME, len(_ROOT_NAME) + 2, _ROOT, _BLACK, *_NO_IDS, NULL_CLSID, 0, 0, 0, 0, 0)
    )
    count = 1
    storages: list[tuple[int, int, str]] = []
    streams: list[tuple[int, str, int, str]] = []
    in_memory = True
    seen = {id(tree)}
    queue: list[tuple[int, Storage, str]] = [(0, tree, "")]
    for parent_id, node, path in queue:  # grows while it is walked: breadth first
        if not node.entries:
            continue
        key = tuple(node.entries)
        siblings = _siblings.get(key)
        if siblings is None:
            siblings = _sibling_tree(key, path.rstrip("/") or "the root storage")
        root_pos, order = siblings
        base = count
        _U32.pack_into(dirs, parent_id * DIR_ENTRY_SIZE + _CHILD_AT, base + root_pos)
        walk = walk_index.get(id(node), -1)
        for name, raw, left_pos, right_pos, colour in order:
            child = node.entries[name]
            left = base + left_pos if left_pos >= 0 else NOSTREAM
            right = base + right_pos if right_pos >= 0 else NOSTREAM
            at = count * DIR_ENTRY_SIZE
            count += 1
            child_path = f"{path}{name}"
            if isinstance(child, Storage):
                if id(child) in seen:
                    raise ValueError(f"storage {child_path} appears twice in the tree")
                seen.add(id(child))
                kind = _STORAGE
                storages.append((walk_index.get(id(child), -1), at + _CLSID_AT, child_path))
                queue.append((count - 1, child, child_path + "/"))
            else:
                _stream_size(child, child_path)
                kind = _STREAM
                streams.append((walk, name, at + _START_AT, child_path))
                in_memory = in_memory and type(child) is bytes
            # [MS-CFB] 2.6.3: a storage's start sector and size are zero.
            dirs += pack(raw, len(raw) + 2, kind, colour, left, right, NOSTREAM, NULL_CLSID, 0, 0, 0, 0, 0)
    storages.sort()
    return _Skeleton(bytes(dirs), count, tuple(s[1:] for s in storages), streams, in_memory)


def _stream_size(child: object, path: str) -> int:
    """The size of a stream entry; a child that is no stream is refused."""
    if type(child) is bytes:
        return len(child)
    if isinstance(child, StreamSource):
        size = child.size
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"stream {path}: its source has no valid size ({size!r})")
        return size
    raise TypeError(f"entry {path} is {type(child).__name__}, not bytes, StreamSource or Storage")


def plan(tree: Storage, *, version: int | None = None) -> Plan:
    """Check ``tree`` and lay out its compound file; nothing is read from sources yet.

    ``version`` is chosen when None: 3, or 4 when a stream exceeds 2 GiB. Bad
    trees are programming errors: ``ValueError`` (names, duplicates, fields) or
    ``TypeError`` (an entry that is no Storage, bytes or StreamSource).
    """
    if version not in (None, 3, 4):
        raise ValueError(f"compound file version must be 3 or 4, not {version!r}")
    if not isinstance(tree, Storage):
        raise TypeError(f"expected a Storage tree, got {type(tree).__name__}")
    # The storages breadth first in dict order, and the tree's shape: each one's names and
    # the types of its children (so that a tree of another shape cannot share a skeleton).
    walked = [tree]
    shape: list[tuple[object, ...]] = []
    seen = {id(tree)}
    for node in walked:  # grows while it is walked
        entries = node.entries
        types = tuple(map(type, entries.values()))
        shape.append(tuple(entries))
        shape.append(types)
        subs = _storages_among.get(types)
        if subs is None:
            subs = tuple(i for i, kind in enumerate(types) if issubclass(kind, Storage))
            if len(_storages_among) >= 256:
                _storages_among.clear()
            _storages_among[types] = subs
        if subs:
            children = cast("list[Storage]", list(entries.values()))  # those at subs are
            for i in subs:
                child = children[i]
                if id(child) in seen:  # no tree: _skeleton's walk names the storage
                    _skeleton(tree, walked)
                    raise ValueError("a storage appears twice in the tree")
                seen.add(id(child))
                walked.append(child)
    key = tuple(shape)
    skeleton = _skeletons.get(key)
    if skeleton is None:
        skeleton = _skeleton(tree, walked)
        _keep_skeleton(key, skeleton)
    dirs = bytearray(skeleton.dirs)
    clsid, _created, modified = _check_times(tree, "the root storage")
    _CLSID_TIMES.pack_into(dirs, _CLSID_AT, clsid, 0, 0, modified)  # the root's creation time MUST be 0
    for node, (at, path) in zip(walked[1:], skeleton.storages, strict=True):
        clsid, created, modified = _check_times(node, path)
        _CLSID_TIMES.pack_into(dirs, at, clsid, 0, created, modified)

    # The streams in id order and their sizes: the small ones fill the mini stream in that
    # order, each padded to a whole mini sector; the large ones are placed by _lay_out.
    streams: list[bytes | StreamSource] = []
    for walk, names in skeleton.groups:
        streams += map(walked[walk].entries.__getitem__, names)
    if skeleton.in_memory:
        sizes = list(map(len, cast("list[bytes]", streams)))
    else:
        sizes = list(map(_stream_size, streams, skeleton.paths))
    mini: list[bytes | StreamSource] = []
    mini_paths: dict[int, str] = {}  # the path of each small stream read from a source
    mini_ends: list[int] = []  # last mini sector of each small stream
    mini_count = 0
    large: list[_Large] = []
    pack_into = _START_SIZE.pack_into
    for at, stream, size in zip(skeleton.at, streams, sizes, strict=True):
        if 0 < size < MINI_STREAM_CUTOFF:
            pack_into(dirs, at, mini_count, size)
            mini_count += (size + MINI_SECTOR - 1) >> MINI_SECTOR_SHIFT
            mini_ends.append(mini_count - 1)
            if type(stream) is not bytes:
                mini_paths[len(mini)] = skeleton.path_at[at]
            mini.append(stream)
            mini.append(_ZEROS[-size % MINI_SECTOR])
        elif size:
            pack_into(dirs, at, 0, size)  # the start is set when the large streams are placed
            large.append(_Large(at, stream, size, skeleton.path_at[at]))
        else:
            pack_into(dirs, at, ENDOFCHAIN, 0)  # an empty stream has no sector ([MS-CFB] 2.6.3)
    return _lay_out(dirs, skeleton.count, mini, mini_paths, mini_ends, mini_count, large, version)


class _Layout:
    """Where everything goes in a file of some number of directory entries, mini sectors and
    large streams (of some sizes): the same for most messages of a batch, so made once."""

    __slots__ = (
        "difat",
        "fat",
        "free",
        "header",
        "large_firsts",
        "mini_start",
        "minifat_free",
        "sector",
        "tail",
    )

    def __init__(
        self, count: int, mini_count: int, large_sizes: tuple[int, ...], version: int | None
    ) -> None:
        mini_stream = mini_count * MINI_SECTOR
        biggest = max(large_sizes, default=0)
        v4 = version == 4 or max(biggest, mini_stream) > MAX_V3_STREAM
        if v4 and version == 3:
            raise TooBig(
                f"a stream of {max(biggest, mini_stream)} bytes does not fit a compound file version 3"
            )
        sector = 4096 if v4 else 512
        per_sector = sector // 4  # FAT, MiniFAT and DIFAT entries per sector
        n_dir = _ceil(count, sector // DIR_ENTRY_SIZE)
        n_minifat = _ceil(mini_count, per_sector)
        n_mini = _ceil(mini_stream, sector)
        n_large = [_ceil(size, sector) for size in large_sizes]
        n_data = n_dir + n_minifat + n_mini + sum(n_large)
        n_fat = n_difat = 0
        while True:  # the FAT also maps its own sectors and the DIFAT's
            total = n_data + n_fat + n_difat
            need_fat = _ceil(total, per_sector)
            need_difat = _ceil(max(0, need_fat - HEADER_DIFAT), per_sector - 1)
            if (need_fat, need_difat) == (n_fat, n_difat):
                break
            n_fat, n_difat = need_fat, need_difat
        if total > MAXREGSECT + 1:
            raise TooBig(
                f"the compound file would need {total} sectors of {sector} bytes; "
                f"at most {MAXREGSECT + 1} can be addressed"
            )
        first_dir = n_fat + n_difat
        first_minifat = first_dir + n_dir
        first_mini = first_minifat + n_minifat
        ends = [
            first + n - 1
            for first, n in ((first_dir, n_dir), (first_minifat, n_minifat), (first_mini, n_mini))
            if n
        ]
        firsts = []
        first = first_mini + n_mini
        for n in n_large:
            firsts.append(first)
            first += n
            ends.append(first - 1)
        # DIFAT sectors (beyond the header's 109 FAT sector numbers): per_sector - 1 numbers
        # and the next DIFAT sector's number (ENDOFCHAIN at the end).
        difat = array("I")
        for i in range(n_difat):
            first = HEADER_DIFAT + i * (per_sector - 1)
            part = array("I", range(first, min(first + per_sector - 1, n_fat)))
            part.extend(array("I", [FREESECT]) * (per_sector - 1 - len(part)))
            part.append(n_fat + i + 1 if i + 1 < n_difat else ENDOFCHAIN)
            difat.extend(part)
        self.header = _header(v4, n_fat, n_difat, n_dir, n_minifat)
        self.difat = _table_bytes(difat)
        self.fat = _Fat(n_fat, n_difat, total, per_sector, tuple(ends))
        self.sector = sector
        #: Unused entries at the end of the directory.
        self.free = FREE_ENTRY * (n_dir * (sector // DIR_ENTRY_SIZE) - count)
        #: The free end of the MiniFAT's last sector.
        self.minifat_free = _table_bytes(array("I", [FREESECT]) * (n_minifat * per_sector - mini_count))
        self.mini_start = first_mini if n_mini else ENDOFCHAIN
        self.large_firsts = tuple(firsts)
        #: Padding of the mini stream to a whole sector.
        self.tail = bytes(-mini_stream % sector)


#: Layouts by (directory entries, mini sectors, large streams' sizes, version asked for).
_layouts: dict[tuple[int, int, tuple[int, ...], int | None], _Layout] = {}
#: The MiniFAT of one long chain (sector i points to i + 1), to cut each file's MiniFAT from.
_COUNTING = array("I", range(1, 1 << 12))


def _lay_out(
    dirs: bytearray,
    count: int,
    mini: list[bytes | StreamSource],
    mini_paths: dict[int, str],
    mini_ends: list[int],
    mini_count: int,
    large: list[_Large],
    version: int | None,
) -> Plan:
    """Place the directory, the MiniFAT, the mini stream and the large streams (in that order)."""
    key = (count, mini_count, tuple([big.size for big in large]) if large else (), version)
    layout = _layouts.get(key)
    if layout is None:
        layout = _Layout(*key)
        if len(large) <= 16:  # a file of many large streams is laid out again each time
            if len(_layouts) >= 256:
                _layouts.clear()
            _layouts[key] = layout
    for big, first in zip(large, layout.large_firsts, strict=True):
        big.first = first
        _U32.pack_into(dirs, big.at, first)
    _START_SIZE.pack_into(dirs, _START_AT, layout.mini_start, mini_count * MINI_SECTOR)
    tables: list[bytes | bytearray] = [layout.difat, dirs, layout.free]
    if mini_count:
        minifat = (
            _COUNTING[:mini_count] if mini_count <= len(_COUNTING) else array("I", range(1, mini_count + 1))
        )
        for end in mini_ends:
            minifat[end] = ENDOFCHAIN
        tables += (_table_bytes(minifat), layout.minifat_free)
    return Plan(layout, tables, mini, mini_paths, large)


def _header(v4: bool, n_fat: int, n_difat: int, n_dir: int, n_minifat: int) -> bytes:
    """The header sector ([MS-CFB] 2.2), with the first 109 FAT sector numbers: FAT sectors
    first, then DIFAT sectors, then the directory, the MiniFAT…"""
    first_dir = n_fat + n_difat
    header = bytearray(4096 if v4 else 512)  # version 4 pads the 512-byte header to a whole sector
    HEADER.pack_into(
        header,
        0,
        SIGNATURE,
        bytes(16),
        MINOR_VERSION,
        4 if v4 else 3,
        BYTE_ORDER,
        12 if v4 else 9,
        MINI_SECTOR_SHIFT,
        bytes(6),
        n_dir if v4 else 0,  # [MS-CFB] 2.2: MUST be zero in version 3
        n_fat,
        first_dir,
        0,
        MINI_STREAM_CUTOFF,
        first_dir + n_dir if n_minifat else ENDOFCHAIN,
        n_minifat,
        n_fat if n_difat else ENDOFCHAIN,
        n_difat,
    )
    header_difat = array("I", range(min(n_fat, HEADER_DIFAT)))
    header_difat.extend(array("I", [FREESECT]) * (HEADER_DIFAT - len(header_difat)))
    header[HEADER.size : HEADER.size + 4 * HEADER_DIFAT] = _table_bytes(header_difat)
    return bytes(header)


def to_bytes(tree: Storage) -> bytes:
    """The compound file for ``tree``, in memory."""
    import io

    buf = io.BytesIO()
    plan(tree).write_to(buf)
    return buf.getvalue()
