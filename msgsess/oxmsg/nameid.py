"""The named property map ``__nameid_version1.0`` ([MS-OXMSG] 2.2.3).

One map per file serves the message and every embedded message: property
index k is property id 0x8000 + k.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from msgsess.errors import CorruptFile, TooBig
from msgsess.oxmsg import layout
from msgsess.props.keys import PS_INTERNET_HEADERS, PS_MAPI, PS_PUBLIC_STRINGS, NamedId
from msgsess.storage import Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from msgsess.model import Message

GUID_STREAM = "__substg1.0_00020102"
ENTRY_STREAM = "__substg1.0_00030102"
STRING_STREAM = "__substg1.0_00040102"
FIRST_NAMED_ID = 0x8000
MAX_NAMED = 0x7FFF
BUCKETS = 0x1F


def name_crc(data: bytes) -> int:
    """CRC-32 of [MS-OXRTFCP] 2.1.3.2: zlib's polynomial, initial value 0, no final XOR."""
    import zlib

    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def _stored_name(named: NamedId) -> str:
    assert named.name is not None
    # Outlook lower-cases PS_INTERNET_HEADERS names ([MS-OXMSG] Appendix A <1>).
    return named.name.lower() if named.guid == PS_INTERNET_HEADERS else named.name


def canonical(named: NamedId) -> NamedId:
    if named.name is not None and named.guid == PS_INTERNET_HEADERS:
        return NamedId(named.guid, name=named.name.lower())
    return named


def too_many_named(count: int) -> TooBig:
    return TooBig(
        f"{count} named properties; a .msg file holds at most {MAX_NAMED:,} (ids 0x8000 to 0xFFFE), "
        "embedded messages included",
        hint="spread the named properties over several messages",
    )


def named_ids(msg: Message) -> set[NamedId]:
    """The named properties one file's map must hold for ``msg``: its own, its recipients' and
    attachments', and those of its embedded messages (which share the map), as the map keys them.
    """
    found: set[NamedId] = set()
    stack = [msg]
    while stack:
        current = stack.pop()
        bags = [
            current.props,
            *(r.props for r in current.recipients),
            *(a.props for a in current.attachments),
        ]
        for bag in bags:
            found.update(canonical(pid) for pid in bag if isinstance(pid, NamedId))
        stack.extend(a.embedded for a in current.attachments if a.embedded is not None)
    return found


class NameMap:
    """Assigns 0x8000+ ids to named properties in order of first use and serialises the map."""

    def __init__(self) -> None:
        self.ids: dict[NamedId, int] = {}

    def id_for(self, named: NamedId) -> int:
        named = canonical(named)
        pid = self.ids.get(named)
        if pid is None:
            if len(self.ids) >= MAX_NAMED:
                raise too_many_named(len(self.ids) + 1)
            pid = self.ids[named] = FIRST_NAMED_ID + len(self.ids)
        return pid

    def add_all(self, names: Iterable[NamedId]) -> None:
        for named in names:
            self.id_for(named)

    def to_storage(self) -> Storage:
        guids: list[uuid.UUID] = []
        guid_pos: dict[uuid.UUID, int] = {}
        entries = bytearray()
        strings = bytearray()
        buckets: dict[int, bytearray] = {}
        for named, pid in self.ids.items():
            index = pid - FIRST_NAMED_ID
            if named.guid == PS_MAPI:
                guid_index = 1
            elif named.guid == PS_PUBLIC_STRINGS:
                guid_index = 2
            else:
                if named.guid not in guid_pos:
                    guid_pos[named.guid] = len(guids)
                    guids.append(named.guid)
                guid_index = 3 + guid_pos[named.guid]
            if named.lid is not None:
                kind = 0
                key = named.lid & 0xFFFFFFFF
                first = key
                bucket = (key ^ (guid_index << 1)) % BUCKETS
            else:
                kind = 1
                encoded = _stored_name(named).encode("utf-16-le", "surrogatepass")
                first = len(strings)
                strings += layout.U32.pack(len(encoded)) + encoded
                strings += bytes(-len(strings) % 4)
                key = name_crc(encoded)
                bucket = (key ^ ((guid_index << 1) | 1)) % BUCKETS
            index_kind = (index << 16) | (guid_index << 1) | kind
            entries += layout.U32.pack(first) + layout.U32.pack(index_kind)
            buckets.setdefault(bucket, bytearray()).extend(layout.U32.pack(key) + layout.U32.pack(index_kind))
        tree = Storage()
        tree.entries[GUID_STREAM] = b"".join(g.bytes_le for g in guids)
        tree.entries[ENTRY_STREAM] = bytes(entries)
        tree.entries[STRING_STREAM] = bytes(strings)
        for bucket in sorted(buckets):
            tree.entries[f"__substg1.0_{0x1000 + bucket:04X}0102"] = bytes(buckets[bucket])
        return tree


def parse(tree: Storage | None) -> dict[int, NamedId]:
    """Property id (0x8000+) -> NamedId from a ``__nameid_version1.0`` storage."""
    if tree is None:
        return {}
    guid_data = tree.stream(GUID_STREAM) or b""
    entry_data = tree.stream(ENTRY_STREAM) or b""
    string_data = tree.stream(STRING_STREAM) or b""
    guids = [uuid.UUID(bytes_le=guid_data[i : i + 16]) for i in range(0, len(guid_data) - 15, 16)]
    result: dict[int, NamedId] = {}
    for offset in range(0, len(entry_data) - 7, 8):
        (first,) = layout.U32.unpack_from(entry_data, offset)
        (index_kind,) = layout.U32.unpack_from(entry_data, offset + 4)
        kind = index_kind & 1
        guid_index = (index_kind >> 1) & 0x7FFF
        # The index bits equal the entry position in every observed file; the
        # position is what the spec defines the id by, and it cannot collide.
        index = offset // 8
        if guid_index == 1:
            guid = PS_MAPI
        elif guid_index == 2:
            guid = PS_PUBLIC_STRINGS
        elif 3 <= guid_index < 3 + len(guids):
            guid = guids[guid_index - 3]
        else:
            raise CorruptFile(
                f"named property entry {offset // 8} refers to GUID index {guid_index}, "
                f"but the GUID stream holds {len(guids)}"
            )
        if kind == 0:
            named = NamedId(guid, lid=first)
        else:
            if first + 4 > len(string_data):
                raise CorruptFile(f"named property entry {offset // 8} points past the string stream")
            (length,) = layout.U32.unpack_from(string_data, first)
            if first + 4 + length > len(string_data):
                raise CorruptFile(
                    f"named property entry {offset // 8} has a name longer than the string stream"
                )
            raw = string_data[first + 4 : first + 4 + length]
            try:
                name = raw.decode("utf-16-le", "surrogatepass").rstrip("\0")
            except UnicodeDecodeError:
                raise CorruptFile(
                    f"named property entry {offset // 8} has a name that is not UTF-16"
                ) from None
            named = canonical(NamedId(guid, name=name))
        result[FIRST_NAMED_ID + index] = named
    return result
