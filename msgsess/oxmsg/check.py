"""Structural validation of a ``.msg`` storage tree against [MS-OXMSG].

Pure: takes the :class:`~msgsess.storage.Storage` tree that ``msgsess.cfb``
reads (or that the encoder builds) and returns findings; never raises on
damaged input. Each finding names the storage or stream at fault and the spec
section of the rule.

Three severities. An **error** is what readers or Outlook mishandle: a broken
structure, a root without the message CLSID (Outlook imports the file as an
attachment), a sibling tree of the compound file that is no red-black tree
(Windows refuses what olefile reads). A **warning** departs from the spec in a
way some reader may trip over: a draft with a submit time, a recipient without
an SMTP address, streams no property accounts for. A **note** is a harmless
quirk Outlook's own files have: a string stream holding its terminator with Size
equal to the stream length, garbage in Reserved fields and unused value bytes,
missing name-to-id hash entries, a draft with a delivery time.
"""

from __future__ import annotations

import re
import struct
import uuid

from msgsess.oxmsg import layout
from msgsess.oxmsg.nameid import BUCKETS, ENTRY_STREAM, GUID_STREAM, STRING_STREAM, name_crc
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.records import Frozen
from msgsess.storage import Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, TypeAlias

    from msgsess.storage import FileLayout

__all__ = ["SEVERITIES", "Finding", "check", "errors"]

if TYPE_CHECKING:
    Severity: TypeAlias = Literal["error", "warning", "note"]
#: From worst to mildest.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")

#: Deepest chain of embedded messages examined; deeper ones are reported, not walked.
MAX_DEPTH = 64

_OBJECT_NAME = re.compile(r"^__(recip|attach)_version1\.0_#(.*)$")
_HEX8 = re.compile(r"^[0-9A-Fa-f]{8}$")
_SUBSTG = re.compile(r"^__substg1\.0_([0-9A-Fa-f]{8})(?:-([0-9A-Fa-f]{8}))?$")
_BUCKET = re.compile(r"^__substg1\.0_(10[0-1][0-9A-Fa-f])0102$")

_S_NAMING = "[MS-OXMSG] 2.2.1"
_S_ATTACH_NAMING = "[MS-OXMSG] 2.2.2"
_S_EMBEDDED = "[MS-OXMSG] 2.2.2.1"
_S_CUSTOM = "[MS-OXMSG] 2.2.2.2"
_S_NAMEID = "[MS-OXMSG] 2.2.3"
_S_GUID = "[MS-OXMSG] 2.2.3.1.1"
_S_ENTRY = "[MS-OXMSG] 2.2.3.1.2"
_S_STRING = "[MS-OXMSG] 2.2.3.1.3"
_S_HASH = "[MS-OXMSG] 2.2.3.2"
_S_UNICODE = "[MS-OXMSG] 2.1.1.1"
_S_VARIABLE = "[MS-OXMSG] 2.1.3"
_S_MV_FIXED = "[MS-OXMSG] 2.1.4.1"
_S_MV_VARIABLE = "[MS-OXMSG] 2.1.4.2"
_S_PROPSTREAM = "[MS-OXMSG] 2.4"
_S_HEADER = "[MS-OXMSG] 2.4.1.1"
_S_HEADER_OTHER = "[MS-OXMSG] 2.4.1.2"
_S_FIXED = "[MS-OXMSG] 2.4.2.1"
_S_FIXED_VALUE = "[MS-OXMSG] 2.4.2.1.1"
_S_VAR_ENTRY = "[MS-OXMSG] 2.4.2.2"
_S_CLSID = "[MS-CFB] 2.6.1; Outlook"
_S_RED_BLACK = "[MS-CFB] 2.6.4"
_S_DIFAT = "[MS-CFB] 2.5"
_S_FAT = "[MS-CFB] 2.3"
_S_DRAFT = "[MS-OXOMSG] 2.2.3.11"
_S_SMTP = "[MS-OXOABK] 2.2.3.21"

_OBJECT_TAG = (ids.ATTACH_DATA << 16) | t.PT_OBJECT
_BINARY_TAG = (ids.ATTACH_DATA << 16) | t.PT_BINARY
_METHOD_TAG = (ids.ATTACH_METHOD << 16) | t.PT_LONG
_MASK_TAG = (ids.STORE_SUPPORT_MASK << 16) | t.PT_LONG
_FLAGS_TAG = (ids.MESSAGE_FLAGS << 16) | t.PT_LONG
_SUBMIT_TIME = (0x0039 << 16) | t.PT_SYSTIME
_DELIVERY_TIME = (0x0E06 << 16) | t.PT_SYSTIME
_MSGFLAG_UNSENT = 0x8
#: Property ids of a recipient's address ([MS-OXPROPS]).
_SMTP_ADDRESS, _ADDRESS_TYPE, _EMAIL_ADDRESS = 0x39FE, 0x3002, 0x3003
#: Outlook templates and messages; Outlook imports a .msg with another root CLSID as an attachment.
_MESSAGE_CLSIDS = {layout.CLSID_MAIL_MESSAGE, layout.CLSID_TEMPLATE}
_NOSTREAM = 0xFFFFFFFF
_FATSECT, _DIFSECT = 0xFFFFFFFD, 0xFFFFFFFC
_ENDOFCHAIN, _FREESECT = 0xFFFFFFFE, 0xFFFFFFFF
#: A FAT of 109 sectors (all the header holds) maps this many bytes of 512-byte sectors: 6.8 MiB.
_HEADER_FAT_BYTES = 109 * 128 * 512
_OBJ = layout.ATTACH_OBJECT
_ATTACH_BY_VALUE = 1
_ATTACH_EMBEDDED = 5
_ATTACH_OLE = 6
#: Variable-length MV types whose values live in one stream each ([MS-OXMSG] 2.1.4.2).
_MV_VARIABLE = {t.PT_MV_UNICODE, t.PT_MV_STRING8, t.PT_MV_BINARY}


class Finding(Frozen):
    """One violation: how bad, where (storage or stream path, '' for the root), which rule, what."""

    __slots__ = _fields = __match_args__ = ("severity", "path", "rule", "message")
    severity: Severity
    path: str
    rule: str
    message: str

    def __init__(self, severity: Severity, path: str, rule: str, message: str) -> None:
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "message", message)

    def __str__(self) -> str:
        where = self.path or "(root)"
        return f"{self.severity}: {where}: {self.message} ({self.rule})"


def errors(findings: list[Finding]) -> list[Finding]:
    """Only the findings of severity ``error``."""
    return [f for f in findings if f.severity == "error"]


class _Entry(Frozen):
    __slots__ = _fields = ("tag", "flags", "field")
    tag: int
    flags: int
    field: bytes

    def __init__(self, tag: int, flags: int, field: bytes) -> None:
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "field", field)

    @property
    def ptype(self) -> int:
        return self.tag & 0xFFFF

    @property
    def pid(self) -> int:
        return self.tag >> 16

    @property
    def size(self) -> int:
        return int(struct.unpack_from("<I", self.field)[0])

    @property
    def reserved(self) -> int:
        return int(struct.unpack_from("<I", self.field, 4)[0])


class _Checker:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        #: Number of named properties the map defines (ids 0x8000 .. 0x8000 + n - 1).
        self.named_count = 0
        #: Tags of the property stream being checked with garbage in Reserved / unused value bytes.
        self.garbage_reserved: list[int] = []
        self.garbage_unused: list[int] = []

    def add(self, severity: Severity, path: str, rule: str, message: str) -> None:
        self.findings.append(Finding(severity, path, rule, message))

    def error(self, path: str, rule: str, message: str) -> None:
        self.add("error", path, rule, message)

    def warning(self, path: str, rule: str, message: str) -> None:
        self.add("warning", path, rule, message)

    def note(self, path: str, rule: str, message: str) -> None:
        self.add("note", path, rule, message)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def check(tree: Storage) -> list[Finding]:
    """Every violation of MS-OXMSG's structure rules found in a ``.msg`` storage tree.

    Errors are what readers or Outlook mishandle, warnings what some reader may trip over,
    notes the quirks of Outlook's own files (module docstring). A tree read from a file
    (``msgsess.cfb``) carries its layout: its compound-file directory and allocation tables
    are checked too. Findings come in the order the tree is walked.
    """
    checker = _Checker()
    _check_clsid(tree, checker)
    if tree.layout is not None:
        _check_file_layout(tree.layout, checker)
    _check_nameid(tree, checker)
    _check_message(tree, "", checker, layout.TOP_HEADER.size, depth=0)
    return checker.findings


# --------------------------------------------------------------------------- the compound file


def _check_clsid(tree: Storage, c: _Checker) -> None:
    """The root CLSID Outlook needs to open the file as a message ([oxmsg-facts] §6)."""
    if not any(tree.clsid):
        c.error(
            "",
            _S_CLSID,
            "the root storage has no CLSID (all zero): Outlook imports the file as an attachment "
            "instead of opening it as a message; it should be {00020D0B-0000-0000-C000-000000000046}",
        )
    elif tree.clsid not in _MESSAGE_CLSIDS:
        c.warning(
            "",
            _S_CLSID,
            f"the root CLSID is {{{uuid.UUID(bytes_le=tree.clsid)}}}, neither a message's "
            "{00020D0B-0000-0000-C000-000000000046} nor a template's: Outlook may not open it as a message",
        )


def _check_file_layout(file: FileLayout, c: _Checker) -> None:
    """The compound file's directory and allocation tables, as :class:`FileLayout` gives them."""
    for path, sid in sorted(file.storages.items()):
        entry = file.entries.get(sid)
        if entry is not None and entry.child != _NOSTREAM:
            _check_sibling_tree(file, path, entry.child, c)
    _check_difat(file, c)


def _cfb_key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4 order: shorter names first, then code point by code point, upper-cased."""
    units = len(name.encode("utf-16-le", "surrogatepass")) // 2
    return units, "".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in name)


def _check_sibling_tree(file: FileLayout, path: str, root: int, c: _Checker) -> None:
    """[MS-CFB] 2.6.4: the children of a storage form a red-black tree ordered by name.

    Windows finds an entry by walking the tree, so one out of order is lost to it (olefile reads
    every entry anyway). Colours other than red and black, and a red node with a red child, break
    the rules too. Unequal counts of black nodes on the paths down, a tree out of balance, is a
    note: [MS-CFB] does not require balance, and files Outlook wrote have such trees.
    """
    where = path
    # Post-order walk without recursion: black height of each subtree, in-order keys.
    heights: dict[int, int] = {_NOSTREAM: 1}
    order: list[int] = []
    stack: list[tuple[int, bool]] = [(root, False)]
    colours_bad: list[str] = []
    red_red: list[str] = []
    uneven: list[str] = []
    seen: set[int] = set()
    while stack:
        sid, done = stack.pop()
        node = file.entries.get(sid)
        if node is None:
            heights[sid] = 1
            continue
        if not done:
            if sid in seen:
                return  # a cycle: olefile refuses such a file before this is reached
            seen.add(sid)
            stack.append((sid, True))
            stack.append((node.right, False))
            stack.append((node.left, False))
            continue
        left, right = heights.get(node.left, 1), heights.get(node.right, 1)
        if left != right:
            uneven.append(node.name)
        if node.colour not in (0, 1):
            colours_bad.append(node.name)
        elif node.colour == 0:
            for kid in (node.left, node.right):
                child = file.entries.get(kid)
                if kid != _NOSTREAM and child is not None and child.colour == 0:
                    red_red.append(node.name)
        heights[sid] = max(left, right) + (1 if node.colour == 1 else 0)
    order = _in_order(file, root)
    keys = [_cfb_key(file.entries[sid].name) for sid in order]
    wrong = [file.entries[order[i + 1]].name for i in range(len(keys) - 1) if keys[i] >= keys[i + 1]]
    if wrong:
        c.error(
            where,
            _S_RED_BLACK,
            f"{len(wrong)} entr{'y is' if len(wrong) == 1 else 'ies are'} out of order in the tree of "
            f"this storage's children, e.g. {wrong[0]!r}: Windows cannot find them",
        )
    if colours_bad:
        c.error(where, _S_RED_BLACK, f"entry {colours_bad[0]!r} has a colour that is neither red nor black")
    if red_red:
        c.error(where, _S_RED_BLACK, f"red entry {red_red[0]!r} has a red child in the tree of children")
    if uneven:
        c.note(
            where,
            _S_RED_BLACK,
            f"the tree of this storage's children is out of balance below {uneven[0]!r} "
            "(paths hold different numbers of black entries; Outlook's files have this too)",
        )


def _in_order(file: FileLayout, root: int) -> list[int]:
    out: list[int] = []
    stack: list[int] = []
    sid = root
    seen: set[int] = set()
    while stack or (sid != _NOSTREAM and sid in file.entries):
        while sid != _NOSTREAM and sid in file.entries and sid not in seen:
            seen.add(sid)
            stack.append(sid)
            sid = file.entries[sid].left
        if not stack:
            break
        sid = stack.pop()
        out.append(sid)
        sid = file.entries[sid].right
    return out


def _check_difat(file: FileLayout, c: _Checker) -> None:
    """[MS-CFB] 2.5, 2.2: the FAT sectors the header and DIFAT list, and the DIFAT chain itself.

    The header lists the first 109 FAT sectors; a file whose FAT needs more (over 6.8 MiB with
    512-byte sectors) lists the rest in DIFAT sectors. olefile reads past small mistakes here
    that Windows refuses the file for.
    """
    sectors = max(0, -(-(file.size - file.sector_size) // file.sector_size))
    per_fat = file.sector_size // 4
    big = file.size > _HEADER_FAT_BYTES
    what = f"a file of {file.size} bytes" + (" (over 6.8 MiB, so it needs DIFAT sectors)" if big else "")
    listed, declared = len(file.fat_sectors), file.fat_declared
    if listed != declared:
        c.error("", _S_DIFAT, f"{what}: the header declares {declared} FAT sectors, the DIFAT lists {listed}")
    if len(file.fat_sectors) * per_fat < sectors:
        c.error(
            "",
            _S_DIFAT,
            f"{what}: its {listed} FAT sectors map {listed * per_fat} sectors of its {sectors}",
        )
    if len(file.difat_sectors) != file.difat_declared:
        c.error(
            "",
            _S_DIFAT,
            f"{what}: the header declares {file.difat_declared} DIFAT sectors, the chain has "
            f"{len(file.difat_sectors)}",
        )
    if file.difat_next not in (_ENDOFCHAIN, _FREESECT) or (
        file.difat_sectors and file.difat_next != _ENDOFCHAIN
    ):
        c.error("", _S_DIFAT, f"{what}: the DIFAT chain does not end in ENDOFCHAIN")
    not_fat = [s for s in file.fat_sectors if file.fat_entries.get(s, _FATSECT) != _FATSECT]
    if not_fat:
        c.error("", _S_FAT, f"FAT sector {not_fat[0]} is not marked FATSECT in the FAT")
    not_difat = [s for s in file.difat_sectors if file.fat_entries.get(s, _DIFSECT) != _DIFSECT]
    if not_difat:
        c.error("", _S_FAT, f"DIFAT sector {not_difat[0]} is not marked DIFSECT in the FAT")


# --------------------------------------------------------------------------- named property map


def _check_nameid(tree: Storage, c: _Checker) -> None:
    """[MS-OXMSG] 2.2.3: the top-level named property map and its three streams."""
    node = tree.entries.get(layout.NAMEID)
    if node is None:
        c.error("", _S_NAMEID, f"no {layout.NAMEID} storage (required even without named properties)")
        return
    path = layout.NAMEID
    if not isinstance(node, Storage):
        c.error(path, _S_NAMEID, f"{layout.NAMEID} is a stream, not a storage")
        return
    streams: dict[str, bytes] = {}
    for name, rule in ((GUID_STREAM, _S_GUID), (ENTRY_STREAM, _S_ENTRY), (STRING_STREAM, _S_STRING)):
        data = node.entries.get(name)
        if isinstance(data, bytes):
            streams[name] = data
        else:
            what = "a storage, not a stream" if isinstance(data, Storage) else "missing"
            c.error(_join(path, name), rule, f"required stream {name} is {what}")
            streams[name] = b""
    guids, entries, strings = streams[GUID_STREAM], streams[ENTRY_STREAM], streams[STRING_STREAM]
    if len(guids) % 16:
        c.error(
            _join(path, GUID_STREAM), _S_GUID, f"GUID stream of {len(guids)} bytes is not a multiple of 16"
        )
    if len(entries) % 8:
        c.error(
            _join(path, ENTRY_STREAM),
            _S_ENTRY,
            f"entry stream of {len(entries)} bytes is not a multiple of 8",
        )
    n_guids = len(guids) // 16
    count = len(entries) // 8
    if count > 0x7FFF:
        c.error(_join(path, ENTRY_STREAM), _S_ENTRY, f"{count} named properties; at most 32,767 fit")
        count = 0x7FFF
    c.named_count = count
    expected_buckets: dict[int, set[tuple[int, int]]] = {}
    for index in range(count):
        first, index_kind = struct.unpack_from("<II", entries, index * 8)
        kind = index_kind & 1
        guid_index = (index_kind >> 1) & 0x7FFF
        prop_index = index_kind >> 16
        where = _join(path, ENTRY_STREAM)
        if not (guid_index in (1, 2) or 3 <= guid_index < 3 + n_guids):
            c.error(
                where,
                _S_ENTRY,
                f"entry {index} (id 0x{0x8000 + index:04X}) has GUID index {guid_index}; "
                f"valid are 1, 2 and 3..{2 + n_guids}",
            )
        if prop_index != index:
            c.warning(
                where,
                _S_ENTRY,
                f"entry {index} says property index {prop_index}; the id comes from its position",
            )
        key = first
        if kind == 1:
            if first + 4 > len(strings):
                c.error(
                    _join(path, STRING_STREAM),
                    _S_STRING,
                    f"entry {index} points at offset {first}, past the string stream ({len(strings)} bytes)",
                )
                continue
            (length,) = struct.unpack_from("<I", strings, first)
            if first + 4 + length > len(strings):
                c.error(
                    _join(path, STRING_STREAM),
                    _S_STRING,
                    f"entry {index}: name of {length} bytes at offset {first} runs past the string stream",
                )
                continue
            if length % 2:
                c.warning(
                    _join(path, STRING_STREAM),
                    _S_STRING,
                    f"entry {index}: name of {length} bytes is not whole UTF-16 code units",
                )
            key = name_crc(strings[first + 4 : first + 4 + length])
        bucket = (key ^ ((guid_index << 1) | kind)) % BUCKETS
        expected_buckets.setdefault(bucket, set()).add((key, index_kind))
    _check_buckets(node, path, expected_buckets, c)


def _check_buckets(node: Storage, path: str, expected: dict[int, set[tuple[int, int]]], c: _Checker) -> None:
    """[MS-OXMSG] 2.2.3.2: name-to-id hash streams. Outlook itself omits some entries: warnings."""
    missing = 0
    first_missing = ""
    for bucket, wanted in sorted(expected.items()):
        name = f"__substg1.0_{0x1000 + bucket:04X}0102"
        data = node.stream(name) or b""
        present = {struct.unpack_from("<II", data, off) for off in range(0, len(data) - 7, 8)}
        lost = wanted - present
        if lost:
            missing += len(lost)
            first_missing = first_missing or name
    if missing:
        c.note(
            _join(path, first_missing),
            _S_HASH,
            f"{missing} named propert{'y has' if missing == 1 else 'ies have'} no entry in its "
            "name-to-id hash stream",
        )
    for name, entry in node.entries.items():
        if _BUCKET.match(name) and isinstance(entry, bytes) and len(entry) % 8:
            c.error(_join(path, name), _S_HASH, f"hash stream of {len(entry)} bytes is not a multiple of 8")


# --------------------------------------------------------------------------- property streams


def _read_entries(
    node: Storage, path: str, header: int, c: _Checker, *, embedded: bool = False
) -> tuple[list[_Entry], bytes] | None:
    """The entries of a property stream after checking its header size ([MS-OXMSG] 2.4.1)."""
    data = node.entries.get(layout.PROPERTIES)
    spath = _join(path, layout.PROPERTIES)
    if not isinstance(data, bytes):
        what = "is a storage, not a stream" if isinstance(data, Storage) else "is missing"
        c.error(spath if data is not None else path, _S_PROPSTREAM, f"{layout.PROPERTIES} {what}")
        return None
    rule = _S_HEADER if header > layout.OBJECT_HEADER_SIZE else _S_HEADER_OTHER
    if len(data) < header:
        c.error(spath, rule, f"{len(data)} bytes, shorter than the {header}-byte header")
        return None
    body = len(data) - header
    if body % 16:
        if embedded and (body - 8) % 16 == 0:
            c.error(spath, rule, "embedded message has a 32-byte header; it must be 24 bytes")
            header += 8
        else:
            c.error(
                spath,
                rule,
                f"{len(data)} bytes: minus the {header}-byte header not a multiple of 16-byte entries",
            )
    entries = []
    for off in range(header, len(data) - 15, 16):
        tag, flags = struct.unpack_from("<II", data, off)
        entries.append(_Entry(tag, flags, data[off + 8 : off + 16]))
    return entries, data[:header]


def _unicode_mode(entries: list[_Entry]) -> bool | None:
    """STORE_UNICODE_OK of a message object's PidTagStoreSupportMask; None when absent."""
    for entry in entries:
        if entry.tag == _MASK_TAG:
            return bool(entry.size & ids.STORE_UNICODE_OK)
    return None


def _check_entries(
    entries: list[_Entry],
    node: Storage,
    path: str,
    unicode: bool,
    c: _Checker,
) -> set[str]:
    """Each property entry against its value or streams; returns the stream names accounted for."""
    used = {layout.PROPERTIES}
    seen: set[int] = set()
    c.garbage_reserved.clear()
    c.garbage_unused.clear()
    string_tags: list[int] = []
    mv_values: dict[str, list[str]] | None = None
    for entry in entries:
        tag, ptype = entry.tag, entry.ptype
        what = f"property 0x{tag:08X}"
        if tag in seen:
            c.error(path, _S_PROPSTREAM, f"{what} appears twice in the property stream")
        seen.add(tag)
        if entry.flags & ~0x7:
            c.warning(path, _S_FIXED, f"{what} has undefined flag bits 0x{entry.flags & ~0x7:X}")
        if entry.pid >= 0x8000 and entry.pid - 0x8000 >= c.named_count:
            c.error(
                path,
                _S_NAMEID,
                f"{what} uses named id 0x{entry.pid:04X}, which the named property map does not define",
            )
        if t.is_string(ptype):
            string_tags.append(tag)
        if t.is_fixed(ptype):
            _check_fixed(entry, path, what, c)
        elif ptype == t.PT_OBJECT:
            stream_name = layout.value_stream(tag)
            used.add(stream_name)
            if entry.size != layout.OBJECT_SIZE:
                c.error(path, _S_VAR_ENTRY, f"{what}: Size {entry.size:#x}, must be 0xFFFFFFFF")
            if not isinstance(node.entries.get(stream_name), Storage):
                c.error(path, _S_VAR_ENTRY, f"{what} has no {stream_name} storage")
        elif t.is_mv(ptype):
            if mv_values is None:
                mv_values = _mv_value_streams(node)
            used |= _check_mv(entry, node, path, what, c, mv_values)
        else:
            used |= _check_variable(entry, node, path, what, c)
    spath = _join(path, layout.PROPERTIES)
    for tags, rule, text in (
        (c.garbage_reserved, _S_VAR_ENTRY, "a Reserved field that is not 0"),
        (c.garbage_unused, _S_FIXED_VALUE, "unused value bytes that are not 0"),
    ):
        if tags:
            c.note(
                spath,
                rule,
                f"{len(tags)} entr{'y has' if len(tags) == 1 else 'ies have'} {text} "
                f"(Outlook leaves such garbage), e.g. 0x{tags[0]:08X}",
            )
    bad = t.PT_STRING8 if unicode else t.PT_UNICODE
    wrong = [tag for tag in string_tags if t.base_type(tag & 0xFFFF) == bad]
    if wrong:
        mode = "Unicode (STORE_UNICODE_OK set)" if unicode else "ANSI (no STORE_UNICODE_OK)"
        c.error(
            path,
            _S_UNICODE,
            f"{len(wrong)} string propert{'y' if len(wrong) == 1 else 'ies'} of type "
            f"0x{bad:04X} in a {mode} message object, e.g. 0x{wrong[0]:08X}",
        )
    return used


def _check_fixed(entry: _Entry, path: str, what: str, c: _Checker) -> None:
    """[MS-OXMSG] 2.4.2.1.1: unused bytes of the 8-byte value field are zero."""
    size = t.FIXED_SIZES.get(entry.ptype)
    if size is None:
        c.warning(path, _S_FIXED, f"{what} has a type MS-OXCDATA does not define (0x{entry.ptype:04X})")
        return
    if any(entry.field[size:]):
        c.garbage_unused.append(entry.tag)


def _check_variable(entry: _Entry, node: Storage, path: str, what: str, c: _Checker) -> set[str]:
    """[MS-OXMSG] 2.1.3, 2.4.2.2: the value stream and the Size rule of a single variable value."""
    name = layout.value_stream(entry.tag)
    spath = _join(path, name)
    data = node.entries.get(name)
    if not isinstance(data, bytes):
        kind = "is a storage" if isinstance(data, Storage) else "is missing"
        c.error(spath, _S_VARIABLE, f"value stream of {what} {kind}")
        return set()
    ptype, size, length = entry.ptype, entry.size, len(data)
    if entry.reserved:
        c.garbage_reserved.append(entry.tag)
    if ptype in (t.PT_UNICODE, t.PT_STRING8):
        unit = 2 if ptype == t.PT_UNICODE else 1
        if ptype == t.PT_UNICODE and length % 2:
            c.error(spath, _S_VARIABLE, f"UTF-16 string stream of odd length {length}")
        if size == length + unit:
            pass
        elif size == length and data.endswith(bytes(unit)):
            c.note(
                spath,
                _S_VAR_ENTRY,
                f"{what}: the stream holds the terminator and Size equals its length "
                "(Outlook writes this too)",
            )
        else:
            c.error(
                spath,
                _S_VAR_ENTRY,
                f"{what}: Size {size}, must be the stream length {length} + {unit}",
            )
        return {name}
    if ptype == t.PT_CLSID:
        if length != 16:
            c.error(spath, _S_VARIABLE, f"{what}: GUID stream of {length} bytes, must be 16")
        if size != length:
            c.error(spath, _S_VAR_ENTRY, f"{what}: Size {size}, must be the stream length {length}")
        return {name}
    if size != length:
        c.error(spath, _S_VAR_ENTRY, f"{what}: Size {size}, must be the stream length {length}")
    return {name}


def _mv_value_streams(node: Storage) -> dict[str, list[str]]:
    """The ``__substg1.0_TTTTPPPP-XXXXXXXX`` streams of a storage by upper-case tag, in one pass."""
    found: dict[str, list[str]] = {}
    for name in node.entries:
        match = _SUBSTG.match(name)
        if match and match.group(2) is not None:
            found.setdefault(match.group(1).upper(), []).append(name)
    return found


def _check_mv(
    entry: _Entry, node: Storage, path: str, what: str, c: _Checker, values: dict[str, list[str]]
) -> set[str]:
    """[MS-OXMSG] 2.1.4: multi-valued properties, fixed-length in one stream, variable-length in N + 1.

    ``values`` holds the storage's value streams by tag (:func:`_mv_value_streams`).
    """
    name = layout.value_stream(entry.tag)
    spath = _join(path, name)
    data = node.entries.get(name)
    if not isinstance(data, bytes):
        c.error(spath, _S_VARIABLE, f"stream of multi-valued {what} is missing")
        return set()
    used = {name}
    ptype, base = entry.ptype, t.base_type(entry.ptype)
    if entry.size != len(data):
        c.error(spath, _S_VAR_ENTRY, f"{what}: Size {entry.size}, must be the stream length {len(data)}")
    if ptype not in _MV_VARIABLE:
        element = 16 if base == t.PT_CLSID else t.FIXED_SIZES.get(base)
        if element and len(data) % element:
            c.error(
                spath,
                _S_MV_FIXED,
                f"{what}: {len(data)} bytes is not a whole number of {element}-byte values",
            )
        return used
    step = 8 if base == t.PT_BINARY else 4
    if len(data) % step:
        c.error(
            spath, _S_MV_VARIABLE, f"{what}: length stream of {len(data)} bytes is not a multiple of {step}"
        )
    count = len(data) // step
    for index in range(count):
        (declared,) = struct.unpack_from("<I", data, index * step)
        item_name = layout.mv_value_stream(entry.tag, index)
        item = node.entries.get(item_name)
        if not isinstance(item, bytes):
            c.error(_join(path, item_name), _S_MV_VARIABLE, f"value {index} of {what} is missing")
            continue
        used.add(item_name)
        if declared != len(item):
            c.error(
                _join(path, item_name),
                _S_MV_VARIABLE,
                f"value {index} of {what}: length stream says {declared} bytes, the stream has {len(item)}",
            )
    extra = sorted(n for n in values.get(f"{entry.tag:08X}", ()) if n not in used)
    if extra:
        c.error(
            _join(path, extra[0]),
            _S_MV_VARIABLE,
            f"{len(extra)} value stream(s) of {what} beyond the {count} its length stream lists",
        )
    return used


def _orphans(node: Storage, path: str, used: set[str], c: _Checker) -> None:
    """``__substg1.0_`` streams no property entry accounts for: harmless, but worth a warning."""
    names = [
        n for n in node.entries if n not in used and _SUBSTG.match(n) and isinstance(node.entries[n], bytes)
    ]
    if names:
        c.warning(
            _join(path, names[0]),
            _S_PROPSTREAM,
            f"{len(names)} value stream(s) without a property entry, e.g. {names[0]}",
        )


# --------------------------------------------------------------------------- message objects


def _objects(node: Storage, path: str, c: _Checker) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Recipient and attachment storages by number, after checking their names ([MS-OXMSG] 2.2.1-2)."""
    recips: list[tuple[int, str]] = []
    atts: list[tuple[int, str]] = []
    for name, entry in node.entries.items():
        match = _OBJECT_NAME.match(name)
        if not match:
            continue
        kind, suffix = match.groups()
        rule = _S_NAMING if kind == "recip" else _S_ATTACH_NAMING
        if not _HEX8.match(suffix):
            c.error(_join(path, name), rule, f"storage name must end in 8 hex digits, not {suffix!r}")
            continue
        if not isinstance(entry, Storage):
            c.error(_join(path, name), rule, f"{name} is a stream, not a storage")
            continue
        (recips if kind == "recip" else atts).append((int(suffix, 16), name))
    for kind, found, rule in (("recipient", recips, _S_NAMING), ("attachment", atts, _S_ATTACH_NAMING)):
        if len(found) > layout.MAX_OBJECTS:
            c.error(path, rule, f"{len(found)} {kind} storages; at most {layout.MAX_OBJECTS} are allowed")
    return sorted(recips), sorted(atts)


def _check_header_counts(
    header: bytes, path: str, recips: list[tuple[int, str]], atts: list[tuple[int, str]], c: _Checker
) -> None:
    """[MS-OXMSG] 2.4.1.1: counts equal the storages present; next ids above every number used."""
    spath = _join(path, layout.PROPERTIES)
    if any(header[:8]):
        c.note(spath, _S_HEADER, "reserved bytes of the header are not zero (Outlook writes this too)")
    next_recip, next_att, n_recip, n_att = struct.unpack_from("<IIII", header, 8)
    for kind, count, found, next_id in (
        ("recipient", n_recip, recips, next_recip),
        ("attachment", n_att, atts, next_att),
    ):
        if count != len(found):
            c.error(spath, _S_HEADER, f"header says {count} {kind}s, the message has {len(found)}")
        if found and next_id <= found[-1][0]:
            c.error(
                spath,
                _S_HEADER,
                f"next {kind} id {next_id} is not above the highest one used ({found[-1][0]})",
            )


def _check_message(node: Storage, path: str, c: _Checker, header_size: int, depth: int) -> None:
    embedded = depth > 0
    if embedded and layout.NAMEID in node.entries:
        c.error(
            _join(path, layout.NAMEID),
            _S_NAMEID,
            "an embedded message must not have its own named property map",
        )
    read = _read_entries(node, path, header_size, c, embedded=embedded)
    recips, atts = _objects(node, path, c)
    mask = None
    used: set[str] = set()
    if read is not None:
        entries, header = read
        _check_header_counts(header, path, recips, atts, c)
        mask = _unicode_mode(entries)
        used = _check_entries(entries, node, path, bool(mask), c)
        _check_draft(entries, path, c)
    if read is None:
        mask = False
    _orphans(node, path, used, c)
    for _number, name in recips:
        sub = node.entries[name]
        assert isinstance(sub, Storage)
        spath = _join(path, name)
        sread = _read_entries(sub, spath, layout.OBJECT_HEADER_SIZE, c)
        sused: set[str] = set()
        if sread is not None:
            sused = _check_entries(sread[0], sub, spath, bool(mask), c)
            _check_smtp(sread[0], sub, spath, c)
        _orphans(sub, spath, sused, c)
    for _number, name in atts:
        sub = node.entries[name]
        assert isinstance(sub, Storage)
        _check_attachment(sub, _join(path, name), bool(mask), c, depth)


def _check_draft(entries: list[_Entry], path: str, c: _Checker) -> None:
    """A draft (mfUnsent) that says it was submitted or delivered.

    Outlook shows a message with a submit time as sent, not as a draft to finish; its own
    drafts carry a delivery time (the time they were saved), so that one is only a note.
    """
    by_tag = {e.tag: e for e in entries}
    flags = by_tag.get(_FLAGS_TAG)
    if flags is None or not flags.size & _MSGFLAG_UNSENT:
        return
    if _SUBMIT_TIME in by_tag:
        c.warning(
            path,
            _S_DRAFT,
            "a draft (PidTagMessageFlags has mfUnsent) with PidTagClientSubmitTime: "
            "Outlook shows it as sent, not as a draft",
        )
    if _DELIVERY_TIME in by_tag:
        c.note(
            path,
            _S_DRAFT,
            "a draft with PidTagMessageDeliveryTime (Outlook's own drafts carry it too)",
        )


def _text_value(entries: list[_Entry], node: Storage, pid: int) -> str | None:
    """A single string property of a storage, decoded leniently (8-bit as Latin-1); None if absent."""
    for entry in entries:
        if entry.pid == pid and entry.ptype in (t.PT_UNICODE, t.PT_STRING8):
            data = node.entries.get(layout.value_stream(entry.tag))
            if isinstance(data, bytes):
                codec = "utf-16-le" if entry.ptype == t.PT_UNICODE else "latin-1"
                return data.decode(codec, "replace").rstrip("\0")
    return None


def _check_smtp(entries: list[_Entry], node: Storage, path: str, c: _Checker) -> None:
    """A recipient with no SMTP address: readers other than Outlook, and replies, have none."""
    if _text_value(entries, node, _SMTP_ADDRESS):
        return
    kind = _text_value(entries, node, _ADDRESS_TYPE)
    address = _text_value(entries, node, _EMAIL_ADDRESS) or ""
    if kind is not None and kind.upper() == "SMTP" and "@" in address:
        return
    c.warning(
        path,
        _S_SMTP,
        f"recipient without an SMTP address (no PidTagSmtpAddress; address type {kind or 'none'}): "
        "readers other than Outlook show no address",
    )


def _check_attachment(node: Storage, path: str, unicode: bool, c: _Checker, depth: int) -> None:
    read = _read_entries(node, path, layout.OBJECT_HEADER_SIZE, c)
    entries = read[0] if read is not None else []
    used = _check_entries(entries, node, path, unicode, c) if read is not None else set()
    _orphans(node, path, used, c)
    by_tag = {e.tag: e for e in entries}
    method_entry = by_tag.get(_METHOD_TAG)
    method = method_entry.size if method_entry is not None else None
    obj_entry = by_tag.get(_OBJECT_TAG)
    obj = node.entries.get(layout.ATTACH_OBJECT)
    opath = _join(path, layout.ATTACH_OBJECT)
    if method == _ATTACH_EMBEDDED:
        if not isinstance(obj, Storage):
            c.error(
                path,
                _S_EMBEDDED,
                f"attach method 5 (embedded message) without a {layout.ATTACH_OBJECT} storage",
            )
        elif layout.PROPERTIES not in obj.entries:
            c.error(opath, _S_EMBEDDED, f"embedded message storage has no {layout.PROPERTIES} stream")
        if obj_entry is None:
            c.error(path, _S_EMBEDDED, "attach method 5 without a PidTagAttachDataObject (0x3701000D) entry")
        elif obj_entry.reserved & 0xFFFF == layout.RESERVED_EMBEDDED and obj_entry.reserved >> 16:
            c.note(
                path,
                _S_VAR_ENTRY,
                f"PidTagAttachDataObject: Reserved 0x{obj_entry.reserved:08X} is 1 with garbage in the "
                "upper half (Outlook writes this)",
            )
        elif obj_entry.reserved != layout.RESERVED_EMBEDDED:
            c.error(
                path,
                _S_VAR_ENTRY,
                f"PidTagAttachDataObject of an embedded message: Reserved {obj_entry.reserved}, must be 1",
            )
    elif method == _ATTACH_OLE:
        if not isinstance(obj, Storage):
            c.error(
                path, _S_CUSTOM, f"attach method 6 (custom storage) without a {layout.ATTACH_OBJECT} storage"
            )
        if obj_entry is not None and obj_entry.reserved != layout.RESERVED_CUSTOM:
            c.warning(
                path,
                _S_VAR_ENTRY,
                f"PidTagAttachDataObject of a custom storage: Reserved {obj_entry.reserved}, should be 4",
            )
    else:
        if isinstance(obj, Storage):
            c.error(
                opath,
                _S_EMBEDDED,
                f"{layout.ATTACH_OBJECT} storage in an attachment whose method is {method}, not 5 or 6",
            )
        if method == _ATTACH_BY_VALUE and _BINARY_TAG not in by_tag:
            c.error(
                path,
                _S_ATTACH_NAMING,
                "attach method 1 (by value) without PidTagAttachDataBinary (0x37010102)",
            )
    if method == _ATTACH_EMBEDDED and isinstance(obj, Storage) and layout.PROPERTIES in obj.entries:
        if depth + 1 > MAX_DEPTH:
            c.error(opath, _S_EMBEDDED, f"embedded messages nested more than {MAX_DEPTH} deep; not examined")
            return
        _check_message(obj, opath, c, layout.EMBEDDED_HEADER.size, depth + 1)
