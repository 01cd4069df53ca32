"""Test helper: check a compound file's raw structure against [MS-CFB], independently of msgsess.

Parses the header, the DIFAT, the FAT, the directory and the MiniFAT from the bytes
alone, and checks what the writer promises: header fields (2.2), sector chains
(2.3–2.5: every sector used once, FAT and DIFAT sectors marked, free space free),
directory entries (2.6.1–2.6.3: names, types, storages without data, empty streams
at ENDOFCHAIN, unused entries zeroed) and each storage's sibling tree as a red-black
tree (2.6.4): its root black, no red node with a red child, left < right in the
spec's order. Returns what it read, for comparisons.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from itertools import pairwise

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
DIFSECT = 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF
RED, BLACK = 0, 1

_HEADER = struct.Struct("<8s16sHHHHH6sIIIIIIIII109I")
_ENTRY = struct.Struct("<64sHBBIII16sIQQIQ")


class Broken(AssertionError):
    """The file breaks a rule of [MS-CFB]."""


@dataclass
class Entry:
    sid: int
    name: str
    name_length: int
    kind: int
    colour: int
    left: int
    right: int
    child: int
    clsid: bytes
    state: int
    created: int
    modified: int
    start: int
    size: int
    kids: list[Entry] = field(default_factory=list)


@dataclass
class Parsed:
    version: int
    sector_size: int
    entries: list[Entry]
    #: path -> stream bytes; storages map to None.
    items: dict[str, bytes | None]
    #: path -> (clsid, created, modified) of storages, "" for the root.
    storages: dict[str, tuple[bytes, int, int]]
    difat_sectors: int
    fat_sectors: int
    #: Deepest sibling tree seen (nodes on the longest path).
    max_tree_depth: int = 0


def _rule(ok: bool, text: str) -> None:
    if not ok:
        raise Broken(text)


def _upper_unit(unit: int) -> int:
    """[MS-CFB] 2.6.4: a UTF-16 code unit upper-cased by the simple mapping (surrogates unchanged)."""
    if 0xD800 <= unit <= 0xDFFF:
        return unit
    char = chr(unit)
    upper = char.upper()
    if len(upper) != 1:  # no one-to-one full mapping: the simple one is the title case, if single
        upper = char.title() if len(char.title()) == 1 else char
    return ord(upper) if ord(upper) <= 0xFFFF else unit


def compare_key(entry: Entry) -> tuple[int, tuple[int, ...]]:
    """Shorter names first (by the Name Length field), then unit by unit after upper-casing."""
    raw = entry.name.encode("utf-16-le")
    units = struct.unpack(f"<{len(raw) // 2}H", raw)
    return entry.name_length, tuple(_upper_unit(u) for u in units)


def parse(data: bytes, *, ours: bool = True) -> Parsed:
    """Parse and check ``data``; raises :class:`Broken` naming the first rule broken.

    ``ours`` adds what msgsess promises beyond what Outlook's files keep: the same
    number of black nodes on every path of a sibling tree (what makes a red-black
    tree balanced; 2.6.4 lists only the three rules above), a black root entry
    (whose colour 2.6.4 calls irrelevant; Outlook writes it red), unused directory
    entries zeroed (2.6.3; Outlook leaves stale bytes), no free sector or mini
    sector. Without it, Outlook's own files pass.
    """
    _rule(len(data) >= 512, "shorter than a header")
    h = _HEADER.unpack_from(data)
    (sig, clsid, minor, major, order, shift, mini_shift, reserved, n_dir, n_fat, first_dir, trans) = h[:12]
    cutoff, first_minifat, n_minifat, first_difat, n_difat = h[12:17]
    header_difat = h[17:]
    _rule(sig == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "signature")
    _rule(clsid == bytes(16), "header CLSID must be zero")
    _rule(minor == 0x3E, "minor version 0x003E")
    _rule((major, shift) in ((3, 9), (4, 12)), f"major version {major} with sector shift {shift}")
    _rule(order == 0xFFFE, "byte order")
    _rule(mini_shift == 6, "mini sector shift 6")
    _rule(reserved == bytes(6), "reserved bytes zero")
    _rule(trans == 0, "transaction signature 0")
    _rule(cutoff == 4096, "mini stream cutoff 4096")
    if major == 3:
        _rule(n_dir == 0, "version 3: number of directory sectors must be 0")
    sector = 1 << shift
    if major == 4:
        _rule(data[512:4096] == bytes(3584), "version 4: header padded with zeros")
    _rule((len(data) - sector) % sector == 0, "file is not a whole number of sectors")
    n_sectors = (len(data) - sector) // sector
    per = sector // 4

    def sect(i: int) -> bytes:
        _rule(0 <= i < n_sectors, f"sector {i:#x} outside the file")
        return data[sector * (i + 1) : sector * (i + 2)]

    def table(i: int) -> list[int]:
        return list(struct.unpack(f"<{per}I", sect(i)))

    # DIFAT: header's 109, then the DIFAT chain.
    fat_sects = [s for s in header_difat[: min(n_fat, 109)]]
    _rule(all(s == FREESECT for s in header_difat[min(n_fat, 109) :]), "unused header DIFAT slots free")
    difat_sects: list[int] = []
    nxt = first_difat
    if n_fat <= 109:
        _rule(n_difat == 0 and first_difat == ENDOFCHAIN, "no DIFAT sectors below 110 FAT sectors")
    else:
        _rule(n_difat == -(-(n_fat - 109) // (per - 1)), "DIFAT sector count")
    for _ in range(n_difat):
        difat_sects.append(nxt)
        t = table(nxt)
        want = min(per - 1, n_fat - len(fat_sects))
        fat_sects += t[:want]
        _rule(all(s == FREESECT for s in t[want : per - 1]), "unused DIFAT slots free")
        nxt = t[per - 1]
    if n_difat:
        _rule(nxt == ENDOFCHAIN, "last DIFAT sector ends with ENDOFCHAIN")
    _rule(len(fat_sects) == n_fat, "FAT sector count")

    fat: list[int] = []
    for s in fat_sects:
        fat += table(s)
    _rule(len(fat) >= n_sectors, "FAT covers every sector")
    used = [False] * n_sectors
    for s in fat_sects:
        _rule(fat[s] == FATSECT, f"FAT sector {s} marked FATSECT")
        used[s] = True
    for s in difat_sects:
        _rule(fat[s] == DIFSECT, f"DIFAT sector {s} marked DIFSECT")
        used[s] = True

    def chain(start: int, what: str, expect: int | None = None) -> list[int]:
        out = []
        s = start
        while s != ENDOFCHAIN:
            _rule(0 <= s < n_sectors, f"{what}: sector {s:#x} out of range")
            _rule(not used[s], f"{what}: sector {s} used twice")
            used[s] = True
            out.append(s)
            s = fat[s]
        if expect is not None:
            _rule(len(out) == expect, f"{what}: {len(out)} sectors, {expect} expected")
        return out

    dir_chain = chain(first_dir, "directory")
    if major == 4:
        _rule(n_dir == len(dir_chain), "version 4: number of directory sectors")
    raw_dir = b"".join(sect(s) for s in dir_chain)
    entries: list[Entry] = []
    for off in range(0, len(raw_dir), 128):
        f = _ENTRY.unpack_from(raw_dir, off)
        name_raw, length = f[0], f[1]
        if f[2] == 0:  # unused: 2.6.3 wants it zeroed, ids NOSTREAM (Outlook leaves stale bytes)
            if ours:
                _rule(raw_dir[off : off + 64] == bytes(64) and length == 0, "unused entry has no name")
                _rule(f[4:7] == (NOSTREAM, NOSTREAM, NOSTREAM), "unused entry ids are NOSTREAM")
                _rule(raw_dir[off + 80 : off + 128] == bytes(48), "unused entry zeroed")
            free = (0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, bytes(16), 0, 0, 0, 0, 0)
            entries.append(Entry(len(entries), "", *free))
            continue
        _rule(length % 2 == 0 and 4 <= length <= 64, f"entry {len(entries)}: name length {length}")
        _rule(name_raw[length - 2 : length] == b"\0\0", "name NUL-terminated")
        _rule(name_raw[length:] == bytes(64 - length), "name padded with zeros")
        name = name_raw[: length - 2].decode("utf-16-le", "surrogatepass")
        _rule("\0" not in name and not set(name) & set("/\\:!"), f"forbidden character in {name!r}")
        size = f[12]
        if major == 3:
            _rule(size < 1 << 32, "version 3: size fits 32 bits")
        entries.append(Entry(len(entries), name, length, *f[2:12], size))
    _rule(entries and entries[0].kind == 5, "entry 0 is the root")
    root = entries[0]
    _rule(root.left == NOSTREAM and root.right == NOSTREAM, "the root has no siblings")
    if ours:
        _rule(root.colour == BLACK, "our root entry is black")
    _rule(root.created == 0, "root creation time MUST be 0")

    # Sibling trees: each storage's children, checked as red-black trees.
    seen = {0}
    root_times = (root.clsid, root.created, root.modified)
    parsed = Parsed(major, sector, entries, {}, {"": root_times}, n_difat, n_fat)

    def walk_tree(top: int, where: str) -> list[Entry]:
        """In-order children of a storage, checking every red-black rule on the way."""
        out: list[Entry] = []
        # Iterative post-order: black height and depth of each subtree.
        info: dict[int, tuple[int, int]] = {}
        stack: list[tuple[int, bool]] = [(top, False)]
        _rule(0 <= top < len(entries), f"{where}: child id {top} out of range")
        _rule(entries[top].colour == BLACK, f"{where}: the root of a red-black tree MUST be black")
        while stack:
            sid, done = stack.pop()
            e = entries[sid]
            if not done:
                _rule(sid not in seen, f"{where}: entry {sid} reached twice")
                _rule(e.kind in (1, 2), f"{where}: entry {sid} of type {e.kind} in a tree")
                _rule(e.colour in (RED, BLACK), "colour is 0 or 1")
                seen.add(sid)
                stack.append((sid, True))
                for kid in (e.right, e.left):
                    if kid != NOSTREAM:
                        _rule(0 <= kid < len(entries), f"{where}: sibling id {kid} out of range")
                        if e.colour == RED:
                            _rule(entries[kid].colour == BLACK, f"{where}: two red nodes in a row")
                        stack.append((kid, False))
                continue
            heights = []
            depths = []
            for kid in (e.left, e.right):
                bh, d = info.pop(kid) if kid != NOSTREAM else (1, 0)
                heights.append(bh)
                depths.append(d)
            if ours:
                _rule(heights[0] == heights[1], f"{where}: black heights differ below {e.name!r}")
            info[sid] = (heights[0] + (e.colour == BLACK), 1 + max(depths))
        parsed.max_tree_depth = max(parsed.max_tree_depth, info[top][1])
        # In order: strictly increasing by the spec's comparison.
        node, stack2 = top, []
        while stack2 or node != NOSTREAM:
            while node != NOSTREAM:
                stack2.append(node)
                node = entries[node].left
            node = stack2.pop()
            out.append(entries[node])
            node = entries[node].right
        keys = [compare_key(e) for e in out]
        _rule(all(a < b for a, b in pairwise(keys)), f"{where}: siblings out of order")
        return out

    mini_entries: list[tuple[str, Entry]] = []
    big_entries: list[tuple[str, Entry]] = []
    todo: list[tuple[Entry, str]] = [(root, "")]
    while todo:
        node, path = todo.pop()
        if node.child == NOSTREAM:
            node.kids = []
            continue
        node.kids = walk_tree(node.child, path or "root")
        for kid in node.kids:
            kid_path = f"{path}{kid.name}"
            if kid.kind == 1:
                _rule(kid.start == 0 and kid.size == 0, f"storage {kid_path}: start and size 0")
                parsed.items[kid_path] = None
                parsed.storages[kid_path] = (kid.clsid, kid.created, kid.modified)
                todo.append((kid, kid_path + "/"))
            else:
                _rule(kid.child == NOSTREAM, f"stream {kid_path} has no children")
                _rule(kid.clsid == bytes(16) and kid.state == 0, f"stream {kid_path}: CLSID and state 0")
                _rule(kid.created == 0 and kid.modified == 0, f"stream {kid_path}: times 0")
                if kid.size == 0:
                    _rule(kid.start == ENDOFCHAIN, f"empty stream {kid_path} starts at ENDOFCHAIN")
                    parsed.items[kid_path] = b""
                elif kid.size < cutoff:
                    mini_entries.append((kid_path, kid))
                else:
                    big_entries.append((kid_path, kid))
    _rule(len(seen) == sum(1 for e in entries if e.kind), "every entry is in the tree")

    for path, e in big_entries:
        secs = chain(e.start, path, -(-e.size // sector))
        parsed.items[path] = b"".join(sect(s) for s in secs)[: e.size]
    # Mini stream and MiniFAT.
    minifat: list[int] = []
    if n_minifat:
        for s in chain(first_minifat, "MiniFAT", n_minifat):
            minifat += table(s)
    else:
        _rule(first_minifat == ENDOFCHAIN, "no MiniFAT: first MiniFAT sector ENDOFCHAIN")
    if root.size:
        mini_stream = b"".join(sect(s) for s in chain(root.start, "mini stream", -(-root.size // sector)))
    else:
        _rule(root.start == ENDOFCHAIN, "no mini stream: root starts at ENDOFCHAIN")
        mini_stream = b""
    n_mini = root.size // 64
    _rule(root.size % 64 == 0 and len(minifat) >= n_mini, "mini stream in whole mini sectors, all mapped")
    mini_used = [False] * n_mini
    for path, e in mini_entries:
        s, got = e.start, []
        while s != ENDOFCHAIN:
            _rule(0 <= s < n_mini and not mini_used[s], f"{path}: bad or shared mini sector {s}")
            mini_used[s] = True
            got.append(mini_stream[64 * s : 64 * s + 64])
            s = minifat[s]
        _rule(len(got) == -(-e.size // 64), f"{path}: mini chain length")
        parsed.items[path] = b"".join(got)[: e.size]
    if ours:
        _rule(all(mini_used), "every mini sector belongs to a stream")
    _rule(all(m == FREESECT for m in minifat[n_mini:]), "unused MiniFAT entries free")
    for i in range(n_sectors, len(fat)):
        _rule(fat[i] == FREESECT, "FAT entries past the end of the file are free")
    if ours:
        _rule(all(used), "every sector of the file belongs to a chain (no waste, no orphans)")
    else:
        _rule(all(u or fat[i] == FREESECT for i, u in enumerate(used)), "unused sectors are FREESECT")
    return parsed
