"""Storage tree -> message model, keeping everything ([MS-OXMSG] 2.1-2.4).

Lossless by design: every property entry becomes a model property (unknown
types as ``RawValue``), named properties are keyed by their (set, LID or name)
identity, custom attachment storages are carried verbatim, and streams or
storages that no property accounts for are kept in ``extra``. Damaged input
raises ``CorruptFile`` naming what is wrong.
"""

from __future__ import annotations

import re

from msgsess.errors import CorruptFile, located
from msgsess.model import Attachment, Message, Property, PropertyBag, Recipient
from msgsess.oxmsg import codepages, layout
from msgsess.oxmsg.layout import NAMEID
from msgsess.oxmsg.nameid import parse
from msgsess.props import binary, ids
from msgsess.props import types as t
from msgsess.props.keys import NamedId, PropId
from msgsess.storage import Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from msgsess.storage import Entry

MAX_DEPTH = layout.MAX_EMBEDDING_DEPTH
_OBJECT_NAME = re.compile(r"^__(recip|attach)_version1\.0_#([0-9A-Fa-f]{8})$")
_SUBSTG = re.compile(r"^__substg1\.0_([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})(?:-([0-9A-Fa-f]{8}))?$")


class _Context:
    def __init__(self, names: dict[int, NamedId], codepage: int | None) -> None:
        self.names = names
        self.fallback_codepage = codepage


def decode(tree: Storage, *, codepage: int | None = None, label: str = "message") -> Message:
    """Decode a ``.msg`` storage tree; ``codepage`` is the fallback for ANSI files that name none.

    Errors are located at ``label`` (a file name, a session id).
    """
    with located(label):
        nameid = tree.entries.get(NAMEID)
        names = parse(nameid if isinstance(nameid, Storage) else None)
        ctx = _Context(names, codepage)
        msg = _decode_message(tree, ctx, header=layout.TOP_HEADER.size, depth=0)
    msg.clsid = tree.clsid
    return msg


def _string_codec(entries: list[tuple[int, int, bytes]], ctx: _Context) -> tuple[bool, int]:
    """Whether a message's strings are Unicode, and the code page of its 8-bit strings."""
    unicode = False
    message_cp: int | None = None
    internet_cp: int | None = None
    for tag, _flags, value in entries:
        pid, ptype = tag >> 16, tag & 0xFFFF
        if pid == ids.STORE_SUPPORT_MASK and ptype == t.PT_LONG:
            unicode = unicode or bool(layout.U32.unpack(value[:4])[0] & ids.STORE_UNICODE_OK)
        elif t.base_type(ptype) == t.PT_UNICODE:
            unicode = True
        elif pid == ids.MESSAGE_CODEPAGE and ptype == t.PT_LONG:
            message_cp = layout.U32.unpack(value[:4])[0]
        elif pid == ids.INTERNET_CODEPAGE and ptype == t.PT_LONG:
            internet_cp = layout.U32.unpack(value[:4])[0]
    return unicode, codepages.ansi_codepage(message_cp, internet_cp, ctx.fallback_codepage)


def _entries(node: Storage, header: int, where: str, ctx: _Context) -> list[tuple[int, int, bytes]]:
    data = node.stream(layout.PROPERTIES)
    if data is None:
        raise CorruptFile(f"{where} has no {layout.PROPERTIES} stream")
    if len(data) < header:
        raise CorruptFile(f"property stream of {len(data)} bytes is shorter than its header").at(where)
    body = len(data) - header
    if body % 16 and header == layout.EMBEDDED_HEADER.size and (body - 8) % 16 == 0:
        # Some writers give embedded messages a 32-byte header; read them anyway.
        header += 8
    return [layout.ENTRY.unpack_from(data, off) for off in range(header, len(data) - 15, 16)]


def _decode_message(node: Storage, ctx: _Context, header: int, depth: int) -> Message:
    if depth > MAX_DEPTH:
        raise CorruptFile(f"embedded messages nested more than {MAX_DEPTH} deep")
    where = "message" if depth == 0 else f"embedded message at depth {depth}"
    entries = _entries(node, header, where, ctx)
    unicode, codepage = _string_codec(entries, ctx)
    msg = Message(source_unicode=unicode, source_codepage=None if unicode else codepage)
    used: set[str] = {layout.PROPERTIES}
    msg.props = _decode_props(entries, node, ctx, codepage, used, where)
    recips: list[tuple[int, str]] = []
    atts: list[tuple[int, str]] = []
    for name in node.entries:
        match = _OBJECT_NAME.match(name)
        if match and isinstance(node.entries[name], Storage):
            (recips if match.group(1) == "recip" else atts).append((int(match.group(2), 16), name))
    for kind, found in (("recipients", recips), ("attachments", atts)):
        if len(found) > layout.MAX_OBJECTS:
            raise CorruptFile(
                f"{where} has {len(found)} {kind}; MS-OXMSG allows at most {layout.MAX_OBJECTS}"
            )
    for number, name in sorted(recips):
        sub = node.entries[name]
        assert isinstance(sub, Storage)
        rcpt_used: set[str] = {layout.PROPERTIES}
        rwhere = f"recipient {number}"
        rentries = _entries(sub, layout.OBJECT_HEADER_SIZE, rwhere, ctx)
        rcpt = Recipient(_decode_props(rentries, sub, ctx, codepage, rcpt_used, rwhere))
        rcpt.extra = _extra(sub, rcpt_used)
        msg.recipients.append(rcpt)
        used.add(name)
    for number, name in sorted(atts):
        sub = node.entries[name]
        assert isinstance(sub, Storage)
        msg.attachments.append(_decode_attachment(sub, ctx, codepage, depth, f"attachment {number}"))
        used.add(name)
    if depth == 0:
        used.add(NAMEID)
    msg.extra = _extra(node, used)
    return msg


def _decode_attachment(node: Storage, ctx: _Context, codepage: int, depth: int, where: str) -> Attachment:
    used: set[str] = {layout.PROPERTIES}
    entries = _entries(node, layout.OBJECT_HEADER_SIZE, where, ctx)
    att = Attachment(_decode_props(entries, node, ctx, codepage, used, where))
    obj = node.entries.get(layout.ATTACH_OBJECT)
    if isinstance(obj, Storage):
        used.add(layout.ATTACH_OBJECT)
        object_entry = next((e for e in entries if e[0] == (ids.ATTACH_DATA << 16) | t.PT_OBJECT), None)
        reserved = layout.VAR_ENTRY.unpack(layout.ENTRY.pack(*object_entry))[3] if object_entry else 0
        if object_entry is not None:
            # Keep the entry's flags: the encoder writes the object entry itself.
            att.props[ids.ATTACH_DATA] = Property(t.PT_OBJECT, None, object_entry[1])
        embedded = att.method == ids.ATTACH_EMBEDDED_MSG or (
            att.method != ids.ATTACH_OLE
            and reserved != layout.RESERVED_CUSTOM
            and layout.PROPERTIES in obj.entries
        )
        if embedded:
            att.embedded = _decode_message(obj, ctx, header=layout.EMBEDDED_HEADER.size, depth=depth + 1)
        else:
            att.custom = obj
    att.extra = _extra(node, used)
    return att


def _extra(node: Storage, used: set[str]) -> dict[str, Entry]:
    """Entries no property accounts for; orphan streams of named ids are dropped (ids are renumbered)."""
    extra: dict[str, Entry] = {}
    for name, entry in node.entries.items():
        if name in used:
            continue
        match = _SUBSTG.match(name)
        if match and int(match.group(1), 16) >= 0x8000:
            continue
        extra[name] = entry
    return extra


def _decode_props(
    entries: list[tuple[int, int, bytes]],
    node: Storage,
    ctx: _Context,
    codepage: int,
    used: set[str],
    where: str,
) -> PropertyBag:
    bag = PropertyBag()
    codec = codepages.codec(codepage)
    streams = _Streams(node)
    for tag, flags, field in entries:
        number, ptype = tag >> 16, tag & 0xFFFF
        pid: PropId = ctx.names.get(number, number) if number >= 0x8000 else number
        if ptype == t.PT_OBJECT:
            continue  # the attachment decoder handles the storage it points at
        try:
            value = _decode_value(tag, ptype, field, streams, codec, used)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptFile(f"property 0x{tag:08X} is damaged ({exc})").at(where) from None
        bag[pid] = Property(_model_type(ptype), value, flags, stored=ptype)
    return bag


def _model_type(ptype: int) -> int:
    if t.is_string(ptype):
        return t.PT_MV_UNICODE if t.is_mv(ptype) else t.PT_UNICODE
    return ptype


def _decode_text(data: bytes, ptype: int, codec: str) -> str:
    if t.base_type(ptype) == t.PT_UNICODE:
        if len(data) % 2:
            data = data[:-1]
        return data.decode("utf-16-le", "surrogatepass").rstrip("\0")
    return data.decode(codec, "surrogateescape").rstrip("\0")


class _Streams:
    """The streams of one storage by name, compared case-insensitively as [MS-CFB] 2.6.1 does.

    The case-folded index is built once, on the first name that is not found as written, so
    that a file with thousands of entries whose streams are missing stays linear.
    """

    def __init__(self, node: Storage) -> None:
        self.node = node
        self._folded: dict[str, str] | None = None

    def find(self, name: str) -> tuple[str, bytes | None]:
        data = self.node.stream(name)
        if data is not None:
            return name, data
        if self._folded is None:
            self._folded = {}
            for stored, entry in self.node.entries.items():
                if isinstance(entry, bytes):
                    self._folded.setdefault(stored.upper(), stored)
        other = self._folded.get(name.upper())
        if other is None:
            return name, None
        return other, self.node.stream(other)


def _decode_value(tag: int, ptype: int, field: bytes, node: _Streams, codec: str, used: set[str]) -> Any:
    if t.is_fixed(ptype):
        if t.is_known(ptype):
            return binary.unpack_inline(ptype, field)
        return t.RawValue(field, inline=True)
    name, data = node.find(layout.value_stream(tag))
    if data is None:
        # A variable-length entry without its stream ([MS-OXMSG] says it must have one): keep
        # the entry as it stands, so an edit writes back exactly what was there.
        return t.RawValue(bytes(field), inline=True)
    used.add(name)
    if not t.is_known(ptype):
        return t.RawValue(data)
    if not t.is_mv(ptype):
        if t.is_string(ptype):
            return _decode_text(data, ptype, codec)
        if ptype == t.PT_CLSID:
            if len(data) < 16:
                raise ValueError(f"GUID stream of {len(data)} bytes")
            return binary.unpack_fixed_mv(t.PT_MV_CLSID, data[:16])[0]
        return data
    base = t.base_type(ptype)
    if base in (t.PT_UNICODE, t.PT_STRING8, t.PT_BINARY):
        step = 8 if base == t.PT_BINARY else 4
        count = len(data) // step
        values: list[Any] = []
        for index in range(count):
            item_name, item = node.find(layout.mv_value_stream(tag, index))
            if item is None:
                raise ValueError(f"value stream {item_name} is missing")
            used.add(item_name)
            values.append(item if base == t.PT_BINARY else _decode_text(item, ptype, codec))
        return values
    size = binary.element_size(base)
    return binary.unpack_fixed_mv(ptype, data[: len(data) - len(data) % size])
