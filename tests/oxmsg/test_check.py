"""msgsess.oxmsg.check: each rule fires on a tree that breaks it, and not on what we write."""

from __future__ import annotations

import struct

import pytest

from msgsess import cfb, oxmsg
from msgsess.model import Attachment, Message, Recipient
from msgsess.oxmsg import layout
from msgsess.oxmsg.check import Finding, check, errors
from msgsess.props import types as t
from msgsess.props.keys import PSETID_COMMON, NamedId
from msgsess.storage import Storage


def good() -> Storage:
    inner = Message()
    inner.props.set(0x0037, t.PT_UNICODE, "inner")
    msg = Message()
    msg.props.set(0x0037, t.PT_UNICODE, "Hello")
    msg.props.set(0x001A, t.PT_UNICODE, "IPM.Note")
    msg.props.set(NamedId(PSETID_COMMON, lid=0x8554), t.PT_UNICODE, "16.0")
    msg.props.set(NamedId(PSETID_COMMON, name="Custom"), t.PT_LONG, 3)
    msg.props.set(0x6844, t.PT_MV_UNICODE, ["a", "bc"])
    msg.props.set(0x6853, t.PT_MV_LONG, [1, 2, 3])
    rcpt = Recipient()
    rcpt.props.set(0x3001, t.PT_UNICODE, "Bob")
    msg.recipients.append(rcpt)
    att = Attachment()
    att.props.set(0x3705, t.PT_LONG, 1)
    att.props.set(0x3701, t.PT_BINARY, b"data")
    msg.attachments.append(att)
    emb = Attachment(embedded=inner)
    emb.props.set(0x3705, t.PT_LONG, 5)
    msg.attachments.append(emb)
    return oxmsg.encode(msg)


def sub(tree: Storage, path: str) -> Storage:
    node = tree
    for part in path.split("/"):
        child = node.entries[part]
        assert isinstance(child, Storage)
        node = child
    return node


def entries(data: bytes, header: int) -> list[tuple[int, int, int, int]]:
    return [struct.unpack_from("<IIII", data, off) for off in range(header, len(data), 16)]


def rewrite(node: Storage, header: int, old: int, **changes: int) -> None:
    """Change the Size/Reserved/value field of one property entry."""
    data = bytearray(node.entries[layout.PROPERTIES])  # type: ignore[arg-type]
    for off in range(header, len(data), 16):
        if struct.unpack_from("<I", data, off)[0] == old:
            if "size" in changes:
                struct.pack_into("<I", data, off + 8, changes["size"])
            if "reserved" in changes:
                struct.pack_into("<I", data, off + 12, changes["reserved"])
            if "tag" in changes:
                struct.pack_into("<I", data, off, changes["tag"])
            node.entries[layout.PROPERTIES] = bytes(data)
            return
    raise AssertionError(f"no entry 0x{old:08X}")


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in errors(findings)}


def test_what_msgsess_writes_has_no_findings() -> None:
    tree = good()
    assert check(tree) == []
    assert check(cfb.read_bytes(cfb.to_bytes(tree))) == []


def test_missing_property_stream() -> None:
    tree = good()
    del sub(tree, "__recip_version1.0_#00000000").entries[layout.PROPERTIES]
    found = errors(check(tree))
    assert [(f.path, f.rule) for f in found] == [("__recip_version1.0_#00000000", "[MS-OXMSG] 2.4")]


@pytest.mark.parametrize(
    ("path", "extra", "rule"),
    [
        ("", 8, "[MS-OXMSG] 2.4.1.1"),
        ("__attach_version1.0_#00000001/__substg1.0_3701000D", 8, "[MS-OXMSG] 2.4.1.1"),
        ("__recip_version1.0_#00000000", 4, "[MS-OXMSG] 2.4.1.2"),
    ],
)
def test_header_sizes(path: str, extra: int, rule: str) -> None:
    tree = good()
    node = sub(tree, path) if path else tree
    data = node.entries[layout.PROPERTIES]
    assert isinstance(data, bytes)
    node.entries[layout.PROPERTIES] = data[:8] + bytes(extra) + data[8:]
    found = errors(check(tree))
    assert rule in {f.rule for f in found}
    assert any(f.path.endswith(layout.PROPERTIES) for f in found)


def test_header_counts_and_next_ids() -> None:
    tree = good()
    data = bytearray(tree.entries[layout.PROPERTIES])  # type: ignore[arg-type]
    struct.pack_into("<II", data, 16, 5, 1)  # recipient count 5, attachment count 1
    struct.pack_into("<I", data, 12, 1)  # next attachment id 1, but #00000001 exists
    tree.entries[layout.PROPERTIES] = bytes(data)
    messages = [f.message for f in errors(check(tree))]
    assert any("says 5 recipients" in m for m in messages)
    assert any("says 1 attachments" in m for m in messages)
    assert any("next attachment id 1" in m for m in messages)


def test_storage_names() -> None:
    tree = good()
    tree.entries["__recip_version1.0_#1"] = Storage()
    tree.entries["__attach_version1.0_#0000000G"] = Storage()
    found = errors(check(tree))
    assert {
        ("__recip_version1.0_#1", "[MS-OXMSG] 2.2.1"),
        ("__attach_version1.0_#0000000G", "[MS-OXMSG] 2.2.2"),
    } <= {(f.path, f.rule) for f in found}


def test_string_size_rules_and_outlook_quirk() -> None:
    tree = good()
    rewrite(tree, 32, 0x0037001F, size=10)  # "Hello" is 10 bytes: Size must be 12
    found = errors(check(tree))
    assert [(f.path, f.rule) for f in found] == [("__substg1.0_0037001F", "[MS-OXMSG] 2.4.2.2")]
    # Outlook's own form: the terminator inside the stream, Size = stream length. A warning.
    tree = good()
    tree.entries["__substg1.0_0037001F"] = "Hello\0".encode("utf-16-le")
    rewrite(tree, 32, 0x0037001F, size=12)
    findings = check(tree)
    assert errors(findings) == []
    assert [f.severity for f in findings] == ["warning"]


def test_binary_size_missing_stream_and_reserved_garbage() -> None:
    tree = good()
    att = sub(tree, "__attach_version1.0_#00000000")
    rewrite(att, 8, 0x37010102, size=99, reserved=0x2EF40003)
    findings = check(tree)
    assert [f.message for f in errors(findings)] == [
        "property 0x37010102: Size 99, must be the stream length 4"
    ]
    assert any(f.severity == "warning" and "Reserved" in f.message for f in findings)
    del att.entries["__substg1.0_37010102"]
    assert any("missing" in f.message for f in errors(check(tree)))


def test_mv_streams() -> None:
    tree = good()
    del tree.entries["__substg1.0_6844101F-00000001"]
    tree.entries["__substg1.0_6844101F-00000000"] = b"x"
    tree.entries["__substg1.0_6853101F-00000005"] = b""
    messages = [f.message for f in errors(check(tree))]
    assert any("value 1 of property 0x6844101F is missing" in m for m in messages)
    assert any("length stream says 4 bytes, the stream has 1" in m for m in messages)
    tree = good()
    tree.entries["__substg1.0_68531003"] = bytes(10)
    assert "[MS-OXMSG] 2.1.4.1" in rules(check(tree))


def test_named_property_map() -> None:
    tree = good()
    nameid = sub(tree, layout.NAMEID)
    nameid.entries["__substg1.0_00020102"] = bytes(15)
    nameid.entries["__substg1.0_00030102"] += b"\0" * 3  # type: ignore[operator]
    found = rules(check(tree))
    assert {"[MS-OXMSG] 2.2.3.1.1", "[MS-OXMSG] 2.2.3.1.2"} <= found
    tree = good()
    nameid = sub(tree, layout.NAMEID)
    entry = bytearray(nameid.entries["__substg1.0_00030102"])  # type: ignore[arg-type]
    struct.pack_into("<I", entry, 4, (0 << 16) | (9 << 1))  # GUID index 9 does not exist
    struct.pack_into("<I", entry, 8, 400)  # string offset past the string stream
    nameid.entries["__substg1.0_00030102"] = bytes(entry)
    found_msgs = [f.message for f in errors(check(tree))]
    assert any("GUID index 9" in m for m in found_msgs)
    assert any("offset 400" in m for m in found_msgs)
    tree = good()
    del tree.entries[layout.NAMEID]
    assert "[MS-OXMSG] 2.2.3" in rules(check(tree))


def test_unmapped_named_id_and_nameid_in_embedded() -> None:
    tree = good()
    rewrite(tree, 32, 0x0037001F, tag=0x9000001F)
    tree.entries["__substg1.0_9000001F"] = tree.entries.pop("__substg1.0_0037001F")
    assert any("0x9000" in f.message for f in errors(check(tree)))
    tree = good()
    sub(tree, "__attach_version1.0_#00000001/__substg1.0_3701000D").entries[layout.NAMEID] = Storage()
    assert any("own named property map" in f.message for f in errors(check(tree)))


def test_unicode_ansi_consistency() -> None:
    tree = good()
    rewrite(tree, 32, 0x0037001F, tag=0x0037001E, size=6)
    tree.entries["__substg1.0_0037001E"] = b"Hello"
    del tree.entries["__substg1.0_0037001F"]
    assert "[MS-OXMSG] 2.1.1.1" in rules(check(tree))
    # An ANSI embedded message inside a Unicode one decides for itself.
    inner = Message()
    inner.props.set(0x0037, t.PT_UNICODE, "x")
    ansi = oxmsg.encode(inner, unicode=False)
    tree = good()
    emb = sub(tree, "__attach_version1.0_#00000001")
    props = ansi.entries[layout.PROPERTIES]
    assert isinstance(props, bytes)
    ansi.entries[layout.PROPERTIES] = props[:24] + props[32:]
    del ansi.entries[layout.NAMEID]
    emb.entries[layout.ATTACH_OBJECT] = ansi
    assert errors(check(tree)) == []


def test_embedded_message_rules() -> None:
    tree = good()
    att = sub(tree, "__attach_version1.0_#00000001")
    rewrite(att, 8, 0x3701000D, size=0, reserved=4)
    messages = [f.message for f in errors(check(tree))]
    assert any("Size 0x0, must be 0xFFFFFFFF" in m for m in messages)
    assert any("Reserved 4, must be 1" in m for m in messages)
    tree = good()
    att = sub(tree, "__attach_version1.0_#00000001")
    del att.entries[layout.ATTACH_OBJECT]
    assert "[MS-OXMSG] 2.2.2.1" in rules(check(tree))
    tree = good()
    att = sub(tree, "__attach_version1.0_#00000000")
    att.entries[layout.ATTACH_OBJECT] = Storage()
    assert any("not 5 or 6" in f.message for f in errors(check(tree)))


def test_fixed_unused_bytes_are_a_warning() -> None:
    tree = good()
    data = bytearray(tree.entries[layout.PROPERTIES])  # type: ignore[arg-type]
    for off in range(32, len(data), 16):
        if struct.unpack_from("<I", data, off)[0] == 0x340D0003:
            data[off + 14] = 0x2E
    tree.entries[layout.PROPERTIES] = bytes(data)
    findings = check(tree)
    assert errors(findings) == []
    assert [f.rule for f in findings] == ["[MS-OXMSG] 2.4.2.1.1"]


def test_findings_name_spec_sections_and_print() -> None:
    tree = good()
    del tree.entries[layout.PROPERTIES]
    finding = errors(check(tree))[0]
    assert finding.rule.startswith("[MS-OXMSG] ")
    assert str(finding).startswith("error: (root): ")
