"""msgsess.composer: the defaults a user of Outlook expects from a new message.

Each test composes a spec with a fixed clock, writes the ``.msg`` and reads it
back with extract-msg and olefile (strict), so what is checked is what a
reader sees in the file, not only the model.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
from pathlib import Path
from typing import Any

import compressed_rtf
import extract_msg
import olefile
import pytest
from extract_msg.constants import ps
from extract_msg.structures.entry_id import EntryID, OneOffRecipient

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.errors import InvalidParameter
from msgsess.model import Message
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_INTERNET_HEADERS, NamedId

NOW = t.FileTime.from_datetime(dt.datetime(2024, 2, 29, 12, 30, 45, 123400, tzinfo=dt.UTC))
NOW_DT = dt.datetime(2024, 2, 29, 12, 30, 45, 123400, tzinfo=dt.UTC)
ONE_OFF_UID = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")
PROPS = "__properties_version1.0"


def write(spec: dict[str, Any], tmp_path: Path, name: str = "m.msg", **options: Any) -> Path:
    msg = compose(spec, now=NOW, **options)
    path = tmp_path / name
    encode = {k: v for k, v in options.items() if k in ("unicode", "codepage")}
    cfb.write_atomic(oxmsg.encode(msg, **encode), path)
    return path


def streams(path: Path) -> dict[str, bytes]:
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True)}


def top_entries(path: Path) -> dict[int, tuple[int, bytes]]:
    data = streams(path)[PROPS]
    return {
        struct.unpack_from("<I", data, off)[0]: (
            struct.unpack_from("<I", data, off + 4)[0],
            data[off + 8 : off + 16],
        )
        for off in range(32, len(data), 16)
    }


def u32(field: bytes) -> int:
    return int(struct.unpack("<I", field[:4])[0])


def text(m: Any, pid: int) -> str | None:
    value = m.getStringStream(f"__substg1.0_{pid:04X}")
    return None if value is None else str(value)


# --------------------------------------------------------------------------- a new message


def test_new_message_defaults(tmp_path: Path) -> None:
    path = write({"subject": "Hello", "to": "bob@example.com"}, tmp_path)
    found = top_entries(path)
    with extract_msg.openMsg(str(path)) as m:
        assert m.classType == "IPM.Note"
        assert m.subject == "Hello"
        assert int(m.importance) == 1  # normal
        assert int(m.priority) == 0  # normal
        assert int(m.sensitivity) == 0  # normal
        assert m.getPropertyVal("30070040") == NOW_DT  # creation
        assert m.getPropertyVal("30080040") == NOW_DT  # last modification
        assert m.getPropertyVal("0E060040") == NOW_DT  # delivery: Outlook's "Received" column
        assert m.getPropertyVal("00390040") is None  # a draft was never submitted
        assert not m.isSent  # MSGFLAG_UNSENT: Outlook opens it as a draft
        assert not m.isRead
        assert m.getPropertyVal("0E1B000B") is False  # PR_HASATTACH
    assert u32(found[0x0E070003][1]) == ids.MSGFLAG_UNSENT
    # Computed properties are read-only, as Outlook marks them.
    for tag in (0x30070040, 0x30080040, 0x0E1D001F, 0x0E04001F, 0x0E1B000B):
        assert found[tag][0] == ids.PROPATTR_READABLE
    assert u32(found[0x340D0003][1]) & ids.STORE_UNICODE_OK


@pytest.mark.parametrize(
    ("subject", "prefix", "normalized"),
    [
        ("RE: x", "RE: ", "x"),
        ("FW: Quarterly numbers", "FW: ", "Quarterly numbers"),
        ("AW: Termin", "AW: ", "Termin"),
        ("Re:x", None, "Re:x"),  # no space after the colon: not a prefix
        ("Answer 42: x", None, "Answer 42: x"),  # digits and more than 3 characters: not a prefix
        ("No prefix here", None, "No prefix here"),
    ],
)
def test_subject_split(tmp_path: Path, subject: str, prefix: str | None, normalized: str) -> None:
    path = write({"subject": subject}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert m.subject == subject
        assert text(m, ids.SUBJECT_PREFIX) == prefix
        assert text(m, ids.NORMALIZED_SUBJECT) == normalized
        assert text(m, ids.CONVERSATION_TOPIC) == normalized


def test_no_subject_writes_no_empty_strings(tmp_path: Path) -> None:
    path = write({"body": "x"}, tmp_path)
    names = streams(path)
    for pid in (ids.SUBJECT, ids.SUBJECT_PREFIX, ids.NORMALIZED_SUBJECT, ids.CONVERSATION_TOPIC):
        assert f"__substg1.0_{pid:04X}001F" not in names


# --------------------------------------------------------------------------- people

SENDER_SET = (0x0C1A, 0x0C1F, 0x0C1E, 0x0C19, 0x0C1D, 0x5D01)
REPRESENTING_SET = (0x0042, 0x0065, 0x0064, 0x0041, 0x003B, 0x5D02)


def _person(names: dict[str, bytes], pids: tuple[int, ...]) -> dict[str, Any]:
    name, email, kind, entry, key, smtp = pids
    return {
        "name": names[f"__substg1.0_{name:04X}001F"].decode("utf-16-le"),
        "email": names[f"__substg1.0_{email:04X}001F"].decode("utf-16-le"),
        "type": names[f"__substg1.0_{kind:04X}001F"].decode("utf-16-le"),
        "entry": names[f"__substg1.0_{entry:04X}0102"],
        "key": names[f"__substg1.0_{key:04X}0102"],
        "smtp": names[f"__substg1.0_{smtp:04X}001F"].decode("utf-16-le"),
    }


def test_sender_and_sent_representing_are_equal_without_sender(tmp_path: Path) -> None:
    path = write({"subject": "s", "from": "Alice Adams <alice@example.com>"}, tmp_path)
    names = streams(path)
    sender = _person(names, SENDER_SET)
    assert sender == _person(names, REPRESENTING_SET)
    assert sender["name"] == "Alice Adams"
    assert sender["email"] == sender["smtp"] == "alice@example.com"
    assert sender["type"] == "SMTP"
    assert sender["key"] == b"SMTP:ALICE@EXAMPLE.COM\0"
    entry = EntryID.autoCreate(sender["entry"])
    assert isinstance(entry, OneOffRecipient)
    assert (entry.displayName, entry.emailAddress) == ("Alice Adams", "alice@example.com")
    with extract_msg.openMsg(str(path)) as m:
        assert m.sender == "Alice Adams <alice@example.com>"


def test_sender_on_behalf_of(tmp_path: Path) -> None:
    path = write(
        {"subject": "s", "from": "Boss <boss@example.com>", "sender": "Assistant <pa@example.com>"}, tmp_path
    )
    names = streams(path)
    sender = _person(names, SENDER_SET)
    representing = _person(names, REPRESENTING_SET)
    assert (sender["name"], sender["email"]) == ("Assistant", "pa@example.com")
    assert (representing["name"], representing["email"]) == ("Boss", "boss@example.com")
    assert sender["entry"] != representing["entry"]


def test_display_lists_from_recipients(tmp_path: Path) -> None:
    spec = {
        "subject": "s",
        "to": ["Bob <bob@example.com>", "carol@example.com"],
        "cc": ["Dan <dan@example.com>", "Erin <erin@example.com>"],
        "bcc": "Frank <frank@example.com>",
    }
    path = write(spec, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert text(m, ids.DISPLAY_TO) == "Bob; carol@example.com"
        assert text(m, ids.DISPLAY_CC) == "Dan; Erin"
        assert text(m, ids.DISPLAY_BCC) == "Frank"
        assert [(r.name, int(r.type)) for r in m.recipients] == [
            ("Bob", 1),
            ("carol@example.com", 1),
            ("Dan", 2),
            ("Erin", 2),
            ("Frank", 3),
        ]
        assert [r.props.getValue("30000003") for r in m.recipients] == [0, 1, 2, 3, 4]


def test_no_recipients_no_display_lists(tmp_path: Path) -> None:
    names = streams(write({"subject": "s"}, tmp_path))
    for pid in (ids.DISPLAY_TO, ids.DISPLAY_CC, ids.DISPLAY_BCC):
        assert f"__substg1.0_{pid:04X}001F" not in names


def test_reply_to_entries(tmp_path: Path) -> None:
    path = write({"subject": "s", "reply_to": ["Help <help@example.com>", "ops@example.com"]}, tmp_path)
    names = streams(path)
    assert names["__substg1.0_0050001F"].decode("utf-16-le") == "Help; ops@example.com"
    # FlatEntryList ([MS-OXCDATA] 2.3.3): count, size, then per entry a length and the
    # entry id padded to 4 bytes.
    flat = names["__substg1.0_004F0102"]
    count, size = struct.unpack_from("<II", flat)
    assert count == 2
    assert size == len(flat) - 8
    off = 8
    got = []
    for _ in range(count):
        (length,) = struct.unpack_from("<I", flat, off)
        entry = EntryID.autoCreate(flat[off + 4 : off + 4 + length])
        assert isinstance(entry, OneOffRecipient)
        got.append((entry.displayName, entry.addressType, entry.emailAddress))
        off += 4 + length
        off += -off % 4
    assert off == len(flat)
    assert got == [("Help", "SMTP", "help@example.com"), ("ops@example.com", "SMTP", "ops@example.com")]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"to": ["ok@example.com", "not an address"]}, "to"),
        ({"cc": "Bob <bob at example.com>"}, "cc"),
        ({"from": "alice"}, "from"),
        ({"sender": "a@b@c"}, "sender"),
        ({"reply_to": ["fine@example.com", "<>"]}, "reply_to[1]"),
    ],
)
def test_malformed_address(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        compose(spec, now=NOW, label="msg-3")
    assert f"msg-3: {field}" in str(info.value)
    assert info.value.hint


def test_unknown_spec_key() -> None:
    with pytest.raises(InvalidParameter, match="unknown key 'subjet'"):
        compose({"subjet": "typo"}, now=NOW)


# --------------------------------------------------------------------------- flags and times


def test_sent_message_is_read_and_submitted(tmp_path: Path) -> None:
    date = "2023-12-24T18:00:00+01:00"
    path = write({"subject": "s", "draft": False, "date": date}, tmp_path)
    when = dt.datetime(2023, 12, 24, 17, 0, tzinfo=dt.UTC)
    found = top_entries(path)
    assert u32(found[0x0E070003][1]) == ids.MSGFLAG_READ
    with extract_msg.openMsg(str(path)) as m:
        assert m.isSent
        assert m.isRead
        assert m.getPropertyVal("00390040") == when  # client submit time
        assert m.getPropertyVal("0E060040") == when  # delivery time
        assert m.getPropertyVal("30070040") == when


def test_sent_without_date_uses_now(tmp_path: Path) -> None:
    path = write({"subject": "s", "draft": False}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert m.getPropertyVal("00390040") == NOW_DT


def test_attachments_set_hasattach_and_the_flag(tmp_path: Path) -> None:
    data = base64.b64encode(b"hello").decode()
    path = write({"subject": "s", "attachments": [{"data": data, "name": "a.txt"}]}, tmp_path)
    found = top_entries(path)
    assert found[0x0E1B000B] == (ids.PROPATTR_READABLE, b"\x01" + bytes(7))
    assert u32(found[0x0E070003][1]) == ids.MSGFLAG_UNSENT | ids.MSGFLAG_HASATTACH
    with extract_msg.openMsg(str(path)) as m:
        assert m.getPropertyVal("0E1B000B") is True
        assert [a.data for a in m.attachments] == [b"hello"]
        assert m.attachments[0].shortFilename == "a.txt"
        # Not every attachment is inline: no PidLidSmartNoAttach.
        assert m.getNamedProp("8514", ps.PSETID_COMMON) is None


def test_attachment_mime_guess_and_8_3_names(tmp_path: Path) -> None:
    data = base64.b64encode(b"x").decode()
    atts = [
        {"data": data, "name": "Annual Report.docx"},
        {"data": data, "name": "Annual Review.docx"},
        {"data": data, "name": "photo.JPG", "mime": "image/x-custom"},
    ]
    path = write({"subject": "s", "attachments": atts}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        got = [(a.longFilename, a.shortFilename, a.mimetype) for a in m.attachments]
    assert got == [
        (
            "Annual Report.docx",
            "ANNUAL~1.DOC",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "Annual Review.docx",
            "ANNUAL~2.DOC",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("photo.JPG", "photo.JPG", "image/x-custom"),
    ]


def test_embedded_message_attachment(tmp_path: Path) -> None:
    def load(spec: Any) -> Message:
        return compose({"subject": f"inner {spec['message']}", "body": "inner"}, now=NOW)

    path = write({"subject": "outer", "attachments": [{"message": "m2"}]}, tmp_path, embedded=load)
    with extract_msg.openMsg(str(path)) as m:
        (att,) = m.attachments
        assert att.props.getValue("37050003") == 5
        assert att.displayName == "inner m2"
        assert att.mimetype == "message/rfc822"
        assert att.data.subject == "inner m2"
        assert att.data.body == "inner"


# --------------------------------------------------------------------------- bodies and options


def test_plain_body(tmp_path: Path) -> None:
    body = "Line one\r\nLine two – ünïcödé ☃\r\n"
    path = write({"subject": "s", "body": body}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert m.body == body
        assert m.getPropertyVal("10160003") == 1  # PidTagNativeBody: plain text
        assert m.getPropertyVal("3FDE0003") == 65001


@pytest.mark.parametrize(
    ("importance", "sensitivity", "values"),
    [("high", "confidential", (2, 3)), ("low", "personal", (0, 1)), ("Normal", "Private", (1, 2))],
)
def test_importance_and_sensitivity(tmp_path: Path, importance: str, sensitivity: str, values: Any) -> None:
    path = write({"subject": "s", "importance": importance, "sensitivity": sensitivity}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert (int(m.importance), int(m.sensitivity)) == values


def test_bad_importance() -> None:
    with pytest.raises(InvalidParameter, match="importance: 'urgent' is not one of low, normal, high"):
        compose({"importance": "urgent"}, now=NOW)


def test_priority_default_and_override(tmp_path: Path) -> None:
    path = write({"subject": "s", "properties": {"PidTagPriority": 1}}, tmp_path, name="urgent.msg")
    with extract_msg.openMsg(str(path)) as m:
        assert int(m.priority) == 1
    path = write({"subject": "s", "properties": {"PR_PRIORITY": None}}, tmp_path, name="none.msg")
    assert 0x00260003 not in top_entries(path)


def test_internet_message_id(tmp_path: Path) -> None:
    path = write({"subject": "s", "message_id": "abc.123@example.com"}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert text(m, ids.INTERNET_MESSAGE_ID) == "<abc.123@example.com>"
        assert m.messageId == "<abc.123@example.com>"


def test_headers_become_internet_header_named_properties(tmp_path: Path) -> None:
    spec = {
        "subject": "s",
        "headers": ["X-Mailer: msgsess 1.0", "X-Priority:3", "List-Id: <list.example.com>"],
    }
    path = write(spec, tmp_path)
    guid = ps.PS_INTERNET_HEADERS
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("x-mailer", guid) == "msgsess 1.0"
        assert m.getNamedProp("x-priority", guid) == "3"
        assert m.getNamedProp("list-id", guid) == "<list.example.com>"
    back = oxmsg.decode(cfb.read_file(path))
    assert back.props.value(NamedId(PS_INTERNET_HEADERS, name="x-mailer")) == "msgsess 1.0"


@pytest.mark.parametrize("line", ["no colon", ": empty name", "Bad Name: x"])
def test_malformed_header(line: str) -> None:
    with pytest.raises(InvalidParameter, match=r"headers\[1\]"):
        compose({"headers": ["X-Ok: 1", line]}, now=NOW)


def test_categories_are_keywords(tmp_path: Path) -> None:
    path = write({"subject": "s", "categories": ["Red Category", "Projekt Ä"]}, tmp_path)
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("Keywords", ps.PS_PUBLIC_STRINGS) == ["Red Category", "Projekt Ä"]
    names = streams(path)
    assert names["__substg1.0_8000101F-00000001"] == "Projekt Ä".encode("utf-16-le") + b"\0\0"


def test_inline_image_only_sets_smart_no_attach(tmp_path: Path) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    path = write(
        {"subject": "s", "attachments": [{"data": png, "name": "a.png", "content_id": "a1"}]}, tmp_path
    )
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("8514", ps.PSETID_COMMON) is True
        (att,) = m.attachments
        assert (att.contentId, att.hidden, att.props.getValue("37140003")) == ("a1", True, 4)


# --------------------------------------------------------------------------- ANSI composition


def test_ansi_message_records_its_code_page(tmp_path: Path) -> None:
    spec = {"subject": "Отчёт", "body": "Текст", "to": "Мария <maria@example.com>"}
    path = write(spec, tmp_path, unicode=False, codepage=1251)
    found = top_entries(path)
    assert u32(found[0x3FFD0003][1]) == 1251
    assert u32(found[0x3FDE0003][1]) == 1251
    assert 0x340D0003 not in found
    with extract_msg.openMsg(str(path)) as m:
        assert (m.subject, m.body, m.recipients[0].name) == ("Отчёт", "Текст", "Мария")


# --------------------------------------------------------------------------- reproducible


def test_same_spec_same_time_same_bytes(tmp_path: Path) -> None:
    data = base64.b64encode(b"payload").decode()
    spec = {
        "subject": "RE: build",
        "body": "same",
        "from": "A <a@example.com>",
        "to": ["B <b@example.com>"],
        "headers": ["X-Build: 1"],
        "categories": ["c"],
        "attachments": [{"data": data, "name": "p.bin"}],
    }
    first = write(spec, tmp_path, name="one.msg")
    second = write(spec, tmp_path, name="two.msg")
    assert first.read_bytes() == second.read_bytes()
    # A different clock gives a different file (the clock is really used).
    other = tmp_path / "three.msg"
    cfb.write_atomic(oxmsg.encode(compose(spec, now=t.FileTime(int(NOW) + 10_000_000))), other)
    assert other.read_bytes() != first.read_bytes()


# --------------------------------------------------------------------------- HTML bodies


def test_html_body(tmp_path: Path) -> None:
    import compressed_rtf

    html = "<html><body><p>Hello <b>world</b> – ünï</p></body></html>"
    path = write({"subject": "s", "html": html}, tmp_path)
    names = streams(path)
    assert "Hello <b>world</b>" in names["__substg1.0_10130102"].decode("utf-8")
    rtf = compressed_rtf.decompress(names["__substg1.0_10090102"])
    assert rtf.startswith(b"{\\rtf1")
    assert b"\\fromhtml1" in rtf
    with extract_msg.openMsg(str(path)) as m:
        assert m.getPropertyVal("10160003") == 3  # native body: HTML
        assert m.getPropertyVal("0E1F000B") is True  # PR_RTF_IN_SYNC
        assert "Hello" in m.body and "world" in m.body
        assert b"world" in m.htmlBody


def test_receipts_carry_a_report_tag_that_olefile_reads_back(tmp_path: Path) -> None:
    """[MS-OXMSG]/[MS-OXOMSG] 2.2.2.22: cookie, version, four empty entry ids, search key, text."""
    msg = compose({"subject": "Please confirm", "read_receipt": True}, now=NOW)
    path = tmp_path / "receipt.msg"
    cfb.write_atomic(oxmsg.encode(msg), path)
    with olefile.OleFileIO(str(path)) as ole:
        tag = ole.openstream("__substg1.0_00310102").read()
        search_key = ole.openstream("__substg1.0_300B0102").read()
    assert tag[:9] == b"PCDFEB09\0"
    assert struct.unpack_from("<I", tag, 9)[0] == 0x00010001
    offset, parts = 13, []
    while offset < len(tag):
        (size,) = struct.unpack_from("<I", tag, offset)
        parts.append(tag[offset + 4 : offset + 4 + size])
        offset += 4 + size
    assert offset == len(tag)
    assert parts == [b"", b"", b"", b"", search_key, b"\0"]
    parsed = extract_msg.openMsg(str(path)).reportTag  # extract-msg's own parser agrees
    assert (parsed.cookie, parsed.version, parsed.messageSearchKey) == (b"PCDFEB09\0", 0x00010001, search_key)
    plain = compose({"subject": "No receipt"}, now=NOW)
    assert 0x0031 not in plain.props


def test_headers_also_give_transport_headers_that_mime_readers_agree_with(tmp_path: Path) -> None:
    import email
    import email.policy

    spec = {
        "subject": "Grüße",
        "from": "Jörg <j@example.com>",
        "to": ["Bob <b@example.com>", "c@example.com"],
        "headers": ["X-Project: demo"],
        "draft": False,
        "date": "2024-05-01T10:00:00Z",
        "message_id": "abc@example.com",
    }
    path = write(spec, tmp_path)
    with extract_msg.openMsg(str(path)) as msg:
        block = msg.getStringStream("__substg1.0_007D")
    parsed = email.message_from_string(block, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße"
    assert parsed["From"].addresses[0].display_name == "Jörg"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["b@example.com", "c@example.com"]
    assert parsed["X-Project"] == "demo"
    assert parsed["Message-ID"] == "<abc@example.com>"
    assert parsed["Date"].datetime == dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert "\r\n" in block and block.endswith("\r\n\r\n")
    # Without headers there is no transport block: a composed message has not travelled.
    with extract_msg.openMsg(str(write({"subject": "x"}, tmp_path, "plain.msg"))) as msg:
        assert msg.getStringStream("__substg1.0_007D") is None


def test_a_sender_alone_is_both_sender_and_from(tmp_path: Path) -> None:
    msg = compose({"sender": "Sam <sam@example.com>"}, now=NOW)
    assert msg.props.value(ids.SENDER_NAME) == msg.props.value(ids.SENT_REPRESENTING_NAME) == "Sam"


def test_an_empty_body_is_left_out(tmp_path: Path) -> None:
    msg = compose({"subject": "x", "body": ""}, now=NOW)
    assert ids.BODY not in msg.props


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("backup.tar.gz", "application/gzip"),
        ("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("photo.JPG", "image/jpeg"),
        ("mail.msg", "application/vnd.ms-outlook"),
        ("README", "application/octet-stream"),
    ],
)
def test_mime_types_come_from_the_name_the_same_on_every_machine(name: str, mime: str) -> None:
    spec = {"attachments": [{"data": "aGVsbG8=", "name": name}]}
    att = compose(spec, now=NOW).attachments[0]
    assert att.props.value(ids.ATTACH_MIME_TAG) == mime


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"subject": "a\0b"}, "subject"),
        ({"to": ["Bob\0X <bob@example.com>"]}, "to[0]"),
        ({"body": "x\ud800y"}, "body"),
        ({"attachments": [{"data": "aGk=", "name": "a\0.txt"}]}, "attachments[0].name"),
    ],
)
def test_text_a_msg_cannot_hold_is_refused(spec: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidParameter, match=re.escape(f"m: {where}:")):
        compose(spec, now=NOW, label="m")


def test_rtf_given_as_text_escapes_wide_characters(tmp_path: Path) -> None:
    rtf = "{\\rtf1\\ansi\\ansicpg1252 Price: 5€ – Привет é 😀}"
    msg = compose({"rtf": rtf}, now=NOW)
    raw = compressed_rtf.decompress(msg.props.value(ids.RTF_COMPRESSED))
    assert raw.isascii() or raw.replace(b"\xe9", b"").isascii()  # é stays the cp1252 byte
    assert b"\\u8364?" in raw and b"\\u1055?" in raw and b"\\u-10179?\\u-8704?" in raw
    assert msg.props.value(ids.BODY) == "Price: 5€ – Привет é 😀"


def test_headers_are_checked_and_replace_what_the_spec_sets() -> None:
    with pytest.raises(InvalidParameter, match="line break"):
        compose({"headers": ["X-A: one\r\nX-B: two"]}, now=NOW)
    with pytest.raises(InvalidParameter, match="not a valid header"):
        compose({"headers": ["Date: someday"]}, now=NOW)
    block = compose({"subject": "S", "headers": ["Subject: Other"]}, now=NOW).props.value(
        ids.TRANSPORT_MESSAGE_HEADERS
    )
    assert block.count("Subject:") == 1 and "Subject: Other" in block


def test_html_in_every_ansi_code_page_that_open_accepts(tmp_path: Path) -> None:
    for codepage in (20866, 1251, 932, 65001):
        msg = compose(
            {"subject": "Привет", "html": "<p>Привет</p>"}, now=NOW, unicode=False, codepage=codepage
        )
        html = msg.props.value(ids.HTML)
        assert b"&#" not in html or codepage == 932  # KOI8-R, cp1251, UTF-8 hold Cyrillic
        assert msg.props.value(ids.INTERNET_CODEPAGE) == codepage


def test_several_addresses_in_one_are_refused_not_merged() -> None:
    with pytest.raises(InvalidParameter, match="more than one address"):
        compose({"to": ["Bob <bob@example.com>, Carol <c@example.com>"]}, now=NOW)
    # A comma inside a display name is fine, quoted or not.
    for text in ('"Doe, John" <j@example.com>', "Doe, John <j@example.com>"):
        rcpt = compose({"to": [text]}, now=NOW).recipients[0]
        assert rcpt.props.value(ids.DISPLAY_NAME) == "Doe, John"
