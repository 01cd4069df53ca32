"""The named property map ``__nameid_version1.0`` ([MS-OXMSG] 2.2.3), read back from real files.

Checks the GUID, entry and string streams byte by byte, the hash bucket
streams against the placement formula and an independent CRC, and that
extract-msg's named property API resolves every property, also inside
embedded messages (ids are per file, not per message).
"""

from __future__ import annotations

import struct
import uuid
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest

from msgsess import cfb, oxmsg
from msgsess.errors import CorruptFile, MsgsessError
from msgsess.model import Attachment, Message, Property
from msgsess.oxmsg import nameid
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_INTERNET_HEADERS, PS_MAPI, PS_PUBLIC_STRINGS, PSETID_COMMON, NamedId
from msgsess.storage import Storage

CUSTOM = uuid.UUID("5D6F1D3B-6A9E-4C2B-9F3A-1B2C3D4E5F60")
NAMEID = "__nameid_version1.0/"
PROPS = "__properties_version1.0"


def rtfcp_crc(data: bytes) -> int:
    """CRC-32 as [MS-OXRTFCP] 2.1.3.2 spells it: table of 0xEDB88320, initial 0, no final XOR."""
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    crc = 0
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def ole_streams(path: Path) -> dict[str, bytes]:
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True)}


def tags(stream: bytes, header: int) -> dict[int, bytes]:
    return {
        struct.unpack_from("<I", stream, off)[0]: stream[off + 8 : off + 16]
        for off in range(header, len(stream), 16)
    }


def new_message(subject: str = "named") -> Message:
    msg = Message()
    msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
    msg.props.set(ids.SUBJECT, t.PT_UNICODE, subject)
    return msg


def write(msg: Message, path: Path, **options: Any) -> Path:
    cfb.write_atomic(oxmsg.encode(msg, **options), path)
    return path


def guid_text(guid: uuid.UUID) -> str:
    return "{" + str(guid).upper() + "}"


# --------------------------------------------------------------------------- the CRC


@pytest.mark.parametrize("name", ["x-mailer", "Keywords", "content-class", "Grüße ☃", "a", ""])
def test_name_crc_is_the_rtfcp_crc(name: str) -> None:
    data = name.encode("utf-16-le")
    assert nameid.name_crc(data) == rtfcp_crc(data)


def test_crc_check_value_from_the_facts_sheet() -> None:
    assert rtfcp_crc("x-mailer".encode("utf-16-le")) == 0xFF504E89
    assert nameid.name_crc("x-mailer".encode("utf-16-le")) == 0xFF504E89


def test_x_mailer_lands_in_bucket_0x100F(tmp_path: Path) -> None:
    msg = new_message()
    msg.props.set(NamedId(PS_INTERNET_HEADERS, name="X-Mailer"), t.PT_UNICODE, "msgsess")
    path = write(msg, tmp_path / "m.msg")
    streams = ole_streams(path)
    # PS_INTERNET_HEADERS is the first stored GUID: index 3. Entry 0: string kind.
    assert streams[NAMEID + "__substg1.0_00020102"] == PS_INTERNET_HEADERS.bytes_le
    index_kind = (0 << 16) | (3 << 1) | 1
    assert streams[NAMEID + "__substg1.0_00030102"] == struct.pack("<II", 0, index_kind)
    # The name is stored lower-cased, UTF-16LE, no terminator, padded to 4 bytes.
    name = "x-mailer".encode("utf-16-le")
    assert streams[NAMEID + "__substg1.0_00040102"] == struct.pack("<I", len(name)) + name
    assert streams[NAMEID + "__substg1.0_100F0102"] == struct.pack("<II", 0xFF504E89, index_kind)
    buckets = [n for n in streams if n.startswith(NAMEID + "__substg1.0_10")]
    assert buckets == [NAMEID + "__substg1.0_100F0102"]
    # The value is stored under id 0x8000.
    assert streams["__substg1.0_8000001F"] == "msgsess".encode("utf-16-le")
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("x-mailer", guid_text(PS_INTERNET_HEADERS)) == "msgsess"
        (prop,) = m.named.values()
        assert prop.streamID == 0x100F
    back = oxmsg.decode(cfb.read_file(path))
    assert back.props[NamedId(PS_INTERNET_HEADERS, name="x-mailer")] == Property(t.PT_UNICODE, "msgsess")


# --------------------------------------------------------------------------- all kinds together

#: (identity, type, value) in the order they are added: property index k = position.
NAMED: list[tuple[NamedId, int, Any]] = [
    (NamedId(PSETID_COMMON, lid=0x8514), t.PT_BOOLEAN, True),  # PidLidSmartNoAttach
    (NamedId(PS_PUBLIC_STRINGS, name="Keywords"), t.PT_MV_UNICODE, ["red", "grün"]),
    (NamedId(PS_INTERNET_HEADERS, name="x-original-sender"), t.PT_UNICODE, "a@example.com"),
    (NamedId(CUSTOM, lid=0x0001), t.PT_LONG, 42),
    (NamedId(CUSTOM, name="Projekt Ärger"), t.PT_UNICODE, "ja"),
    (NamedId(PSETID_COMMON, lid=0x8554), t.PT_UNICODE, "16.0"),  # PidLidCurrentVersionName
    (NamedId(PS_MAPI, lid=0x0037), t.PT_UNICODE, "mapi-named"),
    (NamedId(PS_PUBLIC_STRINGS, name="x"), t.PT_I8, 2**40),
]


def _guid_index(guid: uuid.UUID, stored: list[uuid.UUID]) -> int:
    if guid == PS_MAPI:
        return 1
    if guid == PS_PUBLIC_STRINGS:
        return 2
    return 3 + stored.index(guid)


def test_every_kind_of_named_property(tmp_path: Path) -> None:
    msg = new_message()
    for named, ptype, value in NAMED:
        msg.props.set(named, ptype, value)
    path = write(msg, tmp_path / "m.msg")
    streams = ole_streams(path)

    # GUID stream: each stored GUID once, in order of first use; PS_MAPI/PS_PUBLIC_STRINGS never.
    stored = [PSETID_COMMON, PS_INTERNET_HEADERS, CUSTOM]
    assert streams[NAMEID + "__substg1.0_00020102"] == b"".join(g.bytes_le for g in stored)

    entry_stream = streams[NAMEID + "__substg1.0_00030102"]
    string_stream = streams[NAMEID + "__substg1.0_00040102"]
    assert len(entry_stream) == 8 * len(NAMED)
    assert len(string_stream) % 4 == 0
    expected_buckets: dict[int, bytearray] = {}
    top = tags(streams[PROPS], 32)
    for index, (named, ptype, _value) in enumerate(NAMED):
        first, index_kind = struct.unpack_from("<II", entry_stream, 8 * index)
        guid_index = _guid_index(named.guid, stored)
        kind = 0 if named.lid is not None else 1
        assert index_kind == (index << 16) | (guid_index << 1) | kind
        if named.lid is not None:
            assert first == named.lid
            key = named.lid
            bucket = (named.lid ^ (guid_index << 1)) % 0x1F
        else:
            # The entry points at a 4-byte length, then the UTF-16LE name without terminator.
            assert first % 4 == 0
            (length,) = struct.unpack_from("<I", string_stream, first)
            assert string_stream[first + 4 : first + 4 + length].decode("utf-16-le") == named.name
            key = rtfcp_crc(str(named.name).encode("utf-16-le"))
            bucket = (key ^ ((guid_index << 1) | 1)) % 0x1F
        expected_buckets.setdefault(0x1000 + bucket, bytearray()).extend(struct.pack("<II", key, index_kind))
        # The property stream uses id 0x8000 + index.
        assert ((0x8000 + index) << 16) | ptype in top
    bucket_streams = {
        int(name[-8:-4], 16): data
        for name, data in streams.items()
        if name.startswith(NAMEID + "__substg1.0_10")
    }
    assert bucket_streams == {k: bytes(v) for k, v in expected_buckets.items()}

    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("8514", guid_text(PSETID_COMMON)) is True
        assert m.getNamedProp("Keywords", guid_text(PS_PUBLIC_STRINGS)) == ["red", "grün"]
        assert m.getNamedProp("x-original-sender", guid_text(PS_INTERNET_HEADERS)) == "a@example.com"
        assert m.getNamedProp("0001", guid_text(CUSTOM)) == 42
        assert m.getNamedProp("Projekt Ärger", guid_text(CUSTOM)) == "ja"
        assert m.getNamedProp("8554", guid_text(PSETID_COMMON)) == "16.0"
        assert m.getNamedProp("0037", guid_text(PS_MAPI)) == "mapi-named"
        assert m.getNamedProp("x", guid_text(PS_PUBLIC_STRINGS)) == 2**40
        # extract-msg computes each bucket itself; every property sits where it looks.
        for prop in m.named.values():
            assert _holds(bucket_streams[prop.streamID], prop.rawEntryStream[4:8])

    back = oxmsg.decode(cfb.read_file(path))
    for named, ptype, value in NAMED:
        assert back.props[named] == Property(ptype, value)


def _holds(bucket: bytes, index_kind: bytes) -> bool:
    """Whether a bucket stream has an entry with this index-and-kind DWORD."""
    return any(bucket[i + 4 : i + 8] == index_kind for i in range(0, len(bucket), 8))


def test_bucket_entries_in_ascending_index_order(tmp_path: Path) -> None:
    # LIDs that all fall in one bucket for PSETID_Common (GUID index 3): (lid ^ 6) % 31 is the same.
    msg = new_message()
    lids = [(0x8000 + 31 * n) ^ 6 for n in range(5)]
    for lid in lids:
        msg.props.set(NamedId(PSETID_COMMON, lid=lid), t.PT_LONG, lid)
    streams = ole_streams(write(msg, tmp_path / "m.msg"))
    buckets = {n: d for n, d in streams.items() if n.startswith(NAMEID + "__substg1.0_10")}
    assert len(buckets) == 1
    (data,) = buckets.values()
    got = [struct.unpack_from("<II", data, off) for off in range(0, len(data), 8)]
    assert got == [(lid, (k << 16) | (3 << 1)) for k, lid in enumerate(lids)]


def test_internet_header_names_are_lower_cased_everywhere(tmp_path: Path) -> None:
    msg = new_message()
    msg.props.set(NamedId(PS_INTERNET_HEADERS, name="X-Spam-Score"), t.PT_UNICODE, "0.1")
    msg.props.set(NamedId(PS_PUBLIC_STRINGS, name="MixedCase"), t.PT_UNICODE, "kept")
    path = write(msg, tmp_path / "m.msg")
    strings = ole_streams(path)[NAMEID + "__substg1.0_00040102"]
    assert "x-spam-score".encode("utf-16-le") in strings
    assert "MixedCase".encode("utf-16-le") in strings  # other sets keep their case
    with extract_msg.openMsg(str(path)) as m:
        assert ("x-spam-score", guid_text(PS_INTERNET_HEADERS)) in list(m.named.keys())
        assert m.getNamedProp("MixedCase", guid_text(PS_PUBLIC_STRINGS)) == "kept"
    back = oxmsg.decode(cfb.read_file(path))
    assert back.props.value(NamedId(PS_INTERNET_HEADERS, name="x-spam-score")) == "0.1"


# --------------------------------------------------------------------------- one map per file


def test_named_ids_are_shared_with_embedded_messages(tmp_path: Path) -> None:
    shared = NamedId(PSETID_COMMON, lid=0x8554)
    only_inner = NamedId(CUSTOM, name="InnerOnly")
    only_deepest = NamedId(PSETID_COMMON, lid=0x8580)
    deepest = new_message("deepest")
    deepest.props.set(only_deepest, t.PT_UNICODE, "account")
    deepest.props.set(shared, t.PT_UNICODE, "v3")
    inner = new_message("inner")
    inner.props.set(only_inner, t.PT_LONG, 7)
    inner.props.set(shared, t.PT_UNICODE, "v2")
    inner.attachments.append(Attachment(embedded=deepest))
    outer = new_message("outer")
    outer.props.set(shared, t.PT_UNICODE, "v1")
    outer.attachments.append(Attachment(embedded=inner))
    path = write(outer, tmp_path / "m.msg")
    streams = ole_streams(path)

    # Exactly one map, at the top, with three entries.
    assert [n for n in streams if "__nameid_version1.0" in n and not n.startswith(NAMEID)] == []
    assert len(streams[NAMEID + "__substg1.0_00030102"]) == 3 * 8
    level1 = "__attach_version1.0_#00000000/__substg1.0_3701000D/"
    level2 = level1 + level1
    # One id per identity across the file: shared = 0x8000, inner-only = 0x8001, deepest-only = 0x8002.
    assert streams["__substg1.0_8000001F"] == "v1".encode("utf-16-le")
    assert streams[level1 + "__substg1.0_8000001F"] == "v2".encode("utf-16-le")
    assert tags(streams[level1 + PROPS], 24)[0x80010003][:4] == struct.pack("<I", 7)
    assert streams[level2 + "__substg1.0_8000001F"] == "v3".encode("utf-16-le")
    assert streams[level2 + "__substg1.0_8002001F"] == "account".encode("utf-16-le")
    assert not any(name.startswith("__substg1.0_8001") for name in streams)

    with extract_msg.openMsg(str(path)) as m:
        common = guid_text(PSETID_COMMON)
        assert m.getNamedProp("8554", common) == "v1"
        assert m.getNamedProp("InnerOnly", guid_text(CUSTOM)) is None
        child = m.attachments[0].data
        assert child.subject == "inner"
        assert child.getNamedProp("8554", common) == "v2"
        assert child.getNamedProp("InnerOnly", guid_text(CUSTOM)) == 7
        grandchild = child.attachments[0].data
        assert grandchild.subject == "deepest"
        assert grandchild.getNamedProp("8554", common) == "v3"
        assert grandchild.getNamedProp("8580", common) == "account"
        assert grandchild.getNamedProp("InnerOnly", guid_text(CUSTOM)) is None

    back = oxmsg.decode(cfb.read_file(path))
    got_inner = back.attachments[0].embedded
    assert got_inner is not None and got_inner.attachments[0].embedded is not None
    assert back.props.value(shared) == "v1"
    assert got_inner.props.value(only_inner) == 7
    assert got_inner.attachments[0].embedded.props.value(only_deepest) == "account"


# --------------------------------------------------------------------------- reading damaged maps


def test_parse_rejects_a_guid_index_past_the_guid_stream() -> None:
    tree = Storage()
    tree.entries[nameid.GUID_STREAM] = b""
    tree.entries[nameid.ENTRY_STREAM] = struct.pack("<II", 0x8514, (0 << 16) | (3 << 1))
    tree.entries[nameid.STRING_STREAM] = b""
    with pytest.raises(CorruptFile, match="GUID index 3"):
        nameid.parse(tree)


def test_parse_rejects_a_name_past_the_string_stream() -> None:
    tree = Storage()
    tree.entries[nameid.GUID_STREAM] = b""
    tree.entries[nameid.ENTRY_STREAM] = struct.pack("<II", 0, (0 << 16) | (2 << 1) | 1)
    tree.entries[nameid.STRING_STREAM] = struct.pack("<I", 100) + b"a\0"
    with pytest.raises(CorruptFile, match="longer than the string stream"):
        nameid.parse(tree)


def test_header_names_differing_in_case_do_not_make_a_duplicate_tag() -> None:
    msg = new_message()
    msg.props.set(NamedId(PS_INTERNET_HEADERS, name="X-Tag"), t.PT_UNICODE, "one")
    msg.props.set(NamedId(PS_INTERNET_HEADERS, name="x-tag"), t.PT_UNICODE, "two")
    try:
        tree = oxmsg.encode(msg)
    except MsgsessError:
        return  # refusing the ambiguous model is fine too
    stream = tree.entries[PROPS]
    assert isinstance(stream, bytes)
    found = [struct.unpack_from("<I", stream, off)[0] for off in range(32, len(stream), 16)]
    assert len(found) == len(set(found)), [f"{tag:08X}" for tag in found]
