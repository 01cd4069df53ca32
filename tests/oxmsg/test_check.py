"""msgsess.oxmsg.check: each rule fires on a tree that breaks it, and not on what we write."""

from __future__ import annotations

import struct
import uuid

import pytest

from msgsess import cfb, oxmsg
from msgsess.errors import CorruptFile
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
    rcpt.props.set(0x39FE, t.PT_UNICODE, "bob@example.com")
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
    # Outlook's own form: the terminator inside the stream, Size = stream length. A note.
    tree = good()
    tree.entries["__substg1.0_0037001F"] = "Hello\0".encode("utf-16-le")
    rewrite(tree, 32, 0x0037001F, size=12)
    findings = check(tree)
    assert errors(findings) == []
    assert [f.severity for f in findings] == ["note"]


def test_binary_size_missing_stream_and_reserved_garbage() -> None:
    tree = good()
    att = sub(tree, "__attach_version1.0_#00000000")
    rewrite(att, 8, 0x37010102, size=99, reserved=0x2EF40003)
    findings = check(tree)
    assert [f.message for f in errors(findings)] == [
        "property 0x37010102: Size 99, must be the stream length 4"
    ]
    assert any(f.severity == "note" and "Reserved" in f.message for f in findings)
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


def test_fixed_unused_bytes_are_a_note() -> None:
    tree = good()
    data = bytearray(tree.entries[layout.PROPERTIES])  # type: ignore[arg-type]
    for off in range(32, len(data), 16):
        if struct.unpack_from("<I", data, off)[0] == 0x340D0003:
            data[off + 14] = 0x2E
    tree.entries[layout.PROPERTIES] = bytes(data)
    findings = check(tree)
    assert errors(findings) == []
    assert [(f.severity, f.rule) for f in findings] == [("note", "[MS-OXMSG] 2.4.2.1.1")]


def test_findings_name_spec_sections_and_print() -> None:
    tree = good()
    del tree.entries[layout.PROPERTIES]
    finding = errors(check(tree))[0]
    assert finding.rule.startswith("[MS-OXMSG] ")
    assert str(finding).startswith("error: (root): ")


# --------------------------------------------------------------------------- rules users hit in the field


def test_root_clsid() -> None:
    tree = good()
    assert [f for f in check(tree) if f.rule.startswith("[MS-CFB] 2.6.1")] == []
    tree.clsid = bytes(16)
    (finding,) = errors(check(tree))
    assert finding.path == "" and "Outlook imports the file as an attachment" in finding.message
    tree.clsid = uuid.UUID("00020D0C-0000-0000-C000-000000000046").bytes_le
    assert [(f.severity, f.rule) for f in check(tree)] == [("warning", "[MS-CFB] 2.6.1; Outlook")]
    tree.clsid = layout.CLSID_TEMPLATE
    assert check(tree) == []


def _with_entries(node: Storage, header: int, *extra: bytes) -> None:
    node.entries[layout.PROPERTIES] = node.entries[layout.PROPERTIES] + b"".join(extra)  # type: ignore[operator]


def test_a_draft_with_a_submit_time() -> None:
    flags = layout.ENTRY.pack(0x0E070003, 6, struct.pack("<Q", 0x8))  # mfUnsent
    submit = layout.ENTRY.pack(0x00390040, 6, struct.pack("<Q", 133_000_000_000_000_000))
    delivery = layout.ENTRY.pack(0x0E060040, 6, struct.pack("<Q", 133_000_000_000_000_000))
    tree = good()
    _with_entries(tree, 32, flags, submit, delivery)
    found = [(f.severity, f.message.split(":")[0]) for f in check(tree)]
    assert ("warning", "a draft (PidTagMessageFlags has mfUnsent) with PidTagClientSubmitTime") in found
    assert any(severity == "note" and "PidTagMessageDeliveryTime" in text for severity, text in found)
    sent = good()
    _with_entries(sent, 32, layout.ENTRY.pack(0x0E070003, 6, struct.pack("<Q", 0x1)), submit, delivery)
    assert check(sent) == []


def test_recipients_without_an_smtp_address() -> None:
    msg = oxmsg.decode(good())
    rcpt = msg.recipients[0]
    del rcpt.props[0x39FE]
    rcpt.props.set(0x3002, t.PT_UNICODE, "EX")
    rcpt.props.set(0x3003, t.PT_UNICODE, "/o=Org/cn=Recipients/cn=bob")
    (finding,) = check(oxmsg.encode(msg))
    assert (finding.severity, finding.path) == ("warning", "__recip_version1.0_#00000000")
    assert "address type EX" in finding.message
    rcpt.props.set(0x3002, t.PT_UNICODE, "SMTP")
    rcpt.props.set(0x3003, t.PT_UNICODE, "bob@example.com")
    assert check(oxmsg.encode(msg)) == []  # an SMTP address type with its address is enough


class _Directory:
    """The directory entries of a version 3 file written by msgsess, to damage on purpose."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        first_dir, self.first_fat = (
            struct.unpack_from("<I", data, 48)[0],
            struct.unpack_from("<I", data, 76)[0],
        )
        self.offsets = {}
        sector, sid = first_dir, 0
        while sector < 0xFFFFFFFA:
            for i in range(4):
                off = (sector + 1) * 512 + 128 * i
                length = struct.unpack_from("<H", data, off + 64)[0]
                name = bytes(data[off : off + max(length - 2, 0)]).decode("utf-16-le")
                self.offsets.setdefault(name, off)  # the first of a name: the root's own
                sid += 1
            sector = struct.unpack_from("<I", data, (self.first_fat + 1) * 512 + 4 * sector)[0]

    def set(self, name: str, field: int, fmt: str, value: int) -> None:
        struct.pack_into(fmt, self.data, self.offsets[name] + field, value)

    def rename(self, name: str, new: str) -> None:
        off = self.offsets.pop(name)
        raw = new.encode("utf-16-le")
        assert len(raw) == len(name.encode("utf-16-le"))
        self.data[off : off + len(raw)] = raw
        self.offsets[new] = off

    def read(self) -> list[Finding]:
        return check(cfb.read_bytes(bytes(self.data)))


def test_what_msgsess_writes_is_a_red_black_tree() -> None:
    tree = cfb.read_bytes(cfb.to_bytes(good()))
    assert tree.layout is not None and len(tree.layout.entries) == tree.count() + 1
    assert [f for f in check(tree) if f.rule in ("[MS-CFB] 2.6.4", "[MS-CFB] 2.5", "[MS-CFB] 2.3")] == []


def test_sibling_trees_that_are_no_red_black_trees() -> None:
    """[MS-CFB] 2.6.4: order, colours, no red node with a red child (olefile reads them all)."""
    directory = _Directory(cfb.to_bytes(good()))
    # Two names of one length swapped: the tree is out of order.
    directory.rename("__substg1.0_68531003", "__substg1.0_X8531003")
    directory.rename("__substg1.0_001A001F", "__substg1.0_68531003")
    directory.rename("__substg1.0_X8531003", "__substg1.0_001A001F")
    (finding,) = [f for f in errors(directory.read()) if f.rule == "[MS-CFB] 2.6.4"]
    assert finding.path == "" and "out of order" in finding.message and "Windows" in finding.message
    directory = _Directory(cfb.to_bytes(good()))
    directory.set("__properties_version1.0", 67, "<B", 7)  # colour byte: neither 0 nor 1
    assert any("neither red nor black" in f.message for f in errors(directory.read()))
    directory = _Directory(cfb.to_bytes(good()))
    for name in directory.offsets:
        directory.set(name, 67, "<B", 0)  # every entry red
    assert any("has a red child" in f.message for f in errors(directory.read()))


def _big_file() -> bytes:
    msg = oxmsg.decode(good())
    msg.attachments[0].props.set(0x3701, t.PT_BINARY, bytes(range(256)) * (30_000))  # 7.3 MiB
    data = cfb.to_bytes(oxmsg.encode(msg))
    assert len(data) > 109 * 128 * 512
    return data


def test_a_file_over_6_8_mib_needs_a_correct_difat() -> None:
    """[MS-CFB] 2.5: mistakes olefile reads past, and one it cannot."""
    data = _big_file()
    tree = cfb.read_bytes(data)
    assert tree.layout is not None and len(tree.layout.difat_sectors) == 1
    assert [f for f in check(tree) if f.rule.startswith("[MS-CFB]")] == []
    difat, fat = struct.unpack_from("<I", data, 68)[0], struct.unpack_from("<I", data, 76)[0]
    n_fat = struct.unpack_from("<I", data, 44)[0]
    for offset, value, words in (
        ((difat + 1) * 512 + 508, 0xFFFFFFFF, "the DIFAT chain does not end in ENDOFCHAIN"),
        ((fat + 1) * 512 + 4 * difat, 0xFFFFFFFE, f"DIFAT sector {difat} is not marked DIFSECT"),
        ((fat + 1) * 512 + 4 * fat, 0xFFFFFFFE, f"FAT sector {fat} is not marked FATSECT"),
        (44, n_fat + 1, f"the header declares {n_fat + 1} FAT sectors, the DIFAT lists {n_fat}"),
    ):
        damaged = bytearray(data)
        struct.pack_into("<I", damaged, offset, value)
        found = [f.message for f in errors(check(cfb.read_bytes(bytes(damaged))))]
        assert any(words in message for message in found), (words, found)
    # No DIFAT at all, as some writers leave it: the FAT misses the sectors past 6.8 MiB.
    damaged = bytearray(data)
    struct.pack_into("<II", damaged, 68, 0xFFFFFFFE, 0)
    with pytest.raises(CorruptFile, match=r"beyond the \d+ sectors its FAT maps"):
        cfb.read_bytes(bytes(damaged))
