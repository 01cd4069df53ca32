"""TNEF (winmail.dat): its properties and attachments become the message's.

The TNEF streams are written here field by field after [MS-OXTNEF] 2.1.3 (attributes:
level, id, length, data, checksum; property lists: tag, name, values padded to 4 bytes),
then read by PyPI ``tnefparse`` as an independent check of the fixture where it is
installed, and converted; the ``.msg`` is read back with extract-msg.
"""

from __future__ import annotations

import struct
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest

from msgsess.mime import eml_to_message
from msgsess.mime.tnef import TnefError, read_tnef
from msgsess.oxmsg import rtf as rtf_body
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_PUBLIC_STRINGS, PSETID_COMMON, NamedId

IID_IMESSAGE = uuid.UUID("00020307-0000-0000-C000-000000000046").bytes_le
ATTACHED = b"report line\r\n\x00\x00\x00"  # ends in NULs, which must survive


def attribute(level: int, attr_id: int, data: bytes) -> bytes:
    """level (1 byte), id (u32), length (u32), data, checksum (u16: byte sum mod 65536)."""
    return struct.pack("<BII", level, attr_id, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def prop(ptype: int, prop_id: int, value: Any, named: NamedId | None = None) -> bytes:
    """One MsgPropertyValue: tag, [name], value ([MS-OXTNEF] 2.1.3.4)."""
    out = struct.pack("<HH", ptype, prop_id)
    if named is not None:
        out += named.guid.bytes_le
        if named.lid is not None:
            out += struct.pack("<II", 0, named.lid)
        else:
            name = (named.name or "").encode("utf-16-le") + b"\0\0"
            out += struct.pack("<II", 1, len(name)) + pad(name)
    base = ptype & 0x0FFF
    if ptype & 0x1000:
        if base == t.PT_UNICODE:
            items = [(v + "\0").encode("utf-16-le") for v in value]
            return (
                out
                + struct.pack("<I", len(items))
                + b"".join(struct.pack("<I", len(i)) + pad(i) for i in items)
            )
        return out + struct.pack("<I", len(value)) + pad(b"".join(struct.pack("<i", v) for v in value))
    if base in (t.PT_UNICODE, t.PT_STRING8, t.PT_BINARY, t.PT_OBJECT):
        raw = (
            (value + "\0").encode("utf-16-le")
            if base == t.PT_UNICODE
            else (value + "\0").encode("cp1252")
            if base == t.PT_STRING8
            else value
        )
        return out + struct.pack("<II", 1, len(raw)) + pad(raw)
    if base == t.PT_BOOLEAN:
        return out + struct.pack("<I", int(value))
    if base == t.PT_SYSTIME:
        return out + struct.pack("<Q", value)
    return out + struct.pack("<i", value)


def props(*items: bytes) -> bytes:
    return struct.pack("<I", len(items)) + b"".join(items)


def tnef(message: list[bytes], attachments: list[list[bytes]]) -> bytes:
    out = struct.pack("<IH", 0x223E9F78, 0x0101)
    out += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attribute(1, 0x00069007, struct.pack("<II", 1252, 0))  # attOemCodepage
    out += b"".join(message)
    for parts in attachments:
        out += attribute(2, 0x00069002, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0))  # attAttachRendData
        out += b"".join(parts)
    return out


def inner_tnef() -> bytes:
    return tnef(
        [
            attribute(1, 0x00078008, b"IPM.Note\0"),
            attribute(
                1,
                0x00069003,
                props(prop(t.PT_UNICODE, ids.SUBJECT, "Inner"), prop(t.PT_UNICODE, ids.BODY, "x")),
            ),
        ],
        [],
    )


def winmail() -> bytes:
    rtf = rtf_body.compress(b"{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0 Rich {\\b TNEF} body.\\par}")
    message = [
        attribute(1, 0x00078008, b"IPM.Microsoft Mail.Note\0"),  # attMessageClass
        attribute(1, 0x00018004, b"Legacy subject\0"),  # attSubject (the MIME subject wins)
        attribute(
            1,
            0x00069003,  # attMsgProps
            props(
                prop(t.PT_LONG, ids.IMPORTANCE, 2),
                prop(t.PT_BINARY, ids.RTF_COMPRESSED, rtf),
                prop(t.PT_STRING8, ids.BODY, "Rich TNEF body."),
                prop(t.PT_BOOLEAN, 0x8000, True, NamedId(PSETID_COMMON, lid=0x8506)),
                prop(t.PT_UNICODE, 0x8001, "custom value", NamedId(PS_PUBLIC_STRINGS, name="My Field")),
                prop(t.PT_MV_UNICODE, 0x8002, ["Red", "Green"], NamedId(PS_PUBLIC_STRINGS, name="Keywords")),
            ),
        ),
    ]
    first = [
        attribute(2, 0x00018010, b"REPORT~1.TXT\0"),  # attAttachTitle
        attribute(2, 0x0006800F, ATTACHED),  # attAttachData
        attribute(
            2,
            0x00069005,  # attAttachment
            props(
                prop(t.PT_LONG, ids.ATTACH_METHOD, 1),
                prop(t.PT_UNICODE, ids.ATTACH_LONG_FILENAME, "report with a long name.txt"),
                prop(t.PT_STRING8, ids.ATTACH_MIME_TAG, "text/plain"),
            ),
        ),
    ]
    second = [
        attribute(
            2,
            0x00069005,
            props(
                prop(t.PT_LONG, ids.ATTACH_METHOD, 5),
                prop(t.PT_UNICODE, ids.DISPLAY_NAME, "Inner"),
                prop(t.PT_OBJECT, ids.ATTACH_DATA, IID_IMESSAGE + inner_tnef()),
            ),
        )
    ]
    return tnef(message, [first, second])


def mail_with(data: bytes) -> bytes:
    m = EmailMessage(policy=SMTP)
    m["From"] = "Ann <ann@example.com>"
    m["To"] = "bob@example.com"
    m["Subject"] = "From Outlook"
    m.set_content("Plain fallback")
    m.add_attachment(data, "application", "ms-tnef", filename="winmail.dat")
    return m.as_bytes()


def test_fixture_is_tnef_for_an_independent_reader() -> None:
    tnefparse = pytest.importorskip("tnefparse")
    parsed = tnefparse.TNEF(winmail())
    assert [a.long_filename() for a in parsed.attachments][:1] == ["report with a long name.txt"]


def test_tnef_properties_and_attachments_become_the_messages(to_msg: Any) -> None:
    data = mail_with(winmail())
    em = to_msg(data)
    assert em.subject == "From Outlook"
    assert em.importance == 2
    assert em.classType == "IPM.Note"
    assert b"Rich {\\b TNEF} body." in em.rtfBody
    assert em.body.strip() == "Rich TNEF body."
    names = [a.longFilename or a.displayName for a in em.attachments]
    assert names == ["report with a long name.txt", "Inner"]
    assert em.attachments[0].data == ATTACHED
    assert em.attachments[1].data.subject == "Inner"
    msg, warnings = eml_to_message(data)
    assert not warnings
    assert msg.props.value(NamedId(PS_PUBLIC_STRINGS, name="My Field")) == "custom value"
    assert msg.props.value(NamedId(PS_PUBLIC_STRINGS, name="Keywords")) == ["Red", "Green"]
    assert msg.props.value(NamedId(PSETID_COMMON, lid=0x8506)) is True
    assert msg.attachments[0].props.value(ids.ATTACH_FILENAME) == "REPORT~1.TXT"


def test_damaged_tnef_is_kept_as_the_file_it_was() -> None:
    damaged = winmail()[:200]
    msg, warnings = eml_to_message(mail_with(damaged))
    assert [a.name for a in msg.attachments] in (["winmail.dat"], [])
    if msg.attachments:
        assert msg.attachments[0].data == damaged
    assert warnings
    with pytest.raises(TnefError):
        read_tnef(b"not tnef at all")
