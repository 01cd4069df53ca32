"""msgsess.oxmsg encode/decode, read back from real files with extract-msg and olefile.

Every test writes a ``.msg`` with ``cfb.write_atomic(oxmsg.encode(...))`` and
reads it back with readers we did not write: olefile at its strictest defect
level for the raw bytes, and extract-msg's property API for values. The
decoder's view (``oxmsg.decode(cfb.read_file(...))``) must equal the model.
"""

from __future__ import annotations

import codecs
import datetime as dt
import decimal
import struct
import uuid
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest
from extract_msg.constants import PYTPFLOATINGTIME_START
from extract_msg.structures.entry_id import EntryID, OneOffRecipient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.errors import InvalidParameter, Unconvertible
from msgsess.model import Attachment, Message, Property, PropertyBag, Recipient
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_INTERNET_HEADERS, PS_PUBLIC_STRINGS, PSETID_COMMON, NamedId
from msgsess.storage import Storage

NOW = t.FileTime.from_datetime(dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC))
ONE_OFF_UID = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")
PROPS = "__properties_version1.0"
ENTRY = struct.Struct("<II8s")


# --------------------------------------------------------------------------- helpers


def write(msg: Message, tmp_path: Path, name: str = "m.msg", **options: Any) -> Path:
    path = tmp_path / name
    cfb.write_atomic(oxmsg.encode(msg, **options), path)
    return path


def ole_streams(path: Path) -> dict[str, bytes]:
    """Every stream, by '/'-joined path, read with olefile at its strictest defect level."""
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True)}


def entries(stream: bytes, header: int) -> dict[int, tuple[int, bytes]]:
    """Property stream entries: tag -> (flags, 8-byte value field)."""
    assert (len(stream) - header) % 16 == 0, f"{len(stream)} bytes do not fit a {header}-byte header"
    out: dict[int, tuple[int, bytes]] = {}
    for off in range(header, len(stream), 16):
        tag, flags, field = ENTRY.unpack_from(stream, off)
        assert tag not in out, f"tag {tag:08X} twice"
        out[tag] = (flags, field)
    return out


def size_field(field: bytes) -> tuple[int, int]:
    size, reserved = struct.unpack("<II", field)
    return size, reserved


def decoded(path: Path) -> Message:
    return oxmsg.decode(cfb.read_file(path))


def message() -> Message:
    msg = Message()
    msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
    return msg


def open_msg(path: Path) -> Any:
    return extract_msg.openMsg(str(path))


# --------------------------------------------------------------------------- fixed-length types

APPTIME = 45417.25  # 2024-05-06 06:00
APPTIME_SEEN = PYTPFLOATINGTIME_START + dt.timedelta(days=APPTIME)
CURRENCY = decimal.Decimal("-12.3456")
SYSTIME = t.FileTime.from_datetime(dt.datetime(2024, 5, 6, 7, 8, 9, 654321, tzinfo=dt.UTC))

#: (type, model value, the 8-byte value field, what extract-msg's FixedLengthProp gives)
FIXED_CASES = [
    (t.PT_SHORT, -2, struct.pack("<h", -2) + bytes(6), ("signed", -2)),
    (t.PT_LONG, -123456, struct.pack("<i", -123456) + bytes(4), ("signed", -123456)),
    (t.PT_FLOAT, 1.5, struct.pack("<f", 1.5) + bytes(4), ("value", 1.5)),
    (t.PT_DOUBLE, -2.125, struct.pack("<d", -2.125), ("value", -2.125)),
    (t.PT_CURRENCY, CURRENCY, struct.pack("<q", -123456), ("value", CURRENCY)),
    (t.PT_APPTIME, APPTIME, struct.pack("<d", APPTIME), ("value", APPTIME_SEEN)),
    (t.PT_ERROR, -2147221233, struct.pack("<I", 0x8004010F) + bytes(4), ("int", 0x8004010F)),
    (t.PT_BOOLEAN, True, b"\x01" + bytes(7), ("value", True)),
    (t.PT_I8, -(2**40) - 7, struct.pack("<q", -(2**40) - 7), ("signed", -(2**40) - 7)),
    (t.PT_SYSTIME, SYSTIME, struct.pack("<Q", SYSTIME), ("value", SYSTIME.to_datetime())),
]


@pytest.mark.parametrize(("ptype", "value", "field", "seen"), FIXED_CASES, ids=lambda c: str(c)[:12])
def test_fixed_length_type(tmp_path: Path, ptype: int, value: Any, field: bytes, seen: Any) -> None:
    pid = 0x6610
    msg = message()
    msg.props.set(pid, ptype, value, ids.PROPATTR_READABLE | ids.PROPATTR_WRITABLE | ids.PROPATTR_MANDATORY)
    path = write(msg, tmp_path)
    tag = (pid << 16) | ptype

    # Raw: inline value field, left-aligned, unused bytes zero; flags as given; no value stream.
    streams = ole_streams(path)
    flags, raw = entries(streams[PROPS], 32)[tag]
    assert (flags, raw) == (7, field)
    assert f"__substg1.0_{tag:08X}" not in streams

    # extract-msg's property API.
    with open_msg(path) as m:
        prop = m.props.get(f"{tag:08X}")
        assert int(prop.flags) == 7
        how, expected = seen
        if how == "signed":
            assert prop.signedValue == expected
        elif how == "int":
            assert int(prop.value) == expected
        else:
            assert prop.value == expected

    # Our decoder gives back the model value, type and flags.
    assert decoded(path).props[pid] == Property(ptype, value, 7)


def test_boolean_false_and_short_unsigned_input_wrap(tmp_path: Path) -> None:
    msg = message()
    msg.props.set(0x6611, t.PT_BOOLEAN, False)
    msg.props.set(0x6612, t.PT_SHORT, 0xFFFF)  # unsigned input is accepted and wraps
    path = write(msg, tmp_path)
    found = entries(ole_streams(path)[PROPS], 32)
    assert found[0x6611000B] == (6, bytes(8))
    assert found[0x66120002] == (6, b"\xff\xff" + bytes(6))
    with open_msg(path) as m:
        assert m.props.get("6611000B").value is False
        assert m.props.get("66120002").signedValue == -1
    assert decoded(path).props.value(0x6612) == -1


# --------------------------------------------------------------------------- stream-stored single values


def test_unicode_string_binary_and_clsid_streams(tmp_path: Path) -> None:
    guid = uuid.UUID("12345678-9ABC-DEF0-1122-334455667788")
    text = "Grüße ☃ 𝄞"  # includes a character outside the BMP (a surrogate pair in UTF-16)
    blob = bytes(range(256)) * 20  # 5,120 bytes: a normal-sector stream, not the mini stream
    msg = message()
    msg.props.set(0x6620, t.PT_UNICODE, text)
    msg.props.set(0x6621, t.PT_BINARY, blob)
    msg.props.set(0x6622, t.PT_CLSID, guid)
    msg.props.set(0x6623, t.PT_BINARY, b"")
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    found = entries(streams[PROPS], 32)

    # Strings: no terminator in the stream, Size = stream length + 2.
    data = streams["__substg1.0_6620001F"]
    assert data == text.encode("utf-16-le")
    assert size_field(found[0x6620001F][1]) == (len(data) + 2, 0)
    # Binary and GUID: Size = stream length; GUID in Windows byte order.
    assert streams["__substg1.0_66210102"] == blob
    assert size_field(found[0x66210102][1]) == (len(blob), 0)
    assert streams["__substg1.0_66220048"] == guid.bytes_le
    assert size_field(found[0x66220048][1]) == (16, 0)
    assert streams["__substg1.0_66230102"] == b""
    assert size_field(found[0x66230102][1]) == (0, 0)

    with open_msg(path) as m:
        assert m.getStringStream("__substg1.0_6620") == text
        assert m._getTypedData("6621") == blob
        assert m._getTypedData("6622") == "{" + str(guid).upper() + "}"
        assert m.props.get("6620001F").flags == 6

    back = decoded(path)
    assert back.props[0x6620] == Property(t.PT_UNICODE, text)
    assert back.props[0x6621] == Property(t.PT_BINARY, blob)
    assert back.props[0x6622] == Property(t.PT_CLSID, guid)
    assert back.props[0x6623] == Property(t.PT_BINARY, b"")


# --------------------------------------------------------------------------- multi-valued

SYSTIMES = [t.FileTime(0), SYSTIME, t.FileTime(2**63 + 5)]
GUIDS = [uuid.UUID(int=1), uuid.UUID("00062008-0000-0000-C000-000000000046")]

#: (MV type, values, how each element is packed, what extract-msg's reader gives or None)
FIXED_MV_CASES = [
    (t.PT_MV_SHORT, [1, -2, 32767], "<h", (1, 0xFFFE, 32767)),
    (t.PT_MV_LONG, [0, -1, 2**31 - 1], "<i", (0, 0xFFFFFFFF, 2**31 - 1)),
    (t.PT_MV_FLOAT, [0.5, -1.25], "<f", (0.5, -1.25)),
    (t.PT_MV_DOUBLE, [1e300, -0.0, 3.5], "<d", (1e300, -0.0, 3.5)),
    # extract-msg has no reader for 0x1006 (NotImplementedError): raw bytes only.
    (t.PT_MV_CURRENCY, [decimal.Decimal("1.0001"), decimal.Decimal("-5")], "currency", None),
    (
        t.PT_MV_APPTIME,
        [0.0, APPTIME],
        "<d",
        (PYTPFLOATINGTIME_START, PYTPFLOATINGTIME_START + dt.timedelta(days=APPTIME)),
    ),
    (t.PT_MV_I8, [-1, 2**62], "<q", (2**64 - 1, 2**62)),
    (t.PT_MV_SYSTIME, SYSTIMES, "<Q", tuple((int(v) - 116444736000000000) / 1e7 for v in SYSTIMES)),
    (t.PT_MV_CLSID, GUIDS, "guid", tuple("{" + str(g).upper() + "}" for g in GUIDS)),
]


def _pack_element(fmt: str, value: Any) -> bytes:
    if fmt == "guid":
        return bytes(value.bytes_le)
    if fmt == "currency":
        return struct.pack("<q", int(value * 10000))
    return struct.pack(fmt, value)


@pytest.mark.parametrize(("ptype", "values", "fmt", "seen"), FIXED_MV_CASES, ids=lambda c: str(c)[:12])
def test_fixed_length_multi_valued(
    tmp_path: Path, ptype: int, values: list[Any], fmt: str, seen: Any
) -> None:
    pid = 0x6630
    msg = message()
    msg.props.set(pid, ptype, values)
    path = write(msg, tmp_path)
    tag = (pid << 16) | ptype
    streams = ole_streams(path)
    data = streams[f"__substg1.0_{tag:08X}"]
    # [MS-OXMSG] 2.1.4.1: all values back to back in one stream; Size = stream length.
    assert data == b"".join(_pack_element(fmt, v) for v in values)
    flags, field = entries(streams[PROPS], 32)[tag]
    assert (flags, size_field(field)) == (6, (len(data), 0))
    if seen is not None:
        with open_msg(path) as m:
            assert m._getTypedData(f"{pid:04X}") == seen
    assert decoded(path).props[pid] == Property(ptype, values)


def test_multi_valued_strings_and_binaries(tmp_path: Path) -> None:
    words = ["red", "", "grün ☃"]
    blobs = [b"\x00\x01\x02", b"", b"x" * 70]
    msg = message()
    msg.props.set(0x6640, t.PT_MV_UNICODE, words)
    msg.props.set(0x6641, t.PT_MV_BINARY, blobs)
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    found = entries(streams[PROPS], 32)

    # MV strings: value streams end with the terminator, lengths include it.
    lengths = streams["__substg1.0_6640101F"]
    assert struct.unpack("<3I", lengths) == tuple(len(w.encode("utf-16-le")) + 2 for w in words)
    for index, word in enumerate(words):
        assert streams[f"__substg1.0_6640101F-{index:08X}"] == word.encode("utf-16-le") + b"\0\0"
    assert size_field(found[0x6640101F][1]) == (len(lengths), 0)
    assert "__substg1.0_6640101F-00000003" not in streams

    # MV binary: length stream holds (length, reserved 0) pairs; values as they are.
    lengths = streams["__substg1.0_66411102"]
    assert lengths == b"".join(struct.pack("<II", len(b), 0) for b in blobs)
    for index, blob in enumerate(blobs):
        assert streams[f"__substg1.0_66411102-{index:08X}"] == blob
    assert size_field(found[0x66411102][1]) == (len(lengths), 0)

    with open_msg(path) as m:
        assert m.getMultipleString("__substg1.0_6640") == words
        assert m.getMultipleBinary("__substg1.0_6641") == blobs

    back = decoded(path)
    assert back.props[0x6640] == Property(t.PT_MV_UNICODE, words)
    assert back.props[0x6641] == Property(t.PT_MV_BINARY, blobs)


def test_empty_multi_valued(tmp_path: Path) -> None:
    msg = message()
    msg.props.set(0x6650, t.PT_MV_UNICODE, [])
    msg.props.set(0x6651, t.PT_MV_LONG, [])
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    assert streams["__substg1.0_6650101F"] == b""
    assert streams["__substg1.0_66511003"] == b""
    back = decoded(path)
    assert back.props.value(0x6650) == []
    assert back.props.value(0x6651) == []


# --------------------------------------------------------------------------- container facts


def test_root_clsid_and_compound_file_version(tmp_path: Path) -> None:
    path = write(message(), tmp_path)
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        assert ole.root.clsid == "00020D0B-0000-0000-C000-000000000046"
        assert ole.dll_version == 3  # major version 3: 512-byte sectors
        assert ole.sector_size == 512
        assert sorted(ole.listdir(streams=False, storages=True)) == [["__nameid_version1.0"]]
    # An empty name map still has its three streams ([MS-OXMSG] 2.2.3.1).
    streams = ole_streams(path)
    for name in ("00020102", "00030102", "00040102"):
        assert streams[f"__nameid_version1.0/__substg1.0_{name}"] == b""


def test_template_clsid(tmp_path: Path) -> None:
    path = write(message(), tmp_path, template=True)
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        assert ole.root.clsid == "0006F046-0000-0000-C000-000000000046"
    assert cfb.read_file(path).clsid == uuid.UUID("0006F046-0000-0000-C000-000000000046").bytes_le


def test_top_level_header_counts(tmp_path: Path) -> None:
    msg = compose(
        {
            "subject": "Hi",
            "to": ["a@example.com", "b@example.com"],
            "cc": "c@example.com",
            "attachments": [{"data": "aGk=", "name": "hi.txt"}],
        },
        now=NOW,
    )
    stream = ole_streams(write(msg, tmp_path))[PROPS]
    # reserved 8 | next recipient id | next attachment id | recipient count | attachment count | reserved 8
    assert stream[:32] == bytes(8) + struct.pack("<IIII", 3, 1, 3, 1) + bytes(8)


# --------------------------------------------------------------------------- Unicode files


def test_unicode_file_marks_and_types(tmp_path: Path) -> None:
    msg = compose({"subject": "Привет", "body": "тело", "to": "Иван <ivan@example.com>"}, now=NOW)
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    top = entries(streams[PROPS], 32)
    _flags, mask = top[0x340D0003]
    assert struct.unpack("<I", mask[:4])[0] & ids.STORE_UNICODE_OK
    for name, data in streams.items():
        if name.endswith(PROPS):
            header = 32 if name == PROPS else 8
            for tag in entries(data, header):
                assert tag & 0xFFFF not in (0x001E, 0x101E), f"{name}: 8-bit string {tag:08X}"
    with open_msg(path) as m:
        assert m.areStringsUnicode
        assert m.subject == "Привет"
        assert m.body == "тело"
        assert m.recipients[0].name == "Иван"


# --------------------------------------------------------------------------- ANSI files


@pytest.mark.parametrize(
    ("codepage", "subject", "body", "name"),
    [
        (1252, "Grüße aus Köln – 5 €", "Café crème\r\n", "Zoë Ærø"),
        (1251, "Привет, мир", "Съешь же ещё этих мягких французских булок\r\n", "Иван Петров"),
    ],
)
def test_ansi_file(tmp_path: Path, codepage: int, subject: str, body: str, name: str) -> None:
    msg = compose(
        {
            "subject": subject,
            "body": body,
            "to": f"{name} <someone@example.com>",
            "categories": [subject[:5], "x"],
            "attachments": [{"data": "aGk=", "name": f"{subject[:4]}.txt"}],
        },
        now=NOW,
        unicode=False,
        codepage=codepage,
    )
    path = write(msg, tmp_path, unicode=False, codepage=codepage)
    streams = ole_streams(path)
    top = entries(streams[PROPS], 32)

    # The code page is recorded, STORE_UNICODE_OK is not there, every string is 8-bit.
    assert struct.unpack("<I", top[(ids.MESSAGE_CODEPAGE << 16) | t.PT_LONG][1][:4])[0] == codepage
    assert struct.unpack("<I", top[(ids.INTERNET_CODEPAGE << 16) | t.PT_LONG][1][:4])[0] == codepage
    for stream_name, data in streams.items():
        if stream_name.endswith(PROPS):
            header = 32 if stream_name == PROPS else 8
            for tag, (_flags, field) in entries(data, header).items():
                assert tag & 0xFFFF not in (0x001F, 0x101F), f"{stream_name}: Unicode string {tag:08X}"
                if tag >> 16 == ids.STORE_SUPPORT_MASK:
                    assert not struct.unpack("<I", field[:4])[0] & ids.STORE_UNICODE_OK
    # Single-valued 8-bit strings: code-page bytes, no terminator, Size = length + 1.
    raw_subject = streams["__substg1.0_0037001E"]
    assert raw_subject == subject.encode(f"cp{codepage}")
    assert size_field(top[0x0037001E][1]) == (len(raw_subject) + 1, 0)
    # MV 8-bit strings keep their 1-byte terminator.
    assert streams["__substg1.0_8000101E-00000000"] == subject[:5].encode(f"cp{codepage}") + b"\0"
    # One-off entry ids stay in Unicode form (flag 0x8000) even in ANSI files.
    entry_id = streams["__recip_version1.0_#00000000/__substg1.0_0FFF0102"]
    assert entry_id[22:24] == b"\x01\x80"
    assert entry_id[24:].decode("utf-16-le").split("\0")[0] == name

    with open_msg(path) as m:
        assert not m.areStringsUnicode
        assert codecs.lookup(m.stringEncoding).name == codecs.lookup(f"cp{codepage}").name
        assert m.subject == subject
        assert m.body == body
        assert m.recipients[0].name == name
        assert m.attachments[0].longFilename == f"{subject[:4]}.txt"

    back = decoded(path)
    assert back.source_unicode is False
    assert back.source_codepage == codepage
    assert back.props.value(ids.SUBJECT) == subject
    assert back.props.value(ids.BODY) == body
    assert back.recipients[0].props.value(ids.DISPLAY_NAME) == name


@pytest.mark.parametrize(
    ("where", "build"),
    [
        ("PidTagSubject", lambda m: m.props.set(ids.SUBJECT, t.PT_UNICODE, "Привет")),
        ("recipient 0", lambda m: m.recipients.append(_recipient("Дмитрий"))),
        ("PidNameKeywords", lambda m: m.props.set(_KEYWORDS, t.PT_MV_UNICODE, ["ok", "ж"])),
    ],
)
def test_text_the_code_page_cannot_hold(tmp_path: Path, where: str, build: Any) -> None:
    msg = message()
    build(msg)
    with pytest.raises(Unconvertible) as info:
        oxmsg.encode(msg, unicode=False, codepage=1252, label="msg-42")
    text = str(info.value)
    assert "msg-42" in text
    assert where in text
    assert "U+04" in text  # names the character
    assert "1252" in text
    # Nothing was written: encode failed before any file existed.
    assert not list(tmp_path.iterdir())


_KEYWORDS = NamedId(PS_PUBLIC_STRINGS, name="Keywords")


def _recipient(name: str) -> Recipient:
    r = Recipient()
    r.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    r.props.set(ids.RECIPIENT_TYPE, t.PT_LONG, 1)
    return r


def test_cp1251_cannot_hold_western_text() -> None:
    msg = message()
    msg.props.set(ids.BODY, t.PT_UNICODE, "ok ü")
    with pytest.raises(Unconvertible, match=r"PidTagBody.*U\+00FC"):
        oxmsg.encode(msg, unicode=False, codepage=1251, label="m")


def test_two_names_of_one_named_property_are_refused() -> None:
    # Internet-header names are one property whatever their case ([MS-OXMSG] Appendix A <1>).
    msg = message()
    msg.props.set(NamedId(PS_INTERNET_HEADERS, name="X-Tag"), t.PT_UNICODE, "a")
    msg.props.set(NamedId(PS_INTERNET_HEADERS, name="x-tag"), t.PT_UNICODE, "b")
    with pytest.raises(InvalidParameter, match="X-Tag and PS_INTERNET_HEADERS:x-tag are the same property"):
        oxmsg.encode(msg, label="m")


def test_an_unnamed_high_id_is_kept_in_a_file_without_named_properties(tmp_path: Path) -> None:
    # No name map entry can take its id, so it is written as it is, in id order with the rest.
    msg = message()
    msg.props.set(0x8003, t.PT_LONG, 7)
    path = tmp_path / "m.msg"
    cfb.write_atomic(oxmsg.encode(msg), path)
    with olefile.OleFileIO(str(path)) as ole:
        stream = ole.openstream(PROPS).read()
    tags = [ENTRY.unpack_from(stream, at)[0] for at in range(32, len(stream), 16)]
    assert 0x80030003 in tags
    assert tags == sorted(tags)


# --------------------------------------------------------------------------- recipients


def test_recipients_to_cc_bcc(tmp_path: Path) -> None:
    msg = compose(
        {
            "subject": "People",
            "to": ["Bob Example <bob@example.com>", "carol@example.com"],
            "cc": "Dan Ünal <dan@example.org>",
            "bcc": ["Eve <eve@example.net>"],
        },
        now=NOW,
    )
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    expected = [
        ("Bob Example", "bob@example.com", 1),
        ("carol@example.com", "carol@example.com", 1),
        ("Dan Ünal", "dan@example.org", 2),
        ("Eve", "eve@example.net", 3),
    ]
    for row, (name, addr, kind) in enumerate(expected):
        prefix = f"__recip_version1.0_#{row:08X}/"
        found = entries(streams[prefix + PROPS], 8)
        assert streams[prefix + PROPS][:8] == bytes(8)
        assert found[0x0C150003][1][:4] == struct.pack("<I", kind)  # PR_RECIPIENT_TYPE
        assert found[0x30000003][1][:4] == struct.pack("<I", row)  # PR_ROWID
        assert found[0x0FFE0003][1] == struct.pack("<I", 6) + bytes(4)  # PR_OBJECT_TYPE MAPI_MAILUSER
        assert found[0x39000003][1] == bytes(8)  # PR_DISPLAY_TYPE DT_MAILUSER
        assert streams[prefix + "__substg1.0_3001001F"] == name.encode("utf-16-le")
        assert streams[prefix + "__substg1.0_3002001F"] == "SMTP".encode("utf-16-le")
        assert streams[prefix + "__substg1.0_3003001F"] == addr.encode("utf-16-le")
        assert streams[prefix + "__substg1.0_39FE001F"] == addr.encode("utf-16-le")
        assert streams[prefix + "__substg1.0_300B0102"] == f"SMTP:{addr.upper()}\0".encode("ascii")
        # The one-off entry id, field by field ([MS-OXCDATA] 2.2.5.1).
        eid = streams[prefix + "__substg1.0_0FFF0102"]
        assert eid[0:4] == bytes(4)  # flags
        assert eid[4:20] == ONE_OFF_UID  # provider UID
        assert eid[20:22] == bytes(2)  # version
        assert eid[22:24] == b"\x01\x80"  # MAPI_ONE_OFF_UNICODE | MAPI_ONE_OFF_NO_RICH_INFO
        assert eid[24:].decode("utf-16-le") == f"{name}\0SMTP\0{addr}\0"

    with open_msg(path) as m:
        got = [(r.name, r.email, int(r.type), r.smtpAddress, r.searchKey) for r in m.recipients]
        assert got == [(n, a, k, a, f"SMTP:{a.upper()}\0".encode()) for n, a, k in expected]
        one_off = EntryID.autoCreate(m.recipients[2].getStream("__substg1.0_0FFF0102"))
        assert isinstance(one_off, OneOffRecipient)
        assert (one_off.displayName, one_off.addressType, one_off.emailAddress) == (
            "Dan Ünal",
            "SMTP",
            "dan@example.org",
        )
        assert one_off.areStringUnicode
        assert m.props.get("0E04001F") is not None
        assert m.getStringStream("__substg1.0_0E04") == "Bob Example; carol@example.com"
        assert m.getStringStream("__substg1.0_0E03") == "Dan Ünal"
        assert m.getStringStream("__substg1.0_0E02") == "Eve"

    back = decoded(path)
    assert [r.props for r in back.recipients] == [r.props for r in msg.recipients]


# --------------------------------------------------------------------------- attachments


def test_attachment_by_value(tmp_path: Path) -> None:
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 30  # > 4096 bytes: stored in normal sectors
    msg = compose(
        {"subject": "Files", "attachments": [{"data": _b64(payload), "name": "Quarterly report 2024.pdf"}]},
        now=NOW,
    )
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    prefix = "__attach_version1.0_#00000000/"
    found = entries(streams[prefix + PROPS], 8)
    assert streams[prefix + "__substg1.0_37010102"] == payload
    assert size_field(found[0x37010102][1]) == (len(payload), 0)
    assert found[0x37050003] == (7, struct.pack("<I", 1) + bytes(4))  # method 1, flags 7 like Outlook
    assert found[0x370B0003] == (7, b"\xff\xff\xff\xff" + bytes(4))  # rendering position: not rendered
    assert found[0x0E200003][1][:4] == struct.pack("<I", len(payload))  # PR_ATTACH_SIZE
    assert found[0x0E210003][1][:4] == bytes(4)  # PR_ATTACH_NUM 0
    assert found[0x0FFE0003][1][:4] == struct.pack("<I", 7)  # MAPI_ATTACH

    with open_msg(path) as m:
        (att,) = m.attachments
        assert att.data == payload
        assert att.longFilename == "Quarterly report 2024.pdf"
        assert att.shortFilename == "QUARTE~1.PDF"
        assert att.extension == ".pdf"
        assert att.mimetype == "application/pdf"
        assert att.displayName == "Quarterly report 2024.pdf"
        assert att.renderingPosition == 0xFFFFFFFF
        assert att.props.getValue("37050003") == 1
        assert att.props.getValue("0E200003") == len(payload)
        assert att.hidden is False
    assert decoded(path).attachments[0].props == msg.attachments[0].props


def test_inline_attachments(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(40)
    msg = compose(
        {
            "subject": "Inline",
            "body": "see picture",
            "attachments": [
                {"data": _b64(png), "name": "logo.png", "content_id": "<logo@example>"},
                {"data": _b64(png), "name": "logo2.png", "content_id": "pic2"},
            ],
        },
        now=NOW,
    )
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    for index, cid in enumerate(["logo@example", "pic2"]):
        prefix = f"__attach_version1.0_#{index:08X}/"
        found = entries(streams[prefix + PROPS], 8)
        assert streams[prefix + "__substg1.0_3712001F"] == cid.encode("utf-16-le")
        assert found[0x7FFE000B][1] == b"\x01" + bytes(7)  # PR_ATTACHMENT_HIDDEN
        assert found[0x37140003][1][:4] == struct.pack("<I", 4)  # attRenderedInBody
    with open_msg(path) as m:
        assert [a.contentId for a in m.attachments] == ["logo@example", "pic2"]
        assert all(a.hidden for a in m.attachments)
        assert [a.mimetype for a in m.attachments] == ["image/png", "image/png"]
        # PidLidSmartNoAttach: every attachment is inline, so no paperclip.
        assert m.getNamedProp("8514", "{00062008-0000-0000-C000-000000000046}") is True


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _nest(depth: int) -> Message:
    """A message with one embedded message per level, ``depth`` levels below it."""
    inner: Message | None = None
    for level in range(depth, -1, -1):
        msg = Message()
        msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
        msg.props.set(ids.SUBJECT, t.PT_UNICODE, f"level {level}")
        msg.props.set(ids.BODY, t.PT_UNICODE, f"body {level}")
        rcpt = Recipient()
        rcpt.props.set(ids.RECIPIENT_TYPE, t.PT_LONG, 1)
        rcpt.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, f"R{level}")
        msg.recipients.append(rcpt)
        if inner is not None:
            att = Attachment(embedded=inner)
            att.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, f"level {level + 1}")
            msg.attachments.append(att)
        inner = msg
    assert inner is not None
    return inner


def test_embedded_messages_three_deep(tmp_path: Path) -> None:
    msg = _nest(3)
    path = write(msg, tmp_path)
    streams = ole_streams(path)
    prefix = ""
    for level in range(4):
        props = streams[prefix + PROPS]
        header = 32 if level == 0 else 24
        found = entries(props, header)
        # Header: next recipient id 1, next attachment id (1 or 0), counts the same.
        has_att = 1 if level < 3 else 0
        assert props[8:24] == struct.pack("<IIII", 1, has_att, 1, has_att)
        assert streams[prefix + "__substg1.0_0037001F"] == f"level {level}".encode("utf-16-le")
        assert 0x340D0003 in found  # each embedded message carries its own Unicode mark
        if has_att:
            att_props = entries(streams[prefix + "__attach_version1.0_#00000000/" + PROPS], 8)
            assert att_props[0x3701000D] == (6, struct.pack("<II", 0xFFFFFFFF, 1))  # Size -1, Reserved 1
            assert att_props[0x37050003][1][:4] == struct.pack("<I", 5)
        prefix += "__attach_version1.0_#00000000/__substg1.0_3701000D/"
    # Only one name map, at the top.
    assert not [name for name in streams if "__nameid_version1.0" in name and name.count("/") > 1]

    with open_msg(path) as m:
        current = m
        for level in range(4):
            assert current.subject == f"level {level}"
            assert current.body == f"body {level}"
            assert [r.name for r in current.recipients] == [f"R{level}"]
            if level < 3:
                (att,) = current.attachments
                assert att.props.getValue("37050003") == 5
                current = att.data
                assert isinstance(current, extract_msg.msg_classes.MSGFile)
            else:
                assert current.attachments == []

    back = decoded(path)
    chain = list(back.walk())
    assert [m.props.value(ids.SUBJECT) for m in chain] == [f"level {n}" for n in range(4)]
    assert all(a.embedded is not None and a.method == 5 for m in chain[:3] for a in m.attachments)


def test_embedded_message_keeps_its_own_string_mode_in_ansi(tmp_path: Path) -> None:
    msg = _nest(1)
    msg.attachments[0].embedded.props.set(ids.SUBJECT, t.PT_UNICODE, "вложение")  # type: ignore[union-attr]
    path = write(msg, tmp_path, unicode=False, codepage=1251)
    streams = ole_streams(path)
    inner = "__attach_version1.0_#00000000/__substg1.0_3701000D/"
    assert streams[inner + "__substg1.0_0037001E"] == "вложение".encode("cp1251")
    inner_entries = entries(streams[inner + PROPS], 24)
    assert inner_entries[0x3FFD0003][1][:4] == struct.pack("<I", 1251)
    with open_msg(path) as m:
        assert m.attachments[0].data.subject == "вложение"


# --------------------------------------------------------------------------- decode(encode(x)) == x

#: Property ids free for random use: none of them has meaning to the encoder or decoder.
_FREE_IDS = st.integers(0x6600, 0x67FF)
_GUIDS = st.sampled_from([PS_PUBLIC_STRINGS, PSETID_COMMON, PS_INTERNET_HEADERS, uuid.UUID(int=0xABCDEF)])


def _cp1252_alphabet() -> str:
    chars = []
    for byte in range(1, 256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            continue
    return "".join(chars)


def _text(unicode: bool) -> st.SearchStrategy[str]:
    if unicode:
        # Unpaired surrogates are not text (the value parser refuses them too).
        return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)
    return st.text(st.sampled_from(_cp1252_alphabet()), max_size=12)


def _value_strategy(ptype: int, unicode: bool) -> st.SearchStrategy[Any]:
    base = t.base_type(ptype)
    single: st.SearchStrategy[Any] = {
        t.PT_SHORT: st.integers(-(2**15), 2**15 - 1),
        t.PT_LONG: st.integers(-(2**31), 2**31 - 1),
        t.PT_ERROR: st.integers(-(2**31), 2**31 - 1),
        t.PT_I8: st.integers(-(2**63), 2**63 - 1),
        t.PT_FLOAT: st.floats(width=32, allow_nan=False),
        t.PT_DOUBLE: st.floats(allow_nan=False),
        # Days from year 100 to 9999: what a date can hold (extract-msg turns these into datetimes).
        t.PT_APPTIME: st.floats(-657434, 2958465),
        t.PT_CURRENCY: st.integers(-(2**63), 2**63 - 1).map(lambda n: decimal.Decimal(n).scaleb(-4)),
        t.PT_BOOLEAN: st.booleans(),
        t.PT_SYSTIME: st.integers(0, 2**64 - 1).map(t.FileTime),
        t.PT_CLSID: st.uuids(),
        t.PT_BINARY: st.binary(max_size=40),
        t.PT_UNICODE: _text(unicode),
    }[base]
    return st.lists(single, max_size=4) if t.is_mv(ptype) else single


_TYPES = sorted(t.VALUE_TYPES - {t.PT_STRING8} | (t.MV_TYPES - {t.PT_MV_STRING8}))


@st.composite
def _bags(draw: Any, unicode: bool, named: bool = True) -> PropertyBag:
    bag = PropertyBag()
    keys: st.SearchStrategy[Any] = _FREE_IDS
    if named:
        lid_names = st.builds(NamedId, _GUIDS, lid=st.integers(0, 0xFFFFFFFF))
        str_names = st.builds(
            lambda g, n: NamedId(g, name=n.lower() if g == PS_INTERNET_HEADERS else n),
            _GUIDS,
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                min_size=1,
                max_size=10,
            ),
        )
        keys = st.one_of(_FREE_IDS, lid_names, str_names)
    for _ in range(draw(st.integers(0, 6))):
        ptype = draw(st.sampled_from(_TYPES))
        pid = draw(keys)
        flags = draw(st.sampled_from([2, 6, 7]))
        bag.set(pid, ptype, draw(_value_strategy(ptype, unicode)), flags)
    return bag


@st.composite
def _messages(draw: Any, unicode: bool, depth: int = 0) -> Message:
    msg = Message(props=draw(_bags(unicode)))
    msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")  # extract-msg opens only messages with a class
    for _ in range(draw(st.integers(0, 2))):
        msg.recipients.append(Recipient(props=draw(_bags(unicode))))
    for _ in range(draw(st.integers(0, 2 if depth < 2 else 1))):
        att = Attachment(props=draw(_bags(unicode)))
        if depth < 2 and draw(st.booleans()):
            att.embedded = draw(_messages(unicode, depth + 1))
        else:
            att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
            att.props.set(ids.ATTACH_DATA, t.PT_BINARY, draw(st.binary(max_size=50)))
        msg.attachments.append(att)
    return msg


def _without(bag: PropertyBag, *pids: int) -> PropertyBag:
    return PropertyBag({k: v for k, v in bag.items() if k not in pids})


def _assert_same(original: Message, back: Message, unicode: bool, codepage: int) -> None:
    added = [ids.STORE_SUPPORT_MASK] if unicode else [ids.MESSAGE_CODEPAGE, ids.INTERNET_CODEPAGE]
    if unicode:
        assert back.props[ids.STORE_SUPPORT_MASK].value & ids.STORE_UNICODE_OK
    else:
        assert back.props.value(ids.MESSAGE_CODEPAGE) == codepage
    assert _without(back.props, *added) == original.props
    assert back.extra == {}
    assert [r.props for r in back.recipients] == [r.props for r in original.recipients]
    assert all(r.extra == {} for r in back.recipients)
    assert len(back.attachments) == len(original.attachments)
    for ours, theirs in zip(original.attachments, back.attachments, strict=True):
        assert theirs.extra == {}
        if ours.embedded is None:
            assert theirs.props == ours.props
            assert theirs.embedded is None
        else:
            assert theirs.props[ids.ATTACH_METHOD].value == ids.ATTACH_EMBEDDED_MSG
            assert theirs.props[ids.ATTACH_DATA] == Property(t.PT_OBJECT, None, ids.DEFAULT_FLAGS)
            assert _without(theirs.props, ids.ATTACH_METHOD, ids.ATTACH_DATA) == ours.props
            assert theirs.embedded is not None
            _assert_same(ours.embedded, theirs.embedded, unicode, codepage)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_round_trip_random_messages(tmp_path: Path, data: Any) -> None:
    unicode = data.draw(st.booleans(), label="unicode")
    msg = data.draw(_messages(unicode), label="message")
    path = tmp_path / "random.msg"
    cfb.write_atomic(oxmsg.encode(msg, unicode=unicode, codepage=1252), path)
    back = oxmsg.decode(cfb.read_file(path))
    _assert_same(msg, back, unicode, 1252)
    assert back.source_unicode is unicode
    # A reader we did not write opens it too, and sees as many recipients and attachments.
    with open_msg(path) as m:
        assert len(m.recipients) == len(msg.recipients)
        assert len(m.attachments) == len(msg.attachments)


def test_round_trip_is_stable_for_the_tree(tmp_path: Path) -> None:
    """encode(decode(encode(x))) writes the same streams as encode(x)."""
    msg = compose(
        {
            "subject": "RE: stable",
            "body": "text",
            "from": "Ann <ann@example.com>",
            "to": ["Bob <bob@example.com>"],
            "headers": ["X-Mailer: msgsess"],
            "categories": ["a", "b"],
            "attachments": [{"data": "aGk=", "name": "hi.txt"}],
        },
        now=NOW,
    )
    first = oxmsg.encode(msg)
    path = tmp_path / "a.msg"
    cfb.write_atomic(first, path)
    second = oxmsg.encode(decoded(path))
    assert _flat(second) == _flat(first)


def _flat(tree: Storage) -> dict[str, bytes | None]:
    return {p: (e if isinstance(e, bytes) else None) for p, e in tree.walk()}


def test_an_entry_without_its_stream_is_kept_as_it_stands() -> None:
    """A damaged file's variable-length entry with no value stream survives decode + encode."""
    from msgsess.composer import compose

    tree = oxmsg.encode(compose({"subject": "kept", "body": "gone"}))
    del tree.entries["__substg1.0_1000001F"]  # PidTagBody's stream
    stream = tree.entries["__properties_version1.0"]
    assert isinstance(stream, bytes)
    entry = next(
        stream[o : o + 16] for o in range(32, len(stream), 16) if stream[o : o + 4] == b"\x1f\x00\x00\x10"
    )
    again = oxmsg.encode(oxmsg.decode(tree))
    out = again.entries["__properties_version1.0"]
    assert isinstance(out, bytes)
    assert entry in [out[o : o + 16] for o in range(32, len(out), 16)]
    assert "__substg1.0_1000001F" not in again.entries
