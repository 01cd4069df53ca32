"""TNEF (``winmail.dat``, application/ms-tnef) -> message model ([MS-OXTNEF]), pure.

A TNEF stream carries the MAPI properties that MIME cannot: the RTF body, named
properties (meeting data…), attachment properties, embedded messages. It is read
here into a model ``Message`` whose properties, recipients and attachments the
MIME reader merges into the message that carried it.

Written from [MS-OXTNEF] rather than with PyPI ``tnefparse``: that package pads
binary values to four bytes and then strips every trailing NUL (so attachments
that end in NUL bytes come out shorter), splits multi-valued properties into
separate ones, reads strings before it knows the code page, and logs its failures
instead of raising them. Here every value keeps its exact bytes and type.
"""

from __future__ import annotations

import datetime as _dt
import struct
import uuid
from typing import Any

from msgsess.model import Attachment, Message, PropertyBag, Recipient
from msgsess.oxmsg import codepages
from msgsess.props import binary, ids
from msgsess.props import types as t
from msgsess.props.keys import NamedId, PropId

SIGNATURE = 0x223E9F78
LVL_MESSAGE = 0x01
LVL_ATTACHMENT = 0x02
#: Attribute ids ([MS-OXTNEF] 2.1.3.3), compared on their low 16 bits as other readers do.
ATT_FROM = 0x8000
ATT_SUBJECT = 0x8004
ATT_DATE_SENT = 0x8005
ATT_DATE_RECD = 0x8006
ATT_MESSAGE_CLASS = 0x8008
ATT_BODY = 0x800C
ATT_PRIORITY = 0x800D
ATT_ATTACH_DATA = 0x800F
ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_META_FILE = 0x8011
ATT_ATTACH_CREATE_DATE = 0x8012
ATT_ATTACH_MODIFY_DATE = 0x8013
ATT_DATE_MODIFIED = 0x8020
ATT_ATTACH_TRANSPORT_FILENAME = 0x9001
ATT_ATTACH_REND_DATA = 0x9002
ATT_MSG_PROPS = 0x9003
ATT_RECIP_TABLE = 0x9004
ATT_ATTACHMENT = 0x9005
ATT_OEM_CODEPAGE = 0x9007

#: attMessageClass values of the old Microsoft Mail and their MAPI classes ([MS-OXTNEF] 2.1.3.3.10).
LEGACY_CLASSES = {
    "IPM.Microsoft Mail.Note": "IPM.Note",
    "IPM.Microsoft Mail.Read Receipt": "Report.IPM.Note.IPNRN",
    "IPM.Microsoft Mail.Non-Delivery": "Report.IPM.Note.NDR",
    "IPM.Microsoft Schedule.MtgReq": "IPM.Schedule.Meeting.Request",
    "IPM.Microsoft Schedule.MtgRespP": "IPM.Schedule.Meeting.Resp.Pos",
    "IPM.Microsoft Schedule.MtgRespN": "IPM.Schedule.Meeting.Resp.Neg",
    "IPM.Microsoft Schedule.MtgRespA": "IPM.Schedule.Meeting.Resp.Tent",
    "IPM.Microsoft Schedule.MtgCncl": "IPM.Schedule.Meeting.Canceled",
}

#: IID_IMessage: a PtypObject attachment value holding an embedded message as TNEF.
IID_IMESSAGE = uuid.UUID("00020307-0000-0000-C000-000000000046").bytes_le
ATTACH_RENDERING = 0x3709
MAX_DEPTH = 30

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_FIXED_SIZES = {
    t.PT_SHORT: 2,
    t.PT_BOOLEAN: 2,
    t.PT_LONG: 4,
    t.PT_FLOAT: 4,
    t.PT_ERROR: 4,
    t.PT_DOUBLE: 8,
    t.PT_APPTIME: 8,
    t.PT_CURRENCY: 8,
    t.PT_I8: 8,
    t.PT_SYSTIME: 8,
    t.PT_CLSID: 16,
}
_VARIABLE = frozenset({t.PT_STRING8, t.PT_UNICODE, t.PT_BINARY, t.PT_OBJECT})


class TnefError(ValueError):
    """A TNEF stream that cannot be read; the message says where."""


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and _U32.unpack_from(data)[0] == SIGNATURE


def read_tnef(data: bytes, *, depth: int = 0) -> tuple[Message, list[str]]:
    """The message a TNEF stream describes, and warnings about what was skipped."""
    if not is_tnef(data):
        raise TnefError("no TNEF signature")
    return _Reader(depth).read(data)


class _Cursor:
    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def take(self, size: int, what: str) -> bytes:
        if size < 0 or self.pos + size > self.end:
            raise TnefError(f"{what} runs past the end ({size} bytes at offset {self.pos})")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u16(self, what: str) -> int:
        value: int = _U16.unpack(self.take(2, what))[0]
        return value

    def u32(self, what: str) -> int:
        value: int = _U32.unpack(self.take(4, what))[0]
        return value

    def align(self) -> None:
        self.pos = min(self.end, self.pos + (-self.pos % 4))

    def left(self) -> int:
        return self.end - self.pos


class _Reader:
    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.warnings: list[str] = []
        self.codec = "cp1252"

    def read(self, data: bytes) -> tuple[Message, list[str]]:
        msg = Message()
        cur = _Cursor(data, 6)
        att: Attachment | None = None
        legacy: dict[int, Any] = {}
        while cur.left() >= 11:
            level = cur.take(1, "attribute level")[0]
            attr_id = cur.u32("attribute id") & 0xFFFF
            length = cur.u32("attribute length")
            if length > cur.left() - 2:
                self.warnings.append(f"TNEF attribute 0x{attr_id:04X} is cut short; the rest was skipped")
                break
            value = cur.take(length, "attribute")
            cur.take(2, "checksum")
            try:
                if level == LVL_ATTACHMENT:
                    if attr_id == ATT_ATTACH_REND_DATA or att is None:
                        att = self.new_attachment(msg, value if attr_id == ATT_ATTACH_REND_DATA else b"")
                    self.attachment_attribute(att, attr_id, value)
                else:
                    self.message_attribute(msg, attr_id, value, legacy)
            except TnefError as exc:
                self.warnings.append(f"TNEF attribute 0x{attr_id:04X} skipped: {exc}")
        for pid, (ptype, val) in legacy.items():
            msg.props.setdefault_value(pid, ptype, val)
        for item in msg.attachments:
            self.finish_attachment(item)
        return msg, self.warnings

    # --- message level ----------------------------------------------------------------

    def message_attribute(self, msg: Message, attr_id: int, value: bytes, legacy: dict[int, Any]) -> None:
        if attr_id == ATT_OEM_CODEPAGE and len(value) >= 4:
            try:
                self.codec = codepages.codec(_U32.unpack_from(value)[0])
            except Exception:
                self.warnings.append("TNEF names an unknown OEM code page; 8-bit text read as Windows-1252")
        elif attr_id == ATT_MSG_PROPS:
            self.properties(_Cursor(value), msg.props, "message properties")
        elif attr_id == ATT_RECIP_TABLE:
            cur = _Cursor(value)
            for _ in range(min(cur.u32("recipient count"), 2048)):
                rcpt = Recipient()
                self.properties(cur, rcpt.props, "recipient table")
                msg.recipients.append(rcpt)
        elif attr_id == ATT_MESSAGE_CLASS:
            name = self.text8(value)
            legacy[ids.MESSAGE_CLASS] = (t.PT_UNICODE, LEGACY_CLASSES.get(name, name))
        elif attr_id == ATT_SUBJECT:
            legacy[ids.SUBJECT] = (t.PT_UNICODE, self.text8(value))
        elif attr_id == ATT_BODY:
            legacy[ids.BODY] = (t.PT_UNICODE, self.text8(value))
        elif attr_id in (ATT_DATE_SENT, ATT_DATE_RECD, ATT_DATE_MODIFIED):
            when = _tnef_date(value)
            pid = {
                ATT_DATE_SENT: ids.CLIENT_SUBMIT_TIME,
                ATT_DATE_RECD: ids.MESSAGE_DELIVERY_TIME,
                ATT_DATE_MODIFIED: ids.LAST_MODIFICATION_TIME,
            }[attr_id]
            if when is not None:
                legacy[pid] = (t.PT_SYSTIME, when)
        elif attr_id == ATT_PRIORITY and len(value) >= 2:
            # attPriority: 1 high, 2 normal, 3 low ([MS-OXTNEF] 2.1.3.3.6).
            importance = {1: 2, 2: 1, 3: 0}.get(_U16.unpack_from(value)[0])
            if importance is not None:
                legacy[ids.IMPORTANCE] = (t.PT_LONG, importance)

    # --- attachment level -------------------------------------------------------------

    def new_attachment(self, msg: Message, rend: bytes) -> Attachment:
        att = Attachment()
        att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
        att.props.set(ids.OBJECT_TYPE, t.PT_LONG, ids.MAPI_ATTACH)
        position = -1
        if len(rend) >= 6:
            position = binary.signed(_U32.unpack_from(rend, 2)[0], 32)
        att.props.set(ids.RENDERING_POSITION, t.PT_LONG, position)
        msg.attachments.append(att)
        return att

    def attachment_attribute(self, att: Attachment, attr_id: int, value: bytes) -> None:
        if attr_id == ATT_ATTACH_DATA:
            att.props.set(ids.ATTACH_DATA, t.PT_BINARY, value)
        elif attr_id == ATT_ATTACH_TITLE:
            att.props.setdefault_value(ids.ATTACH_FILENAME, t.PT_UNICODE, self.text8(value))
        elif attr_id == ATT_ATTACH_META_FILE:
            att.props.set(ATTACH_RENDERING, t.PT_BINARY, value)
        elif attr_id in (ATT_ATTACH_CREATE_DATE, ATT_ATTACH_MODIFY_DATE):
            when = _tnef_date(value)
            pid = ids.CREATION_TIME if attr_id == ATT_ATTACH_CREATE_DATE else ids.LAST_MODIFICATION_TIME
            if when is not None:
                att.props.setdefault_value(pid, t.PT_SYSTIME, when)
        elif attr_id == ATT_ATTACHMENT:
            self.properties(_Cursor(value), att.props, "attachment properties")

    def finish_attachment(self, att: Attachment) -> None:
        """Turn a PtypObject value into an embedded message or the attachment's bytes."""
        obj = att.props.pop(ids.ATTACH_DATA, None)
        if obj is None:
            return
        if obj.type != t.PT_OBJECT:
            att.props[ids.ATTACH_DATA] = obj
            return
        data = obj.value if isinstance(obj.value, bytes) else b""
        if data[:16] == IID_IMESSAGE and is_tnef(data[16:]) and self.depth < MAX_DEPTH:
            try:
                inner, warnings = read_tnef(data[16:], depth=self.depth + 1)
            except TnefError as exc:
                self.warnings.append(f"an embedded message in TNEF could not be read ({exc}); kept as bytes")
            else:
                self.warnings.extend(warnings)
                att.embedded = inner
                att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
                return
        # An OLE object (IID_IStorage) or anything else: its bytes, after the interface id.
        att.props.set(ids.ATTACH_DATA, t.PT_BINARY, data[16:])
        att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)

    # --- MAPI property lists ([MS-OXTNEF] 2.1.3.4) -----------------------------------------

    def properties(self, cur: _Cursor, bag: PropertyBag, what: str) -> None:
        count = cur.u32(f"{what}: count")
        for index in range(count):
            if cur.left() < 4:
                self.warnings.append(f"TNEF {what}: {count - index} of {count} properties missing")
                return
            tag = cur.u32(f"{what}: tag")
            ptype, prop_id = tag & 0xFFFF, tag >> 16
            pid: PropId = prop_id
            if prop_id >= 0x8000:
                pid = self.name(cur, what)
            value = self.value(cur, ptype, what)
            if value is _SKIP:
                continue
            model_type = ptype
            if t.base_type(ptype) == t.PT_STRING8:
                model_type = t.PT_MV_UNICODE if t.is_mv(ptype) else t.PT_UNICODE
            bag.set(pid, model_type, value)

    def name(self, cur: _Cursor, what: str) -> NamedId:
        guid = uuid.UUID(bytes_le=cur.take(16, f"{what}: property set"))
        kind = cur.u32(f"{what}: name kind")
        if kind == 0:
            return NamedId(guid, lid=cur.u32(f"{what}: LID"))
        size = cur.u32(f"{what}: name length")
        raw = cur.take(size, f"{what}: name")
        cur.align()
        return NamedId(guid, name=raw.decode("utf-16-le", "replace").rstrip("\0"))

    def value(self, cur: _Cursor, ptype: int, what: str) -> Any:
        base, mv = t.base_type(ptype), t.is_mv(ptype)
        if base in (t.PT_NULL, t.PT_UNSPECIFIED) and not mv:
            cur.take(4, what)
            return _SKIP
        if base in _VARIABLE:
            values = [
                self.variable(cur, base, what) for _ in range(min(cur.u32(f"{what}: value count"), 65536))
            ]
            if mv:
                return values
            return values[0] if values else b""
        size = _FIXED_SIZES.get(base)
        if size is None:
            raise TnefError(f"{what}: property type 0x{ptype:04X} has no known size")
        count = cur.u32(f"{what}: value count") if mv else 1
        raw = cur.take(size * count, what)
        cur.align()
        items = [raw[i : i + size] for i in range(0, size * count, size)]
        parsed = [_fixed(base, item) for item in items]
        return parsed if mv else parsed[0]

    def variable(self, cur: _Cursor, base: int, what: str) -> Any:
        size = cur.u32(f"{what}: value length")
        raw = cur.take(size, what)
        cur.align()
        if base == t.PT_UNICODE:
            return raw.decode("utf-16-le", "replace").rstrip("\0")
        if base == t.PT_STRING8:
            return self.text8(raw)
        return raw

    def text8(self, raw: bytes) -> str:
        return raw.split(b"\0", 1)[0].decode(self.codec, "replace")


_SKIP = object()


def _fixed(base: int, item: bytes) -> Any:
    if base == t.PT_BOOLEAN:
        return bool(_U16.unpack_from(item)[0])
    if base == t.PT_CLSID:
        return uuid.UUID(bytes_le=item)
    return binary.unpack_inline(base, item.ljust(8, b"\0"))


def _tnef_date(value: bytes) -> t.FileTime | None:
    """A TNEF date (year, month, day, hour, minute, second, weekday as u16), read as UTC."""
    if len(value) < 12:
        return None
    year, month, day, hour, minute, second = struct.unpack_from("<6H", value)
    try:
        return t.FileTime.from_datetime(_dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC))
    except ValueError:
        return None
