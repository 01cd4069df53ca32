"""Structure-aware mutations of real .msg files, for the fuzz harness (issue 9).

Each family damages one layer the way a broken writer, a truncated copy or an attacker would:

==============  ==================================================================================
family          what it changes
==============  ==================================================================================
directory       a directory entry: name length and characters, type, colour, siblings, child,
                start sector, size, CLSID ([MS-CFB] 2.6.1)
fat             a FAT or MiniFAT entry: a chain ends early, loops, points anywhere ([MS-CFB] 2.3)
header          a header field: sector counts, first sectors, DIFAT slots, sizes ([MS-CFB] 2.2)
prop_header     the 32/24/8-byte header of a property stream: counts, next ids ([MS-OXMSG] 2.4.1)
prop_entry      a property entry: its type, id, flags, size or reserved field; one removed or
                doubled ([MS-OXMSG] 2.4.2)
strings         a string value: unpaired surrogates, odd lengths, bytes no code page defines,
                terminal escapes, NULs, a stream removed ([MS-OXMSG] 2.1.3)
nameid          the named-property map: GUIDs, entries, names, hash buckets ([MS-OXMSG] 2.2.3)
storages        the storage layout: objects renamed, property streams removed, a stream where a
                storage belongs, a name map inside an embedded message
bytes           a few bits flipped anywhere
==============  ==================================================================================

Tree-level families edit the storage tree and write it with msgsess's own writer (a valid
compound file around damaged content); the others edit the bytes of the compound file. All are
driven by a ``random.Random``, so a mutant is reproduced from its seed.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

from msgsess import cfb
from msgsess.errors import MsgsessError
from msgsess.storage import Storage

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
TREE_FAMILIES = ("prop_header", "prop_entry", "strings", "nameid", "storages")
RAW_FAMILIES = ("directory", "fat", "header", "bytes")
FAMILIES = TREE_FAMILIES + RAW_FAMILIES

#: Types a property entry is retyped to: every stored form, and some no spec defines.
TYPES = (
    0x0000, 0x0001, 0x0002, 0x0003, 0x0005, 0x0006, 0x0007, 0x000A, 0x000B, 0x000D, 0x0014,
    0x001E, 0x001F, 0x0040, 0x0048, 0x00FB, 0x0102, 0x1003, 0x1014, 0x101E, 0x101F, 0x1040,
    0x1048, 0x1102, 0x0099, 0x8003,
)  # fmt: skip
#: Ids a property entry is moved to: ones the codec reads closely, and named ids.
IDS = (0x3705, 0x3701, 0x0E07, 0x340D, 0x3FFD, 0x3FDE, 0x0037, 0x1000, 0x1009, 0x1013, 0x8000, 0x8A5C, 0xFFFF)
#: Bytes and code units that are no text, or that a terminal acts on.
NASTY_UTF16 = (b"\x00\xd8", b"\x00\xdc", b"\xff\xdf", b"\x1b\x00", b"\x0a\x00", b"\x2e\x20", b"\x00\x00")
NASTY_8BIT = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d", b"\xff", b"\x1b]52;c;SGk=\x07", b"\n", b"\x00")


# --------------------------------------------------------------------------- tree-level


def _streams(tree: Storage, test: Callable[[str, bytes], bool]) -> list[tuple[Storage, str]]:
    """(parent, name) of every stream in memory that ``test(path, data)`` picks."""
    out = []
    stack = [("", tree)]
    while stack:
        path, node = stack.pop()
        for name, entry in node.entries.items():
            if isinstance(entry, Storage):
                stack.append((f"{path}{name}/", entry))
            elif isinstance(entry, bytes) and test(f"{path}{name}", entry):
                out.append((node, name))
    return out


def _storages(tree: Storage) -> list[tuple[Storage, str, Storage]]:
    out = []
    stack = [tree]
    while stack:
        node = stack.pop()
        for name, entry in node.entries.items():
            if isinstance(entry, Storage):
                out.append((node, name, entry))
                stack.append(entry)
    return out


def _int_like(rng: random.Random, old: int) -> int:
    return (
        rng.choice([0, 1, old + 1, old - 1 if old else 7, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)])
        & 0xFFFFFFFF
    )


def _prop_streams(tree: Storage) -> list[tuple[Storage, str]]:
    return _streams(tree, lambda path, data: path.endswith("__properties_version1.0"))


def mutate_prop_header(tree: Storage, rng: random.Random) -> str:
    node, name = rng.choice(_prop_streams(tree))
    data = bytearray(node.entries[name])  # type: ignore[arg-type]
    if not data or rng.random() < 0.2:
        cut = rng.choice([0, 7, 8, 23, 24, 31, 33, len(data) - 8 if len(data) > 8 else 0])
        node.entries[name] = bytes(data[:cut])
        return f"prop_header: {name} cut to {cut} bytes"
    field = rng.randrange(0, min(len(data), 32) // 4) if len(data) >= 4 else 0
    struct.pack_into("<I", data, field * 4, _int_like(rng, struct.unpack_from("<I", data, field * 4)[0]))
    node.entries[name] = bytes(data)
    return f"prop_header: field {field}"


def _entry_offsets(data: bytes) -> list[int]:
    header = 8 if len(data) % 16 == 8 else 24 if len(data) % 16 == 8 + 16 else 32
    return list(range(header, len(data) - 15, 16)) or list(range(8, len(data) - 15, 16))


def mutate_prop_entry(tree: Storage, rng: random.Random) -> str:
    node, name = rng.choice(_prop_streams(tree))
    data = bytearray(node.entries[name])  # type: ignore[arg-type]
    offsets = _entry_offsets(bytes(data))
    if not offsets:
        return mutate_prop_header(tree, rng)
    off = rng.choice(offsets)
    tag = struct.unpack_from("<I", data, off)[0]
    kind = rng.choice(["type", "type", "type", "id", "flags", "size", "reserved", "drop", "double"])
    if kind == "type":
        struct.pack_into("<H", data, off, rng.choice(TYPES))
    elif kind == "id":
        struct.pack_into("<H", data, off + 2, rng.choice(IDS))
    elif kind == "flags":
        struct.pack_into("<I", data, off + 4, rng.getrandbits(32))
    elif kind in ("size", "reserved"):
        where = off + (8 if kind == "size" else 12)
        struct.pack_into("<I", data, where, _int_like(rng, struct.unpack_from("<I", data, where)[0]))
    elif kind == "drop":
        del data[off : off + 16]
    else:
        data[off:off] = data[off : off + 16]
    node.entries[name] = bytes(data)
    return f"prop_entry: {kind} of 0x{tag:08X}"


def _string_streams(tree: Storage) -> list[tuple[Storage, str]]:
    return _streams(
        tree,
        lambda path, data: (
            "__substg1.0_" in path and path.rsplit("_", 1)[-1][4:8] in ("001F", "001E", "101F", "101E")
        ),
    )


def mutate_strings(tree: Storage, rng: random.Random) -> str:
    found = _string_streams(tree)
    if not found:
        return mutate_prop_entry(tree, rng)
    node, name = rng.choice(found)
    data = bytearray(node.entries[name])  # type: ignore[arg-type]
    utf16 = name.upper().split("-")[0].endswith("1F")
    kind = rng.choice(["nasty", "nasty", "nasty", "odd", "truncate", "remove", "nul"])
    if kind == "nasty":
        piece = rng.choice(NASTY_UTF16 if utf16 else NASTY_8BIT)
        pos = rng.randrange(0, len(data) + 1)
        if utf16:
            pos -= pos % 2
        data[pos:pos] = piece * rng.randint(1, 3)
    elif kind == "odd":
        data += b"\x41"
    elif kind == "truncate":
        del data[rng.randrange(0, len(data) + 1) :]
    elif kind == "nul":
        data = bytearray(b"\0" * rng.randint(0, 6)) + data
    else:
        del node.entries[name]
        return f"strings: removed {name}"
    node.entries[name] = bytes(data)
    return f"strings: {kind} in {name}"


def mutate_nameid(tree: Storage, rng: random.Random) -> str:
    nameid = tree.entries.get("__nameid_version1.0")
    if not isinstance(nameid, Storage) or not nameid.entries:
        return mutate_prop_entry(tree, rng)
    name = rng.choice(sorted(nameid.entries))
    entry = nameid.entries[name]
    if not isinstance(entry, bytes):
        return mutate_prop_entry(tree, rng)
    data = bytearray(entry)
    kind = rng.choice(["word", "word", "word", "truncate", "grow", "remove", "surrogate"])
    if kind == "word" and len(data) >= 4:
        off = rng.randrange(0, len(data) // 4) * 4
        old = struct.unpack_from("<I", data, off)[0]
        new = rng.choice([old ^ 1, old ^ (rng.randrange(1, 0x8000) << 1), old + 0x10000, _int_like(rng, old)])
        struct.pack_into("<I", data, off, new & 0xFFFFFFFF)
    elif kind == "truncate":
        del data[rng.randrange(0, len(data) + 1) :]
    elif kind == "grow":
        data += bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 3, 8, 16])))
    elif kind == "surrogate" and name.endswith("00040102") and len(data) > 6:
        data[4:6] = b"\x00\xd8"
    else:
        del nameid.entries[name]
        return f"nameid: removed {name}"
    nameid.entries[name] = bytes(data)
    return f"nameid: {kind} in {name}"


def mutate_storages(tree: Storage, rng: random.Random) -> str:
    found = _storages(tree)
    if not found:
        return mutate_prop_entry(tree, rng)
    parent, name, node = rng.choice(found)
    kind = rng.choice(["rename", "no_props", "as_stream", "nameid", "clsid", "empty"])
    if kind == "rename" and name.startswith("__"):
        new = name[:-1] + rng.choice("Gz_ ") if name[-1].isalnum() else name + "0"
        if new.upper() not in {n.upper() for n in parent.entries}:
            parent.entries[new] = parent.entries.pop(name)
            return f"storages: {name} renamed {new}"
    if kind == "no_props" and "__properties_version1.0" in node.entries:
        del node.entries["__properties_version1.0"]
        return f"storages: {name} without its property stream"
    if kind == "as_stream":
        parent.entries[name] = b"\x01\x02\x03\x04"
        return f"storages: {name} is a stream"
    if kind == "nameid":
        node.entries["__nameid_version1.0"] = Storage()
        return f"storages: a name map inside {name}"
    if kind == "clsid":
        tree.clsid = bytes(16) if rng.random() < 0.5 else rng.randbytes(16)
        return "storages: root CLSID"
    node.entries.clear()
    return f"storages: {name} emptied"


TREE_MUTATORS: dict[str, Callable[[Storage, random.Random], str]] = {
    "prop_header": mutate_prop_header,
    "prop_entry": mutate_prop_entry,
    "strings": mutate_strings,
    "nameid": mutate_nameid,
    "storages": mutate_storages,
}


# --------------------------------------------------------------------------- compound-file bytes


class _Raw:
    """Just enough of a version 3 compound file ([MS-CFB] 2.2-2.6) to find what to damage."""

    def __init__(self, data: bytearray) -> None:
        self.data = data
        shift = struct.unpack_from("<H", data, 30)[0]  # an earlier mutation may have broken it
        self.sector = 1 << shift if shift in (9, 12) else 512
        self.first_dir = struct.unpack_from("<I", data, 48)[0]
        n_fat = struct.unpack_from("<I", data, 44)[0]
        self.fat_sectors = [
            s for s in struct.unpack_from("<109I", data, 76)[: min(n_fat, 109)] if s < 1 << 24
        ]
        self.first_minifat = struct.unpack_from("<I", data, 60)[0]

    def offset(self, sector: int) -> int:
        return (sector + 1) * self.sector

    def fat_offset(self, sector: int) -> int | None:
        per = self.sector // 4
        if sector // per >= len(self.fat_sectors):
            return None
        off = self.offset(self.fat_sectors[sector // per]) + 4 * (sector % per)
        return off if off + 4 <= len(self.data) else None

    def chain(self, start: int, limit: int = 10_000) -> list[int]:
        out: list[int] = []
        while start < 0xFFFFFFFA and len(out) < limit and start not in out:
            out.append(start)
            off = self.fat_offset(start)
            if off is None:
                break
            start = struct.unpack_from("<I", self.data, off)[0]
        return out

    def entries(self) -> list[int]:
        """Byte offsets of the directory entries in use."""
        out = []
        for sector in self.chain(self.first_dir):
            for i in range(self.sector // 128):
                off = self.offset(sector) + 128 * i
                if off + 128 <= len(self.data) and self.data[off + 66] in (1, 2, 5):
                    out.append(off)
        return out


def mutate_directory(raw: _Raw, rng: random.Random) -> str:
    entries = raw.entries()
    if not entries:
        return mutate_bytes(raw, rng)
    off = rng.choice(entries[1:] or entries)
    kind = rng.choice(
        ["name_length", "name_char", "type", "colour", "sibling", "child", "start", "size", "clsid"]
    )
    data = raw.data
    if kind == "name_length":
        struct.pack_into(
            "<H", data, off + 64, rng.choice([0, 1, 2, 3, 5, 63, 64, 66, 0xFFFF, rng.randrange(70)])
        )
    elif kind == "name_char":
        length = struct.unpack_from("<H", data, off + 64)[0]
        pos = off + 2 * rng.randrange(0, max(1, min(length, 64) // 2))
        unit = rng.choice([0x0000, 0xD800, 0xDC00, 0x002F, 0x0021, 0x0061, 0x0131, 0x00E9, 0x001B])
        struct.pack_into("<H", data, pos, unit)
    elif kind == "type":
        data[off + 66] = rng.choice([0, 1, 2, 3, 4, 5, 6, 0xFF])
    elif kind == "colour":
        data[off + 67] = rng.choice([0, 1, 2, 0xFF])
    elif kind in ("sibling", "child"):
        field = off + rng.choice([68, 72]) if kind == "sibling" else off + 76
        sid = (off - raw.offset(raw.first_dir)) // 128
        struct.pack_into(
            "<I", data, field, rng.choice([NOSTREAM, 0, sid, sid + 1, rng.randrange(200), 0x7FFFFFFF])
        )
    elif kind == "start":
        struct.pack_into("<I", data, off + 116, rng.choice([0, ENDOFCHAIN, FREESECT, rng.randrange(1 << 16)]))
    elif kind == "size":
        old = struct.unpack_from("<I", data, off + 120)[0]
        struct.pack_into(
            "<I", data, off + 120, rng.choice([0, old + 1, max(old - 1, 0), 4095, 4096, 0x7FFFFFFF])
        )
    else:
        data[off + 80 : off + 96] = rng.randbytes(16)
    return f"directory: {kind} at {off}"


def mutate_fat(raw: _Raw, rng: random.Random) -> str:
    if raw.first_minifat < 0xFFFFFFFA and rng.random() < 0.4:
        off = raw.offset(raw.first_minifat) + 4 * rng.randrange(raw.sector // 4)
        if off + 4 <= len(raw.data):
            struct.pack_into("<I", raw.data, off, rng.choice([ENDOFCHAIN, FREESECT, 0, rng.randrange(256)]))
            return "fat: a MiniFAT entry"
    sectors = (len(raw.data) - raw.sector) // raw.sector
    sector = rng.randrange(max(sectors, 1))
    off = raw.fat_offset(sector)
    if off is None:
        return mutate_bytes(raw, rng)
    value = rng.choice([ENDOFCHAIN, FREESECT, FATSECT, sector, sector + 1, rng.randrange(sectors + 10), 0])
    struct.pack_into("<I", raw.data, off, value)
    return f"fat: sector {sector} -> {value:#x}"


def mutate_header(raw: _Raw, rng: random.Random) -> str:
    field = rng.choice([24, 26, 28, 30, 32, 44, 48, 56, 60, 64, 68, 72, 76, 80])
    if field in (24, 26, 28, 30, 32):
        struct.pack_into("<H", raw.data, field, rng.choice([0, 3, 4, 6, 9, 12, 0xFFFE, 0xFFFF]))
    else:
        old = struct.unpack_from("<I", raw.data, field)[0]
        struct.pack_into("<I", raw.data, field, _int_like(rng, old))
    return f"header: field at {field}"


def mutate_bytes(raw: _Raw, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(raw.data))
        raw.data[pos] ^= 1 << rng.randrange(8)
    return "bytes: bit flips"


RAW_MUTATORS: dict[str, Callable[[_Raw, random.Random], str]] = {
    "directory": mutate_directory,
    "fat": mutate_fat,
    "header": mutate_header,
    "bytes": mutate_bytes,
}


def mutant(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One to three mutations of a compound file's bytes; returns the mutant and what was done."""
    done: list[str] = []
    families = [rng.choice(FAMILIES) for _ in range(rng.choice([1, 1, 2, 3]))]
    tree_families = [f for f in families if f in TREE_FAMILIES]
    if tree_families:
        try:
            tree = cfb.read_bytes(data, "seed")
        except MsgsessError:
            tree = None
        if tree is not None:
            for family in tree_families:
                done.append(TREE_MUTATORS[family](tree, rng))
            try:
                data = cfb.to_bytes(tree)
            except (ValueError, TypeError, MsgsessError):  # a tree no compound file can hold
                done.append("(not written: the seed instead)")
    raw = bytearray(data)
    for family in families:
        if family in RAW_FAMILIES and len(raw) >= 1536:
            try:
                done.append(RAW_MUTATORS[family](_Raw(raw), rng))
            except (ValueError, IndexError, struct.error, ZeroDivisionError):
                done.append(f"{family}: (nothing to damage)")  # the layout no longer says where
    return bytes(raw), done
